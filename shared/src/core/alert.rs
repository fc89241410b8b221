//! The alert model: what one alert says, independent of the SIEM that sent it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    /// Accepts our four names plus the common synonyms SIEMs use (Panther's INFO, Grafana's
    /// warning, syslog's error...), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" | "info" | "informational" | "notice" => Ok(Severity::Low),
            "medium" | "moderate" | "warn" | "warning" => Ok(Severity::Medium),
            "high" | "error" | "major" => Ok(Severity::High),
            "critical" | "crit" | "fatal" | "emergency" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}': expected low, medium, high or critical"
            )),
        }
    }
}

/// Stable identifier of one alert, the primary key of the alerts table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(String);

impl AlertId {
    /// Wraps an id read back from the store or a queue message.
    pub fn from_stored(id: impl Into<String>) -> Self {
        AlertId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Derives the id from the source's own id when it has one, otherwise from the
    /// normalised content. The content hash covers every field that tells two alerts apart,
    /// with the context in sorted order, so a SIEM re-sending the same alert with its JSON
    /// keys shuffled still lands on the same id.
    pub fn derive(alert: &Alert) -> Self {
        let mut hash = Sha256::new();
        let mut field = |name: &str, value: &str| {
            // Length-prefixed so ("ab","c") and ("a","bc") never collide.
            hash.update(format!(
                "{}:{}:{}:{}\n",
                name.len(),
                name,
                value.len(),
                value
            ));
        };
        field("v", "1");
        if let Some(sender) = &alert.sender {
            field("sender", sender);
        }
        field("source", &alert.source);
        match &alert.source_id {
            Some(source_id) => field("source_id", source_id),
            None => {
                field("rule", &alert.rule);
                field("user", alert.user.as_deref().unwrap_or(""));
                field("title", &alert.title);
                field("description", &alert.description);
                field(
                    "occurred_at",
                    &alert.occurred_at.timestamp_millis().to_string(),
                );
                for (key, value) in &alert.context {
                    field(&format!("context.{key}"), value);
                }
                field("link", alert.link.as_deref().unwrap_or(""));
            }
        }
        let digest = hash.finalize();
        AlertId(format!("al_{}", hex::encode(&digest[..16])))
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One alert after normalisation, before any decision about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Where it came from: "splunk", "grafana", "panther", or a canonical sender's own name.
    pub source: String,
    /// The source's own id for this alert, if it has one.
    pub source_id: Option<String>,
    pub rule: String,
    /// The person the alert is about, as the source named them (normalised, not yet mapped).
    pub user: Option<String>,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub occurred_at: DateTime<Utc>,
    /// Where it happened: host, ip, command... Sorted so hashing and display are stable.
    pub context: BTreeMap<String, String>,
    pub link: Option<String>,
    /// The webhook key it came through, when that key may send any source: its ids are then
    /// its own, so no other key can send an alert that takes the place of one of its alerts.
    /// `None` for keys bound to their sources and for pollers (the source is theirs alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}

impl Alert {
    pub fn id(&self) -> AlertId {
        AlertId::derive(self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub fn sample() -> Alert {
        Alert {
            source: "webhook".into(),
            source_id: None,
            rule: "sudo_root_shell".into(),
            user: Some("alice@example.com".into()),
            title: "sudo -i on build-01".into(),
            description: "Interactive root shell".into(),
            severity: Severity::High,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
            context: [("host".to_string(), "build-01".to_string())].into(),
            link: None,
            sender: None,
        }
    }

    #[test]
    fn severity_accepts_synonyms_case_insensitively() {
        assert_eq!("CRITICAL".parse::<Severity>(), Ok(Severity::Critical));
        assert_eq!("Warning".parse::<Severity>(), Ok(Severity::Medium));
        assert_eq!("INFO".parse::<Severity>(), Ok(Severity::Low));
        assert!(
            "urgent-ish"
                .parse::<Severity>()
                .unwrap_err()
                .contains("urgent-ish")
        );
    }

    #[test]
    fn source_id_alone_decides_the_id() {
        let mut a = sample();
        a.source_id = Some("abc".into());
        let mut b = a.clone();
        b.title = "something else entirely".into();
        assert_eq!(a.id(), b.id());
        b.source = "other".into();
        assert_ne!(
            a.id(),
            b.id(),
            "same source id from another source is another alert"
        );
    }

    #[test]
    fn content_changes_change_the_id() {
        let a = sample();
        let mut b = sample();
        b.context.insert("host".into(), "build-02".into());
        assert_ne!(a.id(), b.id());
        let mut c = sample();
        c.occurred_at += chrono::Duration::seconds(1);
        assert_ne!(a.id(), c.id());
        assert!(a.id().as_str().starts_with("al_"));
        assert_eq!(a.id().as_str().len(), 3 + 32);
    }
}

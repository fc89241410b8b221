//! The body formats the webhook accepts. Each turns a JSON body into [`Draft`]s; [`finish`]
//! fills what the body left out from the rules. Canonical JSON is strict (the sender writes
//! the template); native SIEM bodies are forgiving (truncate, never lose an alert).

pub mod canonical;
pub mod fields;
pub mod grafana;
pub mod mapping;
pub mod panther;
pub mod splunk;

use super::rejection::{Problem, Rejection};
use crate::core::alert::{Alert, Severity};
use crate::core::rules::RuleBook;
use chrono::{DateTime, Utc};
use mapping::SourceMappings;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Canonical,
    Splunk,
    Grafana,
    Panther,
}

impl Format {
    /// The webhook path picks the format: `/alerts` (or `/`) for canonical JSON,
    /// `/alerts/splunk`, `/alerts/grafana`, `/alerts/panther` for native bodies.
    pub fn from_path(path: &str) -> Option<Format> {
        match path.trim_end_matches('/') {
            "" | "/alerts" | "/v1/alerts" => Some(Format::Canonical),
            "/alerts/splunk" | "/v1/alerts/splunk" => Some(Format::Splunk),
            "/alerts/grafana" | "/v1/alerts/grafana" => Some(Format::Grafana),
            "/alerts/panther" | "/v1/alerts/panther" => Some(Format::Panther),
            _ => None,
        }
    }
}

/// An alert as read from a body, before defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub source: String,
    pub source_id: Option<String>,
    pub rule: String,
    pub user: Option<String>,
    pub title: String,
    pub description: String,
    pub severity: Option<Severity>,
    pub occurred_at: DateTime<Utc>,
    pub context: BTreeMap<String, String>,
    pub link: Option<String>,
    /// This alert's part of the body, verbatim, for the store.
    pub raw: String,
}

/// One entry of a body: an alert, or something deliberately not admitted (a Grafana
/// "resolved" notification), reported back so the sender sees why.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Alert(Box<Draft>),
    Ignored { reason: String },
}

pub struct ParseContext<'a> {
    pub now: DateTime<Utc>,
    pub sources: &'a SourceMappings,
    pub max_batch: usize,
}

/// Parses a whole body. Either every entry is good or nothing is admitted: a batch with one
/// bad alert is refused whole (422 listing every problem), so a fixed resend cannot duplicate.
pub fn parse(format: Format, body: &[u8], ctx: &ParseContext<'_>) -> Result<Vec<Entry>, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::malformed(format!(
            "the body is not valid JSON: {} at line {}, column {}",
            describe(&e),
            e.line(),
            e.column()
        ))
    })?;
    let entries = match format {
        Format::Canonical => canonical::parse(&value, ctx)?,
        Format::Splunk => splunk::parse(&value, ctx)?,
        Format::Grafana => grafana::parse(&value, ctx)?,
        Format::Panther => panther::parse(&value, ctx)?,
    };
    if entries.is_empty() {
        return Err(Rejection::invalid(vec![Problem::new(
            "alerts",
            "must hold at least one alert",
        )]));
    }
    Ok(entries)
}

/// serde_json's category without its echo of the input.
fn describe(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "unreadable data",
    }
}

/// Fills the severity from the rule and builds the alert.
pub fn finish(draft: Draft, rules: &RuleBook) -> (Alert, String) {
    let severity = draft
        .severity
        .unwrap_or_else(|| rules.settings_for(&draft.rule).severity);
    let alert = Alert {
        source: draft.source,
        source_id: draft.source_id,
        rule: draft.rule,
        user: draft.user,
        title: draft.title,
        description: draft.description,
        severity,
        occurred_at: draft.occurred_at,
        context: draft.context,
        link: draft.link,
        sender: None,
    };
    (alert, draft.raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pick_formats() {
        assert_eq!(Format::from_path("/"), Some(Format::Canonical));
        assert_eq!(Format::from_path("/alerts/"), Some(Format::Canonical));
        assert_eq!(Format::from_path("/alerts/grafana"), Some(Format::Grafana));
        assert_eq!(Format::from_path("/alerts/nagios"), None);
    }

    #[test]
    fn malformed_json_says_where_without_echoing_it() {
        let ctx = ParseContext {
            now: Utc::now(),
            sources: &SourceMappings::default(),
            max_batch: 10,
        };
        let err = parse(Format::Canonical, b"{\"password\": hunter2}", &ctx).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("line 1"), "{}", err.message);
        assert!(!err.message.contains("hunter2"));
    }
}

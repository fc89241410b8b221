//! Snoozes: after a verified Yes, repeats of the same rule for the same person in the same
//! context (say, the same host) are recorded as covered instead of asking again.

use super::alert::{Alert, AlertId};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What a snooze covers: one person, one rule, and the values of the rule's scope fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnoozeScope {
    pub user: String,
    pub rule: String,
    pub context: BTreeMap<String, String>,
}

impl SnoozeScope {
    /// The scope an alert falls in, or `None` when it lacks one of the scope fields: an alert
    /// that does not say which host it is about is never covered by a host-scoped snooze.
    pub fn of(alert: &Alert, user: &str, scope_fields: &[String]) -> Option<SnoozeScope> {
        let mut context = BTreeMap::new();
        for field in scope_fields {
            let value = alert.context.get(field).filter(|v| !v.is_empty())?;
            context.insert(field.clone(), value.clone());
        }
        Some(SnoozeScope {
            user: user.to_string(),
            rule: alert.rule.clone(),
            context,
        })
    }

    /// The store key: a hash, so it has a fixed size and reveals nothing by itself.
    pub fn key(&self) -> String {
        let mut hash = Sha256::new();
        let mut part = |value: &str| hash.update(format!("{}:{}\n", value.len(), value));
        part("snooze-v1");
        part(&self.user);
        part(&self.rule);
        for (field, value) in &self.context {
            part(field);
            part(value);
        }
        format!("sz_{}", hex::encode(&hash.finalize()[..16]))
    }
}

/// A snooze as stored: created by a verified Yes on `confirmed_alert`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snooze {
    pub scope: SnoozeScope,
    pub confirmed_alert: AlertId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Snooze {
    /// Checked on every read: DynamoDB deletes expired items up to ~48 h late.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// The snooze lengths a person may pick after a verified Yes, in minutes: common steps up to
/// the rule's maximum, and the maximum itself. Empty when the rule never snoozes.
pub fn snooze_choices(max_minutes: u32) -> Vec<u32> {
    if max_minutes == 0 {
        return Vec::new();
    }
    let mut choices: Vec<u32> = [60, 240, 480, 1440, 4320, 10080]
        .into_iter()
        .filter(|m| *m < max_minutes)
        .collect();
    choices.push(max_minutes);
    choices
}

#[cfg(test)]
mod tests {
    #[test]
    fn choices_never_exceed_the_rule() {
        assert_eq!(super::snooze_choices(240), vec![60, 240]);
        assert_eq!(super::snooze_choices(300), vec![60, 240, 300]);
        assert!(super::snooze_choices(0).is_empty());
    }

    use super::*;
    use crate::core::alert::tests::sample;
    use chrono::Duration;

    fn host_scope() -> Vec<String> {
        vec!["host".to_string()]
    }

    #[test]
    fn same_person_rule_and_host_share_a_key() {
        let a = sample();
        let mut b = sample();
        b.title = "another sudo".into();
        b.context.insert("pid".into(), "42".into());
        let ka = SnoozeScope::of(&a, "alice@example.com", &host_scope())
            .unwrap()
            .key();
        let kb = SnoozeScope::of(&b, "alice@example.com", &host_scope())
            .unwrap()
            .key();
        assert_eq!(ka, kb);
    }

    #[test]
    fn another_host_person_or_rule_is_another_scope() {
        let a = sample();
        let key =
            |alert: &Alert, user: &str| SnoozeScope::of(alert, user, &host_scope()).unwrap().key();
        let mut other_host = sample();
        other_host.context.insert("host".into(), "build-02".into());
        let mut other_rule = sample();
        other_rule.rule = "nmap".into();
        assert_ne!(
            key(&a, "alice@example.com"),
            key(&other_host, "alice@example.com")
        );
        assert_ne!(key(&a, "alice@example.com"), key(&a, "bob@example.com"));
        assert_ne!(
            key(&a, "alice@example.com"),
            key(&other_rule, "alice@example.com")
        );
    }

    #[test]
    fn an_alert_without_the_scope_field_is_never_covered() {
        let mut a = sample();
        a.context.clear();
        assert!(SnoozeScope::of(&a, "alice@example.com", &host_scope()).is_none());
        a.context.insert("host".into(), String::new());
        assert!(SnoozeScope::of(&a, "alice@example.com", &host_scope()).is_none());
    }

    #[test]
    fn expiry_is_exclusive() {
        let now = sample().occurred_at;
        let snooze = Snooze {
            scope: SnoozeScope::of(&sample(), "alice@example.com", &host_scope()).unwrap(),
            confirmed_alert: sample().id(),
            created_at: now - Duration::hours(1),
            expires_at: now,
        };
        assert!(snooze.is_active(now - Duration::seconds(1)));
        assert!(!snooze.is_active(now));
    }
}

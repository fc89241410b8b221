//! What to do with a newly received alert, decided from facts gathered by the caller.

use super::alert::{Alert, AlertId};
use super::links::{LinkPolicy, Vetted};
use super::record::AlertRecord;
use super::redact::Redactor;
use super::snooze::Snooze;
use super::state::{AuditEntry, EscalationReason, Status};
use chrono::{DateTime, Duration, Utc};

/// Everything the decision depends on, looked up before deciding.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The person's email, if the alert's user could be mapped.
    pub user: Option<String>,
    /// An active snooze covering this alert's scope, if any.
    pub snooze: Option<Snooze>,
    pub never_contact: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Ask the person over chat.
    Ask,
    /// Nobody to ask: straight to the security team.
    Escalate(EscalationReason),
    /// Covered by an earlier verified Yes.
    Snoozed { by: AlertId },
}

/// Snoozes win over the never-contact list because they exist only after that very person
/// verified a Yes; an unmappable person has no snooze to match.
pub fn decide(facts: &Facts) -> Decision {
    if facts.user.is_none() {
        return Decision::Escalate(EscalationReason::UnmappableUser);
    }
    if let Some(snooze) = &facts.snooze {
        return Decision::Snoozed {
            by: snooze.confirmed_alert.clone(),
        };
    }
    if facts.never_contact {
        return Decision::Escalate(EscalationReason::NeverContact);
    }
    Decision::Ask
}

/// Everything needed to turn a decision into the record to store.
pub struct Admission<'a> {
    pub alert: &'a Alert,
    pub raw: String,
    pub received_via: &'a str,
    pub now: DateTime<Utc>,
    pub retention: Duration,
    pub redactor: &'a Redactor,
    pub links: &'a LinkPolicy,
}

impl Admission<'_> {
    pub fn record(self, facts: &Facts, decision: &Decision) -> AlertRecord {
        let (status, reason, snoozed_by, note) = match decision {
            Decision::Ask => (
                Status::Received,
                None,
                None,
                "received; will ask the person".to_string(),
            ),
            Decision::Escalate(reason) => (
                Status::Unroutable,
                Some(*reason),
                None,
                format!("received; escalating: {reason}"),
            ),
            Decision::Snoozed { by } => (
                Status::Snoozed,
                None,
                Some(by.clone()),
                format!("covered by the snooze from {by}"),
            ),
        };
        let mut alert = self.alert.clone();
        redact_alert(&mut alert, self.redactor);
        // Only links to the listed SIEM hosts stay links; anything else is kept as text.
        if let Some(link) = alert.link.take() {
            match self.links.vet(&link) {
                Vetted::Link(link) => alert.link = Some(link),
                Vetted::Text(text) => {
                    alert.context.insert("link".into(), text);
                }
            }
        }
        let id = self.alert.id();
        AlertRecord {
            user: facts.user.clone(),
            escalation_reason: reason,
            snoozed_by,
            raw: super::text::cut_bytes(self.raw, super::text::MAX_RAW_BYTES),
            received_via: self.received_via.to_string(),
            history: vec![AuditEntry {
                at: self.now,
                actor: self.received_via.to_string(),
                status,
                note,
            }],
            ..AlertRecord::new(id, alert, status, self.now, self.now + self.retention)
        }
    }
}

/// Masks secrets everywhere chat text may come from. The id is derived before this, from the
/// unredacted alert, so redaction changes never break deduplication.
/// Every text field, context keys as well as values: a sender decides what goes where.
fn redact_alert(alert: &mut Alert, redactor: &Redactor) {
    let r = |text: &mut String| *text = redactor.redact(text).into_owned();
    r(&mut alert.source);
    r(&mut alert.rule);
    r(&mut alert.title);
    r(&mut alert.description);
    for text in [&mut alert.user, &mut alert.source_id, &mut alert.link]
        .into_iter()
        .flatten()
    {
        r(text);
    }
    alert.context = std::mem::take(&mut alert.context)
        .into_iter()
        .map(|(key, value)| {
            let key = redactor.redact(&key).into_owned();
            (key, redactor.redact(&value).into_owned())
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::alert::tests::sample;
    use crate::core::snooze::SnoozeScope;

    fn snooze() -> Snooze {
        let a = sample();
        Snooze {
            scope: SnoozeScope::of(&a, "alice@example.com", &["host".into()]).unwrap(),
            confirmed_alert: AlertId::from_stored("al_confirmed"),
            created_at: a.occurred_at,
            expires_at: a.occurred_at + Duration::hours(1),
        }
    }

    /// The record a webhook alert makes, kept 90 days, no link policy.
    fn admitted(alert: &Alert, raw: String, redactor: &Redactor, facts: &Facts) -> AlertRecord {
        Admission {
            alert,
            raw,
            received_via: "webhook:test",
            now: alert.occurred_at,
            retention: Duration::days(90),
            redactor,
            links: &LinkPolicy::default(),
        }
        .record(facts, &decide(facts))
    }

    #[test]
    fn every_stored_text_field_and_context_key_is_redacted() {
        let redactor = Redactor::new(&[]).unwrap();
        let facts = Facts::default();
        for (text, secret) in crate::core::redact::tests::CORPUS {
            let mut alert = sample();
            alert.source = text.to_string();
            alert.rule = text.to_string();
            alert.title = text.to_string();
            alert.description = text.to_string();
            alert.user = Some(text.to_string());
            alert.source_id = Some(text.to_string());
            alert.link = Some(text.to_string());
            alert.context.insert(text.to_string(), text.to_string());
            let record = admitted(&alert, String::new(), &redactor, &facts);
            let stored = serde_json::to_string(&record.alert).unwrap();
            assert!(!stored.contains(secret), "{secret:?} survived in {stored}");
            assert_eq!(record.id, alert.id(), "the id is the unredacted alert's");
        }
    }

    #[test]
    fn decisions_follow_the_brief() {
        let user = Some("alice@example.com".to_string());
        assert_eq!(
            decide(&Facts {
                user: user.clone(),
                ..Facts::default()
            }),
            Decision::Ask
        );
        assert_eq!(
            decide(&Facts {
                user: None,
                never_contact: true,
                ..Facts::default()
            }),
            Decision::Escalate(EscalationReason::UnmappableUser)
        );
        assert_eq!(
            decide(&Facts {
                user: user.clone(),
                never_contact: true,
                ..Facts::default()
            }),
            Decision::Escalate(EscalationReason::NeverContact)
        );
        assert_eq!(
            decide(&Facts {
                user,
                snooze: Some(snooze()),
                never_contact: false
            }),
            Decision::Snoozed {
                by: AlertId::from_stored("al_confirmed")
            }
        );
    }

    #[test]
    fn the_record_is_redacted_but_keeps_the_raw_payload_and_the_original_id() {
        let mut alert = sample();
        alert
            .context
            .insert("command".into(), "mysql password=hunter2".into());
        let redactor = Redactor::new(&[]).unwrap();
        let facts = Facts {
            user: Some("alice@example.com".into()),
            ..Facts::default()
        };
        let record = admitted(
            &alert,
            r#"{"command":"mysql password=hunter2"}"#.into(),
            &redactor,
            &facts,
        );
        assert_eq!(record.id, alert.id());
        assert_eq!(record.alert.context["command"], "mysql password=[REDACTED]");
        assert!(record.raw.contains("hunter2"));
        let huge = admitted(
            &alert,
            "x".repeat(crate::core::text::MAX_RAW_BYTES * 3),
            &redactor,
            &facts,
        );
        assert!(
            huge.raw.len() <= crate::core::text::MAX_RAW_BYTES,
            "raw is bounded for every source"
        );
        assert_eq!(record.status, Status::Received);
        assert_eq!(
            record.due_at,
            Some(record.received_at + crate::core::work::HANDOFF_RECHECK),
            "stored due for a second look, should the hand-off be lost"
        );
        assert_eq!(record.history.len(), 1);
        assert_eq!(record.expires_at - record.received_at, Duration::days(90));
    }
}

//! A change of an alert's status, with what else changes with it. The store applies it only if
//! the alert is still in one of `from`: that single condition is what makes double clicks,
//! Slack retries and redelivered messages harmless.

use super::record::ChatRef;
use super::state::{AuditEntry, EscalationReason, Status};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// `Some(None)` clears it (nothing more is due).
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub escalation_reason: Option<EscalationReason>,
    pub escalation_detail: Option<String>,
    pub explanation: Option<String>,
    pub chat_user: Option<String>,
    pub ask_message: Option<ChatRef>,
    pub escalation_message: Option<ChatRef>,
    /// The snooze chosen with a Yes that waits for a push.
    pub snooze_minutes: Option<u32>,
    /// Forgets the push sent for the Yes (it expired; another may be sent).
    pub clear_push: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: Vec<Status>,
    pub to: Status,
    pub audit: AuditEntry,
    pub changes: Changes,
}

impl Transition {
    /// Only edges of the lifecycle can be built; anything else is a programming error.
    pub fn new(
        from: &[Status],
        to: Status,
        at: DateTime<Utc>,
        actor: impl Into<String>,
        note: impl Into<String>,
    ) -> Self {
        for f in from {
            assert!(
                f.can_become(to),
                "{f} -> {to} is not an edge of the alert lifecycle"
            );
        }
        let audit = AuditEntry {
            at,
            actor: actor.into(),
            status: to,
            note: note.into(),
        };
        Transition {
            from: from.to_vec(),
            to,
            audit,
            changes: Changes::default(),
        }
    }

    pub fn with(mut self, changes: Changes) -> Self {
        self.changes = changes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "not an edge")]
    fn a_click_cannot_confirm_directly() {
        Transition::new(
            &[Status::Asked],
            Status::Confirmed,
            Utc::now(),
            "slack:U1",
            "yes",
        );
    }

    #[test]
    fn lifecycle_edges_build() {
        let t = Transition::new(
            &[Status::Asked, Status::Reminded],
            Status::Escalated,
            Utc::now(),
            "slack:U1",
            "said no",
        );
        assert_eq!(t.audit.status, Status::Escalated);
    }
}

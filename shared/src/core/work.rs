//! Messages on the work queue. They carry ids, never alert content or secrets: the notifier
//! reads the alert from the store, so a queue message leaks nothing and cannot be stale.

use super::alert::AlertId;
use super::state::Status;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How long a queued alert may sit unasked before the scheduler looks at it again.
pub const HANDOFF_RECHECK: Duration = Duration::minutes(15);

/// A message sent at most once per alert, guarded by a claim on the alert (stored as
/// `<name>_claimed_at_epoch`). The lease is how long a claim holds against another delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// The DM asking the person.
    Ask,
    /// The post to the security team.
    Escalation,
    /// The one reminder; kept after success, so a redelivered reminder is not sent twice.
    Reminder,
    /// The write-back of one status to the SIEM; kept after success for good.
    Writeback(Status),
}

impl ClaimKind {
    /// The claim's name, part of its attribute name.
    pub fn name(self) -> String {
        match self {
            ClaimKind::Ask => "ask".into(),
            ClaimKind::Escalation => "escalation".into(),
            ClaimKind::Reminder => "reminder".into(),
            ClaimKind::Writeback(status) => format!("writeback_{status}"),
        }
    }

    /// Short for sends that are retried (a crash mid-send frees them soon); long for those a
    /// success must keep from ever repeating.
    pub fn lease(self) -> Duration {
        match self {
            ClaimKind::Ask | ClaimKind::Escalation => Duration::minutes(2),
            ClaimKind::Reminder => Duration::days(1),
            ClaimKind::Writeback(_) => Duration::days(3650),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// DM the person: "was this you?"
    Ask,
    /// Post the alert to the security team.
    Escalate,
    /// Nudge the person, once, before the deadline.
    Remind,
}

impl Action {
    /// The work an alert in `status` still owes the queue (until it is queued): a new alert
    /// is asked; one with nobody to ask goes to the team.
    pub fn owed_in(status: Status) -> Option<Action> {
        match status {
            Status::Received => Some(Action::Ask),
            Status::Unroutable => Some(Action::Escalate),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Message format version, so a deploy can change the format without losing messages in flight.
    pub v: u8,
    pub action: Action,
    pub alert_id: AlertId,
}

impl WorkItem {
    pub fn new(action: Action, alert_id: AlertId) -> Self {
        WorkItem {
            v: 1,
            action,
            alert_id,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a work item always serialises")
    }

    pub fn from_json(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|e| format!("not a work item: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_carries_only_ids() {
        let item = WorkItem::new(Action::Escalate, AlertId::from_stored("al_1"));
        let json = item.to_json();
        assert_eq!(json, r#"{"v":1,"action":"escalate","alert_id":"al_1"}"#);
        assert_eq!(WorkItem::from_json(&json), Ok(item));
        assert!(WorkItem::from_json("{}").is_err());
    }

    #[test]
    fn claim_names_are_the_stored_attribute_names() {
        assert_eq!(ClaimKind::Ask.name(), "ask");
        assert_eq!(ClaimKind::Escalation.name(), "escalation");
        assert_eq!(ClaimKind::Reminder.name(), "reminder");
        assert_eq!(
            ClaimKind::Writeback(Status::Confirmed).name(),
            "writeback_confirmed"
        );
    }
}

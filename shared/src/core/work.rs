//! Messages on the work queue. They carry ids, never alert content or secrets: the notifier
//! reads the alert from the store, so a queue message leaks nothing and cannot be stale.

use super::alert::AlertId;
use super::state::Status;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a queued alert may sit unasked before the scheduler looks at it again.
pub const HANDOFF_RECHECK: Duration = Duration::minutes(15);

/// A message sent at most once per alert, guarded by a claim (the claims table's
/// `<name>#<alert id>` item) while it is being sent, and marked sent after, so a send that outlives its function is retried once the short
/// lease lapses, and a sent one is never sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// The DM asking the person.
    Ask,
    /// The post to the security team.
    Escalation,
    /// The one reminder.
    Reminder,
    /// The write-back of one status to the SIEM.
    Writeback(Status),
    /// The push proving a Yes, from sending it until it is recorded on the alert.
    Push,
}

impl ClaimKind {
    /// The claim's name, part of its attribute names.
    pub fn name(self) -> String {
        match self {
            ClaimKind::Ask => "ask".into(),
            ClaimKind::Escalation => "escalation".into(),
            ClaimKind::Reminder => "reminder".into(),
            ClaimKind::Writeback(status) => format!("writeback_{status}"),
            ClaimKind::Push => "push".into(),
        }
    }

    /// Whether a sent message is marked so: reminders and write-backs are. An ask or a team
    /// post is recorded by the alert's own write after it (the message's id goes there); if
    /// that write fails, the retry must be free to send again (the one documented window).
    pub fn marks_sent(self) -> bool {
        matches!(self, ClaimKind::Reminder | ClaimKind::Writeback(_))
    }

    /// How long a claim holds against another delivery while its send is in flight: longer
    /// than any one send takes, short enough that a crashed one is retried soon.
    pub fn lease(self) -> Duration {
        Duration::minutes(2)
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
    /// Send the push proving a Yes, or see what became of it (push second factors).
    Push,
}

impl Action {
    /// The work an alert in `status` may owe the queue: a new alert is asked; one with nobody
    /// to ask goes to the team; an escalated one is posted to the team (owed until its post is
    /// recorded: the store keeps it due until then).
    pub fn owed_in(status: Status) -> Option<Action> {
        match status {
            Status::Received => Some(Action::Ask),
            Status::Unroutable | Status::Escalated => Some(Action::Escalate),
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
    /// How often this item was put back for a rate limit (without spending a delivery attempt).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deferred: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A rate-limited item is put back this many times at most; then its delivery attempts count.
pub const MAX_DEFERRALS: u32 = 20;

impl WorkItem {
    pub fn new(action: Action, alert_id: AlertId) -> Self {
        WorkItem {
            v: 1,
            action,
            alert_id,
            deferred: 0,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a work item always serialises")
    }

    pub fn from_json(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|e| format!("not a work item: {e}"))
    }
}

/// What the security team must hear about a person, not about one alert: enrollment
/// requests and decisions, operators' changes. It goes through the work queue like every
/// message the bot posts, so it is retried, dead-lettered with an alarm if it cannot be
/// posted, and posted once (under its [`Announcement::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub v: u8,
    pub announce: Notice,
    /// The person it is about (email).
    pub user: String,
    /// Who did it: `chat:<id>`, `operator:<name>`, `securitybot`.
    pub actor: String,
    pub at: DateTime<Utc>,
    /// More words for the post (the snooze removed, the cooling-off's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// A person set up two-factor themselves: the team approves or rejects it.
    EnrollmentRequest,
    /// A person set up two-factor themselves; it becomes active after the cooling-off.
    EnrollmentCoolingOff,
    EnrollmentApproved,
    EnrollmentRejected,
    /// An operator enrolled someone (active at once).
    OperatorEnrolled,
    SecondFactorReset,
    NeverContactAdded,
    NeverContactRemoved,
    SnoozeRemoved,
    /// An alert the scheduler could not process run after run, taken out of its sweep
    /// (`user` holds the alert id).
    AlertNotProcessed,
}

impl Announcement {
    pub fn new(announce: Notice, user: &str, actor: &str, at: DateTime<Utc>) -> Self {
        Announcement {
            v: 1,
            announce,
            user: user.to_string(),
            actor: actor.to_string(),
            at,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The same announcement, however often it is sent, has the same key.
    pub fn key(&self) -> String {
        let notice = serde_json::to_value(self.announce).expect("notices serialise");
        format!(
            "announce#{}#{}#{}",
            notice.as_str().unwrap_or_default(),
            self.user,
            self.at.timestamp_millis()
        )
    }
}

/// Any message on the work queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum QueueMessage {
    Work(WorkItem),
    Announce(Announcement),
}

impl QueueMessage {
    pub fn from_json(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|_| {
            "not a work item or an announcement (expected {\"v\":1,\"action\":...} or {\"v\":1,\"announce\":...})".to_string()
        })
    }
}

impl Serialize for QueueMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            QueueMessage::Work(item) => item.serialize(s),
            QueueMessage::Announce(a) => a.serialize(s),
        }
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
    fn queue_messages_are_work_items_or_announcements() {
        let item = WorkItem::new(Action::Ask, AlertId::from_stored("al_1"));
        assert_eq!(
            QueueMessage::from_json(&item.to_json()),
            Ok(QueueMessage::Work(item))
        );
        let at = "2026-11-28T10:00:00Z".parse().unwrap();
        let a = Announcement::new(
            Notice::SecondFactorReset,
            "a@example.com",
            "operator:ops",
            at,
        );
        let json = serde_json::to_string(&QueueMessage::Announce(a.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"v":1,"announce":"second_factor_reset","user":"a@example.com","actor":"operator:ops","at":"2026-11-28T10:00:00Z"}"#
        );
        assert_eq!(
            QueueMessage::from_json(&json),
            Ok(QueueMessage::Announce(a.clone()))
        );
        assert_eq!(
            a.key(),
            "announce#second_factor_reset#a@example.com#1795860000000"
        );
        assert!(
            QueueMessage::from_json("{}")
                .unwrap_err()
                .contains("announcement")
        );
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

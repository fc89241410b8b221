//! An alert as stored: the (redacted) alert, who it is about, where it is in its lifecycle,
//! and the audit trail of how it got there.

use super::alert::{Alert, AlertId};
use super::state::{AuditEntry, EscalationReason, Status};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub id: AlertId,
    /// The alert with secrets masked: this is what Slack messages are built from.
    pub alert: Alert,
    /// The mapped email of the person to ask, when there is one.
    pub user: Option<String>,
    pub status: Status,
    pub escalation_reason: Option<EscalationReason>,
    /// Why, in words for the team (an unverified Yes says what was wrong with the 2FA).
    pub escalation_detail: Option<String>,
    /// For snoozed alerts: the confirmed alert whose snooze covers this one.
    pub snoozed_by: Option<AlertId>,
    pub received_at: DateTime<Utc>,
    /// When the scheduler should next look at this alert (reminder, deadline, or a stuck
    /// hand-off to the queue); `None` once nothing is pending.
    pub due_at: Option<DateTime<Utc>>,
    /// When silence escalates, set when the person is asked.
    pub deadline_at: Option<DateTime<Utc>>,
    /// Retention: DynamoDB's TTL deletes the record after this.
    pub expires_at: DateTime<Utc>,
    /// The payload exactly as received, for the team's investigations. Never sent to chat.
    pub raw: String,
    /// Which credential delivered it ("webhook:<key id>"), for the audit trail.
    pub received_via: String,
    /// When the scheduler's sweep last queued the alert again (admission writes nothing after
    /// queueing: a new alert is stored already due for the sweep's second look).
    pub queued_at: Option<DateTime<Utc>>,
    pub history: Vec<AuditEntry>,
    /// The person's chat id, once they have been asked.
    pub chat_user: Option<String>,
    /// The DM asking them, for updating it after they answer.
    pub ask_message: Option<ChatRef>,
    /// The post to the security team, for updating it when they act.
    pub escalation_message: Option<ChatRef>,
    /// What the person wrote when answering.
    pub explanation: Option<String>,
    /// Second-factor attempts reserved for this alert (each code checked, or push sent, takes
    /// one first).
    pub code_attempts: u32,
    /// With a Yes that waits for a push: the snooze the person chose in the form, in minutes.
    pub snooze_minutes: Option<u32>,
    /// The push sent for the Yes, while it waits on the person's phone.
    pub push: Option<PushSent>,
}

/// A push to the person's phone, as the push provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSent {
    /// The provider's transaction id, to ask what became of it.
    pub id: String,
    pub at: DateTime<Utc>,
}

/// Where a chat message is, so it can be updated later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRef {
    pub channel: String,
    pub ts: String,
}

impl AlertRecord {
    /// When the person was asked, from the audit trail.
    pub fn asked_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|e| e.status == Status::Asked)
            .map(|e| e.at)
    }

    /// A record as admission stores it: nothing asked, posted or answered yet (the rest of
    /// the fields by struct update). A status that owes the queue work is due at once, so the
    /// scheduler finds it through the status/due index if the hand-off is lost.
    pub fn new(
        id: AlertId,
        alert: Alert,
        status: Status,
        received_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        AlertRecord {
            id,
            alert,
            user: None,
            status,
            escalation_reason: None,
            escalation_detail: None,
            snoozed_by: None,
            received_at,
            // Work owed at admission is queued at once; the scheduler looks again only if it
            // has not happened by then (a crash between storing and queueing).
            due_at: super::work::Action::owed_in(status)
                .map(|_| received_at + super::work::HANDOFF_RECHECK),
            deadline_at: None,
            expires_at,
            raw: String::new(),
            received_via: String::new(),
            queued_at: None,
            history: Vec::new(),
            chat_user: None,
            ask_message: None,
            escalation_message: None,
            explanation: None,
            code_attempts: 0,
            snooze_minutes: None,
            push: None,
        }
    }

    /// The work this record still owes the queue, if any.
    pub fn pending_action(&self) -> Option<super::work::Action> {
        super::work::Action::owed_in(self.status).filter(|_| self.escalation_message.is_none())
    }
}

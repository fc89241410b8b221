//! The notifier: the one writer of asynchronous chat messages. It takes work items off the
//! queue and asks the person, or posts an escalation to the security team.
//!
//! Idempotency: each message is sent only while the alert is still in the status that calls
//! for it, and under a short claim on the alert, so a redelivered work item does not post
//! twice. The window that remains: a crash after the post and before the status write; the
//! retry then posts again once the claim's lease (2 minutes) has run out. A send that fails
//! gives its claim back at once, so a rate-limited retry comes as soon as Slack allows. Chat APIs offer no
//! idempotency key to close it fully; a duplicate DM is the safe failure (never a lost one).

use crate::core::messages;
use crate::core::record::AlertRecord;
use crate::core::rules::RuleBook;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, WorkItem};
use crate::error::{Error, Result};
use crate::ports::{AlertStore, Chat, Clock, Directory};
use chrono::Duration;
use std::sync::Arc;

pub const CLAIM_LEASE: Duration = Duration::minutes(2);
/// How long a person's chat id is trusted before looking it up again.
pub const CHAT_ID_CACHE: Duration = Duration::days(7);
const ACTOR: &str = "securitybot:notifier";

pub struct Notifier {
    pub alerts: Arc<dyn AlertStore>,
    pub directory: Arc<dyn Directory>,
    pub chat: Arc<dyn Chat>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    /// Where escalations go.
    pub security_channel: String,
}

impl Notifier {
    pub async fn handle(&self, item: &WorkItem) -> Result<()> {
        let Some(record) = self.alerts.get(&item.alert_id).await? else {
            tracing::warn!(alert_id = %item.alert_id, "work item for an alert that is not stored; dropping it");
            return Ok(());
        };
        match item.action {
            Action::Ask => self.ask(record).await,
            Action::Escalate => self.escalate(record).await,
            Action::Remind => self.remind(record).await,
        }
    }

    /// One polite nudge, in the thread of the question. The claim is kept after success (a
    /// day's lease), so a redelivered reminder is not sent twice.
    async fn remind(&self, record: AlertRecord) -> Result<()> {
        let (Status::Reminded, Some(at)) = (record.status, record.ask_message.as_ref()) else {
            return Ok(());
        };
        if !self
            .alerts
            .claim(&record.id, "reminder", self.clock.now(), Duration::days(1))
            .await?
        {
            return Ok(());
        }
        let deadline = record.deadline_at.unwrap_or_else(|| self.clock.now());
        if let Err(e) = self
            .chat
            .send_reply(at, &messages::reminder(&record, deadline))
            .await
        {
            self.alerts.release(&record.id, "reminder").await?;
            return Err(e);
        }
        tracing::info!(alert_id = %record.id, "reminded");
        Ok(())
    }

    async fn ask(&self, record: AlertRecord) -> Result<()> {
        if record.status != Status::Received {
            tracing::info!(alert_id = %record.id, status = %record.status, "already asked or moved on; nothing to do");
            return Ok(());
        }
        let now = self.clock.now();
        let Some(user) = record.user.clone() else {
            return self
                .unroutable(record, EscalationReason::UnmappableUser)
                .await;
        };
        // Checked again here, not only at intake: the team may have added the person to the
        // never-contact list while the question waited on the queue.
        if self.directory.is_never_contact(&user).await? {
            return self
                .unroutable(record, EscalationReason::NeverContact)
                .await;
        }
        let chat_user = match self.directory.cached_chat_id(&user, now).await? {
            Some(id) => id,
            None => match self.chat.find_person(&user).await? {
                Some(id) => {
                    self.directory
                        .remember_chat_id(&user, &id, now + CHAT_ID_CACHE)
                        .await?;
                    id
                }
                None => {
                    return self
                        .unroutable(record, EscalationReason::UnknownInChat)
                        .await;
                }
            },
        };
        self.claim(&record, "ask").await?;
        let settings = self.rules.settings_for(&record.alert.rule);
        let deadline = settings.deadline_at(now, record.alert.severity);
        let reminder = settings.reminder_at(now, record.alert.severity);
        // Several open questions are asked one after another, each new one opening with
        // "one more thing", rather than held back: a held-back alert would miss its deadline.
        let one_more = self.alerts.open_asks(&user).await? > 0;
        let sent = self
            .chat
            .send_direct(&chat_user, &messages::ask(&record, one_more, deadline))
            .await;
        if sent.is_err() {
            self.alerts.release(&record.id, "ask").await?;
        }
        let posted = match sent {
            Ok(posted) => posted,
            Err(Error::Permanent { message, .. }) => {
                tracing::warn!(alert_id = %record.id, error = %message, "cannot DM the person; escalating instead");
                return self
                    .unroutable(record, EscalationReason::UnknownInChat)
                    .await;
            }
            Err(e) => return Err(e),
        };
        let transition = Transition::new(
            &[Status::Received],
            Status::Asked,
            now,
            ACTOR,
            format!("asked {chat_user} in chat"),
        )
        .with(Changes {
            chat_user: Some(chat_user),
            ask_message: Some(posted),
            due_at: Some(Some(reminder.min(deadline))),
            deadline_at: Some(deadline),
            ..Changes::default()
        });
        self.alerts.transition(&record.id, &transition).await?;
        tracing::info!(alert_id = %record.id, "asked");
        Ok(())
    }

    async fn unroutable(&self, record: AlertRecord, reason: EscalationReason) -> Result<()> {
        let now = self.clock.now();
        let transition = Transition::new(
            &[Status::Received],
            Status::Unroutable,
            now,
            ACTOR,
            format!("cannot ask: {reason}"),
        )
        .with(Changes {
            escalation_reason: Some(reason),
            ..Changes::default()
        });
        match self.alerts.transition(&record.id, &transition).await? {
            Some(updated) => self.escalate(updated).await,
            None => Ok(()),
        }
    }

    async fn escalate(&self, record: AlertRecord) -> Result<()> {
        if record.escalation_message.is_some()
            || !matches!(record.status, Status::Unroutable | Status::Escalated)
        {
            tracing::info!(alert_id = %record.id, status = %record.status, "escalation already posted or no longer needed");
            return Ok(());
        }
        self.claim(&record, "escalation").await?;
        let sent = self
            .chat
            .send_to_channel(&self.security_channel, &messages::escalation(&record))
            .await;
        if sent.is_err() {
            self.alerts.release(&record.id, "escalation").await?;
        }
        let posted = sent?;
        // Silence: tell the person too, kindly, so the question does not hang in their DMs.
        if record.escalation_reason == Some(EscalationReason::NoAnswer)
            && let Some(at) = &record.ask_message
        {
            self.chat
                .update(
                    at,
                    &messages::answered(&record, messages::Answered::TimedOut),
                )
                .await?;
        }
        if record.status == Status::Unroutable {
            let transition = Transition::new(
                &[Status::Unroutable],
                Status::Escalated,
                self.clock.now(),
                ACTOR,
                "posted to the security team",
            )
            .with(Changes {
                escalation_message: Some(posted),
                due_at: Some(None),
                ..Changes::default()
            });
            self.alerts.transition(&record.id, &transition).await?;
        } else {
            self.alerts
                .set_escalation_message(&record.id, &posted)
                .await?;
        }
        tracing::info!(alert_id = %record.id, reason = ?record.escalation_reason, "escalated");
        Ok(())
    }

    /// A held claim means another delivery is sending right now: retry later, never drop.
    async fn claim(&self, record: &AlertRecord, what: &str) -> Result<()> {
        if self
            .alerts
            .claim(&record.id, what, self.clock.now(), CLAIM_LEASE)
            .await?
        {
            Ok(())
        } else {
            Err(Error::transient(
                "notifier",
                format!("another delivery is sending the {what} for {}", record.id),
            ))
        }
    }
}

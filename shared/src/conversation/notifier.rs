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
use crate::core::metrics::{Metric, seconds_between};
use crate::core::record::{AlertRecord, ChatRef};
use crate::core::rules::RuleBook;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, Announcement, ClaimKind, MAX_DEFERRALS, QueueMessage, WorkItem};
use crate::error::{Error, Result};
use crate::ports::steps::send_once;
use crate::ports::{
    AlertStore, Chat, ChatContact, Checkpoints, Claim, Clock, Delivery, Directory, Metrics,
    WorkQueue,
};
use chrono::Duration;
use futures_util::{StreamExt, stream};
use std::future::Future;
use std::sync::Arc;

/// An announcement being posted holds its key this long against another delivery.
const ANNOUNCE_LEASE: Duration = Duration::minutes(2);
/// Posted announcements are remembered well beyond any redelivery, then TTL removes them.
const KEEP_ANNOUNCED: Duration = Duration::days(35);
/// How long a person's chat id is trusted before looking it up again.
pub const CHAT_ID_CACHE: Duration = Duration::days(7);
/// How far back open asks are counted for the "one more thing" wording: past any deadline
/// (minutes, stretched by working hours over a long weekend), so only the phrasing of a question
/// after a two-week-old unanswered one could differ, never whether it is asked.
const OPEN_ASK_LOOKBACK: Duration = Duration::days(14);
const ACTOR: &str = "securitybot:notifier";
/// Alerts of one batch handled at once (a batch is at most 10 messages).
pub const RECORD_CONCURRENCY: usize = 4;

/// One message of a queue batch: its id (to report a failure), the receipt of this delivery
/// (to delay its retry) and its body.
pub struct Received {
    pub id: String,
    pub receipt: Option<String>,
    pub body: String,
}

pub struct Notifier {
    pub alerts: Arc<dyn AlertStore>,
    pub directory: Arc<dyn Directory>,
    pub chat: Arc<dyn Chat>,
    /// Only to delay a rate-limited item's retry until the chat platform allows it.
    pub queue: Arc<dyn WorkQueue>,
    /// Once-only markers for announcements (they concern a person, not one alert).
    pub checkpoints: Arc<dyn Checkpoints>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    /// Where escalations go.
    pub security_channel: String,
    /// Sends and watches the pushes that prove a Yes, when the second factor is a push.
    pub pushes: Option<super::push::Pushes>,
    pub metrics: Arc<dyn Metrics>,
}

impl Notifier {
    /// Handles a batch; returns the ids of the messages to hand back to the queue (failed, or
    /// not reached before `stop_at`), so only those come again (and, after the queue's limit,
    /// are dead-lettered with an alarm).
    ///
    /// A rate-limited work item does not spend one of its delivery attempts: a copy is put
    /// back with the platform's Retry-After as its delay (up to [`MAX_DEFERRALS`] times) and
    /// the original is done. Otherwise the item is handed back with Retry-After as its delay.
    pub async fn handle_batch(
        &self,
        batch: Vec<Received>,
        stop_at: Option<std::time::Instant>,
    ) -> Vec<String> {
        // Mostly waiting on Slack and DynamoDB, so different alerts go at once, a few at a
        // time (posts to one channel stay a second apart: the chat adapter books their slots);
        // the messages about one alert (or one announcement) go in order, one after another.
        // Handed back in the batch's order of groups.
        stream::iter(in_groups(batch))
            .map(|group| async move {
                let mut handed_back = Vec::new();
                for (message, parsed) in group {
                    handed_back.extend(self.handle_received(message, parsed, stop_at).await);
                }
                handed_back
            })
            .buffered(RECORD_CONCURRENCY)
            .flat_map(stream::iter)
            .collect()
            .await
    }

    /// One message of a batch (with its body as parsed); its id when it is to be handed back.
    async fn handle_received(
        &self,
        message: Received,
        parsed: Parsed,
        stop_at: Option<std::time::Instant>,
    ) -> Option<String> {
        if stop_at.is_some_and(|stop| std::time::Instant::now() >= stop) {
            // Out of time: another invocation takes it at once (no delay), untried.
            if let Some(receipt) = &message.receipt
                && let Err(e) = self.queue.retry_after(receipt, 0).await
            {
                tracing::warn!(error = %e, "could not hand the item back at once");
            }
            return Some(message.id);
        }
        let outcome = match &parsed {
            Ok(m) => self.handle_message(m).await,
            // It will never parse: fail it so it reaches the dead-letter queue and its alarm.
            Err(problem) => Err(Error::Invalid(problem.clone())),
        };
        let Err(error) = outcome else { return None };
        if let (Some(seconds), Ok(QueueMessage::Work(item))) = (error.retry_after_secs(), &parsed)
            && item.deferred < MAX_DEFERRALS
        {
            let later = WorkItem {
                deferred: item.deferred + 1,
                ..item.clone()
            };
            match self.queue.send_later(&later, seconds).await {
                Ok(()) => {
                    tracing::info!(message_id = %message.id, seconds, "rate limited: put back for later");
                    return None;
                }
                Err(e) => tracing::warn!(error = %e, "could not put the item back for later"),
            }
        }
        tracing::error!(message_id = %message.id, error = %error, retryable = error.is_retryable(), "work item failed");
        if let (Some(seconds), Some(receipt)) = (error.retry_after_secs(), &message.receipt)
            && let Err(e) = self.queue.retry_after(receipt, seconds).await
        {
            tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
        }
        Some(message.id)
    }

    pub async fn handle_message(&self, message: &QueueMessage) -> Result<()> {
        match message {
            QueueMessage::Work(item) => self.handle(item).await,
            QueueMessage::Announce(announcement) => self.announce(announcement).await,
        }
    }

    pub async fn handle(&self, item: &WorkItem) -> Result<()> {
        let Some(record) = self.alerts.get(&item.alert_id).await? else {
            tracing::warn!(alert_id = %item.alert_id, "work item for an alert that is not stored; dropping it");
            return Ok(());
        };
        match item.action {
            Action::Ask => self.ask(record).await,
            Action::Escalate => self.escalate(record).await,
            Action::Remind => self.remind(record).await,
            Action::Push => match &self.pushes {
                Some(pushes) => pushes.handle(record).await,
                // Configured away while the item waited: the deadline escalates the alert.
                None => Err(Error::Invalid(format!(
                    "a push for {} but no push second factor is configured",
                    record.id
                ))),
            },
        }
    }

    /// A post to the team about a person, once: claimed under its key, marked done after the
    /// post (kept well beyond any redelivery), given back if the post failed.
    async fn announce(&self, a: &Announcement) -> Result<()> {
        let key = a.key();
        let now = self.clock.now();
        match self.checkpoints.claim(&key, now, ANNOUNCE_LEASE).await? {
            Claim::Done => return Ok(()),
            Claim::Held => {
                return Err(Error::transient(
                    "notifier",
                    format!("another delivery is posting {key}"),
                ));
            }
            Claim::Taken => {}
        }
        let contact = self.directory.cached_contact(&a.user, now).await?;
        let post = messages::announcement(a, contact.as_ref().map(|c| c.id.as_str()));
        match self
            .chat
            .send_to_channel(&self.security_channel, &post)
            .await
        {
            Ok(at) => {
                let note = format!("posted {} {}", at.channel, at.ts);
                self.checkpoints
                    .complete(&key, &note, now + KEEP_ANNOUNCED)
                    .await?;
                tracing::info!(announcement = %key, "announced to the team");
                Ok(())
            }
            Err(e) => {
                if let Err(release) = self.checkpoints.release(&key).await {
                    tracing::warn!(announcement = %key, error = %release, "could not release the announcement claim");
                }
                Err(e)
            }
        }
    }

    /// One polite nudge, in the thread of the question. The claim is kept after success (a
    /// day's lease), so a redelivered reminder is not sent twice.
    async fn remind(&self, record: AlertRecord) -> Result<()> {
        let (Status::Reminded, Some(at)) = (record.status, record.ask_message.as_ref()) else {
            return Ok(());
        };
        let deadline = record.deadline_at.unwrap_or_else(|| self.clock.now());
        let reminder = messages::reminder(&record, deadline);
        let sent = send_once(
            &*self.alerts,
            &record.id,
            ClaimKind::Reminder,
            self.clock.now(),
            self.chat.send_reply(at, &reminder),
        )
        .await?;
        if sent.is_some() {
            tracing::info!(alert_id = %record.id, "reminded");
        }
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
        let reach = self.directory.reach(&user, now).await?;
        if reach.never_contact {
            return self
                .unroutable(record, EscalationReason::NeverContact)
                .await;
        }
        // A person looked up now is remembered after the DM, with its conversation: one write.
        let (contact, looked_up) = match reach.cached {
            Some(contact) => (contact, false),
            None => match self.chat.find_person(&user).await? {
                Some(id) => (ChatContact::new(id), true),
                None => {
                    return self
                        .unroutable(record, EscalationReason::UnknownInChat)
                        .await;
                }
            },
        };
        let settings = self.rules.settings_for(&record.alert.rule);
        let deadline = settings.deadline_at(now, record.alert.severity);
        let reminder = settings.reminder_at(now, record.alert.severity);
        // Several open questions are asked one after another, each new one opening with
        // "one more thing", rather than held back: a held-back alert would miss its deadline.
        let one_more = self
            .alerts
            .open_asks(&user, now - OPEN_ASK_LOOKBACK)
            .await?
            > 0;
        let question = messages::ask(&record, one_more, deadline);
        let sent = self
            .exclusively(
                &record,
                ClaimKind::Ask,
                self.chat.send_direct(&contact, &question),
            )
            .await?;
        let posted = match sent {
            Delivery::Posted(posted) => posted,
            Delivery::Unreachable(reason) => {
                tracing::warn!(alert_id = %record.id, reason, "cannot DM the person; escalating instead");
                return self
                    .unroutable(record, EscalationReason::UnknownInChat)
                    .await;
            }
        };
        let remembered = if looked_up {
            let found = ChatContact {
                id: contact.id.clone(),
                direct: Some(posted.channel.clone()),
            };
            (self.directory)
                .remember_contact(&user, &found, now + CHAT_ID_CACHE)
                .await
        } else if contact.direct.as_ref() != Some(&posted.channel) {
            (self.directory)
                .remember_direct(&user, &contact.id, &posted.channel)
                .await
        } else {
            Ok(())
        };
        if let Err(e) = remembered {
            // Only a saving: the next DM looks the person up or opens the conversation again.
            tracing::warn!(alert_id = %record.id, error = %e, "could not remember how to reach the person");
        }
        let chat_user = contact.id;
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
        self.metrics.record(Metric::Asked {
            seconds_since_alert: seconds_between(record.received_at, now),
        });
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
        let post = messages::escalation(&record);
        let posted: ChatRef = self
            .exclusively(
                &record,
                ClaimKind::Escalation,
                self.chat.send_to_channel(&self.security_channel, &post),
            )
            .await?;
        // Recorded at once, before anything else can fail: a retry must not post again.
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
        // Silence: tell the person too, kindly, so the question does not hang in their DMs.
        // Best effort: the team has it, which is what matters.
        if record.escalation_reason == Some(EscalationReason::NoAnswer)
            && let Some(at) = &record.ask_message
        {
            let told = messages::answered(&record, messages::Answered::TimedOut);
            if let Err(e) = self.chat.update(at, &told).await {
                tracing::warn!(alert_id = %record.id, error = %e, "could not update the person's question");
            }
        }
        self.metrics.record(Metric::Escalated {
            reason: record.escalation_reason.map_or("unknown", |r| r.as_str()),
        });
        tracing::info!(alert_id = %record.id, reason = ?record.escalation_reason, "escalated");
        Ok(())
    }

    /// Sends under the claim. A held claim means another delivery is sending right now:
    /// retry later, never drop.
    async fn exclusively<T>(
        &self,
        record: &AlertRecord,
        kind: ClaimKind,
        send: impl Future<Output = Result<T>> + Send,
    ) -> Result<T> {
        send_once(&*self.alerts, &record.id, kind, self.clock.now(), send)
            .await?
            .ok_or_else(|| {
                Error::transient(
                    "notifier",
                    format!(
                        "another delivery is sending the {} for {}",
                        kind.name(),
                        record.id
                    ),
                )
            })
    }
}

/// A message's body as parsed: once, when the batch is grouped.
type Parsed = std::result::Result<QueueMessage, String>;

/// The batch's messages, each with its parsed body, grouped by what they are about (an alert,
/// an announcement; one that does not parse stands alone), groups in the order they first appear.
pub(crate) fn in_groups(batch: Vec<Received>) -> Vec<Vec<(Received, Parsed)>> {
    let mut groups: Vec<(String, Vec<(Received, Parsed)>)> = Vec::new();
    for message in batch {
        let parsed = QueueMessage::from_json(&message.body);
        let key = match &parsed {
            Ok(QueueMessage::Work(item)) => format!("alert:{}", item.alert_id),
            Ok(QueueMessage::Announce(a)) => format!("announce:{}", a.key()),
            Err(_) => format!("message:{}", message.id),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push((message, parsed)),
            None => groups.push((key, vec![(message, parsed)])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

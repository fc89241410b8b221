//! The push that proves a Yes (push second factors such as Duo), sent and watched on the work
//! queue: Slack gives an interaction 3 seconds, and a person takes longer than that to find
//! their phone. One work item (`Action::Push`) does both jobs:
//! - no push recorded on the alert yet: ask the provider whether the person can get one (if
//!   not, the Yes is unverified and goes to the team), send it under a claim, record it, and
//!   put the item back to look again in [`LOOK_AGAIN_SECS`];
//! - a push recorded: ask what became of it. Approved confirms; denied or reported as fraud
//!   goes to the team at once (`second_factor_denied`); expired sends the alert back to
//!   `awaiting_second_factor`, so pressing Yes sends a fresh one; still waiting puts the item
//!   back again. Silence past the rule's deadline is the sweep's, as for every question.
//!
//! A provider that fails or answers nonsense is an error: the item is retried by the queue and
//! dead-lettered with its alarm, and the deadline still escalates. Never a silent confirm.

use super::outcome::{Escalation, Outcome, VerifiedYes};
use crate::core::enrollment::NotVouched;
use crate::core::messages::{self, Answered};
use crate::core::metrics::Metric;
use crate::core::record::{AlertRecord, PushSent};
use crate::core::rules::RuleBook;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, ClaimKind, WorkItem};
use crate::error::{Error, Result};
use crate::ports::steps::send_once;
use crate::ports::{
    AlertStore, Chat, Clock, Metrics, PushFactor, PushOutcome, PushPrompt, PushReady, SnoozeStore,
    WorkQueue,
};
use chrono::Duration;
use std::sync::Arc;

/// How soon to ask again about a push still on the phone.
pub const LOOK_AGAIN_SECS: u64 = 3;
/// A push the provider still calls waiting after this long is taken as expired (Duo's own
/// timeout is 60 seconds; this only guards against a provider that never says).
pub const GIVE_UP_AFTER: Duration = Duration::minutes(5);
const ACTOR: &str = "securitybot:push";

pub struct Pushes {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub chat: Arc<dyn Chat>,
    pub push: Arc<dyn PushFactor>,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    pub metrics: Arc<dyn Metrics>,
}

impl Pushes {
    pub async fn handle(&self, record: AlertRecord) -> Result<()> {
        if record.status != Status::AwaitingPush {
            return Ok(()); // answered, expired or escalated meanwhile
        }
        match record.push.clone() {
            None => self.send(record).await,
            Some(sent) => self.look(record, sent).await,
        }
    }

    fn outcome(&self) -> Outcome<'_> {
        Outcome {
            alerts: &*self.alerts,
            snoozes: &*self.snoozes,
            chat: &*self.chat,
            queue: &*self.queue,
            clock: &*self.clock,
        }
    }

    fn look_again(&self, record: &AlertRecord) -> WorkItem {
        WorkItem::new(Action::Push, record.id.clone())
    }

    async fn send(&self, record: AlertRecord) -> Result<()> {
        let user = record.user.clone().unwrap_or_default();
        if let PushReady::Unavailable(why) = self.push.ready(&user).await? {
            tracing::warn!(alert_id = %record.id, why, "no push possible; the yes is unverified");
            self.metrics.record(Metric::SecondFactor {
                result: "push_unavailable",
            });
            let not = NotVouched {
                reason: EscalationReason::UnverifiedYes,
                detail: why,
            };
            let unverified = Escalation::unverified(not, Answered::NoPush);
            return self.escalate(&record, unverified).await;
        }
        let prompt = PushPrompt {
            alert_id: record.id.clone(),
            title: record.alert.title.clone(),
        };
        let now = self.clock.now();
        // Read again under the claim: a delivery that loaded the alert before another one
        // recorded its push (and gave the claim back) must not push a second time.
        let push_unless_sent = async {
            let fresh = self.alerts.get(&record.id).await?;
            match fresh {
                Some(r) if r.status == Status::AwaitingPush && r.push.is_none() => {
                    self.push.push(&user, &prompt).await.map(Some)
                }
                _ => Ok(None),
            }
        };
        let sent = send_once(
            &*self.alerts,
            &record.id,
            ClaimKind::Push,
            now,
            push_unless_sent,
        )
        .await?;
        let push_id = match sent {
            Some(Some(id)) => id,
            Some(None) => {
                // Sent (or settled) by another delivery meanwhile; the claim is not needed.
                if let Err(e) = self.alerts.release(&record.id, ClaimKind::Push).await {
                    tracing::warn!(alert_id = %record.id, error = %e, "could not give the push claim back");
                }
                return Ok(());
            }
            None => {
                // Another delivery is pushing right now; come back once it has recorded it.
                return Err(Error::transient(
                    "push",
                    format!("another delivery is sending the push for {}", record.id),
                ));
            }
        };
        let push = PushSent {
            id: push_id,
            at: now,
        };
        if self.alerts.record_push(&record.id, &push).await? {
            // The claim guarded only the send; the next Yes (after an expiry) needs it free.
            if let Err(e) = self.alerts.release(&record.id, ClaimKind::Push).await {
                tracing::warn!(alert_id = %record.id, error = %e, "could not give the push claim back");
            }
            if let Some(at) = &record.ask_message
                && let Err(e) = self.chat.send_reply(at, &messages::push_sent()).await
            {
                tracing::warn!(alert_id = %record.id, error = %e, "could not say the push is on its way");
            }
            tracing::info!(alert_id = %record.id, "push sent");
            self.metrics.record(Metric::SecondFactor {
                result: "push_sent",
            });
        }
        self.queue
            .send_later(&self.look_again(&record), LOOK_AGAIN_SECS)
            .await
    }

    async fn look(&self, record: AlertRecord, sent: PushSent) -> Result<()> {
        let outcome = self.push.outcome(&sent.id).await?;
        if !matches!(outcome, PushOutcome::Waiting) {
            self.metrics.record(Metric::SecondFactor {
                result: outcome.name(),
            });
        }
        match outcome {
            PushOutcome::Approved => {
                let settings = self.rules.settings_for(&record.alert.rule);
                let yes = VerifiedYes {
                    actor: format!("chat:{}", record.chat_user.as_deref().unwrap_or("?")),
                    note: "confirmed with an approved push",
                    explanation: None,
                    snooze_minutes: record.snooze_minutes.unwrap_or(0),
                };
                self.outcome()
                    .confirm(&record, &[Status::AwaitingPush], yes, &settings)
                    .await
            }
            PushOutcome::Denied => {
                self.denied(&record, "they pressed Deny on the push to their phone")
                    .await
            }
            PushOutcome::ReportedFraud => {
                self.denied(
                    &record,
                    "they reported the push to their phone as fraudulent",
                )
                .await
            }
            PushOutcome::Refused(why) => {
                let refused = Escalation::by_person(
                    EscalationReason::SecondFactorFailed,
                    Answered::SecondFactorFailed,
                )
                .because(format!("the push provider refused the push: {why}"));
                self.escalate(&record, refused).await
            }
            PushOutcome::Expired => self.expired(&record).await,
            PushOutcome::Waiting if self.clock.now() - sent.at > GIVE_UP_AFTER => {
                tracing::warn!(alert_id = %record.id, "the provider still says waiting; taking the push as expired");
                self.expired(&record).await
            }
            PushOutcome::Waiting => {
                self.queue
                    .send_later(&self.look_again(&record), LOOK_AGAIN_SECS)
                    .await
            }
        }
    }

    /// Nobody answered the push: the question stays open (the deadline still stands), and
    /// pressing Yes again sends a fresh push (each one takes an attempt).
    async fn expired(&self, record: &AlertRecord) -> Result<()> {
        let transition = Transition::new(
            &[Status::AwaitingPush],
            Status::AwaitingSecondFactor,
            self.clock.now(),
            ACTOR,
            "the push expired unanswered",
        )
        .with(Changes {
            clear_push: true,
            ..Changes::default()
        });
        if self
            .alerts
            .transition(&record.id, &transition)
            .await?
            .is_some()
            && let Some(at) = &record.ask_message
            && let Err(e) = self.chat.send_reply(at, &messages::push_expired()).await
        {
            tracing::warn!(alert_id = %record.id, error = %e, "could not say the push expired");
        }
        Ok(())
    }

    /// The person's own device said no: the strongest signal there is, to the team at once.
    async fn denied(&self, record: &AlertRecord, how: &str) -> Result<()> {
        let denied =
            Escalation::by_person(EscalationReason::SecondFactorDenied, Answered::PushDenied)
                .because(how);
        self.escalate(record, denied).await
    }

    /// The explanation stays as the form stored it with the move to `awaiting_push`.
    async fn escalate(&self, record: &AlertRecord, why: Escalation) -> Result<()> {
        self.outcome()
            .escalate(record, ACTOR.to_string(), why, &[Status::AwaitingPush])
            .await
    }
}

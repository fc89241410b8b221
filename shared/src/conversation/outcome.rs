//! How a Yes ends, written once for both ways it can be proven: a code checked at the
//! interaction endpoint ([`super::answers`]) and a push approved on the phone, learned on the
//! work queue ([`super::push`]). Both are conditional transitions, so whichever path (or
//! redelivery) comes second finds the alert already moved and does nothing more.

use crate::core::enrollment::NotVouched;
use crate::core::messages::{self, Answered};
use crate::core::record::AlertRecord;
use crate::core::rules::RuleSettings;
use crate::core::snooze::{Snooze, SnoozeScope};
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, HANDOFF_RECHECK, WorkItem};
use crate::error::Result;
use crate::ports::{AlertStore, Chat, Clock, SnoozeStore, WorkQueue};
use chrono::Duration;

/// The ports an ending needs, borrowed from the use case that reaches it.
pub(super) struct Outcome<'a> {
    pub alerts: &'a dyn AlertStore,
    pub snoozes: &'a dyn SnoozeStore,
    pub chat: &'a dyn Chat,
    pub queue: &'a dyn WorkQueue,
    pub clock: &'a dyn Clock,
}

/// A verified Yes, as the person gave it.
pub(super) struct VerifiedYes<'a> {
    /// Who proved it ("chat:<id>"), for the audit trail.
    pub actor: String,
    /// How, for the audit trail.
    pub note: &'a str,
    /// `None` keeps what is stored (a push's Yes stored it with the form).
    pub explanation: Option<String>,
    pub snooze_minutes: u32,
}

impl Outcome<'_> {
    /// Confirmed (from one of `from`), snoozed if they chose to, and their question updated.
    pub async fn confirm(
        &self,
        record: &AlertRecord,
        from: &[Status],
        yes: VerifiedYes<'_>,
        settings: &RuleSettings,
    ) -> Result<()> {
        let now = self.clock.now();
        let minutes = yes.snooze_minutes.min(settings.snooze_max_minutes);
        let snoozed_until = (minutes > 0).then(|| now + Duration::minutes(minutes.into()));
        let transition =
            Transition::new(from, Status::Confirmed, now, yes.actor, yes.note).with(Changes {
                explanation: yes.explanation,
                due_at: Some(None),
                ..Changes::default()
            });
        let Some(confirmed) = self.alerts.transition(&record.id, &transition).await? else {
            return Ok(());
        };
        let user = confirmed.user.clone().unwrap_or_default();
        if let (Some(until), Some(scope)) = (
            snoozed_until,
            SnoozeScope::of(&confirmed.alert, &user, &settings.snooze_scope),
        ) {
            self.snoozes
                .put(&Snooze {
                    scope,
                    confirmed_alert: confirmed.id.clone(),
                    created_at: now,
                    expires_at: until,
                })
                .await?;
        }
        if let Some(at) = &confirmed.ask_message {
            let answered = messages::answered(&confirmed, Answered::Confirmed { snoozed_until });
            self.chat.update(at, &answered).await?;
        }
        tracing::info!(alert_id = %confirmed.id, snoozed_minutes = minutes, "confirmed");
        Ok(())
    }

    /// Moves the alert to the team, tells the person kindly, and queues the team post. If the
    /// move already happened (a retry), makes sure the post is still queued.
    pub async fn escalate(
        &self,
        record: &AlertRecord,
        actor: String,
        why: Escalation,
        from: &[Status],
    ) -> Result<()> {
        let now = self.clock.now();
        let transition = Transition::new(
            from,
            Status::Escalated,
            now,
            actor,
            format!("escalated: {}", why.reason),
        )
        .with(Changes {
            escalation_reason: Some(why.reason),
            escalation_detail: why.detail,
            explanation: why.explanation,
            // The team post is owed until it is recorded: the sweep re-queues it if it is lost.
            due_at: Some(Some(now + HANDOFF_RECHECK)),
            ..Changes::default()
        });
        match self.alerts.transition(&record.id, &transition).await? {
            Some(escalated) => {
                self.queue
                    .send(&WorkItem::new(Action::Escalate, escalated.id.clone()))
                    .await?;
                // Best effort: the team has it; a DM that cannot be updated (deleted, say)
                // must not turn the person's answer into an error.
                if let Some(at) = &escalated.ask_message
                    && let Err(e) = self
                        .chat
                        .update(at, &messages::answered(&escalated, why.told))
                        .await
                {
                    tracing::warn!(alert_id = %escalated.id, error = %e, "could not update the person's question");
                }
                tracing::info!(alert_id = %escalated.id, reason = %why.reason, "escalated by the person's answer");
            }
            None if record.status == Status::Escalated && record.escalation_message.is_none() => {
                self.queue
                    .send(&WorkItem::new(Action::Escalate, record.id.clone()))
                    .await?;
            }
            None => {}
        }
        Ok(())
    }
}

/// Why the person's answer sends an alert to the team, and what they are told.
pub(super) struct Escalation {
    pub reason: EscalationReason,
    pub told: Answered,
    pub explanation: Option<String>,
    /// Words for the team post.
    pub detail: Option<String>,
}

impl Escalation {
    pub fn by_person(reason: EscalationReason, told: Answered) -> Self {
        Escalation {
            reason,
            told,
            explanation: None,
            detail: None,
        }
    }

    pub fn unverified(not: NotVouched, told: Answered) -> Self {
        Escalation {
            detail: Some(not.detail),
            ..Escalation::by_person(not.reason, told)
        }
    }

    pub fn explained(mut self, explanation: &str) -> Self {
        self.explanation = Some(explanation.to_string());
        self
    }

    pub fn because(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

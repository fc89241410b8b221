//! Acting on clicks and forms: the person's Yes / No, the Yes form with its second factor, and
//! the security team's buttons. Every change is a conditional transition, so a double click or
//! a chat platform's retry finds the alert already moved and does nothing more.

use super::{Interaction, Reply};
use crate::core::messages::{self, Answered, ButtonAction};
use crate::core::record::AlertRecord;
use crate::core::rules::RuleBook;
use crate::core::snooze::{Snooze, SnoozeScope, snooze_choices};
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, WorkItem};
use crate::error::Result;
use crate::ports::{
    AlertStore, AnswerForm, Chat, Clock, SecondFactor, SnoozeStore, Verification, WorkQueue,
};
use chrono::Duration;
use std::sync::Arc;

const WAITING: &[Status] = &[Status::Asked, Status::Reminded];
const ANSWERABLE: &[Status] = &[
    Status::Asked,
    Status::Reminded,
    Status::AwaitingSecondFactor,
];

pub struct Answers {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub chat: Arc<dyn Chat>,
    pub second_factor: Arc<dyn SecondFactor>,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    /// Chat ids of the security team: only they may use the team buttons.
    pub team: Vec<String>,
    /// Wrong codes allowed per alert before it escalates.
    pub max_code_attempts: u32,
    /// Where enrollments are announced.
    pub security_channel: String,
}

impl Answers {
    pub async fn handle(&self, interaction: Interaction) -> Result<Reply> {
        match interaction {
            Interaction::Clicked {
                action,
                alert_id,
                chat_user,
                trigger,
                channel,
            } => {
                let Some(record) = self.alerts.get(&alert_id).await? else {
                    tracing::warn!(%alert_id, "click on an alert that is not stored");
                    return Ok(Reply::Done);
                };
                let team_button = matches!(
                    action,
                    ButtonAction::TeamAcknowledge | ButtonAction::TeamResolve
                );
                let allowed = if team_button {
                    self.team.contains(&chat_user)
                } else {
                    record.chat_user.as_deref() == Some(chat_user.as_str())
                };
                if !allowed {
                    tracing::warn!(%alert_id, chat_user, action = action.id(), "someone else clicked; nothing changes");
                    if let Some(channel) = channel {
                        self.chat
                            .whisper(&channel, &chat_user, messages::NOT_YOURS)
                            .await?;
                    }
                    return Ok(Reply::Done);
                }
                match action {
                    ButtonAction::AnswerNo => self.said_no(record, &chat_user).await,
                    ButtonAction::AnswerYes => self.said_yes(record, &trigger).await,
                    ButtonAction::TeamAcknowledge => {
                        self.team_acted(
                            record,
                            &chat_user,
                            &[Status::Escalated],
                            Status::Acknowledged,
                            "acknowledged",
                        )
                        .await
                    }
                    ButtonAction::TeamResolve => {
                        self.team_acted(
                            record,
                            &chat_user,
                            &[Status::Escalated, Status::Acknowledged],
                            Status::ResolvedBenign,
                            "resolved (benign)",
                        )
                        .await
                    }
                }
            }
            Interaction::Submitted {
                alert_id,
                chat_user,
                explanation,
                code,
                snooze_minutes,
            } => {
                let Some(record) = self.alerts.get(&alert_id).await? else {
                    return Ok(Reply::Done);
                };
                if record.chat_user.as_deref() != Some(chat_user.as_str()) {
                    return Ok(Reply::FormErrors(vec![(
                        "explanation",
                        messages::NOT_YOURS.to_string(),
                    )]));
                }
                self.submitted(record, &chat_user, explanation, code, snooze_minutes)
                    .await
            }
            Interaction::HomeOpened { chat_user } => {
                let enrolled = match self.chat.email_of(&chat_user).await? {
                    Some(email) => self.second_factor.can_verify(&email).await?,
                    None => false,
                };
                self.chat.show_home(&chat_user, enrolled).await?;
                Ok(Reply::Done)
            }
            Interaction::StartEnrollment { chat_user, trigger } => {
                let Some(email) = self.chat.email_of(&chat_user).await? else {
                    tracing::warn!(
                        chat_user,
                        "enrollment refused: Slack shares no email for this user"
                    );
                    return Ok(Reply::Done);
                };
                match self.second_factor.enroll(&email, self.clock.now()).await? {
                    Some(uri) => self.chat.open_enrollment_form(&trigger, &uri).await?,
                    // Already enrolled (or started): only an operator's reset allows a new seed.
                    None => self.chat.show_home(&chat_user, true).await?,
                }
                Ok(Reply::Done)
            }
            Interaction::SubmittedEnrollment { chat_user, code } => {
                let Some(email) = self.chat.email_of(&chat_user).await? else {
                    return Ok(Reply::Done);
                };
                let problem = match self
                    .second_factor
                    .verify(&email, &code, self.clock.now())
                    .await?
                {
                    Verification::ValidFirstCode => {
                        self.chat
                            .send_to_channel(
                                &self.security_channel,
                                &messages::enrolled(&email, &chat_user),
                            )
                            .await?;
                        self.chat.show_home(&chat_user, true).await?;
                        return Ok(Reply::Done);
                    }
                    Verification::Valid => return Ok(Reply::Done),
                    Verification::Invalid | Verification::Replayed => {
                        "That code didn't work. Check the key was added as time-based, and try the current code."
                    }
                    Verification::LockedOut => {
                        "Too many wrong codes. Please wait an hour, or ask the security team for help."
                    }
                    Verification::NotEnrolled => {
                        "Setup has been reset meanwhile. Please close this and start again from the Home tab."
                    }
                };
                Ok(Reply::FormErrors(vec![("code", problem.to_string())]))
            }
            Interaction::Ignored => Ok(Reply::Done),
        }
    }

    async fn said_no(&self, record: AlertRecord, chat_user: &str) -> Result<Reply> {
        self.escalate(
            record,
            chat_user,
            EscalationReason::Denied,
            None,
            Answered::Denied,
            ANSWERABLE,
        )
        .await?;
        Ok(Reply::Done)
    }

    async fn said_yes(&self, record: AlertRecord, trigger: &str) -> Result<Reply> {
        if !ANSWERABLE.contains(&record.status) {
            return Ok(Reply::Done);
        }
        let settings = self.rules.settings_for(&record.alert.rule);
        let user = record.user.clone().unwrap_or_default();
        if settings.require_second_factor && !self.second_factor.can_verify(&user).await? {
            // Never a silent pass and never a snooze: the team hears of an unverified yes.
            let chat_user = record.chat_user.clone().unwrap_or_default();
            self.escalate(
                record,
                &chat_user,
                EscalationReason::UnverifiedYes,
                None,
                Answered::NotEnrolled,
                ANSWERABLE,
            )
            .await?;
            return Ok(Reply::Done);
        }
        let form = AnswerForm {
            alert_id: record.id.clone(),
            title: record.alert.title.clone(),
            needs_code: settings.require_second_factor,
            snooze_choices: snooze_choices(settings.snooze_max_minutes),
        };
        // The trigger expires in 3 seconds: open the form first, record the answer after.
        self.chat.open_answer_form(trigger, &form).await?;
        let actor = format!("chat:{}", record.chat_user.as_deref().unwrap_or("?"));
        let transition = Transition::new(
            WAITING,
            Status::AwaitingSecondFactor,
            self.clock.now(),
            actor,
            "said yes; form opened",
        )
        // No reminder once they have said yes; the deadline still stands for the code.
        .with(Changes {
            due_at: record.deadline_at.map(Some),
            ..Changes::default()
        });
        self.alerts.transition(&record.id, &transition).await?;
        Ok(Reply::Done)
    }

    async fn submitted(
        &self,
        record: AlertRecord,
        chat_user: &str,
        explanation: String,
        code: Option<String>,
        snooze: Option<u32>,
    ) -> Result<Reply> {
        if record.status != Status::AwaitingSecondFactor {
            return Ok(Reply::Done);
        }
        if explanation.is_empty() {
            return Ok(Reply::FormErrors(vec![(
                "explanation",
                "Please tell us briefly what you were doing.".into(),
            )]));
        }
        let settings = self.rules.settings_for(&record.alert.rule);
        let user = record.user.clone().unwrap_or_default();
        let now = self.clock.now();
        if settings.require_second_factor {
            let code = code.unwrap_or_default();
            let failure = match self.second_factor.verify(&user, &code, now).await? {
                Verification::Valid => None,
                Verification::ValidFirstCode => {
                    // Every enrollment is announced, so a stolen session enrolling is noticed.
                    let note = messages::enrolled(&user, chat_user);
                    self.chat
                        .send_to_channel(&self.security_channel, &note)
                        .await?;
                    None
                }
                Verification::NotEnrolled => {
                    self.escalate(
                        record,
                        chat_user,
                        EscalationReason::UnverifiedYes,
                        Some(explanation),
                        Answered::NotEnrolled,
                        &[Status::AwaitingSecondFactor],
                    )
                    .await?;
                    return Ok(Reply::Done);
                }
                Verification::LockedOut => Some(u32::MAX),
                Verification::Invalid | Verification::Replayed => {
                    Some(self.alerts.count_wrong_code(&record.id).await?)
                }
            };
            if let Some(failures) = failure {
                if failures >= self.max_code_attempts {
                    tracing::warn!(alert_id = %record.id, "second factor failed too often; escalating");
                    self.escalate(
                        record,
                        chat_user,
                        EscalationReason::SecondFactorFailed,
                        Some(explanation),
                        Answered::SecondFactorFailed,
                        &[Status::AwaitingSecondFactor],
                    )
                    .await?;
                    return Ok(Reply::Done);
                }
                let left = self.max_code_attempts - failures;
                let message = format!(
                    "That code didn't work. Check your authenticator app and try the current code ({left} attempt{} left).",
                    if left == 1 { "" } else { "s" }
                );
                return Ok(Reply::FormErrors(vec![("code", message)]));
            }
        }
        let minutes = snooze.unwrap_or(0).min(settings.snooze_max_minutes);
        let snoozed_until = (minutes > 0).then(|| now + Duration::minutes(minutes.into()));
        let transition = Transition::new(
            &[Status::AwaitingSecondFactor],
            Status::Confirmed,
            now,
            format!("chat:{chat_user}"),
            "confirmed with a verified yes",
        )
        .with(Changes {
            explanation: Some(explanation),
            due_at: Some(None),
            ..Changes::default()
        });
        let Some(confirmed) = self.alerts.transition(&record.id, &transition).await? else {
            return Ok(Reply::Done);
        };
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
            self.chat
                .update(
                    at,
                    &messages::answered(&confirmed, Answered::Confirmed { snoozed_until }),
                )
                .await?;
        }
        tracing::info!(alert_id = %confirmed.id, snoozed_minutes = minutes, "confirmed");
        Ok(Reply::Done)
    }

    /// Moves the alert to the team, tells the person kindly, and queues the team post. If the
    /// move already happened (a retry), makes sure the post is still queued.
    async fn escalate(
        &self,
        record: AlertRecord,
        chat_user: &str,
        reason: EscalationReason,
        explanation: Option<String>,
        told: Answered,
        from: &[Status],
    ) -> Result<()> {
        let transition = Transition::new(
            from,
            Status::Escalated,
            self.clock.now(),
            format!("chat:{chat_user}"),
            format!("escalated: {reason}"),
        )
        .with(Changes {
            escalation_reason: Some(reason),
            explanation,
            due_at: Some(None),
            ..Changes::default()
        });
        match self.alerts.transition(&record.id, &transition).await? {
            Some(escalated) => {
                self.queue
                    .send(&WorkItem::new(Action::Escalate, escalated.id.clone()))
                    .await?;
                if let Some(at) = &escalated.ask_message {
                    self.chat
                        .update(at, &messages::answered(&escalated, told))
                        .await?;
                }
                tracing::info!(alert_id = %escalated.id, %reason, "escalated by the person's answer");
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

    async fn team_acted(
        &self,
        record: AlertRecord,
        chat_user: &str,
        from: &[Status],
        to: Status,
        verb: &str,
    ) -> Result<Reply> {
        let transition = Transition::new(
            from,
            to,
            self.clock.now(),
            format!("chat:{chat_user}"),
            verb.to_string(),
        );
        if let Some(updated) = self.alerts.transition(&record.id, &transition).await?
            && let Some(at) = &updated.escalation_message
        {
            self.chat
                .update(at, &messages::escalation_closed(&updated, chat_user, verb))
                .await?;
        }
        Ok(Reply::Done)
    }
}

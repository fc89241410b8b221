//! Acting on clicks and forms: the person's Yes / No, the Yes form with its second factor, and
//! the security team's buttons (enrollment from the Home tab is in [`super::enrollment`]).
//! Every change is a conditional transition, so a double click or a chat platform's retry
//! finds the alert already moved and does nothing more.

use super::outcome::{Escalation, Outcome, VerifiedYes};
use crate::core::enrollment::{Approval, NotVouched, vouches_for};
use crate::core::interaction::{Interaction, Reply};
use crate::core::messages::{self, Answered, ButtonAction};
use crate::core::metrics::{Metric, seconds_between};
use crate::core::record::AlertRecord;
use crate::core::rules::RuleBook;
use crate::core::snooze::snooze_choices;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, WorkItem};
use crate::error::Result;
use crate::ports::{
    AlertStore, AnswerForm, Chat, Clock, Metrics, SecondFactor, SnoozeStore, Verification,
    WorkQueue,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct Answers {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub chat: Arc<dyn Chat>,
    pub second_factor: Arc<dyn SecondFactor>,
    /// A Yes is proven by a push to the person's phone (Duo) instead of a code: the form asks
    /// only for the explanation, and the push is sent and watched on the work queue
    /// ([`super::push`]), so this function never talks to the push provider.
    pub proof_by_push: bool,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    /// Chat ids of the security team: only they may use the team buttons.
    pub team: Vec<String>,
    /// Wrong codes allowed per alert before it escalates.
    pub max_code_attempts: u32,
    /// Where enrollments are announced.
    pub security_channel: String,
    /// How self-service enrollments are vouched for.
    pub approval: Approval,
    pub metrics: Arc<dyn Metrics>,
}

/// What the person wrote in the Yes form.
struct YesForm {
    explanation: String,
    code: Option<String>,
    snooze_minutes: Option<u32>,
}

/// The second factor's verdict on a submitted Yes.
enum CodeCheck {
    Passed,
    /// The alert went to the team (or the form stays open with an error): this is the reply.
    Stop(Reply),
}

fn form_error(field: &'static str, message: impl Into<String>) -> Reply {
    Reply::FormErrors(vec![(field, message.into())])
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
                if !self.may_press(action, &record, &chat_user) {
                    tracing::warn!(%alert_id, chat_user, action = action.id(), "someone else clicked; nothing changes");
                    if let Some(channel) = channel {
                        self.chat
                            .whisper(&channel, &chat_user, messages::NOT_YOURS)
                            .await?;
                    }
                    return Ok(Reply::Done);
                }
                self.clicked(action, record, &chat_user, &trigger).await
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
                    return Ok(form_error("explanation", messages::NOT_YOURS));
                }
                let form = YesForm {
                    explanation,
                    code,
                    snooze_minutes,
                };
                self.submitted(record, &chat_user, form).await
            }
            Interaction::HomeOpened { chat_user } => self.home_opened(&chat_user).await,
            Interaction::StartEnrollment { chat_user, trigger } => {
                self.start_enrollment(&chat_user, &trigger).await
            }
            Interaction::SubmittedEnrollment { chat_user, code } => {
                self.enrollment_code(&chat_user, &code).await
            }
            Interaction::Vouched {
                approve,
                user,
                chat_user,
                message,
            } => {
                self.vouched(approve, &user, &chat_user, message.as_ref())
                    .await
            }
            Interaction::Ignored => Ok(Reply::Done),
        }
    }

    /// The person's buttons are theirs alone; the team's buttons are the team's.
    fn may_press(&self, action: ButtonAction, record: &AlertRecord, chat_user: &str) -> bool {
        match action {
            ButtonAction::TeamAcknowledge
            | ButtonAction::TeamResolve
            | ButtonAction::ApproveEnrollment
            | ButtonAction::RejectEnrollment => self.is_team(chat_user),
            ButtonAction::AnswerYes | ButtonAction::AnswerNo => {
                record.chat_user.as_deref() == Some(chat_user)
            }
        }
    }

    pub(super) fn is_team(&self, chat_user: &str) -> bool {
        self.team.iter().any(|member| member == chat_user)
    }

    /// Whether `chat_user` may decide as the team about `user` (email): never about
    /// themselves, and not when the chat platform will not say who they are (fail closed).
    pub(super) async fn may_decide_about(
        &self,
        chat_user: &str,
        user: Option<&str>,
    ) -> Result<bool> {
        let Some(email) = self.chat.email_of(chat_user).await? else {
            return Ok(false);
        };
        Ok(user != Some(email.as_str()))
    }

    async fn clicked(
        &self,
        action: ButtonAction,
        record: AlertRecord,
        chat_user: &str,
        trigger: &str,
    ) -> Result<Reply> {
        match action {
            ButtonAction::AnswerNo => {
                if record.status.is_waiting_for_person() {
                    self.count_answer(&record, "no");
                }
                let no = Escalation::by_person(EscalationReason::Denied, Answered::Denied);
                self.escalate(record, chat_user, no, Status::WAITING_FOR_PERSON)
                    .await?;
                Ok(Reply::Done)
            }
            ButtonAction::AnswerYes => self.said_yes(record, trigger).await,
            ButtonAction::TeamAcknowledge => {
                let from = [Status::Escalated];
                self.team_acted(
                    record,
                    chat_user,
                    &from,
                    Status::Acknowledged,
                    "acknowledged",
                )
                .await
            }
            ButtonAction::TeamResolve => {
                let from = [Status::Escalated, Status::Acknowledged];
                self.team_acted(
                    record,
                    chat_user,
                    &from,
                    Status::ResolvedBenign,
                    "resolved (benign)",
                )
                .await
            }
            // Enrollment buttons carry a person, not an alert: read as `Vouched`.
            ButtonAction::ApproveEnrollment | ButtonAction::RejectEnrollment => Ok(Reply::Done),
        }
    }

    async fn said_yes(&self, record: AlertRecord, trigger: &str) -> Result<Reply> {
        if !record.status.is_waiting_for_person() {
            return Ok(Reply::Done);
        }
        self.count_answer(&record, "yes");
        let settings = self.rules.settings_for(&record.alert.rule);
        // With a push factor the provider vouches for the person: it is asked when the push
        // is sent (off this request, which Slack gives 3 seconds).
        if settings.require_second_factor
            && !self.proof_by_push
            && let Err(unverified) = self.vouched_for(&record).await?
        {
            self.count_second_factor("not_vouched");
            // Never a silent pass and never a snooze: the team hears of an unverified yes.
            let chat_user = record.chat_user.clone().unwrap_or_default();
            self.escalate(record, &chat_user, unverified, Status::WAITING_FOR_PERSON)
                .await?;
            return Ok(Reply::Done);
        }
        let form = AnswerForm {
            alert_id: record.id.clone(),
            title: record.alert.title.clone(),
            needs_code: settings.require_second_factor && !self.proof_by_push,
            push_follows: settings.require_second_factor && self.proof_by_push,
            snooze_choices: snooze_choices(settings.snooze_max_minutes),
        };
        // The trigger expires in 3 seconds: open the form first, record the answer after.
        self.chat.open_answer_form(trigger, &form).await?;
        let actor = format!("chat:{}", record.chat_user.as_deref().unwrap_or("?"));
        let transition = Transition::new(
            Status::UNANSWERED,
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
        form: YesForm,
    ) -> Result<Reply> {
        let settings = self.rules.settings_for(&record.alert.rule);
        let pushing = settings.require_second_factor && self.proof_by_push;
        if pushing && record.status == Status::AwaitingPush && record.push.is_none() {
            // Submitted again before the push went out: its work item may have been lost.
            self.queue
                .send(&WorkItem::new(Action::Push, record.id.clone()))
                .await?;
            return Ok(Reply::Done);
        }
        if record.status != Status::AwaitingSecondFactor {
            return Ok(Reply::Done);
        }
        if form.explanation.is_empty() {
            return Ok(form_error("explanation", messages::EXPLANATION_NEEDED));
        }
        if pushing {
            return self.push_follows(record, chat_user, form).await;
        }
        let now = self.clock.now();
        if settings.require_second_factor
            && let CodeCheck::Stop(reply) = self.check_code(&record, chat_user, &form, now).await?
        {
            return Ok(reply);
        }
        let yes = VerifiedYes {
            actor: format!("chat:{chat_user}"),
            note: "confirmed with a verified yes",
            explanation: Some(form.explanation),
            snooze_minutes: form.snooze_minutes.unwrap_or(0),
        };
        self.outcome()
            .confirm(&record, &[Status::AwaitingSecondFactor], yes, &settings)
            .await?;
        Ok(Reply::Done)
    }

    /// Whether the person's enrollment vouches for a Yes to this alert; if not, the escalation
    /// that says why.
    async fn vouched_for(
        &self,
        record: &AlertRecord,
    ) -> Result<std::result::Result<(), Escalation>> {
        let user = record.user.clone().unwrap_or_default();
        let enrollment = self.second_factor.enrollment(&user).await?;
        let told = if enrollment.is_some() {
            Answered::NotYetVouched
        } else {
            Answered::NotEnrolled
        };
        Ok(
            vouches_for(enrollment.as_ref(), record.received_at, self.clock.now())
                .map_err(|not| Escalation::unverified(not, told)),
        )
    }

    /// A Yes whose proof is a push: the explanation and snooze choice are stored with the
    /// move to `awaiting_push`, and the work queue sends the push and watches it
    /// ([`super::push`]). Each push takes one of the alert's attempts first, so pressing Yes
    /// again after an expired push cannot push without end.
    async fn push_follows(
        &self,
        record: AlertRecord,
        chat_user: &str,
        form: YesForm,
    ) -> Result<Reply> {
        if self
            .alerts
            .reserve_code_attempt(&record.id, self.max_code_attempts)
            .await?
            .is_none()
        {
            tracing::warn!(alert_id = %record.id, "push attempts used up; escalating");
            let failed = Escalation::by_person(
                EscalationReason::SecondFactorFailed,
                Answered::SecondFactorFailed,
            )
            .because("pushes sent and not approved, as many times as allowed")
            .explained(&form.explanation);
            self.escalate(record, chat_user, failed, &[Status::AwaitingSecondFactor])
                .await?;
            return Ok(Reply::Done);
        }
        let transition = Transition::new(
            &[Status::AwaitingSecondFactor],
            Status::AwaitingPush,
            self.clock.now(),
            format!("chat:{chat_user}"),
            "explained the yes; a push follows",
        )
        .with(Changes {
            explanation: Some(form.explanation),
            snooze_minutes: Some(form.snooze_minutes.unwrap_or(0)),
            clear_push: true,
            ..Changes::default()
        });
        if self
            .alerts
            .transition(&record.id, &transition)
            .await?
            .is_some()
        {
            self.queue
                .send(&WorkItem::new(Action::Push, record.id.clone()))
                .await?;
        }
        Ok(Reply::Done)
    }

    /// Verifies the code of a Yes. Each code first reserves an attempt on the alert (and, in
    /// the second factor, one of the person's), atomically, so codes submitted at once cannot
    /// try more than the limits. A wrong code keeps the form open while attempts are left;
    /// then, or without an enrollment vouched for before the alert, the alert goes to the team.
    async fn check_code(
        &self,
        record: &AlertRecord,
        chat_user: &str,
        form: &YesForm,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck> {
        let escalate = |why: Escalation| async move {
            let why = why.explained(&form.explanation);
            self.escalate(
                record.clone(),
                chat_user,
                why,
                &[Status::AwaitingSecondFactor],
            )
            .await
            .map(|()| CodeCheck::Stop(Reply::Done))
        };
        let failed = Escalation::by_person(
            EscalationReason::SecondFactorFailed,
            Answered::SecondFactorFailed,
        );
        if let Err(unverified) = self.vouched_for(record).await? {
            self.count_second_factor("not_vouched");
            return escalate(unverified).await; // reset or rejected since the Yes
        }
        let Some(attempt) = self
            .alerts
            .reserve_code_attempt(&record.id, self.max_code_attempts)
            .await?
        else {
            tracing::warn!(alert_id = %record.id, "second-factor attempts used up; escalating");
            self.count_second_factor("attempts_used_up");
            return escalate(failed).await;
        };
        let user = record.user.clone().unwrap_or_default();
        let code = form.code.clone().unwrap_or_default();
        let verification = self.second_factor.verify(&user, &code, now).await?;
        self.count_second_factor(verification.name());
        match verification {
            Verification::Valid => Ok(CodeCheck::Passed),
            Verification::NotEnrolled => {
                let not = NotVouched {
                    reason: EscalationReason::UnverifiedYes,
                    detail: "two-factor was reset while the code was entered".into(),
                };
                escalate(Escalation::unverified(not, Answered::NotEnrolled)).await
            }
            Verification::LockedOut => {
                tracing::warn!(alert_id = %record.id, "the person is locked out of codes; escalating");
                escalate(failed).await
            }
            Verification::Invalid | Verification::Replayed if attempt < self.max_code_attempts => {
                let left = self.max_code_attempts - attempt;
                Ok(CodeCheck::Stop(form_error(
                    "code",
                    messages::wrong_code(left),
                )))
            }
            Verification::Invalid | Verification::Replayed => {
                tracing::warn!(alert_id = %record.id, "second factor failed too often; escalating");
                escalate(failed).await
            }
        }
    }

    fn count_answer(&self, record: &AlertRecord, kind: &str) {
        self.metrics.record(Metric::Answered {
            kind,
            seconds_since_ask: record
                .asked_at()
                .map(|at| seconds_between(at, self.clock.now())),
        });
    }

    fn count_second_factor(&self, result: &str) {
        self.metrics.record(Metric::SecondFactor { result });
    }

    /// The ports a Yes's ending needs (see [`Outcome`]).
    fn outcome(&self) -> Outcome<'_> {
        Outcome {
            alerts: &*self.alerts,
            snoozes: &*self.snoozes,
            chat: &*self.chat,
            queue: &*self.queue,
            clock: &*self.clock,
        }
    }

    async fn escalate(
        &self,
        record: AlertRecord,
        chat_user: &str,
        why: Escalation,
        from: &[Status],
    ) -> Result<()> {
        self.outcome()
            .escalate(&record, format!("chat:{chat_user}"), why, from)
            .await
    }

    async fn team_acted(
        &self,
        record: AlertRecord,
        chat_user: &str,
        from: &[Status],
        to: Status,
        verb: &str,
    ) -> Result<Reply> {
        if record.chat_user.as_deref() == Some(chat_user)
            || !self
                .may_decide_about(chat_user, record.user.as_deref())
                .await?
        {
            tracing::warn!(alert_id = %record.id, chat_user, "a team member tried to close an alert about themselves");
            if let Some(at) = &record.escalation_message {
                self.chat
                    .whisper(&at.channel, chat_user, messages::NOT_YOURS_TO_DECIDE)
                    .await?;
            }
            return Ok(Reply::Done);
        }
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

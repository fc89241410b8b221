//! Two-factor enrollment from the chat app's Home tab, and the team vouching for it. A
//! self-service setup shows the seed once, its first code proves the app has it, and then it
//! waits: a team member approves or rejects it from its announcement (or, with `cooling_off`,
//! it becomes active after the announced period). Nobody approves their own. A setup whose
//! first code never came can be started again (the form may have failed to open).

use super::answers::Answers;
use crate::core::enrollment::{Approval, EnrollmentState};
use crate::core::interaction::Reply;
use crate::core::messages;
use crate::core::record::ChatRef;
use crate::core::work::{Announcement, Notice};
use crate::error::Result;
use crate::ports::SetupCheck;

impl Answers {
    pub(super) async fn home_opened(&self, chat_user: &str) -> Result<Reply> {
        let enrolled = match self.chat.email_of(chat_user).await? {
            Some(email) => self
                .second_factor
                .enrollment(&email)
                .await?
                .is_some_and(|e| e.state != EnrollmentState::Setup),
            None => false,
        };
        self.chat.show_home(chat_user, enrolled).await?;
        Ok(Reply::Done)
    }

    pub(super) async fn start_enrollment(&self, chat_user: &str, trigger: &str) -> Result<Reply> {
        let Some(email) = self.chat.email_of(chat_user).await? else {
            tracing::warn!(
                chat_user,
                "enrollment refused: Slack shares no email for this user"
            );
            return Ok(Reply::Done);
        };
        match self
            .second_factor
            .start_setup(&email, self.clock.now())
            .await?
        {
            Some(uri) => self.chat.open_enrollment_form(trigger, &uri).await?,
            // Beyond setup: only an operator's reset allows a new seed.
            None => self.chat.show_home(chat_user, true).await?,
        }
        Ok(Reply::Done)
    }

    /// The setup's first code. Accepted, it is announced to the team (through the queue, so
    /// the announcement cannot be lost) and waits to be vouched for.
    pub(super) async fn enrollment_code(&self, chat_user: &str, code: &str) -> Result<Reply> {
        let Some(email) = self.chat.email_of(chat_user).await? else {
            return Ok(Reply::Done);
        };
        let now = self.clock.now();
        let active_from = self.approval.active_from(now);
        let problem = match self
            .second_factor
            .confirm_setup(&email, code, now, active_from)
            .await?
        {
            SetupCheck::Confirmed => {
                let (notice, detail) = match self.approval {
                    Approval::TeamApproval => (Notice::EnrollmentRequest, None),
                    Approval::CoolingOff { .. } => (
                        Notice::EnrollmentCoolingOff,
                        active_from
                            .map(|at| format!("active from {}", at.format("%Y-%m-%d %H:%M UTC"))),
                    ),
                };
                let mut announcement =
                    Announcement::new(notice, &email, &format!("chat:{chat_user}"), now);
                announcement.detail = detail;
                self.queue.announce(&announcement).await?;
                self.chat.show_home(chat_user, true).await?;
                return Ok(Reply::Done);
            }
            SetupCheck::WrongCode => messages::ENROLLMENT_WRONG_CODE,
            SetupCheck::LockedOut => messages::ENROLLMENT_LOCKED_OUT,
            SetupCheck::NoSetup => messages::ENROLLMENT_RESET,
        };
        Ok(Reply::FormErrors(vec![("code", problem.to_string())]))
    }

    /// Approve / Reject on an enrollment announcement: a team member, never the person.
    pub(super) async fn vouched(
        &self,
        approve: bool,
        user: &str,
        chat_user: &str,
        post: Option<&ChatRef>,
    ) -> Result<Reply> {
        if !self.is_team(chat_user) || !self.may_decide_about(chat_user, Some(user)).await? {
            tracing::warn!(
                user,
                chat_user,
                approve,
                "enrollment decision refused: not the team, or their own"
            );
            if let Some(post) = post {
                let text = if self.is_team(chat_user) {
                    messages::NOT_YOURS_TO_DECIDE
                } else {
                    messages::NOT_YOURS
                };
                self.chat.whisper(&post.channel, chat_user, text).await?;
            }
            return Ok(Reply::Done);
        }
        let now = self.clock.now();
        let by = format!("chat:{chat_user}");
        if !self.second_factor.decide(user, approve, &by, now).await? {
            return Ok(Reply::Done); // decided already (a double click), or reset meanwhile
        }
        let notice = if approve {
            Notice::EnrollmentApproved
        } else {
            Notice::EnrollmentRejected
        };
        self.queue
            .announce(&Announcement::new(notice, user, &by, now))
            .await?;
        tracing::info!(user, approve, by, "enrollment decided");
        if let Some(post) = post {
            let decided = messages::enrollment_decided(user, approve, chat_user, now);
            if let Err(e) = self.chat.update(post, &decided).await {
                // The decision stands and its own announcement is queued; the old post keeps
                // its buttons, which now do nothing.
                tracing::warn!(error = %e, "could not update the enrollment post");
            }
        }
        Ok(Reply::Done)
    }
}

//! Two-factor enrollment from the chat app's Home tab: showing where the person stands,
//! starting enrollment (the seed is shown once), and the first code that completes it. Every
//! completed enrollment is announced to the security team.

use super::answers::Answers;
use crate::core::interaction::Reply;
use crate::core::messages;
use crate::error::Result;
use crate::ports::Verification;

impl Answers {
    pub(super) async fn home_opened(&self, chat_user: &str) -> Result<Reply> {
        let enrolled = match self.chat.email_of(chat_user).await? {
            Some(email) => self.second_factor.can_verify(&email).await?,
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
        match self.second_factor.enroll(&email, self.clock.now()).await? {
            Some(uri) => self.chat.open_enrollment_form(trigger, &uri).await?,
            // Already enrolled (or started): only an operator's reset allows a new seed.
            None => self.chat.show_home(chat_user, true).await?,
        }
        Ok(Reply::Done)
    }

    pub(super) async fn enrollment_code(&self, chat_user: &str, code: &str) -> Result<Reply> {
        let Some(email) = self.chat.email_of(chat_user).await? else {
            return Ok(Reply::Done);
        };
        let problem = match self
            .second_factor
            .verify(&email, code, self.clock.now())
            .await?
        {
            Verification::ValidFirstCode => {
                self.chat
                    .send_to_channel(
                        &self.security_channel,
                        &messages::enrolled(&email, chat_user),
                    )
                    .await?;
                self.chat.show_home(chat_user, true).await?;
                return Ok(Reply::Done);
            }
            Verification::Valid => return Ok(Reply::Done),
            Verification::Invalid | Verification::Replayed => messages::ENROLLMENT_WRONG_CODE,
            Verification::LockedOut => messages::ENROLLMENT_LOCKED_OUT,
            Verification::NotEnrolled => messages::ENROLLMENT_RESET,
        };
        Ok(Reply::FormErrors(vec![("code", problem.to_string())]))
    }
}

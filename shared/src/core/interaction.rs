//! What people do in chat, platform-neutral: the chat adapter reads a request into an
//! [`Inbound`], the conversation acts on the [`Interaction`], and the adapter renders the [`Reply`].

use super::alert::AlertId;
use super::messages::ButtonAction;
use super::record::ChatRef;

/// What the chat platform sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A handshake to echo (Slack's Events API `url_verification`).
    Challenge(String),
    Interaction(Interaction),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// A button in one of our messages.
    Clicked {
        action: ButtonAction,
        alert_id: AlertId,
        chat_user: String,
        trigger: String,
        channel: Option<String>,
    },
    /// The Yes form, submitted.
    Submitted {
        alert_id: AlertId,
        chat_user: String,
        explanation: String,
        code: Option<String>,
        snooze_minutes: Option<u32>,
    },
    /// The person opened the bot's Home tab: show where they stand with two-factor.
    HomeOpened { chat_user: String },
    /// "Set up two-factor" on the Home tab.
    StartEnrollment { chat_user: String, trigger: String },
    /// The enrollment form, submitted with the first code.
    SubmittedEnrollment { chat_user: String, code: String },
    /// Approve or Reject on an enrollment request in the security channel.
    Vouched {
        approve: bool,
        /// The person whose enrollment it is (email).
        user: String,
        chat_user: String,
        /// The post clicked, to update it.
        message: Option<ChatRef>,
    },
    /// Something we do not act on (a form closed, another app's view...).
    Ignored,
}

/// What the chat platform is told, within its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Done (closes a submitted form).
    Done,
    /// Keep the form open and show these messages under these fields ("code", "explanation").
    FormErrors(Vec<(&'static str, String)>),
}

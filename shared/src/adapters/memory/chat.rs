//! A chat twin that records every call and can be told to fail like Slack does: an outage
//! (retryable), a rate limit with its delay, a broken token (permanent), or a person who
//! cannot be reached.

use crate::core::messages::Message;
use crate::core::record::ChatRef;
use crate::error::{Error, Result};
use crate::ports::{AnswerForm, Chat, ChatCheck, ChatContact, Delivery};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One call, as a test wants to check it.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatCall {
    Direct { to: String, message: Message },
    Channel { to: String, message: Message },
    Reply { to: ChatRef, message: Message },
    Update { at: ChatRef, message: Message },
    AnswerForm(AnswerForm),
    Whisper { to: String, text: String },
    Home { to: String, enrolled: bool },
    EnrollmentForm,
}

/// How the next sends fail, until [`MemoryChat::heal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Outage,
    RateLimited(u64),
    /// `invalid_auth`: our token is wrong.
    BrokenToken,
}

#[derive(Default)]
pub struct MemoryChat {
    /// email -> chat id of everyone in the workspace.
    pub people: Mutex<HashMap<String, String>>,
    /// Chat ids that exist but cannot get a DM (deactivated).
    pub unreachable: Mutex<HashSet<String>>,
    pub calls: Mutex<Vec<ChatCall>>,
    /// Message updates fail (an outage that hits only `chat.update`).
    pub fail_updates: std::sync::atomic::AtomicBool,
    fault: Mutex<Option<Fault>>,
    ts: AtomicU64,
    /// When set, every DM and channel post takes this long (to see sends overlap).
    pub send_time: Mutex<Option<std::time::Duration>>,
    in_flight: AtomicUsize,
    /// The most DMs and posts ever in flight at once.
    pub most_in_flight: AtomicUsize,
}

impl MemoryChat {
    pub fn with_people(people: &[(&str, &str)]) -> Self {
        let chat = MemoryChat::default();
        chat.people.lock().unwrap().extend(
            people
                .iter()
                .map(|(email, id)| (email.to_string(), id.to_string())),
        );
        chat
    }

    /// A send's time on the wire ([`MemoryChat::send_time`]), counted while in flight.
    async fn take_time(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let send_time = *self.send_time.lock().unwrap();
        if let Some(time) = send_time {
            tokio::time::sleep(time).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn fail(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Some(fault);
    }

    pub fn heal(&self) {
        *self.fault.lock().unwrap() = None;
    }

    pub fn calls(&self) -> Vec<ChatCall> {
        self.calls.lock().unwrap().clone()
    }

    /// Posts to channels (not DMs, replies or updates).
    pub fn channel_posts(&self) -> Vec<Message> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                ChatCall::Channel { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    }

    pub fn directs(&self) -> Vec<Message> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                ChatCall::Direct { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    }

    /// Fails if told to; otherwise records the call and returns a fresh message ref.
    fn record(&self, call: ChatCall, channel: &str) -> Result<ChatRef> {
        if let Some(fault) = *self.fault.lock().unwrap() {
            return Err(match fault {
                Fault::Outage => Error::transient("slack", "chat.postMessage: service_unavailable"),
                Fault::RateLimited(secs) => Error::RateLimited {
                    service: "slack",
                    retry_after_secs: secs,
                },
                Fault::BrokenToken => Error::permanent("slack", "chat.postMessage: invalid_auth"),
            });
        }
        self.calls.lock().unwrap().push(call);
        Ok(ChatRef {
            channel: channel.to_string(),
            ts: format!("1800000000.{:06}", self.ts.fetch_add(1, Ordering::SeqCst)),
        })
    }
}

#[async_trait]
impl Chat for MemoryChat {
    async fn find_person(&self, email: &str) -> Result<Option<String>> {
        Ok(self.people.lock().unwrap().get(email).cloned())
    }

    async fn send_direct(&self, to: &ChatContact, message: &Message) -> Result<Delivery> {
        self.take_time().await;
        let chat_user = to.id.as_str();
        if self.unreachable.lock().unwrap().contains(chat_user) {
            return Ok(Delivery::Unreachable("user_disabled".into()));
        }
        let call = ChatCall::Direct {
            to: chat_user.to_string(),
            message: message.clone(),
        };
        self.record(call, &format!("D{chat_user}"))
            .map(Delivery::Posted)
    }

    async fn send_to_channel(&self, channel: &str, message: &Message) -> Result<ChatRef> {
        self.take_time().await;
        let call = ChatCall::Channel {
            to: channel.to_string(),
            message: message.clone(),
        };
        self.record(call, channel)
    }

    async fn update(&self, at: &ChatRef, message: &Message) -> Result<()> {
        if self.fail_updates.load(Ordering::SeqCst) {
            return Err(Error::transient(
                "slack",
                "chat.update: service_unavailable",
            ));
        }
        let call = ChatCall::Update {
            at: at.clone(),
            message: message.clone(),
        };
        self.record(call, &at.channel).map(|_| ())
    }

    async fn send_reply(&self, to: &ChatRef, message: &Message) -> Result<ChatRef> {
        let call = ChatCall::Reply {
            to: to.clone(),
            message: message.clone(),
        };
        self.record(call, &to.channel)
    }

    async fn open_answer_form(&self, _trigger: &str, form: &AnswerForm) -> Result<()> {
        self.record(ChatCall::AnswerForm(form.clone()), "")
            .map(|_| ())
    }

    async fn whisper(&self, channel: &str, chat_user: &str, text: &str) -> Result<()> {
        let call = ChatCall::Whisper {
            to: chat_user.to_string(),
            text: text.to_string(),
        };
        self.record(call, channel).map(|_| ())
    }

    async fn email_of(&self, chat_user: &str) -> Result<Option<String>> {
        let people = self.people.lock().unwrap();
        Ok(people
            .iter()
            .find(|(_, id)| id.as_str() == chat_user)
            .map(|(email, _)| email.clone()))
    }

    async fn show_home(&self, chat_user: &str, enrolled: bool) -> Result<()> {
        let call = ChatCall::Home {
            to: chat_user.to_string(),
            enrolled,
        };
        self.record(call, "").map(|_| ())
    }

    async fn open_enrollment_form(&self, _trigger: &str, _otpauth_uri: &str) -> Result<()> {
        self.record(ChatCall::EnrollmentForm, "").map(|_| ())
    }

    async fn check(&self, _security_channel: &str, _team: &[String]) -> Result<ChatCheck> {
        Ok(ChatCheck {
            connected_as: Some("the in-memory chat".into()),
            ..ChatCheck::default()
        })
    }
}

//! Slack: the Web API over reqwest (the [`Chat`] port), Block Kit rendering, and parsing and
//! verifying the interactivity requests Slack sends us.
//!
//! Slack answers most errors as HTTP 200 with `{"ok": false, "error": "..."}` and rate limits
//! with HTTP 429 and `Retry-After`; both become our [`Error`] kinds so callers know whether to
//! retry, and when.

mod blocks;
mod check;
pub mod interaction;
mod pacing;

use crate::core::messages::Message;
use crate::core::metrics::Metric;
use crate::core::record::ChatRef;
use crate::error::{Error, Result};
use crate::ports::{AnswerForm, Chat, ChatCheck, ChatContact, Delivery, Metrics, SecretStore};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_API_URL: &str = "https://slack.com/api/";

/// Where an answer keeps the token's scopes Slack sent as the `x-oauth-scopes` header.
const SCOPES: &str = "_securitybot_scopes";

/// Slack error codes worth retrying.
const TRANSIENT: &[&str] = &[
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

/// Slack error codes that mean this person cannot get a DM (gone, deactivated, DMs closed):
/// the alert goes to the team instead. Anything else (a bad token, a missing scope) is ours
/// to fix, and must not quietly send every alert to the team.
const UNREACHABLE: &[&str] = &[
    "user_not_found",
    "user_not_visible",
    "user_disabled",
    "account_inactive_user",
    "cannot_dm_bot",
    "channel_not_found",
    "is_archived",
    "messages_tab_disabled",
];

/// Slack error codes that refuse our token itself.
const TOKEN_REFUSED: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
];

/// The Slack error code in one of our errors (`"<method>: <code>"`), if it is a refusal.
fn refusal_code(error: &Error) -> Option<&str> {
    match error {
        Error::Permanent { message, .. } => message.rsplit(": ").next(),
        _ => None,
    }
}

pub struct SlackChat {
    http: reqwest::Client,
    base_url: String,
    secrets: Arc<dyn SecretStore>,
    pacer: std::sync::Mutex<pacing::Pacer>,
    metrics: Option<Arc<dyn Metrics>>,
}

impl SlackChat {
    /// `base_url` is `SLACK_API_URL` (default [`DEFAULT_API_URL`]), so tests can use a stand-in.
    pub fn new(base_url: &str, secrets: Arc<dyn SecretStore>) -> Self {
        let http = crate::adapters::http::client(Duration::from_secs(5));
        let base_url = if base_url.ends_with('/') {
            base_url.to_string()
        } else {
            format!("{base_url}/")
        };
        SlackChat {
            http,
            base_url,
            secrets,
            pacer: Default::default(),
            metrics: None,
        }
    }

    /// Counts every Web API call, and Slack's 429s, for the dashboard.
    pub fn counted_by(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Calls the Web API with the cached token; when Slack refuses the token itself, reads the
    /// secret again (rate-limited) and, if the token changed (rotated, or fixed after a bad
    /// deploy), tries once more: a fix in Secrets Manager works without recycling containers.
    async fn call(&self, method: &str, body: Body) -> Result<Value> {
        let cached = self.token(false).await?;
        match self.call_with(&cached, method, body.clone()).await {
            Err(e) if refusal_code(&e).is_some_and(|code| TOKEN_REFUSED.contains(&code)) => {
                let fresh = self.token(true).await?;
                if fresh == cached {
                    return Err(e);
                }
                tracing::warn!(
                    method,
                    "Slack refused the cached token; using the one just read"
                );
                self.call_with(&fresh, method, body).await
            }
            other => other,
        }
    }

    async fn token(&self, fresh: bool) -> Result<crate::core::secrets::SecretString> {
        let secrets = if fresh {
            self.secrets.refresh().await?
        } else {
            self.secrets.get().await?
        };
        Ok(secrets
            .require(&secrets.slack_bot_token, "slack_bot_token")?
            .clone())
    }

    async fn call_with(
        &self,
        token: &crate::core::secrets::SecretString,
        method: &str,
        body: Body,
    ) -> Result<Value> {
        let answer = self.request(token, method, body).await;
        if let Some(metrics) = &self.metrics {
            metrics.record(Metric::SlackCall {
                method,
                rate_limited: matches!(answer, Err(Error::RateLimited { .. })),
            });
        }
        answer
    }

    async fn request(
        &self,
        token: &crate::core::secrets::SecretString,
        method: &str,
        body: Body,
    ) -> Result<Value> {
        let request = self
            .http
            .post(format!("{}{method}", self.base_url))
            .bearer_auth(token.expose());
        let request = match body {
            Body::Json(json) => request.json(&json),
            Body::Form(pairs) => request.form(&pairs),
        };
        // reqwest's error text names the URL, never the token.
        let response = request
            .send()
            .await
            .map_err(|e| Error::transient("slack", format!("{method}: {}", e.without_url())))?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after_secs = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(30);
            return Err(Error::RateLimited {
                service: "slack",
                retry_after_secs,
            });
        }
        if status.is_server_error() {
            return Err(Error::transient(
                "slack",
                format!("{method}: HTTP {status}"),
            ));
        }
        // Slack names the token's scopes in a header; only the check (auth.test) reads them.
        let scopes = (method == "auth.test")
            .then(|| response.headers().get("x-oauth-scopes")?.to_str().ok())
            .flatten()
            .map(str::to_string);
        let mut body: Value = response.json().await.map_err(|e| {
            Error::transient(
                "slack",
                format!("{method}: unreadable answer: {}", e.without_url()),
            )
        })?;
        if body["ok"].as_bool() == Some(true) {
            if let Some(scopes) = scopes.filter(|_| body.is_object()) {
                body[SCOPES] = Value::String(scopes);
            }
            return Ok(body);
        }
        let code = body["error"]
            .as_str()
            .unwrap_or("unknown_error")
            .to_string();
        Err(if code == "ratelimited" {
            Error::RateLimited {
                service: "slack",
                retry_after_secs: 30,
            }
        } else if TRANSIENT.contains(&code.as_str()) {
            Error::transient("slack", format!("{method}: {code}"))
        } else {
            Error::permanent("slack", format!("{method}: {code}"))
        })
    }

    /// Opens (or finds) the DM channel with a person. Called only for someone whose channel
    /// is not remembered with them yet: the caller keeps it from the posted message.
    async fn open_dm(&self, chat_user: &str) -> Result<String> {
        let answer = self
            .call(
                "conversations.open",
                Body::Json(json!({ "users": chat_user })),
            )
            .await?;
        answer["channel"]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::permanent("slack", "conversations.open: no channel id"))
    }

    async fn post(&self, channel: &str, message: &Message) -> Result<ChatRef> {
        let body = json!({ "channel": channel, "text": blocks::fallback_text(message), "blocks": blocks::render(message), "unfurl_links": false });
        let answer = self.call("chat.postMessage", Body::Json(body)).await?;
        Ok(ChatRef {
            channel: answer["channel"].as_str().unwrap_or(channel).to_string(),
            ts: answer["ts"]
                .as_str()
                .ok_or_else(|| Error::permanent("slack", "chat.postMessage: no ts in the answer"))?
                .to_string(),
        })
    }
}

#[derive(Clone)]
enum Body {
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

#[async_trait]
impl Chat for SlackChat {
    async fn find_person(&self, email: &str) -> Result<Option<String>> {
        match self
            .call(
                "users.lookupByEmail",
                Body::Form(vec![("email", email.to_string())]),
            )
            .await
        {
            Ok(answer) => Ok(answer["user"]["id"].as_str().map(str::to_string)),
            Err(e) if refusal_code(&e) == Some("users_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn send_direct(&self, to: &ChatContact, message: &Message) -> Result<Delivery> {
        let sent = async {
            let Some(known) = &to.direct else {
                let channel = self.open_dm(&to.id).await?;
                return self.post(&channel, message).await;
            };
            match self.post(known, message).await {
                // The remembered channel went away (archived, say): open it again.
                Err(e) if refusal_code(&e) == Some("channel_not_found") => {
                    let channel = self.open_dm(&to.id).await?;
                    self.post(&channel, message).await
                }
                other => other,
            }
        };
        match sent.await {
            Ok(posted) => Ok(Delivery::Posted(posted)),
            Err(e) if refusal_code(&e).is_some_and(|code| UNREACHABLE.contains(&code)) => {
                Ok(Delivery::Unreachable(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    async fn send_reply(&self, to: &ChatRef, message: &Message) -> Result<ChatRef> {
        let body = json!({ "channel": to.channel, "thread_ts": to.ts, "text": blocks::fallback_text(message), "blocks": blocks::render(message) });
        let answer = self.call("chat.postMessage", Body::Json(body)).await?;
        Ok(ChatRef {
            channel: to.channel.clone(),
            ts: answer["ts"].as_str().unwrap_or_default().to_string(),
        })
    }

    async fn send_to_channel(&self, channel: &str, message: &Message) -> Result<ChatRef> {
        let wait = self
            .pacer
            .lock()
            .expect("pacer lock")
            .wait(channel, std::time::Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.post(channel, message).await
    }

    async fn update(&self, at: &ChatRef, message: &Message) -> Result<()> {
        let body = json!({ "channel": at.channel, "ts": at.ts, "text": blocks::fallback_text(message), "blocks": blocks::render(message) });
        self.call("chat.update", Body::Json(body)).await.map(|_| ())
    }

    async fn open_answer_form(&self, trigger: &str, form: &AnswerForm) -> Result<()> {
        let body = json!({ "trigger_id": trigger, "view": blocks::answer_form(form) });
        self.call("views.open", Body::Json(body)).await.map(|_| ())
    }

    async fn whisper(&self, channel: &str, chat_user: &str, text: &str) -> Result<()> {
        let body = json!({ "channel": channel, "user": chat_user, "text": text });
        self.call("chat.postEphemeral", Body::Json(body))
            .await
            .map(|_| ())
    }

    async fn email_of(&self, chat_user: &str) -> Result<Option<String>> {
        let answer = match self
            .call(
                "users.info",
                Body::Form(vec![("user", chat_user.to_string())]),
            )
            .await
        {
            Ok(answer) => answer,
            Err(e) if refusal_code(&e) == Some("user_not_found") => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(answer["user"]["profile"]["email"]
            .as_str()
            .map(str::to_lowercase))
    }

    async fn show_home(&self, chat_user: &str, enrolled: bool) -> Result<()> {
        let body = json!({ "user_id": chat_user, "view": blocks::home(enrolled) });
        self.call("views.publish", Body::Json(body))
            .await
            .map(|_| ())
    }

    async fn open_enrollment_form(&self, trigger: &str, otpauth_uri: &str) -> Result<()> {
        let body = json!({ "trigger_id": trigger, "view": blocks::enrollment_form(otpauth_uri) });
        self.call("views.open", Body::Json(body)).await.map(|_| ())
    }

    async fn check(&self, security_channel: &str, team: &[String]) -> Result<ChatCheck> {
        check::run(self, security_channel, team).await
    }
}

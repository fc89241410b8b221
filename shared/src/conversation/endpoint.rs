//! The interaction endpoint, end to end, independent of Lambda (the webhook's twin): method,
//! the chat platform's signature, reading the request, acting on it, answering within the
//! platform's deadline. Every refusal is a specific status with a JSON body naming the problem,
//! and happens before anything changes.

use super::answers::Answers;
use crate::core::http::{Reply, Request};
use crate::core::interaction::Inbound;
use crate::ports::{ChatRequests, Clock, SecretStore, Unverified};
use serde_json::json;
use std::sync::Arc;

pub struct InteractionEndpoint {
    pub answers: Answers,
    pub chat: Arc<dyn ChatRequests>,
    pub secrets: Arc<dyn SecretStore>,
    pub clock: Arc<dyn Clock>,
}

impl InteractionEndpoint {
    pub async fn receive(&self, req: Request<'_>) -> Reply {
        if !req.method.eq_ignore_ascii_case("POST") {
            return Reply::error(
                405,
                "method_not_allowed",
                "Slack posts interactions; only POST is accepted",
            );
        }
        if let Err(refused) = self.verify(&req).await {
            return refused;
        }
        let interaction = match self.chat.read(req.body) {
            Ok(Inbound::Challenge(challenge)) => {
                return Reply::json(200, json!({ "challenge": challenge }));
            }
            Ok(Inbound::Interaction(interaction)) => interaction,
            Err(problem) => return Reply::error(400, "bad_request", &problem),
        };
        match self.answers.handle(interaction).await {
            Ok(reply) => Reply {
                status: 200,
                body: self.chat.reply_body(&reply),
            },
            Err(error) => {
                tracing::error!(error = %error, retryable = error.is_retryable(), "interaction failed");
                Reply::error(
                    500,
                    "internal",
                    "Securitybot could not record that; please try again",
                )
            }
        }
    }

    /// Checks the signature against the cached signing secret and, only when it does not match
    /// (or none is configured yet), once more against a freshly read one (rate-limited), so a
    /// rotated secret works at once and malformed requests never reach Secrets Manager.
    async fn verify(&self, req: &Request<'_>) -> Result<(), Reply> {
        let now = self.clock.now();
        let check = |secrets: &crate::core::secrets::Secrets| {
            self.chat.verify(secrets, req.headers, req.body, now)
        };
        let cached = self.secrets.get().await.map_err(unavailable)?;
        let outcome = match check(&cached) {
            Err(Unverified::Mismatch | Unverified::NotConfigured) => {
                check(&*self.secrets.refresh().await.map_err(unavailable)?)
            }
            outcome => outcome,
        };
        outcome.map_err(|reason| {
            tracing::warn!(
                reason = reason.message(),
                source_ip = req.source_ip.unwrap_or("unknown"),
                "interaction refused: not signed by Slack"
            );
            Reply::error(401, "unauthorized", reason.message())
        })
    }
}

/// The secret could not be read: nothing was done, the platform may try again.
fn unavailable(error: crate::Error) -> Reply {
    tracing::error!(error = %error, retryable = error.is_retryable(), "interaction could not be verified");
    Reply::error(
        503,
        "unavailable",
        "Securitybot could not check this request right now; please try again",
    )
}

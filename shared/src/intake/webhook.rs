//! The webhook, end to end, independent of Lambda: route, size, authenticate, check the
//! content type, parse, admit each alert, answer. Each refusal is a specific status with a JSON
//! body naming the problem, and happens before anything is stored.

use super::admit::{ADMIT_CONCURRENCY, Intake};
use super::auth::{self, AuthFailure};
use super::formats::mapping::SourceMappings;
use super::formats::{self, Entry, Format, ParseContext};
use super::rejection::Rejection;
use crate::core::http::{Reply, Request};
use crate::core::secrets::WebhookKey;
use crate::ports::SecretStore;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::sync::Arc;

/// Limits the operator can tune (environment), with safe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookLimits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    /// How far a signature's timestamp may be from now, either way.
    pub signature_tolerance_seconds: i64,
    /// Alerts of one batch admitted at once ([`ADMIT_CONCURRENCY`]; the bench compares 1).
    pub admit_concurrency: usize,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        WebhookLimits {
            max_body_bytes: 256 * 1024,
            max_batch: 100,
            signature_tolerance_seconds: 300,
            admit_concurrency: ADMIT_CONCURRENCY,
        }
    }
}

impl From<Rejection> for Reply {
    fn from(r: Rejection) -> Self {
        Reply::json(r.status, r.to_json())
    }
}

pub struct Webhook {
    pub intake: Intake,
    pub secrets: Arc<dyn SecretStore>,
    pub sources: SourceMappings,
    pub limits: WebhookLimits,
}

impl Webhook {
    pub async fn receive(&self, req: Request<'_>) -> Reply {
        match self.try_receive(&req).await {
            Ok(reply) => reply,
            Err(rejection) => rejection.into(),
        }
    }

    async fn try_receive(&self, req: &Request<'_>) -> Result<Reply, Rejection> {
        if req.path.trim_end_matches('/') == HEALTH_PATH {
            return health(req);
        }
        let format = Format::from_path(req.path).ok_or_else(|| {
            Rejection::new(404, "not_found", "no such endpoint: POST to /alerts, /alerts/splunk, /alerts/grafana or /alerts/panther")
        })?;
        if !req.method.eq_ignore_ascii_case("POST") {
            return Err(Rejection::new(
                405,
                "method_not_allowed",
                "only POST is accepted",
            ));
        }
        if req.body.len() > self.limits.max_body_bytes {
            return Err(Rejection::new(
                413,
                "body_too_large",
                format!(
                    "the body is {} bytes; the limit is {} bytes: split the batch",
                    req.body.len(),
                    self.limits.max_body_bytes
                ),
            ));
        }
        let key = self.authenticate(req).await?;
        let content_type = req
            .headers
            .get("content-type")
            .map(String::as_str)
            .unwrap_or("");
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            let shown = if content_type.is_empty() {
                "none".to_string()
            } else {
                format!("'{}'", formats::fields::truncate(content_type, 64))
            };
            return Err(Rejection::new(
                415,
                "unsupported_media_type",
                format!("Content-Type must be application/json (got {shown})"),
            ));
        }
        let ctx = ParseContext {
            now: self.intake.clock.now(),
            sources: &self.sources,
            max_batch: self.limits.max_batch,
        };
        let entries = formats::parse(format, req.body, &ctx)?;
        // A key bound to its sources sends nothing else; checked for the whole batch first,
        // so a refused batch leaves nothing half-admitted.
        for entry in &entries {
            if let Entry::Alert(draft) = entry
                && !key.allows_source(&draft.source)
            {
                tracing::warn!(key = %key.id, source = %draft.source, "webhook key sent a source it is not bound to");
                return Err(Rejection::new(
                    403,
                    "source_not_allowed",
                    format!(
                        "the webhook key '{}' may send alerts from {}, not from '{}'",
                        key.id,
                        key.sources.join(", "),
                        formats::fields::truncate(&draft.source, 64)
                    ),
                ));
            }
        }
        self.admit_all(entries, &key).await
    }

    /// Checks the credential against the cached keys, and once more against freshly read ones
    /// before refusing, so a key rotated in Secrets Manager works at once.
    async fn authenticate(&self, req: &Request<'_>) -> Result<WebhookKey, Rejection> {
        let refuse = |failure: AuthFailure, mode: &str| {
            // The attempt is logged with what it was, never with what it carried.
            tracing::warn!(mode, reason = ?failure, source_ip = req.source_ip.unwrap_or("unknown"), path = req.path, "webhook authentication refused");
            Rejection::unauthorized(failure.message())
        };
        let credential = auth::credential(req.headers, req.query).map_err(|f| refuse(f, "none"))?;
        let now = self.intake.clock.now();
        let tolerance = self.limits.signature_tolerance_seconds;
        let secrets = self.secrets.get().await.map_err(unavailable)?;
        match auth::verify(
            credential,
            req.body,
            &secrets.webhook_keys().map_err(unavailable)?,
            now,
            tolerance,
        ) {
            Ok(key) => Ok(key),
            Err(AuthFailure::Invalid) => {
                let fresh = self.secrets.refresh().await.map_err(unavailable)?;
                let keys = fresh.webhook_keys().map_err(unavailable)?;
                auth::verify(credential, req.body, &keys, now, tolerance)
                    .map_err(|f| refuse(f, credential.mode()))
            }
            Err(failure) => Err(refuse(failure, credential.mode())),
        }
    }

    /// Admits each alert on its own: one failing never keeps the others out. The answer lists
    /// every alert's outcome; when any failed, it is a 503 (any failure retryable) or a 500,
    /// and the SIEM may send the whole batch again: admission is idempotent.
    async fn admit_all(&self, entries: Vec<Entry>, key: &WebhookKey) -> Result<Reply, Rejection> {
        let via = format!("webhook:{}", key.id);
        let via = via.as_str();
        // Independent alerts, admitted several at once (each is a few sequential AWS calls);
        // `buffered` keeps the answers in the batch's order.
        let admitted: Vec<(Value, Option<bool>)> = stream::iter(entries.into_iter().enumerate())
            .map(|(index, entry)| self.admit_entry(index, entry, key, via))
            .buffered(self.limits.admit_concurrency.max(1))
            .collect()
            .await;
        let failed = admitted.iter().filter(|(_, f)| f.is_some()).count();
        let retryable = admitted.iter().any(|(_, f)| *f == Some(true));
        let results: Vec<Value> = admitted.into_iter().map(|(result, _)| result).collect();
        let accepted = results
            .iter()
            .filter(|r| {
                !matches!(
                    r["outcome"].as_str(),
                    Some("ignored" | "duplicate" | "failed")
                )
            })
            .count();
        if failed == 0 {
            return Ok(Reply::json(
                202,
                json!({ "accepted": accepted, "alerts": results }),
            ));
        }
        let status = if retryable { 503 } else { 500 };
        Ok(Reply::json(
            status,
            json!({
                "error": "unavailable",
                "message": format!("Securitybot could not store {failed} of the alerts right now; please send the batch again (redelivery is safe: stored alerts are not stored twice)"),
                "accepted": accepted,
                "alerts": results,
            }),
        ))
    }

    /// One entry's answer, and whether it failed (and if so, whether a retry may succeed).
    async fn admit_entry(
        &self,
        index: usize,
        entry: Entry,
        key: &WebhookKey,
        via: &str,
    ) -> (Value, Option<bool>) {
        let draft = match entry {
            Entry::Ignored { reason } => {
                return (
                    json!({ "index": index, "outcome": "ignored", "reason": reason }),
                    None,
                );
            }
            Entry::Alert(draft) => draft,
        };
        let (mut alert, raw) = formats::finish(*draft, &self.intake.rules);
        alert.sender = key.sender();
        match self.intake.admit(&alert, raw, via).await {
            Ok((id, outcome)) => {
                let mut result = json!({ "index": index, "alert_id": id });
                merge(
                    &mut result,
                    serde_json::to_value(&outcome).expect("outcomes serialise"),
                );
                (result, None)
            }
            Err(error) => {
                let id = alert.id();
                let retryable = error.is_retryable();
                tracing::error!(alert_id = %id, error = %error, retryable, "an alert of the batch could not be admitted");
                (
                    json!({ "index": index, "alert_id": id, "outcome": "failed", "retryable": retryable }),
                    Some(retryable),
                )
            }
        }
    }
}

/// `GET /health`: for uptime checks and load balancers. Touches no secret, no table, no queue:
/// it says the function runs and which version, nothing more.
const HEALTH_PATH: &str = "/health";

fn health(req: &Request<'_>) -> Result<Reply, Rejection> {
    if !req.method.eq_ignore_ascii_case("GET") {
        return Err(Rejection::new(
            405,
            "method_not_allowed",
            "the health check takes GET",
        ));
    }
    Ok(Reply::json(
        200,
        json!({ "ok": true, "service": "securitybot webhook", "version": env!("CARGO_PKG_VERSION") }),
    ))
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// A dependency failed before any alert was admitted (the secret could not be read): 503 so the
/// SIEM retries, which is safe because admission is idempotent.
fn unavailable(error: crate::Error) -> Rejection {
    tracing::error!(error = %error, retryable = error.is_retryable(), "webhook could not complete");
    let status = if error.is_retryable() { 503 } else { 500 };
    Rejection::new(
        status,
        "unavailable",
        "Securitybot could not store the alert right now; please retry (redelivery is safe)",
    )
}

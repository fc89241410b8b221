//! The ingest function: the SIEM-facing webhook on a Lambda Function URL.
//! Wiring and the Lambda <-> webhook translation only; the logic is `securitybot::intake`.

mod serve;
pub use serve::serve;

use lambda_http::{Body, Request, Response};
use securitybot::config::{BotConfig, IngestSettings};
use securitybot::function_url::{self, Parts};
use securitybot::intake::webhook::Webhook;
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::Adapters;
use std::sync::Arc;

/// Builds the webhook on AWS clients from `aws` (which honours AWS_ENDPOINT_URL).
pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &IngestSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Webhook {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    Webhook {
        intake: adapters.intake(&bot, settings.retention_days, clock),
        secrets: adapters.secrets.webhook,
        sources: bot.sources,
        limits: settings.limits,
    }
}

/// One Function URL request in, one response out. Never an `Err`: every failure is an HTTP
/// answer the SIEM can act on (4xx: fix the request; 503: retry).
pub async fn handle(webhook: &Webhook, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let parts = Parts::of(&req);
    function_url::response(webhook.receive(parts.request(&req)).await)
}

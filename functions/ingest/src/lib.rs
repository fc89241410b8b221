//! The ingest function: the SIEM-facing webhook on a Lambda Function URL.
//! Wiring and the Lambda <-> webhook translation only; the logic is `securitybot::intake`.

use lambda_http::{Body, Request, RequestExt, Response, http::header::CONTENT_TYPE};
use securitybot::config::{BotConfig, IngestSettings};
use securitybot::intake::webhook::{Webhook, WebhookRequest};
use securitybot::ports::{Clock, SystemClock};
use securitybot::wiring::Adapters;
use std::collections::HashMap;
use std::sync::Arc;

/// Builds the webhook on AWS clients from `aws` (which honours AWS_ENDPOINT_URL).
pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: IngestSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
) -> Webhook {
    let adapters = Adapters::new(aws, &settings.resources);
    Webhook {
        intake: adapters.intake(&bot, settings.retention_days, clock),
        secrets: adapters.secrets,
        sources: bot.sources,
        limits: settings.limits,
    }
}

/// The default wiring: real clock.
pub fn wire_default(
    aws: &aws_config::SdkConfig,
    settings: IngestSettings,
    bot: BotConfig,
) -> Webhook {
    wire(aws, settings, bot, Arc::new(SystemClock))
}

/// One Function URL request in, one response out. Never an `Err`: every failure is an HTTP
/// answer the SIEM can act on (4xx: fix the request; 503: retry).
pub async fn handle(webhook: &Webhook, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let query: HashMap<String, String> = req
        .query_string_parameters_ref()
        .map(|q| {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let source_ip = source_ip(&req);
    let reply = webhook
        .receive(WebhookRequest {
            method: req.method().as_str(),
            path: req.uri().path(),
            headers: &headers,
            query: &query,
            body: req.body().as_ref(),
            source_ip: source_ip.as_deref(),
        })
        .await;
    Ok(Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(reply.body.to_string()))?)
}

fn source_ip(req: &Request) -> Option<String> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

//! The interaction function: Slack's interactivity and events endpoint on a Function URL.
//! Wiring and the Lambda <-> endpoint translation only; the logic is
//! `securitybot::conversation::endpoint` (verify, read, act, answer within Slack's 3 s).

mod serve;
pub use serve::serve;

use lambda_http::{Body, Request, Response};
use securitybot::adapters::slack::interaction::SlackRequests;
use securitybot::config::{BotConfig, ConversationSettings};
use securitybot::conversation::answers::Answers;
use securitybot::conversation::endpoint::InteractionEndpoint;
use securitybot::function_url::{self, Parts};
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::Adapters;
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> InteractionEndpoint {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    InteractionEndpoint {
        answers: Answers {
            alerts: adapters.alerts.clone(),
            snoozes: adapters.snoozes.clone(),
            chat: adapters.chat(&settings.slack_api_url),
            second_factor: adapters.second_factor(settings.max_code_failures_per_hour),
            // The push itself is the notifier's: no Duo client is built here.
            proof_by_push: bot.duo.is_some(),
            queue: adapters.queue.clone(),
            clock: clock.clone(),
            rules: Arc::new(bot.rules),
            team: settings.team.clone(),
            max_code_attempts: settings.max_code_attempts,
            security_channel: settings.security_channel.clone(),
            approval: bot.approval,
            metrics: adapters.metrics.clone(),
        },
        chat: Arc::new(SlackRequests),
        secrets: adapters.secrets.slack.clone(),
        clock,
    }
}

/// One Function URL request in, one response out; never an `Err` (see the endpoint).
pub async fn handle(
    endpoint: &InteractionEndpoint,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let parts = Parts::of(&req);
    function_url::response(endpoint.receive(parts.request(&req)).await)
}

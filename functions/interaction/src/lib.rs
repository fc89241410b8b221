//! The interaction function: Slack's interactivity and events endpoint on a Function URL. Verifies
//! Slack's signature over the raw body, reads the click or form, lets `Answers` act, and
//! answers Slack within its 3 seconds.

use lambda_http::{Body, Request, Response, http::header::CONTENT_TYPE};
use securitybot::adapters::slack::interaction::{self as slack, reply_body};
use securitybot::config::{BotConfig, ConversationSettings};
use securitybot::conversation::answers::Answers;
use securitybot::ports::{Clock, SystemClock};
use securitybot::secrets::SecretsCache;
use securitybot::wiring::Adapters;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub struct InteractionFunction {
    pub answers: Answers,
    pub secrets: Arc<SecretsCache>,
    pub clock: Arc<dyn Clock>,
}

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
) -> InteractionFunction {
    let adapters = Adapters::new(aws, &settings.resources);
    InteractionFunction {
        answers: Answers {
            alerts: adapters.alerts.clone(),
            snoozes: adapters.snoozes.clone(),
            chat: adapters.chat(&settings.slack_api_url),
            second_factor: adapters.second_factor(
                &settings.resources.people_table,
                settings.max_code_failures_per_hour,
            ),
            queue: adapters.queue.clone(),
            clock: clock.clone(),
            rules: Arc::new(bot.rules),
            team: settings.team.clone(),
            max_code_attempts: settings.max_code_attempts,
            security_channel: settings.security_channel.clone(),
        },
        secrets: adapters.secrets.clone(),
        clock,
    }
}

pub fn wire_default(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
) -> InteractionFunction {
    wire(aws, settings, bot, Arc::new(SystemClock))
}

fn json_response(status: u16, body: Option<Value>) -> Result<Response<Body>, lambda_http::Error> {
    let builder = Response::builder().status(status);
    Ok(match body {
        Some(body) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(Body::Text(body.to_string()))?,
        None => builder.body(Body::Empty)?,
    })
}

pub async fn handle(
    f: &InteractionFunction,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    if req.method() != "POST" {
        return json_response(
            405,
            Some(
                json!({"error": "method_not_allowed", "message": "Slack posts interactions; only POST is accepted"}),
            ),
        );
    }
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    // lambda_http has already base64-decoded the body if the Function URL sent it encoded.
    let body = req.body().as_ref();
    let now = f.clock.now();
    let verified = match verify_with(f, &headers, body, now, false).await {
        Ok(()) => Ok(()),
        Err(_) => verify_with(f, &headers, body, now, true).await,
    };
    if let Err(reason) = verified {
        tracing::warn!(reason, "interaction refused: not signed by Slack");
        return json_response(
            401,
            Some(json!({"error": "unauthorized", "message": reason})),
        );
    }
    let interaction = match slack::parse_inbound(body) {
        Ok(slack::Inbound::Challenge(challenge)) => {
            return json_response(200, Some(json!({ "challenge": challenge })));
        }
        Ok(slack::Inbound::Interaction(interaction)) => interaction,
        Err(problem) => {
            return json_response(
                400,
                Some(json!({"error": "bad_request", "message": problem})),
            );
        }
    };
    match f.answers.handle(interaction).await {
        Ok(reply) => json_response(200, reply_body(&reply)),
        Err(error) => {
            tracing::error!(error = %error, retryable = error.is_retryable(), "interaction failed");
            json_response(
                500,
                Some(
                    json!({"error": "internal", "message": "Securitybot could not record that; please try again"}),
                ),
            )
        }
    }
}

/// Checks against the cached signing secret, or a freshly read one (after a rotation).
async fn verify_with(
    f: &InteractionFunction,
    headers: &HashMap<String, String>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
    fresh: bool,
) -> Result<(), &'static str> {
    let secrets = if fresh {
        f.secrets.refresh().await
    } else {
        f.secrets.get().await
    };
    let secrets = secrets.map_err(|_| "the signing secret could not be read")?;
    let signing = secrets
        .require(&secrets.slack_signing_secret, "slack_signing_secret")
        .map_err(|_| "no slack_signing_secret is configured")?;
    slack::verify(signing.expose(), headers, body, now)
}

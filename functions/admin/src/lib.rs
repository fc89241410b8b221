//! The admin function: operator commands, invoked from the Lambda console or the CLI with a
//! JSON event (samples in events/admin-*.json). Wiring only; the commands are
//! `securitybot::admin`.

mod serve;
pub use serve::serve;

use securitybot::admin::Admin;

/// Test alerts are kept a week, not the real alerts' retention.
const TEST_ALERT_RETENTION_DAYS: i64 = 7;
use securitybot::config::{BotConfig, ConversationSettings};
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::Adapters;
use securitybot::wiring::live::RulesCheck;
use serde_json::Value;
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Admin {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    Admin {
        alerts: adapters.alerts.clone(),
        snoozes: adapters.snoozes.clone(),
        directory: adapters.directory.clone(),
        second_factor: adapters.second_factor(settings.max_code_failures_per_hour),
        queue: adapters.queue.clone(),
        identity: bot.identity.clone(),
        clock: clock.clone(),
        chat: adapters.chat(&settings.slack_api_url),
        security_channel: settings.security_channel.clone(),
        team: settings.team.clone(),
        intake: Arc::new(adapters.intake(&bot, TEST_ALERT_RETENTION_DAYS, clock)),
        rules: Arc::new(RulesCheck { in_force: bot }),
    }
}

/// Bad commands fail with a message naming the problem (the invoker reads it).
pub async fn handle(admin: &Admin, event: Value) -> Result<Value, lambda_runtime::Error> {
    Ok(admin.run(event).await?)
}

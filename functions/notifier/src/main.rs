//! Cold start: read and check the configuration, build the clients once, serve batches.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::adapters::clock::SystemClock;
use securitybot::config::{BotConfig, ConversationSettings, EnvReader};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let notifier = notifier::wire(
        &aws,
        &settings,
        bot,
        Arc::new(SystemClock),
        securitybot::wiring::emf_metrics(&settings.resources),
    );
    run(service_fn(|event: LambdaEvent<_>| {
        notifier::handle(&notifier, event.payload, Some(event.context.deadline))
    }))
    .await
}

//! Cold start: read and check the configuration, build the clients once, serve commands.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::config::{BotConfig, ConversationSettings, EnvReader};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    securitybot::wiring::logging::init();
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = securitybot::wiring::aws::config().await;
    // Built again whenever an operator saves new rules (checked at most once a minute).
    let live = securitybot::wiring::live::for_main(&aws, &settings.resources, bot, {
        let (aws, settings) = (aws.clone(), settings.clone());
        move |bot, clock, metrics| admin::wire(&aws, &settings, bot, clock, metrics)
    });
    run(service_fn(|event: LambdaEvent<Value>| {
        let live = &live;
        async move { admin::handle(&*live.current().await, event.payload).await }
    }))
    .await
}

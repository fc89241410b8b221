//! Cold start (for the function's own `main` and the shared bootstrap): read and check the
//! configuration, build the clients once, serve commands.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::config::{BotConfig, ConversationSettings, EnvReader};
use serde_json::Value;

pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = securitybot::wiring::aws::config().await;
    // Built again whenever an operator saves new rules (checked at most once a minute).
    let live = securitybot::wiring::live::for_main(&aws, &settings.resources, bot, {
        let (aws, settings) = (aws.clone(), settings.clone());
        move |bot, clock, metrics| crate::wire(&aws, &settings, bot, clock, metrics)
    });
    run(service_fn(|event: LambdaEvent<Value>| {
        let live = &live;
        async move { crate::handle(&*live.current().await, event.payload).await }
    }))
    .await
}

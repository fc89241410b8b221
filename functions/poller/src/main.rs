//! Cold start: read and check the configuration (sources included), build the clients once, poll.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::adapters::clock::SystemClock;
use securitybot::config::{BotConfig, EnvReader, PollerSettings};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = PollerSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clock: Arc<dyn securitybot::ports::Clock> = Arc::new(SystemClock);
    let metrics = securitybot::wiring::emf_metrics(&settings.resources);
    // Built again whenever an operator saves new rules (checked at most once a minute).
    let live = securitybot::wiring::live::from_store(
        &aws,
        &settings.resources,
        bot,
        clock.clone(),
        metrics.clone(),
        {
            let (aws, settings) = (aws.clone(), settings.clone());
            move |bot| poller::wire(&aws, &settings, bot, clock.clone(), metrics.clone())
        },
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        let live = &live;
        async move { poller::handle(&*live.current().await, event.payload).await }
    }))
    .await
}

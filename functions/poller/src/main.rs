//! Cold start: read and check the configuration (sources included), build the clients once, poll.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::config::{BotConfig, EnvReader, PollerSettings};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = PollerSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let poller = poller::wire(
        &aws,
        &settings,
        bot,
        std::sync::Arc::new(securitybot::adapters::clock::SystemClock),
        securitybot::wiring::emf_metrics(&settings.resources),
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        poller::handle(&poller, event.payload)
    }))
    .await
}

//! Cold start: read and check the configuration, build the clients once, serve requests.

use lambda_http::{run, service_fn};
use securitybot::adapters::clock::SystemClock;
use securitybot::config::{BotConfig, EnvReader, IngestSettings};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let settings = IngestSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let webhook = ingest::wire(
        &aws,
        &settings,
        bot,
        Arc::new(SystemClock),
        securitybot::wiring::emf_metrics(&settings.resources),
    );
    run(service_fn(|req| ingest::handle(&webhook, req))).await
}

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
            move |bot| ingest::wire(&aws, &settings, bot, clock.clone(), metrics.clone())
        },
    );
    run(service_fn(|req| {
        let live = &live;
        async move { ingest::handle(&*live.current().await, req).await }
    }))
    .await
}

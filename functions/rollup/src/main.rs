//! Cold start: read and check the configuration, build the clients once, post rollups.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::config::{EnvReader, RollupSettings};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = RollupSettings::from_env(EnvReader::from_process())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let rollups = rollup::wire(
        &aws,
        &settings,
        std::sync::Arc::new(securitybot::ports::SystemClock),
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        rollup::handle(&rollups, event.payload)
    }))
    .await
}

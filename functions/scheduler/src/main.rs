//! Cold start: read and check the configuration, build the clients once, serve ticks.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::config::{ConversationSettings, EnvReader};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deadlines = scheduler::wire_default(&aws, &settings);
    run(service_fn(|event: LambdaEvent<Value>| {
        scheduler::handle(&deadlines, event.payload)
    }))
    .await
}

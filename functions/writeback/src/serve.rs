//! Cold start (for the function's own `main` and the shared bootstrap): read and check the
//! configuration, build the clients once, serve stream batches.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::adapters::clock::SystemClock;
use securitybot::config::{EnvReader, WritebackSettings};
use std::sync::Arc;

pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let settings = WritebackSettings::from_env(EnvReader::from_process())?;
    let aws = securitybot::wiring::aws::config().await;
    let writeback = crate::wire(
        &aws,
        &settings,
        Arc::new(SystemClock),
        securitybot::wiring::emf_metrics(&settings.resources),
    );
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        crate::handle_invocation(&writeback, event.payload, Some(event.context.deadline))
    }))
    .await
}

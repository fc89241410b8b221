//! The smallest function `lambda_runtime` can run: it echoes its event. The yardstick of the
//! cold-start bench (`tests/benches/cold_start.rs`, built with the same release profile as ours),
//! and, when its event says `{"panic": true}`, a handler that panics, for
//! `tests/tests/panic_strategy.rs`: what a panic in a shipped handler reports to Lambda.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        if event.payload["panic"] == true {
            panic!("the handler hit a bug");
        }
        Ok::<Value, Error>(event.payload)
    }))
    .await
}

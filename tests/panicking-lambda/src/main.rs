//! A function whose handler panics when its event says so (`{"panic": true}`), for
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

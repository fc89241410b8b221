//! Cold start: read and check the configuration, build the clients once, serve ticks.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::adapters::clock::TravelClock;
use securitybot::config::{ConversationSettings, EnvReader};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    securitybot::wiring::logging::init();
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let aws = securitybot::wiring::aws::config().await;
    // Local runs only (see securitybot::adapters::clock); deployed stacks always use the system clock.
    let (travel, clock) = TravelClock::for_main();
    let deadlines = scheduler::wire(
        &aws,
        &settings,
        clock,
        securitybot::wiring::emf_metrics(&settings.resources),
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        let mut payload = event.payload;
        if let Some(t) = &travel {
            t.take_from(&mut payload);
        }
        scheduler::handle(&deadlines, payload)
    }))
    .await
}

//! Cold start (for the function's own `main` and the shared bootstrap): read and check the
//! configuration, build the clients once, post rollups.

use lambda_runtime::{LambdaEvent, run, service_fn};
use securitybot::adapters::clock::TravelClock;
use securitybot::config::{EnvReader, RollupSettings};
use serde_json::Value;

pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let settings = RollupSettings::from_env(EnvReader::from_process())?;
    let aws = securitybot::wiring::aws::config().await;
    // Local runs only (see securitybot::adapters::clock); deployed stacks always use the system clock.
    let (travel, clock) = TravelClock::for_main();
    let rollups = crate::wire(
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
        crate::handle(&rollups, payload)
    }))
    .await
}

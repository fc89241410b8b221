//! The scheduler function: run every minute by EventBridge Scheduler (any event payload).
//! Wiring only; the sweep is `securitybot::conversation::deadlines`.

mod serve;
pub use serve::serve;

use securitybot::config::ConversationSettings;
use securitybot::conversation::deadlines::Deadlines;
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::Adapters;
use serde_json::Value;
use std::sync::Arc;

/// At most this many alerts per status per run (the rest wait a minute).
const BATCH: usize = 200;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Deadlines {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    Deadlines {
        alerts: adapters.alerts,
        queue: adapters.queue,
        clock,
        batch: BATCH,
    }
}

/// Errors fail the invocation, so the schedule's retry policy runs it again (then its DLQ).
pub async fn handle(deadlines: &Deadlines, _event: Value) -> Result<Value, lambda_runtime::Error> {
    let sweep = deadlines.run().await?;
    Ok(serde_json::to_value(sweep)?)
}

//! The scheduler function: run every minute by EventBridge Scheduler (any event payload).

use securitybot::config::ConversationSettings;
use securitybot::conversation::deadlines::Deadlines;
use securitybot::ports::{Clock, SystemClock};
use securitybot::wiring::Adapters;
use serde_json::Value;
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    clock: Arc<dyn Clock>,
) -> Deadlines {
    let adapters = Adapters::new(aws, &settings.resources);
    Deadlines {
        alerts: adapters.alerts,
        queue: adapters.queue,
        clock,
        batch: 200,
    }
}

pub fn wire_default(aws: &aws_config::SdkConfig, settings: &ConversationSettings) -> Deadlines {
    wire(aws, settings, Arc::new(SystemClock))
}

/// Errors fail the invocation, so the schedule's retry policy runs it again (then its DLQ).
pub async fn handle(deadlines: &Deadlines, _event: Value) -> Result<Value, lambda_runtime::Error> {
    let sweep = deadlines.run().await?;
    Ok(serde_json::to_value(sweep)?)
}

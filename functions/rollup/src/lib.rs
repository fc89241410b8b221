//! The rollup function: EventBridge Scheduler invokes it with
//! `{"period": "hourly"|"daily", "scheduled_time": "<aws.scheduler.scheduled-time>"}`.
//! The scheduled time (not the clock) picks the period, so a retry covers the same one.

mod serve;
pub use serve::serve;

use chrono::{DateTime, Utc};
use securitybot::config::RollupSettings;
use securitybot::core::rollup::Cadence;
use securitybot::ports::{Clock, Metrics};
use securitybot::reporting::rollups::Rollups;
use securitybot::wiring::Adapters;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &RollupSettings,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Rollups {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    Rollups {
        alerts: adapters.alerts.clone(),
        // Only reads enrollment dates; the failure limit is irrelevant here.
        second_factor: adapters.second_factor(0),
        checkpoints: adapters.checkpoints(),
        chat: adapters.chat(&settings.slack_api_url),
        channel: settings.security_channel.clone(),
        tz: settings.time_zone,
        clock,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tick {
    period: String,
    #[serde(default)]
    scheduled_time: Option<String>,
}

/// Bad input fails without retrying forever: the error names the field. Other errors fail the
/// invocation, so the schedule's retry policy runs it again (then its dead-letter queue).
pub async fn handle(rollups: &Rollups, event: Value) -> Result<Value, lambda_runtime::Error> {
    let tick: Tick = serde_json::from_value(event).map_err(|e| {
        format!("a rollup event is {{\"period\": \"hourly\"|\"daily\", \"scheduled_time\": RFC 3339}}: {e}")
    })?;
    let cadence: Cadence = tick.period.parse()?;
    let at = tick
        .scheduled_time
        .map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("scheduled_time '{t}' is not an RFC 3339 time: {e}"))
        })
        .transpose()?;
    let run = rollups.run(cadence, at).await?;
    tracing::info!(period = %run.period, posted = run.posted, alerts = run.alerts, "rollup");
    Ok(serde_json::to_value(run)?)
}

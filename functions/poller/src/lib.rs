//! The poller function: EventBridge Scheduler invokes it every few minutes with `{}` (every
//! source in `[pollers]`) or `{"source": "<name>"}` (one of them).

mod serve;
pub use serve::serve;

use securitybot::adapters::feeds;
use securitybot::config::{BotConfig, PollerSettings};
use securitybot::intake::poll::{Feed, Poller};
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::Adapters;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &PollerSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Poller {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    let feeds = bot
        .pollers
        .iter()
        .map(|(name, source)| Feed {
            name: name.clone(),
            source: source.clone(),
            fetch: feeds::feed(name, source, adapters.secrets.siem.clone()),
        })
        .collect();
    Poller {
        intake: adapters.intake(&bot, settings.retention_days, clock.clone()),
        checkpoints: adapters.checkpoints(),
        feeds,
        mappings: bot.sources.clone(),
        clock,
        max_pages: settings.max_pages,
        time_budget: std::time::Duration::from_secs(settings.time_budget_seconds),
    }
}

/// Scheduler events carry whatever the schedule's input says; only `source` means something.
#[derive(Debug, Default, Deserialize)]
struct Tick {
    #[serde(default)]
    source: Option<String>,
}

/// Fails the invocation when a source failed (after trying them all), so the schedule retries
/// and, in the end, its dead-letter queue and alarm tell someone.
pub async fn handle(poller: &Poller, event: Value) -> Result<Value, lambda_runtime::Error> {
    let tick: Tick = serde_json::from_value(event)
        .map_err(|e| format!("a poller event is {{}} or {{\"source\": \"<name>\"}}: {e}"))?;
    let reports = poller.run(tick.source.as_deref()).await?;
    Ok(serde_json::json!({ "sources": reports }))
}

//! The write-back function: the alerts table's stream in, one event per answer, escalation or
//! closure out to the SIEM. Wiring and the stream translation only; the logic is
//! `securitybot::writeback` (in order; the first failure is reported with everything after it,
//! so Lambda retries from there, then sends the batch to the on-failure queue and its alarm).

mod serve;
pub use serve::serve;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use securitybot::adapters::dynamodb::stream::reported_change;
use securitybot::adapters::siem::{SignedWebhook, SplunkHec};
use securitybot::config::{WritebackSettings, WritebackSink};
use securitybot::ports::{Clock, Metrics, SiemSink};
use securitybot::wiring::{Adapters, stop_before};
use securitybot::writeback::{StreamChange, Writeback};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &WritebackSettings,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Writeback {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    let sink: Option<Arc<dyn SiemSink>> = match &settings.sink {
        WritebackSink::Off => None,
        WritebackSink::SplunkHec { url } => {
            Some(Arc::new(SplunkHec::new(url, adapters.secrets.siem.clone())))
        }
        WritebackSink::Webhook { url } => Some(Arc::new(SignedWebhook::new(
            url,
            adapters.secrets.siem.clone(),
            clock.clone(),
        ))),
    };
    Writeback {
        sink,
        failures: adapters.failed_writebacks(),
        alerts: adapters.alerts,
        clock,
        metrics: adapters.metrics,
    }
}

/// Stop starting sends this long before the invocation's deadline (a send may take 10 s).
pub const SAFETY_MARGIN: Duration = Duration::from_secs(12);

/// Whatever invokes the function: the stream's batches, or an operator's `redrive`.
pub async fn handle_invocation(
    writeback: &Writeback,
    event: Value,
    deadline_ms: Option<u64>,
) -> Result<Value, lambda_runtime::Error> {
    if event.get("command").is_some() {
        return Ok(writeback.command(event).await?);
    }
    let batch: Event = serde_json::from_value(event)?;
    Ok(serde_json::to_value(
        handle_until(writeback, batch, deadline_ms).await?,
    )?)
}

pub async fn handle(
    writeback: &Writeback,
    event: Event,
) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    handle_until(writeback, event, None).await
}

/// `deadline_ms`: the invocation's, in milliseconds since 1970 (Lambda's context), if known.
pub async fn handle_until(
    writeback: &Writeback,
    event: Event,
    deadline_ms: Option<u64>,
) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let stop_at = deadline_ms.and_then(|deadline| stop_before(deadline, SAFETY_MARGIN));
    let changes = event
        .records
        .into_iter()
        .map(|record| StreamChange {
            sequence: record.change.sequence_number.unwrap_or_default(),
            event: reported_change(&record.change.old_image, record.change.new_image),
        })
        .collect();
    let mut response = DynamoDbEventResponse::default();
    if let Some(sequence) = writeback.deliver_in_order(changes, stop_at).await {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

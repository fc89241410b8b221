//! The write-back function: the alerts table's stream in, one event per answer, escalation or
//! closure out to the SIEM. Records are handled in order; the first failure is reported (with
//! everything after it) so Lambda retries from there, then sends the batch to the on-failure
//! queue, which has an alarm.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use securitybot::adapters::dynamodb::stream::{answer_event, status_of};
use securitybot::adapters::siem::{SignedWebhook, SplunkHec};
use securitybot::config::{WritebackSettings, WritebackSink};
use securitybot::ports::{Clock, SiemSink, SystemClock};
use securitybot::wiring::Adapters;
use securitybot::writeback::{Writeback, is_reported};
use std::sync::Arc;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &WritebackSettings,
    clock: Arc<dyn Clock>,
) -> Writeback {
    let adapters = Adapters::new(aws, &settings.resources);
    let sink: Option<Arc<dyn SiemSink>> = match &settings.sink {
        WritebackSink::Off => None,
        WritebackSink::SplunkHec { url } => {
            Some(Arc::new(SplunkHec::new(url, adapters.secrets.clone())))
        }
        WritebackSink::Webhook { url } => Some(Arc::new(SignedWebhook::new(
            url,
            adapters.secrets.clone(),
            clock.clone(),
        ))),
    };
    Writeback {
        sink,
        alerts: adapters.alerts,
        clock,
    }
}

pub fn wire_default(aws: &aws_config::SdkConfig, settings: &WritebackSettings) -> Writeback {
    wire(aws, settings, Arc::new(SystemClock))
}

pub async fn handle(
    writeback: &Writeback,
    event: Event,
) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let new_status = status_of(&record.change.new_image);
        let changed = new_status.is_some() && new_status != status_of(&record.change.old_image);
        if !changed || !new_status.is_some_and(is_reported) {
            continue; // not a change the SIEM hears about (or a claim/bookkeeping write)
        }
        let outcome = match answer_event(record.change.new_image) {
            Ok(answer) => writeback.deliver(&answer).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(error) = outcome {
            tracing::error!(error = %error, retryable = error.is_retryable(), "write-back failed; retrying from this record");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    Ok(response)
}

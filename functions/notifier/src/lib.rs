//! The notifier function: SQS batches of work items in, chat messages out.
//! Reports partial batch failures so only the failed messages are retried; a Slack 429 sets the
//! message's visibility to Slack's Retry-After so the retry comes when Slack allows it.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use securitybot::config::{BotConfig, ConversationSettings};
use securitybot::conversation::notifier::Notifier;
use securitybot::core::work::WorkItem;
use securitybot::ports::{Clock, SystemClock};
use securitybot::wiring::Adapters;
use std::sync::Arc;

pub struct NotifierFunction {
    pub notifier: Notifier,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
) -> NotifierFunction {
    let adapters = Adapters::new(aws, &settings.resources);
    NotifierFunction {
        notifier: Notifier {
            alerts: adapters.alerts.clone(),
            directory: adapters.directory.clone(),
            chat: adapters.chat(&settings.slack_api_url),
            clock,
            rules: Arc::new(bot.rules),
            security_channel: settings.security_channel.clone(),
        },
        sqs: aws_sdk_sqs::Client::new(aws),
        queue_url: settings.resources.work_queue_url.clone(),
    }
}

pub fn wire_default(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
) -> NotifierFunction {
    wire(aws, settings, bot, Arc::new(SystemClock))
}

pub async fn handle(
    f: &NotifierFunction,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let outcome = match WorkItem::from_json(message.body.as_deref().unwrap_or_default()) {
            Ok(item) => f.notifier.handle(&item).await,
            // It will never parse: fail it so it reaches the dead-letter queue and its alarm.
            Err(problem) => Err(securitybot::Error::Invalid(problem)),
        };
        if let Err(error) = outcome {
            tracing::error!(message_id = %id, error = %error, retryable = error.is_retryable(), "work item failed");
            if let (Some(seconds), Some(receipt)) =
                (error.retry_after_secs(), message.receipt_handle.as_deref())
            {
                let visibility = seconds.clamp(1, 43_200) as i32;
                if let Err(e) = f
                    .sqs
                    .change_message_visibility()
                    .queue_url(&f.queue_url)
                    .receipt_handle(receipt)
                    .visibility_timeout(visibility)
                    .send()
                    .await
                {
                    tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

//! The notifier function: SQS batches of work items in, chat messages out. Wiring and the
//! SQS event translation only; the logic is `securitybot::conversation::notifier`. Partial
//! batch failures are reported so only the failed messages are retried.

mod serve;
pub use serve::serve;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use securitybot::config::{BotConfig, ConversationSettings};
use securitybot::conversation::notifier::{Notifier, Received};
use securitybot::conversation::push::Pushes;
use securitybot::ports::{Clock, Metrics};
use securitybot::wiring::{Adapters, stop_before};
use std::sync::Arc;
use std::time::Duration;

pub fn wire(
    aws: &aws_config::SdkConfig,
    settings: &ConversationSettings,
    bot: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
) -> Notifier {
    let adapters = Adapters::new(aws, &settings.resources, metrics);
    let chat = adapters.chat(&settings.slack_api_url);
    let rules = Arc::new(bot.rules.clone());
    let pushes = adapters
        .push(&bot, settings.duo_api_url.as_deref())
        .map(|push| Pushes {
            alerts: adapters.alerts.clone(),
            snoozes: adapters.snoozes.clone(),
            chat: chat.clone(),
            push,
            queue: adapters.queue.clone(),
            clock: clock.clone(),
            rules: rules.clone(),
            metrics: adapters.metrics.clone(),
        });
    Notifier {
        alerts: adapters.alerts.clone(),
        directory: adapters.directory.clone(),
        chat,
        queue: adapters.queue.clone(),
        checkpoints: adapters.checkpoints(),
        clock,
        rules,
        security_channel: settings.security_channel.clone(),
        pushes,
        metrics: adapters.metrics.clone(),
    }
}

/// Stop starting new items this long before the invocation's deadline: one item's Slack calls
/// (5 s timeout each) must still fit.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(12);

/// `deadline`: the invocation's, in milliseconds since 1970 (Lambda's context), if known.
pub async fn handle(
    notifier: &Notifier,
    event: SqsEvent,
    deadline_ms: Option<u64>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let stop_at = deadline_ms.and_then(|deadline| stop_before(deadline, SAFETY_MARGIN));
    let batch = event
        .records
        .into_iter()
        .map(|m| Received {
            id: m.message_id.unwrap_or_default(),
            receipt: m.receipt_handle,
            body: m.body.unwrap_or_default(),
        })
        .collect();
    let mut response = SqsBatchResponse::default();
    for id in notifier.handle_batch(batch, stop_at).await {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

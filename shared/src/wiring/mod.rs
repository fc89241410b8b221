//! Building the adapters from an AWS config, once per cold start. Shared by every function so
//! each `main` is only: read settings, wire, run.

use crate::adapters::duo::DuoPush;
use crate::adapters::dynamodb::{
    DynamoAlerts, DynamoCheckpoints, DynamoDirectory, DynamoSecondFactor, DynamoSnoozes,
};
use crate::adapters::emf::EmfMetrics;
use crate::adapters::secrets_manager::{SecretsCache, SecretsManagerSource};
use crate::adapters::slack::SlackChat;
use crate::adapters::sqs::SqsWorkQueue;
use crate::config::{BotConfig, Resources};
use crate::core::secrets::SecretPurpose;
use crate::intake::admit::Intake;
use crate::ports::{
    AlertStore, Checkpoints, Clock, Directory, FailedWritebacks, Metrics, PushFactor, SecondFactor,
    SecretStore, SnoozeStore, WorkQueue,
};
use std::sync::Arc;
use std::time::Duration;

pub mod aws;
pub mod live;
pub mod logging;

/// A refused credential re-reads the secret at most this often (rotation without redeploy,
/// without letting bad requests hammer Secrets Manager).
pub const SECRET_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Every function's adapters, on one DynamoDB client (and one of each other) per cold start.
pub struct Adapters {
    pub dynamodb: aws_sdk_dynamodb::Client,
    people_table: String,
    checkpoints_table: String,
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub directory: Arc<dyn Directory>,
    pub queue: Arc<dyn WorkQueue>,
    pub secrets: SecretParts,
    pub metrics: Arc<dyn Metrics>,
}

/// One cached store per secret purpose, so each adapter is handed only the secret it reads.
#[derive(Clone)]
pub struct SecretParts {
    pub webhook: Arc<dyn SecretStore>,
    pub slack: Arc<dyn SecretStore>,
    pub second_factor: Arc<dyn SecretStore>,
    pub siem: Arc<dyn SecretStore>,
}

impl SecretParts {
    fn new(aws: &aws_config::SdkConfig, r: &Resources) -> Self {
        let client = aws_sdk_secretsmanager::Client::new(aws);
        let store = |purpose: SecretPurpose| -> Arc<dyn SecretStore> {
            let source = SecretsManagerSource::new(
                client.clone(),
                purpose,
                r.secret_ids.get(purpose.env_var()).cloned(),
            );
            Arc::new(SecretsCache::new(Arc::new(source), SECRET_REFRESH_INTERVAL))
        };
        SecretParts {
            webhook: store(SecretPurpose::Webhook),
            slack: store(SecretPurpose::Slack),
            second_factor: store(SecretPurpose::SecondFactor),
            siem: store(SecretPurpose::Siem),
        }
    }
}

impl Adapters {
    /// The clients honour AWS_ENDPOINT_URL through `aws`.
    pub fn new(aws: &aws_config::SdkConfig, r: &Resources, metrics: Arc<dyn Metrics>) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        Adapters {
            alerts: Arc::new(
                DynamoAlerts::new(dynamodb.clone(), r.alerts_table.clone())
                    .keeping_payloads_in(r.payloads_table.clone())
                    .claiming_in(r.claims_table.clone()),
            ),
            snoozes: Arc::new(DynamoSnoozes::new(
                dynamodb.clone(),
                r.snoozes_table.clone(),
            )),
            directory: Arc::new(DynamoDirectory::new(
                dynamodb.clone(),
                r.people_table.clone(),
            )),
            queue: Arc::new(SqsWorkQueue::new(
                aws_sdk_sqs::Client::new(aws),
                r.work_queue_url.clone(),
            )),
            secrets: SecretParts::new(aws, r),
            metrics,
            people_table: r.people_table.clone(),
            checkpoints_table: r.checkpoints_table.clone(),
            dynamodb,
        }
    }

    /// The one admission path, for the webhook and the poller alike.
    pub fn intake(&self, bot: &BotConfig, retention_days: i64, clock: Arc<dyn Clock>) -> Intake {
        Intake {
            alerts: self.alerts.clone(),
            snoozes: self.snoozes.clone(),
            directory: self.directory.clone(),
            queue: self.queue.clone(),
            clock,
            rules: Arc::new(bot.rules.clone()),
            identity: bot.identity.clone(),
            redactor: bot.redactor.clone(),
            links: bot.links.clone(),
            retention: chrono::Duration::days(retention_days),
            metrics: self.metrics.clone(),
        }
    }

    pub fn chat(&self, slack_api_url: &str) -> Arc<SlackChat> {
        Arc::new(
            SlackChat::new(slack_api_url, self.secrets.slack.clone())
                .counted_by(self.metrics.clone()),
        )
    }

    pub fn second_factor(&self, max_failures_per_hour: u32) -> Arc<dyn SecondFactor> {
        Arc::new(DynamoSecondFactor::new(
            self.dynamodb.clone(),
            &self.people_table,
            self.secrets.second_factor.clone(),
            max_failures_per_hour,
        ))
    }

    /// The push second factor, when the config chooses one (`[second_factor] method = "duo"`).
    pub fn push(&self, bot: &BotConfig, duo_api_url: Option<&str>) -> Option<Arc<dyn PushFactor>> {
        let duo = bot.duo.clone()?;
        Some(Arc::new(DuoPush::new(
            duo,
            duo_api_url.map(str::to_string),
            self.secrets.second_factor.clone(),
        )))
    }

    /// Failed write-backs, kept in the checkpoints table for a redrive.
    pub fn failed_writebacks(&self) -> Arc<dyn FailedWritebacks> {
        Arc::new(DynamoCheckpoints::new(
            self.dynamodb.clone(),
            &self.checkpoints_table,
        ))
    }

    pub fn checkpoints(&self) -> Arc<dyn Checkpoints> {
        Arc::new(DynamoCheckpoints::new(
            self.dynamodb.clone(),
            &self.checkpoints_table,
        ))
    }
}

/// Metrics as EMF lines on stdout, which Lambda sends to CloudWatch Logs.
pub fn emf_metrics(r: &Resources) -> Arc<dyn Metrics> {
    Arc::new(EmfMetrics::stdout(r.metrics_namespace.clone()))
}

/// When an invocation should stop starting new work: `margin` before Lambda's deadline
/// (milliseconds since 1970, from the invocation's context), so what it started can finish.
/// `None` when the deadline is not in the future: a local emulator's context may carry none
/// (0), and stopping before doing anything would hand every item back forever.
pub fn stop_before(deadline_ms: u64, margin: Duration) -> Option<std::time::Instant> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left = Duration::from_millis(deadline_ms.checked_sub(now_ms).filter(|l| *l > 0)?);
    Some(std::time::Instant::now() + left.saturating_sub(margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_in_the_past_or_missing_never_stops_the_work() {
        assert_eq!(stop_before(0, Duration::from_secs(12)), None);
        let soon = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            + 30_000;
        let stop = stop_before(soon, Duration::from_secs(12)).unwrap();
        let left = stop - std::time::Instant::now();
        assert!(
            left > Duration::from_secs(10) && left <= Duration::from_secs(18),
            "{left:?}"
        );
    }
}

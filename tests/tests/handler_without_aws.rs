//! The webhook with in-memory ports: the handler logic is testable without AWS or moto.

use chrono::Utc;
use securitybot::adapters::memory::*;
use securitybot::adapters::secrets_manager::SecretsCache;
use securitybot::config::BotConfig;
use securitybot::core::secrets::{SecretString, Secrets, WebhookKey};
use securitybot::intake::admit::Intake;
use securitybot::intake::webhook::{Webhook, WebhookLimits};
use securitybot_tests::{LOCAL_KEY, call, event};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn the_handler_runs_on_in_memory_ports() {
    let bot = BotConfig::load(None).unwrap();
    let alerts = Arc::new(MemoryAlerts::default());
    let queue = Arc::new(MemoryQueue::default());
    let secrets = Secrets {
        webhook_keys: vec![WebhookKey {
            id: "local".into(),
            secret: SecretString::new(LOCAL_KEY),
        }],
        ..Secrets::default()
    };
    let webhook = Webhook {
        intake: Intake {
            alerts: alerts.clone(),
            snoozes: Arc::new(MemorySnoozes::default()),
            directory: Arc::new(MemoryDirectory::default()),
            queue: queue.clone(),
            clock: Arc::new(FixedClock::at(Utc::now())),
            rules: Arc::new(bot.rules),
            identity: bot.identity,
            redactor: bot.redactor,
            retention: chrono::Duration::days(1),
        },
        secrets: Arc::new(SecretsCache::new(
            Arc::new(StaticSecrets(secrets)),
            Duration::from_secs(30),
        )),
        sources: bot.sources,
        limits: WebhookLimits::default(),
    };
    let (status, body) = call(&webhook, &event("ingest-canonical-batch.json")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(alerts.0.lock().unwrap().len(), 2);
    assert_eq!(queue.0.lock().unwrap().len(), 2);
    let (status, _) = call(&webhook, &event("ingest-invalid.json")).await;
    assert_eq!(status, 422);
    assert_eq!(alerts.0.lock().unwrap().len(), 2, "nothing more stored");
}

//! The webhook with in-memory ports: the handler logic is testable without AWS or moto.

use chrono::Utc;
use securitybot::adapters::emf::EmfMetrics;
use securitybot::adapters::memory::*;
use securitybot::adapters::secrets_manager::SecretsCache;
use securitybot::config::BotConfig;
use securitybot::core::alert::AlertId;
use securitybot::core::secrets::{SecretString, Secrets, WebhookKey};
use securitybot::intake::admit::Intake;
use securitybot::intake::webhook::{Webhook, WebhookLimits};
use securitybot_tests::{LOCAL_KEY, call, event};
use std::sync::Arc;
use std::time::Duration;

fn webhook(alerts: Arc<MemoryAlerts>, queue: Arc<MemoryQueue>) -> Webhook {
    webhook_counted(alerts, queue, Arc::new(EmfMetrics::capturing("test")))
}

fn webhook_counted(
    alerts: Arc<MemoryAlerts>,
    queue: Arc<MemoryQueue>,
    metrics: Arc<EmfMetrics>,
) -> Webhook {
    let bot = BotConfig::load(None).unwrap();
    let secrets = Secrets {
        webhook_keys: vec![WebhookKey::any("local", SecretString::new(LOCAL_KEY))],
        ..Secrets::default()
    };
    Webhook {
        intake: Intake {
            alerts,
            snoozes: Arc::new(MemorySnoozes::default()),
            directory: Arc::new(MemoryDirectory::default()),
            queue,
            clock: Arc::new(FixedClock::at(Utc::now())),
            rules: Arc::new(bot.rules),
            identity: bot.identity,
            redactor: bot.redactor,
            links: bot.links,
            retention: chrono::Duration::days(1),
            metrics,
        },
        secrets: Arc::new(SecretsCache::new(
            Arc::new(StaticSecrets(secrets)),
            Duration::from_secs(30),
        )),
        sources: bot.sources,
        limits: WebhookLimits::default(),
    }
}

#[tokio::test]
async fn the_handler_runs_on_in_memory_ports() {
    let alerts = Arc::new(MemoryAlerts::default());
    let queue = Arc::new(MemoryQueue::default());
    let webhook = webhook(alerts.clone(), queue.clone());
    let (status, body) = call(&webhook, &event("ingest-canonical-batch.json")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(alerts.0.lock().unwrap().len(), 2);
    assert_eq!(queue.0.lock().unwrap().len(), 2);
    let (status, _) = call(&webhook, &event("ingest-invalid.json")).await;
    assert_eq!(status, 422);
    assert_eq!(alerts.0.lock().unwrap().len(), 2, "nothing more stored");
}

#[tokio::test]
async fn one_alert_failing_never_keeps_the_rest_of_its_batch_out() {
    let (_, first) = call(
        &webhook(Arc::default(), Arc::default()),
        &event("ingest-canonical-batch.json"),
    )
    .await;
    let poisoned = AlertId::from_stored(first["alerts"][0]["alert_id"].as_str().unwrap());

    let alerts = Arc::new(MemoryAlerts::default());
    let queue = Arc::new(MemoryQueue::default());
    alerts.poison(&poisoned, true);
    let metrics = Arc::new(EmfMetrics::capturing("test"));
    let hook = webhook_counted(alerts.clone(), queue.clone(), metrics.clone());
    let (status, body) = call(&hook, &event("ingest-canonical-batch.json")).await;
    assert_eq!(status, 503, "{body}");
    // Counted per alert, by the key it came through and what became of it.
    let mut outcomes: Vec<(String, String)> = metrics
        .lines()
        .iter()
        .map(|l| (l["Source"].to_string(), l["Outcome"].to_string()))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("\"webhook:local\"".into(), "\"ask\"".into()),
            ("\"webhook:local\"".into(), "\"failed\"".into())
        ]
    );
    assert_eq!(body["alerts"][0]["outcome"], "failed");
    assert_eq!(body["alerts"][0]["retryable"], true);
    assert_eq!(
        body["alerts"][1]["outcome"], "ask",
        "the next alert is admitted"
    );
    assert_eq!(alerts.0.lock().unwrap().len(), 1);

    // The SIEM sends the batch again: the failed one is stored, the other not twice.
    alerts.heal(&poisoned);
    let (status, body) = call(&hook, &event("ingest-canonical-batch.json")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["alerts"][0]["outcome"], "ask");
    assert_eq!(body["alerts"][1]["outcome"], "duplicate");
    // The duplicate is not asked yet, so it is queued again (the notifier asks once).
    let mut queued: Vec<String> = queue
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|item| item.alert_id.to_string())
        .collect();
    assert_eq!(queued.len(), 3);
    queued.sort();
    queued.dedup();
    assert_eq!(queued.len(), 2, "both alerts, nothing else");
}

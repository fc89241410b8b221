//! Ingest time per alert through the real handler against moto on loopback, and the time
//! from an alert arriving to its DM being posted (ingest + queue + notifier + Slack stand-in).
//! Run with scripts/bench.sh (it starts moto). Prints numbers; asserts nothing about speed.

use securitybot_tests::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let stack = Stack::new("bench").await;
    let webhook = stack.webhook();
    let template: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    let singles = 300;
    let mut times = Vec::with_capacity(singles);
    for i in 0..singles {
        let mut alert = template.clone();
        alert["id"] = format!("bench-{i}").into();
        let request = with_body(event("ingest-canonical.json"), &alert.to_string());
        let started = Instant::now();
        let (status, _) = call(&webhook, &request).await;
        times.push(started.elapsed());
        assert_eq!(status, 202);
    }
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "single alerts: n={singles} mean={:.2} ms p50={:.2} ms p95={:.2} ms p99={:.2} ms ({:.0} alerts/s, one request at a time)",
        total.as_secs_f64() * 1000.0 / singles as f64,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        singles as f64 / total.as_secs_f64()
    );

    // A batch of 100, admitted one alert at a time (as before #13) and 8 at a time (now),
    // interleaved so both see the same machine.
    let per_batch = 100;
    let rounds = 5;
    let one_at_a_time = webhook_with(&stack, 1);
    let at_once = webhook_with(&stack, securitybot::intake::admit::ADMIT_CONCURRENCY);
    let mut took = [Duration::ZERO; 2];
    for round in 0..rounds {
        for (which, hook) in [&one_at_a_time, &at_once].into_iter().enumerate() {
            let alerts: Vec<Value> = (0..per_batch)
                .map(|i| {
                    let mut alert = template.clone();
                    alert["id"] = format!("bench-batch-{which}-{round}-{i}").into();
                    alert
                })
                .collect();
            let body = serde_json::json!({ "alerts": alerts }).to_string();
            let started = Instant::now();
            let (status, _) = call(hook, &with_body(event("ingest-canonical.json"), &body)).await;
            took[which] += started.elapsed();
            assert_eq!(status, 202);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / rounds as f64;
    println!(
        "a batch of {per_batch}: {:.0} ms one alert at a time (before), {:.0} ms {} at a time (now): {:.1}x faster",
        ms(took[0]),
        ms(took[1]),
        securitybot::intake::admit::ADMIT_CONCURRENCY,
        took[0].as_secs_f64() / took[1].as_secs_f64()
    );
    bench_result(
        "batch",
        &serde_json::json!({
            "alerts": per_batch,
            "concurrency": securitybot::intake::admit::ADMIT_CONCURRENCY,
            "one_at_a_time_ms": ms(took[0]),
            "concurrent_ms": ms(took[1]),
        }),
    );
    let n = 2 * rounds * per_batch;
    let stored = stack.alerts().await.len();
    println!("stored: {stored} alerts (expected {})", singles + n);
    alert_to_dm().await;
}

/// The stack's webhook, admitting `concurrency` alerts of a batch at once.
fn webhook_with(stack: &Stack, concurrency: usize) -> securitybot::intake::webhook::Webhook {
    let mut webhook = stack.webhook();
    webhook.limits.admit_concurrency = concurrency;
    webhook
}

/// One alert at a time: POST to the webhook, then the notifier takes it off the queue and DMs.
async fn alert_to_dm() {
    let stack = Stack::new("bench-dm").await;
    let slack =
        securitybot_tests::slack::SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let webhook = stack.webhook();
    let notifier = stack.notifier(&slack.url());
    let template: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    let rounds = 50;
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let mut alert = template.clone();
        alert["id"] = format!("bench-dm-{i}").into();
        alert["context"]["host"] = format!("host-{i}").into();
        let request = with_body(event("ingest-canonical.json"), &alert.to_string());
        let started = Instant::now();
        let (status, _) = call(&webhook, &request).await;
        let delivered = stack.deliver(&notifier).await;
        times.push(started.elapsed());
        assert_eq!(status, 202);
        assert!(delivered.batch_item_failures.is_empty());
    }
    times.sort();
    let dms = slack.calls_to("chat.postMessage").await.len();
    println!(
        "alert to DM: n={rounds} p50={:.2} ms p95={:.2} ms max={:.2} ms ({dms} DMs posted)",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0)
    );
}

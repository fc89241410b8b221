//! A storm: many alerts in one burst through the real webhook, then the real notifier (several
//! invocations at once, as Lambda would run them) against a Slack stand-in that enforces
//! Slack's rate (one message per second per channel, 429 with Retry-After beyond). Reports
//! what matters when it is real: alerts lost (must be 0), duplicate DMs (must be 0), the time
//! taken against the rate limit's own bound, Slack calls per alert.
//! `STORM_ALERTS` (default 10000) alerts over `STORM_ALERTS / 10` people. Run with
//! `scripts/bench.sh --bench storm` (it starts moto). Numbers, not pass/fail.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const NOTIFIERS: usize = 4;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("STORM_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let people_n = (n / 10).max(1);
    let stack = Stack::new("storm").await;
    let people: Vec<(String, String)> = (0..people_n)
        .map(|i| (format!("user{i}@example.com"), format!("U{i:05}")))
        .collect();
    let pairs: Vec<(&str, &str)> = people
        .iter()
        .map(|(e, i)| (e.as_str(), i.as_str()))
        .collect();
    let slack = SlackStandIn::start_paced(&pairs).await;

    // The burst (batches of 100, as a SIEM sends them) and the notifier draining the queue at
    // the same time, several invocations at once, as Lambda's SQS mapping would run them.
    let webhook = stack.webhook();
    let template: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    let ingesting = AtomicBool::new(true);
    let started = Instant::now();
    let burst = async {
        for b in 0..n.div_ceil(100) {
            let alerts: Vec<Value> = (b * 100..((b + 1) * 100).min(n))
                .map(|i| {
                    let mut alert = template.clone();
                    alert["id"] = format!("storm-{i}").into();
                    alert["user"] = people[i % people_n].0.clone().into();
                    alert
                })
                .collect();
            let body = serde_json::json!({ "alerts": alerts }).to_string();
            let (status, answer) =
                call(&webhook, &with_body(event("ingest-canonical.json"), &body)).await;
            assert_eq!(status, 202, "{answer}");
            // A line every 1,000 alerts: a long run shows it is moving, and a stopped one says how far it got.
            if (b + 1) % 10 == 0 {
                eprintln!(
                    "storm: {} alerts admitted after {:.0} s",
                    ((b + 1) * 100).min(n),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        ingesting.store(false, Ordering::SeqCst);
        started.elapsed()
    };
    let workers: Vec<_> = (0..NOTIFIERS)
        .map(|_| drain(&stack, stack.notifier(&slack.url()), &ingesting))
        .collect();
    let (ingest, _) = tokio::join!(burst, futures_util::future::join_all(workers));
    let drain_time = started.elapsed();

    // The invariants.
    let alerts = stack.alerts().await;
    let lost = alerts.iter().filter(|a| s(a, "status") != "asked").count();
    let mut dms: HashMap<String, usize> = HashMap::new();
    for post in slack.accepted_posts() {
        if let Some(id) = post["blocks"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["type"] == "actions"))
            .and_then(|b| b["elements"][0]["value"].as_str())
        {
            *dms.entry(id.to_string()).or_default() += 1;
        }
    }
    let duplicates: usize = dms.values().map(|c| c.saturating_sub(1)).sum();
    let calls = slack.calls().await;
    let rate_limited = calls.len()
        - slack.accepted_posts().len()
        - calls
            .iter()
            .filter(|c| c.method != "chat.postMessage")
            .count();
    let bound = Duration::from_secs((n / people_n) as u64); // messages per DM channel at 1/s
    println!(
        "storm: {n} alerts over {people_n} people; ingest {:.1} s ({:.0} alerts/s); notifier x{NOTIFIERS} draining meanwhile, all asked after {:.1} s (the per-channel rate alone needs {} s); lost {lost}; duplicate DMs {duplicates}; Slack calls per alert {:.2} ({} rate-limited, put back without spending a delivery attempt)",
        ingest.as_secs_f64(),
        n as f64 / ingest.as_secs_f64(),
        drain_time.as_secs_f64(),
        bound.as_secs(),
        calls.len() as f64 / n as f64,
        rate_limited,
    );
}

/// One notifier "invocation" after another: receive up to 10, handle, delete what succeeded,
/// until the burst is over and the queue has been empty (nothing visible, in flight or
/// delayed) for a few seconds. Draining while the burst comes in is what Lambda does, and it
/// keeps moto's queue short (moto's SendMessage slows with the queue's depth: 60/s at 500
/// messages, 7/s at 5,000; real SQS does not).
async fn drain(
    stack: &Stack,
    notifier: securitybot::conversation::notifier::Notifier,
    ingesting: &AtomicBool,
) {
    let queue = stack.env["WORK_QUEUE_URL"].clone();
    let mut idle = 0;
    while idle < 5 || ingesting.load(Ordering::SeqCst) {
        let received = stack
            .sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if received.is_empty() {
            idle += 1;
            continue;
        }
        idle = 0;
        let mut event = SqsEvent::default();
        for m in &received {
            let mut message = SqsMessage::default();
            message.message_id = m.message_id.clone();
            message.receipt_handle = m.receipt_handle.clone();
            message.body = m.body.clone();
            event.records.push(message);
        }
        let response = notifier::handle(&notifier, event, None).await.unwrap();
        for m in &received {
            let failed = response
                .batch_item_failures
                .iter()
                .any(|f| Some(&f.item_identifier) == m.message_id.as_ref());
            if !failed {
                stack
                    .sqs
                    .delete_message()
                    .queue_url(&queue)
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

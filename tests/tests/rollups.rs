//! Rollups: the hourly and daily digests for a seeded set of alerts, posted once per period,
//! counted in the team's time zone, and retried after a Slack failure.

use chrono::{DateTime, Duration, Utc};
use securitybot::core::alert::{Alert, Severity};
use securitybot::core::record::AlertRecord;
use securitybot::core::state::{AuditEntry, EscalationReason as Reason, Status};
use securitybot::core::transition::Transition;
use securitybot::wiring::Adapters;
use securitybot_tests::slack::{self, SlackStandIn};
use securitybot_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const NEW_YORK: &str = "America/New_York";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An alert as the lifecycle would have left it: `steps` are (seconds after receipt, status).
fn record(
    n: u32,
    rule: &str,
    user: &str,
    received: &str,
    status: Status,
    reason: Option<Reason>,
    steps: &[(i64, Status)],
) -> AlertRecord {
    let received = at(received);
    let alert = Alert {
        source: "splunk".into(),
        source_id: Some(format!("sid-{n}")),
        rule: rule.into(),
        user: Some(user.into()),
        title: format!("{rule} by {user}"),
        description: String::new(),
        severity: Severity::High,
        occurred_at: received,
        context: BTreeMap::from([("host".to_string(), format!("build-{n}"))]),
        link: None,
        sender: None,
    };
    let mut history = vec![AuditEntry {
        at: received,
        actor: "webhook:local".into(),
        status: Status::Received,
        note: "stored".into(),
    }];
    history.extend(steps.iter().map(|(secs, status)| AuditEntry {
        at: received + Duration::seconds(*secs),
        actor: "test".into(),
        status: *status,
        note: String::new(),
    }));
    securitybot::adapters::memory::record_after(alert, user, status, reason, received, history)
}

/// Alerts around the hour 09:00-10:00 UTC (04:00-05:00 in New York) on 28 November 2026.
async fn seeded() -> (Stack, Adapters) {
    use Status::*;
    let stack = Stack::new("rollup").await;
    let adapters = Adapters::new(&stack.aws, &resources(&stack), stack.metrics.clone());
    let asked = (5, Asked);
    let records = [
        record(
            1,
            "sudo_root_shell",
            "ada@example.com",
            "2026-11-28T09:00:00Z",
            Confirmed,
            None,
            &[asked, (125, AwaitingSecondFactor), (160, Confirmed)],
        ),
        record(
            2,
            "sudo_root_shell",
            "ada@example.com",
            "2026-11-28T09:10:00Z",
            Confirmed,
            None,
            &[asked, (245, AwaitingSecondFactor), (300, Confirmed)],
        ),
        record(
            3,
            "sudo_root_shell",
            "ada@example.com",
            "2026-11-28T09:20:00Z",
            Snoozed,
            None,
            &[(1, Snoozed)],
        ),
        record(
            4,
            "sudo_root_shell",
            "bob@example.com",
            "2026-11-28T09:30:00Z",
            Escalated,
            Some(Reason::Denied),
            &[asked, (65, Escalated)],
        ),
        record(
            5,
            "nmap_scan",
            "carol@example.com",
            "2026-11-28T09:40:00Z",
            Acknowledged,
            Some(Reason::NoAnswer),
            &[
                asked,
                (600, Reminded),
                (1805, Escalated),
                (1900, Acknowledged),
            ],
        ),
        record(
            6,
            "nmap_scan",
            "dan@example.com",
            "2026-11-28T09:59:59Z",
            Asked,
            None,
            &[asked],
        ),
        record(
            7,
            "impossible_travel",
            "eve@example.com",
            "2026-11-28T09:45:00Z",
            Escalated,
            Some(Reason::NeverContact),
            &[(1, Escalated)],
        ),
        record(
            8,
            "impossible_travel",
            "mallory@example.com",
            "2026-11-28T09:50:00Z",
            Incident,
            Some(Reason::Denied),
            &[asked, (30, Escalated), (400, Incident)],
        ),
        // Outside the hour on either side: not counted (the end is exclusive).
        record(
            9,
            "sudo_root_shell",
            "ada@example.com",
            "2026-11-28T08:59:59Z",
            Confirmed,
            None,
            &[],
        ),
        record(
            10,
            "sudo_root_shell",
            "ada@example.com",
            "2026-11-28T10:00:00Z",
            Asked,
            None,
            &[asked],
        ),
        // Older escalations: still waiting for the team, so listed; but not counted in the hour.
        record(
            11,
            "new_admin_grant",
            "frank@example.com",
            "2026-11-25T14:00:00Z",
            Escalated,
            Some(Reason::SecondFactorFailed),
            &[asked, (200, Escalated)],
        ),
        // Escalated four weeks ago and still waiting: listed too, however old.
        record(
            12,
            "new_admin_grant",
            "frank@example.com",
            "2026-11-01T14:00:00Z",
            Escalated,
            Some(Reason::NoAnswer),
            &[(1800, Escalated)],
        ),
    ];
    for r in &records {
        adapters.alerts.insert_new(r).await.unwrap();
    }
    // Grace's two-factor is approved at 09:30; Heidi's setup waits for the team.
    let second_factor = adapters.second_factor(10);
    let uri = second_factor
        .start_setup("grace@example.com", at("2026-11-28T09:29:00Z"))
        .await
        .unwrap()
        .unwrap();
    let confirmed = second_factor
        .confirm_setup(
            "grace@example.com",
            &code_at(&uri, at("2026-11-28T09:29:30Z")),
            at("2026-11-28T09:29:30Z"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(confirmed, securitybot::ports::SetupCheck::Confirmed);
    let approved = second_factor
        .decide(
            "grace@example.com",
            true,
            "chat:UTEAM",
            at("2026-11-28T09:30:00Z"),
        )
        .await
        .unwrap();
    assert!(approved);
    second_factor
        .start_setup("heidi@example.com", at("2026-11-28T09:31:00Z"))
        .await
        .unwrap();
    stack.clock.set(at("2026-11-28T10:00:20Z"));
    (stack, adapters)
}

/// The admin's resources: it enrolls people (the second-factor secret), as the seeding does.
fn resources(stack: &Stack) -> securitybot::config::Resources {
    let template = securitybot_infra::Template::load(&securitybot_infra::template_path()).unwrap();
    let env = stack
        .created
        .function_env(&template, "AdminFunction")
        .unwrap();
    securitybot::config::Resources::read(&mut securitybot::config::EnvReader::new(move |k| {
        env.get(k).cloned()
    }))
}

/// The words of a Block Kit message, one line per block (fields joined by " | ").
fn text_of(blocks: &Value) -> String {
    let mut lines = Vec::new();
    for block in blocks.as_array().expect("blocks") {
        let line = match block["type"].as_str().unwrap() {
            "section" if block.get("fields").is_some() => block["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["text"].as_str().unwrap().replace('\n', ": "))
                .collect::<Vec<_>>()
                .join(" | "),
            "section" => block["text"]["text"].as_str().unwrap().to_string(),
            "context" => block["elements"][0]["text"].as_str().unwrap().to_string(),
            other => panic!("unexpected block type {other}"),
        };
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

/// Compares with tests/snapshots/NAME; `UPDATE_SNAPSHOTS=1` rewrites it (review the diff).
fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "rollup text changed (UPDATE_SNAPSHOTS=1 to accept)"
    );
}

#[tokio::test]
async fn the_hourly_rollup_for_a_seeded_hour_reads_as_expected_and_posts_once() {
    let (stack, _) = seeded().await;
    let slack = SlackStandIn::start(&[]).await;
    let rollups = stack.rollup(&slack.url(), NEW_YORK);
    let run = rollup::handle(
        &rollups,
        json!({"period": "hourly", "scheduled_time": "2026-11-28T10:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(run["posted"], true);
    assert_eq!(run["period"], "rollup#hourly#2026-11-28T09:00Z");
    assert_eq!(run["alerts"], 8);
    assert_eq!(run["open_escalations"], 4);
    let posts = slack.calls_to("chat.postMessage").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].args["channel"], SECURITY_CHANNEL);
    assert_snapshot("rollup-hourly.txt", &text_of(&posts[0].args["blocks"]));

    // The schedule's retry, or a second delivery of the same tick: nothing more is posted.
    let again = rollup::handle(
        &rollups,
        json!({"period": "hourly", "scheduled_time": "2026-11-28T10:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(again["posted"], false);
    assert_eq!(slack.calls_to("chat.postMessage").await.len(), 1);
}

#[tokio::test]
async fn the_daily_rollup_counts_the_team_zone_day_before_the_tick() {
    let (stack, adapters) = seeded().await;
    let slack = SlackStandIn::start(&[]).await;
    stack.clock.set(at("2026-11-29T14:00:05Z"));
    // 09:00 in New York on Sunday 29 November: the digest of Saturday 28th, New York time
    // (05:00 UTC on the 28th to 05:00 UTC on the 29th), so alerts 1-10 all count.
    let run = rollup::handle(
        &stack.rollup(&slack.url(), NEW_YORK),
        json!({"period": "daily", "scheduled_time": "2026-11-29T14:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(run["period"], "rollup#daily#2026-11-28T05:00Z");
    assert_eq!(run["alerts"], 10);
    let text = text_of(&slack.calls_to("chat.postMessage").await[0].args["blocks"]);
    assert!(
        text.contains("*Daily roll-up* · Saturday 28 November 2026 (America/New_York)"),
        "{text}"
    );
    assert!(text.contains("*10* alerts came in"), "{text}");
    assert!(
        text.contains("grace@example.com") && !text.contains("heidi@example.com"),
        "{text}"
    );

    // The team acknowledges the oldest escalation: it leaves the list.
    let oldest = adapters.alerts.awaiting_team().await.unwrap();
    assert_eq!(oldest.len(), 4);
    assert_eq!(
        oldest[0].received_at,
        at("2026-11-01T14:00:00Z"),
        "oldest first"
    );
    let ack = Transition::new(
        &[Status::Escalated],
        Status::Acknowledged,
        stack.now(),
        "chat:UTEAM1",
        "acknowledged",
    );
    adapters
        .alerts
        .transition(&oldest[0].id, &ack)
        .await
        .unwrap()
        .expect("it was escalated");
    assert_eq!(adapters.alerts.awaiting_team().await.unwrap().len(), 3);

    // In UTC, a tick at 09:00 on the 28th closes Friday the 27th: none of the seeded alerts.
    let utc = rollup::handle(
        &stack.rollup(&slack.url(), "UTC"),
        json!({"period": "daily", "scheduled_time": "2026-11-28T09:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            utc["period"].as_str().unwrap(),
            utc["alerts"].as_u64().unwrap()
        ),
        ("rollup#daily#2026-11-27T00:00Z", 0)
    );
    let quiet = text_of(&slack.calls_to("chat.postMessage").await[1].args["blocks"]);
    assert!(quiet.contains("A quiet day: no alerts came in."), "{quiet}");
    assert!(
        quiet.contains("3 escalations nobody has acknowledged yet"),
        "open escalations are listed even on quiet days: {quiet}"
    );
}

#[tokio::test]
async fn a_slack_failure_frees_the_period_for_the_retry() {
    let (stack, _) = seeded().await;
    let slack = SlackStandIn::start(&[]).await;
    slack.rate_limit("chat.postMessage", 1, 30).await;
    let rollups = stack.rollup(&slack.url(), NEW_YORK);
    let tick = json!({"period": "hourly", "scheduled_time": "2026-11-28T10:00:00Z"});
    let failed = rollup::handle(&rollups, tick.clone()).await;
    let error = failed.unwrap_err().to_string();
    assert!(
        !error.contains(slack::BOT_TOKEN),
        "no secret in errors: {error}"
    );
    let retried = rollup::handle(&rollups, tick).await.unwrap();
    assert_eq!(retried["posted"], true);
    let posts = slack.calls_to("chat.postMessage").await;
    assert_eq!(posts.len(), 2, "one refused with 429, one posted");
}

#[tokio::test]
async fn the_samples_post_and_bad_ticks_are_refused_with_the_field_named() {
    let stack = Stack::new("rollupbad").await;
    let slack = SlackStandIn::start(&[]).await;
    let rollups = stack.rollup(&slack.url(), "UTC");
    stack.clock.set(at("2026-11-28T10:00:01Z"));
    for (sample, period) in [
        ("rollup-hourly.json", "rollup#hourly#2026-11-28T09:00Z"),
        ("rollup-daily.json", "rollup#daily#2026-11-27T00:00Z"),
    ] {
        let run = rollup::handle(&rollups, event(sample)).await.unwrap();
        assert_eq!(
            (run["period"].as_str(), run["posted"].as_bool()),
            (Some(period), Some(true)),
            "{sample}"
        );
    }
    assert_eq!(slack.calls_to("chat.postMessage").await.len(), 2);
    let future = rollup::handle(
        &rollups,
        json!({"period": "hourly", "scheduled_time": "2026-11-29T10:00:00Z"}),
    )
    .await
    .unwrap_err();
    assert!(future.to_string().contains("in the future"), "{future}");
    let weekly = rollup::handle(&rollups, json!({"period": "weekly"}))
        .await
        .unwrap_err();
    assert!(
        weekly.to_string().contains("expected hourly or daily"),
        "{weekly}"
    );
    let time = rollup::handle(
        &rollups,
        json!({"period": "daily", "scheduled_time": "yesterday"}),
    )
    .await
    .unwrap_err();
    assert!(
        time.to_string().contains("scheduled_time 'yesterday'"),
        "{time}"
    );
    let extra = rollup::handle(&rollups, json!({"period": "daily", "channel": "C1"}))
        .await
        .unwrap_err();
    assert!(
        extra.to_string().contains("unknown field `channel`"),
        "{extra}"
    );
}

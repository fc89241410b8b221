//! The poller against local stand-ins for Splunk, Elastic and a JSON API: checkpoints carry
//! over between runs without gaps or repeats; a SIEM failing mid-way loses nothing and repeats
//! nothing on the next run; page limits stop a run early and the next one carries on.

use chrono::{DateTime, Duration, Utc};
use securitybot_tests::siem::{SPLUNK_TOKEN, SiemStandIn};
use securitybot_tests::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Real time moves on while a run reads its pages: one second per look at the clock.
struct Ticking(Mutex<DateTime<Utc>>);

impl securitybot::ports::Clock for Ticking {
    fn now(&self) -> DateTime<Utc> {
        let mut t = self.0.lock().unwrap();
        *t += Duration::milliseconds(1001);
        *t
    }
}

use securitybot_tests::siem::splunk_config as splunk;

fn elastic(url: &str) -> String {
    format!(
        r#"
[pollers.elastic_security]
kind = "elastic"
url = "{url}"
index = ".alerts-security.alerts-default"
page_size = 10
window_minutes = 180
first_lookback_minutes = 120
"#
    )
}

fn custom(url: &str) -> String {
    format!(
        r#"
[pollers.custom_api]
kind = "http_json"
url = "{url}/api/alerts"
items = "data.alerts"
next_cursor = "next"
first_lookback_minutes = 120
window_minutes = 180

[pollers.custom_api.mapping]
id_field = "alert_id"
rule_field = "detection"
user_fields = ["actor.email"]
title_field = "summary"
time_field = "created"
context_fields = ["host"]
"#
    )
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn splunk_checkpoints_carry_over_between_runs_without_gaps_or_repeats() {
    let stack = Stack::new("pollsplunk").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("old", 2, t - Duration::minutes(70), "alice"); // before the first look-back
    siem.add("a", 30, t - Duration::minutes(50), "alice");
    let poller = stack.poller(&splunk(&siem.url()), 20).await;

    let first = poller.run(None).await.unwrap();
    let r = &first[0];
    assert_eq!(
        (r.source.as_str(), r.pages, r.alerts, r.new, r.caught_up),
        ("splunk_prod", 4, 30, 30, true)
    );
    assert_eq!(
        r.done_until,
        Some(t - Duration::minutes(1)),
        "windows stop a minute short of now"
    );
    assert_eq!(stack.drain_queue().await.len(), 30);

    // Five more arrive; the next run reads only the time since the checkpoint.
    siem.add("b", 5, t + Duration::minutes(2), "alice");
    stack.clock.set(t + Duration::minutes(10));
    let second = poller.run(None).await.unwrap();
    assert_eq!(
        (second[0].pages, second[0].alerts, second[0].new),
        (1, 5, 5)
    );
    assert_eq!(
        stack.drain_queue().await.len(),
        5,
        "each new alert queued once"
    );
    let third = poller.run(Some("splunk_prod")).await.unwrap();
    assert_eq!((third[0].pages, third[0].caught_up), (0, true));

    let windows = siem.requests();
    assert_eq!(windows[0]["search"], r#"| savedsearch "nmap_scan""#);
    assert_eq!(at(&windows[0]["start"]), t - Duration::minutes(60));
    for pair in windows.windows(2) {
        assert_eq!(
            pair[0]["end"], pair[1]["start"],
            "no gap, no overlap between windows"
        );
    }
    let alerts = stack.alerts().await;
    assert_eq!(alerts.len(), 35);
    assert!(alerts.iter().all(
        |a| s(a, "received_via") == "poller:splunk_prod" && s(a, "user") == "alice@example.com"
    ));
}

#[tokio::test]
async fn a_splunk_stream_cut_short_moves_nothing_and_the_next_run_repeats_nothing() {
    let stack = Stack::new("pollcut").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("a", 40, t - Duration::minutes(55), "alice");
    let poller = stack.poller(&splunk(&siem.url()), 20).await;
    siem.cut_request(2);
    let failed = poller.run(None).await.unwrap_err().to_string();
    assert!(
        failed.contains("splunk_prod") && failed.contains("stream was cut"),
        "{failed}"
    );
    assert!(!failed.contains(SPLUNK_TOKEN));
    let stored = stack.alerts().await.len();
    assert_eq!(
        stored, 10,
        "the first window (T-60..T-45: 10 alerts) is stored, nothing of the cut one"
    );

    let again = poller.run(None).await.unwrap();
    assert_eq!((again[0].alerts, again[0].new), (30, 30));
    assert_eq!(stack.alerts().await.len(), 40);
    assert_eq!(
        stack.drain_queue().await.len(),
        40,
        "every alert queued exactly once"
    );
    let windows = siem.requests();
    assert_eq!(
        windows[1]["start"], windows[2]["start"],
        "the cut window is read again"
    );
}

#[tokio::test]
async fn elastic_pages_with_search_after_and_resumes_mid_window_after_a_failure() {
    let stack = Stack::new("pollelastic").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("e", 35, t - Duration::minutes(100), "bob");
    let poller = stack.poller(&elastic(&siem.url()), 20).await;
    siem.fail_request(3);
    let failed = poller.run(None).await.unwrap_err().to_string();
    assert!(failed.contains("HTTP 503"), "{failed}");
    assert_eq!(
        stack.alerts().await.len(),
        20,
        "two full pages stored before the failure"
    );

    let again = poller.run(None).await.unwrap();
    assert_eq!(
        (
            again[0].pages,
            again[0].alerts,
            again[0].new,
            again[0].caught_up
        ),
        (2, 15, 15, true)
    );
    assert_eq!(stack.alerts().await.len(), 35);
    assert_eq!(stack.drain_queue().await.len(), 35, "no loss, no repeat");

    let requests = siem.requests();
    assert_eq!(requests[0]["after"], Value::Null);
    assert_eq!(
        requests[0]["sort"][1]["kibana.alert.uuid"], "asc",
        "a tiebreaker keeps pages stable"
    );
    assert_eq!(
        requests[2]["after"][1], "e-019",
        "the failed page asked after the 20th alert"
    );
    assert_eq!(
        requests[3]["after"], requests[2]["after"],
        "the next run asks for the same page again"
    );
    assert_eq!(
        requests[3]["start"], requests[0]["start"],
        "in the same window"
    );
    let alert = stack
        .alerts()
        .await
        .into_iter()
        .find(|a| s(a, "source_id") == "e-000")
        .unwrap();
    assert_eq!(
        (s(&alert, "rule"), s(&alert, "user"), s(&alert, "title")),
        (
            "nmap_scan".into(),
            "bob@example.com".into(),
            "nmap_scan on host-0".into()
        )
    );
}

#[tokio::test]
async fn a_json_api_is_paged_by_its_cursor_and_page_limits_stop_a_run_early() {
    let stack = Stack::new("polljson").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("c", 25, t - Duration::minutes(90), "carol");
    let poller = stack.poller(&custom(&siem.url()), 2).await;

    let first = poller.run(None).await.unwrap();
    assert_eq!(
        (first[0].pages, first[0].alerts, first[0].caught_up),
        (2, 20, false),
        "stopped at the page limit"
    );
    let second = poller.run(None).await.unwrap();
    assert_eq!(
        (second[0].pages, second[0].alerts, second[0].caught_up),
        (1, 5, true)
    );
    assert_eq!(stack.drain_queue().await.len(), 25);
    let cursors: Vec<Value> = siem
        .requests()
        .iter()
        .map(|r| r["cursor"].clone())
        .collect();
    assert_eq!(cursors, [Value::Null, "10".into(), "20".into()]);

    let alert = stack
        .alerts()
        .await
        .into_iter()
        .find(|a| s(a, "source_id") == "c-007")
        .unwrap();
    assert_eq!(s(&alert, "source"), "custom_api");
    assert_eq!(s(&alert, "user"), "carol@example.com");
    assert_eq!(s(&alert, "title"), "nmap_scan on host-7");
    assert_eq!(
        s(&alert, "occurred_at"),
        (t - Duration::minutes(83))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    );
}

#[tokio::test]
async fn every_source_in_one_run_and_unknown_or_misconfigured_sources_are_named() {
    let stack = Stack::new("pollall").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("x", 3, t - Duration::minutes(30), "dave");
    let config = format!(
        "{}{}{}",
        splunk(&siem.url()),
        elastic(&siem.url()),
        custom(&siem.url())
    );
    let poller = stack.poller(&config, 20).await;
    let reports = poller.run(None).await.unwrap();
    let names: Vec<(&str, usize)> = reports
        .iter()
        .map(|r| (r.source.as_str(), r.alerts))
        .collect();
    assert_eq!(
        names,
        [
            ("custom_api", 3),
            ("elastic_security", 3),
            ("splunk_prod", 3)
        ]
    );
    // Three sources, three ids for each SIEM event: each source names its own alerts.
    assert_eq!(stack.alerts().await.len(), 9);

    let unknown = poller.run(Some("qradar")).await.unwrap_err().to_string();
    assert!(
        unknown.contains(
            "no poller named 'qradar' (configured: custom_api, elastic_security, splunk_prod)"
        ),
        "{unknown}"
    );
    let bad = securitybot::config::BotConfig::parse(
        &format!(
            "{}\n[pollers.broken]\nkind = \"splunk\"\nurl = \"ftp://x\"\n",
            securitybot::config::BUNDLED_CONFIG
        ),
        "test",
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("pollers.broken: url must be an http(s) URL"),
        "{bad}"
    );
    assert!(
        bad.contains("pollers.broken: kind = \"splunk\" needs saved_search"),
        "{bad}"
    );
}

#[tokio::test]
async fn a_run_stops_at_its_horizon_even_while_time_moves_on() {
    let stack = Stack::new("pollhorizon").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("h", 3, t - Duration::minutes(20), "erin");
    let mut poller = stack.poller(&custom(&siem.url()), 20).await;
    let clock = Arc::new(Ticking(Mutex::new(t)));
    poller.clock = clock.clone();
    poller.intake.clock = clock;
    let first = poller.run(None).await.unwrap();
    assert_eq!(
        (first[0].pages, first[0].alerts, first[0].caught_up),
        (1, 3, true),
        "one window up to the run's horizon, not slivers after it"
    );
    let second = poller.run(None).await.unwrap();
    assert_eq!(
        second[0].pages, 1,
        "the next run reads the few seconds since, once"
    );
    let windows = siem.requests();
    assert_eq!(windows[0]["end"], windows[1]["start"]);
    assert!(
        windows
            .iter()
            .all(|w| !w["start"].as_str().unwrap().contains('.')),
        "whole seconds: {windows:?}"
    );
}

#[tokio::test]
async fn the_sample_events_drive_the_real_handler() {
    let stack = Stack::new("pollsamples").await;
    let siem = SiemStandIn::start().await;
    siem.add("s", 2, stack.now() - Duration::minutes(30), "alice");
    let poller = stack
        .poller(
            &format!("{}{}", splunk(&siem.url()), custom(&siem.url())),
            20,
        )
        .await;
    let one = poller::handle(&poller, event("poller-one-source.json"))
        .await
        .unwrap();
    let sources = one["sources"].as_array().unwrap();
    assert_eq!(
        (sources.len(), &sources[0]["source"], &sources[0]["new"]),
        (1, &"splunk_prod".into(), &2.into())
    );
    let all = poller::handle(&poller, event("poller-tick.json"))
        .await
        .unwrap();
    let names: Vec<&str> = all["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["custom_api", "splunk_prod"]);
    let bad = poller::handle(&poller, serde_json::json!({"source": 7}))
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .contains("a poller event is {} or {\"source\": \"<name>\"}"),
        "{bad}"
    );
}

#[tokio::test]
async fn a_rotated_siem_token_is_used_from_the_run_after_a_refusal() {
    use securitybot::adapters::secrets_manager::{SecretsCache, SecretsManagerSource};
    let stack = Stack::new("pollrotate").await;
    let siem = SiemStandIn::start().await;
    siem.add("r", 2, stack.now() - Duration::minutes(30), "alice");
    let mut poller = stack.poller(&splunk(&siem.url()), 20).await;
    // The deployed cache re-reads at most every 30 s; this one may re-read at every refusal.
    let secrets = Arc::new(SecretsCache::new(
        Arc::new(SecretsManagerSource::new(
            stack.secrets.clone(),
            SecretPurpose::Siem,
            Some(stack.secret_id(SecretPurpose::Siem)),
        )),
        std::time::Duration::ZERO,
    ));
    let feed = &mut poller.feeds[0];
    feed.fetch = securitybot::adapters::feeds::feed(&feed.name, &feed.source, secrets);
    let with_token =
        |token: &str| serde_json::json!({"poller_tokens": {"splunk_prod": token}}).to_string();

    stack.set_secret(&with_token("the-old-token")).await;
    let refused = poller.run(None).await.unwrap_err().to_string();
    assert!(refused.contains("HTTP 401"), "{refused}");
    assert!(
        !refused.contains("the-old-token"),
        "no secret in errors: {refused}"
    );
    // The operator puts the SIEM's new token in Secrets Manager; no redeploy.
    stack.set_secret(&with_token(SPLUNK_TOKEN)).await;
    assert!(
        poller.run(None).await.is_err(),
        "the cached token is refused once more, which re-reads the secret"
    );
    let ok = poller.run(None).await.unwrap();
    assert_eq!(stack.alerts().await.len(), 2, "{ok:?}");
}

#[tokio::test]
async fn a_splunk_event_indexed_late_is_read_once_in_the_window_it_was_indexed_in() {
    let stack = Stack::new("polllate").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("a", 3, t - Duration::minutes(30), "alice");
    // It happened 40 minutes ago, but the forwarder only delivered it 5 minutes from now.
    siem.add_late(
        "late-1",
        t - Duration::minutes(40),
        t + Duration::minutes(5),
        "alice",
    );
    let poller = stack.poller(&splunk(&siem.url()), 20).await;
    poller.run(None).await.unwrap();
    assert_eq!(stack.drain_queue().await.len(), 3, "not indexed yet");

    stack.clock.set(t + Duration::minutes(10));
    poller.run(None).await.unwrap();
    let queued = stack.drain_queue().await;
    assert_eq!(queued.len(), 1, "read in the window it was indexed in");
    stack.clock.set(t + Duration::minutes(20));
    poller.run(None).await.unwrap();
    assert!(stack.drain_queue().await.is_empty(), "and only once");
    assert_eq!(stack.alerts().await.len(), 4);
}

#[tokio::test]
async fn splunk_previews_are_not_alerts_and_a_fatal_message_mid_stream_reads_the_window_again() {
    let stack = Stack::new("pollfatal").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("a", 40, t - Duration::minutes(55), "alice");
    let poller = stack.poller(&splunk(&siem.url()), 20).await;
    siem.fatal_request(2);
    let failed = poller.run(None).await.unwrap_err().to_string();
    assert!(
        failed.contains("splunk_prod") && failed.contains("cancelled by an administrator"),
        "{failed}"
    );
    assert_eq!(
        stack.alerts().await.len(),
        10,
        "the first window is stored (its previews were not counted), nothing of the failed one"
    );
    let again = poller.run(None).await.unwrap();
    assert_eq!(
        (again[0].alerts, again[0].new),
        (30, 30),
        "final rows only, each once"
    );
    assert_eq!(
        stack.drain_queue().await.len(),
        40,
        "every alert queued once"
    );
    let windows = siem.requests();
    assert_eq!(
        windows[1]["start"], windows[2]["start"],
        "the failed window is read again"
    );
}

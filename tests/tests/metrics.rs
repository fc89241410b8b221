//! Metrics through the real handlers: an alert asked and answered No, then escalated, leaves
//! the EMF lines the dashboard is built from, with the names, units and dimensions it reads.

use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::Value;

/// The lines that carry `metric`, with its unit as declared in the line's directive.
fn with_metric<'a>(lines: &'a [Value], metric: &str) -> Vec<(&'a Value, String)> {
    lines
        .iter()
        .filter_map(|l| {
            let unit = l["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()?
                .iter()
                .find(|m| m["Name"] == metric)?["Unit"]
                .as_str()?
                .to_string();
            Some((l, unit))
        })
        .collect()
}

#[tokio::test]
async fn an_answered_alert_leaves_the_metrics_the_dashboard_reads() {
    let stack = Stack::new("metrics").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    stack.clock.set(stack.now() + chrono::Duration::seconds(90));
    let interaction = stack.interaction(&slack.url());
    stack
        .slack_post(&interaction, &click("answer_no", &id, "UALICE", "DUALICE"))
        .await;
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(stack.alert(&id).await.status.as_str(), "escalated");

    let lines = stack.metrics.lines();
    for line in &lines {
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Securitybot/test"
        );
        assert!(line["_aws"]["Timestamp"].is_i64(), "{line}");
    }
    let received = with_metric(&lines, "AlertsReceived");
    assert_eq!(received.len(), 1, "{lines:?}");
    assert_eq!(
        (&received[0].0["Source"], &received[0].0["Outcome"]),
        (&"webhook:local".into(), &"ask".into())
    );
    assert_eq!(received[0].1, "Count");

    let asks = with_metric(&lines, "AlertToAsk");
    assert_eq!((asks.len(), asks[0].1.as_str()), (1, "Seconds"));
    let answers = with_metric(&lines, "AskToAnswer");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0["Answer"], "no");
    assert_eq!(
        answers[0].0["AskToAnswer"], 90.0,
        "time from the DM to the answer"
    );
    let escalations = with_metric(&lines, "Escalations");
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].0["Reason"], "denied");

    // Every Slack call is counted by method; none was rate-limited here.
    let calls = with_metric(&lines, "SlackCalls");
    let posts = calls
        .iter()
        .filter(|(l, _)| l["Method"] == "chat.postMessage")
        .count();
    assert_eq!(posts, 2, "the ask and the team post");
    assert!(calls.iter().all(|(l, _)| l["SlackRateLimited"] == 0.0
        && l["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == serde_json::json!([[], ["Method"]])));
    // No alert content reaches a dimension: the title is nowhere in the lines.
    let title = stack.alert(&id).await.alert.title;
    assert!(!serde_json::to_string(&lines).unwrap().contains(&title));
}

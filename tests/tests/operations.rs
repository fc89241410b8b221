//! Operating it: the operator commands, the metrics the dashboard reads, and rules changed
//! without a rebuild, each through the real handlers against moto and the Slack stand-in.

use securitybot::config::{BUNDLED_CONFIG, BotConfig};
use securitybot::wiring::live::{self, RECHECK};
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};

// ---- operator commands
// Operator commands added for the console: one person's alerts, and re-sending a team post,
// through the real admin handler against moto and the Slack stand-in.

/// The sample alert under a new id.
async fn alert(stack: &Stack, n: u32) -> String {
    let sample = event("ingest-canonical.json");
    let mut body: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    body["id"] = format!("admin-{n}").into();
    let (status, answer) = call(&stack.webhook(), &with_body(sample, &body.to_string())).await;
    assert_eq!(status, 202, "{answer}");
    answer["alerts"][0]["alert_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn alerts_for_a_person_come_newest_first_from_the_index() {
    let stack = Stack::new("alerts-for").await;
    let first = alert(&stack, 1).await;
    stack.clock.set(stack.now() + chrono::Duration::minutes(5));
    let second = alert(&stack, 2).await;
    let admin = stack.admin();
    let all = admin
        .run(json!({"command": "alerts_for", "user": "alice"}))
        .await
        .unwrap();
    assert_eq!(
        all["user"], "alice@example.com",
        "bare names map as alerts do"
    );
    let ids: Vec<&str> = all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(all["alerts"][0]["status"], "received");
    let one = admin
        .run(json!({"command": "alerts_for", "user": "alice@example.com", "limit": 1}))
        .await
        .unwrap();
    assert_eq!(one["alerts"].as_array().unwrap().len(), 1);
    let nobody = admin
        .run(json!({"command": "alerts_for", "user": "bob@example.com"}))
        .await
        .unwrap();
    assert_eq!(nobody["alerts"], json!([]));
}

#[tokio::test]
async fn a_lost_team_post_is_re_sent_by_an_operator_and_the_new_one_is_live() {
    let stack = Stack::new("resend").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let admin = stack.admin_with(stack.settings_of("AdminFunction", &slack.url()));
    let id = alert(&stack, 1).await;
    // Not escalated yet: nothing to re-send, said plainly.
    let refused = admin
        .run(json!({"command": "resend_team_post", "alert_id": id, "operator": "dana"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("is received"), "{refused}");

    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let f = stack.interaction(&slack.url());
    stack
        .slack_post(&f, &click("answer_no", &id, "UALICE", "DUALICE"))
        .await;
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let before = stack.alert(&id).await.escalation_message.unwrap();
    assert_eq!(slack.team_posts().await.len(), 1);

    let out = admin
        .run(json!({"command": "resend_team_post", "alert_id": id, "operator": "dana"}))
        .await
        .unwrap();
    assert_eq!(out["posted"], true, "{out}");
    assert_eq!(slack.team_posts().await.len(), 2, "posted again");
    let record = stack.alert(&id).await;
    let after = record.escalation_message.clone().unwrap();
    assert_ne!(after.ts, before.ts, "the alert points at the new post");
    let line = record.history.last().unwrap();
    assert_eq!(
        (line.actor.as_str(), line.note.as_str()),
        ("operator:dana", "team post re-sent")
    );
    // The team acts from the new post: it is the one updated.
    stack
        .slack_post(
            &f,
            &click("team_acknowledge", &id, TEAM_MEMBER, &after.channel),
        )
        .await;
    assert_eq!(stack.alert(&id).await.status.as_str(), "acknowledged");
    let updated = slack.calls_to("chat.update").await;
    assert!(
        updated.iter().any(|c| c.args["ts"] == after.ts.as_str()),
        "{updated:?}"
    );
}

// ---- metrics
// Metrics through the real handlers: an alert asked and answered No, then escalated, leaves
// the EMF lines the dashboard is built from, with the names, units and dimensions it reads.

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

// ---- rules in the store
// Rules changed without a rebuild, through the real notifier against moto: a version saved in
// the rules document takes effect at the next look (no restart), a version that does not
// validate is refused with the last good one kept and counted for its alarm, and the admin
// checks a candidate before anyone saves it.

const IN_BUNDLE: &str = "deadline_minutes = 30\nreminder_minutes = 10";

/// The bundled file with sudo_root_shell's deadline (and reminder) changed.
fn rules_with(deadline_and_reminder: &str) -> String {
    assert!(BUNDLED_CONFIG.contains(IN_BUNDLE));
    BUNDLED_CONFIG.replacen(IN_BUNDLE, deadline_and_reminder, 1)
}

async fn save_rules(stack: &Stack, text: &str) {
    stack
        .secrets
        .put_secret_value()
        .secret_id(&stack.created.refs["RulesConfig"])
        .secret_string(text)
        .send()
        .await
        .unwrap();
}

/// Sends the sample sudo alert under a new id and returns the minutes from the ask to its
/// deadline, as the notifier in force set them.
async fn ask_and_read_deadline(
    stack: &Stack,
    live: &live::LiveConfig<securitybot::conversation::notifier::Notifier>,
    n: u32,
) -> i64 {
    let id = alert(stack, n).await;
    stack.deliver_ok(&*live.current().await).await;
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "asked");
    (record.deadline_at.unwrap() - stack.now()).num_minutes()
}

#[tokio::test]
async fn saved_rules_take_effect_without_a_restart_and_a_bad_version_keeps_the_last_good() {
    let stack = Stack::new("rules-store").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let settings = stack.settings_of("NotifierFunction", &slack.url());
    assert!(
        settings.resources.rules_config_id.is_some(),
        "the template hands the notifier the rules document"
    );
    let live = live::from_store(
        &stack.aws,
        &settings.resources,
        BotConfig::load(None).unwrap(),
        stack.clock.clone(),
        stack.metrics.clone(),
        {
            let (aws, settings, clock, metrics) = (
                stack.aws.clone(),
                settings.clone(),
                stack.clock.clone(),
                stack.metrics.clone(),
            );
            move |bot| notifier::wire(&aws, &settings, bot, clock.clone(), metrics.clone())
        },
    );
    // The document as the template creates it (comments only): the bundled rules.
    assert_eq!(ask_and_read_deadline(&stack, &live, 1).await, 30);

    save_rules(
        &stack,
        &rules_with("deadline_minutes = 45\nreminder_minutes = 10"),
    )
    .await;
    stack.clock.set(stack.now() + RECHECK);
    assert_eq!(
        ask_and_read_deadline(&stack, &live, 2).await,
        45,
        "the saved version is in force, same container"
    );

    // A reminder after the deadline does not validate: refused, 45 stays, the alarm's metric.
    save_rules(
        &stack,
        &rules_with("deadline_minutes = 5\nreminder_minutes = 10"),
    )
    .await;
    stack.clock.set(stack.now() + RECHECK);
    assert_eq!(ask_and_read_deadline(&stack, &live, 3).await, 45);
    let refused = stack
        .metrics
        .lines()
        .iter()
        .filter(|l| l["RulesRefused"] == 1.0)
        .count();
    assert_eq!(refused, 1, "counted for RulesRefusedAlarm");
}

#[tokio::test]
async fn the_admin_checks_a_candidate_and_lists_what_it_would_change() {
    let stack = Stack::new("rules-check").await;
    let admin = stack.admin();
    let bad = admin
        .run(json!({"command": "check_rules", "rules": rules_with("deadline_minutes = 5\nreminder_minutes = 10")}))
        .await
        .unwrap();
    assert_eq!(bad["valid"], false);
    let problem = bad["problem"].as_str().unwrap();
    assert!(problem.contains("sudo_root_shell"), "{problem}");
    let good = admin
        .run(json!({"command": "check_rules", "rules": rules_with("deadline_minutes = 45\nreminder_minutes = 10")}))
        .await
        .unwrap();
    assert_eq!(good["valid"], true, "{good}");
    let changes: Vec<&str> = good["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        changes.contains(&"sudo_root_shell: deadline_minutes (high) 30 -> 45"),
        "{changes:#?}"
    );
    assert_eq!(
        changes.len(),
        4,
        "one deadline per severity, nothing else: {changes:#?}"
    );
    // Nothing was saved by checking.
    let stored = stack
        .secrets
        .get_secret_value()
        .secret_id(&stack.created.refs["RulesConfig"])
        .send()
        .await
        .unwrap();
    assert!(
        stored
            .secret_string()
            .unwrap()
            .starts_with("# Securitybot rules")
    );
}

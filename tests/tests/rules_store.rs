//! Rules changed without a rebuild, through the real notifier against moto: a version saved in
//! the rules document takes effect at the next look (no restart), a version that does not
//! validate is refused with the last good one kept and counted for its alarm, and the admin
//! checks a candidate before anyone saves it.

use securitybot::config::{BUNDLED_CONFIG, BotConfig};
use securitybot::wiring::live::{self, RECHECK};
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};

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
    let sample = event("ingest-canonical.json");
    let mut body: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    body["id"] = format!("rules-{n}").into();
    let (status, answer) = call(&stack.webhook(), &with_body(sample, &body.to_string())).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["alerts"][0]["alert_id"]
        .as_str()
        .unwrap()
        .to_string();
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

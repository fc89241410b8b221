//! The whole loop through the real handlers, against moto and a Slack stand-in:
//! webhook alert -> DM -> Yes -> form -> code -> confirmed + snooze -> the same alert again is
//! snoozed (no DM) -> the same rule on another host is asked -> No on that one -> escalation post
//! -> the team acknowledges it.

use securitybot_tests::slack::{BOT_TOKEN, SlackStandIn, buttons};
use securitybot_tests::*;
use serde_json::{Value, json};

const ALICE: &str = "UALICE";

fn alert_on(host: &str, id: &str) -> Value {
    let mut alert: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    alert["id"] = id.into();
    alert["context"]["host"] = host.into();
    with_body(event("ingest-canonical.json"), &alert.to_string())
}

#[tokio::test]
async fn the_whole_conversation() {
    let stack = Stack::new("e2e").await;
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    let webhook = stack.webhook();
    let notifier = stack.notifier(&slack.url());
    let interaction = stack.interaction(&slack.url());

    // Alice enrolls with the operator's help.
    let enrolled = stack
        .admin()
        .run(json!({"command": "enroll", "user": "alice@example.com", "operator": "ops"}))
        .await
        .unwrap();
    let uri = enrolled["otpauth_uri"].as_str().unwrap().to_string();
    assert!(
        uri.starts_with("otpauth://totp/Securitybot:alice%40example.com?")
            || uri.starts_with("otpauth://totp/Securitybot:alice@example.com?"),
        "{uri}"
    );

    // 1. The SIEM sends an alert; the notifier DMs Alice with Yes / No.
    let (status, body) = call(&webhook, &alert_on("build-01", "evt-1")).await;
    assert_eq!(
        (status, body["alerts"][0]["outcome"].as_str()),
        (202, Some("ask"))
    );
    let first = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&notifier).await;
    assert!(
        slack.told_the_team("An operator enrolled").await,
        "the operator's enrollment is announced to the team"
    );
    let posts: Vec<_> = slack
        .calls_to("chat.postMessage")
        .await
        .into_iter()
        .filter(|p| p.args["channel"] != SECURITY_CHANNEL)
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].args["channel"], format!("D{ALICE}"));
    assert_eq!(
        buttons(&posts[0].args["blocks"]),
        vec![
            ("answer_yes".to_string(), first.clone()),
            ("answer_no".to_string(), first.clone())
        ]
    );
    assert_eq!(stack.alert(&first).await.status.as_str(), "asked");

    // 2. Yes opens the form; a wrong code is refused inline; the right one confirms.
    let (status, _) = stack
        .slack_post(
            &interaction,
            &click("answer_yes", &first, ALICE, &format!("D{ALICE}")),
        )
        .await;
    assert_eq!(status, 200);
    let views = slack.calls_to("views.open").await;
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].args["view"]["private_metadata"], first.as_str());
    assert_eq!(
        stack.alert(&first).await.status.as_str(),
        "awaiting_second_factor"
    );

    let (status, reply) = stack
        .slack_post(
            &interaction,
            &submit(
                &first,
                ALICE,
                "fixing the nightly build",
                "000000",
                Some(240),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let reply = reply.expect("a wrong code keeps the form open");
    assert_eq!(reply["response_action"], "errors");
    assert!(
        reply["errors"]["code"]
            .as_str()
            .unwrap()
            .contains("4 attempts left"),
        "{reply}"
    );

    let code = code_at(&uri, stack.now());
    let (status, reply) = stack
        .slack_post(
            &interaction,
            &submit(&first, ALICE, "fixing the nightly build", &code, Some(240)),
        )
        .await;
    assert_eq!((status, reply), (200, None), "a valid code closes the form");
    let confirmed = stack.alert(&first).await;
    assert_eq!(confirmed.status.as_str(), "confirmed");
    assert_eq!(
        confirmed.explanation.as_deref(),
        Some("fixing the nightly build")
    );
    let snoozes = stack
        .admin()
        .run(json!({"command": "snooze_list", "user": "alice@example.com"}))
        .await
        .unwrap();
    assert_eq!(snoozes["snoozes"].as_array().unwrap().len(), 1);
    assert_eq!(snoozes["snoozes"][0]["confirmed_alert_id"], first.as_str());
    let updates = slack.calls_to("chat.update").await;
    assert!(
        updates
            .iter()
            .any(|u| u.args["channel"] == format!("D{ALICE}")
                && buttons(&u.args["blocks"]).is_empty()),
        "the DM loses its buttons"
    );

    // 3. The same alert again on the same host is snoozed: stored, not asked.
    let (_, body) = call(&webhook, &alert_on("build-01", "evt-2")).await;
    assert_eq!(body["alerts"][0]["outcome"], "snoozed");
    assert_eq!(body["alerts"][0]["snoozed_by"], first.as_str());
    stack.deliver(&notifier).await;
    assert_eq!(
        slack.calls_to("chat.postMessage").await.len(),
        2,
        "no new DM (only the first DM and the enrollment announcement)"
    );

    // 4. The same rule on another host is asked.
    let (_, body) = call(&webhook, &alert_on("build-02", "evt-3")).await;
    assert_eq!(body["alerts"][0]["outcome"], "ask");
    let second = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver(&notifier).await;
    assert_eq!(slack.calls_to("chat.postMessage").await.len(), 3);

    // 5. No on that one: the team gets a post with their buttons.
    let (status, _) = stack
        .slack_post(
            &interaction,
            &click("answer_no", &second, ALICE, &format!("D{ALICE}")),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack.alert(&second).await.status.as_str(), "escalated");
    stack.deliver_ok(&notifier).await;
    let posts = slack.calls_to("chat.postMessage").await;
    let team_post = posts.last().unwrap();
    assert_eq!(team_post.args["channel"], SECURITY_CHANNEL);
    assert_eq!(
        buttons(&team_post.args["blocks"]),
        vec![
            ("team_acknowledge".to_string(), second.clone()),
            ("team_resolve".to_string(), second.clone())
        ]
    );
    assert!(team_post.args.to_string().contains("wasn't them"));
    assert_eq!(
        stack.awaiting_team().await,
        std::slice::from_ref(&second),
        "waiting for the team"
    );

    // 6. Someone outside the team cannot use the team's buttons; a team member can.
    stack
        .slack_post(
            &interaction,
            &click("team_acknowledge", &second, ALICE, SECURITY_CHANNEL),
        )
        .await;
    assert_eq!(stack.alert(&second).await.status.as_str(), "escalated");
    assert_eq!(slack.calls_to("chat.postEphemeral").await.len(), 1);
    stack
        .slack_post(
            &interaction,
            &click("team_acknowledge", &second, TEAM_MEMBER, SECURITY_CHANNEL),
        )
        .await;
    let acknowledged = stack.alert(&second).await;
    assert_eq!(acknowledged.status.as_str(), "acknowledged");
    assert!(
        stack.awaiting_team().await.is_empty(),
        "acknowledged: off the list"
    );
    assert_eq!(
        acknowledged.history.last().unwrap().actor,
        format!("chat:{TEAM_MEMBER}")
    );
    let statuses: Vec<&str> = acknowledged
        .history
        .iter()
        .map(|h| h.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["received", "asked", "escalated", "acknowledged"],
        "the audit trail tells the story"
    );

    // No secret ever reached Slack.
    let sent = slack.everything_sent().await;
    for secret in [LOCAL_KEY, SIGNING_SECRET, SEED_KEY, BOT_TOKEN] {
        assert!(!sent.contains(secret), "a secret was sent to Slack");
    }
    let secret_part = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(
        !sent.contains(secret_part),
        "the TOTP seed was sent to Slack"
    );
}

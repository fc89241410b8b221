//! Operator commands added for the console: one person's alerts, and re-sending a team post,
//! through the real admin handler against moto and the Slack stand-in.

use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};

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

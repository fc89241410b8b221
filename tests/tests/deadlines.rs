//! Silence reaches the team: one reminder at the rule's reminder time, escalation at its
//! deadline, with a controlled clock; and owed hand-offs are sent again.

use chrono::Duration;
use securitybot::conversation::deadlines::Sweep;
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::json;

const ALICE: &str = "UALICE";

async fn asked() -> (Stack, SlackStandIn, String) {
    let stack = Stack::new("deadline").await;
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver(&stack.notifier(&slack.url())).await;
    (stack, slack, id)
}

fn sweep(reminded: usize, escalated: usize, resent: usize) -> Sweep {
    Sweep {
        reminded,
        escalated,
        resent,
        ..Sweep::default()
    }
}

#[tokio::test]
async fn one_reminder_then_escalation_at_the_rules_deadline() {
    let (stack, slack, id) = asked().await;
    let scheduler = stack.scheduler();
    let notifier = stack.notifier(&slack.url());
    let asked_at = stack.now();
    let record = stack.alert(&id).await;
    // sudo_root_shell: reminder at 10 minutes, deadline at 30 (config/securitybot.toml).
    assert_eq!(record.due_at, Some(asked_at + Duration::minutes(10)));
    assert_eq!(record.deadline_at, Some(asked_at + Duration::minutes(30)));

    stack.clock.set(asked_at + Duration::minutes(9));
    assert_eq!(scheduler.run().await.unwrap(), sweep(0, 0, 0), "not yet");

    stack.clock.set(asked_at + Duration::minutes(10));
    assert_eq!(scheduler.run().await.unwrap(), sweep(1, 0, 0));
    assert_eq!(
        scheduler.run().await.unwrap(),
        sweep(0, 0, 0),
        "one reminder only"
    );
    stack.deliver(&notifier).await;
    let dm = record.ask_message.clone().unwrap();
    let replies: Vec<_> = slack
        .calls_to("chat.postMessage")
        .await
        .into_iter()
        .filter(|c| c.args["thread_ts"] == dm.ts.as_str())
        .collect();
    assert_eq!(
        replies.len(),
        1,
        "the nudge is a reply in the question's thread"
    );
    assert!(replies[0].args.to_string().contains("gentle nudge"));
    // A redelivered reminder does not nudge twice.
    stack.enqueue("remind", &id).await;
    stack.deliver(&notifier).await;
    assert_eq!(
        slack
            .calls_to("chat.postMessage")
            .await
            .into_iter()
            .filter(|c| c.args["thread_ts"] == dm.ts.as_str())
            .count(),
        1
    );

    stack.clock.set(asked_at + Duration::minutes(29));
    assert_eq!(scheduler.run().await.unwrap(), sweep(0, 0, 0));
    stack.clock.set(asked_at + Duration::minutes(30));
    assert_eq!(scheduler.run().await.unwrap(), sweep(0, 1, 0));
    let escalated = stack.alert(&id).await;
    assert_eq!(escalated.status.as_str(), "escalated");
    assert_eq!(escalated.escalation_reason.unwrap().as_str(), "no_answer");
    assert_eq!(
        escalated.history.last().unwrap().actor,
        "securitybot:scheduler"
    );
    stack.deliver(&notifier).await;
    let team = slack.team_posts().await.len();
    assert_eq!(team, 1);
    assert!(
        slack.last_update_says("didn't hear back").await,
        "the person is told kindly"
    );
    assert_eq!(
        scheduler.run().await.unwrap(),
        sweep(0, 0, 0),
        "nothing more is due"
    );
}

#[tokio::test]
async fn a_yes_without_a_code_still_escalates_at_the_deadline() {
    let (stack, slack, id) = asked().await;
    let asked_at = stack.now();
    stack
        .admin()
        .run(json!({"command": "enroll", "user": "alice@example.com", "operator": "ops"}))
        .await
        .unwrap();
    stack.say_yes(&slack.url(), &id, ALICE).await;
    stack.clock.set(asked_at + Duration::minutes(10));
    assert_eq!(
        stack.scheduler().run().await.unwrap(),
        sweep(0, 0, 0),
        "no reminder once they said yes"
    );
    stack.clock.set(asked_at + Duration::minutes(30));
    assert_eq!(stack.scheduler().run().await.unwrap(), sweep(0, 1, 0));
    assert_eq!(
        stack.alert(&id).await.escalation_reason.unwrap().as_str(),
        "no_answer"
    );
}

#[tokio::test]
async fn a_lost_hand_off_is_sent_again() {
    let stack = Stack::new("handoff").await;
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(
        stack.drain_queue().await.len(),
        1,
        "the message is lost (say, dead-lettered)"
    );
    let received_at = stack.now();
    stack.clock.set(received_at + Duration::minutes(14));
    assert_eq!(stack.scheduler().run().await.unwrap(), sweep(0, 0, 0));
    stack.clock.set(received_at + Duration::minutes(15));
    assert_eq!(stack.scheduler().run().await.unwrap(), sweep(0, 0, 1));
    assert_eq!(
        stack.scheduler().run().await.unwrap(),
        sweep(0, 0, 0),
        "once per recheck period"
    );
    stack.deliver(&stack.notifier(&slack.url())).await;
    assert_eq!(
        slack.calls_to("chat.postMessage").await.len(),
        1,
        "asked after all"
    );
}

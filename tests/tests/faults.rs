//! Fault injection through the real handlers: a proxy between the functions and moto (and
//! between the notifier and the Slack stand-in) fails chosen calls. Each scenario asserts the
//! invariant, not just an error: every alert ends asked, or escalated with its post delivered,
//! and nobody is asked twice except in the one documented window.

use chrono::Duration;
use securitybot_tests::faults::{Fault, FaultProxy};
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::json;

const ALICE: &str = "UALICE";

/// The AWS SDK tries a failing call 3 times: this many faults fail the call for good.
const SDK_ATTEMPTS: usize = 3;

async fn stack_through_faults(name: &str) -> (Stack, FaultProxy, SlackStandIn) {
    let mut stack = Stack::new(name).await;
    let aws = FaultProxy::start(&endpoint()).await;
    stack.through(&aws.url);
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    (stack, aws, slack)
}

fn dms(calls: &[securitybot_tests::slack::Call]) -> usize {
    calls
        .iter()
        .filter(|c| c.args["channel"] == format!("D{ALICE}"))
        .count()
}

#[tokio::test]
async fn a_queue_outage_at_intake_loses_nothing_and_asks_once() {
    let (stack, aws, slack) = stack_through_faults("fault-intake").await;
    aws.fail("SendMessage", Fault::ServerError, SDK_ATTEMPTS);
    let (status, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(status, 503, "the SIEM is told to retry: {body}");
    assert_eq!(body["alerts"][0]["outcome"], "failed");
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    assert_eq!(stack.alert(&id).await.status.as_str(), "received", "stored");

    // Whether the SIEM's retry or the sweep comes first, the hand-off is finished once.
    let (status, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(
        (status, body["alerts"][0]["outcome"].as_str()),
        (202, Some("duplicate"))
    );
    stack.clock.set(stack.now() + Duration::minutes(16));
    scheduler::handle(&stack.scheduler(), json!({}))
        .await
        .unwrap();
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        1,
        "asked once"
    );
}

#[tokio::test]
async fn a_slack_outage_during_the_ask_is_retried_and_asks_once() {
    let (stack, _aws, slack) = stack_through_faults("fault-slack").await;
    let slack_proxy = FaultProxy::start(slack.url().trim_end_matches("/api/")).await;
    let notifier = stack.notifier(&format!("{}/api/", slack_proxy.url));
    slack_proxy.fail("chat.postMessage", Fault::ServerError, 1);
    slack_proxy.fail("conversations.open", Fault::Drop, 1);
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    let mut failures = 0;
    for attempt in 1..=3 {
        let response = stack.deliver(&notifier).await;
        if response.batch_item_failures.is_empty() {
            break;
        }
        failures += 1;
        assert!(attempt < 3, "still failing after the faults stopped");
        stack.enqueue("ask", &id).await; // the queue's redelivery
    }
    assert_eq!(
        failures, 2,
        "the dropped connection, then the 500, each failed a delivery"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        1,
        "asked once"
    );
}

#[tokio::test]
async fn a_store_outage_during_a_no_loses_nothing_and_escalates_once() {
    let (stack, aws, slack) = stack_through_faults("fault-answer").await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let interaction = stack.interaction(&slack.url());
    let no = click("answer_no", &id, ALICE, &format!("D{ALICE}"));

    aws.fail("UpdateItem", Fault::ServerError, SDK_ATTEMPTS);
    let (status, reply) = stack.slack_post(&interaction, &no).await;
    assert_eq!(status, 500, "Slack shows the person an error: {reply:?}");
    assert_eq!(
        stack.alert(&id).await.status.as_str(),
        "asked",
        "nothing half-written"
    );

    let (status, _) = stack.slack_post(&interaction, &no).await; // they click again
    assert_eq!(status, 200);
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(stack.alert(&id).await.status.as_str(), "escalated");
    assert_eq!(slack.team_posts().await.len(), 1, "one team post");
}

#[tokio::test]
async fn a_crash_between_the_dm_and_the_status_write_asks_again_at_most_once() {
    let (stack, aws, slack) = stack_through_faults("fault-window").await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    // The ask's writes: claim the ask, remember the person (chat id and DM channel, once),
    // then the status write (failed).
    aws.fail_after("UpdateItem", 2, Fault::Drop, SDK_ATTEMPTS);
    let failed = stack.deliver(&stack.notifier(&slack.url())).await;
    assert_eq!(failed.batch_item_failures.len(), 1);
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        1,
        "the DM went out"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "received");

    // Redelivered within the claim's lease: held, nothing sent.
    stack.enqueue("ask", &id).await;
    stack.deliver(&stack.notifier(&slack.url())).await;
    assert_eq!(dms(&slack.calls_to("chat.postMessage").await), 1);
    // After the lease: asked again (the one documented window), and recorded this time.
    stack.clock.set(stack.now() + Duration::minutes(3));
    stack.enqueue("ask", &id).await;
    stack.deliver(&stack.notifier(&slack.url())).await;
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        2,
        "never more than twice"
    );
}

#[tokio::test]
async fn two_deliveries_of_one_ask_at_once_dm_once_and_the_claim_stays_off_the_alert() {
    let (stack, _aws, slack) = stack_through_faults("ask-race").await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.drain_queue().await;
    // Two notifier containers get the same item at once (an SQS redelivery racing the first).
    let (a, b) = (stack.notifier(&slack.url()), stack.notifier(&slack.url()));
    let item = securitybot::core::work::WorkItem::new(
        securitybot::core::work::Action::Ask,
        securitybot::core::alert::AlertId::from_stored(id.clone()),
    );
    let (first, second) = tokio::join!(a.handle(&item), b.handle(&item));
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        1,
        "one DM, whichever delivery sent it: {first:?} {second:?}"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    // The claim is its own small item (with a TTL), not a rewrite of the alert.
    let claim = stack
        .claim(&format!("ask#{id}"))
        .await
        .expect("the ask's claim is kept");
    assert_eq!(claim["alert_id"].as_s().unwrap(), &id);
    assert!(claim.contains_key("expires_at_epoch"), "claims expire");
    let image = stack.image(&id).await.to_string();
    assert!(!image.contains("claimed"), "no claim on the alert: {image}");
    // A third delivery, long after the lease: the alert moved on, nothing is sent.
    stack.clock.set(stack.now() + Duration::minutes(10));
    a.handle(&item).await.unwrap();
    assert_eq!(dms(&slack.calls_to("chat.postMessage").await), 1);
}

async fn statuses(stack: &Stack, ids: &[String]) -> Vec<String> {
    let mut s = Vec::new();
    for id in ids {
        s.push(stack.alert(id).await.status.as_str().to_string());
    }
    s.sort();
    s
}

/// Two alerts for Alice, asked, and the clock past both deadlines.
async fn two_past_their_deadline(stack: &Stack, slack: &SlackStandIn) -> Vec<String> {
    let mut ids = Vec::new();
    for source_id in ["evt-a", "evt-b"] {
        let sample = event("ingest-canonical.json");
        let body = sample["body"]
            .as_str()
            .unwrap()
            .replace("elastic-7f3a9c", source_id);
        let (_, answer) = call(&stack.webhook(), &with_body(sample, &body)).await;
        ids.push(
            answer["alerts"][0]["alert_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    stack.clock.set(stack.now() + Duration::minutes(31));
    ids
}

#[tokio::test]
async fn a_store_outage_during_the_sweep_fails_the_run_but_not_the_others_and_the_next_run_finishes()
 {
    let (stack, aws, slack) = stack_through_faults("fault-sweep").await;
    let ids = two_past_their_deadline(&stack, &slack).await;
    // The first escalation's status write fails for good in this run.
    aws.fail("UpdateItem", Fault::ServerError, SDK_ATTEMPTS);
    let failed = scheduler::handle(&stack.scheduler(), json!({})).await;
    assert!(
        failed.is_err(),
        "the run fails, so Lambda retries it and its failure destination sees it"
    );
    assert_eq!(
        statuses(&stack, &ids).await,
        ["asked", "escalated"],
        "the other alert was escalated all the same"
    );
    let next = scheduler::handle(&stack.scheduler(), json!({}))
        .await
        .unwrap();
    assert_eq!(next["escalated"], 1);
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(statuses(&stack, &ids).await, ["escalated", "escalated"]);
    assert_eq!(slack.team_posts().await.len(), 2, "each posted once");
}

#[tokio::test]
async fn a_queue_outage_after_a_deadline_escalation_still_reaches_the_team_once() {
    let (stack, aws, slack) = stack_through_faults("fault-sweep-queue").await;
    let ids = two_past_their_deadline(&stack, &slack).await;
    // Both escalated; the first team-post hand-off is lost.
    aws.fail("SendMessage", Fault::Drop, SDK_ATTEMPTS);
    assert!(
        scheduler::handle(&stack.scheduler(), json!({}))
            .await
            .is_err()
    );
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(slack.team_posts().await.len(), 1, "one post got through");
    // The lost one stays owed: the sweep sends it again after the re-check time, once.
    stack.clock.set(stack.now() + Duration::minutes(16));
    let again = scheduler::handle(&stack.scheduler(), json!({}))
        .await
        .unwrap();
    assert_eq!(again["resent"], 1);
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    for id in &ids {
        let record = stack.alert(id).await;
        assert_eq!(record.status.as_str(), "escalated");
        assert!(record.escalation_message.is_some(), "{id}: posted");
    }
    assert_eq!(slack.team_posts().await.len(), 2, "each posted once");
    stack.clock.set(stack.now() + Duration::minutes(16));
    let quiet = scheduler::handle(&stack.scheduler(), json!({}))
        .await
        .unwrap();
    assert_eq!(quiet["resent"], 0, "nothing owed once posted");
}

#[tokio::test]
async fn a_store_outage_while_polling_loses_nothing_and_asks_each_alert_once() {
    use securitybot_tests::siem::{SiemStandIn, splunk_config};
    let (stack, aws, slack) = stack_through_faults("fault-poll").await;
    let siem = SiemStandIn::start().await;
    let t = stack.now();
    siem.add("a", 6, t - Duration::minutes(40), "alice");
    let poller = stack.poller(&splunk_config(&siem.url()), 20).await;
    // The store refuses writes after the first few (payloads and alerts alike).
    aws.fail_after("PutItem", 3, Fault::ServerError, usize::MAX);
    let failed = poller.run(None).await.unwrap_err().to_string();
    assert!(failed.contains("splunk_prod"), "{failed}");
    assert!(
        stack.alerts().await.len() < 6,
        "the run stopped at the failure"
    );
    aws.heal();
    // Then every update fails (the checkpoint writes): alerts stored and queued,
    // no window marked done.
    aws.fail("UpdateItem", Fault::Drop, usize::MAX);
    assert!(poller.run(None).await.is_err());
    aws.heal();
    // A clean run reads the windows again: nothing lost, nobody asked twice.
    let done = poller.run(None).await.unwrap();
    assert!(done[0].caught_up);
    assert_eq!(stack.alerts().await.len(), 6);
    for _ in 0..3 {
        stack.deliver_ok(&stack.notifier(&slack.url())).await;
    }
    assert!(stack.drain_queue().await.is_empty());
    assert_eq!(
        dms(&slack.calls_to("chat.postMessage").await),
        6,
        "each polled alert asked once"
    );
    let asked = stack.count_in("asked").await;
    assert_eq!(asked, 6);
}

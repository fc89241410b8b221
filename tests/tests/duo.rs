//! A Yes proven by a Duo push, through the real interaction and notifier handlers, against moto,
//! the Slack stand-in and a Duo stand-in that checks every request's signature.

use securitybot::conversation::endpoint::InteractionEndpoint;
use securitybot::conversation::notifier::Notifier;
use securitybot_tests::duo::DuoStandIn;
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};

const ALICE: &str = "UALICE";
const ALICE_EMAIL: &str = "alice@example.com";

struct Pushing {
    stack: Stack,
    slack: SlackStandIn,
    duo: DuoStandIn,
    notifier: Notifier,
    endpoint: InteractionEndpoint,
}

async fn start(test: &str) -> Pushing {
    let stack = Stack::new(test).await;
    let slack = SlackStandIn::start(&[(ALICE_EMAIL, ALICE)]).await;
    let duo = DuoStandIn::start().await;
    let (notifier, endpoint) = stack.pushing(&slack.url(), &duo.url());
    Pushing {
        stack,
        slack,
        duo,
        notifier,
        endpoint,
    }
}

impl Pushing {
    /// Alice's sample alert, asked in a DM.
    async fn asked(&self) -> String {
        let (_, body) = call(&self.stack.webhook(), &event("ingest-canonical.json")).await;
        let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
        self.stack.deliver_ok(&self.notifier).await;
        assert_eq!(self.stack.alert(&id).await.status.as_str(), "asked");
        id
    }

    /// Alice presses Yes and submits the form with her explanation (no code field).
    async fn yes_explained(&self, id: &str) {
        let yes = click("answer_yes", id, ALICE, "DUALICE");
        self.stack.slack_post(&self.endpoint, &yes).await;
        let forms = self.slack.calls_to("views.open").await;
        let form = forms.last().expect("the Yes form opened").args.to_string();
        assert!(!form.contains("authenticator app"), "no code asked: {form}");
        assert!(form.contains("push to your phone"), "{form}");
        let submitted = json!({
            "type": "view_submission", "user": {"id": ALICE},
            "view": {"callback_id": "securitybot_answer", "private_metadata": id, "state": {"values": {
                "explanation": {"value": {"type": "plain_text_input", "value": "rotating the deploy keys"}},
                "snooze": {"value": {"type": "static_select", "selected_option": {"value": "60"}}},
            }}}
        });
        let (status, body) = self.stack.slack_post(&self.endpoint, &submitted).await;
        assert_eq!((status, body), (200, None), "the form closes at once");
        assert_eq!(self.stack.alert(id).await.status.as_str(), "awaiting_push");
    }

    /// Delivers the work queue (delayed items included) until the alert leaves `awaiting_push`
    /// or `rounds` deliveries found nothing more; the failures of the last delivery.
    async fn deliver_until_settled(&self, id: &str, rounds: usize) -> Vec<String> {
        let mut failures = Vec::new();
        for _ in 0..rounds {
            let response = self.stack.deliver(&self.notifier).await;
            failures = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect();
            if self.stack.alert(id).await.status.as_str() != "awaiting_push" {
                // Post what the move queued (the team post), then stop.
                self.stack.deliver(&self.notifier).await;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        }
        failures
    }

    async fn snoozes(&self) -> usize {
        let listed = self
            .stack
            .admin()
            .run(json!({"command": "snooze_list"}))
            .await;
        listed.unwrap()["snoozes"].as_array().unwrap().len()
    }

    fn every_request_signed_right(&self) {
        let requests = self.duo.requests();
        assert!(!requests.is_empty());
        assert!(requests.iter().all(|(_, signed)| *signed), "{requests:?}");
    }
}

#[tokio::test]
async fn an_approved_push_confirms_and_snoozes_as_chosen() {
    let p = start("duo-allow").await;
    p.duo.person(ALICE_EMAIL, &["waiting", "allow"]);
    let id = p.asked().await;
    p.yes_explained(&id).await;
    assert!(
        p.duo.pushed().is_empty(),
        "nothing pushed on the request path"
    );
    p.deliver_until_settled(&id, 20).await;
    let record = p.stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "confirmed");
    assert_eq!(
        record.explanation.as_deref(),
        Some("rotating the deploy keys")
    );
    let pushed = p.duo.pushed();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].0, ALICE_EMAIL);
    assert!(
        pushed[0].1["pushinfo"].contains(&id),
        "the phone names the alert"
    );
    p.every_request_signed_right();
    assert_eq!(p.snoozes().await, 1);
    assert!(p.slack.last_update_says("All set").await);
}

#[tokio::test]
async fn a_denied_push_goes_to_the_team_as_second_factor_denied() {
    let p = start("duo-deny").await;
    p.duo.person(ALICE_EMAIL, &["waiting", "deny"]);
    let id = p.asked().await;
    p.yes_explained(&id).await;
    p.deliver_until_settled(&id, 20).await;
    let record = p.stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "escalated");
    assert_eq!(
        record.escalation_reason.unwrap().as_str(),
        "second_factor_denied"
    );
    assert!(p.slack.told_the_team("denied the push").await);
    assert!(p.slack.told_the_team("rotating the deploy keys").await);
    assert_eq!(p.snoozes().await, 0);
    p.every_request_signed_right();
}

#[tokio::test]
async fn two_deliveries_of_one_push_item_at_once_push_once() {
    let p = start("duo-race").await;
    p.duo.person(ALICE_EMAIL, &["waiting"]);
    let id = p.asked().await;
    p.yes_explained(&id).await;
    p.stack.drain_queue().await;
    // Two notifier containers get the same item at once (an SQS redelivery racing the first).
    let (other, _) = p.stack.pushing(&p.slack.url(), &p.duo.url());
    let item = securitybot::core::work::WorkItem::new(
        securitybot::core::work::Action::Push,
        securitybot::core::alert::AlertId::from_stored(id.clone()),
    );
    let (a, b) = tokio::join!(p.notifier.handle(&item), other.handle(&item));
    assert_eq!(
        p.duo.pushed().len(),
        1,
        "one push, whichever delivery sent it"
    );
    for outcome in [a, b] {
        if let Err(e) = outcome {
            assert!(e.is_retryable(), "the loser comes back later: {e}");
        }
    }
    let record = p.stack.alert(&id).await;
    assert!(record.push.is_some(), "the push is recorded on the alert");
    assert_eq!(record.code_attempts, 1);
}

#[tokio::test]
async fn a_timed_out_push_leaves_the_question_open_for_a_fresh_push() {
    let p = start("duo-timeout").await;
    p.duo.person(ALICE_EMAIL, &["timeout"]);
    let id = p.asked().await;
    p.yes_explained(&id).await;
    p.deliver_until_settled(&id, 20).await;
    assert_eq!(
        p.stack.alert(&id).await.status.as_str(),
        "awaiting_second_factor"
    );
    let replies = p.slack.calls_to("chat.postMessage").await;
    assert!(
        replies
            .iter()
            .any(|c| c.args.to_string().contains("expired")),
        "the person is told the push expired"
    );
    p.duo.person(ALICE_EMAIL, &["allow"]);
    p.yes_explained(&id).await;
    p.deliver_until_settled(&id, 20).await;
    assert_eq!(p.stack.alert(&id).await.status.as_str(), "confirmed");
    assert_eq!(p.duo.pushed().len(), 2, "a fresh push for the second Yes");
}

#[tokio::test]
async fn people_duo_cannot_push_to_are_unverified_yeses() {
    let p = start("duo-unknown").await;
    // Unknown to Duo (preauth says enroll), then on bypass (preauth says allow).
    for (setup, says) in [(None, "not enrolled in Duo"), (Some("allow"), "bypass")] {
        if let Some(result) = setup {
            p.duo.preauth_says(ALICE_EMAIL, result);
        }
        let sample = event("ingest-canonical.json");
        let body = sample["body"]
            .as_str()
            .unwrap()
            .replace("elastic-7f3a9c", says);
        let (_, body) = call(&p.stack.webhook(), &with_body(sample, &body)).await;
        let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
        p.stack.deliver_ok(&p.notifier).await;
        p.yes_explained(&id).await;
        p.deliver_until_settled(&id, 5).await;
        let record = p.stack.alert(&id).await;
        assert_eq!(record.status.as_str(), "escalated", "{says}");
        assert_eq!(record.escalation_reason.unwrap().as_str(), "unverified_yes");
        assert!(record.escalation_detail.unwrap().contains(says));
    }
    assert!(p.duo.pushed().is_empty(), "nobody was pushed");
}

#[tokio::test]
async fn duo_failing_or_refusing_our_signature_is_retried_and_never_confirms() {
    let mut p = start("duo-faults").await;
    p.duo.person(ALICE_EMAIL, &["allow"]);
    let id = p.asked().await;
    p.yes_explained(&id).await;
    // Duo down, then answering garbage: the item fails (the queue retries it), nothing moves.
    for fault in ["outage", "garble"] {
        match fault {
            "outage" => p.duo.outage(10),
            _ => p.duo.garble(10),
        }
        let failures = p.stack.deliver(&p.notifier).await.batch_item_failures;
        assert_eq!(failures.len(), 1, "{fault}: handed back for a retry");
        assert_eq!(p.stack.alert(&id).await.status.as_str(), "awaiting_push");
        p.duo.outage(0);
        p.duo.garble(0);
        requeue(&p.stack, &id).await;
    }
    // A secret key Duo does not know: refused (after one re-read of the secret), never a pass.
    let secret = read_secret(&p.stack).await;
    let mut wrong = secret.clone();
    wrong["duo_secret_key"] = "not-the-duo-secret-key".into();
    p.stack.set_secret(&wrong.to_string()).await;
    let (notifier, _) = p.stack.pushing(&p.slack.url(), &p.duo.url());
    let failures = p.stack.deliver(&notifier).await.batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert!(
        p.duo.requests().iter().any(|(_, signed)| !signed),
        "the stand-in saw a bad signature"
    );
    assert_eq!(p.stack.alert(&id).await.status.as_str(), "awaiting_push");
    assert!(p.duo.pushed().is_empty());
    // The right key back: the retried item pushes, and the approval confirms.
    p.stack.set_secret(&secret.to_string()).await;
    p.notifier = p.stack.pushing(&p.slack.url(), &p.duo.url()).0;
    requeue(&p.stack, &id).await;
    p.deliver_until_settled(&id, 20).await;
    assert_eq!(p.stack.alert(&id).await.status.as_str(), "confirmed");
    assert_eq!(p.duo.pushed().len(), 1);
}

/// What the queue's redelivery would do for a handed-back item (without waiting out its
/// visibility timeout).
async fn requeue(stack: &Stack, id: &str) {
    stack.drain_queue().await;
    stack.enqueue("push", id).await;
}

async fn read_secret(stack: &Stack) -> Value {
    let out = stack
        .secrets
        .get_secret_value()
        .secret_id(stack.secret_id(SecretPurpose::SecondFactor))
        .send()
        .await
        .unwrap();
    serde_json::from_str(out.secret_string().unwrap()).unwrap()
}

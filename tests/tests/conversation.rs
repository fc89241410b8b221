//! The conversation's edges, through the real notifier and interaction handlers against moto
//! and the Slack stand-in.

use chrono::Duration;
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};

const ALICE: &str = "UALICE";
const MALLORY: &str = "UMALLORY";

/// A stack with Alice in Slack and one alert of hers asked in a DM. Returns the alert id.
async fn asked(stack: &Stack, slack: &SlackStandIn) -> String {
    asked_about(stack, slack, "elastic-7f3a9c").await
}

/// The sample alert under another source id: a new alert, asked.
async fn asked_about(stack: &Stack, slack: &SlackStandIn, source_id: &str) -> String {
    let sample = event("ingest-canonical.json");
    let body = sample["body"]
        .as_str()
        .unwrap()
        .replace("elastic-7f3a9c", source_id);
    let (_, body) = call(&stack.webhook(), &with_body(sample, &body)).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    let response = stack.deliver(&stack.notifier(&slack.url())).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    id
}

async fn enroll(stack: &Stack) -> String {
    let out = stack
        .admin()
        .run(json!({"command": "enroll", "user": "alice@example.com", "operator": "ops"}))
        .await
        .unwrap();
    out["otpauth_uri"].as_str().unwrap().to_string()
}

async fn start() -> (Stack, SlackStandIn) {
    let stack = Stack::new("conv").await;
    let slack = SlackStandIn::start(&[
        ("alice@example.com", ALICE),
        ("mallory@example.com", MALLORY),
    ])
    .await;
    (stack, slack)
}

#[tokio::test]
async fn slack_signatures_valid_wrong_expired_and_base64() {
    let (stack, slack) = start().await;
    let f = stack.interaction(&slack.url());
    let id = asked(&stack, &slack).await;
    let body = serde_urlencoded::to_string([(
        "payload",
        click("answer_no", &id, ALICE, "DUALICE").to_string(),
    )])
    .unwrap();
    let now = stack.now().timestamp();
    let sign = |secret: &str, ts: i64| {
        securitybot::adapters::slack::interaction::sign(secret, ts, body.as_bytes())
    };

    let (status, reply) = stack
        .slack_raw(&f, &body, now, &sign("not-the-secret", now), false)
        .await;
    assert_eq!(status, 401);
    assert_eq!(reply.unwrap()["message"], "the signature does not match");
    let (status, _) = stack
        .slack_raw(
            &f,
            &body,
            now - 301,
            &sign(SIGNING_SECRET, now - 301),
            false,
        )
        .await;
    assert_eq!(status, 401, "older than 5 minutes");
    let (status, _) = stack.slack_raw(&f, &body, now, "v0=zz", false).await;
    assert_eq!(status, 401);
    assert_eq!(
        stack.alert(&id).await.status.as_str(),
        "asked",
        "refused requests change nothing"
    );

    // The Function URL may hand the body over base64-encoded; the signature is over the raw bytes.
    let (status, _) = stack
        .slack_raw(&f, &body, now, &sign(SIGNING_SECRET, now), true)
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack.alert(&id).await.status.as_str(), "escalated");
}

#[tokio::test]
async fn someone_else_clicking_changes_nothing() {
    let (stack, slack) = start().await;
    let f = stack.interaction(&slack.url());
    let id = asked(&stack, &slack).await;
    for action in ["answer_yes", "answer_no"] {
        let (status, _) = stack
            .slack_post(&f, &click(action, &id, MALLORY, "DUALICE"))
            .await;
        assert_eq!(status, 200);
    }
    let (_, reply) = stack
        .slack_post(&f, &submit(&id, MALLORY, "me", "123456", None))
        .await;
    assert_eq!(reply.unwrap()["response_action"], "errors");
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
    let whispers = slack.calls_to("chat.postEphemeral").await;
    assert_eq!(whispers.len(), 2);
    assert_eq!(whispers[0].args["user"], MALLORY);
    assert!(
        slack.calls_to("views.open").await.is_empty(),
        "no form opens for someone else"
    );
}

#[tokio::test]
async fn a_double_click_on_no_and_a_redelivery_post_one_escalation() {
    let (stack, slack) = start().await;
    let f = stack.interaction(&slack.url());
    let notifier = stack.notifier(&slack.url());
    let id = asked(&stack, &slack).await;
    // The same ask delivered again: already asked, no second DM.
    stack.enqueue("ask", &id).await;
    stack.deliver(&notifier).await;
    assert_eq!(slack.calls_to("chat.postMessage").await.len(), 1, "one DM");

    for _ in 0..2 {
        stack
            .slack_post(&f, &click("answer_no", &id, ALICE, "DUALICE"))
            .await;
    }
    stack.deliver(&notifier).await;
    stack.enqueue("escalate", &id).await;
    stack.deliver(&notifier).await;
    let to_team: Vec<_> = slack.team_posts().await;
    assert_eq!(to_team.len(), 1, "one escalation");
    let record = stack.alert(&id).await;
    assert_eq!(
        record
            .history
            .iter()
            .filter(|h| h.status.as_str() == "escalated")
            .count(),
        1
    );
    assert!(record.escalation_message.is_some());
    // The operator's view of it, and gone once a team member acknowledges it.
    let admin = stack.admin();
    let open = admin
        .run(json!({"command": "open_escalations"}))
        .await
        .unwrap();
    let listed = &open["open_escalations"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(
        (
            listed[0]["alert_id"].as_str(),
            listed[0]["reason"].as_str(),
            listed[0]["posted_to_team"].as_bool()
        ),
        (Some(id.as_str()), Some("denied"), Some(true))
    );
    let at = record.escalation_message.unwrap();
    stack
        .slack_post(
            &f,
            &click(
                "team_acknowledge",
                &id,
                securitybot_tests::TEAM_MEMBER,
                &at.channel,
            ),
        )
        .await;
    let after = admin
        .run(json!({"command": "open_escalations"}))
        .await
        .unwrap();
    assert_eq!(after["open_escalations"], json!([]), "{after}");
}

#[tokio::test]
async fn slack_429_is_retried_after_retry_after_and_nothing_is_lost() {
    let (stack, slack) = start().await;
    let notifier = stack.notifier(&slack.url());
    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    slack.rate_limit("chat.postMessage", 1, 2).await;
    let response = stack.deliver(&notifier).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "the rate-limited item spends no delivery attempt: a copy waits for Retry-After"
    );
    // The copy is delayed by Slack's Retry-After (2 s): not receivable now.
    let now = stack
        .sqs
        .receive_message()
        .queue_url(&stack.env["WORK_QUEUE_URL"])
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert!(
        now.messages.unwrap_or_default().is_empty(),
        "hidden until Retry-After passes"
    );
    let attrs = stack
        .sqs
        .get_queue_attributes()
        .queue_url(&stack.env["WORK_QUEUE_URL"])
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    let delayed = attrs.attributes().unwrap()
        [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed]
        .clone();
    assert_eq!(delayed, "1", "still on the queue: nothing lost");
    // After the wait, the retry goes through (the failed send gave its claim back).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let response = stack.deliver(&notifier).await;
    assert!(response.batch_item_failures.is_empty());
    let posts = slack.calls_to("chat.postMessage").await;
    assert_eq!(posts.len(), 2, "one 429, then the DM");
    let id = stack.alerts().await[0]["alert_id"].as_s().unwrap().clone();
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
}

#[tokio::test]
async fn someone_put_on_the_never_contact_list_after_intake_is_not_dmed() {
    let (stack, slack) = start().await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    assert_eq!(body["alerts"][0]["outcome"], "ask", "queued to ask Alice");
    stack
        .admin()
        .run(
            json!({"command": "never_contact_add", "user": "alice@example.com", "operator": "ops"}),
        )
        .await
        .unwrap();
    stack.deliver(&stack.notifier(&slack.url())).await;
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "escalated");
    assert_eq!(record.escalation_reason.unwrap().as_str(), "never_contact");
    let posts = slack.calls_to("chat.postMessage").await;
    assert!(
        posts.iter().all(|p| p.args["channel"] == SECURITY_CHANNEL),
        "no DM"
    );
    // The escalation, and the operator's change announced to the team.
    assert_eq!(posts.len(), 2);
    assert!(slack.told_the_team("never-contact list").await);
}

#[tokio::test]
async fn people_slack_does_not_know_are_escalated() {
    let stack = Stack::new("unknown").await;
    let slack = SlackStandIn::start(&[]).await;
    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let response = stack.deliver(&stack.notifier(&slack.url())).await;
    assert!(response.batch_item_failures.is_empty());
    let id = stack.alerts().await[0]["alert_id"].as_s().unwrap().clone();
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "escalated");
    assert_eq!(
        record.escalation_reason.unwrap().as_str(),
        "unknown_in_chat"
    );
    let posts = slack.calls_to("chat.postMessage").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].args["channel"], SECURITY_CHANNEL);
}

#[tokio::test]
async fn a_yes_without_enrollment_is_an_unverified_escalation() {
    let (stack, slack) = start().await;
    let f = stack.interaction(&slack.url());
    let id = asked(&stack, &slack).await;
    stack
        .slack_post(&f, &click("answer_yes", &id, ALICE, "DUALICE"))
        .await;
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "escalated");
    assert_eq!(record.escalation_reason.unwrap().as_str(), "unverified_yes");
    assert!(
        slack.calls_to("views.open").await.is_empty(),
        "no form: nothing to verify with"
    );
    let update = slack.calls_to("chat.update").await;
    assert!(
        update[0].args.to_string().contains("Home"),
        "the person is told how to enroll"
    );
    stack.deliver(&stack.notifier(&slack.url())).await;
    let admin = stack
        .admin()
        .run(json!({"command": "snooze_list"}))
        .await
        .unwrap();
    assert!(
        admin["snoozes"].as_array().unwrap().is_empty(),
        "never a snooze"
    );
    assert!(slack.told_the_team("unverified").await);
}

async fn at_the_form(stack: &Stack, slack: &SlackStandIn) -> (String, String) {
    let uri = enroll(stack).await;
    let id = asked(stack, slack).await;
    stack.say_yes(&slack.url(), &id, ALICE).await;
    (id, uri)
}

async fn code_reply(stack: &Stack, slack: &SlackStandIn, id: &str, code: &str) -> Option<Value> {
    stack
        .slack_post(
            &stack.interaction(&slack.url()),
            &submit(id, ALICE, "deploying", code, None),
        )
        .await
        .1
}

#[tokio::test]
async fn totp_accepts_one_step_of_skew_either_way_but_not_two() {
    let (stack, slack) = start().await;
    let (id, uri) = at_the_form(&stack, &slack).await;
    let now = stack.now();
    let two_steps_ago = code_at(&uri, now - Duration::seconds(60));
    let reply = code_reply(&stack, &slack, &id, &two_steps_ago)
        .await
        .expect("refused");
    assert!(
        reply["errors"]["code"]
            .as_str()
            .unwrap()
            .contains("didn't work")
    );
    let one_step_ahead = code_at(&uri, now + Duration::seconds(30));
    assert_eq!(
        code_reply(&stack, &slack, &id, &one_step_ahead).await,
        None,
        "accepted"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "confirmed");
}

#[tokio::test]
async fn a_used_code_is_not_accepted_again() {
    let (stack, slack) = start().await;
    let (first, uri) = at_the_form(&stack, &slack).await;
    let code = code_at(&uri, stack.now());
    assert_eq!(code_reply(&stack, &slack, &first, &code).await, None);
    // A second alert on another host, answered with the very same code: a replay.
    let mut alert: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    alert["id"] = "evt-replay".into();
    alert["context"]["host"] = "build-09".into();
    let (_, body) = call(
        &stack.webhook(),
        &with_body(event("ingest-canonical.json"), &alert.to_string()),
    )
    .await;
    let second = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver(&stack.notifier(&slack.url())).await;
    stack
        .slack_post(
            &stack.interaction(&slack.url()),
            &click("answer_yes", &second, ALICE, "DUALICE"),
        )
        .await;
    let reply = code_reply(&stack, &slack, &second, &code)
        .await
        .expect("refused");
    assert_eq!(reply["response_action"], "errors");
    assert_eq!(
        stack.alert(&second).await.status.as_str(),
        "awaiting_second_factor"
    );
    assert_eq!(stack.alert(&second).await.code_attempts, 1);
}

#[tokio::test]
async fn five_wrong_codes_escalate_kindly() {
    let (stack, slack) = start().await;
    let (id, _) = at_the_form(&stack, &slack).await;
    for left in (1..=4).rev() {
        let reply = code_reply(&stack, &slack, &id, "000000")
            .await
            .expect("refused");
        let text = reply["errors"]["code"].as_str().unwrap();
        assert!(text.contains(&format!("{left} attempt")), "{text}");
    }
    assert_eq!(
        code_reply(&stack, &slack, &id, "000000").await,
        None,
        "the fifth closes the form"
    );
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "escalated");
    assert_eq!(
        record.escalation_reason.unwrap().as_str(),
        "second_factor_failed"
    );
    assert_eq!(record.explanation.as_deref(), Some("deploying"));
    assert!(slack.last_update_says("didn't work").await);
    stack.deliver(&stack.notifier(&slack.url())).await;
    assert!(slack.told_the_team("failed the second factor").await);
}

#[tokio::test]
async fn admin_commands_manage_people_and_show_history() {
    let stack = Stack::new("admin").await;
    let admin = stack.admin();
    admin
        .run(json!({"command": "never_contact_add", "user": "CEO@Example.com", "operator": "ops"}))
        .await
        .unwrap();
    let list = admin
        .run(json!({"command": "never_contact_list"}))
        .await
        .unwrap();
    assert_eq!(list["never_contact"], json!(["ceo@example.com"]));
    admin
        .run(json!({"command": "never_contact_remove", "user": "ceo@example.com", "operator": "ops"}))
        .await
        .unwrap();
    assert_eq!(
        admin
            .run(json!({"command": "never_contact_list"}))
            .await
            .unwrap()["never_contact"],
        json!([])
    );

    let uri = admin
        .run(json!({"command": "enroll", "user": "bob@example.com", "operator": "ops"}))
        .await
        .unwrap();
    assert!(
        uri["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let again = admin
        .run(json!({"command": "enroll", "user": "bob@example.com", "operator": "ops"}))
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("reset_second_factor"),
        "re-enrollment needs a reset"
    );
    admin
        .run(
            json!({"command": "reset_second_factor", "user": "bob@example.com", "operator": "ops"}),
        )
        .await
        .unwrap();
    assert!(
        admin
            .run(json!({"command": "enroll", "user": "bob@example.com", "operator": "ops"}))
            .await
            .is_ok()
    );
    let people = stack
        .dynamodb
        .scan()
        .table_name(&stack.env["PEOPLE_TABLE"])
        .send()
        .await
        .unwrap();
    let stored = format!("{:?}", people.items());
    let plain_seed = uri["otpauth_uri"]
        .as_str()
        .unwrap()
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    assert!(!stored.contains(&plain_seed), "seeds are encrypted at rest");

    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = stack.alerts().await[0]["alert_id"].as_s().unwrap().clone();
    let shown = admin
        .run(json!({"command": "show_alert", "alert_id": id}))
        .await
        .unwrap();
    assert_eq!(shown["history"][0]["status"], "received");
    let none = admin
        .run(json!({"command": "open_escalations"}))
        .await
        .unwrap();
    assert_eq!(none["open_escalations"], json!([]));
    let bad = admin
        .run(json!({"command": "delete_everything"}))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("commands: enroll"), "{bad}");
}

async fn post_event(
    stack: &Stack,
    f: &securitybot::conversation::endpoint::InteractionEndpoint,
    event_body: &Value,
) -> (u16, Option<Value>) {
    let body = event_body.to_string();
    let ts = stack.now().timestamp();
    let signature =
        securitybot::adapters::slack::interaction::sign(SIGNING_SECRET, ts, body.as_bytes());
    stack.slack_raw(f, &body, ts, &signature, false).await
}

#[tokio::test]
async fn people_enroll_themselves_from_the_home_tab_and_the_team_hears_of_it() {
    let (stack, slack) = start().await;
    let f = stack.interaction(&slack.url());

    let (status, reply) = post_event(
        &stack,
        &f,
        &json!({"type": "url_verification", "challenge": "c-123", "token": "x"}),
    )
    .await;
    assert_eq!((status, reply), (200, Some(json!({"challenge": "c-123"}))));

    let home_opened = json!({"type": "event_callback", "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"}});
    post_event(&stack, &f, &home_opened).await;
    let published = slack.calls_to("views.publish").await;
    assert_eq!(published[0].args["user_id"], ALICE);
    assert!(
        published[0].args.to_string().contains("enroll_start"),
        "not enrolled: the Home tab offers setup"
    );

    let start_click = json!({"type": "block_actions", "user": {"id": ALICE}, "trigger_id": "t-enroll", "actions": [{"action_id": "enroll_start"}]});
    stack.slack_post(&f, &start_click).await;
    let forms = slack.calls_to("views.open").await;
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0].args["view"]["callback_id"], "securitybot_enroll");
    let link = forms[0].args["view"]["blocks"][1]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .replace("&amp;", "&");
    let uri = link.split("phone: ").nth(1).unwrap().to_string();

    let enroll_submit = |code: &str| {
        json!({"type": "view_submission", "user": {"id": ALICE},
               "view": {"callback_id": "securitybot_enroll", "state": {"values": {"code": {"value": {"value": code}}}}}})
    };
    let (_, reply) = stack.slack_post(&f, &enroll_submit("000000")).await;
    assert_eq!(reply.unwrap()["response_action"], "errors");
    let (status, reply) = stack
        .slack_post(&f, &enroll_submit(&code_at(&uri, stack.now())))
        .await;
    assert_eq!((status, reply), (200, None));
    // The setup waits for the team: announced through the queue, with Approve / Reject.
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert!(slack.told_the_team("waiting for your approval").await);
    let home = slack.calls_to("views.publish").await;
    assert!(
        !home
            .last()
            .unwrap()
            .args
            .to_string()
            .contains("enroll_start"),
        "set up: no setup button"
    );

    // Before the team vouches for it, a Yes is unverified, however good the code.
    let early = asked_about(&stack, &slack, "elastic-early").await;
    stack
        .slack_post(&f, &click("answer_yes", &early, ALICE, "DUALICE"))
        .await;
    let record = stack.alert(&early).await;
    assert_eq!(record.escalation_reason.unwrap().as_str(), "unverified_yes");
    assert!(
        record
            .escalation_detail
            .unwrap()
            .contains("not yet approved")
    );

    // Alice cannot approve it herself; a team member can, from the post.
    let approve = |who: &str| {
        json!({"type": "block_actions", "user": {"id": who}, "trigger_id": "t-a",
               "channel": {"id": SECURITY_CHANNEL}, "container": {"message_ts": "1800000000.000042"},
               "actions": [{"action_id": "enrollment_approve", "value": "alice@example.com"}]})
    };
    stack.slack_post(&f, &approve(ALICE)).await;
    let team = securitybot_tests::TEAM_MEMBER;
    stack.slack_post(&f, &approve(team)).await;
    let decided = slack.calls_to("chat.update").await;
    assert!(
        decided
            .last()
            .unwrap()
            .args
            .to_string()
            .contains("Approved by")
    );
    stack.clock.set(stack.now() + Duration::minutes(1));

    // A second setup (say, from a stolen session) gets no new secret: only an operator's reset allows it.
    stack.slack_post(&f, &json!({"type": "block_actions", "user": {"id": ALICE}, "trigger_id": "t-2", "actions": [{"action_id": "enroll_start"}]})).await;
    assert_eq!(slack.calls_to("views.open").await.len(), 1);

    // And the enrollment works for alerts that come in after the approval: Yes + a code confirms.
    let id = asked(&stack, &slack).await;
    stack
        .slack_post(&f, &click("answer_yes", &id, ALICE, "DUALICE"))
        .await;
    let later = stack.now() + Duration::seconds(30);
    stack.clock.set(later);
    assert_eq!(
        code_reply(&stack, &slack, &id, &code_at(&uri, later)).await,
        None
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "confirmed");
}

#[tokio::test]
async fn codes_submitted_at_once_cannot_exceed_the_alert_or_the_person_limit() {
    let (stack, slack) = start().await;
    let uri = enroll(&stack).await;
    let f = stack.interaction(&slack.url());
    // Three questions at the Yes form, and ten wrong codes for each, all at once.
    let mut ids = Vec::new();
    for source_id in ["evt-a", "evt-b", "evt-c"] {
        let id = asked_about(&stack, &slack, source_id).await;
        stack.say_yes(&slack.url(), &id, ALICE).await;
        ids.push(id);
    }
    let right = code_at(&uri, stack.now());
    let wrong: Vec<String> = (0..10)
        .map(|n| format!("{:06}", n))
        .filter(|c| *c != right)
        .take(10)
        .collect();
    let payloads: Vec<Value> = ids
        .iter()
        .flat_map(|id| {
            wrong
                .iter()
                .map(move |code| submit(id, ALICE, "me", code, None))
        })
        .collect();
    let submissions = payloads.iter().map(|p| stack.slack_post(&f, p));
    futures_util::future::join_all(submissions).await;
    for id in &ids {
        let record = stack.alert(id).await;
        assert!(
            record.code_attempts <= 5,
            "per alert: {}",
            record.code_attempts
        );
        assert_eq!(
            record.escalation_reason.map(|r| r.as_str()),
            Some("second_factor_failed")
        );
    }
    let person = stack
        .dynamodb
        .get_item()
        .table_name(&stack.env["PEOPLE_TABLE"])
        .key(
            "user",
            aws_sdk_dynamodb::types::AttributeValue::S("alice@example.com".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let attempts: u32 = person["totp_attempts"].as_n().unwrap().parse().unwrap();
    assert!(attempts <= 10, "per person per hour: {attempts}");
}

#[tokio::test]
async fn seed_keys_rotate_old_seeds_verify_until_resealed_then_the_old_key_goes() {
    let (stack, slack) = start().await;
    let (first, uri) = at_the_form(&stack, &slack).await;
    let new_key = "bmV3LXNlZWQta2V5LTMyLWJ5dGVzLWZvci1yb3RhdGU="; // 32 bytes
    let secret = |keys: Value| {
        let mut s = json!({
            "webhook_keys": [{"id": "local", "secret": LOCAL_KEY}],
            "slack_bot_token": securitybot_tests::slack::BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "seed_encryption_keys": [{"id": "k2", "key": new_key}],
            "seed_encryption_current": "k2",
        });
        s.as_object_mut()
            .unwrap()
            .extend(keys.as_object().unwrap().clone());
        s.to_string()
    };
    // 1. A new key is added and made current; the old one stays: old seeds still verify.
    stack
        .set_secret(&secret(json!({"seed_encryption_key": SEED_KEY})))
        .await;
    assert_eq!(
        code_reply(&stack, &slack, &first, &code_at(&uri, stack.now())).await,
        None
    );
    assert_eq!(stack.alert(&first).await.status.as_str(), "confirmed");

    // 2. The operator re-seals every seed under the current key.
    let report = stack
        .admin()
        .run(json!({"command": "reseal_seeds", "operator": "ops"}))
        .await
        .unwrap();
    assert_eq!(report["resealed"], 1, "{report}");
    let again = stack
        .admin()
        .run(json!({"command": "reseal_seeds", "operator": "ops"}))
        .await
        .unwrap();
    assert_eq!(
        (
            again["resealed"].as_u64(),
            again["already_current"].as_u64()
        ),
        (Some(0), Some(1))
    );

    // 3. The old key is dropped: the re-sealed seed still verifies.
    stack.set_secret(&secret(json!({}))).await;
    let second = asked_about(&stack, &slack, "evt-rotated").await;
    stack.say_yes(&slack.url(), &second, ALICE).await;
    let later = stack.now() + Duration::seconds(30);
    stack.clock.set(later);
    assert_eq!(
        code_reply(&stack, &slack, &second, &code_at(&uri, later)).await,
        None
    );
    assert_eq!(stack.alert(&second).await.status.as_str(), "confirmed");
}

#[tokio::test]
async fn a_slack_token_fixed_in_the_secret_is_used_without_recycling_the_container() {
    let (stack, slack) = start().await;
    let secret = |token: &str| {
        json!({"webhook_keys": [{"id": "local", "secret": LOCAL_KEY}],
               "slack_bot_token": token, "slack_signing_secret": SIGNING_SECRET,
               "seed_encryption_key": SEED_KEY})
        .to_string()
    };
    stack.set_secret(&secret("xoxb-revoked")).await;
    let f = stack.interaction(&slack.url());
    // The container reads the secret (with the bad token) while verifying a request.
    let challenge = json!({"type": "url_verification", "challenge": "c-1", "token": "x"});
    assert_eq!(post_event(&stack, &f, &challenge).await.0, 200);
    // The token is fixed in Secrets Manager; Slack refuses the cached one; it is read again.
    stack
        .set_secret(&secret(securitybot_tests::slack::BOT_TOKEN))
        .await;
    let home_opened = json!({"type": "event_callback", "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"}});
    let (status, _) = post_event(&stack, &f, &home_opened).await;
    assert_eq!(status, 200);
    assert_eq!(slack.calls_to("views.publish").await.len(), 1);
}

#[tokio::test]
async fn the_dm_channel_is_opened_once_and_remembered_with_the_person_across_containers() {
    let (stack, slack) = start().await;
    let ingest = |source_id: &'static str| {
        let sample = event("ingest-canonical.json");
        let body = sample["body"]
            .as_str()
            .unwrap()
            .replace("elastic-7f3a9c", source_id);
        with_body(sample, &body)
    };
    // Each alert delivered by a fresh notifier (a new container: nothing cached in memory).
    for source_id in ["evt-1", "evt-2", "evt-3"] {
        call(&stack.webhook(), &ingest(source_id)).await;
        stack.deliver_ok(&stack.notifier(&slack.url())).await;
    }
    assert_eq!(slack.calls_to("chat.postMessage").await.len(), 3);
    assert_eq!(
        slack.calls_to("conversations.open").await.len(),
        1,
        "opened for the first DM only"
    );
    // The remembered channel went away (Slack: channel_not_found): opened again, DM sent.
    slack
        .refuse("chat.postMessage", "channel_not_found", 1)
        .await;
    call(&stack.webhook(), &ingest("evt-4")).await;
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_eq!(slack.calls_to("conversations.open").await.len(), 2);
    let asked = stack.count_in("asked").await;
    assert_eq!(asked, 4, "every alert asked");
}

#[tokio::test]
async fn slack_refusals_and_outages_end_in_the_teams_view_not_in_silence() {
    let (stack, slack) = start().await;
    let id = asked(&stack, &slack).await;
    let f = stack.interaction(&slack.url());
    // Their DM was deleted meanwhile: the No still counts, the person gets no error.
    slack.refuse("chat.update", "message_not_found", 1).await;
    let (status, reply) = stack
        .slack_post(&f, &click("answer_no", &id, ALICE, "DUALICE"))
        .await;
    assert_eq!((status, reply), (200, None));
    // The bot is not in the security channel yet, then Slack has an outage: the team post is
    // retried (never dropped, never called "not in Slack") until it lands, once.
    slack.refuse("chat.postMessage", "not_in_channel", 1).await;
    slack.outage("chat.postMessage", 1).await;
    let notifier = stack.notifier(&slack.url());
    for attempt in 1..=3 {
        if stack
            .deliver(&notifier)
            .await
            .batch_item_failures
            .is_empty()
        {
            break;
        }
        assert!(attempt < 3);
        stack.enqueue("escalate", &id).await;
    }
    let record = stack.alert(&id).await;
    assert_eq!(record.escalation_reason.unwrap().as_str(), "denied");
    assert_eq!(
        slack.team_posts().await.len(),
        3,
        "refused, failed, then posted"
    );
    assert!(record.escalation_message.is_some());
    // The team closes it from the post: Resolve, end to end.
    let resolve = json!({"type": "block_actions", "user": {"id": securitybot_tests::TEAM_MEMBER},
        "trigger_id": "t", "channel": {"id": SECURITY_CHANNEL},
        "actions": [{"action_id": "team_resolve", "value": id}]});
    assert_eq!(stack.slack_post(&f, &resolve).await.0, 200);
    assert_eq!(stack.alert(&id).await.status.as_str(), "resolved_benign");
    assert!(slack.last_update_says("resolved (benign)").await);
}

#[tokio::test]
async fn check_slack_says_what_to_fix_before_the_first_alert() {
    let (stack, slack) = start().await;
    let good = stack
        .admin_with(stack.conversation_settings(&slack.url()))
        .run(json!({"command": "check_slack"}))
        .await
        .unwrap();
    assert_eq!(good["ok"], true, "{good}");
    assert_eq!(good["connected_as"], "@securitybot (UBOT) in Acme");
    // The wrong channel, a team id from another workspace, and a broken token.
    let mut settings = stack.settings_of("AdminFunction", &slack.url());
    settings.security_channel = "COTHER0001".into();
    settings.team.push("UNOBODY01".into());
    let bad = stack
        .admin_with(settings)
        .run(json!({"command": "check_slack"}))
        .await
        .unwrap();
    let problems = bad["problems"].to_string();
    assert_eq!(bad["ok"], false);
    assert!(
        problems.contains("not in the security channel COTHER0001")
            && problems.contains("/invite @securitybot"),
        "{problems}"
    );
    assert!(
        problems.contains("team member UNOBODY01 is not in this workspace"),
        "{problems}"
    );
    stack
        .set_secret(&json!({"slack_bot_token": "xoxb-wrong"}).to_string())
        .await;
    let refused = stack
        .admin_with(stack.conversation_settings(&slack.url()))
        .run(json!({"command": "check_slack"}))
        .await
        .unwrap();
    assert!(
        refused["problems"][0]
            .as_str()
            .unwrap()
            .contains("Slack refuses the bot token"),
        "{refused}"
    );
    assert!(
        !refused.to_string().contains("xoxb-wrong"),
        "the token is never shown"
    );
    assert!(
        slack.calls_to("chat.postMessage").await.is_empty(),
        "nothing posted"
    );
}

#[tokio::test]
async fn a_test_alert_goes_the_real_way_to_the_person() {
    let (stack, slack) = start().await;
    let admin = stack.admin_with(stack.settings_of("AdminFunction", &slack.url()));
    let sent = admin
        .run(json!({"command": "send_test_alert", "user": "alice@example.com", "operator": "oncall-bob"}))
        .await
        .unwrap();
    assert_eq!(
        (sent["outcome"].as_str(), sent["test"].as_bool()),
        (Some("ask"), Some(true)),
        "{sent}"
    );
    let id = sent["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let record = stack.alert(&id).await;
    assert_eq!(record.status.as_str(), "asked");
    assert_eq!(record.alert.rule, securitybot::admin::TEST_RULE);
    assert_eq!(record.received_via, "admin:operator:oncall-bob");
    let dm = slack.calls_to("chat.postMessage").await;
    assert!(
        dm[0].args.to_string().contains("[TEST]"),
        "marked as a test in the DM"
    );
    assert!(
        stack.payload(&id).await.is_some(),
        "kept like any alert's payload"
    );
    let unnamed = admin
        .run(json!({"command": "send_test_alert", "user": "alice@example.com", "operator": " "}))
        .await
        .unwrap_err();
    assert!(
        unnamed.to_string().contains("operator must name you"),
        "{unnamed}"
    );
}

//! Answers go back to the SIEM: the real write-back handler on stream records of real alerts,
//! sending to a local Splunk HEC stand-in and a signed webhook.

use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ALICE: &str = "UALICE";

async fn hec() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/collector/event"))
        .and(header(
            "authorization",
            format!("Splunk {HEC_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"text": "Success", "code": 0})),
        )
        .with_priority(5)
        .mount(&server)
        .await;
    server
}

async fn sent(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.url.path() != "/nothing")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The sample alert taken in, asked and answered No: its id and its stream images after each
/// step (received, asked, escalated).
async fn answered_no(stack: &Stack, slack: &SlackStandIn) -> (String, [Value; 3]) {
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    let received = stack.image(&id).await;
    stack.deliver(&stack.notifier(&slack.url())).await;
    let asked = stack.image(&id).await;
    stack
        .slack_post(
            &stack.interaction(&slack.url()),
            &click("answer_no", &id, ALICE, "DUALICE"),
        )
        .await;
    let escalated = stack.image(&id).await;
    (id, [received, asked, escalated])
}

#[tokio::test]
async fn each_answer_reaches_splunk_once_and_failures_retry() {
    let stack = Stack::new("writeback").await;
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    let splunk = hec().await;
    let writeback = stack.writeback(
        "splunk_hec",
        &format!("{}/services/collector/event", splunk.uri()),
    );

    let (id, [received, asked, escalated]) = answered_no(&stack, &slack).await;

    let batch = || {
        stream_event(&[
            ("100", None, &received),
            ("200", Some(&received), &asked),
            ("300", Some(&asked), &escalated),
        ])
    };
    let response = writeback::handle(&writeback, batch()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let events = sent(&splunk).await;
    assert_eq!(
        events.len(),
        1,
        "received and asked are not reported; the escalation is"
    );
    let e = &events[0]["event"];
    assert_eq!(e["status"], "escalated");
    assert_eq!(e["escalation_reason"], "denied");
    assert_eq!(e["alert_id"], id.as_str());
    assert_eq!(
        e["source_id"], "elastic-7f3a9c",
        "with the id the SIEM knows"
    );
    assert_eq!(e["actor"], format!("chat:{ALICE}"));
    assert_eq!(events[0]["sourcetype"], "securitybot:answer");

    // Redelivery of the same stream batch: nothing is sent twice. (A write to the alert that
    // does not change its status, like the team post's id, is on the stream too, and ignored.)
    let after_claim = stack.image(&id).await;
    writeback::handle(
        &writeback,
        stream_event(&[
            ("300", Some(&asked), &escalated),
            ("301", Some(&escalated), &after_claim),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(sent(&splunk).await.len(), 1);

    // Splunk busy: the record is reported failed (by its sequence number), then sent on retry.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&splunk)
        .await;
    stack
        .slack_post(
            &stack.interaction(&slack.url()),
            &click("team_acknowledge", &id, TEAM_MEMBER, SECURITY_CHANNEL),
        )
        .await;
    let acknowledged = stack.image(&id).await;
    let retry = || stream_event(&[("400", Some(&after_claim), &acknowledged)]);
    let response = writeback::handle(&writeback, retry()).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        response.batch_item_failures[0].item_identifier.as_deref(),
        Some("400")
    );
    let response = writeback::handle(&writeback, retry()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let statuses: Vec<Value> = sent(&splunk)
        .await
        .iter()
        .map(|e| e["event"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![
            Value::from("escalated"),
            Value::from("acknowledged"),
            Value::from("acknowledged")
        ],
        "the 503, then the retry"
    );

    // Switched off: nothing is sent.
    let off = stack.writeback("off", "");
    writeback::handle(&off, batch()).await.unwrap();
    assert_eq!(sent(&splunk).await.len(), 3);
}

#[tokio::test]
async fn the_webhook_sink_signs_what_it_sends() {
    let stack = Stack::new("wbhook").await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let writeback = stack.writeback("webhook", &format!("{}/securitybot", receiver.uri()));
    securitybot::ports::Directory::set_never_contact(
        &securitybot::adapters::dynamodb::DynamoDirectory::new(
            stack.dynamodb.clone(),
            &stack.env["PEOPLE_TABLE"],
        ),
        "alice@example.com",
        true,
        "test",
    )
    .await
    .unwrap();
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    let unroutable = stack.image(&id).await;
    // Simulate the team closing it straight from unroutable -> escalated (the notifier's move).
    let mut escalated = unroutable.clone();
    escalated["status"] = serde_json::json!({"S": "escalated"});
    writeback::handle(
        &writeback,
        stream_event(&[("1", Some(&unroutable), &escalated)]),
    )
    .await
    .unwrap();

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    let headers: std::collections::HashMap<String, String> = r
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let no_query = std::collections::HashMap::new();
    let key = securitybot::core::secrets::WebhookKey::any(
        "siem",
        securitybot::core::secrets::SecretString::new(WRITEBACK_KEY),
    );
    let credential = securitybot::intake::auth::credential(&headers, &no_query).unwrap();
    let verified = securitybot::intake::auth::verify(credential, &r.body, &[key], stack.now(), 300);
    assert_eq!(
        verified.map(|k| k.id),
        Ok("siem".to_string()),
        "signed exactly as our own webhook checks signatures"
    );
    let event: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(event["escalation_reason"], "never_contact");
}

/// The stream trigger wakes the writeback function only for changes into a status the SIEM
/// hears about, and not at all while write-back is off: the template's filter must list
/// exactly `Status::is_reported`, or answers would be silently skipped (a status missing) or
/// paid for (a status too many).
#[test]
fn the_stream_filter_lists_exactly_the_reported_statuses() {
    use securitybot::core::state::Status;
    let template = securitybot_infra::Template::load(&securitybot_infra::template_path()).unwrap();
    let event = &template.resource("WritebackFunction").unwrap()["Properties"]["Events"]["AlertChanges"]
        ["Properties"];
    let pattern: Value = serde_json::from_str(
        event["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut listed: Vec<&str> = pattern["dynamodb"]["NewImage"]["status"]["S"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    listed.sort();
    let mut reported: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_reported())
        .map(|s| s.as_str())
        .collect();
    reported.sort();
    assert_eq!(listed, reported);
    let enabled = format!("{:?}", event["Enabled"]);
    assert!(enabled.contains("WritesBack"), "{enabled}");
}

/// The stream gives up after its retries and its dead-letter queue holds only positions, which
/// expire with the stream: the failed event itself is kept, and an operator's redrive (through
/// the real handler, as `events/writeback-redrive.json` invokes it) sends it once.
#[tokio::test]
async fn a_write_back_that_failed_for_good_is_kept_and_redriven_by_an_operator() {
    let stack = Stack::new("redrive").await;
    let slack = SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    let splunk = hec().await;
    let writeback = stack.writeback(
        "splunk_hec",
        &format!("{}/services/collector/event", splunk.uri()),
    );
    let (id, [_, asked, escalated]) = answered_no(&stack, &slack).await;

    // Splunk refuses every try the stream makes.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&splunk)
        .await;
    for _ in 0..3 {
        let batch = stream_event(&[("300", Some(&asked), &escalated)]);
        let response = writeback::handle(&writeback, batch).await.unwrap();
        assert_eq!(response.batch_item_failures.len(), 1);
    }
    assert!(sent(&splunk).await.iter().all(|e| e.get("event").is_some()));

    let redrive = serde_json::json!({"command": "redrive", "operator": "dana"});
    let report = writeback::handle_invocation(&writeback, redrive.clone(), None)
        .await
        .unwrap();
    assert_eq!(report["sent"], 1, "{report}");
    let delivered: Vec<Value> = sent(&splunk)
        .await
        .into_iter()
        .filter(|e| e["event"]["status"] == "escalated")
        .collect();
    assert_eq!(delivered.len(), 4, "three refused, then the redriven one");
    assert_eq!(delivered[3]["event"]["alert_id"], id.as_str());
    // Nothing left: a second redrive sends nothing.
    let again = writeback::handle_invocation(&writeback, redrive, None)
        .await
        .unwrap();
    assert_eq!(
        (again["sent"].as_u64(), again["already_sent"].as_u64()),
        (Some(0), Some(0))
    );
    // A command without an operator is refused, naming it.
    let refused =
        writeback::handle_invocation(&writeback, serde_json::json!({"command": "redrive"}), None)
            .await
            .unwrap_err()
            .to_string();
    assert!(refused.contains("operator"), "{refused}");
}

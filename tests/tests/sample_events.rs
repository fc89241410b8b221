//! Every sample in events/ goes through the real handler and gets the answer the README
//! promises, so the samples users invoke with never rot.

use securitybot_tests::*;

#[tokio::test]
async fn every_sample_event_gets_its_documented_answer() {
    let stack = Stack::new("samples").await;
    let webhook = stack.webhook();
    let now = stack.now().timestamp();
    let expected = [
        ("ingest-canonical.json", 202),
        ("ingest-canonical-batch.json", 202),
        ("ingest-splunk.json", 202),
        ("ingest-grafana.json", 202),
        ("ingest-panther.json", 202),
        ("ingest-bad-signature.json", 401),
        ("ingest-malformed.json", 400),
        ("ingest-invalid.json", 422),
        ("ingest-health.json", 200),
    ];
    let mut names: Vec<String> = std::fs::read_dir(event_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("ingest-"))
        .collect();
    names.sort();
    let mut covered: Vec<String> = expected
        .iter()
        .map(|(n, _)| n.to_string())
        .chain(["ingest-canonical-hmac.json".to_string()])
        .collect();
    covered.sort();
    assert_eq!(
        names, covered,
        "every ingest sample has an expected answer here"
    );

    for (name, status) in expected {
        let (got, body) = call(&webhook, &event(name)).await;
        assert_eq!(got, status, "{name}: {body}");
    }
    // The HMAC sample is signed at a fixed past time: stale as shipped, accepted once re-signed
    // (scripts/events.py sign does the same for cargo lambda invoke).
    assert_eq!(
        call(&webhook, &event("ingest-canonical-hmac.json")).await.0,
        401
    );
    assert_eq!(
        call(
            &webhook,
            &sign(event("ingest-canonical-hmac.json"), LOCAL_KEY, now)
        )
        .await
        .0,
        202
    );
    // canonical (1) + batch (1 new: its first alert is the canonical one) + splunk + grafana + panther
    // + the hmac one, which is the batch's second alert: a duplicate.
    assert_eq!(stack.alerts().await.len(), 5);
    // Each stored alert queued, and the two duplicates (not asked yet: no notifier runs here)
    // queued again: 7 messages, for the 5 alerts.
    let queued = stack.drain_queue().await;
    assert_eq!(queued.len(), 7);
    let distinct: std::collections::BTreeSet<String> =
        queued.iter().map(|m| m["alert_id"].to_string()).collect();
    assert_eq!(distinct.len(), 5);
}

/// Re-signs a Slack sample at `ts`, as scripts/events.py slack-sign does.
fn slack_signed(mut e: serde_json::Value, ts: i64) -> serde_json::Value {
    let body = e["body"].as_str().unwrap().to_string();
    e["headers"]["x-slack-request-timestamp"] = ts.to_string().into();
    e["headers"]["x-slack-signature"] =
        securitybot::adapters::slack::interaction::sign(SIGNING_SECRET, ts, body.as_bytes()).into();
    e
}

#[tokio::test]
async fn the_conversation_samples_drive_the_real_handlers() {
    let stack = Stack::new("convsamples").await;
    let slack =
        securitybot_tests::slack::SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    assert_eq!(
        id, "al_da20d58b54be3bd13ed6da41aa0b5fda",
        "the samples refer to this alert"
    );

    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(event("notifier-sqs-batch.json")).unwrap();
    let response = notifier::handle(&stack.notifier(&slack.url()), batch, None)
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        stack.alert(&id).await.status.as_str(),
        "asked",
        "the ask was sent; the escalate item found nothing to do"
    );

    let f = stack.interaction(&slack.url());
    let now = stack.now().timestamp();
    let respond = |name: &str| {
        let e = slack_signed(event(name), now);
        let f = &f;
        async move {
            interaction::handle(f, request(&e))
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        interaction::handle(&f, request(&event("interaction-no.json")))
            .await
            .unwrap()
            .status()
            .as_u16(),
        401,
        "samples are stale until re-signed"
    );
    assert_eq!(respond("interaction-no.json").await, 200);
    assert_eq!(stack.alert(&id).await.status.as_str(), "escalated");
    assert_eq!(
        respond("interaction-yes.json").await,
        200,
        "a late yes changes nothing"
    );
    assert_eq!(respond("interaction-submit.json").await, 200);
    assert_eq!(respond("interaction-team-acknowledge.json").await, 200);
    assert_eq!(respond("interaction-home-opened.json").await, 200);
    assert!(
        slack.calls_to("views.publish").await.len() == 1,
        "the Home tab is shown"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "acknowledged");

    let sweep = scheduler::handle(&stack.scheduler(), event("scheduler-tick.json"))
        .await
        .unwrap();
    assert_eq!(
        sweep,
        serde_json::json!({"reminded": 0, "escalated": 0, "resent": 0, "failed": 0, "quarantined": 0}),
        "nothing is due yet"
    );

    let hec = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&hec)
        .await;
    let stream: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(event("writeback-stream.json")).unwrap();
    let written = writeback::handle(&stack.writeback("splunk_hec", &hec.uri()), stream)
        .await
        .unwrap();
    assert!(written.batch_item_failures.is_empty());
    assert_eq!(
        hec.received_requests().await.unwrap().len(),
        1,
        "the sample escalation is written back"
    );

    let admin = stack.admin();
    let mut names: Vec<String> = std::fs::read_dir(event_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("admin-"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 15);
    for name in names {
        let out = admin.run(event(&name)).await;
        assert!(out.is_ok(), "{name}: {out:?}");
    }
}

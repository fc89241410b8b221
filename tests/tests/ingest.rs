//! The ingest function through its real handler, against moto: what each request leaves in
//! DynamoDB and on SQS, including nothing at all for every refused request.

use chrono::Duration;
use securitybot::adapters::dynamodb::{DynamoAlerts, DynamoDirectory, DynamoSnoozes};
use securitybot::core::alert::AlertId;
use securitybot::core::snooze::{Snooze, SnoozeScope};
use securitybot::ports::{AlertStore, Directory, SnoozeStore};
use securitybot_tests::*;
use serde_json::{Value, json};

async fn assert_nothing_stored(stack: &Stack) {
    assert!(
        stack.alerts().await.is_empty(),
        "a refused request must store nothing"
    );
    assert!(
        stack.drain_queue().await.is_empty(),
        "a refused request must queue nothing"
    );
}

#[tokio::test]
async fn canonical_alert_with_bearer_is_stored_and_queued_to_ask() {
    let stack = Stack::new("canonical").await;
    let webhook = stack.webhook();
    let (status, body) = call(&webhook, &event("ingest-canonical.json")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 1);
    assert_eq!(body["alerts"][0]["outcome"], "ask");
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();

    let items = stack.alerts().await;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(s(item, "alert_id"), id);
    assert_eq!(s(item, "status"), "received");
    assert_eq!(s(item, "user"), "alice@example.com");
    assert_eq!(s(item, "rule"), "sudo_root_shell");
    assert_eq!(s(item, "severity"), "high");
    assert_eq!(s(item, "received_via"), "webhook:local");
    assert_eq!(s(item, "occurred_at"), "2026-11-28T07:58:12.000Z");
    assert!(item["occurred_at_epoch"].as_n().is_ok());
    assert!(
        item["expires_at_epoch"].as_n().is_ok(),
        "retention TTL attribute is set"
    );
    assert!(
        item.get("queued_at").is_none(),
        "queueing writes nothing more to the alert"
    );
    let due: i64 = item["due_at_epoch"].as_n().unwrap().parse().unwrap();
    let received: i64 = item["received_at_epoch"].as_n().unwrap().parse().unwrap();
    assert_eq!(
        due - received,
        15 * 60,
        "stored due for the scheduler's second look, should the hand-off be lost"
    );
    assert_eq!(
        item["history"].as_l().unwrap().len(),
        1,
        "the audit trail starts"
    );

    let queued = stack.drain_queue().await;
    assert_eq!(
        queued,
        vec![json!({"v": 1, "action": "ask", "alert_id": id})]
    );
}

#[tokio::test]
async fn each_native_format_is_admitted() {
    let stack = Stack::new("formats").await;
    let webhook = stack.webhook();

    let (status, body) = call(&webhook, &event("ingest-splunk.json")).await;
    assert_eq!(status, 202, "splunk via URL token: {body}");
    assert_eq!(body["alerts"][0]["outcome"], "ask");

    let grafana = sign(
        event("ingest-grafana.json"),
        LOCAL_KEY,
        stack.now().timestamp(),
    );
    let (status, body) = call(&webhook, &grafana).await;
    assert_eq!(status, 202, "grafana via HMAC: {body}");
    assert_eq!(body["alerts"][0]["outcome"], "ask");
    assert_eq!(
        body["alerts"][1]["outcome"], "ignored",
        "resolved notifications are not asked about"
    );
    assert_eq!(body["accepted"], 1);

    let (status, body) = call(&webhook, &event("ingest-panther.json")).await;
    assert_eq!(status, 202, "panther via bearer: {body}");

    let mut items = stack.alerts().await;
    items.sort_by_key(|i| s(i, "source"));
    let summary: Vec<(String, String, String)> = items
        .iter()
        .map(|i| (s(i, "source"), s(i, "user"), s(i, "rule")))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "grafana".into(),
                "dave@example.com".into(),
                "login_new_country".into()
            ),
            (
                "panther".into(),
                "frank@example.com".into(),
                "AWS.Console.LoginWithoutMFA".into()
            ),
            (
                "splunk".into(),
                "carol@example.com".into(),
                "sudo_root_shell".into()
            ),
        ]
    );
    let splunk = items.iter().find(|i| s(i, "source") == "splunk").unwrap();
    assert_eq!(
        splunk["context"].as_m().unwrap()["host"].as_s().unwrap(),
        "web-3"
    );
    assert_eq!(
        s(splunk, "source_user"),
        "carol",
        "the name as the SIEM gave it is kept beside the mapped email"
    );
    assert_eq!(stack.drain_queue().await.len(), 3);
}

#[tokio::test]
async fn bad_credentials_get_401_and_leave_nothing() {
    let stack = Stack::new("auth").await;
    let webhook = stack.webhook();
    let now = stack.now().timestamp();
    let cases = [
        (
            "missing",
            set_header(event("ingest-canonical.json"), "authorization", None),
            "no credential",
        ),
        (
            "wrong bearer",
            set_header(
                event("ingest-canonical.json"),
                "authorization",
                Some("Bearer nope"),
            ),
            "does not match",
        ),
        (
            "not bearer",
            set_header(
                event("ingest-canonical.json"),
                "authorization",
                Some("Token abc"),
            ),
            "Bearer",
        ),
        (
            "wrong signature",
            event("ingest-bad-signature.json"),
            "window",
        ),
        (
            "signed with another key",
            sign(event("ingest-canonical.json"), "not-the-key", now),
            "does not match",
        ),
        (
            "expired signature",
            sign(event("ingest-canonical.json"), LOCAL_KEY, now - 301),
            "window",
        ),
        (
            "future signature",
            sign(event("ingest-canonical.json"), LOCAL_KEY, now + 301),
            "window",
        ),
        (
            "signature without timestamp",
            set_header(
                sign(event("ingest-canonical.json"), LOCAL_KEY, now),
                "x-securitybot-timestamp",
                None,
            ),
            "Timestamp",
        ),
        (
            "wrong url token",
            {
                let mut e = event("ingest-splunk.json");
                e["queryStringParameters"]["token"] = "nope".into();
                e["rawQueryString"] = "token=nope".into();
                e
            },
            "does not match",
        ),
    ];
    for (name, request, says) in cases {
        let (status, body) = call(&webhook, &request).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["error"], "unauthorized", "{name}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
        assert!(
            !message.contains(LOCAL_KEY),
            "{name}: the key never appears in an error"
        );
    }
    // A tampered body under a valid signature.
    let signed = sign(event("ingest-canonical.json"), LOCAL_KEY, now);
    let tampered = with_body(
        signed,
        &event("ingest-canonical.json")["body"]
            .as_str()
            .unwrap()
            .replace("alice", "mallory"),
    );
    assert_eq!(call(&webhook, &tampered).await.0, 401);
    assert_nothing_stored(&stack).await;
}

#[tokio::test]
async fn a_replayed_signed_request_is_stored_once() {
    let stack = Stack::new("replay").await;
    let webhook = stack.webhook();
    let signed = sign(
        event("ingest-canonical-hmac.json"),
        LOCAL_KEY,
        stack.now().timestamp() - 30,
    );
    let (first, body1) = call(&webhook, &signed).await;
    let (second, body2) = call(&webhook, &signed).await;
    assert_eq!((first, second), (202, 202));
    assert_eq!(body1["alerts"][0]["outcome"], "ask");
    assert_eq!(body2["alerts"][0]["outcome"], "duplicate");
    assert_eq!(body2["alerts"][0]["status"], "received");
    assert_eq!(body2["accepted"], 0);
    assert_eq!(stack.alerts().await.len(), 1);
    // Not yet asked, so queued again (the notifier asks once whatever it is handed).
    let queued = stack.drain_queue().await;
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0], queued[1]);
}

#[tokio::test]
async fn a_rotated_key_works_without_a_redeploy() {
    let stack = Stack::new("rotation").await;
    let webhook = stack.webhook();
    assert_eq!(
        call(&webhook, &event("ingest-canonical.json")).await.0,
        202,
        "warms the secret cache"
    );
    stack
        .set_secret(&json!({"webhook_keys": [{"id": "local", "secret": LOCAL_KEY}, {"id": "next", "secret": SECOND_KEY}]}).to_string())
        .await;
    let batch = set_header(
        event("ingest-canonical-batch.json"),
        "authorization",
        Some(&format!("Bearer {SECOND_KEY}")),
    );
    let (status, body) = call(&webhook, &batch).await;
    assert_eq!(status, 202, "the new key is read on the first miss: {body}");
    let items = stack.alerts().await;
    assert!(items.iter().any(|i| s(i, "received_via") == "webhook:next"));
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_get_specific_errors() {
    let stack = Stack::new("badinput").await;
    let webhook = stack.webhook();

    let (status, body) = call(&webhook, &event("ingest-malformed.json")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("malformed_json")),
        "{body}"
    );

    let (status, body) = call(&webhook, &event("ingest-invalid.json")).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"alerts[1].user")
            && fields.contains(&"alerts[1].title")
            && fields.contains(&"alerts[1].severity"),
        "{fields:?}"
    );

    let huge = format!(
        "{{\"alerts\": [], \"pad\": \"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let (status, body) = call(&webhook, &with_body(event("ingest-canonical.json"), &huge)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );

    let (status, body) = call(
        &webhook,
        &set_header(
            event("ingest-canonical.json"),
            "content-type",
            Some("text/plain"),
        ),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert!(body["message"].as_str().unwrap().contains("text/plain"));

    let wrong_type = json!({"id": "x1", "rule": "sudo_root_shell", "user": ["alice"], "title": "t", "occurred_at": "2026-11-28T00:00:00Z"});
    let (status, body) = call(
        &webhook,
        &with_body(event("ingest-canonical.json"), &wrong_type.to_string()),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["problems"][0]["field"], "user");
    assert_eq!(
        body["problems"][0]["message"],
        "must be a string, not an array"
    );

    let mut get = event("ingest-canonical.json");
    get["requestContext"]["http"]["method"] = "GET".into();
    assert_eq!(call(&webhook, &get).await.0, 405);
    let mut elsewhere = event("ingest-canonical.json");
    elsewhere["rawPath"] = "/alerts/nagios".into();
    elsewhere["requestContext"]["http"]["path"] = "/alerts/nagios".into();
    assert_eq!(call(&webhook, &elsewhere).await.0, 404);

    assert_nothing_stored(&stack).await;
}

#[tokio::test]
async fn a_duplicate_delivery_is_stored_once_and_queued_again_only_while_unasked() {
    let stack = Stack::new("dupe").await;
    let webhook = stack.webhook();
    let (_, first) = call(&webhook, &event("ingest-canonical-batch.json")).await;
    let (status, second) = call(&webhook, &event("ingest-canonical-batch.json")).await;
    assert_eq!(
        status, 202,
        "a duplicate is a success, so the SIEM stops retrying"
    );
    assert_eq!(second["alerts"][0]["outcome"], "duplicate");
    assert_eq!(second["alerts"][1]["outcome"], "duplicate");
    assert_eq!(
        first["alerts"][0]["alert_id"],
        second["alerts"][0]["alert_id"]
    );
    assert_eq!(stack.alerts().await.len(), 2);
    // Neither asked yet: each is queued again; the notifier's claim asks each once.
    let mut queued = stack.drain_queue().await;
    assert_eq!(queued.len(), 4);
    queued.sort_by_key(|m| m.to_string());
    queued.dedup();
    assert_eq!(queued.len(), 2, "the same two items");
}

#[tokio::test]
async fn a_batch_with_one_bad_alert_stores_nothing() {
    let stack = Stack::new("badbatch").await;
    let webhook = stack.webhook();
    let mut batch: Value = serde_json::from_str(
        event("ingest-canonical-batch.json")["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    batch["alerts"][1]["occurred_at"] = "last tuesday".into();
    let (status, body) = call(
        &webhook,
        &with_body(event("ingest-canonical-batch.json"), &batch.to_string()),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["problems"][0]["field"], "alerts[1].occurred_at");
    assert_nothing_stored(&stack).await;
}

async fn snooze_for(stack: &Stack, expires_in: Duration) -> AlertId {
    let store = DynamoSnoozes::new(stack.dynamodb.clone(), &stack.env["SNOOZES_TABLE"]);
    let confirmed = AlertId::from_stored("al_earlier_confirmed_yes");
    let scope = SnoozeScope {
        user: "alice@example.com".into(),
        rule: "sudo_root_shell".into(),
        context: [("host".to_string(), "build-01".to_string())].into(),
    };
    store
        .put(&Snooze {
            scope,
            confirmed_alert: confirmed.clone(),
            created_at: stack.now() - Duration::hours(1),
            expires_at: stack.now() + expires_in,
        })
        .await
        .unwrap();
    confirmed
}

#[tokio::test]
async fn an_alert_covered_by_an_active_snooze_is_stored_as_snoozed_and_not_queued() {
    let stack = Stack::new("snoozed").await;
    let confirmed = snooze_for(&stack, Duration::hours(2)).await;
    let (status, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(status, 202);
    assert_eq!(body["alerts"][0]["outcome"], "snoozed");
    assert_eq!(body["alerts"][0]["snoozed_by"], confirmed.as_str());
    let items = stack.alerts().await;
    assert_eq!(s(&items[0], "status"), "snoozed");
    assert_eq!(s(&items[0], "snoozed_by"), confirmed.as_str());
    assert!(
        !items[0].contains_key("due_at_epoch"),
        "nothing is owed for a snoozed alert"
    );
    assert!(
        stack.drain_queue().await.is_empty(),
        "snoozed alerts are not asked about"
    );
}

#[tokio::test]
async fn an_expired_snooze_still_in_the_table_is_ignored() {
    let stack = Stack::new("expired").await;
    snooze_for(&stack, Duration::seconds(-1)).await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(
        body["alerts"][0]["outcome"], "ask",
        "TTL lags: expiry is checked on read"
    );
    assert_eq!(stack.drain_queue().await.len(), 1);
}

#[tokio::test]
async fn a_snooze_covers_only_its_own_host() {
    let stack = Stack::new("otherhost").await;
    snooze_for(&stack, Duration::hours(2)).await;
    let mut alert: Value =
        serde_json::from_str(event("ingest-canonical.json")["body"].as_str().unwrap()).unwrap();
    alert["id"] = "elastic-other-host".into();
    alert["context"]["host"] = "build-02".into();
    let (_, body) = call(
        &stack.webhook(),
        &with_body(event("ingest-canonical.json"), &alert.to_string()),
    )
    .await;
    assert_eq!(body["alerts"][0]["outcome"], "ask");
}

#[tokio::test]
async fn never_contact_and_unmappable_people_are_escalated_not_dropped() {
    let stack = Stack::new("escalate").await;
    DynamoDirectory::new(stack.dynamodb.clone(), &stack.env["PEOPLE_TABLE"])
        .set_never_contact("alice@example.com", true, "test")
        .await
        .unwrap();
    let webhook = stack.webhook();
    let (_, body) = call(&webhook, &event("ingest-canonical.json")).await;
    assert_eq!(body["alerts"][0]["outcome"], "escalate");
    assert_eq!(body["alerts"][0]["reason"], "never_contact");

    let mut splunk = event("ingest-splunk.json");
    let mut payload: Value = serde_json::from_str(splunk["body"].as_str().unwrap()).unwrap();
    payload["result"].as_object_mut().unwrap().remove("user");
    splunk = with_body(splunk, &payload.to_string());
    let (_, body) = call(&webhook, &splunk).await;
    assert_eq!(body["alerts"][0]["reason"], "unmappable_user");

    let items = stack.alerts().await;
    assert!(items.iter().all(|i| s(i, "status") == "unroutable"));
    let reasons: std::collections::BTreeSet<String> =
        items.iter().map(|i| s(i, "escalation_reason")).collect();
    assert_eq!(
        reasons,
        ["never_contact".to_string(), "unmappable_user".to_string()].into()
    );
    let queued = stack.drain_queue().await;
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|m| m["action"] == "escalate"));
}

#[tokio::test]
async fn secrets_in_alerts_are_masked_in_what_chat_will_read_but_kept_raw() {
    let stack = Stack::new("redact").await;
    let (status, _) = call(
        &stack.webhook(),
        &sign(
            event("ingest-canonical-hmac.json"),
            LOCAL_KEY,
            stack.now().timestamp(),
        ),
    )
    .await;
    assert_eq!(status, 202);
    let item = &stack.alerts().await[0];
    assert_eq!(
        s(item, "description"),
        "nmap -sS 10.0.0.0/24 mysql --password=[REDACTED]"
    );
    // Raw stays in one place: the payloads table (no stream, no index, no backups).
    assert!(
        !item.contains_key("raw"),
        "never in the alert's item (copied to the indexes and the stream)"
    );
    let id = s(item, "alert_id");
    assert!(
        !stack.image(&id).await.to_string().contains("hunter2"),
        "nor in what the stream carries"
    );
    let raw = stack.payload(&id).await.expect("the raw payload is kept");
    assert!(
        raw.contains("hunter2"),
        "the raw payload stays for investigators"
    );
    // A redelivery keeps the first payload and stores nothing twice.
    let again = call(
        &stack.webhook(),
        &sign(
            event("ingest-canonical-hmac.json"),
            LOCAL_KEY,
            stack.now().timestamp(),
        ),
    )
    .await;
    assert_eq!(again.1["alerts"][0]["outcome"], "duplicate");
    assert_eq!(stack.payload(&id).await.as_deref(), Some(raw.as_str()));
}

#[tokio::test]
async fn a_hand_off_lost_by_a_crash_is_finished_by_the_redelivery_and_only_while_unasked() {
    let stack = Stack::new("owed").await;
    let slack =
        securitybot_tests::slack::SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let webhook = stack.webhook();
    call(&webhook, &event("ingest-canonical.json")).await;
    let id = AlertId::from_stored(s(&stack.alerts().await[0], "alert_id"));
    // A delivery that stored the alert and died before queueing it: the message is lost.
    stack.drain_queue().await;
    let (_, body) = call(&webhook, &event("ingest-canonical.json")).await;
    assert_eq!(body["alerts"][0]["outcome"], "duplicate");
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let record = DynamoAlerts::new(stack.dynamodb.clone(), &stack.env["ALERTS_TABLE"])
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.status.as_str(),
        "asked",
        "the redelivery's message asked"
    );
    call(&webhook, &event("ingest-canonical.json")).await;
    assert!(
        stack.drain_queue().await.is_empty(),
        "once asked, a duplicate queues nothing"
    );
}

#[tokio::test]
async fn the_store_round_trips_a_record() {
    let stack = Stack::new("roundtrip").await;
    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = AlertId::from_stored(s(&stack.alerts().await[0], "alert_id"));
    let record = DynamoAlerts::new(stack.dynamodb.clone(), &stack.env["ALERTS_TABLE"])
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.alert.context["host"], "build-01");
    assert_eq!(record.alert.user.as_deref(), Some("alice@example.com"));
    assert_eq!(record.history[0].actor, "webhook:local");
    assert_eq!(record.expires_at - record.received_at, Duration::days(180));
}

#[tokio::test]
async fn one_key_cannot_take_the_place_of_another_sources_alerts() {
    const GRAFANA_KEY: &str = "grafana-prod-key-0123456789abcdef0123";
    let stack = Stack::new("impersonation").await;
    stack
        .set_secret(
            &json!({"webhook_keys": [
                {"id": "local", "secret": LOCAL_KEY},
                {"id": "grafana-prod", "secret": GRAFANA_KEY, "sources": ["grafana"], "modes": ["bearer"]},
            ]})
            .to_string(),
        )
        .await;
    let webhook = stack.webhook();
    let as_key = |name: &str, key: &str| {
        set_header(event(name), "authorization", Some(&format!("Bearer {key}")))
    };
    // A holder of another key sends Grafana's next alert first, word for word.
    let (status, forged) = call(&webhook, &as_key("ingest-grafana.json", LOCAL_KEY)).await;
    assert_eq!(status, 202, "{forged}");
    // The real one still counts: its id is not the forger's.
    let (status, real) = call(&webhook, &as_key("ingest-grafana.json", GRAFANA_KEY)).await;
    assert_eq!(status, 202, "{real}");
    assert_ne!(
        real["alerts"][0]["outcome"], "duplicate",
        "pre-empted by another key: {real}"
    );
    assert_ne!(
        forged["alerts"][0]["alert_id"],
        real["alerts"][0]["alert_id"]
    );
    // Its retry is still a duplicate of itself.
    let (_, again) = call(&webhook, &as_key("ingest-grafana.json", GRAFANA_KEY)).await;
    assert_eq!(again["alerts"][0]["outcome"], "duplicate");

    // A bound key sends nothing else, and nothing of such a batch is stored.
    let before = stack.alerts().await.len();
    let (status, body) = call(
        &webhook,
        &as_key("ingest-canonical-batch.json", GRAFANA_KEY),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("source_not_allowed")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("'grafana-prod'"),
        "{body}"
    );
    assert_eq!(stack.alerts().await.len(), before);
    // A bearer-only key is refused as a URL token.
    let mut by_url = event("ingest-splunk.json");
    by_url["rawQueryString"] = format!("token={GRAFANA_KEY}").into();
    by_url["queryStringParameters"]["token"] = GRAFANA_KEY.into();
    assert_eq!(call(&webhook, &by_url).await.0, 401);
}

#[tokio::test]
async fn a_link_to_a_host_that_is_not_a_listed_siem_is_kept_as_defanged_text() {
    let stack = Stack::new("links").await;
    let webhook = stack.webhook();
    let sample = event("ingest-canonical.json");
    let body = sample["body"]
        .as_str()
        .unwrap()
        .replace("https://siem.example.com/app", "https://evil.example/app");
    let (status, answer) = call(&webhook, &with_body(sample, &body)).await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["alerts"][0]["alert_id"].as_str().unwrap();
    let record = stack.alert(id).await;
    assert_eq!(record.alert.link, None, "no link to evil.example");
    assert_eq!(
        record.alert.context["link"],
        "hxxps://evil[.]example/app/security/alerts/7f3a9c"
    );
    // A listed host stays a link.
    let sample = event("ingest-canonical.json");
    let body = sample["body"]
        .as_str()
        .unwrap()
        .replace("elastic-7f3a9c\"", "elastic-other\"");
    let (_, answer) = call(&webhook, &with_body(sample, &body)).await;
    let id = answer["alerts"][0]["alert_id"].as_str().unwrap();
    assert_eq!(
        stack.alert(id).await.alert.link.as_deref(),
        Some("https://siem.example.com/app/security/alerts/7f3a9c")
    );
}

#[tokio::test]
async fn a_short_webhook_key_stops_the_webhook_loudly_and_nothing_else() {
    let stack = Stack::new("shortkey").await;
    stack
        .set_secret(
            &json!({"webhook_keys": [{"id": "local", "secret": LOCAL_KEY}, {"id": "legacy", "secret": "short"}],
                    "slack_bot_token": "xoxb-test", "slack_signing_secret": "s"})
            .to_string(),
        )
        .await;
    let (status, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (500, Some("unavailable")),
        "refused (the SIEM retries, the URL's 5xx alarm fires): {body}"
    );
    assert!(
        !body.to_string().contains("legacy"),
        "nothing about keys to an unauthenticated caller"
    );
    assert!(stack.alerts().await.is_empty());
    // The functions that do not read webhook keys are not stopped by it.
    let secrets = securitybot::adapters::secrets_manager::SecretsManagerSource::new(
        stack.secrets.clone(),
        SecretPurpose::Slack,
        Some(stack.secret_id(SecretPurpose::Slack)),
    );
    let read = securitybot::ports::SecretSource::fetch(&secrets).await;
    assert!(read.is_ok(), "{read:?}");
}

#[tokio::test]
async fn each_secret_is_its_own_and_a_broken_one_stops_only_its_readers() {
    let stack = Stack::new("splitsecret").await;
    let slack =
        securitybot_tests::slack::SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    // The webhook is given only the webhook secret; the Slack one is not even named to it.
    assert!(stack.env.contains_key("WEBHOOK_SECRET_ID"));
    for other in [
        "SLACK_SECRET_ID",
        "SECOND_FACTOR_SECRET_ID",
        "SIEM_SECRET_ID",
        "SECRET_ID",
    ] {
        assert!(!stack.env.contains_key(other), "ingest is given {other}");
    }
    // A Slack secret that is not JSON at all: alerts still come in.
    stack
        .set_secret_of(SecretPurpose::Slack, "xoxb-pasted-raw")
        .await;
    let (status, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(status, 202, "{body}");
    // ... and the notifier, which reads it, fails loudly (retried, then dead-lettered) without
    // quoting it.
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    let failed = stack.deliver(&stack.notifier(&slack.url())).await;
    assert_eq!(
        failed.batch_item_failures.len(),
        1,
        "the ask is handed back to be retried"
    );
    assert_eq!(stack.alert(&id).await.status.as_str(), "received");
    // A webhook secret with a broken entry: the webhook refuses, the notifier goes on once
    // its own secret is right again.
    stack
        .set_secret_of(SecretPurpose::Webhook, r#"{"webhook_keys": "not a list"}"#)
        .await;
    stack
        .set_secret_of(
            SecretPurpose::Slack,
            &json!({"slack_bot_token": securitybot_tests::slack::BOT_TOKEN}).to_string(),
        )
        .await;
    let (status, _) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    assert_eq!(status, 500);
    stack.enqueue("ask", &id).await; // the retry
    let retried = stack.deliver(&stack.notifier(&slack.url())).await;
    assert!(retried.batch_item_failures.is_empty(), "{retried:?}");
    assert_eq!(stack.alert(&id).await.status.as_str(), "asked");
}

#[tokio::test]
async fn the_health_check_touches_no_secret() {
    let stack = Stack::new("health").await;
    stack.set_secret("not the secret's JSON").await;
    let webhook = stack.webhook();
    let (status, body) = call(&webhook, &event("ingest-health.json")).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    // Everything else still needs the secret: a broken one is an error, not a pass.
    let (status, _) = call(&webhook, &event("ingest-canonical.json")).await;
    assert_eq!(status, 500);
}

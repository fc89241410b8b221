//! Least privilege that is also enough: each function is run through a recording proxy, and
//! every AWS call it made (action, table or index, queue, secret) must be allowed by its own
//! policy in template.yaml. moto does not enforce IAM, so without this a missing permission
//! shows up only in production (the admin's `open_escalations` query did).

use securitybot_infra::{Template, template_path};
use securitybot_tests::faults::FaultProxy;
use securitybot_tests::slack::SlackStandIn;
use securitybot_tests::*;
use serde_json::{Value, json};
use serde_norway::Value as Yaml;
use std::collections::BTreeSet;

/// (action, resource) as the policy names them: `dynamodb:Query`, `AlertsTable/index/by_user`.
type Grant = (String, String);

/// What `function`'s inline policy statements allow, resources by logical id.
fn granted(template: &Template, function: &str) -> BTreeSet<Grant> {
    let policies = template.resource(function).unwrap()["Properties"]["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    let mut grants = BTreeSet::new();
    for policy in policies {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions: Vec<String> = match &statement["Action"] {
                Yaml::Sequence(list) => list
                    .iter()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect(),
                Yaml::String(a) => vec![a.clone()],
                _ => Vec::new(),
            };
            let resources: Vec<Yaml> = match &statement["Resource"] {
                Yaml::Sequence(list) => list.clone(),
                one => vec![one.clone()],
            };
            for resource in resources.iter().filter_map(logical) {
                for action in &actions {
                    grants.insert((action.clone(), resource.clone()));
                }
            }
        }
    }
    grants
}

/// `!GetAtt X.Arn` -> X, `!Sub "${X.Arn}/index/N"` -> X/index/N, `!Ref X` -> X.
fn logical(resource: &Yaml) -> Option<String> {
    let Yaml::Tagged(tagged) = resource else {
        return None;
    };
    let text = tagged.value.as_str()?;
    Some(match tagged.tag.to_string().trim_start_matches('!') {
        "GetAtt" => text.trim_end_matches(".Arn").to_string(),
        "Sub" => text.replace("${", "").replace(".Arn}", ""),
        _ => text.to_string(),
    })
}

/// What the calls a function made need: (action, resource by logical id).
fn needed(stack: &Stack, calls: &[(String, String)]) -> BTreeSet<Grant> {
    let by_name = |name: &str| {
        stack
            .created
            .refs
            .iter()
            .chain(stack.created.arns.iter())
            .find(|(_, v)| v.as_str() == name)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| format!("unknown resource {name}"))
    };
    calls
        .iter()
        .map(|(target, body)| {
            let (service, op) = target.split_once('.').unwrap();
            let body: Value = serde_json::from_str(body).unwrap_or(json!({}));
            let (prefix, resource) = if service.starts_with("DynamoDB") {
                // Batch calls name their table as the key of RequestItems.
                let named = body["TableName"].as_str().or_else(|| {
                    body["RequestItems"]
                        .as_object()?
                        .keys()
                        .next()
                        .map(String::as_str)
                });
                let table = by_name(named.unwrap_or(""));
                let resource = match body["IndexName"].as_str() {
                    Some(index) => format!("{table}/index/{index}"),
                    None => table,
                };
                ("dynamodb", resource)
            } else if service == "AmazonSQS" {
                ("sqs", by_name(body["QueueUrl"].as_str().unwrap_or("")))
            } else {
                (
                    "secretsmanager",
                    by_name(body["SecretId"].as_str().unwrap_or("")),
                )
            };
            (format!("{prefix}:{op}"), resource)
        })
        .collect()
}

fn assert_enough(stack: &Stack, function: &str, proxy: &FaultProxy) {
    let template = Template::load(&template_path()).unwrap();
    let granted = granted(&template, function);
    let needed = needed(stack, &proxy.aws_calls());
    assert!(
        !needed.is_empty(),
        "{function} made no AWS call: the scenario ran nothing"
    );
    let missing: Vec<&Grant> = needed.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "{function} called what its policy does not allow: {missing:?}"
    );
}

#[tokio::test]
async fn every_admin_command_is_allowed_by_the_admin_policy() {
    let mut stack = Stack::new("iam-admin").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = stack.alerts().await[0]["alert_id"].as_s().unwrap().clone();
    let proxy = FaultProxy::start(&endpoint()).await;
    stack.through(&proxy.url);
    let admin = stack.admin_with(stack.settings_of("AdminFunction", &slack.url()));
    for command in [
        json!({"command": "show_alert", "alert_id": id}),
        json!({"command": "open_escalations"}),
        json!({"command": "never_contact_add", "user": "bob@example.com", "operator": "o"}),
        json!({"command": "never_contact_list"}),
        json!({"command": "never_contact_remove", "user": "bob@example.com", "operator": "o"}),
        json!({"command": "enroll", "user": "carol@example.com", "operator": "o"}),
        json!({"command": "reset_second_factor", "user": "carol@example.com", "operator": "o"}),
        json!({"command": "snooze_list"}),
        json!({"command": "snooze_remove", "snooze_key": "sz_0", "operator": "o"}),
        json!({"command": "reseal_seeds", "operator": "o"}),
        json!({"command": "send_test_alert", "user": "alice@example.com", "operator": "o"}),
        json!({"command": "check_slack"}),
        json!({"command": "alerts_for", "user": "alice@example.com"}),
        json!({"command": "check_rules", "rules": "# blank\n"}),
    ] {
        let out = admin.run(command.clone()).await;
        assert!(out.is_ok(), "{command}: {out:?}");
    }
    // Refused (the alert is not escalated), after reading it: the read is allowed.
    let resend = json!({"command": "resend_team_post", "alert_id": id, "operator": "o"});
    assert!(admin.run(resend).await.is_err());
    assert_enough(&stack, "AdminFunction", &proxy);
}

#[tokio::test]
async fn the_webhook_notifier_interaction_and_sweep_are_allowed_what_they_do() {
    let mut stack = Stack::new("iam-flow").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    // Each function through its own proxy, wired after the one before it.
    let ingest = FaultProxy::start(&endpoint()).await;
    stack.through(&ingest.url);
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    assert_enough(&stack, "IngestFunction", &ingest);

    let notifier = FaultProxy::start(&endpoint()).await;
    stack.through(&notifier.url);
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    assert_enough(&stack, "NotifierFunction", &notifier);

    let interaction = FaultProxy::start(&endpoint()).await;
    stack.through(&interaction.url);
    let f = stack.interaction(&slack.url());
    stack
        .slack_post(&f, &click("answer_no", &id, "UALICE", "DUALICE"))
        .await;
    assert_enough(&stack, "InteractionFunction", &interaction);

    let sweep = FaultProxy::start(&endpoint()).await;
    stack.through(&sweep.url);
    stack.clock.set(stack.now() + chrono::Duration::minutes(20));
    scheduler::handle(&stack.scheduler(), json!({}))
        .await
        .unwrap();
    assert_enough(&stack, "SchedulerFunction", &sweep);
}

#[tokio::test]
async fn the_rollup_and_the_poller_are_allowed_what_they_do() {
    use securitybot_tests::siem::{SiemStandIn, splunk_config};
    let mut stack = Stack::new("iam-sched").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    call(&stack.webhook(), &event("ingest-canonical.json")).await;

    let rollup = FaultProxy::start(&endpoint()).await;
    stack.through(&rollup.url);
    let hour = stack.now() + chrono::Duration::hours(1);
    stack.clock.set(hour);
    rollup::handle(
        &stack.rollup(&slack.url(), "UTC"),
        json!({"period": "hourly", "scheduled_time": hour.to_rfc3339()}),
    )
    .await
    .unwrap();
    assert_enough(&stack, "RollupFunction", &rollup);

    let poller = FaultProxy::start(&endpoint()).await;
    stack.through(&poller.url);
    let siem = SiemStandIn::start().await;
    siem.add("a", 3, stack.now() - chrono::Duration::minutes(30), "alice");
    stack
        .poller(&splunk_config(&siem.url()), 5)
        .await
        .run(None)
        .await
        .unwrap();
    assert_enough(&stack, "PollerFunction", &poller);
}

#[tokio::test]
async fn the_writeback_and_its_redrive_are_allowed_what_they_do() {
    let mut stack = Stack::new("iam-writeback").await;
    let slack = SlackStandIn::start(&[("alice@example.com", "UALICE")]).await;
    let (_, body) = call(&stack.webhook(), &event("ingest-canonical.json")).await;
    let id = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&stack.notifier(&slack.url())).await;
    let asked = stack.image(&id).await;
    let f = stack.interaction(&slack.url());
    stack
        .slack_post(&f, &click("answer_no", &id, "UALICE", "DUALICE"))
        .await;
    let escalated = stack.image(&id).await;

    let proxy = FaultProxy::start(&endpoint()).await;
    stack.through(&proxy.url);
    // A SIEM that is not there: the send fails, the failure is kept, the redrive reads it.
    let writeback = stack.writeback("webhook", "http://127.0.0.1:9/nothing-listens");
    let batch = stream_event(&[("300", Some(&asked), &escalated)]);
    let response = writeback::handle(&writeback, batch).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    let report = writeback::handle_invocation(
        &writeback,
        json!({"command": "redrive", "operator": "o"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(report["still_failing"], 1, "{report}");
    assert_enough(&stack, "WritebackFunction", &proxy);
}

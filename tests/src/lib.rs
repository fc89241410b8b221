//! Test harness: a private copy of the stack on moto for each test, built from template.yaml,
//! and helpers to drive the real handlers with the sample events in events/.
//!
//! Tests need moto: `AWS_ENDPOINT_URL` must point at a running moto server (scripts/test.sh
//! starts one). Without it they fail loudly; they never skip.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SubsecRound, Utc};
use securitybot::adapters::emf::EmfMetrics;
use securitybot::adapters::memory::FixedClock;
use securitybot::config::{BotConfig, ConversationSettings, EnvReader, IngestSettings};
pub use securitybot::core::secrets::SecretPurpose;
use securitybot::intake::webhook::Webhook;
use securitybot_infra::{Provisioned, Template, provision, template_path};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod block_kit;
pub mod duo;
pub mod faults;
pub mod siem;
pub mod slack;
pub mod write_units;

pub const LOCAL_KEY: &str = "local-webhook-key-change-me-32-bytes-min";
/// The same as scripts/events.py's, so the samples in events/ verify.
pub const SIGNING_SECRET: &str = "local-slack-signing-secret";
/// 32 bytes, base64.
pub const SEED_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
pub const SECURITY_CHANNEL: &str = "CSECURITY";
pub const HEC_TOKEN: &str = "hec-token-0000-1111";
pub const WRITEBACK_KEY: &str = "writeback-signing-key";
pub const TEAM_MEMBER: &str = "UTEAM1";
pub const SECOND_KEY: &str = "second-key-for-rotation-at-least-32-bytes";

pub type Item = HashMap<String, AttributeValue>;

/// The moto endpoint, or a panic that says how to start it.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: these tests need moto. Run scripts/test.sh, which starts it.")
    })
}

pub async fn aws() -> SdkConfig {
    let endpoint = endpoint();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}

/// Keeps a benchmark's figures as `target/bench-results/<name>.json`, for
/// `scripts/bench.sh --summary` to print side by side.
pub fn bench_result(name: &str, figures: &Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-results");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.json")), figures.to_string()).unwrap();
}

pub fn event_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name)
}

/// A test's own tables, queues and secret.
pub struct Stack {
    pub aws: SdkConfig,
    pub created: Provisioned,
    pub env: BTreeMap<String, String>,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub clock: Arc<FixedClock>,
    /// Every metric the functions this stack wires recorded (as EMF lines).
    pub metrics: Arc<EmfMetrics>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Stack {
    pub async fn new(test: &str) -> Stack {
        let aws = aws().await;
        let template = Template::load(&template_path()).expect("template.yaml parses");
        let prefix = format!(
            "t{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            test.replace('_', "-")
        );
        let prefix: String = prefix.chars().take(40).collect();
        let secret = serde_json::json!({
            "webhook_keys": [{"id": "local", "secret": LOCAL_KEY}],
            "duo_secret_key": duo::SKEY, "slack_bot_token": slack::BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET, "seed_encryption_key": SEED_KEY,
            "writeback_hec_token": HEC_TOKEN, "writeback_webhook_key": WRITEBACK_KEY,
            "poller_tokens": {"splunk_prod": siem::SPLUNK_TOKEN, "elastic_security": siem::ELASTIC_KEY, "custom_api": siem::JSON_TOKEN},
        })
        .to_string();
        let created = provision(&template, &aws, &prefix, &secret)
            .await
            .unwrap_or_else(|e| {
                panic!("could not create the stack on moto at {}: {e}", endpoint())
            });
        let env = created
            .function_env(&template, "IngestFunction")
            .expect("ingest env resolves");
        Stack {
            dynamodb: aws_sdk_dynamodb::Client::new(&aws),
            sqs: aws_sdk_sqs::Client::new(&aws),
            secrets: aws_sdk_secretsmanager::Client::new(&aws),
            aws,
            created,
            env,
            clock: Arc::new(FixedClock::at(Utc::now().trunc_subsecs(0))),
            metrics: Arc::new(EmfMetrics::capturing("Securitybot/test")),
        }
    }

    /// From now on, the functions this stack wires reach AWS through `proxy_url` (a
    /// [`faults::FaultProxy`]); the test's own clients still go straight to moto.
    pub fn through(&mut self, proxy_url: &str) {
        self.aws = self.aws.to_builder().endpoint_url(proxy_url).build();
    }

    /// The webhook exactly as the function's main wires it, from the template's environment.
    pub fn webhook(&self) -> Webhook {
        let env = self.env.clone();
        let settings = IngestSettings::from_env(EnvReader::new(move |k| env.get(k).cloned()))
            .expect("template env is complete");
        ingest::wire(
            &self.aws,
            &settings,
            BotConfig::load(None).unwrap(),
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// The conversation functions' settings from the template, pointed at a Slack stand-in.
    pub fn conversation_settings(&self, slack_url: &str) -> ConversationSettings {
        self.settings_of("NotifierFunction", slack_url)
    }

    /// `function`'s settings from the template, pointed at a Slack stand-in.
    pub fn settings_of(&self, function: &str, slack_url: &str) -> ConversationSettings {
        let template = Template::load(&template_path()).unwrap();
        let mut env = self
            .created
            .function_env(&template, function)
            .expect("the function's env resolves");
        env.insert("SLACK_API_URL".into(), slack_url.to_string());
        env.insert("SECURITY_CHANNEL_ID".into(), SECURITY_CHANNEL.into());
        env.insert("TEAM_USER_IDS".into(), format!("{TEAM_MEMBER}, UTEAM2"));
        ConversationSettings::from_env(EnvReader::new(move |k| env.get(k).cloned()))
            .expect("template env is complete")
    }

    pub fn notifier(&self, slack_url: &str) -> securitybot::conversation::notifier::Notifier {
        notifier::wire(
            &self.aws,
            &self.conversation_settings(slack_url),
            BotConfig::load(None).unwrap(),
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    pub fn interaction(
        &self,
        slack_url: &str,
    ) -> securitybot::conversation::endpoint::InteractionEndpoint {
        interaction::wire(
            &self.aws,
            &self.conversation_settings(slack_url),
            BotConfig::load(None).unwrap(),
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// The notifier and the interaction endpoint with Duo push as the second factor, Duo's
    /// requests going to `duo_url` (a [`duo::DuoStandIn`]).
    pub fn pushing(
        &self,
        slack_url: &str,
        duo_url: &str,
    ) -> (
        securitybot::conversation::notifier::Notifier,
        securitybot::conversation::endpoint::InteractionEndpoint,
    ) {
        let mut settings = self.conversation_settings(slack_url);
        settings.duo_api_url = Some(duo_url.to_string());
        let mut bot = BotConfig::load(None).unwrap();
        bot.duo = Some(securitybot::adapters::duo::DuoSettings {
            host: duo::HOST.into(),
            integration_key: duo::IKEY.into(),
            username: Default::default(),
        });
        (
            notifier::wire(
                &self.aws,
                &settings,
                bot.clone(),
                self.clock.clone(),
                self.metrics.clone(),
            ),
            interaction::wire(
                &self.aws,
                &settings,
                bot,
                self.clock.clone(),
                self.metrics.clone(),
            ),
        )
    }

    pub fn scheduler(&self) -> securitybot::conversation::deadlines::Deadlines {
        scheduler::wire(
            &self.aws,
            &self.conversation_settings("http://127.0.0.1:9/"),
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// The write-back function as wired from the template, sending to `sink` at `url`.
    pub fn writeback(&self, sink: &str, url: &str) -> securitybot::writeback::Writeback {
        let template = Template::load(&template_path()).unwrap();
        let mut env = self
            .created
            .function_env(&template, "WritebackFunction")
            .expect("writeback env resolves");
        env.insert("WRITEBACK_SINK".into(), sink.into());
        env.insert("WRITEBACK_URL".into(), url.into());
        let settings = securitybot::config::WritebackSettings::from_env(EnvReader::new(move |k| {
            env.get(k).cloned()
        }))
        .unwrap();
        writeback::wire(
            &self.aws,
            &settings,
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// One alert's item in the table named by `table_env` (a strongly consistent read).
    async fn item_of(&self, table_env: &str, alert_id: &str) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.env[table_env])
            .key(
                "alert_id",
                aws_sdk_dynamodb::types::AttributeValue::S(alert_id.into()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    /// A claim on a once-only send (`<kind>#<alert id>`), from the claims table.
    pub async fn claim(&self, key: &str) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.created.refs["ClaimsTable"])
            .key(
                "claim",
                aws_sdk_dynamodb::types::AttributeValue::S(key.into()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    /// The alert's item as DynamoDB Streams would show it (DynamoDB JSON).
    pub async fn image(&self, alert_id: &str) -> Value {
        let item = self.item_of("ALERTS_TABLE", alert_id).await.unwrap();
        dynamo_json(&aws_sdk_dynamodb::types::AttributeValue::M(item))["M"].clone()
    }

    /// The raw payload kept for an alert (the payloads table), if any.
    pub async fn payload(&self, alert_id: &str) -> Option<String> {
        let item = self.item_of("PAYLOADS_TABLE", alert_id).await?;
        Some(item.get("raw")?.as_s().ok()?.clone())
    }

    /// How many of the stack's alerts are in `status`.
    pub async fn count_in(&self, status: &str) -> usize {
        self.alerts()
            .await
            .iter()
            .filter(|a| s(a, "status") == status)
            .count()
    }

    /// The rollup function as wired from the template, posting to a Slack stand-in, counting
    /// hours and days in `time_zone`.
    pub fn rollup(
        &self,
        slack_url: &str,
        time_zone: &str,
    ) -> securitybot::reporting::rollups::Rollups {
        let template = Template::load(&template_path()).unwrap();
        let mut env = self
            .created
            .function_env(&template, "RollupFunction")
            .expect("rollup env resolves");
        env.insert("SLACK_API_URL".into(), slack_url.into());
        env.insert("SECURITY_CHANNEL_ID".into(), SECURITY_CHANNEL.into());
        env.insert("ROLLUP_TIME_ZONE".into(), time_zone.into());
        let settings = securitybot::config::RollupSettings::from_env(EnvReader::new(move |k| {
            env.get(k).cloned()
        }))
        .expect("template env is complete");
        rollup::wire(
            &self.aws,
            &settings,
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// The poller function as wired from the template, with `pollers` (TOML `[pollers.*]`
    /// tables) added to the bundled config (the stack's secret has a credential for each stand-in).
    pub async fn poller(
        &self,
        pollers: &str,
        max_pages: usize,
    ) -> securitybot::intake::poll::Poller {
        let template = Template::load(&template_path()).unwrap();
        let env = self
            .created
            .function_env(&template, "PollerFunction")
            .expect("poller env resolves");
        let mut settings =
            securitybot::config::PollerSettings::from_env(EnvReader::new(move |k| {
                env.get(k).cloned()
            }))
            .expect("template env is complete");
        settings.max_pages = max_pages;
        let text = format!("{}\n{pollers}", securitybot::config::BUNDLED_CONFIG);
        let bot = BotConfig::parse(&text, "test config").expect("the pollers config parses");
        poller::wire(
            &self.aws,
            &settings,
            bot,
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    pub fn admin(&self) -> securitybot::admin::Admin {
        self.admin_with(self.settings_of("AdminFunction", "http://127.0.0.1:9/"))
    }

    /// The admin function wired with `settings` (a Slack stand-in, other channel or team ids).
    pub fn admin_with(&self, settings: ConversationSettings) -> securitybot::admin::Admin {
        admin::wire(
            &self.aws,
            &settings,
            BotConfig::load(None).unwrap(),
            self.clock.clone(),
            self.metrics.clone(),
        )
    }

    /// Delivers what is on the work queue to the notifier, as Lambda's SQS mapping would
    /// (a batch of up to 10), deleting the messages it did not report as failed.
    pub async fn deliver(
        &self,
        f: &securitybot::conversation::notifier::Notifier,
    ) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let received = self.receive_batch().await;
        let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
        for m in received {
            let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
            message.message_id = m.message_id.clone();
            message.receipt_handle = m.receipt_handle.clone();
            message.body = m.body.clone();
            event.records.push(message);
        }
        let receipts: Vec<(String, String)> = event
            .records
            .iter()
            .map(|m| {
                (
                    m.message_id.clone().unwrap(),
                    m.receipt_handle.clone().unwrap(),
                )
            })
            .collect();
        let response = notifier::handle(f, event, None)
            .await
            .expect("the notifier reports failures per item");
        for (id, receipt) in receipts {
            if !response
                .batch_item_failures
                .iter()
                .any(|f| f.item_identifier == id)
            {
                self.sqs
                    .delete_message()
                    .queue_url(&self.env["WORK_QUEUE_URL"])
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .unwrap();
            }
        }
        response
    }

    /// `chat_user` clicks Yes on their question through the real handler; the form is open.
    pub async fn say_yes(&self, slack_url: &str, id: &str, chat_user: &str) {
        let f = self.interaction(slack_url);
        let yes = click("answer_yes", id, chat_user, &format!("D{chat_user}"));
        self.slack_post(&f, &yes).await;
        assert_eq!(
            self.alert(id).await.status.as_str(),
            "awaiting_second_factor"
        );
    }

    /// Delivers the queue to the notifier and checks every item went through.
    pub async fn deliver_ok(&self, f: &securitybot::conversation::notifier::Notifier) {
        let response = self.deliver(f).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
    }

    /// Posts a Slack interactivity payload, signed as Slack would, to the real handler.
    pub async fn slack_post(
        &self,
        f: &securitybot::conversation::endpoint::InteractionEndpoint,
        payload: &Value,
    ) -> (u16, Option<Value>) {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let ts = self.now().timestamp();
        let signature =
            securitybot::adapters::slack::interaction::sign(SIGNING_SECRET, ts, body.as_bytes());
        self.slack_raw(f, &body, ts, &signature, false).await
    }

    pub async fn slack_raw(
        &self,
        f: &securitybot::conversation::endpoint::InteractionEndpoint,
        body: &str,
        ts: i64,
        signature: &str,
        base64: bool,
    ) -> (u16, Option<Value>) {
        use base64::Engine;
        let (body, encoded) = if base64 {
            (base64::engine::general_purpose::STANDARD.encode(body), true)
        } else {
            (body.to_string(), false)
        };
        let mut e = event("ingest-canonical.json");
        e["rawPath"] = "/".into();
        e["requestContext"]["http"]["path"] = "/".into();
        e["headers"] = serde_json::json!({
            "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts.to_string(), "x-slack-signature": signature,
        });
        e["body"] = body.into();
        e["isBase64Encoded"] = encoded.into();
        let response = interaction::handle(f, request(&e))
            .await
            .expect("the handler always answers");
        let status = response.status().as_u16();
        let body = match response.body() {
            lambda_http::Body::Text(t) => Some(serde_json::from_str(t).unwrap()),
            _ => None,
        };
        (status, body)
    }

    pub async fn alert(&self, id: &str) -> securitybot::core::record::AlertRecord {
        use securitybot::ports::AlertStore;
        securitybot::adapters::dynamodb::DynamoAlerts::new(
            self.dynamodb.clone(),
            &self.env["ALERTS_TABLE"],
        )
        .get(&securitybot::core::alert::AlertId::from_stored(id))
        .await
        .unwrap()
        .expect("the alert is stored")
    }

    /// Ids of the escalations waiting for the team, oldest first (the rollups' sparse index).
    pub async fn awaiting_team(&self) -> Vec<String> {
        use securitybot::ports::AlertStore;
        securitybot::adapters::dynamodb::DynamoAlerts::new(
            self.dynamodb.clone(),
            &self.env["ALERTS_TABLE"],
        )
        .awaiting_team()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect()
    }

    pub fn now(&self) -> DateTime<Utc> {
        use securitybot::ports::Clock;
        self.clock.now()
    }

    /// Every alert item, following scan pages (a page stops at 1 MB).
    pub async fn alerts(&self) -> Vec<Item> {
        let pages = self
            .dynamodb
            .scan()
            .table_name(&self.env["ALERTS_TABLE"])
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        pages
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("scan the alerts table")
    }

    /// Puts a work item on the queue by hand: a redelivery, as SQS may do.
    pub async fn enqueue(&self, action: &str, alert_id: &str) {
        let body = serde_json::json!({"v": 1, "action": action, "alert_id": alert_id}).to_string();
        self.sqs
            .send_message()
            .queue_url(&self.env["WORK_QUEUE_URL"])
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    /// Up to 10 messages from the work queue, hidden from other receivers for 5 minutes.
    async fn receive_batch(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.env["WORK_QUEUE_URL"])
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default()
    }

    /// Takes every message off the work queue.
    pub async fn drain_queue(&self) -> Vec<Value> {
        let mut bodies = Vec::new();
        loop {
            let messages = self.receive_batch().await;
            if messages.is_empty() {
                return bodies;
            }
            bodies.extend(
                messages
                    .iter()
                    .map(|m| serde_json::from_str(m.body().unwrap()).unwrap()),
            );
        }
    }

    /// The secret (ARN) of `purpose`, as the template hands it to the functions that read it.
    pub fn secret_id(&self, purpose: SecretPurpose) -> String {
        let template = Template::load(&template_path()).unwrap();
        template
            .of_type("AWS::Serverless::Function")
            .into_iter()
            .find_map(|(function, _)| {
                self.created
                    .function_env(&template, &function)
                    .ok()?
                    .remove(purpose.env_var())
            })
            .unwrap_or_else(|| panic!("no function is given {}", purpose.env_var()))
    }

    /// Writes `json` into every secret (each function reads only its own purpose's entries).
    pub async fn set_secret(&self, json: &str) {
        for purpose in SecretPurpose::ALL {
            self.set_secret_of(purpose, json).await;
        }
    }

    pub async fn set_secret_of(&self, purpose: SecretPurpose, json: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(self.secret_id(purpose))
            .secret_string(json)
            .send()
            .await
            .unwrap();
    }
}

pub fn s(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// A Function URL event from events/, as lambda_http would hand it to the handler.
pub fn event(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(event_path(name)).unwrap()).unwrap()
}

pub fn request(event: &Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("a Function URL event")
}

/// Replaces the event's body (and keeps its headers), for variations on a sample.
pub fn with_body(mut event: Value, body: &str) -> Value {
    event["body"] = Value::String(body.to_string());
    event
}

/// Signs the event's body with `key` at `ts`, as a SIEM would.
pub fn sign(mut event: Value, key: &str, ts: i64) -> Value {
    let body = event["body"].as_str().unwrap().to_string();
    let sig = securitybot::intake::auth::sign(key.as_bytes(), &ts.to_string(), body.as_bytes());
    let headers = event["headers"].as_object_mut().unwrap();
    headers.remove("authorization");
    headers.insert("x-securitybot-timestamp".into(), ts.to_string().into());
    headers.insert(
        "x-securitybot-signature".into(),
        format!("v1={}", hex::encode(sig)).into(),
    );
    event
}

pub fn set_header(mut event: Value, name: &str, value: Option<&str>) -> Value {
    let headers = event["headers"].as_object_mut().unwrap();
    match value {
        Some(v) => headers.insert(name.to_string(), v.into()),
        None => headers.remove(name),
    };
    event
}

/// Runs the real handler; returns the status and the JSON body.
pub async fn call(webhook: &Webhook, event: &Value) -> (u16, Value) {
    let response = ingest::handle(webhook, request(event))
        .await
        .expect("the handler always answers");
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

/// A click on one of our buttons, as Slack sends it.
pub fn click(action: &str, alert_id: &str, chat_user: &str, channel: &str) -> Value {
    serde_json::json!({
        "type": "block_actions", "user": {"id": chat_user}, "trigger_id": format!("trigger-{alert_id}-{chat_user}"),
        "channel": {"id": channel}, "actions": [{"action_id": action, "value": alert_id, "type": "button"}]
    })
}

/// The Yes form submitted, as Slack sends it.
pub fn submit(
    alert_id: &str,
    chat_user: &str,
    explanation: &str,
    code: &str,
    snooze_minutes: Option<u32>,
) -> Value {
    let mut values = serde_json::json!({
        "explanation": {"value": {"type": "plain_text_input", "value": explanation}},
        "code": {"value": {"type": "plain_text_input", "value": code}},
    });
    if let Some(m) = snooze_minutes {
        values["snooze"] = serde_json::json!({"value": {"type": "static_select", "selected_option": {"value": m.to_string()}}});
    }
    serde_json::json!({
        "type": "view_submission", "user": {"id": chat_user},
        "view": {"callback_id": "securitybot_answer", "private_metadata": alert_id, "state": {"values": values}}
    })
}

/// The TOTP code an authenticator app would show for `otpauth_uri` at `at`.
pub fn code_at(otpauth_uri: &str, at: DateTime<Utc>) -> String {
    totp_rs::Totp::from_url(otpauth_uri)
        .expect("a valid otpauth URI")
        .generate(at.timestamp() as u64)
        .to_string()
}

/// An attribute value in DynamoDB JSON, as streams deliver it.
pub fn dynamo_json(v: &aws_sdk_dynamodb::types::AttributeValue) -> Value {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match v {
        A::S(s) => serde_json::json!({"S": s}),
        A::N(n) => serde_json::json!({"N": n}),
        A::Bool(b) => serde_json::json!({"BOOL": b}),
        A::Null(_) => serde_json::json!({"NULL": true}),
        A::M(m) => {
            serde_json::json!({"M": m.iter().map(|(k, v)| (k.clone(), dynamo_json(v))).collect::<serde_json::Map<_, _>>()})
        }
        A::L(l) => serde_json::json!({"L": l.iter().map(dynamo_json).collect::<Vec<_>>()}),
        other => panic!("unexpected attribute {other:?}"),
    }
}

/// A DynamoDB stream batch: (sequence number, old image, new image) per record.
pub fn stream_event(
    records: &[(&str, Option<&Value>, &Value)],
) -> aws_lambda_events::event::dynamodb::Event {
    let records: Vec<Value> = records
        .iter()
        .map(|(seq, old, new)| {
            let mut change = serde_json::json!({
                "ApproximateCreationDateTime": 1800000000, "Keys": {"alert_id": new["alert_id"]}, "NewImage": new,
                "SequenceNumber": seq, "SizeBytes": 512, "StreamViewType": "NEW_AND_OLD_IMAGES",
            });
            if let Some(old) = old {
                change["OldImage"] = (*old).clone();
            }
            serde_json::json!({
                "eventID": format!("ev-{seq}"), "eventName": if old.is_some() { "MODIFY" } else { "INSERT" }, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": change,
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/alerts/stream/2026-11-28T00:00:00.000",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records }))
        .expect("a DynamoDB stream event")
}

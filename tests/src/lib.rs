//! Test harness: a private copy of the stack on moto for each test, built from template.yaml,
//! and helpers to drive the real handlers with the sample events in events/.
//!
//! Tests need moto: `AWS_ENDPOINT_URL` must point at a running moto server (scripts/test.sh
//! starts one). Without it they fail loudly; they never skip.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use securitybot::adapters::memory::FixedClock;
use securitybot::config::{BotConfig, EnvReader, IngestSettings};
use securitybot::intake::webhook::Webhook;
use securitybot_infra::{Provisioned, Template, provision, template_path};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub const LOCAL_KEY: &str = "local-webhook-key-change-me";
pub const SECOND_KEY: &str = "second-key-for-rotation";

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
        let secret =
            serde_json::json!({"webhook_keys": [{"id": "local", "secret": LOCAL_KEY}]}).to_string();
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
            clock: Arc::new(FixedClock::at(Utc::now())),
        }
    }

    /// The webhook exactly as the function's main wires it, from the template's environment.
    pub fn webhook(&self) -> Webhook {
        let env = self.env.clone();
        let settings = IngestSettings::from_env(EnvReader::new(move |k| env.get(k).cloned()))
            .expect("template env is complete");
        ingest::wire(
            &self.aws,
            settings,
            BotConfig::load(None).unwrap(),
            self.clock.clone(),
        )
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

    /// Takes every message off the work queue.
    pub async fn drain_queue(&self) -> Vec<Value> {
        let mut bodies = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.env["WORK_QUEUE_URL"])
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
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

    pub async fn set_secret(&self, json: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.env["SECRET_ID"])
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

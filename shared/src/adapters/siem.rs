//! SIEM sinks for write-back: Splunk's HTTP Event Collector, and a generic webhook signed the
//! same way our own webhook checks signatures (HMAC-SHA256 over "v1:" + timestamp + ":" + body).

use crate::core::answer_event::AnswerEvent;
use crate::core::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header};
use crate::error::Result;
use crate::ports::SecretStore;
use crate::ports::{Clock, SiemSink};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn client() -> reqwest::Client {
    super::http::client(Duration::from_secs(10))
}

async fn check(
    service: &'static str,
    response: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<()> {
    super::http::body(service, response).await.map(|_| ())
}

pub struct SplunkHec {
    http: reqwest::Client,
    url: String,
    secrets: Arc<dyn SecretStore>,
}

impl SplunkHec {
    /// `url`: the collector endpoint, e.g. https://splunk.example.com:8088/services/collector/event
    pub fn new(url: impl Into<String>, secrets: Arc<dyn SecretStore>) -> Self {
        SplunkHec {
            http: client(),
            url: url.into(),
            secrets,
        }
    }
}

#[async_trait]
impl SiemSink for SplunkHec {
    fn name(&self) -> &'static str {
        "splunk_hec"
    }

    async fn send(&self, event: &AnswerEvent) -> Result<()> {
        let secrets = self.secrets.get().await?;
        let token = secrets.require(&secrets.writeback_hec_token, "writeback_hec_token")?;
        let body = json!({
            "time": event.at.timestamp_millis() as f64 / 1000.0,
            "source": "securitybot",
            "sourcetype": "securitybot:answer",
            "event": event,
        });
        let response = self
            .http
            .post(&self.url)
            .header("Authorization", format!("Splunk {}", token.expose()))
            .json(&body)
            .send()
            .await;
        check("splunk-hec", response).await
    }
}

pub struct SignedWebhook {
    http: reqwest::Client,
    url: String,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
}

impl SignedWebhook {
    pub fn new(
        url: impl Into<String>,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        SignedWebhook {
            http: client(),
            url: url.into(),
            secrets,
            clock,
        }
    }
}

#[async_trait]
impl SiemSink for SignedWebhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, event: &AnswerEvent) -> Result<()> {
        let secrets = self.secrets.get().await?;
        let key = secrets.require(&secrets.writeback_webhook_key, "writeback_webhook_key")?;
        let body = serde_json::to_vec(event).expect("answer events serialise");
        let timestamp = self.clock.now().timestamp().to_string();
        let signature = signature_header(key.expose().as_bytes(), &timestamp, &body);
        let response = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        check("writeback-webhook", response).await
    }
}

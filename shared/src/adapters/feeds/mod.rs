//! Pulled sources ([`AlertFeed`]): Splunk's search export, an Elastic search, a JSON endpoint.
//! Credentials come from the secret's `poller_tokens.<poller name>`.
//!
//! [`AlertFeed`]: crate::ports::AlertFeed

mod elastic;
mod http_json;
mod splunk;

pub use elastic::ElasticFeed;
pub use http_json::HttpJsonFeed;
pub use splunk::SplunkFeed;

use crate::adapters::http;
use crate::core::poll::{PollKind, PollSource};
use crate::core::secrets::{SecretString, Secrets};
use crate::error::{Error, Result};
use crate::ports::AlertFeed;
use crate::ports::SecretStore;
use std::sync::Arc;
use std::time::Duration;

/// A page may take this long (Splunk runs the search while it answers). With the run's time
/// budget (240 s) this stays inside the function's 300 s timeout; were it ever exceeded, the
/// page in flight is simply read again next run.
const TIMEOUT: Duration = Duration::from_secs(45);

/// The adapter for a configured source.
pub fn feed(name: &str, source: &PollSource, secrets: Arc<dyn SecretStore>) -> Arc<dyn AlertFeed> {
    let token = Token {
        poller: name.to_string(),
        secrets,
    };
    match source.kind {
        PollKind::Splunk => Arc::new(SplunkFeed::new(source, token)),
        PollKind::Elastic => Arc::new(ElasticFeed::new(source, token)),
        PollKind::HttpJson => Arc::new(HttpJsonFeed::new(source, token)),
    }
}

/// This poller's credential, read from the (cached) secret on each page so rotation needs no redeploy.
pub(crate) struct Token {
    poller: String,
    secrets: Arc<dyn SecretStore>,
}

impl Token {
    async fn get(&self) -> Result<SecretString> {
        let find = |secrets: &Secrets| {
            secrets
                .poller_tokens
                .get(&self.poller)
                .filter(|t| !t.expose().is_empty())
                .cloned()
        };
        if let Some(token) = find(&*self.secrets.get().await?) {
            return Ok(token);
        }
        // Added to the secret after this container started? Look once more (rate-limited).
        find(&*self.secrets.refresh().await?).ok_or_else(|| {
            Error::Config(format!(
                "the secret has no poller_tokens.{}: add the SIEM credential there",
                self.poller
            ))
        })
    }

    /// The SIEM's answer. A refused credential (401, 403) re-reads the secret, so a token
    /// rotated in Secrets Manager is used from the next run on, without a redeploy.
    async fn answer(
        &self,
        service: &'static str,
        response: std::result::Result<reqwest::Response, reqwest::Error>,
    ) -> Result<String> {
        let result = http::body(service, response).await;
        if let Err(Error::Permanent { message, .. }) = &result
            && (message.starts_with("HTTP 401") || message.starts_with("HTTP 403"))
            && let Err(e) = self.secrets.refresh().await
        {
            tracing::warn!(poller = %self.poller, error = %e, "could not re-read the secret");
        }
        result
    }
}

/// "https://host:8089/" + "/services/..." without a doubled slash.
fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

//! Splunk: the search export endpoint runs `| savedsearch "<name>"` over the window and streams
//! the results as JSON lines. One export per window (no paging inside it).

use super::{TIMEOUT, Token, join};
use crate::adapters::http;
use crate::core::poll::{PollSource, Window};
use crate::error::{Error, Result};
use crate::ports::{AlertFeed, FeedPage};
use async_trait::async_trait;
use serde_json::Value;

pub struct SplunkFeed {
    http: reqwest::Client,
    url: String,
    search: String,
    token: Token,
}

impl SplunkFeed {
    pub(crate) fn new(source: &PollSource, token: Token) -> Self {
        let name = source.saved_search.clone().unwrap_or_default();
        SplunkFeed {
            http: http::client(TIMEOUT),
            url: join(&source.url, "services/search/v2/jobs/export"),
            search: format!(
                "| savedsearch \"{}\"",
                name.replace('\\', "\\\\").replace('"', "\\\"")
            ),
            token,
        }
    }
}

#[async_trait]
impl AlertFeed for SplunkFeed {
    async fn page(&self, window: &Window, _after: Option<&Value>) -> Result<FeedPage> {
        let token = self.token.get().await?;
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(token.expose())
            .form(&[
                ("search", self.search.as_str()),
                ("earliest_time", &window.start.timestamp().to_string()),
                ("latest_time", &window.end.timestamp().to_string()),
                ("output_mode", "json"),
            ])
            .send()
            .await;
        let text = self.token.answer("splunk-export", response).await?;
        let mut items = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: Value = serde_json::from_str(line).map_err(|e| {
                Error::transient(
                    "splunk-export",
                    format!("an export line is not JSON ({e}): the stream was cut?"),
                )
            })?;
            if let Some(fatal) = row["messages"].as_array().and_then(|m| {
                m.iter()
                    .find(|m| matches!(m["type"].as_str(), Some("FATAL" | "ERROR")))
            }) {
                return Err(Error::transient(
                    "splunk-export",
                    format!(
                        "Splunk reported: {}",
                        fatal["text"].as_str().unwrap_or("an error")
                    ),
                ));
            }
            // Preview rows are partial results; the final rows follow.
            if row["preview"].as_bool() != Some(true)
                && let Some(result) = row.get("result")
            {
                items.push(result.clone());
            }
        }
        Ok(FeedPage { items, next: None })
    }
}

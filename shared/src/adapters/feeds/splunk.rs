//! Splunk: the search export endpoint runs `| savedsearch "<name>"` over the window (of index
//! time) and streams the results as JSON lines. One export per window (no paging inside it).

use super::{TIMEOUT, Token, join};
use crate::adapters::http;
use crate::core::poll::{PollSource, Window};
use crate::error::{Error, Result};
use crate::ports::{AlertFeed, FeedPage};
use async_trait::async_trait;
use serde_json::Value;

/// Events indexed up to this long after they happened are still read (in the window they
/// were indexed in).
const LATE_BY: chrono::Duration = chrono::Duration::hours(24);
/// Event times a little ahead of Splunk's clock (a sender's skew) are read too.
const AHEAD_BY: chrono::Duration = chrono::Duration::hours(1);

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
            // The window is index time: an event Splunk indexed late (forwarder lag) is read in
            // the window it was indexed in, once. Event time only bounds the search's cost.
            .form(&[
                ("search", self.search.as_str()),
                ("index_earliest", &window.start.timestamp().to_string()),
                ("index_latest", &window.end.timestamp().to_string()),
                (
                    "earliest_time",
                    &(window.start - LATE_BY).timestamp().to_string(),
                ),
                (
                    "latest_time",
                    &(window.end + AHEAD_BY).timestamp().to_string(),
                ),
                ("output_mode", "json"),
            ])
            .send()
            .await;
        let text = self.token.answer("splunk-export", response).await?;
        let items = results(&text)?;
        Ok(FeedPage { items, next: None })
    }
}

/// The final result rows of an export's JSON lines. Preview rows are partial results (the
/// final rows follow); a FATAL or ERROR message, a line that is not JSON, or rows whose last
/// one lacks Splunk's `lastrow` marker (a stream cut at a line boundary) fail the page, so
/// it is read again rather than losing rows.
fn results(text: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut ended = true;
    let mut previewed = false;
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
        if row["preview"].as_bool() == Some(true) {
            previewed |= row.get("result").is_some();
            continue;
        }
        if let Some(result) = row.get("result") {
            items.push(result.clone());
            ended = row["lastrow"].as_bool() == Some(true);
        }
    }
    // Preview rows promise final rows: none at all means the stream stopped before them.
    if !ended || (previewed && items.is_empty()) {
        return Err(Error::transient(
            "splunk-export",
            format!(
                "the export ended after {} rows without its last-row marker: the stream was cut",
                items.len()
            ),
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_only_when_the_export_says_it_ended() {
        let row = |i: u32, last: bool| {
            let mut r = serde_json::json!({"preview": false, "offset": i, "result": {"n": i}});
            if last {
                r["lastrow"] = true.into();
            }
            r.to_string()
        };
        let preview = r#"{"preview": true, "offset": 0, "result": {"n": 0}}"#;
        let whole = [preview.to_string(), row(0, false), row(1, true)].join("\n");
        assert_eq!(results(&whole).unwrap().len(), 2, "previews skipped");
        let cut = [row(0, false), row(1, false)].join("\n");
        assert!(
            results(&cut)
                .unwrap_err()
                .to_string()
                .contains("last-row marker")
        );
        assert!(results("").unwrap().is_empty(), "an empty export");
        assert!(
            results(preview).is_err(),
            "previews, then the stream stopped before any final row"
        );
        assert!(
            results(r#"{"preview": false, "res"#).is_err(),
            "cut mid-line"
        );
        let fatal = r#"{"messages": [{"type": "FATAL", "text": "bad search"}]}"#;
        assert!(
            results(fatal)
                .unwrap_err()
                .to_string()
                .contains("bad search")
        );
    }
}

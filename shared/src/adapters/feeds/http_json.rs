//! Any JSON endpoint: `GET <url>?since=<start>&until=<end>[&cursor=<next>]` with a bearer
//! token; the items and the next cursor are found at configured paths.

use super::{TIMEOUT, Token};
use crate::adapters::http;
use crate::core::poll::{PollSource, Window};
use crate::core::text::{as_text, lookup};
use crate::error::{Error, Result};
use crate::ports::{AlertFeed, FeedPage};
use async_trait::async_trait;
use serde_json::Value;

pub struct HttpJsonFeed {
    http: reqwest::Client,
    source: PollSource,
    token: Token,
}

impl HttpJsonFeed {
    pub(crate) fn new(source: &PollSource, token: Token) -> Self {
        HttpJsonFeed {
            http: http::client(TIMEOUT),
            source: source.clone(),
            token,
        }
    }
}

#[async_trait]
impl AlertFeed for HttpJsonFeed {
    async fn page(&self, window: &Window, after: Option<&Value>) -> Result<FeedPage> {
        let s = &self.source;
        let token = self.token.get().await?;
        let mut query = vec![
            (s.since_param.clone(), window.start.to_rfc3339()),
            (s.until_param.clone(), window.end.to_rfc3339()),
        ];
        if let Some(cursor) = after.and_then(as_text) {
            query.push((s.cursor_param.clone(), cursor));
        }
        let url = reqwest::Url::parse_with_params(&s.url, &query).map_err(|e| {
            Error::permanent(
                "http-json-feed",
                format!("the poller's url does not parse: {e}"),
            )
        })?;
        let response = self.http.get(url).bearer_auth(token.expose()).send().await;
        let text = self.token.answer("http-json-feed", response).await?;
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            Error::transient("http-json-feed", format!("the answer is not JSON: {e}"))
        })?;
        let items = if s.items.is_empty() {
            Some(&body)
        } else {
            lookup(&body, &s.items)
        };
        let items = items.and_then(Value::as_array).cloned().ok_or_else(|| {
            Error::permanent(
                "http-json-feed",
                format!("no array of items at '{}' in the answer", s.items),
            )
        })?;
        let next = s
            .next_cursor
            .as_ref()
            .and_then(|path| lookup(&body, path))
            .filter(|c| as_text(c).is_some_and(|t| !t.is_empty()))
            .cloned();
        Ok(FeedPage { items, next })
    }
}

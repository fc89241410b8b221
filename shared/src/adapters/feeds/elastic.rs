//! Elastic (or OpenSearch): a search on the alerts index over the window, oldest first, paged
//! with `search_after` on (time, tiebreaker).

use super::{TIMEOUT, Token, join};
use crate::adapters::http;
use crate::core::poll::{PollSource, Window};
use crate::error::{Error, Result};
use crate::ports::{AlertFeed, FeedPage};
use async_trait::async_trait;
use serde_json::{Value, json};

pub struct ElasticFeed {
    http: reqwest::Client,
    url: String,
    time_field: String,
    tiebreaker: String,
    query: Option<String>,
    size: usize,
    token: Token,
}

impl ElasticFeed {
    pub(crate) fn new(source: &PollSource, token: Token) -> Self {
        let index = source.index.clone().unwrap_or_default();
        ElasticFeed {
            http: http::client(TIMEOUT),
            url: join(&source.url, &format!("{index}/_search")),
            time_field: source.time_field.clone(),
            tiebreaker: source.tiebreaker.clone(),
            query: source.query.clone(),
            size: source.page_size,
            token,
        }
    }

    fn search(&self, window: &Window, after: Option<&Value>) -> Value {
        let mut filter = vec![json!({ "range": { &self.time_field: {
            "gte": window.start.to_rfc3339(), "lt": window.end.to_rfc3339(),
            "format": "strict_date_optional_time"
        }}})];
        if let Some(q) = &self.query {
            filter.push(json!({ "query_string": { "query": q } }));
        }
        let mut body = json!({
            "size": self.size,
            "query": { "bool": { "filter": filter } },
            "sort": [ { &self.time_field: "asc" }, { &self.tiebreaker: "asc" } ],
        });
        if let Some(after) = after {
            body["search_after"] = after.clone();
        }
        body
    }
}

#[async_trait]
impl AlertFeed for ElasticFeed {
    async fn page(&self, window: &Window, after: Option<&Value>) -> Result<FeedPage> {
        let token = self.token.get().await?;
        let response = self
            .http
            .post(&self.url)
            .header("Authorization", format!("ApiKey {}", token.expose()))
            .json(&self.search(window, after))
            .send()
            .await;
        let text = self.token.answer("elastic", response).await?;
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            Error::transient("elastic", format!("the search answer is not JSON: {e}"))
        })?;
        let hits = body["hits"]["hits"].as_array().cloned().ok_or_else(|| {
            Error::permanent("elastic", "the search answer has no hits.hits array")
        })?;
        // A full page may have more behind it; a short one is the window's last.
        let next = (hits.len() >= self.size)
            .then(|| hits.last().and_then(|h| h.get("sort")).cloned())
            .flatten();
        Ok(FeedPage { items: hits, next })
    }
}

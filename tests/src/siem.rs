//! Local stand-ins for the SIEMs the poller pulls from, over one dataset of alerts: Splunk's
//! search export (JSON lines), Elastic's `_search` (range + sort + `search_after`) and a JSON
//! API with cursor paging. Each checks its credential like the real thing, and can be told to
//! fail a given request (503) or to cut a stream short.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const SPLUNK_TOKEN: &str = "splunk-token-abc";
pub const ELASTIC_KEY: &str = "elastic-api-key-xyz";
pub const JSON_TOKEN: &str = "json-api-token-123";
/// Items per page of the JSON API.
pub const JSON_PAGE: usize = 10;

/// A `[pollers.splunk_prod]` table reading the stand-in at `url` in 15-minute windows, a
/// minute behind now, starting an hour back.
pub fn splunk_config(url: &str) -> String {
    format!(
        r#"
[pollers.splunk_prod]
kind = "splunk"
url = "{url}"
saved_search = "nmap_scan"
window_minutes = 15
delay_seconds = 60
first_lookback_minutes = 60
"#
    )
}

#[derive(Debug, Clone)]
pub struct SiemEvent {
    pub at: DateTime<Utc>,
    /// When the SIEM indexed it (Splunk's `_indextime`); usually `at`.
    pub indexed: DateTime<Utc>,
    pub uuid: String,
    pub user: String,
    pub rule: String,
    pub host: String,
}

#[derive(Default)]
struct State {
    events: Vec<SiemEvent>,
    requests: usize,
    fail: BTreeSet<usize>,
    cut: BTreeSet<usize>,
    fatal: BTreeSet<usize>,
    log: Vec<Value>,
}

#[derive(Clone)]
struct Siem(Arc<Mutex<State>>);

pub struct SiemStandIn {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl SiemStandIn {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(any())
            .respond_with(Siem(state.clone()))
            .mount(&server)
            .await;
        SiemStandIn { server, state }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Adds `n` alerts about `user`, one a minute from `from`, ids `<prefix>-<i>`.
    pub fn add(&self, prefix: &str, n: usize, from: DateTime<Utc>, user: &str) {
        let mut state = self.state.lock().unwrap();
        for i in 0..n {
            let at = from + chrono::Duration::minutes(i as i64);
            state.events.push(SiemEvent {
                at,
                indexed: at,
                uuid: format!("{prefix}-{i:03}"),
                user: user.into(),
                rule: "nmap_scan".into(),
                host: format!("host-{i}"),
            });
        }
    }

    /// One alert that happened at `at` but was indexed only at `indexed` (forwarder lag).
    pub fn add_late(&self, uuid: &str, at: DateTime<Utc>, indexed: DateTime<Utc>, user: &str) {
        self.state.lock().unwrap().events.push(SiemEvent {
            at,
            indexed,
            uuid: uuid.into(),
            user: user.into(),
            rule: "nmap_scan".into(),
            host: "host-late".into(),
        });
    }

    /// The `n`th request from now on (1 = the next) answers 503.
    pub fn fail_request(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        let at = state.requests + n;
        state.fail.insert(at);
    }

    /// The `n`th request from now on answers 200 with its stream cut mid-line.
    pub fn cut_request(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        let at = state.requests + n;
        state.cut.insert(at);
    }

    /// The `n`th request from now on (a Splunk export) streams its rows, then a FATAL message,
    /// as Splunk does when a search dies mid-way (the status is already 200 by then).
    pub fn fatal_request(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        let at = state.requests + n;
        state.fatal.insert(at);
    }

    /// What each request asked for (path, window, cursor), in order.
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().log.clone()
    }
}

fn epoch(v: &str) -> DateTime<Utc> {
    DateTime::from_timestamp(v.parse::<f64>().unwrap() as i64, 0).unwrap()
}

impl Respond for Siem {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        state.requests += 1;
        let n = state.requests;
        let path = request.url.path().to_string();
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut events = state.events.clone();
        events.sort_by(|a, b| (a.at, &a.uuid).cmp(&(b.at, &b.uuid)));
        let (status, body) = if path.ends_with("/services/search/v2/jobs/export") {
            let form: HashMap<String, String> =
                serde_urlencoded::from_bytes(&request.body).unwrap();
            // Splunk's semantics: event time within [earliest, latest), and, when given, index
            // time within [index_earliest, index_latest). The log shows the index window.
            let (earliest, latest) = (epoch(&form["earliest_time"]), epoch(&form["latest_time"]));
            let index = form
                .get("index_earliest")
                .zip(form.get("index_latest"))
                .map(|(a, b)| (epoch(a), epoch(b)));
            let (start, end) = index.unwrap_or((earliest, latest));
            state.log.push(
                json!({"path": "splunk", "search": form["search"], "start": start, "end": end}),
            );
            if auth != format!("Bearer {SPLUNK_TOKEN}") {
                (401, json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}).to_string())
            } else {
                let rows: Vec<&SiemEvent> = events
                    .iter()
                    .filter(|e| e.at >= earliest && e.at < latest)
                    .filter(|e| index.is_none_or(|(a, b)| e.indexed >= a && e.indexed < b))
                    .collect();
                // As Splunk does: preview rows while the search runs (here: the first half of
                // the results, with an informational message), then the final rows, the last
                // carrying `lastrow`.
                let row = |i: usize, e: &SiemEvent, preview: bool| {
                    json!({"preview": preview, "offset": i, "result": {
                        "_time": e.at.timestamp().to_string(), "user": e.user, "host": e.host, "event_id": e.uuid}})
                };
                let mut lines: Vec<String> = Vec::new();
                if rows.len() > 1 {
                    lines.push(json!({"preview": true, "messages": [{"type": "INFO", "text": "Your timerange was substituted"}]}).to_string());
                    lines.extend(
                        rows.iter()
                            .take(rows.len() / 2)
                            .enumerate()
                            .map(|(i, e)| row(i, e, true).to_string()),
                    );
                }
                for (i, e) in rows.iter().enumerate() {
                    let mut final_row = row(i, e, false);
                    if i + 1 == rows.len() {
                        final_row["lastrow"] = true.into();
                    }
                    lines.push(final_row.to_string());
                }
                if state.fatal.contains(&n) {
                    // Killed mid-way: some final rows, then the error; no `lastrow`.
                    lines.truncate(lines.len().saturating_sub(1));
                    lines.push(json!({"preview": false, "messages": [{"type": "FATAL", "text": "Search was cancelled by an administrator"}]}).to_string());
                }
                (200, lines.join("\n"))
            }
        } else if path.ends_with("/_search") {
            let q: Value = serde_json::from_slice(&request.body).unwrap();
            let range = &q["query"]["bool"]["filter"][0]["range"]["@timestamp"];
            let start: DateTime<Utc> = range["gte"].as_str().unwrap().parse().unwrap();
            let end: DateTime<Utc> = range["lt"].as_str().unwrap().parse().unwrap();
            let size = q["size"].as_u64().unwrap() as usize;
            let after = q.get("search_after").cloned();
            state.log.push(json!({"path": "elastic", "start": start, "end": end, "after": after, "sort": q["sort"]}));
            if auth != format!("ApiKey {ELASTIC_KEY}") {
                (
                    401,
                    json!({"error": {"type": "security_exception"}}).to_string(),
                )
            } else {
                let hits: Vec<Value> = events
                    .iter()
                    .filter(|e| e.at >= start && e.at < end)
                    .filter(|e| match &after {
                        Some(a) => (e.at.timestamp_millis(), e.uuid.as_str()) > (a[0].as_i64().unwrap(), a[1].as_str().unwrap()),
                        None => true,
                    })
                    .take(size)
                    .map(|e| json!({"_id": e.uuid, "_index": ".internal.alerts-security.alerts-default-000001",
                        "_source": {"@timestamp": e.at.to_rfc3339(), "kibana.alert.rule.name": e.rule,
                            "kibana.alert.reason": format!("{} on {}", e.rule, e.host), "kibana.alert.uuid": e.uuid,
                            "kibana.alert.severity": "medium", "user": {"name": e.user}, "host": {"name": e.host}},
                        "sort": [e.at.timestamp_millis(), e.uuid]}))
                    .collect();
                (
                    200,
                    json!({"took": 1, "timed_out": false, "hits": {"hits": hits}}).to_string(),
                )
            }
        } else {
            let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
            let start: DateTime<Utc> = query["since"].parse().unwrap();
            let end: DateTime<Utc> = query["until"].parse().unwrap();
            let offset: usize = query.get("cursor").map_or(0, |c| c.parse().unwrap());
            state.log.push(
                json!({"path": "json", "start": start, "end": end, "cursor": query.get("cursor")}),
            );
            if auth != format!("Bearer {JSON_TOKEN}") {
                (401, json!({"error": "unauthorized"}).to_string())
            } else {
                let all: Vec<&SiemEvent> = events
                    .iter()
                    .filter(|e| e.at >= start && e.at < end)
                    .collect();
                let page: Vec<Value> = all
                    .iter()
                    .skip(offset)
                    .take(JSON_PAGE)
                    .map(|e| json!({"alert_id": e.uuid, "detection": e.rule, "actor": {"email": format!("{}@example.com", e.user)},
                        "summary": format!("{} on {}", e.rule, e.host), "created": e.at.to_rfc3339(), "host": e.host}))
                    .collect();
                let next =
                    (offset + JSON_PAGE < all.len()).then(|| (offset + JSON_PAGE).to_string());
                (
                    200,
                    json!({"data": {"alerts": page}, "next": next}).to_string(),
                )
            }
        };
        if state.fail.contains(&n) {
            return ResponseTemplate::new(503).set_body_string("service unavailable");
        }
        if state.cut.contains(&n) {
            // Cut mid-line, or (for a Splunk export of several rows) right after a whole row.
            let final_row = body
                .lines()
                .position(|l| l.contains(r#""preview":false"#) && l.contains("result"));
            let cut: String = match final_row {
                Some(i) if path.ends_with("/jobs/export") && body.lines().count() > i + 1 => {
                    body.lines().take(i + 1).collect::<Vec<_>>().join("\n")
                }
                _ => body.chars().take(body.len() / 2).collect(),
            };
            return ResponseTemplate::new(200).set_body_string(cut);
        }
        ResponseTemplate::new(status).set_body_string(body)
    }
}

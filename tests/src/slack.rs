//! A local stand-in for the Slack Web API, answering like Slack does: HTTP 200 with
//! `{"ok": false, "error": ...}` for errors, 429 with Retry-After when told to. It records every
//! call so tests can check the method, channel, buttons and that no secret was ever sent.
//! Every message and view is held to Block Kit ([`crate::block_kit`]) and refused as Slack
//! refuses a bad one; a test whose code sent one fails when its stand-in is dropped.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const BOT_TOKEN: &str = "xoxb-test-token-0123456789";

pub struct SlackStandIn {
    pub server: MockServer,
    posted: Arc<Mutex<Vec<Value>>>,
    not_block_kit: Arc<Mutex<Vec<String>>>,
}

struct Api {
    people: HashMap<String, String>,
    ts: AtomicU64,
    calls: Mutex<Vec<(String, Value)>>,
    /// When set, Slack's real rate: about one message per second per channel (429 beyond).
    paced: Option<Arc<Mutex<HashMap<String, Instant>>>>,
    /// Messages accepted (not rate-limited), for counting duplicates.
    posted: Arc<Mutex<Vec<Value>>>,
    /// What Slack would have refused as invalid Block Kit: method and problems.
    not_block_kit: Arc<Mutex<Vec<String>>>,
}

/// One recorded Web API call: the method and its arguments (JSON or form, as JSON).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub args: Value,
}

fn args_of(request: &Request) -> Value {
    let is_form = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let pairs: HashMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).unwrap_or_default();
        json!(pairs)
    } else {
        serde_json::from_slice(&request.body).unwrap_or(Value::Null)
    }
}

impl Respond for Api {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request
            .url
            .path()
            .trim_start_matches('/')
            .trim_start_matches("api/")
            .to_string();
        let args = args_of(request);
        self.calls
            .lock()
            .unwrap()
            .push((method.clone(), args.clone()));
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {BOT_TOKEN}"));
        if !authorized {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "invalid_auth"}));
        }
        let problems = crate::block_kit::check_call(&method, &args);
        if !problems.is_empty() {
            let error = if method.starts_with("views.") {
                "invalid_arguments"
            } else {
                "invalid_blocks"
            };
            self.not_block_kit
                .lock()
                .unwrap()
                .push(format!("{method}: {problems:?}"));
            return ResponseTemplate::new(200).set_body_json(
                json!({"ok": false, "error": error, "response_metadata": {"messages": problems}}),
            );
        }
        let ok = |extra: Value| {
            let mut body = json!({"ok": true});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            ResponseTemplate::new(200).set_body_json(body)
        };
        match method.as_str() {
            "users.lookupByEmail" => {
                match self.people.get(args["email"].as_str().unwrap_or_default()) {
                    Some(id) => ok(json!({"user": {"id": id}})),
                    None => ResponseTemplate::new(200)
                        .set_body_json(json!({"ok": false, "error": "users_not_found"})),
                }
            }
            "users.info" => {
                let id = args["user"].as_str().unwrap_or_default();
                match self.people.iter().find(|(_, v)| v.as_str() == id) {
                    Some((email, _)) => {
                        ok(json!({"user": {"id": id, "profile": {"email": email}}}))
                    }
                    None => ResponseTemplate::new(200)
                        .set_body_json(json!({"ok": false, "error": "user_not_found"})),
                }
            }
            "views.publish" => ok(json!({})),
            // As Slack does, the token's scopes come as a header.
            "auth.test" => ok(json!({"user": "securitybot", "user_id": "UBOT", "team": "Acme"}))
                .insert_header(
                    "x-oauth-scopes",
                    "chat:write,im:write,users:read,users:read.email",
                ),
            "conversations.info" => {
                let channel = args["channel"].as_str().unwrap_or_default();
                if channel.starts_with('C') {
                    ok(
                        json!({"channel": {"id": channel, "is_member": channel == crate::SECURITY_CHANNEL}}),
                    )
                } else {
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"ok": false, "error": "channel_not_found"}))
                }
            }
            "conversations.open" => ok(
                json!({"channel": {"id": format!("D{}", args["users"].as_str().unwrap_or_default())}}),
            ),
            "chat.postMessage" => {
                if let Some(paced) = &self.paced {
                    let channel = args["channel"].as_str().unwrap_or_default().to_string();
                    let mut last = paced.lock().unwrap();
                    let now = Instant::now();
                    if last
                        .get(&channel)
                        .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1))
                    {
                        return ResponseTemplate::new(429)
                            .insert_header("Retry-After", "1")
                            .set_body_string("rate limited");
                    }
                    last.insert(channel, now);
                }
                self.posted.lock().unwrap().push(args.clone());
                let ts = format!("1800000000.{:06}", self.ts.fetch_add(1, Ordering::SeqCst));
                ok(json!({"channel": args["channel"], "ts": ts}))
            }
            "chat.update" => ok(json!({"channel": args["channel"], "ts": args["ts"]})),
            "views.open" | "chat.postEphemeral" => ok(json!({})),
            _ => ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "unknown_method"})),
        }
    }
}

impl SlackStandIn {
    /// `people`: email -> Slack user id of everyone in the workspace (the security team's
    /// two members are always there).
    pub async fn start(people: &[(&str, &str)]) -> Self {
        Self::start_with(people, false).await
    }

    /// As [`SlackStandIn::start`], enforcing Slack's real rate: one message per second per
    /// channel, 429 with `Retry-After: 1` beyond it.
    pub async fn start_paced(people: &[(&str, &str)]) -> Self {
        Self::start_with(people, true).await
    }

    async fn start_with(people: &[(&str, &str)], paced: bool) -> Self {
        let server = MockServer::start().await;
        let posted = Arc::new(Mutex::new(Vec::new()));
        let not_block_kit = Arc::new(Mutex::new(Vec::new()));
        let team = [
            ("tess@example.com", crate::TEAM_MEMBER),
            ("tom@example.com", "UTEAM2"),
        ];
        let api = Api {
            people: team
                .iter()
                .chain(people)
                .map(|(e, i)| (e.to_string(), i.to_string()))
                .collect(),
            ts: AtomicU64::new(1),
            calls: Mutex::new(Vec::new()),
            paced: paced.then(Arc::default),
            posted: posted.clone(),
            not_block_kit: not_block_kit.clone(),
        };
        Mock::given(method("POST"))
            .respond_with(api)
            .with_priority(10)
            .mount(&server)
            .await;
        SlackStandIn {
            server,
            posted,
            not_block_kit,
        }
    }

    /// Every payload refused as invalid Block Kit so far (method and problems).
    pub fn not_block_kit(&self) -> Vec<String> {
        self.not_block_kit.lock().unwrap().clone()
    }

    /// Every message Slack accepted (rate-limited ones excluded), as posted.
    pub fn accepted_posts(&self) -> Vec<Value> {
        self.posted.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("{}/api/", self.server.uri())
    }

    /// The next `times` calls of `api_method` get HTTP 429 with `Retry-After: retry_after`.
    pub async fn rate_limit(&self, api_method: &str, times: u64, retry_after: u64) {
        Mock::given(method("POST"))
            .and(path(format!("/api/{api_method}")))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", retry_after.to_string().as_str())
                    .set_body_string("rate limited"),
            )
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The next `times` calls of `api_method` are refused as Slack refuses: HTTP 200 with
    /// `{"ok": false, "error": <error>}` (`not_in_channel`, `message_not_found`, `ratelimited`...).
    pub async fn refuse(&self, api_method: &str, error: &str, times: u64) {
        Mock::given(method("POST"))
            .and(path(format!("/api/{api_method}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": error})),
            )
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The next `times` calls of `api_method` fail with HTTP 503 (an outage).
    pub async fn outage(&self, api_method: &str, times: u64) {
        Mock::given(method("POST"))
            .and(path(format!("/api/{api_method}")))
            .respond_with(ResponseTemplate::new(503).set_body_string("upstream connect error"))
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// Every call Slack received, in order (429s included).
    pub async fn calls(&self) -> Vec<Call> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|r| Call {
                method: r.url.path().trim_start_matches("/api/").to_string(),
                args: args_of(r),
            })
            .collect()
    }

    pub async fn calls_to(&self, api_method: &str) -> Vec<Call> {
        self.calls()
            .await
            .into_iter()
            .filter(|c| c.method == api_method)
            .collect()
    }

    /// Posts to the security channel, in order.
    pub async fn team_posts(&self) -> Vec<Call> {
        self.calls_to("chat.postMessage")
            .await
            .into_iter()
            .filter(|c| c.args["channel"] == crate::SECURITY_CHANNEL)
            .collect()
    }

    /// Whether a post to the security channel says `text`.
    pub async fn told_the_team(&self, text: &str) -> bool {
        self.team_posts()
            .await
            .iter()
            .any(|c| c.args.to_string().contains(text))
    }

    /// Whether the latest message update (the person's question, updated) says `text`.
    pub async fn last_update_says(&self, text: &str) -> bool {
        self.calls_to("chat.update")
            .await
            .last()
            .is_some_and(|c| c.args.to_string().contains(text))
    }

    /// The raw text of every request body, for "no secret ever reaches Slack" checks.
    pub async fn everything_sent(&self) -> String {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A test whose code sent Slack something it would refuse fails here, whatever it asserted.
impl Drop for SlackStandIn {
    fn drop(&mut self) {
        let refused = self.not_block_kit();
        if !refused.is_empty() && !std::thread::panicking() {
            panic!("Slack would refuse these payloads as invalid Block Kit: {refused:#?}");
        }
    }
}

/// The action ids of every button in a message's blocks.
pub fn buttons(blocks: &Value) -> Vec<(String, String)> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["action_id"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

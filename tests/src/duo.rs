//! A local stand-in for Duo's Auth API v2 (preauth, auth with async push, auth_status), that
//! checks every request's signature the way Duo does, with its own canonicalisation (so a
//! request signed over anything but what was sent is refused: 401, code 40103). People are
//! scripted: what each of their pushes comes to, in turn. It can be told to fail the next
//! requests (503) or to answer with something that is not Duo's JSON.

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha512;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The host the application is configured with (what signatures name).
pub const HOST: &str = "api-1234abcd.duosecurity.com";
pub const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
pub const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";

#[derive(Default)]
struct State {
    /// username -> "auth" (with a push device), or preauth's other results.
    people: HashMap<String, (String, VecDeque<String>)>,
    /// txid -> username
    pushes: HashMap<String, String>,
    outage: u32,
    garble: u32,
    /// Every request: path, and whether its signature held.
    log: Vec<(String, bool)>,
    pushed: Vec<(String, HashMap<String, String>)>,
}

#[derive(Clone)]
struct Duo(Arc<Mutex<State>>);

pub struct DuoStandIn {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl DuoStandIn {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(any())
            .respond_with(Duo(state.clone()))
            .mount(&server)
            .await;
        DuoStandIn { server, state }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// `username` has a phone that takes pushes; their pushes come to `answers` in turn
    /// (`waiting`, `allow`, `deny`, `fraud`, `timeout`; the last one stays).
    pub fn person(&self, username: &str, answers: &[&str]) {
        self.state.lock().unwrap().people.insert(
            username.into(),
            (
                "auth".into(),
                answers.iter().map(|a| a.to_string()).collect(),
            ),
        );
    }

    /// `username` gets preauth's `result` (`allow`: bypass, `deny`: locked out).
    pub fn preauth_says(&self, username: &str, result: &str) {
        self.state
            .lock()
            .unwrap()
            .people
            .insert(username.into(), (result.into(), VecDeque::new()));
    }

    pub fn outage(&self, requests: u32) {
        self.state.lock().unwrap().outage = requests;
    }

    pub fn garble(&self, requests: u32) {
        self.state.lock().unwrap().garble = requests;
    }

    /// Requests by path, with whether each was signed right.
    pub fn requests(&self) -> Vec<(String, bool)> {
        self.state.lock().unwrap().log.clone()
    }

    /// The pushes sent: username and the request's parameters.
    pub fn pushed(&self) -> Vec<(String, HashMap<String, String>)> {
        self.state.lock().unwrap().pushed.clone()
    }
}

/// Duo's percent-encoding (RFC 3986 unreserved kept), written apart from the adapter's.
fn quote(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn signed_right(request: &Request, params: &[(String, String)]) -> bool {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(date), Some(auth)) = (header("date"), header("authorization")) else {
        return false;
    };
    let mut pairs: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
        .collect();
    pairs.sort();
    let canonical = format!(
        "{date}\n{}\n{HOST}\n{}\n{}",
        request.method.as_str().to_uppercase(),
        request.url.path(),
        pairs.join("&")
    );
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(SKEY.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    let expected = format!("{IKEY}:{}", hex::encode(mac.finalize().into_bytes()));
    use base64::Engine;
    auth.strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|given| given == expected.as_bytes())
}

fn ok(response: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"stat": "OK", "response": response}))
}

fn fail(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"stat": "FAIL", "code": code, "message": message}))
}

impl Respond for Duo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        let path = request.url.path().to_string();
        let raw = if request.method.as_str() == "GET" {
            request.url.query().unwrap_or_default().as_bytes().to_vec()
        } else {
            request.body.clone()
        };
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&raw).unwrap_or_default();
        let signed = signed_right(request, &params);
        state.log.push((path.clone(), signed));
        if state.outage > 0 {
            state.outage -= 1;
            return ResponseTemplate::new(503).set_body_string("upstream connect error");
        }
        if state.garble > 0 {
            state.garble -= 1;
            return ResponseTemplate::new(200).set_body_string("<html>maintenance</html>");
        }
        if !signed {
            return fail(401, 40103, "Invalid signature in request credentials");
        }
        let param: HashMap<String, String> = params.into_iter().collect();
        let username = param.get("username").cloned().unwrap_or_default();
        match path.as_str() {
            "/auth/v2/preauth" => match state.people.get(&username) {
                Some((result, _)) if result == "auth" => ok(json!({
                    "result": "auth", "status_msg": "Account is active",
                    "devices": [{"device": "DPFZRS9FB0D46QFTM891", "type": "phone", "capabilities": ["auto", "push", "sms", "phone"]}]
                })),
                Some((result, _)) => ok(json!({"result": result, "status_msg": result})),
                None => ok(
                    json!({"result": "enroll", "status_msg": "Enroll an authentication device to proceed", "enroll_portal_url": "https://api-1234abcd.duosecurity.com/portal?code=x"}),
                ),
            },
            "/auth/v2/auth" => {
                if param.get("factor").map(String::as_str) != Some("push")
                    || param.get("async").map(String::as_str) != Some("1")
                {
                    return fail(400, 40002, "Invalid request parameters");
                }
                let txid = format!("tx-{}-{}", state.pushes.len() + 1, Utc::now().timestamp());
                state.pushes.insert(txid.clone(), username.clone());
                state.pushed.push((username, param));
                ok(json!({"txid": txid}))
            }
            "/auth/v2/auth_status" => {
                let Some(user) = param.get("txid").and_then(|t| state.pushes.get(t)).cloned()
                else {
                    return fail(400, 40002, "Invalid request parameters (txid)");
                };
                let answers = &mut state.people.get_mut(&user).unwrap().1;
                let answer = match answers.len() {
                    0 => "waiting".to_string(),
                    1 => answers[0].clone(),
                    _ => answers.pop_front().unwrap(),
                };
                let (result, status) = match answer.as_str() {
                    "waiting" => ("waiting", "pushed"),
                    "allow" => ("allow", "allow"),
                    other => ("deny", other),
                };
                ok(json!({"result": result, "status": status, "status_msg": format!("{status}")}))
            }
            _ => fail(404, 40401, "Resource not found"),
        }
    }
}

//! Duo push as a [`PushFactor`], over Duo's Auth API v2: `preauth` (can this person get a
//! push?), `auth` with `factor=push` and `async=1` (send it; a transaction id comes back at
//! once), `auth_status` (what became of it). Requests are signed as Duo documents (signature
//! version 2): HMAC-SHA512 with the application's secret key over
//! `date \n METHOD \n host \n path \n canonical params`, sent as HTTP Basic `ikey:hex`. The
//! canonical form is tested against the vectors of Duo's own Python client.
//!
//! Failures: a network error, 429 or 5xx, or an answer that is not Duo's JSON is transient
//! (the work item is retried, then dead-lettered with its alarm); Duo refusing our
//! credentials re-reads the secret once (a rotated key), then is permanent.

use crate::core::secrets::SecretString;
use crate::error::{Error, Result};
use crate::ports::{PushFactor, PushOutcome, PushPrompt, PushReady, SecretStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha512;
use std::sync::Arc;
use std::time::Duration;

const SERVICE: &str = "duo";
/// `auth_status` may hold the request open a few seconds while nothing changes.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Which Duo username a person has: their whole email, or the part before the `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuoUsername {
    #[default]
    Email,
    LocalPart,
}

/// `[second_factor.duo]` in the config file; the secret key is `duo_secret_key` in the secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuoSettings {
    /// The application's API hostname, `api-XXXXXXXX.duosecurity.com`.
    pub host: String,
    /// The application's integration key (`DI...`): not secret, it names the application.
    pub integration_key: String,
    #[serde(default)]
    pub username: DuoUsername,
}

impl DuoSettings {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let host_ok = !self.host.is_empty()
            && self
                .host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !host_ok {
            problems.push(format!(
                "[second_factor.duo] host '{}' is not a hostname (like api-XXXXXXXX.duosecurity.com, no https://)",
                self.host
            ));
        }
        if self.integration_key.trim().is_empty() {
            problems.push("[second_factor.duo] integration_key is empty".to_string());
        }
        problems
    }
}

/// What Python's `urllib.parse.quote(s, '~')` leaves alone: letters, digits and `-_.~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn quote(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Parameters as Duo signs them (and as we send them): each key and value percent-encoded,
/// sorted by key then value, joined with `&`.
pub fn canon_params(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> =
        params.iter().map(|(k, v)| (quote(k), quote(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Authorization` header of a request (signature version 2, HMAC-SHA512).
pub fn authorization(
    ikey: &str,
    skey: &str,
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(&str, &str)],
) -> String {
    let canonical = [
        date.to_string(),
        method.to_uppercase(),
        host.to_lowercase(),
        path.to_string(),
        canon_params(params),
    ]
    .join("\n");
    let mut mac =
        <Hmac<Sha512> as KeyInit>::new_from_slice(skey.as_bytes()).expect("any key length");
    mac.update(canonical.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ikey}:{signature}"));
    format!("Basic {basic}")
}

/// Duo's date header: RFC 2822, as its clients send it.
fn date_header(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S -0000").to_string()
}

pub struct DuoPush {
    http: reqwest::Client,
    /// Where requests go: `https://<host>`, or a stand-in's URL in tests and local runs.
    base_url: String,
    settings: DuoSettings,
    secrets: Arc<dyn SecretStore>,
}

impl DuoPush {
    /// `base_url`: `None` for Duo itself (`https://<host>`).
    pub fn new(
        settings: DuoSettings,
        base_url: Option<String>,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        let base_url = base_url
            .unwrap_or_else(|| format!("https://{}", settings.host))
            .trim_end_matches('/')
            .to_string();
        DuoPush {
            http: super::http::client(TIMEOUT),
            base_url,
            settings,
            secrets,
        }
    }

    fn username(&self, email: &str) -> String {
        match self.settings.username {
            DuoUsername::Email => email.to_string(),
            DuoUsername::LocalPart => email.split('@').next().unwrap_or(email).to_string(),
        }
    }

    /// One signed call; Duo's `response` on success. A refused credential re-reads the secret
    /// once and tries again.
    async fn call(&self, method: &str, path: &str, params: &[(&str, &str)]) -> Result<Value> {
        let secrets = self.secrets.get().await?;
        let skey = secrets.require(&secrets.duo_secret_key, "duo_secret_key")?;
        match self.send(method, path, params, skey).await {
            Err(Refused::Credentials(message)) => {
                tracing::warn!(
                    message,
                    "Duo refused our credentials; re-reading the secret once"
                );
                let secrets = self.secrets.refresh().await?;
                let skey = secrets.require(&secrets.duo_secret_key, "duo_secret_key")?;
                self.send(method, path, params, skey)
                    .await
                    .map_err(Refused::into_error)
            }
            other => other.map_err(Refused::into_error),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        skey: &SecretString,
    ) -> std::result::Result<Value, Refused> {
        let date = date_header(Utc::now());
        let auth = authorization(
            &self.settings.integration_key,
            skey.expose(),
            &date,
            method,
            &self.settings.host,
            path,
            params,
        );
        let query = canon_params(params);
        let url = format!("{}{path}", self.base_url);
        let request = if method == "GET" {
            self.http.get(format!("{url}?{query}"))
        } else {
            self.http
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(query)
        };
        let response = request
            .header("Date", date)
            .header("Authorization", auth)
            .send()
            .await
            .map_err(|e| Refused::Transient(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| Refused::Transient(e.without_url().to_string()))?;
        read_answer(status.as_u16(), &text)
    }
}

/// Why a call did not give a `response`.
#[derive(Debug)]
enum Refused {
    /// Try again later: network, 429, 5xx, or an answer that is not Duo's JSON.
    Transient(String),
    /// 401: our integration key or secret key is not Duo's.
    Credentials(String),
    /// Any other refusal (a bad parameter, an unknown integration).
    Permanent(String),
}

impl Refused {
    fn into_error(self) -> Error {
        match self {
            Refused::Transient(m) => Error::transient(SERVICE, m),
            Refused::Credentials(m) => Error::permanent(
                SERVICE,
                format!(
                    "Duo refused our credentials (check integration_key and duo_secret_key): {m}"
                ),
            ),
            Refused::Permanent(m) => Error::permanent(SERVICE, m),
        }
    }
}

/// Duo's envelope: `{"stat": "OK", "response": ...}` or `{"stat": "FAIL", "code", "message"}`.
fn read_answer(status: u16, text: &str) -> std::result::Result<Value, Refused> {
    let said = |v: &Value| {
        format!(
            "HTTP {status}, Duo code {}: {}",
            v["code"],
            v["message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        )
    };
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    match (status, parsed) {
        (200, Some(v)) if v["stat"] == "OK" && v.get("response").is_some() => {
            Ok(v["response"].clone())
        }
        (429 | 500..=599, v) => Err(Refused::Transient(match v {
            Some(v) => said(&v),
            None => format!("HTTP {status}"),
        })),
        (401, Some(v)) => Err(Refused::Credentials(said(&v))),
        (400..=499, Some(v)) if v["stat"] == "FAIL" => Err(Refused::Permanent(said(&v))),
        _ => Err(Refused::Transient(format!(
            "HTTP {status}: not Duo's API answer ({} bytes)",
            text.len()
        ))),
    }
}

fn malformed(what: &str) -> Error {
    Error::transient(
        SERVICE,
        format!("Duo's {what} answer is not in the documented form"),
    )
}

#[async_trait]
impl PushFactor for DuoPush {
    async fn ready(&self, user: &str) -> Result<PushReady> {
        let username = self.username(user);
        let answer = self
            .call("POST", "/auth/v2/preauth", &[("username", &username)])
            .await?;
        let unavailable = |why: &str| Ok(PushReady::Unavailable(why.to_string()));
        match answer["result"].as_str() {
            Some("auth") => {
                let pushes = answer["devices"].as_array().is_some_and(|devices| {
                    devices.iter().any(|d| {
                        d["capabilities"]
                            .as_array()
                            .is_some_and(|c| c.iter().any(|c| c == "push"))
                    })
                });
                if pushes {
                    Ok(PushReady::Ready)
                } else {
                    unavailable("Duo knows them, but they have no device that takes pushes")
                }
            }
            Some("enroll") => unavailable("Duo does not know them (not enrolled in Duo)"),
            // Bypass: Duo would let anyone with their session through; that proves nothing.
            Some("allow") => {
                unavailable("Duo has them on bypass (no second factor), which proves nothing")
            }
            Some("deny") => {
                unavailable("Duo refuses them (locked out, or not allowed to use this application)")
            }
            _ => Err(malformed("preauth")),
        }
    }

    async fn push(&self, user: &str, prompt: &PushPrompt) -> Result<String> {
        let username = self.username(user);
        // Shown on the phone: what they are approving.
        let info = serde_urlencoded::to_string([
            ("alert", crate::core::text::truncate(&prompt.title, 200)),
            ("id", prompt.alert_id.to_string()),
        ])
        .map_err(|e| Error::Invalid(format!("push details: {e}")))?;
        let answer = self
            .call(
                "POST",
                "/auth/v2/auth",
                &[
                    ("username", &username),
                    ("factor", "push"),
                    ("device", "auto"),
                    ("async", "1"),
                    ("type", "Securitybot"),
                    ("pushinfo", &info),
                ],
            )
            .await?;
        answer["txid"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| malformed("auth"))
    }

    async fn outcome(&self, push_id: &str) -> Result<PushOutcome> {
        let answer = self
            .call("GET", "/auth/v2/auth_status", &[("txid", push_id)])
            .await?;
        let status = answer["status"].as_str().unwrap_or("");
        match answer["result"].as_str() {
            Some("waiting") => Ok(PushOutcome::Waiting),
            Some("allow") => Ok(PushOutcome::Approved),
            Some("deny") => Ok(match status {
                "fraud" => PushOutcome::ReportedFraud,
                "timeout" => PushOutcome::Expired,
                "deny" => PushOutcome::Denied,
                // Denied by Duo itself (locked out, policy): not the person's tap.
                _ => PushOutcome::Refused(
                    answer["status_msg"]
                        .as_str()
                        .unwrap_or(status)
                        .chars()
                        .take(200)
                        .collect(),
                ),
            }),
            _ => Err(malformed("auth_status")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from Duo's Python client (duo_client_python, tests/test_client.py).
    const FUZZ: [(&str, &str); 4] = [
        (
            "\u{469a}\u{287b}\u{35d0}\u{8ef3}\u{6727}\u{502a}\u{0810}\u{d091}\u{c8}\u{c170}",
            "\u{0f45}\u{1a76}\u{341a}\u{654c}\u{c23f}\u{9b09}\u{abe2}\u{8343}\u{1b27}\u{60d0}",
        ),
        (
            "\u{7449}\u{7e4b}\u{ccfb}\u{59ff}\u{fe5f}\u{83b7}\u{adcc}\u{900c}\u{cfd1}\u{7813}",
            "\u{8db7}\u{5022}\u{92d3}\u{42ef}\u{207d}\u{8730}\u{acfe}\u{5617}\u{0946}\u{4e30}",
        ),
        (
            "\u{7470}\u{9314}\u{901c}\u{9eae}\u{40d8}\u{4201}\u{82d8}\u{8c70}\u{1d31}\u{a042}",
            "\u{17d9}\u{0ba8}\u{9358}\u{aadf}\u{a42a}\u{48be}\u{fb96}\u{6fe9}\u{b7ff}\u{32f3}",
        ),
        (
            "\u{c2c5}\u{2c1d}\u{2620}\u{3617}\u{96b3}F\u{8605}\u{20e8}\u{ac21}\u{5934}",
            "\u{fba9}\u{41aa}\u{bd83}\u{840b}\u{2615}\u{3e6e}\u{652d}\u{a8b5}\u{d56b}U",
        ),
    ];

    #[test]
    fn params_are_canonical_as_duo_signs_them() {
        assert_eq!(canon_params(&[]), "");
        assert_eq!(
            canon_params(&[("username", "root"), ("realname", "First Last")]),
            "realname=First%20Last&username=root"
        );
        assert_eq!(
            canon_params(&[("foo_bar", "2"), ("foo", "1")]),
            "foo=1&foo_bar=2"
        );
        assert_eq!(
            canon_params(&[
                ("digits", "0123456789"),
                ("punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
                ("whitespace", "\t\n\x0b\x0c\r "),
            ]),
            "digits=0123456789&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20"
        );
    }

    #[test]
    fn the_signature_matches_duos_own_client() {
        let header = authorization(
            "test_ikey",
            "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT",
            "Fri, 07 Dec 2012 17:18:00 -0000",
            "PoSt",
            "foO.BAr52.cOm",
            "/Foo/BaR2/qux",
            &FUZZ,
        );
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode(
            "test_ikey:0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698",
        );
        assert_eq!(header, format!("Basic {expected}"));
    }

    #[test]
    fn answers_are_sorted_into_retry_or_not() {
        let ok = read_answer(200, r#"{"stat":"OK","response":{"txid":"t"}}"#).unwrap();
        assert_eq!(ok["txid"], "t");
        for (status, body) in [
            (503, "upstream down"),
            (
                429,
                r#"{"stat":"FAIL","code":42901,"message":"Too many requests"}"#,
            ),
            (200, "<html>captive portal</html>"),
            (200, r#"{"stat":"OK"}"#),
        ] {
            assert!(
                matches!(read_answer(status, body), Err(Refused::Transient(_))),
                "{status} {body}"
            );
        }
        let bad_sig = r#"{"stat":"FAIL","code":40103,"message":"Invalid signature"}"#;
        assert!(matches!(
            read_answer(401, bad_sig),
            Err(Refused::Credentials(_))
        ));
        let bad_param = r#"{"stat":"FAIL","code":40002,"message":"Invalid request parameters"}"#;
        assert!(matches!(
            read_answer(400, bad_param),
            Err(Refused::Permanent(_))
        ));
    }

    #[test]
    fn settings_name_what_is_wrong() {
        let settings = DuoSettings {
            host: "https://api-x.duosecurity.com".into(),
            integration_key: " ".into(),
            username: DuoUsername::Email,
        };
        let problems = settings.problems().join("; ");
        assert!(problems.contains("not a hostname"), "{problems}");
        assert!(problems.contains("integration_key is empty"), "{problems}");
    }
}

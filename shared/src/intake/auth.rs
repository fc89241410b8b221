//! Webhook authentication, three ways, any of several keys:
//! - HMAC: `X-Securitybot-Timestamp: <unix seconds>` and
//!   `X-Securitybot-Signature: v1=<hex HMAC-SHA256(key, "v1:" + timestamp + ":" + body)>`,
//!   refused when the timestamp is further than the tolerance from now (replay window);
//! - `Authorization: Bearer <key>`;
//! - `?token=<key>` in the URL, for SIEMs that cannot set headers (Splunk's webhook action).
//!
//! Every comparison is constant-time and every key is tried, so timing tells nothing.

use crate::core::secrets::WebhookKey;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

pub use crate::core::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
pub const TOKEN_PARAM: &str = "token";

/// The credential a request presents. Holds references only; never logged.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    Signature {
        timestamp: &'a str,
        signature: &'a str,
    },
    Bearer(&'a str),
    UrlToken(&'a str),
}

impl Credential<'_> {
    /// The mode's name, safe to log.
    pub fn mode(&self) -> &'static str {
        match self {
            Credential::Signature { .. } => "hmac",
            Credential::Bearer(_) => "bearer",
            Credential::UrlToken(_) => "url_token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    /// A credential is there but not in a form we accept; says which part.
    Malformed(&'static str),
    /// The signature's timestamp is outside the replay window.
    Expired,
    /// No key matches.
    Invalid,
}

impl AuthFailure {
    /// Safe to return to the caller: says what to fix without hinting at any key.
    pub fn message(&self) -> &'static str {
        match self {
            AuthFailure::Missing => {
                "no credential: send an X-Securitybot-Signature with X-Securitybot-Timestamp, an Authorization: Bearer header, or a token URL parameter"
            }
            AuthFailure::Malformed(what) => what,
            AuthFailure::Expired => {
                "the X-Securitybot-Timestamp is outside the allowed window: check the sender's clock, and do not replay old requests"
            }
            AuthFailure::Invalid => "the credential does not match any webhook key",
        }
    }
}

/// Picks the credential from headers (lower-case names) and query parameters.
/// A signature wins over the others: if one is sent, it alone decides.
pub fn credential<'a>(
    headers: &'a HashMap<String, String>,
    query: &'a HashMap<String, String>,
) -> Result<Credential<'a>, AuthFailure> {
    if let Some(signature) = headers.get(SIGNATURE_HEADER) {
        let timestamp = headers.get(TIMESTAMP_HEADER).ok_or(AuthFailure::Malformed(
            "X-Securitybot-Signature needs an X-Securitybot-Timestamp header",
        ))?;
        return Ok(Credential::Signature {
            timestamp,
            signature,
        });
    }
    if let Some(value) = headers.get("authorization") {
        // The scheme name is case-insensitive (RFC 9110 11.1): Bearer, bearer, BEARER.
        let token = value
            .trim()
            .split_once(char::is_whitespace)
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(AuthFailure::Malformed(
                "the Authorization header must be 'Bearer <key>'",
            ))?;
        return Ok(Credential::Bearer(token));
    }
    match query.get(TOKEN_PARAM) {
        Some(token) if !token.is_empty() => Ok(Credential::UrlToken(token)),
        _ => Err(AuthFailure::Missing),
    }
}

/// Returns the key that matched (only keys allowed to be presented this way are tried).
pub fn verify(
    credential: Credential<'_>,
    body: &[u8],
    keys: &[WebhookKey],
    now: DateTime<Utc>,
    tolerance_seconds: i64,
) -> Result<WebhookKey, AuthFailure> {
    let keys: Vec<&WebhookKey> = keys
        .iter()
        .filter(|k| k.allows_mode(credential.mode()))
        .collect();
    let matched = match credential {
        Credential::Signature {
            timestamp,
            signature,
        } => {
            let ts: i64 = timestamp.trim().parse().map_err(|_| {
                AuthFailure::Malformed(
                    "X-Securitybot-Timestamp must be whole seconds since 1970 (UTC)",
                )
            })?;
            // abs_diff: a hostile timestamp (i64::MIN) must not overflow the check.
            if now.timestamp().abs_diff(ts) > tolerance_seconds.unsigned_abs() {
                return Err(AuthFailure::Expired);
            }
            let given = signature
                .trim()
                .strip_prefix("v1=")
                .and_then(|h| hex::decode(h).ok())
                .ok_or(AuthFailure::Malformed(
                    "X-Securitybot-Signature must be 'v1=<hex HMAC-SHA256>'",
                ))?;
            first_match(&keys, |key| {
                sign(key.secret.expose().as_bytes(), timestamp.trim(), body)
                    .ct_eq(&given)
                    .into()
            })
        }
        Credential::Bearer(token) | Credential::UrlToken(token) => first_match(&keys, |key| {
            key.secret
                .expose()
                .as_bytes()
                .ct_eq(token.as_bytes())
                .into()
        }),
    };
    matched.ok_or(AuthFailure::Invalid)
}

/// Tries every key (no early exit) and reports the first that matched.
fn first_match(keys: &[&WebhookKey], matches: impl Fn(&WebhookKey) -> bool) -> Option<WebhookKey> {
    keys.iter().fold(None, |found, key| {
        let hit = matches(key);
        found.or(hit.then(|| (*key).clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secrets::SecretString;
    use chrono::TimeZone;

    fn keys() -> Vec<WebhookKey> {
        vec![
            WebhookKey::any("old", SecretString::new("old-key")),
            WebhookKey::any("new", SecretString::new("new-key")),
        ]
    }

    /// `verify`, reporting the matched key's id.
    fn verify_id(
        credential: Credential<'_>,
        body: &[u8],
        keys: &[WebhookKey],
        now: DateTime<Utc>,
        tolerance: i64,
    ) -> Result<String, AuthFailure> {
        verify(credential, body, keys, now, tolerance).map(|k| k.id)
    }

    #[test]
    fn a_key_is_only_tried_in_the_modes_it_allows() {
        let mut hmac_only = WebhookKey::any("siem", SecretString::new("old-key"));
        hmac_only.modes = vec!["hmac".into()];
        let keys = [hmac_only];
        let q = HashMap::new();
        let h: HashMap<_, _> = [("authorization".to_string(), "Bearer old-key".to_string())].into();
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"", &keys, now(), 300),
            Err(AuthFailure::Invalid),
            "a leaked HMAC key cannot be used as a bearer token"
        );
        let (h, q) = signed("old-key", now().timestamp(), b"{}");
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"{}", &keys, now(), 300),
            Ok("siem".into())
        );
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    fn signed(
        key: &str,
        ts: i64,
        body: &[u8],
    ) -> (HashMap<String, String>, HashMap<String, String>) {
        let sig = format!(
            "v1={}",
            hex::encode(sign(key.as_bytes(), &ts.to_string(), body))
        );
        let headers = [
            (SIGNATURE_HEADER.to_string(), sig),
            (TIMESTAMP_HEADER.to_string(), ts.to_string()),
        ]
        .into();
        (headers, HashMap::new())
    }

    #[test]
    fn any_current_key_signs() {
        for key in ["old-key", "new-key"] {
            let (h, q) = signed(key, now().timestamp() - 10, b"{}");
            let id = verify_id(credential(&h, &q).unwrap(), b"{}", &keys(), now(), 300).unwrap();
            assert_eq!(id, key.trim_end_matches("-key"));
        }
    }

    #[test]
    fn tampered_expired_and_unknown_signatures_fail() {
        let (h, q) = signed("new-key", now().timestamp(), b"{}");
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"{ }", &keys(), now(), 300),
            Err(AuthFailure::Invalid)
        );
        let (h, q) = signed("new-key", now().timestamp() - 301, b"{}");
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"{}", &keys(), now(), 300),
            Err(AuthFailure::Expired)
        );
        let (h, q) = signed("other", now().timestamp(), b"{}");
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"{}", &keys(), now(), 300),
            Err(AuthFailure::Invalid)
        );
    }

    #[test]
    fn extreme_timestamps_are_expired_not_a_crash() {
        for ts in [i64::MIN, i64::MIN + 1, i64::MAX, -1, 0] {
            let (h, q) = signed("new-key", ts, b"{}");
            assert_eq!(
                verify_id(credential(&h, &q).unwrap(), b"{}", &keys(), now(), 300),
                Err(AuthFailure::Expired),
                "{ts}"
            );
        }
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let q = HashMap::new();
        for value in [
            "Bearer old-key",
            "bearer old-key",
            "BEARER old-key",
            "BeArEr  old-key ",
        ] {
            let h: HashMap<_, _> = [("authorization".to_string(), value.to_string())].into();
            assert_eq!(
                verify_id(credential(&h, &q).unwrap(), b"", &keys(), now(), 300),
                Ok("old".into()),
                "{value}"
            );
        }
        for value in ["Bearerold-key", "Bearer ", "Token old-key"] {
            let h: HashMap<_, _> = [("authorization".to_string(), value.to_string())].into();
            assert!(
                matches!(credential(&h, &q), Err(AuthFailure::Malformed(_))),
                "{value}"
            );
        }
    }

    #[test]
    fn bearer_and_url_tokens() {
        let q = HashMap::new();
        let h: HashMap<_, _> = [("authorization".to_string(), "Bearer old-key".to_string())].into();
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"", &keys(), now(), 300),
            Ok("old".into())
        );
        let h: HashMap<_, _> = [("authorization".to_string(), "Basic abc".to_string())].into();
        assert!(matches!(credential(&h, &q), Err(AuthFailure::Malformed(_))));
        let h = HashMap::new();
        let q: HashMap<_, _> = [("token".to_string(), "nope".to_string())].into();
        assert_eq!(
            verify_id(credential(&h, &q).unwrap(), b"", &keys(), now(), 300),
            Err(AuthFailure::Invalid)
        );
        assert!(matches!(
            credential(&h, &HashMap::new()),
            Err(AuthFailure::Missing)
        ));
    }
}

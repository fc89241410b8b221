//! A request and its reply as our two HTTP endpoints (the webhook, the interaction endpoint)
//! see them: independent of Lambda, so each endpoint is tested without it and the functions
//! only translate.

use serde_json::Value;
use std::collections::HashMap;

/// Header names are lower-case.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a HashMap<String, String>,
    pub query: &'a HashMap<String, String>,
    /// The raw body (already base64-decoded if the Function URL sent it encoded).
    pub body: &'a [u8],
    /// For the log line of a refused attempt.
    pub source_ip: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// Sent as JSON; `None` is an empty body.
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
        }
    }

    /// `{"error": code, "message": message}`: what every refusal looks like.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Reply::json(
            status,
            serde_json::json!({ "error": code, "message": message }),
        )
    }
}

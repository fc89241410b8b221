//! Requests from Slack's interactivity endpoint: verifying their signature and reading them.
//!
//! Slack signs `v0:<X-Slack-Request-Timestamp>:<raw body>` with HMAC-SHA256 under the app's
//! signing secret and sends `X-Slack-Signature: v0=<hex>`. We check it over the raw bytes
//! (after base64-decoding, if the Function URL delivered them encoded), within 5 minutes,
//! in constant time.

use super::blocks::{
    CODE_BLOCK, ENROLL_ACTION, ENROLL_CALLBACK, EXPLANATION_BLOCK, FORM_CALLBACK, SNOOZE_BLOCK,
};
use crate::core::alert::AlertId;
use crate::core::interaction::{Inbound, Interaction, Reply};
use crate::core::messages::ButtonAction;
use crate::core::record::ChatRef;
use crate::core::secrets::Secrets;
use crate::ports::{ChatRequests, Unverified};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const TOLERANCE_SECONDS: i64 = 300;

/// Slack's side of the interaction endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlackRequests;

impl ChatRequests for SlackRequests {
    fn verify(
        &self,
        secrets: &Secrets,
        headers: &HashMap<String, String>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Unverified> {
        let signing = secrets
            .require(&secrets.slack_signing_secret, "slack_signing_secret")
            .map_err(|_| Unverified::NotConfigured)?;
        verify(signing.expose(), headers, body, now)
    }

    fn read(&self, body: &[u8]) -> Result<Inbound, String> {
        parse_inbound(body)
    }

    fn reply_body(&self, reply: &Reply) -> Option<Value> {
        reply_body(reply)
    }
}

/// Checks Slack's signature over the raw body, within the replay window.
pub fn verify(
    signing_secret: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), Unverified> {
    let timestamp = headers
        .get(TIMESTAMP_HEADER)
        .ok_or(Unverified::Malformed("missing X-Slack-Request-Timestamp"))?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .ok_or(Unverified::Malformed("missing X-Slack-Signature"))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Unverified::Malformed("X-Slack-Request-Timestamp is not a number"))?;
    // abs_diff: a hostile timestamp (i64::MIN) must not overflow the check.
    if now.timestamp().abs_diff(ts) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Unverified::Expired);
    }
    let given = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Unverified::Malformed("X-Slack-Signature is not v0=<hex>"))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("v0:{}:", timestamp.trim()).as_bytes());
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| Unverified::Mismatch)
}

/// Signs a body as Slack does (for tests and the local tools).
pub fn sign(signing_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Reads a request body: the Events API's JSON, or interactivity's `payload=<json>` form.
pub fn parse_inbound(body: &[u8]) -> Result<Inbound, String> {
    if body.first() == Some(&b'{') {
        let event: Value =
            serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
        return Ok(match event["type"].as_str() {
            Some("url_verification") => {
                Inbound::Challenge(event["challenge"].as_str().unwrap_or_default().to_string())
            }
            Some("event_callback")
                if event["event"]["type"] == "app_home_opened"
                    && event["event"]["tab"] == "home" =>
            {
                let chat_user = event["event"]["user"]
                    .as_str()
                    .ok_or("event.user is missing")?
                    .to_string();
                Inbound::Interaction(Interaction::HomeOpened { chat_user })
            }
            _ => Inbound::Interaction(Interaction::Ignored),
        });
    }
    parse(body).map(Inbound::Interaction)
}

/// Reads interactivity's form-encoded `payload=<json>` body.
pub fn parse(body: &[u8]) -> Result<Interaction, String> {
    let form: HashMap<String, String> =
        serde_urlencoded::from_bytes(body).map_err(|_| "the body is not a form".to_string())?;
    let payload = form.get("payload").ok_or("the form has no payload field")?;
    let p: Value = serde_json::from_str(payload).map_err(|_| "payload is not JSON".to_string())?;
    let chat_user = p["user"]["id"]
        .as_str()
        .ok_or("payload.user.id is missing")?
        .to_string();
    match p["type"].as_str() {
        Some("block_actions") if p["actions"][0]["action_id"] == ENROLL_ACTION => {
            Ok(Interaction::StartEnrollment {
                chat_user,
                trigger: p["trigger_id"].as_str().unwrap_or_default().to_string(),
            })
        }
        Some("view_submission") if p["view"]["callback_id"] == ENROLL_CALLBACK => {
            Ok(Interaction::SubmittedEnrollment {
                chat_user,
                code: p["view"]["state"]["values"][CODE_BLOCK]["value"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            })
        }
        Some("block_actions") => {
            let action = &p["actions"][0];
            let Some(kind) = action["action_id"].as_str().and_then(ButtonAction::from_id) else {
                return Ok(Interaction::Ignored);
            };
            if let ButtonAction::ApproveEnrollment | ButtonAction::RejectEnrollment = kind {
                let channel = p["channel"]["id"]
                    .as_str()
                    .or(p["container"]["channel_id"].as_str());
                let ts = p["container"]["message_ts"]
                    .as_str()
                    .or(p["message"]["ts"].as_str());
                return Ok(Interaction::Vouched {
                    approve: kind == ButtonAction::ApproveEnrollment,
                    user: action["value"]
                        .as_str()
                        .ok_or("payload.actions[0].value is missing")?
                        .to_string(),
                    chat_user,
                    message: channel.zip(ts).map(|(channel, ts)| ChatRef {
                        channel: channel.to_string(),
                        ts: ts.to_string(),
                    }),
                });
            }
            Ok(Interaction::Clicked {
                action: kind,
                alert_id: AlertId::from_stored(
                    action["value"]
                        .as_str()
                        .ok_or("payload.actions[0].value is missing")?,
                ),
                chat_user,
                trigger: p["trigger_id"].as_str().unwrap_or_default().to_string(),
                channel: p["channel"]["id"]
                    .as_str()
                    .or(p["container"]["channel_id"].as_str())
                    .map(str::to_string),
            })
        }
        Some("view_submission") if p["view"]["callback_id"] == FORM_CALLBACK => {
            let values = &p["view"]["state"]["values"];
            let text = |block: &str| {
                values[block]["value"]["value"]
                    .as_str()
                    .map(|s| s.trim().to_string())
            };
            Ok(Interaction::Submitted {
                alert_id: AlertId::from_stored(
                    p["view"]["private_metadata"]
                        .as_str()
                        .ok_or("view.private_metadata is missing")?,
                ),
                chat_user,
                explanation: text(EXPLANATION_BLOCK).unwrap_or_default(),
                code: text(CODE_BLOCK),
                snooze_minutes: values[SNOOZE_BLOCK]["value"]["selected_option"]["value"]
                    .as_str()
                    .and_then(|v| v.parse().ok()),
            })
        }
        _ => Ok(Interaction::Ignored),
    }
}

pub fn reply_body(reply: &Reply) -> Option<Value> {
    match reply {
        Reply::Done => None,
        Reply::FormErrors(errors) => {
            let errors: serde_json::Map<String, Value> = errors
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                .collect();
            Some(json!({ "response_action": "errors", "errors": errors }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(payload: Value) -> Vec<u8> {
        serde_urlencoded::to_string([("payload", payload.to_string())])
            .unwrap()
            .into_bytes()
    }

    #[test]
    fn signatures_are_checked_over_the_raw_body_within_the_window() {
        let now = Utc::now();
        let body = b"payload=%7B%7D";
        let headers = |ts: i64, sig: String| -> HashMap<String, String> {
            [
                (TIMESTAMP_HEADER.to_string(), ts.to_string()),
                (SIGNATURE_HEADER.to_string(), sig),
            ]
            .into()
        };
        let ts = now.timestamp();
        assert_eq!(
            verify("s3cret", &headers(ts, sign("s3cret", ts, body)), body, now),
            Ok(())
        );
        assert!(verify("s3cret", &headers(ts, sign("other", ts, body)), body, now).is_err());
        assert!(
            verify(
                "s3cret",
                &headers(ts, sign("s3cret", ts, body)),
                b"payload=%7B%20%7D",
                now
            )
            .is_err()
        );
        for hostile in [i64::MIN, i64::MAX] {
            assert_eq!(
                verify(
                    "s3cret",
                    &headers(hostile, sign("s3cret", 0, body)),
                    body,
                    now
                ),
                Err(Unverified::Expired),
                "an extreme timestamp is expired, not an overflow"
            );
        }
        let old = ts - 301;
        assert_eq!(
            verify(
                "s3cret",
                &headers(old, sign("s3cret", old, body)),
                body,
                now
            ),
            Err(Unverified::Expired)
        );
        assert!(verify("s3cret", &HashMap::new(), body, now).is_err());
    }

    #[test]
    fn reads_clicks_and_submissions() {
        let click = form(
            json!({"type": "block_actions", "user": {"id": "U1"}, "trigger_id": "t.1", "channel": {"id": "D1"},
            "actions": [{"action_id": "answer_yes", "value": "al_1"}]}),
        );
        assert_eq!(
            parse(&click).unwrap(),
            Interaction::Clicked {
                action: ButtonAction::AnswerYes,
                alert_id: AlertId::from_stored("al_1"),
                chat_user: "U1".into(),
                trigger: "t.1".into(),
                channel: Some("D1".into())
            }
        );
        let submit = form(
            json!({"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": FORM_CALLBACK, "private_metadata": "al_1",
            "state": {"values": {"explanation": {"value": {"value": " fixing CI "}}, "code": {"value": {"value": "123456"}},
                                  "snooze": {"value": {"selected_option": {"value": "240"}}}}}}}),
        );
        assert_eq!(
            parse(&submit).unwrap(),
            Interaction::Submitted {
                alert_id: AlertId::from_stored("al_1"),
                chat_user: "U1".into(),
                explanation: "fixing CI".into(),
                code: Some("123456".into()),
                snooze_minutes: Some(240)
            }
        );
        assert_eq!(
            parse(&form(json!({"type": "view_closed", "user": {"id": "U1"}}))).unwrap(),
            Interaction::Ignored
        );
        assert!(parse(b"nonsense=1").is_err());
    }
}

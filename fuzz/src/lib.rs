//! What each fuzz target checks, as plain functions: the libFuzzer targets
//! (`fuzz_targets/*.rs`, nightly, `scripts/fuzz.sh`) call them with what libFuzzer makes, and
//! the stable test suite calls them with the seeds, saved crash inputs and random mutations
//! (`tests/tests/fuzz_pass.rs`), so CI runs a short pass of every target without a nightly
//! sanitizer build. Each returns normally or panics: a panic is a finding.

use securitybot::adapters::slack::interaction;
use securitybot::core::redact::Redactor;
use securitybot::core::rules::RuleBook;
use securitybot::core::secrets::{SecretString, WebhookKey};
use securitybot::intake::auth;
use securitybot::intake::formats::mapping::SourceMappings;
use securitybot::intake::formats::{self, Entry, Format, ParseContext};
use std::collections::HashMap;
use std::sync::LazyLock;

/// One target's check.
pub type Check = fn(&[u8]);

/// Every target by name, as `scripts/fuzz.sh` and the stable pass know them.
pub const TARGETS: &[(&str, Check)] = &[
    ("canonical", canonical),
    ("splunk", splunk),
    ("grafana", grafana),
    ("panther", panther),
    ("slack_payload", slack_payload),
    ("auth_headers", auth_headers),
    ("redaction", redaction),
];

pub fn canonical(body: &[u8]) {
    parse_as(Format::Canonical, body)
}

pub fn splunk(body: &[u8]) {
    parse_as(Format::Splunk, body)
}

pub fn grafana(body: &[u8]) {
    parse_as(Format::Grafana, body)
}

pub fn panther(body: &[u8]) {
    parse_as(Format::Panther, body)
}

/// A body parsed as the webhook would: a rejection is an answer, not a crash; every alert
/// accepted is within the limits and has a stable id.
fn parse_as(format: Format, body: &[u8]) {
    let sources = SourceMappings::default();
    let ctx = ParseContext {
        now: chrono::Utc::now(),
        sources: &sources,
        max_batch: 100,
    };
    let Ok(entries) = formats::parse(format, body, &ctx) else {
        return;
    };
    for entry in entries {
        if let Entry::Alert(draft) = entry {
            let (alert, raw) = formats::finish(*draft, &RuleBook::default());
            assert!(!alert.rule.is_empty(), "an alert without a rule");
            assert!(alert.context.len() <= formats::fields::MAX_CONTEXT_ENTRIES);
            assert!(alert.title.chars().count() <= formats::fields::MAX_TITLE);
            assert!(raw.len() <= body.len() + 64, "raw is a part of the body");
            assert_eq!(alert.id(), alert.id(), "ids are stable");
        }
    }
}

/// Slack's interactivity and events bodies, whatever Slack (or anyone) sends.
pub fn slack_payload(body: &[u8]) {
    let _ = interaction::parse_inbound(body);
    let _ = interaction::parse(body);
}

/// Webhook and Slack authentication headers (timestamps at i64's ends, odd schemes, non-hex
/// signatures): never a panic, and never a match without the key. The input is split on
/// newlines into signature, timestamp, Authorization/token and body.
pub fn auth_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let mut next = || parts.next().unwrap_or("").to_string();
    let (signature, timestamp, token, body) = (next(), next(), next(), next());
    let key = "k".repeat(40);
    let keys = [WebhookKey::any("fuzz", SecretString::new(&key))];
    let now = chrono::Utc::now();
    let signed: HashMap<String, String> = [
        (auth::SIGNATURE_HEADER.to_string(), signature.clone()),
        (auth::TIMESTAMP_HEADER.to_string(), timestamp.clone()),
        ("authorization".to_string(), token.clone()),
    ]
    .into();
    let bearer: HashMap<String, String> = [("authorization".to_string(), token.clone())].into();
    let query: HashMap<String, String> = [("token".to_string(), token.clone())].into();
    for headers in [signed, bearer, HashMap::new()] {
        if let Ok(credential) = auth::credential(&headers, &query) {
            let verified = auth::verify(credential, body.as_bytes(), &keys, now, 300);
            assert!(
                verified.is_err() || token.contains(&key),
                "matched without the key"
            );
        }
    }
    let slack: HashMap<String, String> = [
        ("x-slack-signature".to_string(), signature),
        ("x-slack-request-timestamp".to_string(), timestamp),
    ]
    .into();
    assert!(interaction::verify(&key, &slack, body.as_bytes(), now).is_err());
}

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(&[]).unwrap());

/// Redaction never panics and is idempotent: masking masked text changes nothing.
pub fn redaction(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let once = REDACTOR.redact(&text).into_owned();
    assert_eq!(
        REDACTOR.redact(&once),
        once,
        "redacting twice changed the text"
    );
}

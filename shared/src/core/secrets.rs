//! What the secrets hold: one secret per purpose (webhook keys, Slack, the second factor, SIEM
//! credentials), each readable only by the functions that need it and parsed on its own, so a
//! bad entry in one stops only its readers. Values only; reading and caching them is
//! `adapters::secrets_manager`. Nothing here implements Debug in a way that could print a secret.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::fmt;

/// A secret string that never prints itself.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// One webhook credential. Several may be valid at once so keys can be rotated without a gap.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookKey {
    /// A name for logs and the audit trail ("splunk-prod"); never the secret itself.
    pub id: String,
    pub secret: SecretString,
    /// The alert sources this key may send (`"splunk"`, `"grafana"`, a canonical sender's
    /// `source`). Empty: any source, with alert ids private to this key (see `Alert::sender`).
    #[serde(default)]
    pub sources: Vec<String>,
    /// The ways this key may be presented: `hmac`, `bearer`, `url_token`. Empty: any.
    #[serde(default)]
    pub modes: Vec<String>,
}

/// Shorter webhook keys are refused at load: a key is a password a SIEM stores in plain
/// config, and 32 random bytes is what `openssl rand -hex 32` gives.
pub const MIN_WEBHOOK_KEY_BYTES: usize = 32;
/// The names of the ways a webhook key can be presented.
pub const AUTH_MODES: &[&str] = &["hmac", "bearer", "url_token"];

impl WebhookKey {
    /// A key with no limits (tests, the generated default key).
    pub fn any(id: impl Into<String>, secret: SecretString) -> Self {
        WebhookKey {
            id: id.into(),
            secret,
            sources: Vec::new(),
            modes: Vec::new(),
        }
    }

    pub fn allows_mode(&self, mode: &str) -> bool {
        self.modes.is_empty() || self.modes.iter().any(|m| m == mode)
    }

    /// Whether an alert from `source` may come through this key.
    pub fn allows_source(&self, source: &str) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|s| s == source)
    }

    /// The id namespace of this key's alerts: its own when it may send any source.
    pub fn sender(&self) -> Option<String> {
        self.sources.is_empty().then(|| self.id.clone())
    }

    /// A clear refusal for a key that would weaken the webhook, naming the key, never its value.
    fn check(&self) -> Result<()> {
        let len = self.secret.expose().len();
        if len < MIN_WEBHOOK_KEY_BYTES {
            return Err(Error::Config(format!(
                "webhook key '{}' is {len} bytes; at least {MIN_WEBHOOK_KEY_BYTES} are needed (make one with: openssl rand -hex 32)",
                self.id
            )));
        }
        if let Some(bad) = self
            .modes
            .iter()
            .find(|m| !AUTH_MODES.contains(&m.as_str()))
        {
            return Err(Error::Config(format!(
                "webhook key '{}' has an unknown mode '{bad}' (modes: {})",
                self.id,
                AUTH_MODES.join(", ")
            )));
        }
        Ok(())
    }
}

/// One seed key: an id (written into every seed sealed under it) and 32 bytes, base64.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKeyEntry {
    pub id: String,
    pub key: SecretString,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Secrets {
    /// The key SAM generates at deploy time, so a fresh stack works at once (id "default").
    #[serde(default)]
    pub webhook_key: Option<SecretString>,
    #[serde(default)]
    pub webhook_keys: Vec<WebhookKey>,
    /// Slack bot token (xoxb-...), for the Web API.
    #[serde(default)]
    pub slack_bot_token: Option<SecretString>,
    /// Slack's signing secret, to verify interactivity requests.
    #[serde(default)]
    pub slack_signing_secret: Option<SecretString>,
    /// 32 random bytes, base64: encrypts TOTP seeds at rest (key id `default`).
    #[serde(default)]
    pub seed_encryption_key: Option<SecretString>,
    /// More seed keys, for rotation: every one listed can open seeds sealed under it.
    #[serde(default)]
    pub seed_encryption_keys: Vec<SeedKeyEntry>,
    /// The id of the key new seeds are sealed under (default: `default`, the single key).
    #[serde(default)]
    pub seed_encryption_current: Option<String>,
    /// Duo's secret key for the Auth API application (`[second_factor] method = "duo"`).
    #[serde(default)]
    pub duo_secret_key: Option<SecretString>,
    /// Splunk HEC token, for write-back to Splunk.
    #[serde(default)]
    pub writeback_hec_token: Option<SecretString>,
    /// Key that signs write-back webhooks.
    #[serde(default)]
    pub writeback_webhook_key: Option<SecretString>,
    /// Per poller (its name in the config file): the Splunk token, Elastic API key or bearer token.
    #[serde(default)]
    pub poller_tokens: std::collections::BTreeMap<String, SecretString>,
}

/// What a secret is for. Each purpose is its own secret in the stack (`<PURPOSE>_SECRET_ID`),
/// so a function is granted, and reads, only what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretPurpose {
    Webhook,
    Slack,
    SecondFactor,
    Siem,
}

impl SecretPurpose {
    pub const ALL: [SecretPurpose; 4] = [
        SecretPurpose::Webhook,
        SecretPurpose::Slack,
        SecretPurpose::SecondFactor,
        SecretPurpose::Siem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SecretPurpose::Webhook => "webhook",
            SecretPurpose::Slack => "slack",
            SecretPurpose::SecondFactor => "second-factor",
            SecretPurpose::Siem => "siem",
        }
    }

    /// The environment variable naming this purpose's secret.
    pub fn env_var(self) -> &'static str {
        match self {
            SecretPurpose::Webhook => "WEBHOOK_SECRET_ID",
            SecretPurpose::Slack => "SLACK_SECRET_ID",
            SecretPurpose::SecondFactor => "SECOND_FACTOR_SECRET_ID",
            SecretPurpose::Siem => "SIEM_SECRET_ID",
        }
    }

    /// The entries a secret of this purpose holds; anything else in it is not read.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            SecretPurpose::Webhook => &["webhook_key", "webhook_keys"],
            SecretPurpose::Slack => &["slack_bot_token", "slack_signing_secret"],
            SecretPurpose::SecondFactor => &[
                "seed_encryption_key",
                "seed_encryption_keys",
                "seed_encryption_current",
                "duo_secret_key",
            ],
            SecretPurpose::Siem => &[
                "writeback_hec_token",
                "writeback_webhook_key",
                "poller_tokens",
            ],
        }
    }
}

impl Secrets {
    /// The entries of `purpose` in a secret's text, each checked on its own: an entry of
    /// another purpose (an older, all-in-one secret) is not even parsed, and a malformed
    /// entry is named, never quoted.
    pub fn from_json_for(text: &str, purpose: SecretPurpose) -> Result<Self> {
        let all: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| {
                Error::Config(format!(
                    "the {} secret is not a JSON object (line {}, column {})",
                    purpose.name(),
                    e.line(),
                    e.column()
                ))
            })?;
        let mine: serde_json::Map<_, _> = all
            .into_iter()
            .filter(|(k, _)| purpose.fields().contains(&k.as_str()))
            .collect();
        serde_json::from_value(serde_json::Value::Object(mine.clone())).map_err(|_| {
            let bad = mine
                .iter()
                .find(|(k, v)| {
                    let one = serde_json::Map::from_iter([((*k).clone(), (*v).clone())]);
                    serde_json::from_value::<Secrets>(serde_json::Value::Object(one)).is_err()
                })
                .map_or("an entry", |(k, _)| k.as_str());
            Error::Config(format!(
                "the {} secret's {bad} is not in the documented form (see the README's secrets table)",
                purpose.name()
            ))
        })
    }

    pub fn from_json(text: &str) -> Result<Self> {
        // serde's message may quote the input, which is secret: keep only its position.
        serde_json::from_str(text).map_err(|e| {
            Error::Config(format!(
                "the secret is not valid Securitybot JSON (line {}, column {}): expected an object with webhook_keys",
                e.line(),
                e.column()
            ))
        })
    }

    /// A named part of the secret that a function cannot work without.
    pub fn require<'a>(
        &self,
        value: &'a Option<SecretString>,
        name: &str,
    ) -> Result<&'a SecretString> {
        value
            .as_ref()
            .filter(|v| !v.expose().is_empty())
            .ok_or_else(|| {
                let purpose = SecretPurpose::ALL
                    .into_iter()
                    .find(|p| p.fields().contains(&name))
                    .map_or("", SecretPurpose::name);
                Error::Config(format!(
                    "the {purpose} secret has no {name}: add it (see the README's secrets table)"
                ))
            })
    }

    /// Every seed key (id, base64 key), the single `seed_encryption_key` as `default`.
    pub fn seed_keys(&self) -> Vec<(String, SecretString)> {
        self.seed_encryption_key
            .iter()
            .map(|key| ("default".to_string(), key.clone()))
            .chain(
                self.seed_encryption_keys
                    .iter()
                    .map(|e| (e.id.clone(), e.key.clone())),
            )
            .filter(|(_, key)| !key.expose().is_empty())
            .collect()
    }

    /// Every webhook key in force, the generated one first; an error naming the first key that
    /// is too short or names an unknown mode. Checked where the keys are used (the webhook), so a
    /// bad key stops only the webhook, loudly, and never the functions that do not read keys.
    pub fn webhook_keys(&self) -> Result<Vec<WebhookKey>> {
        let keys: Vec<WebhookKey> = self
            .webhook_key
            .iter()
            .map(|secret| WebhookKey::any("default", secret.clone()))
            .chain(self.webhook_keys.iter().cloned())
            .filter(|key| !key.secret.expose().is_empty())
            .collect();
        for key in &keys {
            key.check()?;
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_parse_errors_do_not_quote_them() {
        let key = "k".repeat(MIN_WEBHOOK_KEY_BYTES);
        let s = Secrets::from_json(&format!(
            r#"{{"webhook_keys":[{{"id":"siem","secret":"{key}","sources":["splunk"],"modes":["hmac"]}}]}}"#
        ))
        .unwrap();
        assert!(!format!("{s:?}").contains(&key));
        let keys = s.webhook_keys().unwrap();
        assert_eq!(keys[0].id, "siem");
        assert!(keys[0].allows_source("splunk"));
        assert!(!keys[0].allows_source("grafana"));
        let err = Secrets::from_json(&format!(
            r#"{{"webhook_keys":[{{"id":"siem","secret":"{key}","x":1}}]}}"#
        ))
        .unwrap_err();
        assert!(!err.to_string().contains(&key), "{err}");
    }

    const ALL_IN_ONE: &str = r#"{
        "webhook_key": "0123456789abcdef0123456789abcdef-generated",
        "webhook_keys": [{"id": "siem", "secret": "0123456789abcdef0123456789abcdef", "sources": ["splunk"]}],
        "slack_bot_token": "xoxb-1", "slack_signing_secret": "sig",
        "seed_encryption_key": "a2V5", "seed_encryption_keys": [{"id": "k2", "key": "a2V5Mg=="}],
        "seed_encryption_current": "k2", "duo_secret_key": "duo",
        "writeback_hec_token": "hec", "writeback_webhook_key": "wb",
        "poller_tokens": {"splunk_prod": "sp"}
    }"#;

    #[test]
    fn every_entry_belongs_to_exactly_one_purpose() {
        let whole = Secrets::from_json(ALL_IN_ONE).unwrap();
        let parts: Vec<Secrets> = SecretPurpose::ALL
            .into_iter()
            .map(|p| Secrets::from_json_for(ALL_IN_ONE, p).unwrap())
            .collect();
        // Each part holds its own entries and nothing of the others'.
        assert_eq!(parts[0].webhook_keys, whole.webhook_keys);
        assert!(parts[0].slack_bot_token.is_none() && parts[0].duo_secret_key.is_none());
        assert_eq!(parts[1].slack_bot_token, whole.slack_bot_token);
        assert!(parts[1].webhook_key.is_none() && parts[1].poller_tokens.is_empty());
        assert_eq!(parts[2].seed_keys(), whole.seed_keys());
        assert_eq!(parts[2].duo_secret_key, whole.duo_secret_key);
        assert!(parts[2].slack_signing_secret.is_none());
        assert_eq!(parts[3].poller_tokens, whole.poller_tokens);
        assert!(parts[3].seed_encryption_key.is_none());
        // No entry is in two purposes, and every entry is in one.
        let mut names: Vec<&str> = SecretPurpose::ALL
            .iter()
            .flat_map(|p| p.fields().iter().copied())
            .collect();
        let listed = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), listed, "an entry is listed for two purposes");
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(ALL_IN_ONE).unwrap();
        for key in object.keys() {
            assert!(names.contains(&key.as_str()), "{key} belongs to no purpose");
        }
        assert_eq!(object.len(), names.len(), "the example holds every entry");
    }

    #[test]
    fn a_bad_entry_stops_only_the_readers_of_its_purpose_and_is_named_not_quoted() {
        let text = r#"{"slack_bot_token": ["xoxb-leaked"], "webhook_key": "0123456789abcdef0123456789abcdef", "seed_encryption_key": "a2V5"}"#;
        let err = Secrets::from_json_for(text, SecretPurpose::Slack)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("slack secret's slack_bot_token is not in the documented form"),
            "{err}"
        );
        assert!(!err.contains("xoxb-leaked"), "{err}");
        let webhook = Secrets::from_json_for(text, SecretPurpose::Webhook).unwrap();
        assert_eq!(webhook.webhook_keys().unwrap().len(), 1);
        assert_eq!(
            Secrets::from_json_for(text, SecretPurpose::SecondFactor)
                .unwrap()
                .seed_keys()
                .len(),
            1
        );
        let missing = webhook
            .require(&webhook.slack_bot_token, "slack_bot_token")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("the slack secret has no slack_bot_token"),
            "{missing}"
        );
        let not_json = Secrets::from_json_for("xoxb-raw-token", SecretPurpose::Slack)
            .unwrap_err()
            .to_string();
        assert!(
            not_json.contains("slack secret is not a JSON object") && !not_json.contains("xoxb")
        );
    }

    #[test]
    fn short_keys_and_unknown_modes_are_refused_at_load_naming_the_key() {
        let short =
            Secrets::from_json(r#"{"webhook_keys":[{"id":"grafana-prod","secret":"hunter2"}]}"#)
                .expect("the rest of the secret still loads: only the webhook reads the keys");
        let err = short.webhook_keys().unwrap_err().to_string();
        assert!(
            err.contains("'grafana-prod' is 7 bytes") && err.contains("at least 32"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let key = "k".repeat(40);
        let err = Secrets::from_json(&format!(
            r#"{{"webhook_keys":[{{"id":"siem","secret":"{key}","modes":["basic"]}}]}}"#
        ))
        .unwrap()
        .webhook_keys()
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown mode 'basic'"), "{err}");
    }
}

//! What the one Secrets Manager secret holds: webhook keys, Slack credentials, the seed key,
//! SIEM credentials. Values only; reading and caching it is `adapters::secrets_manager`.
//! Nothing here implements Debug in a way that could print a secret.

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

impl Secrets {
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
                Error::Config(format!(
                    "the secret has no {name}: add it (see the README's Slack set-up)"
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

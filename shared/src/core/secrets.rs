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

    /// Every webhook key in force, the generated one first.
    pub fn webhook_keys(&self) -> Vec<WebhookKey> {
        self.webhook_key
            .iter()
            .map(|secret| WebhookKey {
                id: "default".into(),
                secret: secret.clone(),
            })
            .chain(self.webhook_keys.iter().cloned())
            .filter(|key| !key.secret.expose().is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_parse_errors_do_not_quote_them() {
        let s =
            Secrets::from_json(r#"{"webhook_keys":[{"id":"siem","secret":"hunter2"}]}"#).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.webhook_keys()[0].id, "siem");
        let err =
            Secrets::from_json(r#"{"webhook_keys":[{"id":"siem","secret":"hunter2","x":1}]}"#)
                .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of skew either
//! way), with seeds in the people table encrypted under the key in the one secret
//! (XChaCha20-Poly1305, the person's email as associated data so a seed cannot be moved to
//! another person). A code is accepted once: the last accepted step is kept and must grow.
//! Wrong codes are counted per person per hour.

use super::aws_error;
use super::dynamodb::iso_time as iso;
use crate::error::{Error, Result};
use crate::ports::SecretStore;
use crate::ports::{SecondFactor, Verification};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub const ISSUER: &str = "Securitybot";

pub struct TotpSecondFactor {
    client: Client,
    table: String,
    secrets: Arc<dyn SecretStore>,
    max_failures_per_hour: u32,
}

impl TotpSecondFactor {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        secrets: Arc<dyn SecretStore>,
        max_failures_per_hour: u32,
    ) -> Self {
        TotpSecondFactor {
            client,
            table: table.into(),
            secrets,
            max_failures_per_hour,
        }
    }

    async fn cipher(&self) -> Result<XChaCha20Poly1305> {
        let secrets = self.secrets.get().await?;
        let key = secrets.require(&secrets.seed_encryption_key, "seed_encryption_key")?;
        let bytes = B64
            .decode(key.expose().trim())
            .ok()
            .filter(|k| k.len() == 32);
        let bytes = bytes.ok_or_else(|| {
            Error::Config(
                "seed_encryption_key must be 32 bytes, base64-encoded (openssl rand -base64 32)"
                    .into(),
            )
        })?;
        Ok(XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key"))
    }

    fn totp(seed: Vec<u8>, user: &str) -> Result<totp_rs::Totp> {
        totp_rs::Builder::new()
            .with_secret(seed)
            .with_account_name(user.replace(':', "_"))
            .with_issuer(Some(ISSUER.to_string()))
            .build()
            .map_err(|e| Error::permanent("totp", format!("cannot build TOTP: {e:?}")))
    }

    async fn person(
        &self,
        user: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(out.item)
    }

    async fn count_failure(&self, user: &str, now: DateTime<Utc>) -> Result<()> {
        // A new hour window starts from the first failure after the last one expired.
        let window_start = (now - chrono::Duration::hours(1)).timestamp();
        let reset = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("SET totp_failures = :one, totp_failures_since_epoch = :now")
            .condition_expression("attribute_not_exists(totp_failures_since_epoch) OR totp_failures_since_epoch < :start")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(":start", AttributeValue::N(window_start.to_string()))
            .send()
            .await;
        match reset {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("user", AttributeValue::S(user.to_string()))
                    .update_expression("ADD totp_failures :one")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb", e))?;
                Ok(())
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }
}

fn n(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

#[async_trait]
impl SecondFactor for TotpSecondFactor {
    async fn can_verify(&self, user: &str) -> Result<bool> {
        Ok(self
            .person(user)
            .await?
            .is_some_and(|i| i.contains_key("totp_seed")))
    }

    async fn verify(&self, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification> {
        let Some(item) = self.person(user).await? else {
            return Ok(Verification::NotEnrolled);
        };
        let Some(sealed) = item.get("totp_seed").and_then(|v| v.as_s().ok()) else {
            return Ok(Verification::NotEnrolled);
        };
        let was_pending = item
            .get("totp_state")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|s| s == "pending");
        let recent_failures = match n(&item, "totp_failures_since_epoch") {
            Some(since) if since >= (now - chrono::Duration::hours(1)).timestamp() => {
                n(&item, "totp_failures").unwrap_or(0)
            }
            _ => 0,
        };
        if recent_failures >= i64::from(self.max_failures_per_hour) {
            return Ok(Verification::LockedOut);
        }
        let sealed = B64
            .decode(sealed)
            .map_err(|_| Error::permanent("totp", "stored seed is not base64"))?;
        if sealed.len() < 24 {
            return Err(Error::permanent("totp", "stored seed is too short"));
        }
        let (nonce, ciphertext) = sealed.split_at(24);
        let seed = self
            .cipher()
            .await?
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: user.as_bytes() })
            .map_err(|_| Error::permanent("totp", "the stored seed does not decrypt under seed_encryption_key (was the key changed?)"))?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let step = Self::totp(seed, user)?.check(&code, now.timestamp().max(0) as u64);
        let Some(step) = step else {
            self.count_failure(user, now).await?;
            return Ok(Verification::Invalid);
        };
        let accepted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("SET totp_last_step = :s, totp_state = :enrolled, totp_failures = :zero, totp_last_used_at = :t, totp_enrolled_at_epoch = if_not_exists(totp_enrolled_at_epoch, :te)")
            .condition_expression("attribute_exists(totp_seed) AND (attribute_not_exists(totp_last_step) OR totp_last_step < :s)")
            .expression_attribute_values(":s", AttributeValue::N(step.to_string()))
            .expression_attribute_values(":enrolled", AttributeValue::S("enrolled".into()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)))
            .expression_attribute_values(":te", AttributeValue::N(now.timestamp().to_string()))
            .send()
            .await;
        match accepted {
            Ok(_) if was_pending => Ok(Verification::ValidFirstCode),
            Ok(_) => Ok(Verification::Valid),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(Verification::Replayed)
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn enroll(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let totp = totp_rs::Builder::new()
            .with_account_name(user.replace(':', "_"))
            .with_issuer(Some(ISSUER.to_string()))
            .build()
            .map_err(|e| Error::permanent("totp", format!("cannot build TOTP: {e:?}")))?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .await?
            .encrypt(
                &nonce,
                Payload {
                    msg: totp.secret().as_ref(),
                    aad: user.as_bytes(),
                },
            )
            .map_err(|_| Error::permanent("totp", "seed encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        let stored = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("SET totp_seed = :seed, totp_state = :pending, totp_enrollment_started_at = :t REMOVE totp_last_step")
            .condition_expression("attribute_not_exists(totp_seed)")
            .expression_attribute_values(":seed", AttributeValue::S(B64.encode(sealed)))
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)))
            .send()
            .await;
        match stored {
            Ok(_) => Ok(Some(totp.to_url().map_err(|e| {
                Error::permanent("totp", format!("cannot build the otpauth URI: {e:?}"))
            })?)),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn reset(&self, user: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("REMOVE totp_seed, totp_state, totp_last_step, totp_failures, totp_failures_since_epoch, totp_enrollment_started_at, totp_enrolled_at_epoch")
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    /// Scans the people table (one row per person who ever got an alert: small) once per rollup.
    async fn enrolled_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let items = super::dynamodb::scan_all(
            self.client
                .scan()
                .table_name(&self.table)
                .filter_expression("totp_enrolled_at_epoch >= :a AND totp_enrolled_at_epoch < :b")
                .projection_expression("#user")
                .expression_attribute_names("#user", "user")
                .expression_attribute_values(":a", AttributeValue::N(start.timestamp().to_string()))
                .expression_attribute_values(":b", AttributeValue::N(end.timestamp().to_string())),
        )
        .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("user")?.as_s().ok().cloned())
            .collect())
    }
}

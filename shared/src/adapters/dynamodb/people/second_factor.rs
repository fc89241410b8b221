//! The second factor's state in the people table: the sealed TOTP seed (`adapters::totp` does
//! the crypto), enrollment (pending until the first valid code), the last accepted time step
//! (a code counts once: the step must grow, in one conditional write), and wrong codes per
//! person per hour.

use super::super::item::{iso, scan_all};
use crate::adapters::aws_error;
use crate::adapters::totp::{self, SeedKey};
use crate::error::Result;
use crate::ports::{SecondFactor, SecretStore, Verification};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Arc;

type Item = HashMap<String, AttributeValue>;

pub struct DynamoSecondFactor {
    client: Client,
    table: String,
    secrets: Arc<dyn SecretStore>,
    max_failures_per_hour: u32,
}

impl DynamoSecondFactor {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        secrets: Arc<dyn SecretStore>,
        max_failures_per_hour: u32,
    ) -> Self {
        DynamoSecondFactor {
            client,
            table: table.into(),
            secrets,
            max_failures_per_hour,
        }
    }

    async fn key(&self) -> Result<SeedKey> {
        let secrets = self.secrets.get().await?;
        let key = secrets.require(&secrets.seed_encryption_key, "seed_encryption_key")?;
        SeedKey::from_base64(key.expose())
    }

    fn user_key(user: &str) -> AttributeValue {
        AttributeValue::S(user.to_string())
    }

    async fn person(&self, user: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(out.item)
    }

    async fn count_failure(&self, user: &str, now: DateTime<Utc>) -> Result<()> {
        // A new hour window starts from the first failure after the last one expired.
        let window_start = (now - Duration::hours(1)).timestamp();
        let reset = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
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
                    .key("user", Self::user_key(user))
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

    /// Accepts `step` for the person if it is later than the last accepted one (replay
    /// protection), completing a pending enrollment. False: the step was already used.
    async fn accept(&self, user: &str, step: u64, now: DateTime<Utc>) -> Result<bool> {
        let accepted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
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
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }
}

fn n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

#[async_trait]
impl SecondFactor for DynamoSecondFactor {
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
        let Some(sealed) = s(&item, "totp_seed") else {
            return Ok(Verification::NotEnrolled);
        };
        let was_pending = s(&item, "totp_state") == Some("pending");
        let recent_failures = match n(&item, "totp_failures_since_epoch") {
            Some(since) if since >= (now - Duration::hours(1)).timestamp() => {
                n(&item, "totp_failures").unwrap_or(0)
            }
            _ => 0,
        };
        if recent_failures >= i64::from(self.max_failures_per_hour) {
            return Ok(Verification::LockedOut);
        }
        let seed = self.key().await?.open(user, sealed)?;
        let Some(step) = totp::check(seed, user, code, now)? else {
            self.count_failure(user, now).await?;
            return Ok(Verification::Invalid);
        };
        Ok(match self.accept(user, step, now).await? {
            true if was_pending => Verification::ValidFirstCode,
            true => Verification::Valid,
            false => Verification::Replayed,
        })
    }

    async fn enroll(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let (seed, uri) = totp::new_seed(user)?;
        let sealed = self.key().await?.seal(user, &seed)?;
        let stored = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
            .update_expression("SET totp_seed = :seed, totp_state = :pending, totp_enrollment_started_at = :t REMOVE totp_last_step")
            .condition_expression("attribute_not_exists(totp_seed)")
            .expression_attribute_values(":seed", AttributeValue::S(sealed))
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)))
            .send()
            .await;
        match stored {
            Ok(_) => Ok(Some(uri)),
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
            .key("user", Self::user_key(user))
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
        let items = scan_all(
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

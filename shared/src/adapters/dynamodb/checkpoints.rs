//! The checkpoints table: poller positions, once-only markers (a rollup posted) and failed
//! write-backs kept for a redrive, keyed by `name`. Claims are conditional writes with a lease, so a crashed run frees itself.

use super::item::iso;
use crate::adapters::aws_error;
use crate::core::answer_event::AnswerEvent;
use crate::error::{Error, Result};
use crate::ports::{Checkpoints, Claim, FailedWritebacks};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

pub struct DynamoCheckpoints {
    client: Client,
    table: String,
}

impl DynamoCheckpoints {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoCheckpoints {
            client,
            table: table.into(),
        }
    }

    fn key(name: &str) -> AttributeValue {
        AttributeValue::S(name.to_string())
    }
}

#[async_trait]
impl Checkpoints for DynamoCheckpoints {
    async fn read(&self, name: &str) -> Result<Option<String>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("name", Self::key(name))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| i.get("value")?.as_s().ok().cloned()))
    }

    async fn write(&self, name: &str, value: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("name", Self::key(name))
            .update_expression("SET #value = :v, updated_at = :t")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":v", AttributeValue::S(value.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(iso(Utc::now())))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn claim(
        &self,
        name: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("name", Self::key(name))
            .update_expression("SET claimed_at_epoch = :now")
            .condition_expression(
                "attribute_not_exists(done_at) AND (attribute_not_exists(claimed_at_epoch) OR claimed_at_epoch < :stale)",
            )
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(
                ":stale",
                AttributeValue::N((now - lease).timestamp().to_string()),
            )
            // The refusal carries the stored item, so done and held are told apart without a read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Taken),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failed) = e.into_err() else {
                    unreachable!()
                };
                let done = failed.item.is_some_and(|i| i.contains_key("done_at"));
                Ok(if done { Claim::Done } else { Claim::Held })
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn complete(&self, name: &str, note: &str, keep_until: DateTime<Utc>) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("name", Self::key(name))
            .update_expression(
                "SET done_at = :t, note = :n, expires_at_epoch = :x REMOVE claimed_at_epoch",
            )
            .expression_attribute_values(":t", AttributeValue::S(iso(Utc::now())))
            .expression_attribute_values(":n", AttributeValue::S(note.to_string()))
            .expression_attribute_values(
                ":x",
                AttributeValue::N(keep_until.timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn release(&self, name: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("name", Self::key(name))
            .update_expression("REMOVE claimed_at_epoch")
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }
}

/// Failed write-backs live in the same small table, as `writeback#<event id>` items holding the
/// event's JSON; resolved ones keep a `done_at` and expire.
const FAILED_PREFIX: &str = "writeback#";

#[async_trait]
impl FailedWritebacks for DynamoCheckpoints {
    async fn keep(&self, event: &AnswerEvent, error: &str, until: DateTime<Utc>) -> Result<()> {
        let content = serde_json::to_string(event)
            .map_err(|e| Error::permanent("writeback", e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(
                "name",
                Self::key(&format!("{FAILED_PREFIX}{}", event.event_id)),
            )
            .update_expression(
                "SET #value = :v, note = :n, updated_at = :t, expires_at_epoch = :x REMOVE done_at",
            )
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":v", AttributeValue::S(content))
            .expression_attribute_values(":n", AttributeValue::S(error.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(iso(Utc::now())))
            .expression_attribute_values(":x", AttributeValue::N(until.timestamp().to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    /// A filtered scan: the table holds a few items per poller, rollup period and failure.
    async fn pending(&self) -> Result<Vec<AnswerEvent>> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(#name, :p) AND attribute_not_exists(done_at)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":p", AttributeValue::S(FAILED_PREFIX.into()))
            .into_paginator()
            .send();
        let mut events = Vec::new();
        while let Some(page) = pages.next().await {
            for item in page.map_err(|e| aws_error("dynamodb", e))?.items() {
                let Some(value) = item.get("value").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                match serde_json::from_str(value) {
                    Ok(event) => events.push(event),
                    Err(e) => {
                        tracing::warn!(error = %e, "a kept write-back could not be read; left as it is")
                    }
                }
            }
        }
        Ok(events)
    }

    async fn resolved(&self, event_id: &str, note: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("name", Self::key(&format!("{FAILED_PREFIX}{event_id}")))
            .update_expression("SET done_at = :t, note = :n")
            .expression_attribute_values(":t", AttributeValue::S(iso(Utc::now())))
            .expression_attribute_values(":n", AttributeValue::S(note.to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }
}

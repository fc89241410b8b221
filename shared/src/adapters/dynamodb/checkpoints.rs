//! The checkpoints table: poller positions and once-only markers (a rollup posted), keyed by
//! `name`. Claims are conditional writes with a lease, so a crashed run frees itself.

use super::item::iso;
use crate::adapters::aws_error;
use crate::error::Result;
use crate::ports::{Checkpoints, Claim};
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

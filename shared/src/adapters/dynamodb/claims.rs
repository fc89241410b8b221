//! The claims table: one small item per alert and message (`<kind>#<alert id>`) guarding a send
//! that must happen once (see [`ClaimKind`]). Kept apart from the alert so that taking, marking
//! and giving back a claim costs one write unit and never rewrites the alert or its indexes.

use super::item::{conditional, iso};
use crate::adapters::aws_error;
use crate::core::alert::AlertId;
use crate::core::work::ClaimKind;
use crate::error::Result;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

/// How long a claim or sent mark is kept (TTL). Longer than anything can redeliver the send it
/// guards: the stream keeps records a day, the write-back dead-letter queue 14 days.
const KEEP: Duration = Duration::days(15);

pub struct DynamoClaims {
    client: Client,
    table: String,
}

impl DynamoClaims {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoClaims {
            client,
            table: table.into(),
        }
    }

    fn key(id: &AlertId, kind: ClaimKind) -> AttributeValue {
        AttributeValue::S(format!("{}#{}", kind.name(), id.as_str()))
    }

    fn update(
        &self,
        id: &AlertId,
        kind: ClaimKind,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("claim", Self::key(id, kind))
    }

    /// Taken unless sent already or held by a send whose lease has not lapsed.
    pub async fn claim(&self, id: &AlertId, kind: ClaimKind, now: DateTime<Utc>) -> Result<bool> {
        let result = self
            .update(id, kind)
            .update_expression(
                "SET alert_id = :id, claimed_at = :at, claimed_at_epoch = :now, expires_at_epoch = :x",
            )
            .condition_expression(
                "attribute_not_exists(sent_at) AND (attribute_not_exists(claimed_at_epoch) OR claimed_at_epoch < :stale)",
            )
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
            .expression_attribute_values(":at", AttributeValue::S(iso(now)))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(
                ":stale",
                AttributeValue::N((now - kind.lease()).timestamp().to_string()),
            )
            .expression_attribute_values(
                ":x",
                AttributeValue::N((now + KEEP).timestamp().to_string()),
            )
            .send()
            .await;
        conditional(result)
    }

    pub async fn mark_sent(&self, id: &AlertId, kind: ClaimKind, at: DateTime<Utc>) -> Result<()> {
        self.update(id, kind)
            .update_expression("SET sent_at = :at, expires_at_epoch = :x")
            .expression_attribute_values(":at", AttributeValue::S(iso(at)))
            .expression_attribute_values(
                ":x",
                AttributeValue::N((at + KEEP).timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    /// Only an existing claim is given back: a release never creates an item.
    pub async fn release(&self, id: &AlertId, kind: ClaimKind) -> Result<()> {
        let result = self
            .update(id, kind)
            .update_expression("REMOVE claimed_at, claimed_at_epoch")
            .condition_expression("attribute_exists(claimed_at_epoch)")
            .send()
            .await;
        conditional(result).map(|_| ())
    }
}

//! The people table, keyed by email (`user`): what the team has said about a person (never
//! contact), their cached chat id, and their second factor ([`second_factor`]: the sealed
//! seed, enrollment, the last accepted step, failed attempts). This module owns the table.

mod second_factor;

pub use second_factor::DynamoSecondFactor;

use super::item::{iso, scan_all};
use crate::adapters::aws_error;
use crate::error::Result;
use crate::ports::{ChatContact, Directory};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

pub struct DynamoDirectory {
    client: Client,
    table: String,
}

impl DynamoDirectory {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoDirectory {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl Directory for DynamoDirectory {
    async fn is_never_contact(&self, user: &str) -> Result<bool> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .projection_expression("never_contact")
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(matches!(
            out.item.as_ref().and_then(|i| i.get("never_contact")),
            Some(AttributeValue::Bool(true))
        ))
    }

    async fn set_never_contact(&self, user: &str, never: bool, by: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("SET never_contact = :n, never_contact_set_by = :b, updated_at = :t")
            .expression_attribute_values(":n", AttributeValue::Bool(never))
            .expression_attribute_values(":b", AttributeValue::S(by.to_string()))
            .expression_attribute_values(":t", AttributeValue::S(iso(chrono::Utc::now())))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn never_contact_list(&self) -> Result<Vec<String>> {
        let scan = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("never_contact = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true));
        let items = scan_all(scan).await?;
        let mut users: Vec<String> = items
            .iter()
            .filter_map(|i| i.get("user")?.as_s().ok().cloned())
            .collect();
        users.sort();
        Ok(users)
    }

    async fn cached_contact(&self, user: &str, now: DateTime<Utc>) -> Result<Option<ChatContact>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let until = item
            .get("chat_id_cached_until_epoch")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok());
        if until.is_none_or(|until| until <= now.timestamp()) {
            return Ok(None);
        }
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let Some(id) = text("chat_id") else {
            return Ok(None);
        };
        // A conversation remembered for an earlier id (the person was looked up again) is stale.
        let direct = text("direct_channel").filter(|_| text("direct_for").as_ref() == Some(&id));
        Ok(Some(ChatContact { id, direct }))
    }

    async fn remember_chat_id(
        &self,
        user: &str,
        chat_id: &str,
        until: DateTime<Utc>,
    ) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression(
                "SET chat_id = :c, chat_id_cached_until = :u, chat_id_cached_until_epoch = :ue",
            )
            .expression_attribute_values(":c", AttributeValue::S(chat_id.to_string()))
            .expression_attribute_values(":u", AttributeValue::S(iso(until)))
            .expression_attribute_values(":ue", AttributeValue::N(until.timestamp().to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn remember_direct(&self, user: &str, chat_id: &str, direct: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .update_expression("SET direct_channel = :d, direct_for = :c")
            .expression_attribute_values(":d", AttributeValue::S(direct.to_string()))
            .expression_attribute_values(":c", AttributeValue::S(chat_id.to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }
}

//! The people table, keyed by email (`user`): what the team has said about a person (never
//! contact), their cached chat id, and their second factor ([`second_factor`]: the sealed
//! seed, enrollment, the last accepted step, failed attempts). This module owns the table.

mod second_factor;

pub use second_factor::DynamoSecondFactor;

use super::item::{iso, scan_all};
use crate::adapters::aws_error;
use crate::error::Result;
use crate::ports::{ChatContact, Directory, Reach};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

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
        Ok(self.reach(user, now).await?.cached)
    }

    /// One read of the person for both answers.
    async fn reach(&self, user: &str, now: DateTime<Utc>) -> Result<Reach> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        let Some(item) = out.item else {
            return Ok(Reach {
                never_contact: false,
                cached: None,
            });
        };
        Ok(Reach {
            never_contact: matches!(item.get("never_contact"), Some(AttributeValue::Bool(true))),
            cached: cached_contact(&item, now),
        })
    }

    async fn remember_contact(
        &self,
        user: &str,
        contact: &ChatContact,
        until: DateTime<Utc>,
    ) -> Result<()> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", AttributeValue::S(user.to_string()))
            .expression_attribute_values(":c", AttributeValue::S(contact.id.clone()))
            .expression_attribute_values(":u", AttributeValue::S(iso(until)))
            .expression_attribute_values(":ue", AttributeValue::N(until.timestamp().to_string()));
        let mut expression =
            "SET chat_id = :c, chat_id_cached_until = :u, chat_id_cached_until_epoch = :ue"
                .to_string();
        match &contact.direct {
            Some(direct) => {
                expression.push_str(", direct_channel = :d, direct_for = :c");
                update =
                    update.expression_attribute_values(":d", AttributeValue::S(direct.clone()));
            }
            // A conversation remembered for another id must not outlive it.
            None => expression.push_str(" REMOVE direct_channel, direct_for"),
        }
        update
            .update_expression(expression)
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

/// The cached contact in a person's item, if the cache has not expired.
fn cached_contact(
    item: &HashMap<String, AttributeValue>,
    now: DateTime<Utc>,
) -> Option<ChatContact> {
    let until = item
        .get("chat_id_cached_until_epoch")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok());
    if until.is_none_or(|until| until <= now.timestamp()) {
        return None;
    }
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let id = text("chat_id")?;
    // A conversation remembered for an earlier id (the person was looked up again) is stale.
    let direct = text("direct_channel").filter(|_| text("direct_for").as_ref() == Some(&id));
    Some(ChatContact { id, direct })
}

//! The people table: what the team has said about a person (never contact), keyed by email.
//! Later issues add the chat id cache and second-factor enrollment here.

use super::item::iso;
use crate::adapters::aws_error;
use crate::error::Result;
use crate::ports::Directory;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

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
}

//! The snoozes table: one item per scope (person + rule + scoped context), keyed by its hash.
//! `expires_at_epoch` is the TTL attribute; reads check it too, since TTL deletion lags.

use super::item::{ItemBuilder, ItemReader, scan_all};
use crate::adapters::aws_error;
use crate::core::alert::AlertId;
use crate::core::snooze::{Snooze, SnoozeScope};
use crate::error::Result;
use crate::ports::SnoozeStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

pub struct DynamoSnoozes {
    client: Client,
    table: String,
}

impl DynamoSnoozes {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoSnoozes {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl SnoozeStore for DynamoSnoozes {
    async fn find(&self, key: &str) -> Result<Option<Snooze>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("snooze_key", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        out.item.as_ref().map(from_item).transpose()
    }

    async fn put(&self, snooze: &Snooze) -> Result<()> {
        let item = ItemBuilder::default()
            .s("snooze_key", snooze.scope.key())
            .s("user", &snooze.scope.user)
            .s("rule", &snooze.scope.rule)
            .map("scope", &snooze.scope.context)
            .s("confirmed_alert_id", snooze.confirmed_alert.as_str())
            .time("created_at", snooze.created_at)
            .time("expires_at", snooze.expires_at)
            .build();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn list(&self) -> Result<Vec<Snooze>> {
        let items = scan_all(self.client.scan().table_name(&self.table)).await?;
        items.iter().map(from_item).collect()
    }

    async fn remove(&self, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("snooze_key", AttributeValue::S(key.to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }
}

fn from_item(item: &std::collections::HashMap<String, AttributeValue>) -> Result<Snooze> {
    let r = ItemReader {
        item,
        table: "snoozes",
    };
    Ok(Snooze {
        scope: SnoozeScope {
            user: r.s("user")?,
            rule: r.s("rule")?,
            context: r.map("scope"),
        },
        confirmed_alert: AlertId::from_stored(r.s("confirmed_alert_id")?),
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
    })
}

//! The alerts table: one item per alert, keyed by `alert_id`.

use super::item::{ItemBuilder, ItemReader, iso};
use crate::adapters::aws_error;
use crate::core::alert::{Alert, AlertId};
use crate::core::record::AlertRecord;
use crate::core::state::{AuditEntry, EscalationReason};
use crate::error::{Error, Result};
use crate::ports::{AlertStore, Inserted};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

const TABLE: &str = "alerts";

pub struct DynamoAlerts {
    client: Client,
    table: String,
}

impl DynamoAlerts {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoAlerts {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl AlertStore for DynamoAlerts {
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(alert_id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Inserted::Created),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                let PutItemError::ConditionalCheckFailedException(failed) = e.into_err() else {
                    unreachable!()
                };
                let old = failed.item.ok_or_else(|| {
                    Error::permanent("dynamodb", "conditional put failed without the stored item")
                })?;
                Ok(Inserted::AlreadyStored(Box::new(from_item(&old)?)))
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn mark_queued(
        &self,
        id: &AlertId,
        at: DateTime<Utc>,
        recheck_at: DateTime<Utc>,
    ) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("alert_id", AttributeValue::S(id.to_string()))
            .update_expression("SET queued_at = :q, due_at = :d, due_at_epoch = :de")
            .condition_expression("attribute_exists(alert_id)")
            .expression_attribute_values(":q", AttributeValue::S(iso(at)))
            .expression_attribute_values(":d", AttributeValue::S(iso(recheck_at)))
            .expression_attribute_values(
                ":de",
                AttributeValue::N(recheck_at.timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn get(&self, id: &AlertId) -> Result<Option<AlertRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("alert_id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        out.item.as_ref().map(from_item).transpose()
    }
}

pub fn to_item(r: &AlertRecord) -> HashMap<String, AttributeValue> {
    let a = &r.alert;
    let history = r
        .history
        .iter()
        .map(|h| {
            ItemBuilder::default()
                .s("at", iso(h.at))
                .s("actor", &h.actor)
                .s("status", h.status.as_str())
                .s("note", &h.note)
                .build()
        })
        .collect();
    ItemBuilder::default()
        .s("alert_id", r.id.as_str())
        .s("status", r.status.as_str())
        .s("source", &a.source)
        .opt_s("source_id", a.source_id.as_deref())
        .s("rule", &a.rule)
        .opt_s("source_user", a.user.as_deref())
        .opt_s("user", r.user.as_deref())
        .s("title", &a.title)
        .s("description", &a.description)
        .s("severity", a.severity.as_str())
        .time("occurred_at", a.occurred_at)
        .map("context", &a.context)
        .opt_s("link", a.link.as_deref())
        .opt_s(
            "escalation_reason",
            r.escalation_reason.map(EscalationReason::as_str),
        )
        .opt_s("snoozed_by", r.snoozed_by.as_ref().map(AlertId::as_str))
        .time("received_at", r.received_at)
        .opt_time("due_at", r.due_at)
        .time("expires_at", r.expires_at)
        .s("raw", &r.raw)
        .s("received_via", &r.received_via)
        .opt_time("queued_at", r.queued_at)
        .list("history", history)
        .build()
}

pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<AlertRecord> {
    let r = ItemReader { item, table: TABLE };
    let reason = r
        .opt_s("escalation_reason")
        .map(|s| serde_json::from_value::<EscalationReason>(serde_json::Value::String(s)));
    let history = r
        .list("history")
        .into_iter()
        .map(|h| {
            let h = ItemReader {
                item: h,
                table: TABLE,
            };
            Ok(AuditEntry {
                at: h.time("at")?,
                actor: h.s("actor")?,
                status: h.parsed("status")?,
                note: h.s("note")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AlertRecord {
        id: AlertId::from_stored(r.s("alert_id")?),
        alert: Alert {
            source: r.s("source")?,
            source_id: r.opt_s("source_id"),
            rule: r.s("rule")?,
            user: r.opt_s("source_user"),
            title: r.s("title")?,
            description: r.opt_s("description").unwrap_or_default(),
            severity: r.parsed("severity")?,
            occurred_at: r.time("occurred_at")?,
            context: r.map("context"),
            link: r.opt_s("link"),
        },
        user: r.opt_s("user"),
        status: r.parsed("status")?,
        escalation_reason: reason.transpose().map_err(|_| {
            Error::permanent(
                "dynamodb",
                "alerts item attribute 'escalation_reason' has an unknown value",
            )
        })?,
        snoozed_by: r.opt_s("snoozed_by").map(AlertId::from_stored),
        received_at: r.time("received_at")?,
        due_at: r.opt_time("due_at")?,
        expires_at: r.time("expires_at")?,
        raw: r.opt_s("raw").unwrap_or_default(),
        received_via: r.opt_s("received_via").unwrap_or_default(),
        queued_at: r.opt_time("queued_at")?,
        history,
    })
}

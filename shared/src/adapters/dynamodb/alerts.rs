//! The alerts table: one item per alert, keyed by `alert_id`.

use super::claims::DynamoClaims;
use super::item::{ItemBuilder, ItemReader, batch_get, conditional, iso};
use crate::adapters::aws_error;
use crate::core::alert::{Alert, AlertId};
use crate::core::record::{AlertRecord, ChatRef, PushSent};
use crate::core::rollup::{Counter, Tally};
use crate::core::state::Status;
use crate::core::state::{AuditEntry, EscalationReason};
use crate::core::transition::Transition;
use crate::core::work::ClaimKind;
use crate::error::{Error, Result};
use crate::ports::AlertSummary;
use crate::ports::{AlertStore, Inserted};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

const TABLE: &str = "alerts";
/// The one partition of the sparse `by_awaiting_team` index (escalations are few).
const AWAITING: &str = "escalated";

pub struct DynamoAlerts {
    client: Client,
    table: String,
    /// Where raw payloads go (the functions that admit alerts); never into the alert's item,
    /// which is copied to the indexes, the stream and the backups.
    payloads: Option<String>,
    /// Where sends are claimed (the functions that send once: notifier, write-back).
    claims: Option<DynamoClaims>,
}

impl DynamoAlerts {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoAlerts {
            client,
            table: table.into(),
            payloads: None,
            claims: None,
        }
    }

    pub fn claiming_in(mut self, table: Option<String>) -> Self {
        self.claims = table.map(|t| DynamoClaims::new(self.client.clone(), t));
        self
    }

    fn claims(&self) -> Result<&DynamoClaims> {
        self.claims
            .as_ref()
            .ok_or_else(|| Error::permanent("config", "CLAIMS_TABLE is not set for this function"))
    }

    pub fn keeping_payloads_in(mut self, table: Option<String>) -> Self {
        self.payloads = table;
        self
    }

    /// Keeps an alert's raw payload, before its item is written (so no stored alert lacks
    /// one). The first payload stays: a redelivery's copy of the same alert is not kept.
    async fn keep_payload(&self, record: &AlertRecord) -> Result<()> {
        let Some(table) = &self.payloads else {
            tracing::debug!(alert_id = %record.id, "no payloads table here: raw payload not kept");
            return Ok(());
        };
        if record.raw.is_empty() {
            return Ok(());
        }
        let item = ItemBuilder::default()
            .s("alert_id", record.id.as_str())
            .s("raw", &record.raw)
            .time("received_at", record.received_at)
            .time("expires_at", record.expires_at)
            .build();
        let result = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(alert_id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    /// An UpdateItem on one alert.
    fn update(&self, id: &AlertId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("alert_id", AttributeValue::S(id.to_string()))
    }

    /// A Query on one of the table's indexes.
    fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }
}

#[async_trait]
impl AlertStore for DynamoAlerts {
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted> {
        self.keep_payload(record).await?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(within_item_limit(record)?))
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
        self.update(id)
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

    async fn transition(&self, id: &AlertId, t: &Transition) -> Result<Option<AlertRecord>> {
        let (sets, removes) = transition_fields(t);
        let mut values: HashMap<String, AttributeValue> = HashMap::new();
        let mut clauses = vec![
            "#status = :to".to_string(),
            "history = list_append(if_not_exists(history, :empty), :audit)".to_string(),
        ];
        values.insert(":to".into(), AttributeValue::S(t.to.as_str().into()));
        values.insert(":empty".into(), AttributeValue::L(vec![]));
        values.insert(
            ":audit".into(),
            AttributeValue::L(vec![AttributeValue::M(audit_item(&t.audit))]),
        );
        for (name, value) in sets {
            clauses.push(format!("{name} = :{name}"));
            values.insert(format!(":{name}"), value);
        }
        let mut expression = format!("SET {}", clauses.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let mut from = Vec::new();
        for (i, status) in t.from.iter().enumerate() {
            from.push(format!(":from{i}"));
            values.insert(
                format!(":from{i}"),
                AttributeValue::S(status.as_str().into()),
            );
        }
        let result = self
            .update(id)
            .update_expression(expression)
            .condition_expression(format!("#status IN ({})", from.join(", ")))
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.as_ref().map(from_item).transpose(),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn claim(&self, id: &AlertId, kind: ClaimKind, now: DateTime<Utc>) -> Result<bool> {
        self.claims()?.claim(id, kind, now).await
    }

    async fn mark_sent(&self, id: &AlertId, kind: ClaimKind, at: DateTime<Utc>) -> Result<()> {
        self.claims()?.mark_sent(id, kind, at).await
    }

    async fn release(&self, id: &AlertId, kind: ClaimKind) -> Result<()> {
        self.claims()?.release(id, kind).await
    }

    async fn set_escalation_message(&self, id: &AlertId, m: &ChatRef) -> Result<bool> {
        let result = self
            .update(id)
            // Recorded: the post is no longer owed, nothing more is due.
            .update_expression(
                "SET escalation_channel = :c, escalation_ts = :t REMOVE due_at, due_at_epoch",
            )
            .condition_expression(
                "attribute_exists(alert_id) AND attribute_not_exists(escalation_ts)",
            )
            .expression_attribute_values(":c", AttributeValue::S(m.channel.clone()))
            .expression_attribute_values(":t", AttributeValue::S(m.ts.clone()))
            .send()
            .await;
        conditional(result)
    }

    async fn recent_for(&self, user: &str, limit: usize) -> Result<Vec<AlertSummary>> {
        let out = self
            .query()
            .index_name(super::INDEX_BY_USER)
            .key_condition_expression("#user = :u")
            .expression_attribute_names("#user", "user")
            .expression_attribute_values(":u", AttributeValue::S(user.to_string()))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        out.items()
            .iter()
            .map(|item| {
                let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                let at = item
                    .get("received_at_epoch")
                    .and_then(|v| v.as_n().ok()?.parse::<i64>().ok())
                    .and_then(|t| DateTime::from_timestamp(t, 0))
                    .unwrap_or_default();
                Ok(AlertSummary {
                    id: AlertId::from_stored(s("alert_id").unwrap_or_default()),
                    status: s("status")
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e: String| Error::permanent("dynamodb", e))?,
                    rule: s("rule").unwrap_or_default(),
                    title: s("title").unwrap_or_default(),
                    received_at: at,
                })
            })
            .collect()
    }

    async fn replace_escalation_message(
        &self,
        id: &AlertId,
        m: &ChatRef,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let result = self
            .update(id)
            .update_expression(
                "SET escalation_channel = :c, escalation_ts = :t, history = list_append(if_not_exists(history, :empty), :audit)",
            )
            .condition_expression("attribute_exists(alert_id)")
            .expression_attribute_values(":c", AttributeValue::S(m.channel.clone()))
            .expression_attribute_values(":t", AttributeValue::S(m.ts.clone()))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(
                ":audit",
                AttributeValue::L(vec![AttributeValue::M(audit_item(audit))]),
            )
            .send()
            .await;
        conditional(result)
    }

    async fn note_failure(&self, id: &AlertId) -> Result<u32> {
        let out = self
            .update(id)
            .update_expression("ADD sweep_failures :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(out
            .attributes
            .as_ref()
            .and_then(|a| a.get("sweep_failures")?.as_n().ok()?.parse().ok())
            .unwrap_or(1))
    }

    async fn quarantine(&self, id: &AlertId) -> Result<()> {
        self.update(id)
            .update_expression("SET quarantined_at = :t REMOVE due_at, due_at_epoch")
            .expression_attribute_values(":t", AttributeValue::S(iso(chrono::Utc::now())))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    async fn record_push(&self, id: &AlertId, push: &PushSent) -> Result<bool> {
        let result = self
            .update(id)
            .update_expression("SET push_id = :id, push_at = :at")
            .condition_expression("#status = :awaiting AND attribute_not_exists(push_id)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", AttributeValue::S(push.id.clone()))
            .expression_attribute_values(":at", AttributeValue::S(iso(push.at)))
            .expression_attribute_values(
                ":awaiting",
                AttributeValue::S(Status::AwaitingPush.as_str().into()),
            )
            .send()
            .await;
        conditional(result)
    }

    async fn reserve_code_attempt(&self, id: &AlertId, max: u32) -> Result<Option<u32>> {
        let result = self
            .update(id)
            .update_expression("ADD code_attempts :one")
            .condition_expression(
                "attribute_exists(alert_id) AND (attribute_not_exists(code_attempts) OR code_attempts < :max)",
            )
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(max.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let count = out
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("code_attempts"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok());
                Ok(Some(count.unwrap_or(1)))
            }
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("dynamodb", e)),
        }
    }

    async fn due(&self, status: Status, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertId>> {
        let mut ids = Vec::new();
        let mut pages = self
            .query()
            .index_name(super::INDEX_BY_STATUS_DUE)
            .key_condition_expression("#status = :s AND due_at_epoch <= :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", AttributeValue::S(status.as_str().into()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb", e))?;
            ids.extend(
                page.items()
                    .iter()
                    .filter_map(|i| i.get("alert_id")?.as_s().ok())
                    .map(AlertId::from_stored),
            );
            if ids.len() >= limit {
                ids.truncate(limit);
                break;
            }
        }
        Ok(ids)
    }

    async fn open_asks(&self, user: &str, since: DateTime<Utc>) -> Result<usize> {
        let open = Status::WAITING_FOR_PERSON;
        let mut pages = self
            .query()
            .index_name(super::INDEX_BY_USER)
            .key_condition_expression("#user = :u AND received_at_epoch >= :since")
            .expression_attribute_values(":since", AttributeValue::N(since.timestamp().to_string()))
            .filter_expression("#status IN (:a, :b, :c)")
            .expression_attribute_names("#user", "user")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":u", AttributeValue::S(user.to_string()))
            .expression_attribute_values(":a", AttributeValue::S(open[0].as_str().into()))
            .expression_attribute_values(":b", AttributeValue::S(open[1].as_str().into()))
            .expression_attribute_values(":c", AttributeValue::S(open[2].as_str().into()))
            .into_paginator()
            .send();
        let mut count = 0;
        while let Some(page) = pages.next().await {
            count += page.map_err(|e| aws_error("dynamodb", e))?.count() as usize;
        }
        Ok(count)
    }

    async fn count_received(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Tally> {
        let mut counter = Counter::default();
        let mut day = start.date_naive();
        while day <= end.date_naive() {
            let query = self
                .query()
                .index_name(super::INDEX_RECEIVED_BY_DAY)
                .key_condition_expression(
                    "received_day = :d AND received_at_epoch BETWEEN :a AND :b",
                )
                .expression_attribute_values(
                    ":d",
                    AttributeValue::S(day.format("%Y-%m-%d").to_string()),
                )
                .expression_attribute_values(":a", AttributeValue::N(start.timestamp().to_string()))
                // The period's end is exclusive; epochs are whole seconds.
                .expression_attribute_values(
                    ":b",
                    AttributeValue::N((end.timestamp() - 1).to_string()),
                );
            // Page by page: the index lists keys only; each page's alerts are read and counted
            // before the next page, so a busy day is never held at once.
            let mut pages = query.into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| aws_error("dynamodb", e))?;
                let keys: Vec<_> = page
                    .items()
                    .iter()
                    .filter_map(|i| Some(("alert_id", i.get("alert_id")?.clone())))
                    .map(|(k, v)| HashMap::from([(k.to_string(), v)]))
                    .collect();
                for item in batch_get(&self.client, &self.table, keys).await? {
                    counter.add(&from_item(&item)?);
                }
            }
            day = day.succ_opt().expect("in range");
        }
        Ok(counter.finish())
    }

    async fn awaiting_team(&self) -> Result<Vec<AlertRecord>> {
        let query = self
            .query()
            .index_name(super::INDEX_BY_AWAITING_TEAM)
            .key_condition_expression("awaiting_team = :a")
            .expression_attribute_values(":a", AttributeValue::S(AWAITING.into()));
        all_records(query).await
    }
}

/// Every record a query finds, page after page.
async fn all_records(query: QueryFluentBuilder) -> Result<Vec<AlertRecord>> {
    let items: Vec<_> = query
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<_, _>>()
        .await
        .map_err(|e| aws_error("dynamodb", e))?;
    items.iter().map(from_item).collect()
}

pub fn to_item(r: &AlertRecord) -> HashMap<String, AttributeValue> {
    let a = &r.alert;
    let history = r.history.iter().map(audit_item).collect();
    let item = ItemBuilder::default()
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
        .opt_s("escalation_detail", r.escalation_detail.as_deref())
        .opt_s("snoozed_by", r.snoozed_by.as_ref().map(AlertId::as_str))
        .time("received_at", r.received_at)
        // The rollups' index: one partition per UTC day, sorted by time.
        .s("received_day", r.received_at.format("%Y-%m-%d").to_string())
        .opt_time("due_at", r.due_at)
        .opt_time("deadline_at", r.deadline_at)
        .time("expires_at", r.expires_at)
        .s("received_via", &r.received_via)
        .opt_time("queued_at", r.queued_at)
        .list("history", history);
    let mut item = conversation_fields(
        item,
        r.chat_user.as_deref(),
        r.ask_message.as_ref(),
        r.escalation_message.as_ref(),
        r.explanation.as_deref(),
    )
    .opt_s("push_id", r.push.as_ref().map(|p| p.id.as_str()))
    .opt_s("push_at", r.push.as_ref().map(|p| iso(p.at)))
    .opt_n("snooze_minutes", r.snooze_minutes)
    .build();
    // As a transition to escalated would set them (see `transition`).
    let since = r
        .history
        .iter()
        .rev()
        .find(|h| h.status == r.status)
        .map_or(r.received_at, |h| h.at);
    if let Some(fields) = awaiting_team(r.status, since) {
        item.extend(fields.map(|(name, value)| (name.to_string(), value)));
    }
    item
}

/// DynamoDB refuses items over 400 KB; leave room for the conversation's later writes.
const MAX_ITEM_BYTES: usize = 360 * 1024;

/// The item for a new record; refused (permanently: a retry cannot shrink it) when over the
/// limit. The alert's fields are bounded and `raw` is kept in the payloads table, so an alert
/// within the documented field limits always fits (tested).
fn within_item_limit(record: &AlertRecord) -> Result<HashMap<String, AttributeValue>> {
    let item = to_item(record);
    let size = item_size(&item);
    if size > MAX_ITEM_BYTES {
        return Err(Error::Invalid(format!(
            "alert {} is too large to store ({size} bytes)",
            record.id
        )));
    }
    Ok(item)
}

/// An item's size as DynamoDB counts it, closely enough: names and values in UTF-8 bytes,
/// a few bytes per list or map element.
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::L(items) => 3 + items.iter().map(|i| 1 + value(i)).sum::<usize>(),
            AttributeValue::M(map) => 3 + item_size(map),
            _ => 8,
        }
    }
    item.iter().map(|(name, v)| name.len() + value(v)).sum()
}

/// What a transition sets besides the status and history, and what it removes.
fn transition_fields(t: &Transition) -> (HashMap<String, AttributeValue>, Vec<&'static str>) {
    let c = &t.changes;
    let mut removes = Vec::new();
    let sets = ItemBuilder::default()
        .opt_time("deadline_at", c.deadline_at)
        .opt_s(
            "escalation_reason",
            c.escalation_reason.map(EscalationReason::as_str),
        )
        .opt_s("escalation_detail", c.escalation_detail.as_deref());
    let mut sets = conversation_fields(
        sets,
        c.chat_user.as_deref(),
        c.ask_message.as_ref(),
        c.escalation_message.as_ref(),
        c.explanation.as_deref(),
    );
    sets = sets.opt_n("snooze_minutes", c.snooze_minutes);
    if c.clear_push {
        removes.extend(["push_id", "push_at"]);
    }
    match c.due_at {
        Some(Some(at)) => sets = sets.time("due_at", at),
        Some(None) => removes.extend(["due_at", "due_at_epoch"]),
        None => {}
    }
    let mut sets = sets.build();
    // The sparse index of escalations waiting for the team follows the status.
    match awaiting_team(t.to, t.audit.at) {
        Some(fields) => sets.extend(fields.map(|(name, value)| (name.to_string(), value))),
        None => removes.extend(AWAITING_TEAM_FIELDS),
    }
    (sets, removes)
}

/// What the conversation fills in: who was asked, where the question and the team post are,
/// and what the person wrote. A new item and a transition store them alike.
fn conversation_fields(
    item: ItemBuilder,
    chat_user: Option<&str>,
    ask: Option<&ChatRef>,
    escalation: Option<&ChatRef>,
    explanation: Option<&str>,
) -> ItemBuilder {
    item.opt_s("chat_user", chat_user)
        .opt_s("ask_channel", ask.map(|m| m.channel.as_str()))
        .opt_s("ask_ts", ask.map(|m| m.ts.as_str()))
        .opt_s("escalation_channel", escalation.map(|m| m.channel.as_str()))
        .opt_s("escalation_ts", escalation.map(|m| m.ts.as_str()))
        .opt_s("explanation", explanation)
}

/// One line of the audit trail, as stored in `history`.
fn audit_item(h: &AuditEntry) -> HashMap<String, AttributeValue> {
    ItemBuilder::default()
        .s("at", iso(h.at))
        .s("actor", &h.actor)
        .s("status", h.status.as_str())
        .s("note", &h.note)
        .build()
}

const AWAITING_TEAM_FIELDS: [&str; 2] = ["awaiting_team", "awaiting_team_since_epoch"];

/// The sparse `by_awaiting_team` index holds an alert while it waits for the team
/// ([`Status::is_waiting_for_team`]), since it got there: its fields for `status`, or `None`
/// when they must be absent.
fn awaiting_team(
    status: Status,
    since: DateTime<Utc>,
) -> Option<[(&'static str, AttributeValue); 2]> {
    status.is_waiting_for_team().then(|| {
        [
            (AWAITING_TEAM_FIELDS[0], AttributeValue::S(AWAITING.into())),
            (
                AWAITING_TEAM_FIELDS[1],
                AttributeValue::N(since.timestamp().to_string()),
            ),
        ]
    })
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
            // Part of the id, which is stored; received_via names the key.
            sender: None,
        },
        user: r.opt_s("user"),
        status: r.parsed("status")?,
        escalation_reason: reason.transpose().map_err(|_| {
            Error::permanent(
                "dynamodb",
                "alerts item attribute 'escalation_reason' has an unknown value",
            )
        })?,
        escalation_detail: r.opt_s("escalation_detail"),
        snoozed_by: r.opt_s("snoozed_by").map(AlertId::from_stored),
        received_at: r.time("received_at")?,
        due_at: r.opt_time("due_at")?,
        deadline_at: r.opt_time("deadline_at")?,
        expires_at: r.time("expires_at")?,
        raw: r.opt_s("raw").unwrap_or_default(),
        received_via: r.opt_s("received_via").unwrap_or_default(),
        queued_at: r.opt_time("queued_at")?,
        history,
        chat_user: r.opt_s("chat_user"),
        ask_message: chat_ref(&r, "ask"),
        escalation_message: chat_ref(&r, "escalation"),
        explanation: r.opt_s("explanation"),
        code_attempts: r.number("code_attempts").unwrap_or(0) as u32,
        snooze_minutes: r.number("snooze_minutes").map(|n| n as u32),
        push: match (r.opt_s("push_id"), r.opt_s("push_at")) {
            (Some(id), Some(_)) => Some(PushSent {
                id,
                at: r.time("push_at")?,
            }),
            _ => None,
        },
    })
}

fn chat_ref(r: &ItemReader<'_>, prefix: &str) -> Option<ChatRef> {
    Some(ChatRef {
        channel: r.opt_s(&format!("{prefix}_channel"))?,
        ts: r.opt_s(&format!("{prefix}_ts"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::text::*;

    #[test]
    fn an_alert_at_every_field_limit_still_fits_in_one_item() {
        let mut record = crate::core::messages::tests::record();
        let wide = "\u{1F600}".repeat(MAX_CONTEXT_VALUE); // four bytes a character
        record.alert.context = (0..MAX_CONTEXT_ENTRIES)
            .map(|i| {
                (
                    format!("{i:0>width$}", width = MAX_CONTEXT_KEY),
                    wide.clone(),
                )
            })
            .collect();
        record.alert.description = "\u{1F600}".repeat(MAX_DESCRIPTION);
        record.explanation = Some("\u{1F600}".repeat(MAX_CONTEXT_VALUE));
        record.raw = "r".repeat(3 * MAX_RAW_BYTES);
        let item = within_item_limit(&record).unwrap();
        assert!(item_size(&item) <= MAX_ITEM_BYTES);
        assert!(
            !item.contains_key("raw"),
            "raw is kept in the payloads table only, never in the alert's item"
        );
    }
}

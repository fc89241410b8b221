//! Reading and writing DynamoDB attribute maps without ceremony.

use crate::error::{Error, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

pub type Item = HashMap<String, AttributeValue>;

/// Every item a scan returns, following its pages (admin look-ups on small tables only).
pub async fn scan_all(
    scan: aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder,
) -> Result<Vec<Item>> {
    scan.into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<_, _>>()
        .await
        .map_err(|e| crate::adapters::aws_error("dynamodb", e))
}

/// Builds an item attribute by attribute; `None`s are left out (GSI keys must not be empty).
#[derive(Default)]
pub struct ItemBuilder(Item);

impl ItemBuilder {
    pub fn s(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0
            .insert(name.to_string(), AttributeValue::S(value.into()));
        self
    }

    pub fn opt_s(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.s(name, v),
            None => self,
        }
    }

    pub fn opt_n(mut self, name: &str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.0
                .insert(name.to_string(), AttributeValue::N(v.to_string()));
        }
        self
    }

    /// A time as `name` (ISO-8601) and `name_epoch` (seconds).
    pub fn time(mut self, name: &str, at: DateTime<Utc>) -> Self {
        self.0.insert(name.to_string(), AttributeValue::S(iso(at)));
        self.0.insert(
            format!("{name}_epoch"),
            AttributeValue::N(at.timestamp().to_string()),
        );
        self
    }

    pub fn opt_time(self, name: &str, at: Option<DateTime<Utc>>) -> Self {
        match at {
            Some(at) => self.time(name, at),
            None => self,
        }
    }

    pub fn map(mut self, name: &str, values: &BTreeMap<String, String>) -> Self {
        let map = values
            .iter()
            .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone())))
            .collect();
        self.0.insert(name.to_string(), AttributeValue::M(map));
        self
    }

    pub fn list(mut self, name: &str, items: Vec<Item>) -> Self {
        self.0.insert(
            name.to_string(),
            AttributeValue::L(items.into_iter().map(AttributeValue::M).collect()),
        );
        self
    }

    pub fn build(self) -> Item {
        self.0
    }
}

pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads attributes, failing with the attribute's name when the item is not what we wrote.
pub struct ItemReader<'a> {
    pub item: &'a Item,
    pub table: &'static str,
}

impl ItemReader<'_> {
    fn corrupt(&self, name: &str, what: &str) -> Error {
        Error::permanent(
            "dynamodb",
            format!("{} item attribute '{name}' {what}", self.table),
        )
    }

    pub fn opt_s(&self, name: &str) -> Option<String> {
        self.item.get(name).and_then(|v| v.as_s().ok()).cloned()
    }

    pub fn s(&self, name: &str) -> Result<String> {
        self.opt_s(name)
            .ok_or_else(|| self.corrupt(name, "is missing or not a string"))
    }

    pub fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        self.opt_s(name)
            .map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| self.corrupt(name, "is not an ISO-8601 time"))
            })
            .transpose()
    }

    pub fn time(&self, name: &str) -> Result<DateTime<Utc>> {
        self.opt_time(name)?
            .ok_or_else(|| self.corrupt(name, "is missing"))
    }

    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        match self.item.get(name) {
            Some(AttributeValue::M(m)) => m
                .iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    pub fn list(&self, name: &str) -> Vec<&Item> {
        match self.item.get(name) {
            Some(AttributeValue::L(items)) => items.iter().filter_map(|v| v.as_m().ok()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn number(&self, name: &str) -> Option<i64> {
        self.item
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
    }

    pub fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        self.s(name)?
            .parse()
            .map_err(|_| self.corrupt(name, "has an unknown value"))
    }
}

/// A conditional update's outcome: true if it happened, false if its condition did not hold.
pub fn conditional<T>(
    result: std::result::Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool> {
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e))
            if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
        {
            Ok(false)
        }
        Err(e) => Err(crate::adapters::aws_error("dynamodb", e)),
    }
}

/// Every item of `keys` (in no particular order), read 100 at a time (BatchGetItem's limit),
/// asking again for the keys DynamoDB leaves unprocessed when it is busy, with a short backoff.
/// Keys without an item (expired meanwhile) are skipped.
pub async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<Vec<Item>> {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    const MAX: usize = 100;
    const ATTEMPTS: u32 = 8;
    let mut items = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX) {
        let mut pending = chunk.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                let backoff = 50u64 << attempt.min(5);
                tokio::time::sleep(std::time::Duration::from_millis(backoff)).await;
            }
            if attempt == ATTEMPTS {
                return Err(Error::transient(
                    "dynamodb",
                    format!(
                        "{} keys still unprocessed after {ATTEMPTS} attempts",
                        pending.len()
                    ),
                ));
            }
            attempt += 1;
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .build()
                .map_err(|e| Error::permanent("dynamodb", e.to_string()))?;
            let out = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| crate::adapters::aws_error("dynamodb", e))?;
            if let Some(mut found) = out.responses {
                items.extend(found.remove(table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
    }
    Ok(items)
}

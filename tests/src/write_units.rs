//! DynamoDB write units, counted from the requests the adapters make (as the fault proxy saw
//! them), priced as on-demand DynamoDB prices them: one unit per started KB of the item
//! written, twice that in a transaction, and again for every global secondary index the write
//! changes, by the size of what that index projects (twice when the index key itself changes:
//! DynamoDB deletes the old index entry and puts the new one).
//!
//! moto answers `ConsumedCapacity` with a constant, so the sizes come from the items: a put's
//! from its request, an update's from the item as it stands after the step (DynamoDB charges
//! the larger of before and after; an item that only grows during a step is the same).
//! Deletes count one unit (what they remove is gone). Conditional writes that fail cost the
//! same as ones that succeed, as in DynamoDB.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ProjectionType};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone)]
enum Projection {
    All,
    KeysOnly,
    Include(BTreeSet<String>),
}

#[derive(Debug, Clone)]
struct Index {
    name: String,
    keys: Vec<String>,
    projection: Projection,
}

#[derive(Debug, Clone)]
struct Table {
    keys: Vec<String>,
    indexes: Vec<Index>,
}

/// Units of one step, by table (or `table/index`) and operation.
#[derive(Debug, Default, Clone)]
pub struct Units {
    pub by_target: BTreeMap<String, f64>,
    pub by_operation: BTreeMap<String, f64>,
    pub requests: usize,
    /// Each write, described (operation, table, what it set), with its units.
    pub writes: Vec<(String, f64)>,
    /// Read units, roughly: a strongly consistent read of one item is 1, an eventually
    /// consistent one (every index query) 0.5; items and pages here are far under 4 KB.
    pub read_units: f64,
}

impl Units {
    pub fn total(&self) -> f64 {
        self.by_target.values().sum()
    }

    /// Units spent on global secondary indexes.
    pub fn indexes(&self) -> f64 {
        self.by_target
            .iter()
            .filter(|(k, _)| k.contains('/'))
            .map(|(_, v)| v)
            .sum()
    }

    fn add(&mut self, target: String, operation: &str, units: f64) {
        *self.by_target.entry(target).or_default() += units;
        *self.by_operation.entry(operation.to_string()).or_default() += units;
    }
}

pub struct Meter {
    tables: HashMap<String, Table>,
}

impl Meter {
    /// Reads the key schema and indexes of `tables` (as deployed on moto).
    pub async fn of(dynamodb: &Client, tables: &[String]) -> Meter {
        let mut shapes = HashMap::new();
        for name in tables {
            let described = dynamodb
                .describe_table()
                .table_name(name)
                .send()
                .await
                .unwrap();
            let table = described.table.unwrap();
            let keys = table
                .key_schema()
                .iter()
                .map(|k| k.attribute_name().to_string())
                .collect();
            let indexes = table
                .global_secondary_indexes()
                .iter()
                .map(|i| {
                    let projection = i.projection().unwrap();
                    Index {
                        name: i.index_name().unwrap().to_string(),
                        keys: i
                            .key_schema()
                            .iter()
                            .map(|k| k.attribute_name().to_string())
                            .collect(),
                        projection: match projection.projection_type() {
                            Some(ProjectionType::KeysOnly) => Projection::KeysOnly,
                            Some(ProjectionType::Include) => Projection::Include(
                                projection.non_key_attributes().iter().cloned().collect(),
                            ),
                            _ => Projection::All,
                        },
                    }
                })
                .collect();
            shapes.insert(name.clone(), Table { keys, indexes });
        }
        Meter { tables: shapes }
    }

    /// The write units of `calls` (`X-Amz-Target`, body), items sized as they stand now.
    pub async fn write_units(&self, dynamodb: &Client, calls: &[(String, String)]) -> Units {
        let mut units = Units::default();
        for (target, body) in calls {
            let operation = target.rsplit('.').next().unwrap_or_default();
            let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let writes: Vec<(Value, f64)> = match operation {
                "PutItem" | "UpdateItem" | "DeleteItem" => {
                    vec![(with_kind(&body, operation), 1.0)]
                }
                "TransactWriteItems" => body["TransactItems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| {
                        let (kind, write) = t.as_object()?.iter().next()?;
                        Some((with_kind(write, kind_of(kind)), 2.0))
                    })
                    .collect(),
                "BatchWriteItem" => body["RequestItems"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .flat_map(|(table, requests)| {
                        requests
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(move |r| {
                                let mut write = r["PutRequest"].clone();
                                let mut kind = "PutItem";
                                if write.is_null() {
                                    write = r["DeleteRequest"].clone();
                                    kind = "DeleteItem";
                                }
                                write["TableName"] = table.clone().into();
                                (with_kind(&write, kind), 1.0)
                            })
                    })
                    .collect(),
                "GetItem" | "Query" | "Scan" => {
                    let consistent = body["ConsistentRead"] == true;
                    units.read_units += if consistent { 1.0 } else { 0.5 };
                    continue;
                }
                "BatchGetItem" => {
                    let keys = body["RequestItems"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(_, r)| r["Keys"].as_array().map_or(0, Vec::len))
                        .sum::<usize>();
                    units.read_units += keys as f64;
                    continue;
                }
                _ => continue,
            };
            units.requests += 1;
            for (write, factor) in writes {
                self.price(dynamodb, &write, factor, operation, &mut units)
                    .await;
            }
        }
        units
    }

    async fn price(
        &self,
        dynamodb: &Client,
        write: &Value,
        factor: f64,
        operation: &str,
        units: &mut Units,
    ) {
        let table_name = write["TableName"].as_str().unwrap_or_default().to_string();
        let Some(table) = self.tables.get(&table_name) else {
            panic!("a write to {table_name}, a table the meter was not given");
        };
        let kind = write["_kind"].as_str().unwrap_or_default();
        if kind == "DeleteItem" || kind == "ConditionCheck" {
            units.add(short(&table_name), operation, factor);
            units
                .writes
                .push((format!("{kind} {}", short(&table_name)), factor));
            return;
        }
        let item: HashMap<String, Value> = if kind == "PutItem" {
            serde_json::from_value(write["Item"].clone()).unwrap_or_default()
        } else {
            current(dynamodb, &table_name, &write["Key"]).await
        };
        let before = units.total();
        units.add(
            short(&table_name),
            operation,
            factor * kb(size_of(&item, None)),
        );
        let touched = touched(write);
        let what = format!(
            "{kind} {} {}",
            short(&table_name),
            touched
                .as_ref()
                .map_or("(whole item)".to_string(), |t| format!("{t:?}"))
        );
        for index in &table.indexes {
            if !index.keys.iter().all(|k| item.contains_key(k)) {
                continue;
            }
            let projected: BTreeSet<String> = match &index.projection {
                Projection::All => item.keys().cloned().collect(),
                Projection::KeysOnly => BTreeSet::new(),
                Projection::Include(names) => names.clone(),
            }
            .into_iter()
            .chain(index.keys.iter().cloned())
            .chain(table.keys.iter().cloned())
            .collect();
            let changed = match &touched {
                None => true, // a put replaces the item
                Some(names) => names.iter().any(|n| projected.contains(n)),
            };
            if !changed {
                continue;
            }
            let key_moved = touched
                .as_ref()
                .is_some_and(|names| index.keys.iter().any(|k| names.contains(k)));
            let entry = factor * kb(size_of(&item, Some(&projected)));
            units.add(
                format!("{}/{}", short(&table_name), index.name),
                operation,
                if key_moved { 2.0 * entry } else { entry },
            );
        }
        units.writes.push((what, units.total() - before));
    }
}

fn kind_of(transact_kind: &str) -> &'static str {
    match transact_kind {
        "Put" => "PutItem",
        "Update" => "UpdateItem",
        "Delete" => "DeleteItem",
        _ => "ConditionCheck",
    }
}

fn with_kind(write: &Value, kind: &str) -> Value {
    let mut write = write.clone();
    write["_kind"] = kind.into();
    write
}

/// The table's name without the test's prefix.
fn short(table: &str) -> String {
    table.rsplit('-').next().unwrap_or(table).to_string()
}

/// The attribute names an update writes (`None` for a put: all of them).
fn touched(write: &Value) -> Option<BTreeSet<String>> {
    let expression = write["UpdateExpression"].as_str()?;
    let names = write["ExpressionAttributeNames"].as_object();
    let mut touched = BTreeSet::new();
    let mut clause = "";
    for token in expression
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
    {
        match token.to_ascii_uppercase().as_str() {
            "SET" | "REMOVE" | "ADD" | "DELETE" => {
                clause = "write";
                continue;
            }
            _ => {}
        }
        if clause.is_empty() || token.starts_with(':') || token == "+" || token == "-" {
            continue;
        }
        let name = token.split(['.', '[']).next().unwrap_or(token);
        let name = match name.strip_prefix('#') {
            Some(_) => names
                .and_then(|n| n.get(name))
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string(),
            None => name.to_string(),
        };
        if !matches!(name.as_str(), "if_not_exists" | "list_append") {
            touched.insert(name);
        }
    }
    Some(touched)
}

async fn current(dynamodb: &Client, table: &str, key: &Value) -> HashMap<String, Value> {
    let key: HashMap<String, AttributeValue> = key
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), to_attribute(v)?)))
        .collect();
    let got = dynamodb
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .send()
        .await
        .unwrap();
    got.item
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), crate::dynamo_json(v)))
        .collect()
}

fn to_attribute(v: &Value) -> Option<AttributeValue> {
    if let Some(s) = v["S"].as_str() {
        return Some(AttributeValue::S(s.to_string()));
    }
    v["N"].as_str().map(|n| AttributeValue::N(n.to_string()))
}

/// Started kilobytes: what one write of `bytes` costs.
fn kb(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(1024) as f64
}

/// An item's size as DynamoDB counts it: each attribute's name and value (only `only`'s).
pub fn size_of(item: &HashMap<String, Value>, only: Option<&BTreeSet<String>>) -> usize {
    item.iter()
        .filter(|(name, _)| only.is_none_or(|o| o.contains(*name)))
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// DynamoDB JSON (`{"S": ...}`, `{"M": {...}}`) sized as DynamoDB sizes it.
pub fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => v.as_str().map_or(0, str::len),
        // Numbers: about one byte per two significant digits, plus one.
        "N" => v
            .as_str()
            .map_or(0, |n| n.trim_start_matches('-').len().div_ceil(2) + 1),
        "B" => v.as_str().map_or(0, |b| b.len() * 3 / 4),
        "BOOL" | "NULL" => 1,
        "M" => {
            3 + v.as_object().map_or(0, |m| {
                m.iter()
                    .map(|(k, v)| k.len() + value_size(v) + 1)
                    .sum::<usize>()
            })
        }
        "L" => {
            3 + v
                .as_array()
                .map_or(0, |l| l.iter().map(|v| value_size(v) + 1).sum::<usize>())
        }
        "SS" => v.as_array().map_or(0, |l| {
            l.iter().filter_map(Value::as_str).map(str::len).sum()
        }),
        _ => 0,
    }
}

/// The alert every step is about: the canonical sample, on `host`, with the SIEM's id `id`.
fn alert_on(host: &str, id: &str) -> Value {
    let mut alert: Value = serde_json::from_str(
        crate::event("ingest-canonical.json")["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    alert["id"] = id.into();
    alert["context"]["host"] = host.into();
    crate::with_body(crate::event("ingest-canonical.json"), &alert.to_string())
}

/// Write units of the calls made since the last look.
struct Steps<'a> {
    proxy: &'a crate::faults::FaultProxy,
    meter: Meter,
    dynamodb: Client,
    seen: usize,
    steps: Vec<(String, Units)>,
}

impl Steps<'_> {
    fn skip(&mut self) {
        self.seen = self.proxy.aws_calls().len();
    }

    async fn done(&mut self, step: &str) {
        let calls = self.proxy.aws_calls();
        let units = self
            .meter
            .write_units(&self.dynamodb, &calls[self.seen..])
            .await;
        self.seen = calls.len();
        self.steps.push((step.to_string(), units));
    }
}

/// Two alerts' lives through the real handlers (webhook, notifier, interaction) against moto:
/// one asked and confirmed with a code (with a snooze), one asked and denied (and its team
/// post), and a repeat the snooze covers. Each step's write units, in order.
pub async fn alert_lives() -> Vec<(String, Units)> {
    use crate::{Stack, call, click, code_at, submit};
    const ALICE: &str = "UALICE";
    let mut stack = Stack::new("write-units").await;
    let proxy = crate::faults::FaultProxy::start(&crate::endpoint()).await;
    stack.through(&proxy.url);
    let slack = crate::slack::SlackStandIn::start(&[("alice@example.com", ALICE)]).await;
    // This stack's tables by name (not ListTables: on a shared moto it pages after 100).
    let template = securitybot_infra::Template::load(&securitybot_infra::template_path()).unwrap();
    let tables: Vec<String> = template
        .of_type("AWS::DynamoDB::Table")
        .into_iter()
        .map(|(id, _)| stack.created.refs[&id].clone())
        .collect();
    let mut steps = Steps {
        proxy: &proxy,
        meter: Meter::of(&stack.dynamodb, &tables).await,
        dynamodb: stack.dynamodb.clone(),
        seen: 0,
        steps: Vec::new(),
    };
    let (webhook, notifier) = (stack.webhook(), stack.notifier(&slack.url()));
    let interaction = stack.interaction(&slack.url());
    let enrolled = stack
        .admin()
        .run(json!({"command": "enroll", "user": "alice@example.com", "operator": "ops"}))
        .await
        .unwrap();
    let uri = enrolled["otpauth_uri"].as_str().unwrap().to_string();
    stack.deliver_ok(&notifier).await; // the enrollment's announcement
    steps.skip();

    let (status, body) = call(&webhook, &alert_on("build-01", "evt-1")).await;
    assert_eq!(status, 202, "{body}");
    let first = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    steps.done("admit (webhook)").await;
    stack.deliver_ok(&notifier).await;
    steps.done("ask (notifier DMs)").await;
    let yes = click("answer_yes", &first, ALICE, &format!("D{ALICE}"));
    stack.slack_post(&interaction, &yes).await;
    steps.done("Yes clicked (form opens)").await;
    let code = code_at(&uri, stack.now());
    let form = submit(&first, ALICE, "fixing the nightly build", &code, Some(240));
    let (status, reply) = stack.slack_post(&interaction, &form).await;
    assert_eq!((status, reply), (200, None), "confirmed");
    steps.done("Yes submitted with a code").await;
    stack.deliver_ok(&notifier).await;
    steps.done("after Yes (notifier, if queued)").await;

    let (_, body) = call(&webhook, &alert_on("build-01", "evt-2")).await;
    assert_eq!(body["alerts"][0]["outcome"], "snoozed", "{body}");
    steps.done("repeat admitted as snoozed").await;

    let (_, body) = call(&webhook, &alert_on("build-02", "evt-3")).await;
    let second = body["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    stack.deliver_ok(&notifier).await;
    steps.skip();
    let no = click("answer_no", &second, ALICE, &format!("D{ALICE}"));
    stack.slack_post(&interaction, &no).await;
    assert_eq!(stack.alert(&second).await.status.as_str(), "escalated");
    steps.done("No clicked").await;
    stack.deliver_ok(&notifier).await;
    steps.done("escalate (notifier posts to team)").await;
    assert_eq!(
        slack.team_posts().await.len(),
        2,
        "the enrollment and the No"
    );
    steps.steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: Value) -> HashMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn items_are_sized_and_priced_by_the_started_kilobyte() {
        let small = item(json!({ "alert_id": {"S": "al_1"}, "n": {"N": "1234"} }));
        assert_eq!(size_of(&small, None), "alert_id".len() + 4 + 1 + 3);
        let big = item(json!({ "raw": {"S": "x".repeat(2100)} }));
        assert_eq!(kb(size_of(&big, None)), 3.0);
        let nested = item(json!({ "m": {"M": {"k": {"S": "vv"}}}, "l": {"L": [{"BOOL": true}]} }));
        assert_eq!(
            size_of(&nested, None),
            1 + (3 + 1 + 2 + 1) + 1 + (3 + 1 + 1)
        );
    }

    #[test]
    fn an_update_touches_the_names_its_expression_writes() {
        let write = json!({
            "UpdateExpression": "SET #s = :s, due_at_epoch = :d, history = list_append(history, :h) REMOVE #q",
            "ExpressionAttributeNames": { "#s": "status", "#q": "queued_at" },
        });
        let names = touched(&write).unwrap();
        let expected: BTreeSet<String> = ["status", "due_at_epoch", "history", "queued_at"]
            .map(String::from)
            .into();
        assert_eq!(names, expected);
        assert_eq!(touched(&json!({ "Item": {} })), None);
    }
}

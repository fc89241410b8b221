//! Brings template.yaml's tables, queues and secret up on a local AWS emulator (moto), from
//! the template's own definitions, so local runs and tests use exactly what `sam deploy`
//! creates. Also resolves a function's environment from the template against what it created.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_norway::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("template: {0}")]
    Template(String),
    #[error("{0}")]
    Aws(String),
}

type Result<T> = std::result::Result<T, InfraError>;

fn failed<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> InfraError + '_ {
    move |e| InfraError::Aws(format!("{what}: {e:?}"))
}

/// The repository's template.yaml.
pub fn template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

pub struct Template {
    resources: serde_norway::Mapping,
    parameters: serde_norway::Mapping,
    conditions: serde_norway::Mapping,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InfraError::Template(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self> {
        let doc: Value =
            serde_norway::from_str(text).map_err(|e| InfraError::Template(e.to_string()))?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .cloned()
            .ok_or_else(|| InfraError::Template("no Resources".into()))?;
        let parameters = doc
            .get("Parameters")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let conditions = doc
            .get("Conditions")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        Ok(Template {
            resources,
            parameters,
            conditions,
        })
    }

    /// A named condition, with every parameter at its default (`!Equals`, `!Not`, `!Ref`).
    pub fn condition(&self, name: &str) -> Result<bool> {
        let body = self
            .conditions
            .get(name)
            .ok_or_else(|| InfraError::Template(format!("no condition {name}")))?;
        self.truth(body)
    }

    fn truth(&self, v: &Value) -> Result<bool> {
        let unsupported = || InfraError::Template(format!("unsupported condition {v:?}"));
        let Value::Tagged(t) = v else {
            return Err(unsupported());
        };
        let args = t.value.as_sequence().ok_or_else(unsupported)?;
        match t.tag.to_string().trim_start_matches('!') {
            "Not" => Ok(!self.truth(args.first().ok_or_else(unsupported)?)?),
            "Equals" if args.len() == 2 => Ok(self.scalar(&args[0])? == self.scalar(&args[1])?),
            _ => Err(unsupported()),
        }
    }

    /// A literal, or a parameter's default.
    fn scalar(&self, v: &Value) -> Result<String> {
        match v {
            Value::Tagged(t) if t.tag.to_string().trim_start_matches('!') == "Ref" => {
                let name = scalar(&t.value);
                Ok(scalar(&self.parameters[name.as_str()]["Default"]))
            }
            other => Ok(scalar(other)),
        }
    }

    /// `v` with a top-level `!If` chosen; `None` for `!Ref AWS::NoValue`.
    pub fn chosen<'a>(&self, v: &'a Value) -> Result<Option<&'a Value>> {
        let picked = match v {
            Value::Tagged(t) if t.tag.to_string().trim_start_matches('!') == "If" => {
                let args = t
                    .value
                    .as_sequence()
                    .filter(|a| a.len() == 3)
                    .ok_or_else(|| InfraError::Template(format!("malformed !If {v:?}")))?;
                if self.condition(&scalar(&args[0]))? {
                    &args[1]
                } else {
                    &args[2]
                }
            }
            other => other,
        };
        Ok(match picked {
            Value::Tagged(t)
                if t.tag.to_string().trim_start_matches('!') == "Ref"
                    && scalar(&t.value) == "AWS::NoValue" =>
            {
                None
            }
            other => Some(other),
        })
    }

    /// Logical ids of the resources of one type, in template order.
    pub fn of_type(&self, kind: &str) -> Vec<(String, &Value)> {
        self.resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .filter_map(|(id, r)| Some((id.as_str()?.to_string(), r.get("Properties")?)))
            .collect()
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.resources.get(logical_id)
    }
}

/// What was created, by logical id: the value `!Ref` gives and the ARN `!GetAtt .Arn` gives.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    pub refs: HashMap<String, String>,
    pub arns: HashMap<String, String>,
    pub prefix: String,
}

impl Provisioned {
    /// The function's environment as the template defines it, with every `!Ref`/`!GetAtt`
    /// resolved to the local resources. Parameters resolve to their defaults.
    pub fn function_env(
        &self,
        template: &Template,
        function: &str,
    ) -> Result<BTreeMap<String, String>> {
        let vars = template
            .resource(function)
            .and_then(|f| {
                f.get("Properties")?
                    .get("Environment")?
                    .get("Variables")?
                    .as_mapping()
            })
            .ok_or_else(|| {
                InfraError::Template(format!("{function} has no Environment.Variables"))
            })?;
        vars.iter()
            .map(|(k, v)| {
                Ok((
                    k.as_str().unwrap_or_default().to_string(),
                    self.resolve(template, v)?,
                ))
            })
            .collect()
    }

    fn resolve(&self, template: &Template, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Tagged(tagged) => {
                let target = tagged.value.as_str().unwrap_or_default();
                if tagged.tag == "Ref" {
                    if let Some(v) = self.refs.get(target) {
                        return Ok(v.clone());
                    }
                    return template
                        .parameters
                        .get(target)
                        .and_then(|p| p.get("Default"))
                        .map(scalar)
                        .ok_or_else(|| {
                            InfraError::Template(format!(
                                "{target} is neither a resource nor a parameter with a default"
                            ))
                        });
                }
                if tagged.tag == "GetAtt" {
                    let (id, attr) = target.split_once('.').unwrap_or((target, ""));
                    if attr == "Arn"
                        && let Some(arn) = self.arns.get(id)
                    {
                        return Ok(arn.clone());
                    }
                }
                Err(InfraError::Template(format!(
                    "cannot resolve {} {target} locally",
                    tagged.tag
                )))
            }
            other => Err(InfraError::Template(format!("unsupported value {other:?}"))),
        }
    }
}

/// Creates every table, queue and secret of the template, named `<prefix>-<LogicalId>`.
/// `secret_json` is the local secret's value (the template generates a random one on AWS).
pub async fn provision(
    template: &Template,
    aws: &SdkConfig,
    prefix: &str,
    secret_json: &str,
) -> Result<Provisioned> {
    let mut out = Provisioned {
        prefix: prefix.to_string(),
        ..Provisioned::default()
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    for (id, props) in template.of_type("AWS::DynamoDB::Table") {
        let name = format!("{prefix}-{id}");
        create_table(template, &dynamodb, &name, props).await?;
        out.arns.insert(
            id.clone(),
            format!("arn:aws:dynamodb:local:000000000000:table/{name}"),
        );
        out.refs.insert(id, name);
    }
    let sqs = aws_sdk_sqs::Client::new(aws);
    // Dead-letter queues first: other queues' redrive policies point at them.
    let mut queues = template.of_type("AWS::SQS::Queue");
    queues.sort_by_key(|(_, props)| props.get("RedrivePolicy").is_some());
    for (id, props) in queues {
        let name = format!("{prefix}-{id}");
        let mut req = sqs.create_queue().queue_name(&name);
        for (attr, key) in [
            ("VisibilityTimeout", "VisibilityTimeout"),
            ("MessageRetentionPeriod", "MessageRetentionPeriod"),
        ] {
            if let Some(v) = props.get(key) {
                req = req.attributes(attr.into(), scalar(v));
            }
        }
        if let Some(redrive) = props.get("RedrivePolicy") {
            let target = redrive
                .get("deadLetterTargetArn")
                .map(|v| out.resolve(template, v))
                .transpose()?
                .unwrap_or_default();
            let max = redrive
                .get("maxReceiveCount")
                .map(scalar)
                .unwrap_or_else(|| "5".into());
            let policy =
                serde_json::json!({ "deadLetterTargetArn": target, "maxReceiveCount": max })
                    .to_string();
            req = req.attributes("RedrivePolicy".into(), policy);
        }
        let url = req
            .send()
            .await
            .map_err(failed("create_queue"))?
            .queue_url
            .unwrap_or_default();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(failed("get_queue_attributes"))?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        out.arns.insert(id.clone(), arn);
        out.refs.insert(id, url);
    }
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    for (id, props) in template.of_type("AWS::SecretsManager::Secret") {
        let name = format!("{prefix}-{id}");
        // A secret whose template value is a document, not a JSON object of credentials (the
        // rules), starts as the template says; the credential secrets get `secret_json`.
        let value = props
            .get("SecretString")
            .and_then(Value::as_str)
            .filter(|v| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(v).is_err()
            })
            .unwrap_or(secret_json);
        let created = secrets
            .create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .map_err(failed("create_secret"))?;
        let arn = created.arn.unwrap_or(name);
        out.arns.insert(id.clone(), arn.clone());
        out.refs.insert(id, arn);
    }
    Ok(out)
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn key_schema(v: Option<&Value>) -> Result<Vec<KeySchemaElement>> {
    v.and_then(Value::as_sequence)
        .ok_or_else(|| InfraError::Template("KeySchema missing".into()))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(scalar(&k["AttributeName"]))
                .key_type(KeyType::from(scalar(&k["KeyType"]).as_str()))
                .build()
                .map_err(|e| InfraError::Template(e.to_string()))
        })
        .collect()
}

async fn create_table(
    template: &Template,
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    props: &Value,
) -> Result<()> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for attr in props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let def = AttributeDefinition::builder()
            .attribute_name(scalar(&attr["AttributeName"]))
            .attribute_type(ScalarAttributeType::from(
                scalar(&attr["AttributeType"]).as_str(),
            ))
            .build()
            .map_err(|e| InfraError::Template(e.to_string()))?;
        req = req.attribute_definitions(def);
    }
    req = req.set_key_schema(Some(key_schema(props.get("KeySchema"))?));
    for gsi in props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let Some(gsi) = template.chosen(gsi)? else {
            continue;
        };
        let projection = &gsi["Projection"];
        let non_key: Vec<String> = projection
            .get("NonKeyAttributes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(scalar)
            .collect();
        let index = GlobalSecondaryIndex::builder()
            .index_name(scalar(&gsi["IndexName"]))
            .set_key_schema(Some(key_schema(gsi.get("KeySchema"))?))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(
                        scalar(&projection["ProjectionType"]).as_str(),
                    ))
                    .set_non_key_attributes((!non_key.is_empty()).then_some(non_key))
                    .build(),
            )
            .build()
            .map_err(|e| InfraError::Template(e.to_string()))?;
        req = req.global_secondary_indexes(index);
    }
    req.send().await.map_err(failed("create_table"))?;
    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(scalar(&ttl["AttributeName"]))
            .enabled(true)
            .build()
            .map_err(|e| InfraError::Template(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(failed("update_time_to_live"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rollup index's two-deploy upgrade: by default only the keys-only index is created;
    /// with KeepOldReceivedDayIndex=true the old one is kept beside it.
    #[test]
    fn the_old_rollup_index_is_kept_only_when_asked() {
        let text = std::fs::read_to_string(template_path()).unwrap();
        let names = |text: &str| -> Vec<String> {
            let t = Template::parse(text).unwrap();
            let alerts = &t.resource("AlertsTable").unwrap()["Properties"];
            alerts["GlobalSecondaryIndexes"]
                .as_sequence()
                .unwrap()
                .iter()
                .filter_map(|gsi| t.chosen(gsi).unwrap())
                .map(|gsi| scalar(&gsi["IndexName"]))
                .collect()
        };
        assert_eq!(
            names(&text),
            [
                "by_status_due",
                "by_user",
                "received_by_day",
                "by_awaiting_team"
            ]
        );
        let upgrading = text.replacen(
            "KeepOldReceivedDayIndex:\n    Type: String\n    Default: \"false\"",
            "KeepOldReceivedDayIndex:\n    Type: String\n    Default: \"true\"",
            1,
        );
        assert_ne!(
            upgrading, text,
            "the parameter is where the test expects it"
        );
        assert!(names(&upgrading).contains(&"by_received_day".to_string()));
        assert_eq!(names(&upgrading).len(), 5);
    }

    #[test]
    fn the_template_has_what_the_code_expects() {
        let t = Template::load(&template_path()).unwrap();
        let tables: Vec<String> = t
            .of_type("AWS::DynamoDB::Table")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            tables,
            [
                "AlertsTable",
                "PayloadsTable",
                "SnoozesTable",
                "PeopleTable",
                "CheckpointsTable",
                "ClaimsTable"
            ]
        );
        let alerts = t.resource("AlertsTable").unwrap();
        let text = serde_norway::to_string(alerts).unwrap();
        for needle in [
            "by_status_due",
            "by_user",
            "expires_at_epoch",
            "due_at_epoch",
            "received_at_epoch",
            "received_by_day",
            "by_awaiting_team",
        ] {
            assert!(text.contains(needle), "AlertsTable lacks {needle}");
        }
        // Time travel is for local runs only: no deployed function may be told what time it is.
        let whole = std::fs::read_to_string(template_path()).unwrap();
        assert!(!whole.contains("SECURITYBOT_TIME_TRAVEL"));
    }
}

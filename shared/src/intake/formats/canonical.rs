//! Securitybot's own alert JSON: one alert object, `{"alerts": [...]}`, or a bare array.
//! Strict: every problem is reported with its field, and nothing is admitted if any exists.

use super::fields::{self, Strict};
use super::{Draft, Entry, ParseContext};
use crate::intake::rejection::{Problem, Rejection};
use serde_json::Value;

pub const DEFAULT_SOURCE: &str = "webhook";

pub fn parse(body: &Value, ctx: &ParseContext<'_>) -> Result<Vec<Entry>, Rejection> {
    let (items, batch): (Vec<&Value>, bool) = match body {
        Value::Array(items) => (items.iter().collect(), true),
        Value::Object(map) if map.contains_key("alerts") => match &map["alerts"] {
            Value::Array(items) => (items.iter().collect(), true),
            other => {
                let problem = Problem::new(
                    "alerts",
                    format!(
                        "must be an array of alerts, not {}",
                        fields::type_name(other)
                    ),
                );
                return Err(Rejection::invalid(vec![problem]));
            }
        },
        Value::Object(_) => (vec![body], false),
        other => {
            let problem = Problem::new(
                "(body)",
                format!(
                    "must be an alert object or an array of alerts, not {}",
                    fields::type_name(other)
                ),
            );
            return Err(Rejection::invalid(vec![problem]));
        }
    };
    if items.len() > ctx.max_batch {
        let problem = Problem::new(
            "alerts",
            format!(
                "at most {} alerts per request (got {})",
                ctx.max_batch,
                items.len()
            ),
        );
        return Err(Rejection::invalid(vec![problem]));
    }
    let mut problems = Vec::new();
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let prefix = if batch {
            format!("alerts[{i}].")
        } else {
            String::new()
        };
        match one(item, prefix, ctx) {
            Ok(draft) => entries.push(Entry::Alert(Box::new(draft))),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(Rejection::invalid(problems))
    }
}

fn one(item: &Value, prefix: String, ctx: &ParseContext<'_>) -> Result<Draft, Vec<Problem>> {
    let Some(object) = item.as_object() else {
        let field = prefix.trim_end_matches('.').to_string();
        return Err(vec![Problem::new(
            field,
            format!("must be an alert object, not {}", fields::type_name(item)),
        )]);
    };
    let mut r = Strict {
        object,
        prefix,
        problems: Vec::new(),
    };
    let source = r
        .text("source", fields::MAX_SOURCE, false)
        .unwrap_or_else(|| DEFAULT_SOURCE.to_string());
    let source_id = r
        .text("id", fields::MAX_ID, false)
        .filter(|s| !s.is_empty());
    let rule = r.text("rule", fields::MAX_RULE, true);
    let user = r.text("user", fields::MAX_USER, true);
    let title = r.text("title", fields::MAX_TITLE, true);
    let description = r
        .text("description", fields::MAX_DESCRIPTION, false)
        .unwrap_or_default();
    let severity = r.text("severity", 16, false).and_then(|s| match s.parse() {
        Ok(severity) => Some(severity),
        Err(message) => {
            r.problems
                .push(Problem::new(format!("{}severity", r.prefix), message));
            None
        }
    });
    let occurred_at = r.time("occurred_at");
    if source_id.is_none() && occurred_at.is_none() && !r.object.contains_key("occurred_at") {
        let field = format!("{}occurred_at", r.prefix);
        r.problems.push(Problem::new(
            field,
            "is required when the alert has no id: without one, a repeat could not be told from a redelivery",
        ));
    }
    let context = r.context("context");
    let link = r
        .text("link", fields::MAX_LINK, false)
        .filter(|l| !l.is_empty());
    if let Some(link) = &link
        && !fields::is_web_link(link)
    {
        let field = format!("{}link", r.prefix);
        r.problems
            .push(Problem::new(field, "must be an http(s) URL"));
    }
    match (r.problems.is_empty(), rule, user, title) {
        (true, Some(rule), Some(user), Some(title)) => Ok(Draft {
            source,
            source_id,
            rule,
            user: Some(user),
            title,
            description,
            severity,
            occurred_at: occurred_at.unwrap_or(ctx.now),
            context,
            link,
            raw: item.to_string(),
        }),
        _ => Err(r.problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::alert::Severity;
    use crate::core::rules::RuleBook;
    use crate::intake::formats::mapping::SourceMappings;
    use crate::intake::formats::{Format, finish, parse as parse_body};
    use chrono::Utc;
    use proptest::prelude::*;
    use serde_json::json;

    fn ctx(sources: &SourceMappings) -> ParseContext<'_> {
        ParseContext {
            now: Utc::now(),
            sources,
            max_batch: 3,
        }
    }

    fn drafts(body: &Value) -> Result<Vec<Draft>, Rejection> {
        let sources = SourceMappings::default();
        parse(body, &ctx(&sources)).map(|entries| {
            entries
                .into_iter()
                .map(|e| match e {
                    Entry::Alert(d) => *d,
                    Entry::Ignored { .. } => panic!("canonical never ignores"),
                })
                .collect()
        })
    }

    fn good() -> Value {
        json!({
            "id": "evt-1", "source": "elastic", "rule": "sudo_root_shell", "user": "alice@example.com",
            "title": "sudo -i", "severity": "HIGH", "occurred_at": "2026-11-28T10:00:00Z",
            "context": {"host": "build-01", "pid": 42, "interactive": true}, "link": "https://siem.example.com/a/1"
        })
    }

    #[test]
    fn a_good_alert_reads_every_field() {
        let d = drafts(&good()).unwrap().remove(0);
        assert_eq!(d.source, "elastic");
        assert_eq!(d.source_id.as_deref(), Some("evt-1"));
        assert_eq!(d.severity, Some(Severity::High));
        assert_eq!(d.context["pid"], "42");
        assert_eq!(d.context["interactive"], "true");
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let body = json!({"alerts": [good(), {"rule": 5, "title": "", "severity": "meh", "context": {"host": {"x": 1}}, "link": "javascript:alert(1)"}]});
        let err = drafts(&body).unwrap_err();
        assert_eq!(err.status, 422);
        let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
        for expected in [
            "alerts[1].rule",
            "alerts[1].user",
            "alerts[1].title",
            "alerts[1].severity",
            "alerts[1].occurred_at",
            "alerts[1].context.host",
            "alerts[1].link",
        ] {
            assert!(
                fields.contains(&expected),
                "missing {expected} in {fields:?}"
            );
        }
        assert!(
            !fields.iter().any(|f| f.starts_with("alerts[0]")),
            "the good alert has no problems"
        );
    }

    #[test]
    fn batches_have_limits_and_shapes() {
        let too_many = json!([good(), good(), good(), good()]);
        assert!(
            drafts(&too_many)
                .unwrap_err()
                .message
                .contains("at most 3 alerts")
        );
        assert_eq!(drafts(&json!([good(), good()])).unwrap().len(), 2);
        assert_eq!(
            drafts(&json!("text")).unwrap_err().problems[0].field,
            "(body)"
        );
        assert_eq!(
            drafts(&json!({"alerts": {}})).unwrap_err().problems[0].field,
            "alerts"
        );
        let mut long = good();
        long["title"] = json!("x".repeat(300));
        assert!(
            drafts(&long)
                .unwrap_err()
                .message
                .contains("at most 256 characters")
        );
    }

    #[test]
    fn an_id_is_needed_or_a_time() {
        let mut a = good();
        a.as_object_mut().unwrap().remove("id");
        a.as_object_mut().unwrap().remove("occurred_at");
        assert_eq!(drafts(&a).unwrap_err().problems[0].field, "occurred_at");
    }

    proptest! {
        /// The same alert with its keys (and its context's keys) in any order gets the same id.
        #[test]
        fn ids_are_stable_under_key_order(context in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,20}", 0..8), seed in any::<u64>()) {
            let mut fields: Vec<(String, Value)> = vec![
                ("rule".into(), json!("nmap")), ("user".into(), json!("bob@example.com")),
                ("title".into(), json!("nmap scan")), ("occurred_at".into(), json!("2026-11-28T10:00:00Z")),
                ("context".into(), json!(context)),
            ];
            let text_in_order = |fields: &[(String, Value)], reverse_context: bool| {
                let parts: Vec<String> = fields.iter().map(|(k, v)| {
                    let v = if k == "context" && reverse_context {
                        let inner: Vec<String> = context.iter().rev().map(|(ck, cv)| format!("{}:{}", json!(ck), json!(cv))).collect();
                        format!("{{{}}}", inner.join(","))
                    } else { v.to_string() };
                    format!("{}:{}", json!(k), v)
                }).collect();
                format!("{{{}}}", parts.join(","))
            };
            let first = text_in_order(&fields, false);
            let n = fields.len();
            fields.rotate_left((seed % n as u64) as usize);
            let second = text_in_order(&fields, true);
            let sources = SourceMappings::default();
            let id = |text: &str| match parse_body(Format::Canonical, text.as_bytes(), &ctx(&sources)).unwrap().remove(0) {
                Entry::Alert(d) => finish(*d, &RuleBook::default()).0.id(),
                Entry::Ignored { .. } => unreachable!(),
            };
            prop_assert_eq!(id(&first), id(&second));
        }
    }
}

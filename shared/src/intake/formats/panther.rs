//! Panther's custom webhook: one alert per POST with `id` (the rule), `alertId`, `title`,
//! `severity`, `link`, `createdAt` and the rule's `alertContext`.

use super::fields::{self, first_text, gather_context, truncate};
use super::splunk::required_text;
use super::{Draft, Entry, ParseContext};
use crate::intake::rejection::{Problem, Rejection};
use serde_json::Value;

pub fn parse(body: &Value, ctx: &ParseContext<'_>) -> Result<Vec<Entry>, Rejection> {
    let mapping = &ctx.sources.panther;
    if !body.is_object() {
        return Err(Rejection::invalid(vec![Problem::new(
            "(body)",
            "must be Panther's alert object",
        )]));
    }
    let mut problems = Vec::new();
    let rule = first_text(body, &["id".into(), "name".into()]);
    if rule.is_none() {
        problems.push(Problem::new("id", "is required (the Panther rule id)"));
    }
    let title = required_text(body, "title", &mut problems);
    let (Some(rule), Some(title)) = (rule, title) else {
        return Err(Rejection::invalid(problems));
    };
    let occurred_at = body.get("createdAt").and_then(fields::parse_time);
    let source_id = first_text(body, &["alertId".into()]);
    if source_id.is_none() && occurred_at.is_none() {
        return Err(Rejection::invalid(vec![Problem::new(
            "alertId",
            "is required when createdAt is missing",
        )]));
    }
    Ok(vec![Entry::Alert(Box::new(Draft {
        source: "panther".into(),
        source_id: source_id.map(|s| truncate(&s, fields::MAX_ID)),
        rule: truncate(&rule, fields::MAX_RULE),
        user: mapping.user(body),
        title: truncate(&title, fields::MAX_TITLE),
        description: truncate(
            &first_text(body, &["description".into()]).unwrap_or_default(),
            fields::MAX_DESCRIPTION,
        ),
        severity: mapping.severity(body),
        occurred_at: occurred_at.unwrap_or(ctx.now),
        context: gather_context(body, &mapping.context_fields),
        link: body
            .get("link")
            .and_then(Value::as_str)
            .filter(|l| fields::is_web_link(l))
            .map(|l| truncate(l, fields::MAX_LINK)),
        raw: body.to_string(),
    }))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::alert::Severity;
    use crate::intake::formats::mapping::SourceMappings;
    use chrono::Utc;
    use serde_json::json;

    #[test]
    fn reads_panthers_body() {
        let body = json!({"id": "AWS.Console.LoginWithoutMFA", "alertId": "f1e2", "title": "Console login without MFA",
            "severity": "HIGH", "createdAt": "2026-11-28 10:00:00.000", "link": "https://acme.runpanther.net/alerts/f1e2",
            "alertContext": {"user": "carol@example.com", "ip": "203.0.113.9"}});
        let sources = SourceMappings::default();
        let mut entries = parse(
            &body,
            &ParseContext {
                now: Utc::now(),
                sources: &sources,
                max_batch: 10,
            },
        )
        .unwrap();
        let Entry::Alert(d) = entries.remove(0) else {
            panic!()
        };
        assert_eq!(d.rule, "AWS.Console.LoginWithoutMFA");
        assert_eq!(d.user.as_deref(), Some("carol@example.com"));
        assert_eq!(d.severity, Some(Severity::High));
        assert_eq!(d.context["ip"], "203.0.113.9");
    }
}

//! Grafana alerting's webhook contact point: a notification group with `alerts[]`, each with
//! labels, annotations, a fingerprint and startsAt. Only firing alerts are admitted; resolved
//! notifications are acknowledged and ignored. The id is fingerprint + startsAt, so the same
//! firing re-sent is a duplicate, and a later firing of the same series is a new alert.

use super::fields::{self, first_text, gather_context, truncate};
use super::{Draft, Entry, ParseContext};
use crate::intake::rejection::{Problem, Rejection};
use serde_json::Value;

pub fn parse(body: &Value, ctx: &ParseContext<'_>) -> Result<Vec<Entry>, Rejection> {
    let mapping = &ctx.sources.grafana;
    let Some(alerts) = body.get("alerts").and_then(Value::as_array) else {
        return Err(Rejection::invalid(vec![Problem::new(
            "alerts",
            "is required and must be an array (Grafana sends one per notification)",
        )]));
    };
    if alerts.len() > ctx.max_batch {
        let problem = Problem::new(
            "alerts",
            format!(
                "at most {} alerts per request (got {})",
                ctx.max_batch,
                alerts.len()
            ),
        );
        return Err(Rejection::invalid(vec![problem]));
    }
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for (i, alert) in alerts.iter().enumerate() {
        if alert.get("status").and_then(Value::as_str) == Some("resolved") {
            entries.push(Entry::Ignored {
                reason: "resolved notification: only firing alerts are asked about".into(),
            });
            continue;
        }
        let field = |name: &str| format!("alerts[{i}].{name}");
        let Some(alertname) = first_text(alert, &["labels.alertname".into()]) else {
            problems.push(Problem::new(field("labels.alertname"), "is required"));
            continue;
        };
        let Some(starts_at) = alert.get("startsAt").and_then(fields::parse_time) else {
            problems.push(Problem::new(
                field("startsAt"),
                "is required and must be an RFC 3339 time",
            ));
            continue;
        };
        let fingerprint = first_text(alert, &["fingerprint".into()]);
        let annotation = |name: &str| first_text(alert, &[format!("annotations.{name}")]);
        let link = ["generatorURL", "panelURL", "dashboardURL"]
            .iter()
            .filter_map(|k| alert.get(*k).and_then(Value::as_str))
            .find(|l| fields::is_web_link(l));
        entries.push(Entry::Alert(Box::new(Draft {
            source: "grafana".into(),
            source_id: fingerprint
                .map(|f| truncate(&format!("{f}@{}", starts_at.to_rfc3339()), fields::MAX_ID)),
            rule: truncate(&alertname, fields::MAX_RULE),
            user: mapping.user(alert),
            title: truncate(
                &annotation("summary").unwrap_or_else(|| alertname.clone()),
                fields::MAX_TITLE,
            ),
            description: truncate(
                &annotation("description").unwrap_or_default(),
                fields::MAX_DESCRIPTION,
            ),
            severity: mapping.severity(alert),
            occurred_at: starts_at,
            context: label_context(alert, mapping),
            link: link.map(|l| truncate(l, fields::MAX_LINK)),
            raw: alert.to_string(),
        })));
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(Rejection::invalid(problems))
    }
}

/// The labels as context, without those that already became the rule, the person or the
/// severity (they would only repeat themselves in the DM).
fn label_context(
    alert: &Value,
    mapping: &super::mapping::SourceMapping,
) -> std::collections::BTreeMap<String, String> {
    let mut context = gather_context(alert, &mapping.context_fields);
    let used = mapping
        .user_fields
        .iter()
        .chain(&mapping.severity_field)
        .filter_map(|path| path.strip_prefix("labels."))
        .chain(["alertname"]);
    for label in used {
        context.remove(label);
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::formats::mapping::SourceMappings;
    use chrono::Utc;
    use serde_json::json;

    #[test]
    fn firing_alerts_become_drafts_and_resolved_ones_are_ignored() {
        let body = json!({"receiver": "securitybot", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "NmapScan", "user": "bob", "host": "db-1", "severity": "warning"},
             "annotations": {"summary": "nmap from db-1", "description": "Port scan"}, "startsAt": "2026-11-28T10:00:00Z",
             "fingerprint": "abc123", "generatorURL": "https://grafana.example.com/alerting/1"},
            {"status": "resolved", "labels": {"alertname": "NmapScan"}, "startsAt": "2026-11-28T09:00:00Z"}
        ]});
        let sources = SourceMappings::default();
        let entries = parse(
            &body,
            &ParseContext {
                now: Utc::now(),
                sources: &sources,
                max_batch: 10,
            },
        )
        .unwrap();
        let Entry::Alert(d) = &entries[0] else {
            panic!("first is firing")
        };
        assert_eq!(d.rule, "NmapScan");
        assert_eq!(d.user.as_deref(), Some("bob"));
        assert_eq!(d.context["host"], "db-1");
        assert_eq!(
            d.context.keys().collect::<Vec<_>>(),
            ["host"],
            "alertname, user and severity are not repeated as context"
        );
        assert_eq!(d.title, "nmap from db-1");
        assert_eq!(
            d.source_id.as_deref(),
            Some("abc123@2026-11-28T10:00:00+00:00")
        );
        assert!(matches!(entries[1], Entry::Ignored { .. }));
    }

    #[test]
    fn a_firing_alert_without_a_name_is_refused_by_index() {
        let body = json!({"alerts": [{"status": "firing", "labels": {}, "startsAt": "2026-11-28T10:00:00Z"}]});
        let sources = SourceMappings::default();
        let err = parse(
            &body,
            &ParseContext {
                now: Utc::now(),
                sources: &sources,
                max_batch: 10,
            },
        )
        .unwrap_err();
        assert_eq!(err.problems[0].field, "alerts[0].labels.alertname");
    }
}

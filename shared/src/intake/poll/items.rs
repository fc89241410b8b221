//! Turning polled items into drafts, the same drafts the webhook builds, so admission cannot
//! tell a pulled alert from a pushed one.

use crate::core::alert::Severity;
use crate::core::poll::ItemMapping;
use crate::intake::formats::fields::{self, first_text, gather_context, lookup, truncate};
use crate::intake::formats::{Draft, Entry, ParseContext, splunk};
use crate::intake::rejection::Rejection;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One Splunk export result, read exactly as the webhook reads Splunk's alert action. `sid` is
/// the poller's name (export jobs are throwaway), so the id is stable across overlapping windows.
pub fn splunk_result(
    poller: &str,
    saved_search: &str,
    result: &Value,
    ctx: &ParseContext<'_>,
) -> Result<Vec<Entry>, Rejection> {
    let body =
        json!({ "sid": format!("poller:{poller}"), "search_name": saved_search, "result": result });
    splunk::parse(&body, ctx)
}

/// An Elastic hit or a JSON API item, through its mapping. Forgiving like the native formats:
/// missing parts get defaults, long ones are cut, nothing is dropped.
pub fn mapped(source: &str, item: &Value, mapping: &ItemMapping, now: DateTime<Utc>) -> Draft {
    let text = |path: &Option<String>| {
        path.as_ref()
            .and_then(|p| first_text(item, std::slice::from_ref(p)))
    };
    let rule = text(&mapping.rule_field)
        .or_else(|| mapping.default_rule.clone())
        .unwrap_or_else(|| source.to_string());
    let title = text(&mapping.title_field).unwrap_or_else(|| rule.clone());
    let occurred_at = mapping
        .time_field
        .as_ref()
        .and_then(|p| lookup(item, p))
        .and_then(fields::parse_time);
    // Without an id or a time, the alert's id would hash in the time of the run: a page read
    // again would make new alerts. The item's own content identifies it instead.
    let source_id = text(&mapping.id_field)
        .map(|id| truncate(&id, fields::MAX_ID))
        .or_else(|| occurred_at.is_none().then(|| content_id(item)));
    Draft {
        source: truncate(source, fields::MAX_SOURCE),
        source_id,
        user: first_text(item, &mapping.user_fields).map(|u| truncate(&u, fields::MAX_USER)),
        title: truncate(&title, fields::MAX_TITLE),
        rule: truncate(&rule, fields::MAX_RULE),
        description: truncate(
            &text(&mapping.description_field).unwrap_or_default(),
            fields::MAX_DESCRIPTION,
        ),
        severity: text(&mapping.severity_field).and_then(|s| s.parse::<Severity>().ok()),
        occurred_at: occurred_at.unwrap_or(now),
        context: gather_context(item, &mapping.context_fields),
        link: text(&mapping.link_field)
            .filter(|l| fields::is_web_link(l))
            .map(|l| truncate(&l, fields::MAX_LINK)),
        raw: item.to_string(),
    }
}

/// A stable id for an item that carries none: a hash of its content.
fn content_id(item: &Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(item.to_string().as_bytes());
    format!("content:{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::formats::mapping::SourceMappings;

    #[test]
    fn an_elastic_security_alert_maps_with_the_defaults() {
        let hit = json!({
            "_id": "f3a1", "_index": ".internal.alerts-security.alerts-default-000001",
            "_source": {
                "@timestamp": "2026-11-28T09:10:00.000Z",
                "kibana.alert.rule.name": "nmap_scan", "kibana.alert.reason": "nmap run on build-7",
                "kibana.alert.severity": "high", "kibana.alert.uuid": "f3a1",
                "user": {"name": "bob"}, "host": {"name": "build-7"},
                "source": {"ip": "10.0.0.7"}, "process": {"command_line": "nmap -sS 10.0.0.0/24", "name": "nmap"}
            }
        });
        let d = mapped("elastic", &hit, &ItemMapping::elastic(), Utc::now());
        assert_eq!(
            (d.rule.as_str(), d.title.as_str()),
            ("nmap_scan", "nmap run on build-7")
        );
        assert_eq!(d.source_id.as_deref(), Some("f3a1"));
        assert_eq!(d.user.as_deref(), Some("bob"));
        assert_eq!(d.severity, Some(Severity::High));
        assert_eq!(
            d.occurred_at,
            "2026-11-28T09:10:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Named as people and snooze scopes know them: `host`, not the path's last segment.
        let context: Vec<(&str, &str)> = d
            .context
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            context,
            [
                ("command", "nmap -sS 10.0.0.0/24"),
                ("host", "build-7"),
                ("ip", "10.0.0.7"),
                ("process_name", "nmap"),
            ]
        );
        let (alert, _) = crate::intake::formats::finish(d, &Default::default());
        assert!(
            crate::core::snooze::SnoozeScope::of(&alert, "bob@example.com", &["host".into()])
                .is_some(),
            "the default snooze scope matches a polled Elastic alert"
        );
    }

    #[test]
    fn items_missing_parts_still_become_alerts() {
        let now = Utc::now();
        let mut mapping = ItemMapping::plain();
        mapping.default_rule = Some("custom_siem".into());
        let d = mapped("custom", &json!({"note": "odd"}), &mapping, now);
        assert_eq!(
            (d.rule.as_str(), d.title.as_str(), d.user),
            ("custom_siem", "custom_siem", None)
        );
        assert_eq!(d.occurred_at, now);
        // Read again on a later run: the same alert (its id must not hash in the run's time).
        let again = mapped(
            "custom",
            &json!({"note": "odd"}),
            &mapping,
            now + chrono::Duration::minutes(5),
        );
        assert!(d.source_id.as_deref().unwrap().starts_with("content:"));
        assert_eq!(d.source_id, again.source_id);
    }

    #[test]
    fn splunk_results_get_the_same_id_in_every_window() {
        let sources = SourceMappings::default();
        let ctx = ParseContext {
            now: Utc::now(),
            sources: &sources,
            max_batch: 1,
        };
        let result = json!({"_time": "1795859940", "user": "carol", "host": "web-3"});
        let id = |entries: Vec<Entry>| match &entries[0] {
            Entry::Alert(d) => d.source_id.clone(),
            Entry::Ignored { .. } => None,
        };
        let a = id(splunk_result("splunk_prod", "sudo_root_shell", &result, &ctx).unwrap());
        let b = id(splunk_result("splunk_prod", "sudo_root_shell", &result, &ctx).unwrap());
        assert!(a.as_deref().unwrap().starts_with("poller:splunk_prod:"));
        assert_eq!(a, b);
    }
}

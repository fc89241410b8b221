//! Small readers for JSON fields: strict ones that report a [`Problem`] naming the field, and
//! forgiving ones for native SIEM bodies that coerce and truncate instead.

use crate::intake::rejection::Problem;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

pub use crate::core::text::{
    MAX_CONTEXT_ENTRIES, MAX_CONTEXT_KEY, MAX_CONTEXT_VALUE, MAX_DESCRIPTION, MAX_ID, MAX_LINK,
    MAX_RULE, MAX_SOURCE, MAX_TITLE, MAX_USER, as_text, lookup, truncate,
};

/// Reads a time: RFC 3339, "YYYY-MM-DD HH:MM:SS[.fff]" taken as UTC, or seconds (or
/// milliseconds, when the number is that large) since 1970.
pub fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    let from_number = |n: f64| {
        let millis = if n.abs() > 1e11 { n } else { n * 1000.0 };
        Utc.timestamp_millis_opt(millis as i64).single()
    };
    match value {
        Value::Number(n) => from_number(n.as_f64()?),
        Value::String(s) => {
            let s = s.trim();
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                        .ok()
                        .map(|t| t.and_utc())
                })
                .or_else(|| s.parse::<f64>().ok().and_then(from_number))
        }
        _ => None,
    }
}

/// Strict readers that collect problems, for canonical JSON.
pub struct Strict<'a> {
    pub object: &'a serde_json::Map<String, Value>,
    /// "alerts[2]." or "" for a single alert.
    pub prefix: String,
    pub problems: Vec<Problem>,
}

impl<'a> Strict<'a> {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::new(format!("{}{field}", self.prefix), message));
    }

    pub fn text(&mut self, field: &str, max: usize, required: bool) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(field, "is required");
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.problem(field, "must not be empty");
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                self.problem(
                    field,
                    format!(
                        "must be at most {max} characters (got {})",
                        s.chars().count()
                    ),
                );
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(other) => {
                self.problem(field, format!("must be a string, not {}", type_name(other)));
                None
            }
        }
    }

    pub fn time(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let value = self.object.get(field).filter(|v| !v.is_null())?;
        let parsed = parse_time(value);
        if parsed.is_none() {
            self.problem(
                field,
                "must be an RFC 3339 time (2026-11-28T10:00:00Z) or seconds since 1970",
            );
        }
        parsed
    }

    pub fn context(&mut self, field: &str) -> BTreeMap<String, String> {
        let mut context = BTreeMap::new();
        let Some(value) = self.object.get(field).filter(|v| !v.is_null()) else {
            return context;
        };
        let Some(map) = value.as_object() else {
            self.problem(
                field,
                format!("must be an object of strings, not {}", type_name(value)),
            );
            return context;
        };
        if map.len() > MAX_CONTEXT_ENTRIES {
            self.problem(
                field,
                format!(
                    "must have at most {MAX_CONTEXT_ENTRIES} entries (got {})",
                    map.len()
                ),
            );
            return context;
        }
        for (key, value) in map {
            let path = format!("{field}.{key}");
            if key.is_empty() || key.chars().count() > MAX_CONTEXT_KEY {
                self.problem(
                    &path,
                    format!("keys must be 1 to {MAX_CONTEXT_KEY} characters"),
                );
                continue;
            }
            match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    let text = as_text(value).unwrap_or_default();
                    if text.chars().count() > MAX_CONTEXT_VALUE {
                        self.problem(
                            &path,
                            format!("must be at most {MAX_CONTEXT_VALUE} characters"),
                        );
                    } else {
                        context.insert(key.clone(), text);
                    }
                }
                Value::Null => {}
                other => self.problem(
                    &path,
                    format!(
                        "must be a string, number or boolean, not {}",
                        type_name(other)
                    ),
                ),
            }
        }
        context
    }
}

pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Forgiving context for native bodies: each configured path contributes its value, or, when
/// it names an object, each of its scalar members. A path written `key=path` names its value
/// `key` (so `host=_source.host.name` is `host`, which snooze scopes and people understand);
/// otherwise the key is the path's last segment. The first path to give a key wins, so several
/// spellings of one field (`command=cmdline`, `command=CommandLine`) can be listed in order.
pub fn gather_context(root: &Value, paths: &[String]) -> BTreeMap<String, String> {
    let mut context = BTreeMap::new();
    for entry in paths {
        let (name, path) = match entry.split_once('=') {
            Some((name, path)) => (Some(name.trim()), path.trim()),
            None => (None, entry.as_str()),
        };
        let Some(value) = lookup(root, path) else {
            continue;
        };
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    if let Some(text) = as_text(member) {
                        context.insert(
                            truncate(key, MAX_CONTEXT_KEY),
                            truncate(&text, MAX_CONTEXT_VALUE),
                        );
                    }
                }
            }
            other => {
                if let Some(text) = as_text(other).filter(|t| !t.trim().is_empty()) {
                    let key = name.unwrap_or_else(|| path.rsplit('.').next().unwrap_or(path));
                    context
                        .entry(truncate(key, MAX_CONTEXT_KEY))
                        .or_insert_with(|| truncate(&text, MAX_CONTEXT_VALUE));
                }
            }
        }
        if context.len() >= MAX_CONTEXT_ENTRIES {
            break;
        }
    }
    while context.len() > MAX_CONTEXT_ENTRIES {
        context.pop_last();
    }
    context
}

/// The first configured path that yields non-empty text.
pub fn first_text(root: &Value, paths: &[String]) -> Option<String> {
    paths
        .iter()
        .filter_map(|path| lookup(root, path).and_then(as_text))
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
}

/// Accepts only http(s) links, so a chat message never carries a javascript: or file: URL.
pub fn is_web_link(link: &str) -> bool {
    (link.starts_with("https://") || link.starts_with("http://"))
        && !link.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_find_nested_and_flattened_keys() {
        let v = serde_json::json!({
            "a": {"b": {"c": 1}},
            "kibana.alert.rule.name": "sudo",
            "host": {"os.name": "linux"}
        });
        assert_eq!(lookup(&v, "a.b.c"), Some(&serde_json::json!(1)));
        assert_eq!(
            lookup(&v, "kibana.alert.rule.name"),
            Some(&serde_json::json!("sudo"))
        );
        assert_eq!(
            lookup(&v, "host.os.name"),
            Some(&serde_json::json!("linux"))
        );
        assert_eq!(lookup(&v, "a.x"), None);
    }

    #[test]
    fn times_in_every_shape_agree() {
        let t = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        for v in [
            json!("2026-11-28T10:00:00Z"),
            json!("2026-11-28T11:00:00+01:00"),
            json!("2026-11-28 10:00:00.000"),
            json!(t.timestamp()),
            json!(t.timestamp_millis()),
            json!(t.timestamp().to_string()),
        ] {
            assert_eq!(parse_time(&v), Some(t), "{v}");
        }
        assert_eq!(parse_time(&json!("yesterday")), None);
    }

    #[test]
    fn lookup_text_and_context() {
        let v = json!({"a": {"b": ["x", "y"], "n": 3, "o": {"deep": 1}}});
        assert_eq!(
            first_text(&v, &["a.missing".into(), "a.b".into()]),
            Some("x, y".into())
        );
        let ctx = gather_context(&v, &["a".into()]);
        assert_eq!(ctx.get("n").map(String::as_str), Some("3"));
        assert!(!ctx.contains_key("o"), "objects are not flattened twice");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}

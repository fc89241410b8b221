//! Text and JSON helpers every layer uses: the field limits an alert is held to, cutting text
//! to a limit, and reading dotted paths out of JSON. Pure.

use serde_json::Value;

pub const MAX_SOURCE: usize = 64;
pub const MAX_ID: usize = 256;
pub const MAX_RULE: usize = 128;
pub const MAX_USER: usize = 256;
pub const MAX_TITLE: usize = 256;
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_CONTEXT_ENTRIES: usize = 50;
pub const MAX_CONTEXT_KEY: usize = 64;
pub const MAX_CONTEXT_VALUE: usize = 1024;
pub const MAX_LINK: usize = 2048;

/// Follows a dotted path ("alertContext.actor.email") into a JSON value. Keys that contain
/// dots themselves (Elastic's flattened "kibana.alert.rule.name") are found too, longest first.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(found) = value.get(path) {
        return Some(found);
    }
    path.match_indices('.').rev().find_map(|(i, _)| {
        let inner = value.get(&path[..i])?;
        lookup(inner, &path[i + 1..])
    })
}

/// A scalar as text: strings as they are, numbers and booleans printed, arrays of scalars
/// joined (Splunk's multi-value fields). Objects and nulls are not text.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(as_text).collect();
            parts.map(|p| p.join(", ")).filter(|s| !s.is_empty())
        }
        Value::Null | Value::Object(_) => None,
    }
}

/// Cuts to at most `max` characters (on a char boundary), marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The most of a received payload kept as an alert's `raw` (for investigations): with the
/// alert's own fields at their limits, the stored item stays under DynamoDB's 400 KB.
pub const MAX_RAW_BYTES: usize = 128 * 1024;

/// Cuts `text` to at most `max` bytes on a character boundary, saying so in the text.
pub fn cut_bytes(mut text: String, max: usize) -> String {
    const MARK: &str = "…[truncated by securitybot]";
    if text.len() > max {
        let mut cut = max.saturating_sub(MARK.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(MARK);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_a_character_boundary_and_says_so() {
        assert_eq!(cut_bytes("short".into(), 100), "short");
        let cut = cut_bytes("é".repeat(100), 50);
        assert!(
            cut.len() <= 50 && cut.ends_with("[truncated by securitybot]"),
            "{cut}"
        );
    }
}

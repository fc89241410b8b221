//! Slack's Block Kit, checked offline. Nothing has been sent to the real Slack API from these
//! tests, so every payload is held to a typed model of Block Kit and views from a well-kept crate
//! (slack-morphism's, used here only) and to Slack's documented limits:
//! - it must deserialise into the model (a wrong `type`, a missing `text`, a button where an
//!   input element goes: all fail);
//! - re-serialised, it must still carry every field and value it had: a field the model does
//!   not know (a misspelling, a field of another element) is one Slack rejects or ignores;
//! - lengths and counts within Slack's limits (block reference, "Reference: views"), which
//!   Slack enforces by refusing the whole message (`invalid_blocks`) or view.
//!
//! The Slack stand-in runs every message and view it receives through here, so every path any
//! test drives is checked; `tests/tests/block_kit.rs` drives the ones no other test reaches.

use serde_json::Value;
use slack_morphism::prelude::{
    SlackAppManifest, SlackBlock, SlackView, SlackViewSubmissionResponse,
};
use std::collections::HashSet;

/// Problems found in one Web API call's payload (empty: Slack would accept it).
pub fn check_call(method: &str, args: &Value) -> Vec<String> {
    match method {
        "chat.postMessage" | "chat.update" | "chat.postEphemeral" => check_message(args),
        "views.open" | "views.publish" | "views.update" | "views.push" => check_view(&args["view"]),
        _ => Vec::new(),
    }
}

/// A message: `text` (the notification and fallback) and optional `blocks`.
pub fn check_message(args: &Value) -> Vec<String> {
    let mut problems = Problems::default();
    match args.get("text").and_then(Value::as_str) {
        // Slack truncates beyond 40,000 and advises at most 4,000 characters.
        Some(text) => problems.max_chars("message text", text, 4000),
        None => {
            problems.push("message: no top-level text (notifications and screen readers use it)")
        }
    }
    if let Some(blocks) = args.get("blocks") {
        problems.blocks(blocks, 50, "message");
    }
    problems.0
}

/// A modal or Home tab view.
pub fn check_view(view: &Value) -> Vec<String> {
    let mut problems = Problems::default();
    let typed: SlackView = match serde_json::from_value(view.clone()) {
        Ok(typed) => typed,
        Err(e) => return vec![format!("view: not a Block Kit view: {e}")],
    };
    problems.lost("view", view, &serde_json::to_value(&typed).unwrap());
    problems.blocks(&view["blocks"], 100, "view");
    if view["type"] == "modal" {
        for field in ["title", "submit", "close"] {
            if let Some(text) = view[field]["text"].as_str() {
                problems.max_chars(&format!("modal {field}"), text, 24);
            }
        }
    }
    for (field, max) in [
        ("private_metadata", 3000),
        ("callback_id", 255),
        ("external_id", 255),
    ] {
        if let Some(text) = view[field].as_str() {
            problems.max_chars(&format!("view {field}"), text, max);
        }
    }
    problems.0
}

/// The body answering a view submission (`response_action`), with the form it answers: every
/// error must name one of the form's input blocks, or Slack shows nothing.
pub fn check_submission_response(body: &Value, form: &Value) -> Vec<String> {
    let mut problems = Problems::default();
    match serde_json::from_value::<SlackViewSubmissionResponse>(body.clone()) {
        Ok(typed) => problems.lost("response", body, &serde_json::to_value(&typed).unwrap()),
        Err(e) => problems.push(format!("response: not a view submission response: {e}")),
    }
    let inputs: HashSet<&str> = form["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "input")
        .filter_map(|b| b["block_id"].as_str())
        .collect();
    for (block, message) in body["errors"].as_object().into_iter().flatten() {
        if !inputs.contains(block.as_str()) {
            problems.push(format!(
                "response: error for `{block}`, not an input of the form"
            ));
        }
        if let Some(text) = message.as_str() {
            problems.max_chars(&format!("error for {block}"), text, 2000);
        }
    }
    problems.0
}

/// The app manifest (YAML, as pasted into api.slack.com/apps).
pub fn check_manifest(manifest: &Value) -> Vec<String> {
    let mut problems = Problems::default();
    // Documented by Slack's manifest reference, but not (yet) in slack-morphism's model.
    let mut modelled = manifest.clone();
    if let Some(settings) = modelled["settings"].as_object_mut() {
        settings.remove("token_rotation_enabled");
    }
    match serde_json::from_value::<SlackAppManifest>(modelled.clone()) {
        Ok(typed) => problems.lost(
            "manifest",
            &modelled,
            &serde_json::to_value(&typed).unwrap(),
        ),
        Err(e) => problems.push(format!("manifest: not a Slack app manifest: {e}")),
    }
    let display = &manifest["display_information"];
    problems.max_chars("app name", display["name"].as_str().unwrap_or_default(), 35);
    if let Some(text) = display["description"].as_str() {
        problems.max_chars("app description", text, 140);
    }
    if let Some(text) = display["long_description"].as_str() {
        let n = text.chars().count();
        if !(175..=4000).contains(&n) {
            problems.push(format!(
                "app long_description: {n} characters (175 to 4000)"
            ));
        }
    }
    if let Some(name) = manifest["features"]["bot_user"]["display_name"].as_str() {
        problems.max_chars("bot display_name", name, 80);
    }
    problems.0
}

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    fn max_chars(&mut self, what: &str, text: &str, max: usize) {
        let n = text.chars().count();
        if n > max {
            self.push(format!("{what}: {n} characters (at most {max})"));
        }
    }

    fn text_object(&mut self, what: &str, text: &Value, max: usize) {
        let content = text["text"].as_str().unwrap_or_default();
        if content.is_empty() {
            self.push(format!(
                "{what}: empty text (Slack needs at least one character)"
            ));
        }
        self.max_chars(what, content, max);
    }

    fn blocks(&mut self, blocks: &Value, max_blocks: usize, surface: &str) {
        let Some(list) = blocks.as_array() else {
            return self.push(format!("{surface}: blocks is not a list"));
        };
        if list.len() > max_blocks {
            self.push(format!(
                "{surface}: {} blocks (at most {max_blocks})",
                list.len()
            ));
        }
        let mut block_ids = HashSet::new();
        for (i, block) in list.iter().enumerate() {
            let at = format!(
                "{surface} block {i} ({})",
                block["type"].as_str().unwrap_or("?")
            );
            match serde_json::from_value::<SlackBlock>(block.clone()) {
                Ok(SlackBlock::Unknown(_)) => {
                    self.push(format!("{at}: not a block Slack knows in this shape"));
                    continue;
                }
                Ok(typed) => self.lost(&at, block, &serde_json::to_value(&typed).unwrap()),
                Err(e) => {
                    self.push(format!("{at}: not a Block Kit block: {e}"));
                    continue;
                }
            }
            if let Some(id) = block["block_id"].as_str() {
                self.max_chars(&format!("{at} block_id"), id, 255);
                if !block_ids.insert(id.to_string()) {
                    self.push(format!("{at}: block_id `{id}` used twice"));
                }
            }
            self.block(&at, block);
        }
    }

    fn block(&mut self, at: &str, block: &Value) {
        match block["type"].as_str().unwrap_or_default() {
            "section" => {
                let text = block.get("text");
                let fields = block["fields"].as_array();
                if text.is_none() && fields.is_none() {
                    self.push(format!("{at}: neither text nor fields"));
                }
                if let Some(text) = text {
                    self.text_object(&format!("{at} text"), text, 3000);
                }
                if let Some(fields) = fields {
                    if fields.len() > 10 {
                        self.push(format!("{at}: {} fields (at most 10)", fields.len()));
                    }
                    for field in fields {
                        self.text_object(&format!("{at} field"), field, 2000);
                    }
                }
            }
            "header" => self.text_object(&format!("{at} text"), &block["text"], 150),
            "context" => {
                let elements = block["elements"].as_array().map_or(&[][..], Vec::as_slice);
                if elements.is_empty() || elements.len() > 10 {
                    self.push(format!("{at}: {} elements (1 to 10)", elements.len()));
                }
                for element in elements.iter().filter(|e| e.get("text").is_some()) {
                    self.text_object(&format!("{at} element"), element, 3000);
                }
            }
            "actions" => {
                let elements = block["elements"].as_array().map_or(&[][..], Vec::as_slice);
                if elements.is_empty() || elements.len() > 25 {
                    self.push(format!("{at}: {} elements (1 to 25)", elements.len()));
                }
                let mut action_ids = HashSet::new();
                for element in elements {
                    if let Some(id) = element["action_id"].as_str()
                        && !action_ids.insert(id)
                    {
                        self.push(format!("{at}: action_id `{id}` used twice in one block"));
                    }
                    self.element(at, element);
                }
            }
            "input" => {
                self.text_object(&format!("{at} label"), &block["label"], 2000);
                if let Some(hint) = block.get("hint") {
                    self.text_object(&format!("{at} hint"), hint, 2000);
                }
                self.element(at, &block["element"]);
            }
            _ => {}
        }
    }

    fn element(&mut self, at: &str, element: &Value) {
        let kind = element["type"].as_str().unwrap_or_default();
        let at = format!("{at} {kind}");
        if let Some(id) = element["action_id"].as_str() {
            self.max_chars(&format!("{at} action_id"), id, 255);
        }
        if let Some(placeholder) = element.get("placeholder") {
            self.text_object(&format!("{at} placeholder"), placeholder, 150);
        }
        match kind {
            "button" => {
                self.text_object(&format!("{at} text"), &element["text"], 75);
                if let Some(value) = element["value"].as_str() {
                    self.max_chars(&format!("{at} value"), value, 2000);
                }
            }
            "plain_text_input" => {
                let min = element["min_length"].as_u64().unwrap_or(0);
                let max = element["max_length"].as_u64().unwrap_or(3000);
                if min > 3000 || max > 3000 || min > max || max == 0 {
                    self.push(format!(
                        "{at}: lengths {min}..{max} (0 to 3000, min <= max)"
                    ));
                }
            }
            "static_select" => {
                let options = element["options"].as_array().map_or(&[][..], Vec::as_slice);
                if options.is_empty() || options.len() > 100 {
                    self.push(format!("{at}: {} options (1 to 100)", options.len()));
                }
                for option in options {
                    self.text_object(&format!("{at} option"), &option["text"], 75);
                    self.max_chars(
                        &format!("{at} option value"),
                        option["value"].as_str().unwrap_or_default(),
                        150,
                    );
                }
                if let Some(initial) = element.get("initial_option")
                    && !options.contains(initial)
                {
                    self.push(format!("{at}: initial_option is not one of the options"));
                }
            }
            _ => {}
        }
    }

    /// Every field and value of `original` must survive the typed round trip (`back`).
    fn lost(&mut self, at: &str, original: &Value, back: &Value) {
        match (original, back) {
            (Value::Object(o), Value::Object(b)) => {
                for (key, value) in o {
                    match b.get(key) {
                        Some(kept) => self.lost(&format!("{at}.{key}"), value, kept),
                        None => {
                            self.push(format!("{at}: field `{key}` is not in Slack's model here"))
                        }
                    }
                }
            }
            (Value::Array(o), Value::Array(b)) if o.len() == b.len() => {
                for (i, (value, kept)) in o.iter().zip(b).enumerate() {
                    self.lost(&format!("{at}[{i}]"), value, kept);
                }
            }
            (o, b) if o == b => {}
            // URLs read back with the host in lower case, which names the same host.
            (Value::String(o), Value::String(b))
                if o.starts_with("https://") && o.eq_ignore_ascii_case(b) => {}
            (o, b) => self.push(format!("{at}: {o} does not read back as itself (read {b})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(blocks: Value) -> Vec<String> {
        check_message(&json!({ "channel": "C1", "text": "hi", "blocks": blocks }))
    }

    #[test]
    fn a_valid_message_passes() {
        let problems = message(json!([
            { "type": "section", "text": { "type": "mrkdwn", "text": "*hi*" } },
            { "type": "actions", "elements": [{ "type": "button", "action_id": "a", "value": "v",
              "style": "primary", "text": { "type": "plain_text", "text": "Yes", "emoji": true } }] },
            { "type": "context", "elements": [{ "type": "mrkdwn", "text": "small" }] },
        ]));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn each_kind_of_mistake_is_caught() {
        let cases = [
            (
                json!([{ "type": "sektion", "text": { "type": "mrkdwn", "text": "x" } }]),
                "not a block",
            ),
            (
                json!([{ "type": "section", "txt": { "type": "mrkdwn", "text": "x" } }]),
                "txt",
            ),
            (
                json!([{ "type": "section", "text": { "type": "mrkdwn", "text": "" } }]),
                "empty text",
            ),
            (
                json!([{ "type": "section", "text": { "type": "mrkdwn", "text": "x".repeat(3001) } }]),
                "3001 characters",
            ),
            (
                json!([{ "type": "actions", "elements": [{ "type": "button", "action_id": "a",
                "text": { "type": "mrkdwn", "text": "Yes" } }] }]),
                "does not read back as itself",
            ),
            (
                json!([{ "type": "actions", "elements": [{ "type": "button", "action_id": "a",
                "text": { "type": "plain_text", "text": "y".repeat(76) } }] }]),
                "76 characters",
            ),
            (
                json!([{ "type": "actions", "elements": [{ "type": "button", "action_id": "a", "colour": "red",
                "text": { "type": "plain_text", "text": "Yes" } }] }]),
                "colour",
            ),
            (
                json!([{ "type": "actions", "elements": [{ "type": "button", "action_id": "a", "style": "loud",
                "text": { "type": "plain_text", "text": "Yes" } }] }]),
                "not a block",
            ),
            (
                json!(
                    (0..51)
                        .map(|_| json!({ "type": "divider" }))
                        .collect::<Vec<_>>()
                ),
                "51 blocks",
            ),
            (
                json!([{ "type": "section", "fields": (0..11).map(|_| json!({ "type": "mrkdwn", "text": "f" })).collect::<Vec<_>>() }]),
                "11 fields",
            ),
        ];
        for (blocks, expected) in cases {
            let problems = message(blocks.clone());
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{blocks} should fail with `{expected}`: {problems:?}"
            );
        }
    }

    #[test]
    fn views_are_held_to_their_own_limits() {
        let modal = |title: &str| {
            json!({ "type": "modal", "title": { "type": "plain_text", "text": title },
                    "blocks": [{ "type": "input", "block_id": "code", "label": { "type": "plain_text", "text": "Code" },
                                 "element": { "type": "plain_text_input", "action_id": "value", "max_length": 6 } }] })
        };
        assert!(check_view(&modal("Confirm it was you")).is_empty());
        assert!(
            check_view(&modal("Confirm that it really was you"))
                .iter()
                .any(|p| p.contains("modal title"))
        );
        assert!(!check_view(&json!({ "type": "sheet", "blocks": [] })).is_empty());
        let errors = json!({ "response_action": "errors", "errors": { "code": "wrong" } });
        assert!(check_submission_response(&errors, &modal("x")).is_empty());
        let elsewhere = json!({ "response_action": "errors", "errors": { "explanation": "say" } });
        assert!(!check_submission_response(&elsewhere, &modal("x")).is_empty());
    }
}

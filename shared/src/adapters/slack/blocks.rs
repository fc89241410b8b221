//! Block Kit rendering, within Slack's limits (3000 characters a section, 10 fields of 2000, 75
//! characters a button, 50 blocks), escaping everything that came from an alert.

use crate::core::messages::{Block, Message};
use crate::core::text::truncate;
use crate::ports::AnswerForm;
use serde_json::{Value, json};

pub const FORM_CALLBACK: &str = "securitybot_answer";
pub const EXPLANATION_BLOCK: &str = "explanation";
pub const CODE_BLOCK: &str = "code";
pub const SNOOZE_BLOCK: &str = "snooze";

/// Slack's three control characters in text.
pub fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !is_invisible(*c))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Direction overrides and zero-width characters: they make text read other than it is
/// (U+202E turns "exe.txt" around), so alert text never carries them to Slack.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A message's top-level `text` (notifications, and clients that cannot show blocks): built
/// from alert text, so escaped like every field of the blocks.
pub fn fallback_text(message: &Message) -> String {
    escape(&message.summary)
}

fn mrkdwn(text: String) -> Value {
    json!({ "type": "mrkdwn", "text": truncate(&text, 3000) })
}

pub fn render(message: &Message) -> Vec<Value> {
    let mut out = Vec::new();
    for block in &message.blocks {
        match block {
            Block::Say(text) => out.push(json!({ "type": "section", "text": mrkdwn(text.clone()) })),
            Block::Facts(facts) => {
                for chunk in facts.chunks(10) {
                    let fields: Vec<Value> = chunk
                        .iter()
                        .map(|(label, value)| mrkdwn(truncate(&format!("*{}*\n{}", escape(label), escape(value)), 2000)))
                        .collect();
                    out.push(json!({ "type": "section", "fields": fields }));
                }
            }
            Block::Quote(text) => out.push(json!({ "type": "section", "text": mrkdwn(format!(">{}", escape(text).replace('\n', "\n>"))) })),
            Block::Link { label, url } => {
                let safe_url = url.replace('|', "%7C").replace('>', "%3E").replace('<', "%3C");
                out.push(json!({ "type": "section", "text": mrkdwn(format!("<{safe_url}|{}>", escape(label))) }));
            }
            Block::Note(text) => out.push(json!({ "type": "context", "elements": [mrkdwn(text.clone())] })),
            Block::Buttons(buttons) => {
                let elements: Vec<Value> = buttons
                    .iter()
                    .map(|b| {
                        let mut button = json!({
                            "type": "button",
                            "action_id": b.action.id(),
                            "value": b.value,
                            "text": { "type": "plain_text", "text": truncate(&b.label, 75), "emoji": true },
                        });
                        if b.primary {
                            button["style"] = json!("primary");
                        } else if b.danger {
                            button["style"] = json!("danger");
                        }
                        button
                    })
                    .collect();
                out.push(json!({ "type": "actions", "elements": elements }));
            }
            Block::Table(rows) => {
                let lines = table_lines(rows);
                for chunk in split_lines(&lines, SECTION_MAX - 8) {
                    out.push(json!({ "type": "section", "text": mrkdwn(format!("```\n{chunk}\n```")) }));
                }
            }
            Block::List(items) => {
                let lines: Vec<String> = items.iter().map(|i| format!("• {}", escape(&truncate(i, 300)))).collect();
                for chunk in split_lines(&lines, SECTION_MAX) {
                    out.push(json!({ "type": "section", "text": mrkdwn(chunk) }));
                }
            }
        }
    }
    out.truncate(50);
    out
}

const SECTION_MAX: usize = 3000;
/// Cells longer than this are cut, so one long rule name cannot widen every row.
const CELL_MAX: usize = 32;

/// Lays a table out in fixed-width columns (numbers right-aligned), escaped for a code block.
fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| escape(&truncate(&c.replace('`', "'"), CELL_MAX)))
                .collect()
        })
        .collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    cells
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        format!("{c:<w$}", w = widths[i])
                    } else {
                        format!("{c:>w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect()
}

/// Joins lines into chunks of at most `max` characters, never splitting a line.
fn split_lines(lines: &[String], max: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        if !current.is_empty() && current.chars().count() + line.chars().count() + 1 > max {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text, "emoji": true })
}

/// The Yes form: what were you doing, the code, and how long to skip repeats.
pub fn answer_form(form: &AnswerForm) -> Value {
    let mut blocks = vec![
        json!({ "type": "section", "text": mrkdwn(format!("*{}*", escape(&truncate(&form.title, 200)))) }),
        json!({
            "type": "input", "block_id": EXPLANATION_BLOCK,
            "label": plain("What were you doing?"),
            "element": { "type": "plain_text_input", "action_id": "value", "max_length": 500,
                         "placeholder": plain("e.g. fixing the nightly build") }
        }),
    ];
    if form.needs_code {
        blocks.push(json!({
            "type": "input", "block_id": CODE_BLOCK,
            "label": plain("6-digit code from your authenticator app"),
            "element": { "type": "plain_text_input", "action_id": "value", "min_length": 6, "max_length": 6 }
        }));
    }
    if form.push_follows {
        blocks.push(json!({ "type": "context", "elements": [mrkdwn(
            ":iphone: When you press Confirm, I'll send a push to your phone: approve it there and we're done.".into())] }));
    }
    if !form.snooze_choices.is_empty() {
        let options: Vec<Value> = form
            .snooze_choices
            .iter()
            .map(|m| json!({ "text": plain(&duration_label(*m)), "value": m.to_string() }))
            .collect();
        blocks.push(json!({
            "type": "input", "block_id": SNOOZE_BLOCK, "optional": true,
            "label": plain("Skip repeats of this alert, in the same place, for"),
            "element": { "type": "static_select", "action_id": "value", "options": options.clone(), "initial_option": options[0] }
        }));
    }
    json!({
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": form.alert_id.as_str(),
        "title": plain("Confirm it was you"),
        "submit": plain("Confirm"),
        "close": plain("Cancel"),
        "blocks": blocks,
    })
}

pub const ENROLL_CALLBACK: &str = "securitybot_enroll";
pub const ENROLL_ACTION: &str = "enroll_start";

/// The Home tab: set up two-factor, or you're set.
pub fn home(enrolled: bool) -> Value {
    let mut blocks = vec![json!({ "type": "section", "text": mrkdwn(
        "*Hi, I'm Securitybot* :wave:\nWhen our monitoring sees something done with your account, I'll ask you here whether it was you. \
         Saying yes takes a 6-digit code from an authenticator app, so nobody else can answer for you.".into()) })];
    if enrolled {
        blocks.push(json!({ "type": "section", "text": mrkdwn(":white_check_mark: *Two-factor is set up.* Lost your phone or changed apps? Ask the security team to reset it, then come back here.".into()) }));
    } else {
        blocks.push(json!({ "type": "section", "text": mrkdwn(":key: *Two-factor isn't set up yet.* It takes a minute with any authenticator app (Google Authenticator, 1Password, Authy...).".into()) }));
        blocks.push(json!({ "type": "actions", "elements": [{
            "type": "button", "action_id": ENROLL_ACTION, "style": "primary", "text": plain("Set up two-factor"),
        }] }));
    }
    json!({ "type": "home", "blocks": blocks })
}

/// The enrollment form: the secret (and its otpauth URI), and the first code to prove it works.
/// Shown once, in a form only the person sees; never posted as a message.
pub fn enrollment_form(otpauth_uri: &str) -> Value {
    let secret = otpauth_uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default();
    json!({
        "type": "modal",
        "callback_id": ENROLL_CALLBACK,
        "title": plain("Set up two-factor"),
        "submit": plain("Finish"),
        "close": plain("Cancel"),
        "blocks": [
            { "type": "section", "text": mrkdwn(format!("In your authenticator app, add an account with this key (time-based, 6 digits):\n`{}`", escape(secret))) },
            { "type": "context", "elements": [mrkdwn(format!("Or open this link on your phone: {}", escape(otpauth_uri)))] },
            { "type": "input", "block_id": CODE_BLOCK, "label": plain("The 6-digit code your app shows now"),
              "element": { "type": "plain_text_input", "action_id": "value", "min_length": 6, "max_length": 6 } }
        ]
    })
}

fn duration_label(minutes: u32) -> String {
    match minutes {
        0 => "Don't skip any".to_string(),
        m if m % 1440 == 0 => format!("{} day{}", m / 1440, if m == 1440 { "" } else { "s" }),
        m if m % 60 == 0 => format!("{} hour{}", m / 60, if m == 60 { "" } else { "s" }),
        m => format!("{m} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::alert::AlertId;
    use crate::core::messages::{Button, ButtonAction};

    #[test]
    fn nothing_from_the_siem_can_ping_a_channel_in_an_escalation() {
        let mut record = crate::core::messages::tests::record();
        record.alert.rule = "<!channel> rule".into();
        record.alert.title = "<!here> title".into();
        record.user = Some("<@U123>".into());
        let text =
            serde_json::to_string(&render(&crate::core::messages::escalation(&record))).unwrap();
        for raw in ["<!channel>", "<!here>", "<@U123>"] {
            assert!(!text.contains(raw), "{raw} reached Slack unescaped: {text}");
        }
        assert!(text.contains("&lt;!channel&gt; rule"));
    }

    #[test]
    fn long_tables_and_lists_split_into_sections_within_limits() {
        let mut rows = vec![vec!["Rule".to_string(), "Alerts".to_string()]];
        rows.extend(
            (0..200).map(|i| vec![format!("<rule-{i:03}>`{}", "x".repeat(60)), i.to_string()]),
        );
        let items: Vec<String> = (0..100)
            .map(|i| format!("<@U{i}> {}", "y".repeat(80)))
            .collect();
        let out = render(&Message {
            summary: "s".into(),
            blocks: vec![Block::Table(rows), Block::List(items)],
        });
        assert!(out.len() > 4, "split into several sections");
        for block in &out {
            let text = block["text"]["text"].as_str().unwrap();
            assert!(text.chars().count() <= 3000);
            assert!(!text.contains('<'), "cells and items are escaped");
        }
        let first = out[0]["text"]["text"].as_str().unwrap();
        assert!(first.starts_with("```\nRule"));
        assert!(first.ends_with("```"));
        // Cells are cut to 32 characters, so every row has the same width.
        let widths: Vec<usize> = first
            .lines()
            .skip(2)
            .take(3)
            .map(|l| l.chars().count())
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
    }

    #[test]
    fn alert_text_is_escaped_and_limits_hold() {
        let message = Message {
            summary: "s".into(),
            blocks: vec![
                Block::Facts(
                    (0..12)
                        .map(|i| (format!("k{i}"), "<!channel> & x".to_string()))
                        .collect(),
                ),
                Block::Quote("y".repeat(5000)),
                Block::Buttons(vec![Button {
                    action: ButtonAction::AnswerNo,
                    label: "n".repeat(100),
                    value: "al_1".into(),
                    primary: false,
                    danger: true,
                }]),
            ],
        };
        let blocks = render(&message);
        assert_eq!(blocks.len(), 4, "12 facts split into sections of 10");
        let text = blocks[0]["fields"][0]["text"].as_str().unwrap();
        assert_eq!(text, "*k0*\n&lt;!channel&gt; &amp; x");
        assert!(blocks[2]["text"]["text"].as_str().unwrap().chars().count() <= 3000);
        assert_eq!(blocks[3]["elements"][0]["action_id"], "answer_no");
        assert_eq!(blocks[3]["elements"][0]["value"], "al_1");
        assert!(
            blocks[3]["elements"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 75
        );
    }

    #[test]
    fn hostile_alert_text_is_inert_in_the_fallback_text_too() {
        let mut record = crate::core::messages::tests::record();
        record.alert.title =
            "<!channel> <https://evil.example|click here> & <@U123> \u{202E}txt.exe".into();
        record.escalation_reason = Some(crate::core::state::EscalationReason::Denied);
        let answered = crate::core::messages::Answered::Denied;
        for message in [
            crate::core::messages::ask(&record, false, record.received_at),
            crate::core::messages::answered(&record, answered),
            crate::core::messages::escalation(&record),
            crate::core::messages::reminder(&record, record.received_at),
        ] {
            let text = fallback_text(&message);
            for live in ["<!", "<@", "<http", "\u{202E}"] {
                assert!(!text.contains(live), "{live} in {text}");
            }
            assert!(
                text.contains("&lt;!channel&gt;") && text.contains("&amp;"),
                "{text}"
            );
        }
    }

    /// Every message the bot can send, built from an alert whose every field (and every name
    /// a person or operator chose) is hostile: nothing live may reach Slack, in the blocks or
    /// in the top-level text. The only mention allowed is the team member we name ourselves.
    #[test]
    fn every_message_with_hostile_alert_text_is_inert() {
        use crate::core::messages::{self, Answered};
        use crate::core::rollup::{Cadence, Digest, Period, digest_message};
        use crate::core::state::{EscalationReason, Status};
        use crate::core::work::{Announcement, Notice};
        const HOSTILE: &str = "<!channel> <!here> <https://evil.example|click here> & <@U123> <#C999> \u{202E}txt.exe\u{200B}";
        const MEMBER: &str = "UTEAM1";
        let mut record = crate::core::messages::tests::record();
        record.alert.title = HOSTILE.into();
        record.alert.description = HOSTILE.into();
        record.alert.rule = HOSTILE.into();
        record.alert.source = HOSTILE.into();
        record.alert.user = Some(HOSTILE.into());
        record.user = Some(HOSTILE.into());
        record.alert.context = [(HOSTILE.to_string(), HOSTILE.to_string())].into();
        record.alert.link = None;
        record.explanation = Some(HOSTILE.into());
        record.escalation_detail = Some(HOSTILE.into());
        let at = record.received_at;
        let mut all = vec![
            messages::ask(&record, false, at),
            messages::ask(&record, true, at),
            messages::reminder(&record, at),
            messages::push_sent(),
            messages::push_expired(),
            messages::escalation_closed(&record, MEMBER, "Acknowledged"),
            messages::enrollment_decided(HOSTILE, true, MEMBER, at),
        ];
        for answered in [
            Answered::Denied,
            Answered::Confirmed {
                snoozed_until: Some(at),
            },
            Answered::SecondFactorFailed,
            Answered::NotEnrolled,
            Answered::NotYetVouched,
            Answered::AwaitingCode,
            Answered::PushDenied,
            Answered::NoPush,
            Answered::TimedOut,
        ] {
            all.push(messages::answered(&record, answered));
        }
        for reason in [
            EscalationReason::Denied,
            EscalationReason::SecondFactorFailed,
            EscalationReason::SecondFactorDenied,
            EscalationReason::NoAnswer,
            EscalationReason::UnmappableUser,
            EscalationReason::NeverContact,
            EscalationReason::UnknownInChat,
            EscalationReason::UnverifiedYes,
        ] {
            let mut escalated = record.clone();
            escalated.escalation_reason = Some(reason);
            all.push(messages::escalation(&escalated));
        }
        for notice in [
            Notice::EnrollmentRequest,
            Notice::EnrollmentCoolingOff,
            Notice::EnrollmentApproved,
            Notice::EnrollmentRejected,
            Notice::OperatorEnrolled,
            Notice::SecondFactorReset,
            Notice::NeverContactAdded,
            Notice::NeverContactRemoved,
            Notice::SnoozeRemoved,
            Notice::AlertNotProcessed,
        ] {
            let a = Announcement::new(notice, HOSTILE, HOSTILE, at).with_detail(HOSTILE);
            all.push(messages::announcement(&a, Some(HOSTILE)));
        }
        let mut escalated = record.clone();
        escalated.status = Status::Escalated;
        for cadence in [Cadence::Hourly, Cadence::Daily] {
            let period = Period::ended_by(cadence, at, chrono_tz::UTC);
            let digest = Digest::new(
                period,
                crate::core::rollup::Tally::of(std::slice::from_ref(&record)),
                std::slice::from_ref(&escalated),
                vec![HOSTILE.into()],
            );
            all.push(digest_message(&digest, at));
        }
        for message in &all {
            // A button's value is what the click carries back to us; Slack never shows it.
            let mut shown = render(message);
            for block in &mut shown {
                for element in block["elements"].as_array_mut().into_iter().flatten() {
                    if element["type"] == "button" {
                        element.as_object_mut().unwrap().remove("value");
                    }
                }
            }
            let blocks = serde_json::to_string(&shown).unwrap();
            for text in [blocks, fallback_text(message)] {
                let without_ours = text.replace(&format!("<@{MEMBER}>"), "");
                for live in ["<!", "<@", "<#", "<http", "\u{202E}", "\u{200B}"] {
                    assert!(
                        !without_ours.contains(live),
                        "{live:?} live in {:?}: {text}",
                        message.summary
                    );
                }
                let bare_ampersand = without_ours.match_indices('&').any(|(i, _)| {
                    !["&amp;", "&lt;", "&gt;"]
                        .iter()
                        .any(|e| without_ours[i..].starts_with(e))
                });
                assert!(!bare_ampersand, "a bare & in {:?}: {text}", message.summary);
            }
        }
    }

    #[test]
    fn the_form_asks_for_a_code_only_when_needed() {
        let form = AnswerForm {
            alert_id: AlertId::from_stored("al_1"),
            title: "t".into(),
            needs_code: true,
            push_follows: false,
            snooze_choices: vec![60, 240, 1440],
        };
        let view = answer_form(&form);
        let ids: Vec<&str> = view["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["block_id"].as_str())
            .collect();
        assert_eq!(ids, [EXPLANATION_BLOCK, CODE_BLOCK, SNOOZE_BLOCK]);
        assert_eq!(view["private_metadata"], "al_1");
        assert_eq!(duration_label(1440), "1 day");
        let no_code = answer_form(&AnswerForm {
            needs_code: false,
            snooze_choices: vec![],
            ..form
        });
        assert_eq!(no_code["blocks"].as_array().unwrap().len(), 2);
        let push = answer_form(&AnswerForm {
            needs_code: false,
            push_follows: true,
            snooze_choices: vec![],
            alert_id: AlertId::from_stored("al_1"),
            title: "t".into(),
        });
        let blocks = push["blocks"].as_array().unwrap();
        assert_eq!(
            blocks.len(),
            3,
            "explanation and a note about the push; no code"
        );
        assert!(blocks[2].to_string().contains("push to your phone"));
    }
}

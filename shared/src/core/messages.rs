//! What the bot says, platform-neutral. The chat adapter renders these (Block Kit for Slack),
//! escaping whatever came from an alert. Polite, a little warm, never robotic: several
//! phrasings, picked from the alert id so a retry says the same thing.

use super::alert::AlertId;
use super::record::AlertRecord;
use super::state::EscalationReason;
use super::work::{Announcement, Notice};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonAction {
    AnswerYes,
    AnswerNo,
    TeamAcknowledge,
    TeamResolve,
    /// On an enrollment request: the team vouches for it (value: the person's email).
    ApproveEnrollment,
    RejectEnrollment,
}

impl ButtonAction {
    /// The stable id carried by the button and sent back when it is clicked.
    pub fn id(self) -> &'static str {
        match self {
            ButtonAction::AnswerYes => "answer_yes",
            ButtonAction::AnswerNo => "answer_no",
            ButtonAction::TeamAcknowledge => "team_acknowledge",
            ButtonAction::TeamResolve => "team_resolve",
            ButtonAction::ApproveEnrollment => "enrollment_approve",
            ButtonAction::RejectEnrollment => "enrollment_reject",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        [
            Self::AnswerYes,
            Self::AnswerNo,
            Self::TeamAcknowledge,
            Self::TeamResolve,
            Self::ApproveEnrollment,
            Self::RejectEnrollment,
        ]
        .into_iter()
        .find(|a| a.id() == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub action: ButtonAction,
    pub label: String,
    /// What the click carries back: the alert id, or the person's email.
    pub value: String,
    pub primary: bool,
    pub danger: bool,
}

/// One block of a message. Text marked `plain` came from an alert and must be escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Our own words, may use *bold* and _italic_.
    Say(String),
    /// Labelled facts from the alert (plain text values).
    Facts(Vec<(String, String)>),
    /// A quote of alert text (plain).
    Quote(String),
    /// A link back to the SIEM.
    Link {
        label: String,
        url: String,
    },
    /// Small print.
    Note(String),
    Buttons(Vec<Button>),
    /// A table of plain cells, the first row its header (the adapter lays it out and splits it).
    Table(Vec<Vec<String>>),
    /// A bulleted list of plain items.
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The notification text (shown in push notifications and where blocks cannot render).
    pub summary: String,
    pub blocks: Vec<Block>,
}

const GREETINGS: &[&str] = &[
    "Hi there! :wave: Quick check from the security team.",
    "Hello! :slightly_smiling_face: Sorry to interrupt, this will only take a second.",
    "Hey! :wave: Our monitoring spotted something and we'd love your help with it.",
    "Hi! :sparkles: A quick security question for you, no stress.",
];

const ONE_MORE: &[&str] = &[
    "One more thing, sorry! :sweat_smile: Another alert came in.",
    "And one more, if you have a second. :pray:",
];

fn pick<'a>(choices: &'a [&'a str], id: &AlertId) -> &'a str {
    let n = id.as_str().bytes().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(b as usize)
    });
    choices[n % choices.len()]
}

fn facts(record: &AlertRecord) -> Block {
    let a = &record.alert;
    let mut facts = vec![
        ("What".to_string(), a.title.clone()),
        (
            "When".to_string(),
            a.occurred_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        ("Severity".to_string(), a.severity.to_string()),
    ];
    facts.extend(a.context.iter().map(|(k, v)| (k.clone(), v.clone())));
    Block::Facts(facts)
}

fn details(record: &AlertRecord) -> Vec<Block> {
    let mut blocks = vec![facts(record)];
    if !record.alert.description.is_empty() {
        blocks.push(Block::Quote(record.alert.description.clone()));
    }
    if let Some(url) = &record.alert.link {
        blocks.push(Block::Link {
            label: "See it in the SIEM".into(),
            url: url.clone(),
        });
    }
    blocks
}

/// "Was this you?" with Yes / No. `one_more` when the person already has open questions.
pub fn ask(record: &AlertRecord, one_more: bool, deadline: DateTime<Utc>) -> Message {
    let opener = if one_more {
        pick(ONE_MORE, &record.id)
    } else {
        pick(GREETINGS, &record.id)
    };
    let mut blocks = vec![Block::Say(format!("{opener}\nWas this you?"))];
    blocks.extend(details(record));
    blocks.push(Block::Buttons(vec![
        Button {
            action: ButtonAction::AnswerYes,
            label: "Yes, that was me".into(),
            value: record.id.to_string(),
            primary: true,
            danger: false,
        },
        Button {
            action: ButtonAction::AnswerNo,
            label: "No, that wasn't me".into(),
            value: record.id.to_string(),
            primary: false,
            danger: true,
        },
    ]));
    blocks.push(Block::Note(format!(
        "If we don't hear back by {}, we'll pass this to the security team, just to be safe.",
        deadline.format("%H:%M UTC")
    )));
    Message {
        summary: format!("Security check: was this you? {}", record.alert.title),
        blocks,
    }
}

/// In the question's thread, once a push is on its way to the person's phone.
pub fn push_sent() -> Message {
    note_in_thread(
        "Thanks! I've sent a push to your phone. :iphone: Approve it there and we're done.",
    )
}

/// In the question's thread, when a push expired unanswered (the question stays open).
pub fn push_expired() -> Message {
    note_in_thread(
        "That push expired before it was approved. No problem: press *Yes, that was me* again and I'll send a fresh one.",
    )
}

fn note_in_thread(say: &str) -> Message {
    Message {
        summary: say.to_string(),
        blocks: vec![Block::Say(say.to_string())],
    }
}

/// The DM after an answer: buttons gone, a thank-you and what happens next.
pub fn answered(record: &AlertRecord, outcome: Answered) -> Message {
    let say = match outcome {
        Answered::Denied => "Thanks for telling us! :pray: The security team has it now and will be in touch soon. You don't need to do anything else.".to_string(),
        Answered::Confirmed { snoozed_until: Some(until) } => format!(
            "All set, thank you! :white_check_mark: We'll skip the same alert in the same place until {}.",
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        Answered::Confirmed { snoozed_until: None } => "All set, thank you! :white_check_mark:".to_string(),
        Answered::SecondFactorFailed => "Hmm, those codes didn't work, so to be safe we've passed this to the security team. :lock: They may reach out; nothing to worry about if it was you.".to_string(),
        Answered::NotEnrolled => "Thanks! You haven't set up two-factor codes with me yet, so I can't verify this answer. :key: Open my *Home* tab to set it up in a minute. Meanwhile I've passed this to the security team, marked as an unverified yes.".to_string(),
        Answered::NotYetVouched => "Thanks! Your two-factor isn't approved yet (or became active after this alert came in), so I can't verify this answer. I've passed it to the security team, marked as an unverified yes; they may just check in. :slightly_smiling_face:".to_string(),
        Answered::TimedOut => "We didn't hear back in time, so we've passed this to the security team, just to be safe. :slightly_smiling_face: If it was you, no worries: they may just check in.".to_string(),
        Answered::AwaitingCode => "Thanks! Just the code from your authenticator app and we're done. :iphone:".to_string(),
        Answered::PushDenied => "Thanks. Your phone said no to that push, so we've passed this to the security team right away. :lock: If that was a slip of the thumb, no worries: they'll just check in.".to_string(),
        Answered::NoPush => "Thanks! I couldn't send a push to your phone (your second factor doesn't know you yet, or has no device that takes pushes), so I can't verify this answer. I've passed it to the security team, marked as an unverified yes; they may just check in. :slightly_smiling_face:".to_string(),
    };
    let mut blocks = vec![Block::Say(say)];
    blocks.push(facts(record));
    Message {
        summary: format!("Security check: {}", record.alert.title),
        blocks,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Denied,
    Confirmed {
        snoozed_until: Option<DateTime<Utc>>,
    },
    SecondFactorFailed,
    NotEnrolled,
    /// Enrolled, but not vouched for before this alert came in.
    NotYetVouched,
    AwaitingCode,
    /// The push was denied (or reported as fraud) on their phone.
    PushDenied,
    /// No push could be sent to them (unknown to the push provider, no device for it).
    NoPush,
    /// No answer by the deadline.
    TimedOut,
}

pub fn reason_text(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::Denied => "they said it *wasn't them*",
        EscalationReason::SecondFactorFailed => "they answered yes but *failed the second factor*",
        EscalationReason::SecondFactorDenied => {
            "they answered yes, then *denied the push* on their phone"
        }
        EscalationReason::NoAnswer => "they *did not answer* before the deadline",
        EscalationReason::UnmappableUser => "the alert names *nobody we could identify*",
        EscalationReason::NeverContact => "the person is on the *never-contact* list",
        EscalationReason::UnknownInChat => "the person was *not found in Slack*",
        EscalationReason::UnverifiedYes => {
            "they said yes, but without a second factor vouched for before this alert (unverified)"
        }
    }
}

/// The post to the security team, with their buttons.
pub fn escalation(record: &AlertRecord) -> Message {
    let who = record
        .user
        .clone()
        .or_else(|| record.alert.user.clone())
        .unwrap_or_else(|| "an unknown person".into());
    let reason = record
        .escalation_reason
        .map_or("it needs a look", reason_text);
    let mut blocks = vec![Block::Say(format!(
        ":rotating_light: *Escalated:* {reason}."
    ))];
    // The rule name comes from the SIEM: it goes in Facts (escaped), never in our own words.
    blocks.push(Block::Facts(vec![
        ("Who".into(), who.clone()),
        ("Rule".into(), record.alert.rule.clone()),
    ]));
    if let Some(detail) = &record.escalation_detail {
        blocks.push(Block::Facts(vec![("Why".into(), detail.clone())]));
    }
    blocks.extend(details(record));
    if let Some(explanation) = &record.explanation {
        blocks.push(Block::Facts(vec![(
            "Their explanation".into(),
            explanation.clone(),
        )]));
    }
    blocks.push(Block::Buttons(team_buttons(&record.id)));
    blocks.push(Block::Note(format!("Alert {}", record.id)));
    Message {
        summary: format!("Escalated: {} ({who})", record.alert.title),
        blocks,
    }
}

fn team_buttons(id: &AlertId) -> Vec<Button> {
    vec![
        Button {
            action: ButtonAction::TeamAcknowledge,
            label: "Acknowledge".into(),
            value: id.to_string(),
            primary: true,
            danger: false,
        },
        Button {
            action: ButtonAction::TeamResolve,
            label: "Resolve (benign)".into(),
            value: id.to_string(),
            primary: false,
            danger: false,
        },
    ]
}

/// The team post after a team member acted on it.
pub fn escalation_closed(record: &AlertRecord, by_chat_user: &str, verb: &str) -> Message {
    let mut message = escalation(record);
    message.blocks.retain(|b| !matches!(b, Block::Buttons(_)));
    if verb == "acknowledged" {
        message.blocks.push(Block::Buttons(
            team_buttons(&record.id)
                .into_iter()
                .filter(|b| b.action == ButtonAction::TeamResolve)
                .collect(),
        ));
    }
    message.blocks.push(Block::Say(format!(
        ":white_check_mark: {verb} by <@{by_chat_user}>"
    )));
    message
}

/// The one nudge, in the question's thread.
pub fn reminder(record: &AlertRecord, deadline: DateTime<Utc>) -> Message {
    Message {
        summary: format!("Reminder: was this you? {}", record.alert.title),
        blocks: vec![Block::Say(format!(
            "Just a gentle nudge :slightly_smiling_face: could you answer the question above? If we don't hear back by {}, we'll pass it to the security team.",
            deadline.format("%H:%M UTC")
        ))],
    }
}

/// A post to the security team about a person (see [`Announcement`]). An enrollment request
/// carries Approve / Reject; `chat_user` is the person's chat id when known.
pub fn announcement(a: &Announcement, chat_user: Option<&str>) -> Message {
    let (headline, summary) = match a.announce {
        Notice::EnrollmentRequest => (
            ":closed_lock_with_key: *Two-factor setup waiting for your approval.* Until a team member approves it, a Yes from this person stays unverified. Approve only if you know it was them (ask them another way).",
            "Two-factor setup to approve",
        ),
        Notice::EnrollmentCoolingOff => (
            ":closed_lock_with_key: *Two-factor set up.* It becomes active on its own after the cooling-off period; reject it now if it wasn't them.",
            "Two-factor set up, cooling off",
        ),
        Notice::EnrollmentApproved => (
            ":white_check_mark: *Two-factor approved.*",
            "Two-factor approved",
        ),
        Notice::EnrollmentRejected => (
            ":no_entry: *Two-factor rejected.* A Yes from this person stays unverified until an operator resets them and they set up again.",
            "Two-factor rejected",
        ),
        Notice::OperatorEnrolled => (
            ":closed_lock_with_key: *An operator enrolled someone in two-factor* (active at once).",
            "Two-factor enrolled by an operator",
        ),
        Notice::SecondFactorReset => (
            ":warning: *Two-factor reset by an operator.* Their Yes is unverified until they set up again and it is vouched for.",
            "Two-factor reset",
        ),
        Notice::NeverContactAdded => (
            ":no_bell: *Added to the never-contact list:* their alerts come straight to you.",
            "Never-contact list: added",
        ),
        Notice::NeverContactRemoved => (
            ":bell: *Removed from the never-contact list:* they will be asked again.",
            "Never-contact list: removed",
        ),
        Notice::SnoozeRemoved => (
            ":alarm_clock: *A snooze was removed by an operator.*",
            "Snooze removed",
        ),
        Notice::AlertNotProcessed => (
            ":warning: *An alert could not be processed* and was taken out of the reminder and deadline sweep. Please look at it (`show_alert` in the admin function) and handle it by hand.",
            "Alert could not be processed",
        ),
    };
    let subject = if a.announce == Notice::AlertNotProcessed {
        "Alert"
    } else {
        "Who"
    };
    let mut facts = vec![(subject.to_string(), a.user.clone())];
    if let Some(id) = chat_user {
        facts.push(("Slack user".into(), id.to_string()));
    }
    facts.push(("By".into(), a.actor.clone()));
    facts.push(("When".into(), a.at.format("%Y-%m-%d %H:%M UTC").to_string()));
    if let Some(detail) = &a.detail {
        facts.push(("Details".into(), detail.clone()));
    }
    let mut blocks = vec![Block::Say(headline.into()), Block::Facts(facts)];
    if matches!(
        a.announce,
        Notice::EnrollmentRequest | Notice::EnrollmentCoolingOff
    ) {
        blocks.push(Block::Buttons(vouch_buttons(
            &a.user,
            a.announce == Notice::EnrollmentRequest,
        )));
    }
    Message {
        summary: format!("{summary}: {}", a.user),
        blocks,
    }
}

fn vouch_buttons(user: &str, approve: bool) -> Vec<Button> {
    let approve = approve.then(|| Button {
        action: ButtonAction::ApproveEnrollment,
        label: "Approve".into(),
        value: user.to_string(),
        primary: true,
        danger: false,
    });
    let reject = Button {
        action: ButtonAction::RejectEnrollment,
        label: "Reject".into(),
        value: user.to_string(),
        primary: false,
        danger: true,
    };
    approve.into_iter().chain([reject]).collect()
}

/// The enrollment post once a team member decided: no buttons, who decided and when.
pub fn enrollment_decided(
    user: &str,
    approved: bool,
    by_chat_user: &str,
    at: DateTime<Utc>,
) -> Message {
    let verb = if approved { "Approved" } else { "Rejected" };
    Message {
        summary: format!("Two-factor {}: {user}", verb.to_lowercase()),
        blocks: vec![
            Block::Facts(vec![("Two-factor setup".into(), user.to_string())]),
            Block::Say(format!(
                ":white_check_mark: {verb} by <@{by_chat_user}> at {}",
                at.format("%Y-%m-%d %H:%M UTC")
            )),
        ],
    }
}

/// Said to a team member who tries to close an alert about themselves, or approve their own
/// two-factor.
pub const NOT_YOURS_TO_DECIDE: &str = "This one is about you, so another member of the team needs to handle it. :slightly_smiling_face:";

/// Under the Yes form's explanation field when it is empty.
pub const EXPLANATION_NEEDED: &str = "Please tell us briefly what you were doing.";

/// Under the Yes form's code field after a wrong (or reused) code.
pub fn wrong_code(attempts_left: u32) -> String {
    format!(
        "That code didn't work. Check your authenticator app and try the current code ({attempts_left} attempt{} left).",
        if attempts_left == 1 { "" } else { "s" }
    )
}

/// Under the enrollment form's code field.
pub const ENROLLMENT_WRONG_CODE: &str =
    "That code didn't work. Check the key was added as time-based, and try the current code.";
pub const ENROLLMENT_LOCKED_OUT: &str =
    "Too many wrong codes. Please wait an hour, or ask the security team for help.";
pub const ENROLLMENT_RESET: &str =
    "Setup has been reset meanwhile. Please close this and start again from the Home tab.";

pub const NOT_YOURS: &str = "Thanks for trying to help! :slightly_smiling_face: This one isn't yours to answer, so I've left it as it was.";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::admission::{Admission, Facts, decide};
    use crate::core::alert::tests::sample;
    use crate::core::redact::Redactor;

    pub fn record() -> AlertRecord {
        let alert = sample();
        let facts = Facts {
            user: Some("alice@example.com".into()),
            ..Facts::default()
        };
        Admission {
            alert: &alert,
            raw: "{}".into(),
            received_via: "test",
            now: alert.occurred_at,
            retention: chrono::Duration::days(1),
            redactor: &Redactor::new(&[]).unwrap(),
            links: &crate::core::links::LinkPolicy::new(["siem.example.com"]),
        }
        .record(&facts, &decide(&facts))
    }

    #[test]
    fn the_ask_is_friendly_has_both_buttons_and_says_the_deadline() {
        let r = record();
        let m = ask(&r, false, r.received_at + chrono::Duration::minutes(30));
        let Block::Say(opener) = &m.blocks[0] else {
            panic!()
        };
        assert!(
            GREETINGS.iter().any(|g| opener.starts_with(g)) && opener.ends_with("Was this you?")
        );
        let buttons: Vec<_> = m
            .blocks
            .iter()
            .filter_map(|b| {
                if let Block::Buttons(b) = b {
                    Some(b)
                } else {
                    None
                }
            })
            .flatten()
            .map(|b| b.action)
            .collect();
        assert_eq!(buttons, [ButtonAction::AnswerYes, ButtonAction::AnswerNo]);
        assert!(matches!(m.blocks.last(), Some(Block::Note(n)) if n.contains("10:30 UTC")));
        assert_eq!(
            ask(&r, false, r.received_at),
            ask(&r, false, r.received_at),
            "the same alert reads the same on a retry"
        );
        let Block::Say(more) = &ask(&r, true, r.received_at).blocks[0] else {
            panic!()
        };
        assert!(ONE_MORE.iter().any(|g| more.starts_with(g)));
    }

    #[test]
    fn phrasings_vary_across_alerts() {
        let openers: std::collections::BTreeSet<&str> = (0..40)
            .map(|i| pick(GREETINGS, &AlertId::from_stored(format!("al_{i}"))))
            .collect();
        assert!(openers.len() > 1);
    }

    #[test]
    fn escalations_say_why_and_carry_team_buttons() {
        let mut r = record();
        r.escalation_reason = Some(EscalationReason::Denied);
        r.explanation = Some("not me at all".into());
        let m = escalation(&r);
        assert!(matches!(&m.blocks[0], Block::Say(s) if s.contains("wasn't them")));
        assert_eq!(
            m.blocks[1],
            Block::Facts(vec![
                ("Who".into(), "alice@example.com".into()),
                ("Rule".into(), r.alert.rule.clone())
            ])
        );
        assert!(
            m.blocks
                .iter()
                .any(|b| matches!(b, Block::Facts(f) if f[0].1 == "not me at all"))
        );
        let closed = escalation_closed(&r, "U999", "resolved (benign)");
        assert!(!closed.blocks.iter().any(|b| matches!(b, Block::Buttons(_))));
        assert!(matches!(closed.blocks.last(), Some(Block::Say(s)) if s.contains("<@U999>")));
    }
}

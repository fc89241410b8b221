//! Nothing the bot sends has met the real Slack API, so every message, modal and Home view it
//! can compose goes through the real Slack adapter to the stand-in, which holds each to
//! slack-morphism's typed Block Kit model and Slack's limits (`securitybot_tests::block_kit`).
//! The integration tests check what their paths send the same way; this one drives every kind
//! of message with the largest alert intake lets through, and the forms' error replies and the
//! app manifest, which no request carries.

use chrono::{DateTime, Duration, Utc};
use securitybot::adapters::memory::StaticSecrets;
use securitybot::adapters::slack::SlackChat;
use securitybot::adapters::slack::interaction::reply_body;
use securitybot::core::alert::{Alert, AlertId, Severity};
use securitybot::core::interaction::Reply;
use securitybot::core::messages::{self, Answered, Message};
use securitybot::core::record::{AlertRecord, ChatRef};
use securitybot::core::rollup::{Cadence, Digest, Period, Tally, digest_message};
use securitybot::core::secrets::{SecretString, Secrets};
use securitybot::core::state::{EscalationReason, Status};
use securitybot::core::text::*;
use securitybot::core::work::{Announcement, Notice};
use securitybot::ports::{AnswerForm, Chat, ChatContact};
use securitybot_tests::block_kit::{check_manifest, check_submission_response};
use securitybot_tests::slack::{BOT_TOKEN, SlackStandIn};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

fn now() -> DateTime<Utc> {
    "2026-11-28T09:30:00Z".parse().unwrap()
}

/// Every escalation reason: the match fails to compile when a reason is added and not listed.
fn every_reason() -> Vec<EscalationReason> {
    use EscalationReason::*;
    let all = vec![
        Denied,
        SecondFactorFailed,
        SecondFactorDenied,
        NoAnswer,
        UnmappableUser,
        NeverContact,
        UnknownInChat,
        UnverifiedYes,
    ];
    for reason in &all {
        match reason {
            Denied | SecondFactorFailed | SecondFactorDenied | NoAnswer | UnmappableUser
            | NeverContact | UnknownInChat | UnverifiedYes => {}
        }
    }
    all
}

fn every_notice() -> Vec<Notice> {
    use Notice::*;
    let all = vec![
        EnrollmentRequest,
        EnrollmentCoolingOff,
        EnrollmentApproved,
        EnrollmentRejected,
        OperatorEnrolled,
        SecondFactorReset,
        NeverContactAdded,
        NeverContactRemoved,
        SnoozeRemoved,
        AlertNotProcessed,
    ];
    for notice in &all {
        match notice {
            EnrollmentRequest | EnrollmentCoolingOff | EnrollmentApproved | EnrollmentRejected
            | OperatorEnrolled | SecondFactorReset | NeverContactAdded | NeverContactRemoved
            | SnoozeRemoved | AlertNotProcessed => {}
        }
    }
    all
}

fn every_answer() -> Vec<Answered> {
    use Answered::*;
    let all = vec![
        Denied,
        Confirmed {
            snoozed_until: Some(now() + Duration::hours(8)),
        },
        Confirmed {
            snoozed_until: None,
        },
        SecondFactorFailed,
        NotEnrolled,
        NotYetVouched,
        AwaitingCode,
        PushDenied,
        NoPush,
        TimedOut,
    ];
    for answer in &all {
        match answer {
            Denied
            | Confirmed { .. }
            | SecondFactorFailed
            | NotEnrolled
            | NotYetVouched
            | AwaitingCode
            | PushDenied
            | NoPush
            | TimedOut => {}
        }
    }
    all
}

/// Text of `n` characters that Slack would read as markup, mentions and entities if it were
/// not escaped (and that escaping makes longer), with wide characters and line breaks.
fn hostile(n: usize) -> String {
    "<!channel> *bold* & <https://evil.example|click> ünïcødé 🚨\n"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

/// An alert as large as intake lets one be, every field at its limit.
fn largest_record(reason: Option<EscalationReason>) -> AlertRecord {
    let context: BTreeMap<String, String> = (0..MAX_CONTEXT_ENTRIES)
        .map(|i| {
            (
                format!("{i:02}{}", hostile(MAX_CONTEXT_KEY - 2)),
                hostile(MAX_CONTEXT_VALUE),
            )
        })
        .collect();
    let alert = Alert {
        source: "splunk".into(),
        source_id: Some("x".repeat(MAX_ID)),
        rule: hostile(MAX_RULE),
        user: Some(hostile(MAX_USER)),
        title: hostile(MAX_TITLE),
        description: hostile(MAX_DESCRIPTION),
        severity: Severity::Critical,
        occurred_at: now(),
        context,
        link: Some(format!(
            "https://siem.example/search?q={}",
            "a|b>c".repeat(MAX_LINK / 5 - 8)
        )),
        sender: None,
    };
    let mut record = escalated(
        alert,
        format!("{}@example.com", "p".repeat(MAX_USER - 12)),
        reason,
    );
    record.escalation_detail = Some(hostile(MAX_CONTEXT_VALUE));
    record.explanation = Some(hostile(500));
    record
}

/// A plain, everyday alert.
fn ordinary_record(reason: Option<EscalationReason>) -> AlertRecord {
    let alert = Alert {
        source: "splunk".into(),
        source_id: Some("1".into()),
        rule: "sudo_root_shell".into(),
        user: Some("alice".into()),
        title: "sudo su on build-7".into(),
        description: String::new(),
        severity: Severity::High,
        occurred_at: now(),
        context: BTreeMap::from([("host".to_string(), "build-7".to_string())]),
        link: None,
        sender: None,
    };
    escalated(alert, "alice@example.com".into(), reason)
}

/// The record of `alert` about `user`, escalated for `reason`.
fn escalated(alert: Alert, user: String, reason: Option<EscalationReason>) -> AlertRecord {
    let mut record = AlertRecord::new(
        alert.id(),
        alert,
        Status::Escalated,
        now(),
        now() + Duration::days(30),
    );
    record.user = Some(user);
    record.escalation_reason = reason;
    record
}

/// Everything the core can say, about both records.
fn every_message() -> Vec<(String, Message)> {
    let mut all = Vec::new();
    for (size, record) in [
        ("ordinary", ordinary_record(None)),
        ("largest", largest_record(None)),
    ] {
        let mut add = |what: &str, message: Message| all.push((format!("{size} {what}"), message));
        let deadline = now() + Duration::minutes(30);
        add("ask", messages::ask(&record, false, deadline));
        add("ask, one more", messages::ask(&record, true, deadline));
        add("reminder", messages::reminder(&record, deadline));
        add("push sent", messages::push_sent());
        add("push expired", messages::push_expired());
        for answer in every_answer() {
            add(
                &format!("answered {answer:?}"),
                messages::answered(&record, answer),
            );
        }
        for reason in every_reason().into_iter().map(Some).chain([None]) {
            let mut escalated = record.clone();
            escalated.escalation_reason = reason;
            add(
                &format!("escalation {reason:?}"),
                messages::escalation(&escalated),
            );
            for verb in ["acknowledged", "resolved"] {
                add(
                    &format!("escalation {reason:?} {verb}"),
                    messages::escalation_closed(&escalated, "UTEAM1", verb),
                );
            }
        }
        let person = record.user.clone().unwrap();
        for notice in every_notice() {
            let announcement = Announcement {
                v: 1,
                announce: notice,
                user: person.clone(),
                actor: format!("operator:{}", "o".repeat(64)),
                at: now(),
                detail: Some(hostile(MAX_CONTEXT_VALUE)),
            };
            add(
                &format!("announcement {notice:?}"),
                messages::announcement(&announcement, Some("UALICE")),
            );
            let bare = Announcement {
                detail: None,
                ..announcement
            };
            add(
                &format!("announcement {notice:?}, no detail"),
                messages::announcement(&bare, None),
            );
        }
        for approved in [true, false] {
            add(
                &format!("enrollment decided {approved}"),
                messages::enrollment_decided(&person, approved, "UTEAM1", now()),
            );
        }
    }
    all.extend(rollups());
    all
}

/// Roll-ups: an empty hour, and a busy day (more rules, escalations and enrollments than the
/// post shows, every name at its longest).
fn rollups() -> Vec<(String, Message)> {
    let tick: DateTime<Utc> = "2026-11-28T10:00:00Z".parse().unwrap();
    let hour = Period::ended_by(Cadence::Hourly, tick, "Europe/Berlin".parse().unwrap());
    let quiet = Digest::new(hour, Tally::default(), &[], Vec::new());
    let mut busy_records = Vec::new();
    for i in 0..60 {
        let mut record = largest_record(Some(every_reason()[i % 8]));
        record.alert.rule = format!("{i:02}{}", hostile(MAX_RULE - 2));
        record.id = AlertId::derive(&record.alert);
        busy_records.push(record);
    }
    let day = Period::ended_by(Cadence::Daily, tick, "Europe/Berlin".parse().unwrap());
    let enrollments = (0..40)
        .map(|i| format!("{i:02}{}@example.com", "e".repeat(200)))
        .collect();
    let busy = Digest::new(day, Tally::of(&busy_records), &busy_records, enrollments);
    vec![
        ("quiet hourly rollup".into(), digest_message(&quiet, tick)),
        ("busy daily rollup".into(), digest_message(&busy, tick)),
    ]
}

async fn slack_at(stand_in: &SlackStandIn) -> SlackChat {
    let secrets = Secrets {
        slack_bot_token: Some(SecretString::new(BOT_TOKEN)),
        ..Secrets::default()
    };
    SlackChat::new(&stand_in.url(), Arc::new(StaticSecrets(secrets)))
}

#[tokio::test]
async fn every_message_the_bot_composes_is_block_kit_slack_accepts() {
    let stand_in = SlackStandIn::start(&[]).await;
    let slack = slack_at(&stand_in).await;
    let person = ChatContact {
        id: "UALICE".into(),
        direct: None,
    };
    let posted = ChatRef {
        channel: "DUALICE".into(),
        ts: "1800000000.000001".into(),
    };
    let messages = every_message();
    let mut refused = Vec::new();
    for (i, (what, message)) in messages.iter().enumerate() {
        // Each way a message goes out: a DM, a channel post, a thread reply, an update.
        let results = [
            slack.send_direct(&person, message).await.map(|_| ()),
            // A channel each: the adapter paces posts to one channel at one a second.
            slack
                .send_to_channel(&format!("CTEAM{i}"), message)
                .await
                .map(|_| ()),
            slack.send_reply(&posted, message).await.map(|_| ()),
            slack.update(&posted, message).await,
        ];
        refused.extend(
            results
                .into_iter()
                .filter_map(|r| r.err())
                .map(|e| format!("{what}: {e}")),
        );
    }
    let whispers = [
        messages::NOT_YOURS,
        messages::NOT_YOURS_TO_DECIDE,
        &messages::wrong_code(1),
    ];
    for text in whispers {
        if let Err(e) = slack.whisper("DUALICE", "UALICE", text).await {
            refused.push(format!("whisper: {e}"));
        }
    }
    assert!(
        refused.is_empty(),
        "{refused:#?}\n{:#?}",
        stand_in.not_block_kit()
    );

    // Proof the payloads were sent and checked, not skipped: one call per message and way.
    let sent = stand_in.calls().await;
    let checked = sent
        .iter()
        .filter(|c| c.method == "chat.postMessage" || c.method == "chat.update")
        .count();
    assert_eq!(checked, messages.len() * 4);
    assert!(messages.len() > 100, "{} messages", messages.len());
    // The largest alert's own words are in there, escaped (so not what the SIEM sent).
    let everything = stand_in.everything_sent().await;
    assert!(everything.contains("&lt;!channel&gt;"));
    assert!(!everything.contains("<!channel>"));
}

#[tokio::test]
async fn every_form_and_home_view_is_block_kit_and_its_errors_name_its_fields() {
    let stand_in = SlackStandIn::start(&[]).await;
    let slack = slack_at(&stand_in).await;
    let alert_id = largest_record(None).id;
    let titles = [hostile(MAX_TITLE), "sudo su".to_string()];
    let mut forms = 0;
    for title in &titles {
        for needs_code in [true, false] {
            for push_follows in [true, false] {
                for snooze_choices in [vec![], vec![60, 480, 1440, 10080], vec![5; 100]] {
                    let form = AnswerForm {
                        alert_id: alert_id.clone(),
                        title: title.clone(),
                        needs_code,
                        push_follows,
                        snooze_choices,
                    };
                    slack.open_answer_form("trigger", &form).await.unwrap();
                    forms += 1;
                }
            }
        }
    }
    let long_label = format!("{}@example.com", "p".repeat(MAX_USER - 12));
    let otpauth = format!(
        "otpauth://totp/Securitybot:{long_label}?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Securitybot"
    );
    slack
        .open_enrollment_form("trigger", &otpauth)
        .await
        .unwrap();
    slack.show_home("UALICE", true).await.unwrap();
    slack.show_home("UALICE", false).await.unwrap();

    let views: Vec<Value> = stand_in
        .calls()
        .await
        .into_iter()
        .filter(|c| c.method.starts_with("views."))
        .map(|c| c.args["view"].clone())
        .collect();
    assert_eq!(views.len(), forms + 3, "every view reached Slack");
    assert!(stand_in.not_block_kit().is_empty());

    // What the interaction function answers a submitted form with.
    let answer_form = &views[0];
    let enrollment_form = &views[forms];
    let replies = [
        (
            answer_form,
            Reply::FormErrors(vec![("explanation", messages::EXPLANATION_NEEDED.into())]),
        ),
        (
            answer_form,
            Reply::FormErrors(vec![("explanation", messages::NOT_YOURS.into())]),
        ),
        (
            answer_form,
            Reply::FormErrors(vec![("code", messages::wrong_code(2))]),
        ),
        (
            enrollment_form,
            Reply::FormErrors(vec![("code", messages::ENROLLMENT_WRONG_CODE.into())]),
        ),
        (
            enrollment_form,
            Reply::FormErrors(vec![("code", messages::ENROLLMENT_LOCKED_OUT.into())]),
        ),
        (
            enrollment_form,
            Reply::FormErrors(vec![("code", messages::ENROLLMENT_RESET.into())]),
        ),
    ];
    for (form, reply) in replies {
        let body = reply_body(&reply).expect("form errors have a body");
        let problems = check_submission_response(&body, form);
        assert!(problems.is_empty(), "{reply:?}: {problems:?}");
    }
    assert_eq!(reply_body(&Reply::Done), None, "done closes the form");
    // And the check does catch an error aimed at a field the form does not have.
    let stray = reply_body(&Reply::FormErrors(vec![("code", "x".into())])).unwrap();
    assert!(!check_submission_response(&stray, &views[forms - 1]).is_empty());
}

#[test]
fn the_app_manifest_is_a_slack_app_manifest_with_the_scopes_the_bot_checks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/slack/manifest.yaml");
    let yaml = std::fs::read_to_string(path).unwrap();
    let manifest: Value = serde_norway::from_str(&yaml).unwrap();
    let problems = check_manifest(&manifest);
    assert!(problems.is_empty(), "{problems:?}");
    let scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in ["chat:write", "im:write", "users:read", "users:read.email"] {
        assert!(
            scopes.contains(&needed),
            "{needed} missing from the manifest"
        );
    }
    // A misspelt setting is caught, not ignored.
    let mut typo = manifest.clone();
    typo["settings"]["interactivity"]["is_enabeld"] = Value::Bool(true);
    assert!(!check_manifest(&typo).is_empty());
}

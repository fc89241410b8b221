//! The rollup post. Short when nothing happened, and bounded when a lot did: the rule table and
//! the lists are capped, with a line saying what was left out, so the post always fits in one
//! Slack message.

use super::Cadence;
use super::tally::{Digest, OpenEscalation, Outcome, RuleRow};
use crate::core::messages::{Block, Message};
use crate::core::state::EscalationReason;
use chrono::{DateTime, Duration, Utc};

/// Rows of the per-rule table (the busiest rules; the rest are summed up in one line).
pub const MAX_RULES: usize = 20;
/// Items of each list (oldest open escalations, new enrollments).
pub const MAX_ITEMS: usize = 15;

pub fn digest_message(digest: &Digest, now: DateTime<Utc>) -> Message {
    let tally = &digest.tally;
    let what = match digest.period.cadence {
        Cadence::Hourly => "Hourly",
        Cadence::Daily => "Daily",
    };
    let mut blocks = vec![Block::Say(format!(
        ":bar_chart: *{what} roll-up* · {}",
        digest.period.label()
    ))];
    blocks.extend(outcomes(digest));
    blocks.extend(open_escalations(&digest.open_escalations, now));
    blocks.extend(enrollments(&digest.enrollments));
    blocks.push(Block::Note(
        "Confirmed = share of the rule's alerts with a verified Yes. Median answer = from the DM to Yes or No."
            .into(),
    ));
    Message {
        summary: format!(
            "{what} roll-up: {} {}, {} confirmed, {} waiting for the team",
            tally.total,
            plural(tally.total, "alert", "alerts"),
            tally.count(Outcome::Confirmed),
            digest.open_escalations.len()
        ),
        blocks,
    }
}

/// How the period's alerts stand, and the per-rule table (or a quiet period).
fn outcomes(digest: &Digest) -> Vec<Block> {
    let tally = &digest.tally;
    if tally.total == 0 {
        let quiet = match digest.period.cadence {
            Cadence::Hourly => "A quiet hour: no alerts came in. :relieved:",
            Cadence::Daily => "A quiet day: no alerts came in. :relieved:",
        };
        return vec![Block::Say(quiet.into())];
    }
    let mut blocks = vec![
        Block::Say(format!(
            "*{}* {} came in. Here is where they stand:",
            tally.total,
            plural(tally.total, "alert", "alerts")
        )),
        Block::Facts(
            Outcome::ALL
                .iter()
                .map(|o| (o.label().to_string(), tally.count(*o).to_string()))
                .collect(),
        ),
    ];
    if tally.closed_benign + tally.incidents > 0 {
        blocks.push(Block::Say(format!(
            "The team has closed {} of them as fine and {} as {}.",
            tally.closed_benign,
            tally.incidents,
            plural(tally.incidents, "an incident", "incidents")
        )));
    }
    blocks.push(Block::Say("*By rule* (busiest first):".into()));
    blocks.push(rule_table(&tally.rules));
    if tally.rules.len() > MAX_RULES {
        let rest = &tally.rules[MAX_RULES..];
        let alerts: usize = rest.iter().map(|r| r.alerts).sum();
        blocks.push(Block::Note(format!(
            "…and {} more {} with {} {} between them.",
            rest.len(),
            plural(rest.len(), "rule", "rules"),
            alerts,
            plural(alerts, "alert", "alerts")
        )));
    }
    blocks
}

fn rule_table(rules: &[RuleRow]) -> Block {
    let header = [
        "Rule",
        "Alerts",
        "Confirmed",
        "Denied",
        "Timed out",
        "Snoozed",
        "Median answer",
    ]
    .map(String::from)
    .to_vec();
    let rows = rules.iter().take(MAX_RULES).map(|row| {
        vec![
            row.rule.clone(),
            row.alerts.to_string(),
            format!("{}%", row.confirmed_percent()),
            row.denied.to_string(),
            row.no_answer.to_string(),
            row.snoozed.to_string(),
            row.median_answer.map_or("–".into(), short_duration),
        ]
    });
    Block::Table(std::iter::once(header).chain(rows).collect())
}

/// Escalations the team has not acknowledged yet, however old, oldest first.
fn open_escalations(open: &[OpenEscalation], now: DateTime<Utc>) -> Vec<Block> {
    if open.is_empty() {
        return vec![Block::Say(
            ":white_check_mark: No escalations waiting for the team.".into(),
        )];
    }
    let mut blocks = vec![
        Block::Say(format!(
            ":hourglass_flowing_sand: *{} {} nobody has acknowledged yet* (oldest first):",
            open.len(),
            plural(open.len(), "escalation", "escalations")
        )),
        Block::List(
            open.iter()
                .take(MAX_ITEMS)
                .map(|e| {
                    format!(
                        "{} · {} · {} · waiting {}",
                        e.title,
                        e.who,
                        e.reason.map_or("needs a look", short_reason),
                        short_duration(now - e.since)
                    )
                })
                .collect(),
        ),
    ];
    if open.len() > MAX_ITEMS {
        blocks.push(Block::Note(format!(
            "…and {} more. `show_alert` in the admin function has the details.",
            open.len() - MAX_ITEMS
        )));
    }
    blocks
}

fn enrollments(enrolled: &[String]) -> Vec<Block> {
    if enrolled.is_empty() {
        return Vec::new();
    }
    let n = enrolled.len();
    let mut blocks = vec![
        Block::Say(format!(
            ":key: *{n} new two-factor {}*, welcome aboard:",
            plural(n, "enrollment", "enrollments")
        )),
        Block::List(enrolled.iter().take(MAX_ITEMS).cloned().collect()),
    ];
    if n > MAX_ITEMS {
        blocks.push(Block::Note(format!("…and {} more.", n - MAX_ITEMS)));
    }
    blocks
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn short_reason(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::Denied => "said it wasn't them",
        EscalationReason::SecondFactorFailed => "failed 2FA",
        EscalationReason::SecondFactorDenied => "denied the push",
        EscalationReason::NoAnswer => "no answer",
        EscalationReason::UnmappableUser => "unknown person",
        EscalationReason::NeverContact => "never-contact",
        EscalationReason::UnknownInChat => "not in Slack",
        EscalationReason::UnverifiedYes => "yes without 2FA",
    }
}

/// "45s", "4m 10s", "3h 5m", "2d 4h".
pub fn short_duration(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rollup::tally::tests::record;
    use crate::core::rollup::{Digest, Period};
    use crate::core::state::Status;

    fn digest(records: &[crate::core::record::AlertRecord]) -> Digest {
        let period = Period::ended_by(
            Cadence::Hourly,
            "2026-11-28T10:00:00Z".parse().unwrap(),
            chrono_tz::UTC,
        );
        Digest::new(
            period,
            crate::core::rollup::Tally::of(records),
            records,
            vec!["grace@example.com".into()],
        )
    }

    fn text(message: &Message) -> String {
        format!("{:?}", message.blocks)
    }

    #[test]
    fn a_quiet_hour_says_so_kindly() {
        let m = digest_message(&digest(&[]), "2026-11-28T10:00:00Z".parse().unwrap());
        assert!(text(&m).contains("A quiet hour"));
        assert!(text(&m).contains("No escalations waiting"));
        assert!(text(&m).contains("grace@example.com"));
        assert_eq!(
            m.summary,
            "Hourly roll-up: 0 alerts, 0 confirmed, 0 waiting for the team"
        );
    }

    #[test]
    fn many_rules_and_escalations_are_capped_with_a_line_for_the_rest() {
        let records: Vec<_> = (0..45)
            .map(|i| {
                record(
                    &format!("rule-{i:02}"),
                    Status::Escalated,
                    Some(EscalationReason::NoAnswer),
                    None,
                )
            })
            .collect();
        let m = digest_message(&digest(&records), "2026-11-28T10:00:00Z".parse().unwrap());
        let table = m
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
            .unwrap();
        assert_eq!(table.len(), MAX_RULES + 1);
        assert!(text(&m).contains("…and 25 more rules with 25 alerts between them."));
        assert!(text(&m).contains("45 escalations nobody has acknowledged"));
        assert!(text(&m).contains("…and 30 more."));
        assert!(m.blocks.len() < 50);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(short_duration(Duration::seconds(45)), "45s");
        assert_eq!(short_duration(Duration::seconds(250)), "4m 10s");
        assert_eq!(short_duration(Duration::seconds(3600 * 3 + 300)), "3h 05m");
        assert_eq!(short_duration(Duration::hours(52)), "2d 4h");
    }
}

//! Counting what happened to the alerts of a period: outcomes, a row per rule, and what still
//! waits for the team.

use super::period::Period;
use crate::core::alert::AlertId;
use crate::core::record::AlertRecord;
use crate::core::state::{EscalationReason, Status};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Where an alert stands, as the team reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Confirmed,
    Snoozed,
    Denied,
    NoAnswer,
    SecondFactorFailed,
    /// Nobody to ask (unknown person, never-contact, not in chat): went to the team directly.
    StraightToTeam,
    /// Still waiting for the person.
    Waiting,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Confirmed,
        Outcome::Snoozed,
        Outcome::Denied,
        Outcome::NoAnswer,
        Outcome::SecondFactorFailed,
        Outcome::StraightToTeam,
        Outcome::Waiting,
    ];

    pub fn of(record: &AlertRecord) -> Outcome {
        use EscalationReason as R;
        match (record.status, record.escalation_reason) {
            (Status::Confirmed, _) => Outcome::Confirmed,
            (Status::Snoozed, _) => Outcome::Snoozed,
            (
                Status::Received
                | Status::Asked
                | Status::Reminded
                | Status::AwaitingSecondFactor
                | Status::AwaitingPush,
                _,
            ) => Outcome::Waiting,
            // A denied push is the person saying no, on the device that proves who they are.
            (_, Some(R::Denied | R::SecondFactorDenied)) => Outcome::Denied,
            (_, Some(R::NoAnswer)) => Outcome::NoAnswer,
            (_, Some(R::SecondFactorFailed | R::UnverifiedYes)) => Outcome::SecondFactorFailed,
            _ => Outcome::StraightToTeam,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Confirmed => "Confirmed (verified Yes)",
            Outcome::Snoozed => "Snoozed repeats",
            Outcome::Denied => "Denied (said No, or denied the push)",
            Outcome::NoAnswer => "No answer by the deadline",
            Outcome::SecondFactorFailed => "Failed or missing 2FA",
            Outcome::StraightToTeam => "Straight to the team",
            Outcome::Waiting => "Still waiting",
        }
    }
}

/// From the DM to the person's Yes or No.
pub fn time_to_answer(record: &AlertRecord) -> Option<Duration> {
    let asked = record
        .history
        .iter()
        .find(|h| h.status == Status::Asked)?
        .at;
    let answered = record.history.iter().find(|h| {
        h.at >= asked
            && (h.status == Status::AwaitingSecondFactor
                || (h.status == Status::Escalated
                    && record.escalation_reason == Some(EscalationReason::Denied)))
    })?;
    Some(answered.at - asked)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub rule: String,
    pub alerts: usize,
    pub confirmed: usize,
    pub denied: usize,
    pub no_answer: usize,
    pub snoozed: usize,
    pub median_answer: Option<Duration>,
}

impl RuleRow {
    /// Share of the rule's alerts confirmed by a verified Yes, rounded down.
    pub fn confirmed_percent(&self) -> usize {
        (self.confirmed * 100).checked_div(self.alerts).unwrap_or(0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub total: usize,
    pub outcomes: BTreeMap<Outcome, usize>,
    /// Busiest rules first (the noisy ones), then by name.
    pub rules: Vec<RuleRow>,
    /// Closed by the team as fine / as an incident.
    pub closed_benign: usize,
    pub incidents: usize,
}

impl Tally {
    pub fn of(records: &[AlertRecord]) -> Tally {
        let mut counter = Counter::default();
        records.iter().for_each(|r| counter.add(r));
        counter.finish()
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }
}

/// Counts a period's alerts one at a time, so they can be read page by page and never held all
/// at once (a busy day is tens of thousands): what stays is the counts, and per rule the
/// answer times its median needs.
#[derive(Debug, Default)]
pub struct Counter {
    tally: Tally,
    by_rule: BTreeMap<String, (RuleRow, Vec<Duration>)>,
}

impl Counter {
    pub fn add(&mut self, record: &AlertRecord) {
        let tally = &mut self.tally;
        tally.total += 1;
        let outcome = Outcome::of(record);
        *tally.outcomes.entry(outcome).or_default() += 1;
        match record.status {
            Status::ResolvedBenign => tally.closed_benign += 1,
            Status::Incident => tally.incidents += 1,
            _ => {}
        }
        let (row, answers) = self
            .by_rule
            .entry(record.alert.rule.clone())
            .or_insert_with(|| {
                let row = RuleRow {
                    rule: record.alert.rule.clone(),
                    alerts: 0,
                    confirmed: 0,
                    denied: 0,
                    no_answer: 0,
                    snoozed: 0,
                    median_answer: None,
                };
                (row, Vec::new())
            });
        row.alerts += 1;
        match outcome {
            Outcome::Confirmed => row.confirmed += 1,
            Outcome::Denied => row.denied += 1,
            Outcome::NoAnswer => row.no_answer += 1,
            Outcome::Snoozed => row.snoozed += 1,
            _ => {}
        }
        answers.extend(time_to_answer(record));
    }

    pub fn finish(self) -> Tally {
        let mut tally = self.tally;
        tally.rules = self
            .by_rule
            .into_values()
            .map(|(mut row, mut answers)| {
                row.median_answer = median(&mut answers);
                row
            })
            .collect();
        tally
            .rules
            .sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.rule.cmp(&b.rule)));
        tally
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &mut [Duration]) -> Option<Duration> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

/// An escalation the team has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEscalation {
    pub id: AlertId,
    pub title: String,
    pub who: String,
    pub reason: Option<EscalationReason>,
    pub since: DateTime<Utc>,
}

impl OpenEscalation {
    pub fn of(record: &AlertRecord) -> OpenEscalation {
        let since = record
            .history
            .iter()
            .rev()
            .find(|h| h.status == Status::Escalated)
            .map_or(record.received_at, |h| h.at);
        OpenEscalation {
            id: record.id.clone(),
            title: record.alert.title.clone(),
            who: record
                .user
                .clone()
                .or_else(|| record.alert.user.clone())
                .unwrap_or_else(|| "unknown person".into()),
            reason: record.escalation_reason,
            since,
        }
    }
}

/// Everything a rollup says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub period: Period,
    pub tally: Tally,
    /// Oldest first.
    pub open_escalations: Vec<OpenEscalation>,
    /// People who finished setting up two-factor in the period.
    pub enrollments: Vec<String>,
}

impl Digest {
    /// `tally`: the period's alerts counted ([`Counter`]); `escalated`: what waits for the team.
    pub fn new(
        period: Period,
        tally: Tally,
        escalated: &[AlertRecord],
        mut enrollments: Vec<String>,
    ) -> Digest {
        let mut open_escalations: Vec<OpenEscalation> = escalated
            .iter()
            .filter(|r| r.status == Status::Escalated)
            .map(OpenEscalation::of)
            .collect();
        open_escalations.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.id.cmp(&b.id)));
        enrollments.sort();
        enrollments.dedup();
        Digest {
            period,
            tally,
            open_escalations,
            enrollments,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::alert::tests::sample;
    use crate::core::state::AuditEntry;

    pub fn record(
        rule: &str,
        status: Status,
        reason: Option<EscalationReason>,
        answer_secs: Option<i64>,
    ) -> AlertRecord {
        let received: DateTime<Utc> = "2026-11-28T09:10:00Z".parse().unwrap();
        let mut alert = sample();
        alert.rule = rule.into();
        alert.title = format!("{rule} on build-7");
        alert.source_id = Some(format!("{rule}-{status}-{answer_secs:?}-{reason:?}"));
        let entry = |secs: i64, status: Status| AuditEntry {
            at: received + Duration::seconds(secs),
            actor: "test".into(),
            status,
            note: String::new(),
        };
        let mut history = vec![entry(0, Status::Received), entry(1, Status::Asked)];
        if let Some(secs) = answer_secs {
            let answered = if reason == Some(EscalationReason::Denied) {
                Status::Escalated
            } else {
                Status::AwaitingSecondFactor
            };
            history.push(entry(1 + secs, answered));
        }
        if status != Status::Asked && !history.iter().any(|h| h.status == status) {
            history.push(entry(3600, status));
        }
        crate::adapters::memory::record_after(
            alert,
            "ada@example.com",
            status,
            reason,
            received,
            history,
        )
    }

    #[test]
    fn outcomes_follow_status_and_reason() {
        use EscalationReason as R;
        let cases = [
            (Status::Confirmed, None, Outcome::Confirmed),
            (Status::Snoozed, None, Outcome::Snoozed),
            (Status::Reminded, None, Outcome::Waiting),
            (Status::Escalated, Some(R::Denied), Outcome::Denied),
            (Status::Incident, Some(R::Denied), Outcome::Denied),
            (Status::Acknowledged, Some(R::NoAnswer), Outcome::NoAnswer),
            (
                Status::Escalated,
                Some(R::UnverifiedYes),
                Outcome::SecondFactorFailed,
            ),
            (
                Status::Escalated,
                Some(R::NeverContact),
                Outcome::StraightToTeam,
            ),
            (Status::Unroutable, None, Outcome::StraightToTeam),
        ];
        for (status, reason, expected) in cases {
            assert_eq!(
                Outcome::of(&record("r", status, reason, None)),
                expected,
                "{status} {reason:?}"
            );
        }
    }

    #[test]
    fn rules_are_counted_busiest_first_with_median_answer_times() {
        let records = vec![
            record("sudo", Status::Confirmed, None, Some(60)),
            record("sudo", Status::Confirmed, None, Some(120)),
            record(
                "sudo",
                Status::Escalated,
                Some(EscalationReason::Denied),
                Some(30),
            ),
            record("sudo", Status::Snoozed, None, None),
            record(
                "nmap",
                Status::Escalated,
                Some(EscalationReason::NoAnswer),
                None,
            ),
            record(
                "login",
                Status::ResolvedBenign,
                Some(EscalationReason::NoAnswer),
                None,
            ),
        ];
        let tally = Tally::of(&records);
        assert_eq!(tally.total, 6);
        assert_eq!(tally.count(Outcome::Confirmed), 2);
        assert_eq!(tally.count(Outcome::NoAnswer), 2);
        assert_eq!(tally.closed_benign, 1);
        let names: Vec<&str> = tally.rules.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(names, ["sudo", "login", "nmap"]);
        let sudo = &tally.rules[0];
        assert_eq!(
            (sudo.alerts, sudo.confirmed, sudo.denied, sudo.snoozed),
            (4, 2, 1, 1)
        );
        assert_eq!(sudo.confirmed_percent(), 50);
        assert_eq!(sudo.median_answer, Some(Duration::seconds(60)));
        assert_eq!(tally.rules[2].median_answer, None);
    }

    #[test]
    fn median_of_even_counts_is_the_mean_of_the_middle_two() {
        let mut values = [30, 10, 20, 40].map(Duration::seconds);
        assert_eq!(median(&mut values), Some(Duration::seconds(25)));
        assert_eq!(median(&mut []), None);
    }
}

//! Per-rule settings: how urgent a rule is, how long a verified Yes snoozes its repeats and
//! what context scopes that snooze, when to remind and when to escalate, and whether Yes needs
//! a second factor. Rules not listed get the defaults.

use super::alert::Severity;
use super::working_hours::WorkingHours;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Deadlines by severity, in minutes. Minutes, not hours: silence must reach the team fast.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineTable {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl DeadlineTable {
    pub fn for_severity(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }
}

impl Default for DeadlineTable {
    fn default() -> Self {
        DeadlineTable {
            low: 240,
            medium: 60,
            high: 30,
            critical: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default = "yes")]
    pub require_second_factor: bool,
    #[serde(default = "default_snooze_max")]
    pub snooze_max_minutes: u32,
    #[serde(default = "default_scope")]
    pub snooze_scope: Vec<String>,
    #[serde(default)]
    pub deadline_minutes: DeadlineTable,
    /// When the reminder and deadline clocks run; around the clock when absent.
    #[serde(default)]
    pub working_hours: Option<WorkingHours>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            severity: default_severity(),
            require_second_factor: true,
            snooze_max_minutes: default_snooze_max(),
            snooze_scope: default_scope(),
            deadline_minutes: DeadlineTable::default(),
            working_hours: None,
        }
    }
}

fn default_severity() -> Severity {
    Severity::Medium
}
fn yes() -> bool {
    true
}
fn default_snooze_max() -> u32 {
    240
}
fn default_scope() -> Vec<String> {
    vec!["host".to_string()]
}

/// What a rule overrides; anything left out falls back to [`Defaults`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverrides {
    pub severity: Option<Severity>,
    pub require_second_factor: Option<bool>,
    pub snooze_max_minutes: Option<u32>,
    pub snooze_scope: Option<Vec<String>>,
    pub deadline_minutes: Option<u32>,
    pub reminder_minutes: Option<u32>,
    pub working_hours: Option<WorkingHours>,
}

/// The settings in force for one alert's rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSettings {
    /// Used when the alert itself carries no severity.
    pub severity: Severity,
    pub require_second_factor: bool,
    /// The longest snooze a person may choose after a verified Yes. 0 disables snoozing.
    pub snooze_max_minutes: u32,
    /// Context fields that must match for a snooze to cover a repeat (e.g. the host).
    pub snooze_scope: Vec<String>,
    overrides_deadline: Option<u32>,
    overrides_reminder: Option<u32>,
    deadlines: DeadlineTable,
    pub working_hours: Option<WorkingHours>,
}

impl RuleSettings {
    /// Minutes from asking to escalating for silence.
    pub fn deadline_minutes(&self, severity: Severity) -> u32 {
        self.overrides_deadline
            .unwrap_or_else(|| self.deadlines.for_severity(severity))
    }

    /// When an alert asked at `asked_at` escalates for silence (working time, if the rule has hours).
    pub fn deadline_at(&self, asked_at: DateTime<Utc>, severity: Severity) -> DateTime<Utc> {
        self.after(asked_at, self.deadline_minutes(severity))
    }

    /// When the one reminder goes out.
    pub fn reminder_at(&self, asked_at: DateTime<Utc>, severity: Severity) -> DateTime<Utc> {
        self.after(asked_at, self.reminder_minutes(severity))
    }

    fn after(&self, from: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        match &self.working_hours {
            Some(hours) => hours.add(from, minutes),
            None => from + chrono::Duration::minutes(minutes.into()),
        }
    }

    /// Each setting in words, for showing what a change of rules does.
    pub fn described(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("severity".to_string(), self.severity.to_string()),
            (
                "require_second_factor".to_string(),
                self.require_second_factor.to_string(),
            ),
            (
                "snooze_max_minutes".to_string(),
                self.snooze_max_minutes.to_string(),
            ),
            ("snooze_scope".to_string(), self.snooze_scope.join(", ")),
            (
                "working_hours".to_string(),
                format!("{:?}", self.working_hours),
            ),
        ];
        for severity in Severity::ALL {
            out.push((
                format!("deadline_minutes ({severity})"),
                self.deadline_minutes(severity).to_string(),
            ));
            out.push((
                format!("reminder_minutes ({severity})"),
                self.reminder_minutes(severity).to_string(),
            ));
        }
        out
    }

    /// Minutes from asking to the one polite reminder: the rule's own, or half the deadline.
    pub fn reminder_minutes(&self, severity: Severity) -> u32 {
        self.overrides_reminder
            .unwrap_or_else(|| self.deadline_minutes(severity) / 2)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBook {
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub rules: BTreeMap<String, RuleOverrides>,
}

impl RuleBook {
    /// What `next` would change, one line per setting that differs: rules added or removed,
    /// and every effective setting (defaults applied) of every rule and of unlisted rules.
    pub fn changes_to(&self, next: &RuleBook) -> Vec<String> {
        let mut out = Vec::new();
        let names: std::collections::BTreeSet<&String> =
            self.rules.keys().chain(next.rules.keys()).collect();
        for name in &names {
            match (
                self.rules.contains_key(*name),
                next.rules.contains_key(*name),
            ) {
                (false, true) => out.push(format!("rule {name}: added")),
                (true, false) => out.push(format!("rule {name}: removed (the defaults apply)")),
                _ => {}
            }
        }
        let unlisted = "(rules not listed)".to_string();
        for name in names.into_iter().chain(std::iter::once(&unlisted)) {
            let before = self.settings_for(name).described();
            let after = next.settings_for(name).described();
            for ((setting, old), (_, new)) in before.iter().zip(&after) {
                if old != new {
                    out.push(format!("{name}: {setting} {old} -> {new}"));
                }
            }
        }
        out
    }

    pub fn settings_for(&self, rule: &str) -> RuleSettings {
        match self.rules.get(rule) {
            Some(overrides) => self.apply(overrides.clone()),
            None => self.apply(RuleOverrides::default()),
        }
    }

    fn apply(&self, o: RuleOverrides) -> RuleSettings {
        let d = &self.defaults;
        RuleSettings {
            severity: o.severity.unwrap_or(d.severity),
            require_second_factor: o.require_second_factor.unwrap_or(d.require_second_factor),
            snooze_max_minutes: o.snooze_max_minutes.unwrap_or(d.snooze_max_minutes),
            snooze_scope: o.snooze_scope.unwrap_or_else(|| d.snooze_scope.clone()),
            overrides_deadline: o.deadline_minutes,
            overrides_reminder: o.reminder_minutes,
            deadlines: d.deadline_minutes.clone(),
            working_hours: o.working_hours.or_else(|| d.working_hours.clone()),
        }
    }

    /// Every problem with the book, each naming the rule and setting, so an operator can fix
    /// them all in one deploy.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let names = std::iter::once("defaults".to_string())
            .chain(self.rules.keys().map(|name| format!("rules.{name}")));
        let settings = std::iter::once(self.apply(RuleOverrides::default()))
            .chain(self.rules.values().map(|o| self.apply(o.clone())));
        for (name, s) in names.zip(settings) {
            for severity in Severity::ALL {
                let deadline = s.deadline_minutes(severity);
                let reminder = s.reminder_minutes(severity);
                if deadline == 0 {
                    problems.push(format!(
                        "{name}: deadline for {severity} alerts must be at least 1 minute"
                    ));
                } else if reminder >= deadline {
                    problems.push(format!(
                        "{name}: reminder_minutes ({reminder}) must be less than the deadline ({deadline}) for {severity} alerts"
                    ));
                }
            }
            if s.snooze_max_minutes > 60 * 24 * 30 {
                problems.push(format!(
                    "{name}: snooze_max_minutes must be at most 43200 (30 days)"
                ));
            }
            if s.snooze_scope.iter().any(|field| field.trim().is_empty()) {
                problems.push(format!("{name}: snooze_scope has an empty field name"));
            }
        }
        problems.dedup();
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(toml_text: &str) -> RuleBook {
        toml::from_str(toml_text).expect("valid rule book")
    }

    #[test]
    fn a_change_of_rules_is_described_setting_by_setting() {
        let before = book(
            r#"
            [rules.sudo]
            deadline_minutes = 15
            [rules.nmap]
            require_second_factor = false
            "#,
        );
        let after = book(
            r#"
            [defaults]
            snooze_max_minutes = 60
            [rules.sudo]
            deadline_minutes = 30
            [rules.login]
            severity = "high"
            "#,
        );
        let changes = before.changes_to(&after);
        for expected in [
            "rule login: added",
            "rule nmap: removed (the defaults apply)",
            "sudo: deadline_minutes (critical) 15 -> 30",
            "sudo: reminder_minutes (low) 7 -> 15",
            "nmap: require_second_factor false -> true",
            "login: severity medium -> high",
            "(rules not listed): snooze_max_minutes 240 -> 60",
        ] {
            assert!(
                changes.iter().any(|c| c == expected),
                "{expected} not in {changes:#?}"
            );
        }
        assert!(before.changes_to(&before).is_empty());
    }

    #[test]
    fn unlisted_rules_get_the_defaults_and_deadlines_follow_severity() {
        let b = RuleBook::default();
        let s = b.settings_for("anything");
        assert_eq!(s.severity, Severity::Medium);
        assert!(s.require_second_factor);
        assert_eq!(s.deadline_minutes(Severity::Critical), 15);
        assert_eq!(s.deadline_minutes(Severity::Low), 240);
        assert_eq!(s.reminder_minutes(Severity::High), 15);
    }

    #[test]
    fn a_rule_overrides_only_what_it_lists() {
        let b = book(
            r#"
            [defaults]
            snooze_scope = ["host", "command"]
            [rules.nmap]
            deadline_minutes = 20
            reminder_minutes = 5
            require_second_factor = false
            "#,
        );
        let s = b.settings_for("nmap");
        assert_eq!(s.deadline_minutes(Severity::Low), 20);
        assert_eq!(s.reminder_minutes(Severity::Low), 5);
        assert!(!s.require_second_factor);
        assert_eq!(s.snooze_scope, vec!["host", "command"]);
        assert!(b.problems().is_empty());
    }

    #[test]
    fn working_hours_move_the_deadline_past_the_weekend() {
        let b = book(
            "[rules.sudo]\ndeadline_minutes = 30\nreminder_minutes = 10\n[rules.sudo.working_hours]\ntime_zone = \"Europe/Lisbon\"\nstart = \"09:00\"\nend = \"18:00\"\n",
        );
        let friday_late = DateTime::parse_from_rfc3339("2026-11-27T17:50:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = b.settings_for("sudo");
        assert_eq!(
            s.reminder_at(friday_late, Severity::High).to_rfc3339(),
            "2026-11-27T18:00:00+00:00"
        );
        assert_eq!(
            s.deadline_at(friday_late, Severity::High).to_rfc3339(),
            "2026-11-30T09:20:00+00:00"
        );
        let around_the_clock = b.settings_for("other");
        assert_eq!(
            around_the_clock
                .deadline_at(friday_late, Severity::Critical)
                .to_rfc3339(),
            "2026-11-27T18:05:00+00:00"
        );
    }

    #[test]
    fn problems_name_the_rule_and_setting() {
        let b = book("[rules.sudo]\ndeadline_minutes = 10\nreminder_minutes = 10\n");
        let problems = b.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("rules.sudo: reminder_minutes (10)")),
            "{problems:?}"
        );
        assert!(
            toml::from_str::<RuleBook>("[rules.x]\ndeadline = 3\n").is_err(),
            "typos are refused"
        );
    }
}

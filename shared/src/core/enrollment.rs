//! Second-factor enrollment, and whether it vouches for a Yes. The threat is a stolen Slack
//! session: nothing that session can do alone may create the factor that verifies it. So a
//! self-service enrollment counts only once someone else vouched for it (a team member approved
//! it, or its announced cooling-off period passed), an operator's counts from its creation, and
//! either counts only for alerts received after it became active.

use super::state::EscalationReason;
use chrono::{DateTime, Duration, Utc};

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentState {
    /// The seed was shown; its first code was never entered (the person may start again).
    Setup,
    /// The first code proved the app has the seed; waiting for the team or the cooling-off.
    AwaitingApproval,
    /// Vouched for (approved, made by an operator, or cooled off): see `active_from`.
    Active,
    /// The team refused it; only an operator's reset allows a new one.
    Rejected,
}

impl EnrollmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentState::Setup => "setup",
            EnrollmentState::AwaitingApproval => "awaiting_approval",
            EnrollmentState::Active => "active",
            EnrollmentState::Rejected => "rejected",
        }
    }

    /// Stored names, and those earlier versions stored: `pending` was a setup, `enrolled` an
    /// enrollment that counted from its first code (see the README's upgrade note).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "setup" | "pending" => Some(EnrollmentState::Setup),
            "awaiting_approval" => Some(EnrollmentState::AwaitingApproval),
            "active" | "enrolled" => Some(EnrollmentState::Active),
            "rejected" => Some(EnrollmentState::Rejected),
            _ => None,
        }
    }
}

/// A person's enrollment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub state: EnrollmentState,
    /// When the seed was made.
    pub started_at: Option<DateTime<Utc>>,
    /// From when it verifies a Yes: the approval, the operator's enrollment, or the end of the
    /// cooling-off period (set when the first code is entered). `None` until known.
    pub active_from: Option<DateTime<Utc>>,
    /// Who vouched: `chat:<team member>`, `operator:<name>`, `cooling-off`.
    pub vouched_by: Option<String>,
}

/// How a self-service enrollment gets vouched for (`[second_factor] approval` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Approval {
    /// A team member approves it from its announcement (the secure default).
    #[default]
    TeamApproval,
    /// It becomes active on its own this long after its first code; the team is told at once
    /// and can reject it meanwhile.
    CoolingOff { cooling_off_hours: u32 },
}

impl Approval {
    /// When a self-service enrollment whose first code came at `confirmed_at` becomes active
    /// by itself (`None`: only an approval activates it).
    pub fn active_from(self, confirmed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Approval::TeamApproval => None,
            Approval::CoolingOff { cooling_off_hours } => {
                Some(confirmed_at + Duration::hours(cooling_off_hours.into()))
            }
        }
    }
}

/// Why an enrollment cannot verify a Yes, in words for the team's post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotVouched {
    pub reason: EscalationReason,
    pub detail: String,
}

/// Whether `enrollment` may verify a Yes to an alert received at `received_at`; if not, why.
pub fn vouches_for(
    enrollment: Option<&Enrollment>,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), NotVouched> {
    let unverified = |detail: String| NotVouched {
        reason: EscalationReason::UnverifiedYes,
        detail,
    };
    let Some(e) = enrollment else {
        return Err(unverified("no two-factor set up".into()));
    };
    let started = e
        .started_at
        .map_or_else(String::new, |at| format!(" {}", ago(now - at)));
    let active_from = e.active_from.filter(|_| {
        matches!(
            e.state,
            EnrollmentState::Active | EnrollmentState::AwaitingApproval
        )
    });
    match (e.state, active_from) {
        (EnrollmentState::Rejected, _) => Err(unverified(
            "two-factor setup was rejected by the security team".into(),
        )),
        (EnrollmentState::Setup, _) => Err(unverified(format!(
            "two-factor setup started{started}, its first code never entered"
        ))),
        (_, Some(from)) if from <= received_at && from <= now => Ok(()),
        (_, Some(from)) if from <= now => Err(unverified(format!(
            "two-factor became active {}, after this alert came in",
            ago(now - from)
        ))),
        (EnrollmentState::AwaitingApproval, Some(_)) => Err(unverified(format!(
            "two-factor set up{started}, still in its cooling-off period"
        ))),
        _ => Err(unverified(format!(
            "two-factor set up{started}, not yet approved by the security team"
        ))),
    }
}

/// "3 minutes ago", "2 hours ago", "5 days ago".
pub fn ago(d: Duration) -> String {
    let (n, unit) = if d < Duration::minutes(1) {
        return "just now".into();
    } else if d < Duration::hours(1) {
        (d.num_minutes(), "minute")
    } else if d < Duration::days(1) {
        (d.num_hours(), "hour")
    } else {
        (d.num_days(), "day")
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap()
    }

    fn enrollment(state: EnrollmentState, active_from: Option<DateTime<Utc>>) -> Enrollment {
        Enrollment {
            state,
            started_at: Some(t(9, 57)),
            active_from,
            vouched_by: None,
        }
    }

    fn detail(e: Option<&Enrollment>, received: DateTime<Utc>) -> String {
        vouches_for(e, received, t(10, 0)).unwrap_err().detail
    }

    #[test]
    fn only_an_enrollment_active_before_the_alert_vouches() {
        let approved_at_9 = enrollment(EnrollmentState::Active, Some(t(9, 0)));
        assert_eq!(
            vouches_for(Some(&approved_at_9), t(9, 30), t(10, 0)),
            Ok(())
        );
        assert_eq!(
            detail(Some(&approved_at_9), t(8, 59)),
            "two-factor became active 1 hour ago, after this alert came in"
        );
    }

    #[test]
    fn nothing_a_session_can_do_alone_vouches() {
        assert_eq!(detail(None, t(9, 59)), "no two-factor set up");
        assert_eq!(
            detail(Some(&enrollment(EnrollmentState::Setup, None)), t(9, 59)),
            "two-factor setup started 3 minutes ago, its first code never entered"
        );
        assert_eq!(
            detail(
                Some(&enrollment(EnrollmentState::AwaitingApproval, None)),
                t(9, 59)
            ),
            "two-factor set up 3 minutes ago, not yet approved by the security team"
        );
        let cooling = enrollment(EnrollmentState::AwaitingApproval, Some(t(10, 30)));
        assert_eq!(
            detail(Some(&cooling), t(10, 40)),
            "two-factor set up 3 minutes ago, still in its cooling-off period"
        );
        let rejected = enrollment(EnrollmentState::Rejected, Some(t(9, 0)));
        assert!(detail(Some(&rejected), t(9, 59)).contains("rejected"));
    }

    #[test]
    fn a_cooled_off_enrollment_vouches_for_later_alerts() {
        let cooled = enrollment(EnrollmentState::AwaitingApproval, Some(t(9, 0)));
        assert_eq!(vouches_for(Some(&cooled), t(9, 30), t(10, 0)), Ok(()));
        let policy = Approval::CoolingOff {
            cooling_off_hours: 24,
        };
        assert_eq!(
            policy.active_from(t(9, 0)),
            Some(t(9, 0) + Duration::hours(24))
        );
        assert_eq!(Approval::TeamApproval.active_from(t(9, 0)), None);
    }

    #[test]
    fn states_read_their_old_names() {
        assert_eq!(
            EnrollmentState::parse("pending"),
            Some(EnrollmentState::Setup)
        );
        assert_eq!(
            EnrollmentState::parse("enrolled"),
            Some(EnrollmentState::Active)
        );
        for s in [
            EnrollmentState::Setup,
            EnrollmentState::AwaitingApproval,
            EnrollmentState::Active,
            EnrollmentState::Rejected,
        ] {
            assert_eq!(EnrollmentState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(ago(Duration::seconds(20)), "just now");
        assert_eq!(ago(Duration::minutes(1)), "1 minute ago");
        assert_eq!(ago(Duration::hours(5)), "5 hours ago");
        assert_eq!(ago(Duration::days(2)), "2 days ago");
    }
}

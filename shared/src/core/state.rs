//! The alert lifecycle. Every change of status goes through [`Status::can_become`], and the
//! store makes each one a conditional write on the current status, so a redelivered message,
//! a double click or a Slack retry can never move an alert twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored, waiting for the notifier to ask the person.
    Received,
    /// The DM went out; waiting for Yes or No.
    Asked,
    /// A reminder went out; the deadline still stands.
    Reminded,
    /// The person said Yes; waiting for their second factor.
    AwaitingSecondFactor,
    /// The person explained their Yes; a push is on its way to their phone, or waiting there
    /// to be approved (push second factors such as Duo).
    AwaitingPush,
    /// Yes, verified. Final.
    Confirmed,
    /// Covered by an earlier verified Yes in the same scope. Final.
    Snoozed,
    /// Nobody to ask (unknown person, never-contact list): waiting to be posted to the team.
    Unroutable,
    /// Posted to (or being posted to) the security team; waiting for them to close it.
    Escalated,
    /// The team has seen it and is on it.
    Acknowledged,
    /// Closed by the team: it was fine.
    ResolvedBenign,
    /// Closed by the team: it was an incident.
    Incident,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Received,
        Status::Asked,
        Status::Reminded,
        Status::AwaitingSecondFactor,
        Status::AwaitingPush,
        Status::Confirmed,
        Status::Snoozed,
        Status::Unroutable,
        Status::Escalated,
        Status::Acknowledged,
        Status::ResolvedBenign,
        Status::Incident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Asked => "asked",
            Status::Reminded => "reminded",
            Status::AwaitingSecondFactor => "awaiting_second_factor",
            Status::AwaitingPush => "awaiting_push",
            Status::Confirmed => "confirmed",
            Status::Snoozed => "snoozed",
            Status::Unroutable => "unroutable",
            Status::Escalated => "escalated",
            Status::Acknowledged => "acknowledged",
            Status::ResolvedBenign => "resolved_benign",
            Status::Incident => "incident",
        }
    }

    /// Waiting for the person: asked (or reminded) and not yet answered, or answered Yes and
    /// waiting for their second factor. Counted as their open questions.
    pub const WAITING_FOR_PERSON: &'static [Status] = &[
        Status::Asked,
        Status::Reminded,
        Status::AwaitingSecondFactor,
        Status::AwaitingPush,
    ];
    /// Asked and not answered yet: a Yes or No click may still move it.
    pub const UNANSWERED: &'static [Status] = &[Status::Asked, Status::Reminded];

    pub fn is_waiting_for_person(self) -> bool {
        Self::WAITING_FOR_PERSON.contains(&self)
    }

    /// Posted to the security team and not acknowledged or closed yet (the sparse
    /// `awaiting_team` index holds exactly these).
    pub fn is_waiting_for_team(self) -> bool {
        self == Status::Escalated
    }

    /// The statuses the SIEM hears about (write-back): answers, escalations and closures.
    pub fn is_reported(self) -> bool {
        matches!(
            self,
            Status::Confirmed
                | Status::Snoozed
                | Status::Escalated
                | Status::Acknowledged
                | Status::ResolvedBenign
                | Status::Incident
        )
    }

    /// The edges of the lifecycle. Anything not listed is refused.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Received, Asked | Unroutable | Escalated)
                | (Asked, Reminded | AwaitingSecondFactor | Escalated)
                | (Reminded, AwaitingSecondFactor | Escalated)
                | (AwaitingSecondFactor, AwaitingPush | Confirmed | Escalated)
                // An expired push goes back: the person may press Yes for another.
                | (AwaitingPush, AwaitingSecondFactor | Confirmed | Escalated)
                | (Unroutable, Escalated)
                | (Escalated, Acknowledged | ResolvedBenign | Incident)
                | (Acknowledged, ResolvedBenign | Incident)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    /// The names are serde's (snake_case), which `as_str` matches (tested below).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use serde::de::IntoDeserializer;
        let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        Status::deserialize(name).map_err(|_| format!("unknown alert status '{s}'"))
    }
}

/// Why an alert went to the security team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The person said it was not them.
    Denied,
    /// Too many wrong second-factor codes (or pushes).
    SecondFactorFailed,
    /// The person's phone said no: they denied the push (or reported it as fraud).
    SecondFactorDenied,
    /// Silence past the rule's deadline.
    NoAnswer,
    /// The source named nobody we can map to a person.
    UnmappableUser,
    /// The person is on the never-contact list.
    NeverContact,
    /// The person is not in the chat workspace.
    UnknownInChat,
    /// Yes without the second factor the rule requires: none, or not vouched for before the alert.
    UnverifiedYes,
}

impl EscalationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::Denied => "denied",
            EscalationReason::SecondFactorFailed => "second_factor_failed",
            EscalationReason::SecondFactorDenied => "second_factor_denied",
            EscalationReason::NoAnswer => "no_answer",
            EscalationReason::UnmappableUser => "unmappable_user",
            EscalationReason::NeverContact => "never_contact",
            EscalationReason::UnknownInChat => "unknown_in_chat",
            EscalationReason::UnverifiedYes => "unverified_yes",
        }
    }
}

impl fmt::Display for EscalationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of an alert's audit trail: who moved it where, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// "securitybot", "webhook:<key id>", "slack:<user id>"...
    pub actor: String,
    pub status: Status,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn all_lists_every_status_once() {
        let mut names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Status::ALL.len());
    }

    #[test]
    fn the_happy_path_is_allowed() {
        assert!(Received.can_become(Asked));
        assert!(Asked.can_become(AwaitingSecondFactor));
        assert!(AwaitingSecondFactor.can_become(Confirmed));
        assert!(AwaitingSecondFactor.can_become(AwaitingPush));
        assert!(AwaitingPush.can_become(Confirmed));
        assert!(Asked.can_become(Reminded));
        assert!(Reminded.can_become(Escalated));
        assert!(Escalated.can_become(Acknowledged));
        assert!(Acknowledged.can_become(ResolvedBenign));
    }

    #[test]
    fn final_states_go_nowhere_and_nothing_skips_the_second_factor() {
        for next in [Received, Asked, Escalated, Confirmed] {
            assert!(!Confirmed.can_become(next));
            assert!(!Snoozed.can_become(next));
        }
        assert!(!Asked.can_become(Confirmed), "a click alone never confirms");
        assert!(
            !Asked.can_become(AwaitingPush),
            "no push before the Yes form"
        );
        assert!(!Received.can_become(Received));
        assert!(!Reminded.can_become(Reminded), "one reminder only");
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            Received,
            AwaitingSecondFactor,
            AwaitingPush,
            ResolvedBenign,
            Incident,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str(), "serde's name");
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("bogus".parse::<Status>().is_err());
    }
}

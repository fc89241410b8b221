//! What the SIEM hears about an alert: one event per answer, escalation or closure
//! (write-back). Built from the alerts table's stream by the stream adapter, sent by a sink.

use super::alert::AlertId;
use super::state::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the SIEM receives about one change of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerEvent {
    /// Stable per alert and status: the SIEM can dedupe on it.
    pub event_id: String,
    pub alert_id: AlertId,
    /// The alert as the SIEM knows it.
    pub source: String,
    pub source_id: Option<String>,
    pub rule: String,
    pub user: Option<String>,
    pub status: Status,
    pub escalation_reason: Option<String>,
    /// The person's own words, when they answered.
    pub explanation: Option<String>,
    pub at: DateTime<Utc>,
    /// Who made the change: "chat:U123", "securitybot:scheduler"...
    pub actor: String,
}

/// Whether a change of status, as a stream shows it (before, after), is one the SIEM hears
/// about: a new status that is reported. Claims and other bookkeeping writes keep the status.
pub fn is_reported_change(before: Option<Status>, after: Option<Status>) -> bool {
    after.is_some_and(|after| before != Some(after) && after.is_reported())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn only_a_new_reported_status_is_a_reported_change() {
        assert!(is_reported_change(Some(Asked), Some(Escalated)));
        assert!(
            is_reported_change(None, Some(Snoozed)),
            "an insert as snoozed"
        );
        assert!(
            !is_reported_change(Some(Escalated), Some(Escalated)),
            "a bookkeeping write"
        );
        assert!(
            !is_reported_change(Some(Received), Some(Asked)),
            "not an answer"
        );
        assert!(!is_reported_change(Some(Asked), None), "a deletion");
    }
}

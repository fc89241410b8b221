//! Write-back: every answer, escalation and closure goes back to the SIEM, so the team's own
//! searches show the person's response beside the alert. Fed by the alerts table's stream.
//!
//! "Once": before sending, the alert is claimed for that status (`writeback_<status>`); the
//! claim stays after a successful send, so a redelivered stream record is skipped, and is given
//! back when the send fails, so the retry sends. The window left: a crash between the SIEM
//! accepting the event and the function returning; the retry sends again, and the event's
//! stable `event_id` lets the SIEM drop the copy.

use crate::core::alert::AlertId;
use crate::core::state::Status;
use crate::error::Result;
use crate::ports::{AlertStore, Clock, SiemSink};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::Arc;

/// What the SIEM receives about one change of an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// The statuses the SIEM hears about: answers, escalations and closures.
pub fn is_reported(status: Status) -> bool {
    matches!(
        status,
        Status::Confirmed
            | Status::Snoozed
            | Status::Escalated
            | Status::Acknowledged
            | Status::ResolvedBenign
            | Status::Incident
    )
}

pub struct Writeback {
    pub sink: Option<Arc<dyn SiemSink>>,
    pub alerts: Arc<dyn AlertStore>,
    pub clock: Arc<dyn Clock>,
}

impl Writeback {
    /// Sends the event unless write-back is off or it was already sent. Returns whether it sent.
    pub async fn deliver(&self, event: &AnswerEvent) -> Result<bool> {
        let Some(sink) = &self.sink else {
            return Ok(false);
        };
        let claim = format!("writeback_{}", event.status);
        if !self
            .alerts
            .claim(
                &event.alert_id,
                &claim,
                self.clock.now(),
                Duration::days(3650),
            )
            .await?
        {
            tracing::info!(alert_id = %event.alert_id, status = %event.status, "already written back");
            return Ok(false);
        }
        if let Err(e) = sink.send(event).await {
            self.alerts.release(&event.alert_id, &claim).await?;
            return Err(e);
        }
        tracing::info!(alert_id = %event.alert_id, status = %event.status, "written back to the SIEM");
        Ok(true)
    }
}

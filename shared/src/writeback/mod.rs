//! Write-back: every answer, escalation and closure goes back to the SIEM, so the team's own
//! searches show the person's response beside the alert. Fed by the alerts table's stream.
//!
//! "Once": before sending, the alert is claimed for that status (`writeback_<status>`); the
//! claim stays after a successful send, so a redelivered stream record is skipped, and is given
//! back when the send fails, so the retry sends. The window left: a crash between the SIEM
//! accepting the event and the function returning; the retry sends again, and the event's
//! stable `event_id` lets the SIEM drop the copy.

use crate::core::answer_event::AnswerEvent;
use crate::core::metrics::Metric;
use crate::core::work::ClaimKind;
use crate::error::Result;
use crate::ports::steps::send_once;
use crate::ports::{AlertStore, Clock, FailedWritebacks, Metrics, SiemSink};
use std::sync::Arc;

pub struct Writeback {
    pub sink: Option<Arc<dyn SiemSink>>,
    pub alerts: Arc<dyn AlertStore>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<dyn Metrics>,
    /// Failures kept with their content, for [`Writeback::redrive`].
    pub failures: Arc<dyn FailedWritebacks>,
}

/// How long a failed write-back is kept for a redrive (the stream keeps 24 hours).
pub const KEEP_FAILURES: chrono::Duration = chrono::Duration::days(14);

/// What a redrive did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Redriven {
    pub sent: usize,
    /// Sent meanwhile (the stream's own retries succeeded): taken off the list, not sent twice.
    pub already_sent: usize,
    pub still_failing: usize,
}

/// One record of the alerts table's stream, as write-back needs it: its position (to report
/// a failure) and the event it calls for (`None`: not a change the SIEM hears about; `Err`: an
/// image we cannot read).
pub struct StreamChange {
    pub sequence: String,
    pub event: Result<Option<AnswerEvent>>,
}

impl Writeback {
    /// Sends the batch's events in order. On the first failure, returns its position: the
    /// stream is retried from there (everything after it included), then the batch goes to
    /// the on-failure queue, which has an alarm. Out of time (`stop_at`), it stops the same
    /// way before starting a send it might not finish.
    pub async fn deliver_in_order(
        &self,
        changes: Vec<StreamChange>,
        stop_at: Option<std::time::Instant>,
    ) -> Option<String> {
        for change in changes {
            if stop_at.is_some_and(|stop| std::time::Instant::now() >= stop) {
                tracing::warn!(sequence = %change.sequence, "out of time; the stream resumes from here");
                return Some(change.sequence);
            }
            let outcome = match change.event {
                Ok(Some(event)) => self.deliver(&event).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(error) = outcome {
                tracing::error!(error = %error, retryable = error.is_retryable(), "write-back failed; retrying from this record");
                return Some(change.sequence);
            }
        }
        None
    }

    /// Sends the event unless write-back is off or it was already sent. Returns whether it sent.
    pub async fn deliver(&self, event: &AnswerEvent) -> Result<bool> {
        let Some(sink) = &self.sink else {
            return Ok(false);
        };
        let kind = ClaimKind::Writeback(event.status);
        let sent = send_once(
            &*self.alerts,
            &event.alert_id,
            kind,
            self.clock.now(),
            sink.send(event),
        )
        .await;
        if !matches!(sent, Ok(None)) {
            self.metrics.record(Metric::WriteBack {
                sink: sink.name(),
                outcome: if sent.is_ok() { "ok" } else { "failed" },
            });
        }
        if let Err(error) = &sent {
            // Kept with its content: the stream's retries and dead-letter positions expire
            // with the stream, this does not. Best effort: the stream still retries.
            let until = self.clock.now() + KEEP_FAILURES;
            if let Err(e) = self.failures.keep(event, &error.to_string(), until).await {
                tracing::error!(alert_id = %event.alert_id, error = %e, "could not keep the failed write-back for a redrive");
            }
        }
        let sent = sent?;
        if sent.is_none() {
            tracing::info!(alert_id = %event.alert_id, status = %event.status, "already written back");
            return Ok(false);
        }
        tracing::info!(alert_id = %event.alert_id, status = %event.status, "written back to the SIEM");
        Ok(true)
    }
}

/// An operator's command to the writeback function, invoked by hand
/// (events/writeback-redrive.json).
#[derive(Debug, serde::Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    /// Sends every kept failed write-back again.
    Redrive { operator: String },
}

impl Writeback {
    /// Runs an operator's command; a bad one is refused naming the problem.
    pub async fn command(&self, event: serde_json::Value) -> Result<serde_json::Value> {
        let Command::Redrive { operator } = serde_json::from_value(event).map_err(|e| {
            crate::error::Error::Invalid(format!("{e}; commands: redrive (with operator)"))
        })?;
        if operator.trim().is_empty() {
            return Err(crate::error::Error::Invalid(
                "operator must name who is acting".into(),
            ));
        }
        let report = self.redrive(&format!("operator:{operator}")).await?;
        Ok(serde_json::to_value(report).expect("a report serialises"))
    }

    /// Sends every kept failure again (an operator's `redrive`). Each is sent at most once
    /// overall (the same claim and sent mark as the stream's sends).
    pub async fn redrive(&self, by: &str) -> Result<Redriven> {
        if self.sink.is_none() {
            return Err(crate::error::Error::Invalid(
                "write-back is off (WritebackSink): nothing to redrive to".into(),
            ));
        }
        let mut report = Redriven::default();
        for event in self.failures.pending().await? {
            match self.deliver(&event).await {
                Ok(true) => {
                    report.sent += 1;
                    self.failures
                        .resolved(&event.event_id, &format!("redriven by {by}"))
                        .await?;
                }
                Ok(false) => {
                    report.already_sent += 1;
                    self.failures
                        .resolved(&event.event_id, "already sent")
                        .await?;
                }
                Err(e) => {
                    report.still_failing += 1;
                    tracing::warn!(alert_id = %event.alert_id, error = %e, "redrive: still failing");
                }
            }
        }
        tracing::warn!(by, ?report, "write-backs redriven");
        Ok(report)
    }
}

#[cfg(test)]
mod tests;

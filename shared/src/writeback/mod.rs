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
use crate::ports::{AlertStore, Clock, Metrics, SiemSink};
use std::sync::Arc;

pub struct Writeback {
    pub sink: Option<Arc<dyn SiemSink>>,
    pub alerts: Arc<dyn AlertStore>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<dyn Metrics>,
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
        let sent = sent?;
        if sent.is_none() {
            tracing::info!(alert_id = %event.alert_id, status = %event.status, "already written back");
            return Ok(false);
        }
        tracing::info!(alert_id = %event.alert_id, status = %event.status, "written back to the SIEM");
        Ok(true)
    }
}

#[cfg(test)]
mod tests;

//! The clock's side of the conversation, run every minute by the scheduler function: one
//! polite reminder, then escalation at the deadline; and re-sending hand-offs to the queue
//! that were never acted on. It reads only the status/due index, never scans the table, and
//! every move is a conditional transition, so overlapping runs cannot act twice.

use crate::core::alert::AlertId;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, Announcement, HANDOFF_RECHECK, Notice, WorkItem};
use crate::error::Result;
use crate::ports::steps::hand_off;
use crate::ports::{AlertStore, Clock, WorkQueue};
use futures_util::future::try_join_all;
use serde::Serialize;
use std::sync::Arc;

const ACTOR: &str = "securitybot:scheduler";

/// A permanent failure on one alert this many runs in a row takes it out of the sweep, and the
/// team is told, so one poison item never stops everyone else's reminders and escalations.
pub const QUARANTINE_AFTER: u32 = 5;

/// What one run did, for the function's answer and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sweep {
    pub reminded: usize,
    pub escalated: usize,
    pub resent: usize,
    /// Alerts whose step failed this run (the others were handled all the same).
    pub failed: usize,
    /// Alerts taken out of the sweep and reported to the team.
    pub quarantined: usize,
}

/// What the sweep did for one alert.
enum Done {
    Nothing,
    Reminded,
    Escalated,
    Resent,
}

/// What the sweep looks at, in this order.
const SWEPT: [Status; 7] = [
    Status::Asked,
    Status::Reminded,
    Status::AwaitingSecondFactor,
    Status::AwaitingPush,
    Status::Received,
    Status::Unroutable,
    Status::Escalated,
];

pub struct Deadlines {
    pub alerts: Arc<dyn AlertStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    /// At most this many alerts per status per run (the rest wait a minute).
    pub batch: usize,
}

impl Deadlines {
    /// One run. Each alert's step is on its own: a failure is logged and counted and the
    /// sweep carries on. If any failure was transient, the run fails at the end (after the
    /// others were handled), so the schedule retries and its alarm sees a failing sweep.
    pub async fn run(&self) -> Result<Sweep> {
        let now = self.clock.now();
        let mut sweep = Sweep::default();
        let mut transient = None;
        // Order matters only for fairness under the batch limit: people first, then the
        // hand-offs still owed (a lost queue message, dead-lettered, a team post never
        // recorded). Re-sending is safe: the notifier acts only on the current status.
        // The seven look-ups are independent index queries: made at once.
        let due =
            try_join_all(SWEPT.map(|status| self.alerts.due(status, now, self.batch))).await?;
        for (status, ids) in SWEPT.into_iter().zip(due) {
            for id in ids {
                match self.step(status, &id).await {
                    Ok(Done::Nothing) => {}
                    Ok(Done::Reminded) => sweep.reminded += 1,
                    Ok(Done::Escalated) => sweep.escalated += 1,
                    Ok(Done::Resent) => sweep.resent += 1,
                    Err(error) if error.is_retryable() => {
                        tracing::warn!(alert_id = %id, %status, error = %error, "sweep step failed; will try again next run");
                        sweep.failed += 1;
                        transient.get_or_insert(error);
                    }
                    Err(error) => {
                        sweep.failed += 1;
                        sweep.quarantined += self.failed_for_good(&id, &error).await as usize;
                    }
                }
            }
        }
        if sweep != Sweep::default() {
            tracing::info!(?sweep, "deadlines swept");
        }
        match transient {
            Some(error) => Err(error),
            None => Ok(sweep),
        }
    }

    async fn step(&self, status: Status, id: &AlertId) -> Result<Done> {
        let now = self.clock.now();
        let done = |moved: bool, done: Done| if moved { done } else { Done::Nothing };
        match status {
            Status::Asked => {
                let Some(record) = self.alerts.get(id).await? else {
                    return Ok(Done::Nothing);
                };
                let deadline = record.deadline_at.unwrap_or(now);
                if deadline <= now {
                    return Ok(done(
                        self.escalate(id, &[Status::Asked]).await?,
                        Done::Escalated,
                    ));
                }
                let transition = Transition::new(
                    &[Status::Asked],
                    Status::Reminded,
                    now,
                    ACTOR,
                    "no answer yet; reminding once",
                )
                .with(Changes {
                    due_at: Some(Some(deadline)),
                    ..Changes::default()
                });
                if self.alerts.transition(id, &transition).await?.is_none() {
                    return Ok(Done::Nothing);
                }
                self.queue
                    .send(&WorkItem::new(Action::Remind, id.clone()))
                    .await?;
                Ok(Done::Reminded)
            }
            Status::Reminded | Status::AwaitingSecondFactor | Status::AwaitingPush => {
                Ok(done(self.escalate(id, &[status]).await?, Done::Escalated))
            }
            _ => {
                let Some(action) = Action::owed_in(status) else {
                    return Ok(Done::Nothing);
                };
                tracing::warn!(alert_id = %id, %status, "hand-off not acted on in time; sending it again");
                hand_off(
                    &*self.alerts,
                    &*self.queue,
                    &WorkItem::new(action, id.clone()),
                    now,
                )
                .await?;
                Ok(Done::Resent)
            }
        }
    }

    /// A step that can never succeed as things stand (an item we cannot read or update):
    /// counted on the alert; after [`QUARANTINE_AFTER`] runs it leaves the sweep and the team
    /// is told, so a person still looks. Returns whether it was quarantined now.
    async fn failed_for_good(&self, id: &AlertId, error: &crate::Error) -> bool {
        tracing::error!(alert_id = %id, error = %error, "sweep step failed for good");
        let quarantined = async {
            let failures = self.alerts.note_failure(id).await?;
            if failures < QUARANTINE_AFTER {
                return Ok(false);
            }
            self.alerts.quarantine(id).await?;
            let report = Announcement::new(
                Notice::AlertNotProcessed,
                id.as_str(),
                ACTOR,
                self.clock.now(),
            )
            .with_detail(format!("{failures} runs failed: {error}"));
            self.queue.announce(&report).await?;
            Ok::<_, crate::Error>(true)
        };
        match quarantined.await {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(alert_id = %id, error = %e, "could not count or quarantine a failing alert");
                false
            }
        }
    }

    async fn escalate(&self, id: &AlertId, from: &[Status]) -> Result<bool> {
        let transition = Transition::new(
            from,
            Status::Escalated,
            self.clock.now(),
            ACTOR,
            "no answer by the deadline",
        )
        .with(Changes {
            escalation_reason: Some(EscalationReason::NoAnswer),
            // The team post is owed until it is recorded (see below).
            due_at: Some(Some(self.clock.now() + HANDOFF_RECHECK)),
            ..Changes::default()
        });
        if self.alerts.transition(id, &transition).await?.is_none() {
            return Ok(false);
        }
        self.queue
            .send(&WorkItem::new(Action::Escalate, id.clone()))
            .await?;
        Ok(true)
    }
}

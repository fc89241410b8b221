//! The clock's side of the conversation, run every minute by the scheduler function: one
//! polite reminder, then escalation at the deadline; and re-sending hand-offs to the queue
//! that were never acted on. It reads only the status/due index, never scans the table, and
//! every move is a conditional transition, so overlapping runs cannot act twice.

use crate::core::alert::AlertId;
use crate::core::state::{EscalationReason, Status};
use crate::core::transition::{Changes, Transition};
use crate::core::work::{Action, HANDOFF_RECHECK, WorkItem};
use crate::error::Result;
use crate::ports::steps::hand_off;
use crate::ports::{AlertStore, Clock, WorkQueue};
use serde::Serialize;
use std::sync::Arc;

const ACTOR: &str = "securitybot:scheduler";

/// What one run did, for the function's answer and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sweep {
    pub reminded: usize,
    pub escalated: usize,
    pub resent: usize,
}

pub struct Deadlines {
    pub alerts: Arc<dyn AlertStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    /// At most this many alerts per status per run (the rest wait a minute).
    pub batch: usize,
}

impl Deadlines {
    pub async fn run(&self) -> Result<Sweep> {
        let now = self.clock.now();
        let mut sweep = Sweep::default();
        for id in self.alerts.due(Status::Asked, now, self.batch).await? {
            let Some(record) = self.alerts.get(&id).await? else {
                continue;
            };
            let deadline = record.deadline_at.unwrap_or(now);
            if deadline <= now {
                sweep.escalated += self.escalate(&id, &[Status::Asked]).await? as usize;
                continue;
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
            if self.alerts.transition(&id, &transition).await?.is_some() {
                self.queue.send(&WorkItem::new(Action::Remind, id)).await?;
                sweep.reminded += 1;
            }
        }
        for status in [Status::Reminded, Status::AwaitingSecondFactor] {
            for id in self.alerts.due(status, now, self.batch).await? {
                sweep.escalated += self.escalate(&id, &[status]).await? as usize;
            }
        }
        // Hand-offs still owed after the recheck delay: the queue message was lost or
        // dead-lettered, or a team post was never recorded. Sending again is safe; the notifier
        // acts only on the current status and posts to the team once.
        for status in [Status::Received, Status::Unroutable, Status::Escalated] {
            let Some(action) = Action::owed_in(status) else {
                continue;
            };
            for id in self.alerts.due(status, now, self.batch).await? {
                tracing::warn!(alert_id = %id, %status, "hand-off not acted on in time; sending it again");
                hand_off(&*self.alerts, &*self.queue, &WorkItem::new(action, id), now).await?;
                sweep.resent += 1;
            }
        }
        if sweep != Sweep::default() {
            tracing::info!(?sweep, "deadlines swept");
        }
        Ok(sweep)
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

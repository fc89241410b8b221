//! Posting a rollup: count the period's alerts, list what still waits for the team, post once.
//! The period comes from the schedule's tick, and its post is claimed in the checkpoints table
//! before sending and marked done after, so a retried or doubled invocation never posts twice.

use crate::core::rollup::{Cadence, Digest, Period, digest_message};
use crate::error::{Error, Result};
use crate::ports::{AlertStore, Chat, Checkpoints, Claim, Clock, SecondFactor};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::Arc;

/// Long enough for the queries and one Slack post; a crashed run frees the period after it.
const LEASE: Duration = Duration::minutes(5);
/// Done-markers outlive any retry of the schedule by far, then TTL removes them.
const KEEP_MARKERS: Duration = Duration::days(35);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupRun {
    pub period: String,
    /// False when this period was already posted (or is being posted by another run).
    pub posted: bool,
    pub alerts: usize,
    pub open_escalations: usize,
}

pub struct Rollups {
    pub alerts: Arc<dyn AlertStore>,
    pub second_factor: Arc<dyn SecondFactor>,
    pub checkpoints: Arc<dyn Checkpoints>,
    pub chat: Arc<dyn Chat>,
    pub channel: String,
    pub tz: Tz,
    pub clock: Arc<dyn Clock>,
}

impl Rollups {
    /// Builds the digest of `period`, without posting it.
    pub async fn digest(&self, period: Period) -> Result<Digest> {
        let received = self.alerts.count_received(period.start, period.end).await?;
        let escalated = self.alerts.awaiting_team().await?;
        let enrolled = self
            .second_factor
            .enrolled_between(period.start, period.end)
            .await?;
        Ok(Digest::new(period, received, &escalated, enrolled))
    }

    pub async fn run(&self, cadence: Cadence, tick: Option<DateTime<Utc>>) -> Result<RollupRun> {
        let now = self.clock.now();
        let tick = tick.unwrap_or(now);
        if tick > now + Duration::minutes(5) {
            return Err(Error::permanent(
                "rollup",
                format!("scheduled_time {tick} is in the future"),
            ));
        }
        let period = Period::ended_by(cadence, tick, self.tz);
        let key = period.key();
        let skipped = RollupRun {
            period: key.clone(),
            posted: false,
            alerts: 0,
            open_escalations: 0,
        };
        match self.checkpoints.claim(&key, now, LEASE).await? {
            Claim::Taken => {}
            Claim::Done => {
                tracing::info!(period = %key, "rollup already posted; nothing to do");
                return Ok(skipped);
            }
            Claim::Held => {
                tracing::info!(period = %key, "another run is posting this rollup");
                return Ok(skipped);
            }
        }
        let posted = async {
            let digest = self.digest(period).await?;
            let message = digest_message(&digest, now);
            let at = self.chat.send_to_channel(&self.channel, &message).await?;
            Ok::<_, Error>((digest, at))
        }
        .await;
        match posted {
            Ok((digest, at)) => {
                self.checkpoints
                    .complete(
                        &key,
                        &format!("posted {} {}", at.channel, at.ts),
                        now + KEEP_MARKERS,
                    )
                    .await?;
                Ok(RollupRun {
                    period: key,
                    posted: true,
                    alerts: digest.tally.total,
                    open_escalations: digest.open_escalations.len(),
                })
            }
            Err(e) => {
                // Free the period for the schedule's retry; a failure here only delays it by the lease.
                if let Err(release) = self.checkpoints.release(&key).await {
                    tracing::warn!(period = %key, error = %release, "could not release the rollup claim");
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{
        Fault, FixedClock, MemoryAlerts, MemoryChat, MemoryCheckpoints, MemorySecondFactor,
    };
    use crate::core::state::Status;
    use chrono::TimeZone;

    fn rollups() -> (Rollups, Arc<MemoryChat>, Arc<MemoryCheckpoints>) {
        let mut escalated = crate::core::messages::tests::record();
        escalated.status = Status::Escalated;
        let chat = Arc::new(MemoryChat::default());
        let checkpoints = Arc::new(MemoryCheckpoints::default());
        let rollups = Rollups {
            alerts: Arc::new(MemoryAlerts::with([escalated])),
            second_factor: Arc::new(MemorySecondFactor::new(5)),
            checkpoints: checkpoints.clone(),
            chat: chat.clone(),
            channel: "CSEC".into(),
            tz: chrono_tz::UTC,
            clock: Arc::new(FixedClock::at(
                Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 30).unwrap(),
            )),
        };
        (rollups, chat, checkpoints)
    }

    #[tokio::test]
    async fn a_period_is_posted_once_however_often_its_tick_comes() {
        let (rollups, chat, checkpoints) = rollups();
        let tick = Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap();
        let first = rollups.run(Cadence::Hourly, Some(tick)).await.unwrap();
        assert!(first.posted);
        assert_eq!(first.open_escalations, 1);
        let again = rollups.run(Cadence::Hourly, Some(tick)).await.unwrap();
        assert!(!again.posted);
        assert_eq!(chat.channel_posts().len(), 1);
        assert!(
            checkpoints
                .done_note(&first.period)
                .unwrap()
                .starts_with("posted CSEC ")
        );
    }

    #[tokio::test]
    async fn a_failed_post_frees_the_period_for_the_retry() {
        let (rollups, chat, _) = rollups();
        let tick = Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap();
        chat.fail(Fault::Outage);
        assert!(rollups.run(Cadence::Hourly, Some(tick)).await.is_err());
        chat.heal();
        assert!(
            rollups
                .run(Cadence::Hourly, Some(tick))
                .await
                .unwrap()
                .posted
        );
    }

    #[tokio::test]
    async fn a_tick_from_the_future_is_refused() {
        let (rollups, chat, _) = rollups();
        let tick = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        assert!(rollups.run(Cadence::Daily, Some(tick)).await.is_err());
        assert!(chat.channel_posts().is_empty());
    }
}

//! The two protocols every use case runs over the ports, written once:
//! - [`hand_off`]: queue an alert's owed work again, then note it as queued (with a time to
//!   look again, in case the work never happens) - the scheduler's sweep; admission needs no
//!   note, as it stores a new alert already due for that second look;
//! - [`send_once`]: claim a message for an alert, send it, mark it sent; give the claim back if
//!   the send failed, so a retry need not wait out the lease.

use super::{AlertStore, WorkQueue};
use crate::core::alert::AlertId;
use crate::core::work::{ClaimKind, HANDOFF_RECHECK, WorkItem};
use crate::error::Result;
use chrono::{DateTime, Utc};
use std::future::Future;

/// Puts the item on the queue, then records that it is there and when to look again. A crash
/// between the two leaves the alert due, so the next sweep sends it again (harmless: the
/// notifier sends once).
pub async fn hand_off(
    alerts: &dyn AlertStore,
    queue: &dyn WorkQueue,
    item: &WorkItem,
    now: DateTime<Utc>,
) -> Result<()> {
    queue.send(item).await?;
    alerts
        .mark_queued(&item.alert_id, now, now + HANDOFF_RECHECK)
        .await
}

/// Runs `send` under the alert's `kind` claim, then marks it sent. `Ok(None)`: sent already,
/// or another delivery holds the claim; nothing was sent. A failed send gives the claim back;
/// if that fails too, it is logged and the send's own error is what the caller sees (the claim
/// then lapses with its lease). A failed mark is logged: the message went out, and the claim
/// still holds off a redelivery for its lease.
pub async fn send_once<T, F>(
    alerts: &dyn AlertStore,
    id: &AlertId,
    kind: ClaimKind,
    now: DateTime<Utc>,
    send: F,
) -> Result<Option<T>>
where
    F: Future<Output = Result<T>> + Send,
{
    if !alerts.claim(id, kind, now).await? {
        return Ok(None);
    }
    match send.await {
        Ok(sent) => {
            if kind.marks_sent()
                && let Err(mark) = alerts.mark_sent(id, kind, now).await
            {
                tracing::warn!(alert_id = %id, claim = %kind.name(), error = %mark, "sent, but could not mark it sent");
            }
            Ok(Some(sent))
        }
        Err(error) => {
            if let Err(release) = alerts.release(id, kind).await {
                tracing::warn!(alert_id = %id, claim = %kind.name(), error = %release, "could not give the claim back; the retry waits out its lease");
            }
            Err(error)
        }
    }
}

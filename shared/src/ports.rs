//! The outside world as the core sees it. Adapters implement these for AWS (and in memory for
//! tests); handlers receive them already built, once per cold start.

use crate::core::alert::AlertId;
use crate::core::record::AlertRecord;
use crate::core::snooze::Snooze;
use crate::core::work::WorkItem;
use crate::error::Result;
use crate::secrets::Secrets;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What happened when we tried to store a new alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// First time we see it.
    Created,
    /// Already stored (a redelivery); here is what is stored.
    AlreadyStored(Box<AlertRecord>),
}

#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores the record only if no alert with its id exists (one conditional write).
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted>;
    /// Notes that the record's work item is on the queue, so the hand-off is not owed any more,
    /// and when to look again in case the work never happens (`due_at`).
    async fn mark_queued(
        &self,
        id: &AlertId,
        at: DateTime<Utc>,
        recheck_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn get(&self, id: &AlertId) -> Result<Option<AlertRecord>>;
}

#[async_trait]
pub trait SnoozeStore: Send + Sync {
    /// The snooze stored under `key`, expired or not: callers check [`Snooze::is_active`].
    async fn find(&self, key: &str) -> Result<Option<Snooze>>;
    async fn put(&self, snooze: &Snooze) -> Result<()>;
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Whether the security team has said never to contact this person directly.
    async fn is_never_contact(&self, user: &str) -> Result<bool>;
    async fn set_never_contact(&self, user: &str, never: bool, by: &str) -> Result<()>;
}

#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn send(&self, item: &WorkItem) -> Result<()>;
}

#[async_trait]
pub trait SecretSource: Send + Sync {
    /// Reads the current secret (never cached here: see [`crate::secrets::SecretsCache`]).
    async fn fetch(&self) -> Result<Secrets>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

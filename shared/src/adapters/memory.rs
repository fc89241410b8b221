//! In-memory adapters: the same ports without AWS, for fast handler tests and local tools.

use crate::core::alert::AlertId;
use crate::core::record::AlertRecord;
use crate::core::snooze::Snooze;
use crate::core::work::WorkItem;
use crate::error::Result;
use crate::ports::{AlertStore, Clock, Directory, Inserted, SecretSource, SnoozeStore, WorkQueue};
use crate::secrets::Secrets;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryAlerts(pub Mutex<HashMap<AlertId, AlertRecord>>);

#[async_trait]
impl AlertStore for MemoryAlerts {
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted> {
        let mut map = self.0.lock().unwrap();
        if let Some(existing) = map.get(&record.id) {
            return Ok(Inserted::AlreadyStored(Box::new(existing.clone())));
        }
        map.insert(record.id.clone(), record.clone());
        Ok(Inserted::Created)
    }

    async fn mark_queued(
        &self,
        id: &AlertId,
        at: DateTime<Utc>,
        recheck_at: DateTime<Utc>,
    ) -> Result<()> {
        if let Some(record) = self.0.lock().unwrap().get_mut(id) {
            record.queued_at = Some(at);
            record.due_at = Some(recheck_at);
        }
        Ok(())
    }

    async fn get(&self, id: &AlertId) -> Result<Option<AlertRecord>> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
}

#[derive(Default)]
pub struct MemorySnoozes(pub Mutex<HashMap<String, Snooze>>);

#[async_trait]
impl SnoozeStore for MemorySnoozes {
    async fn find(&self, key: &str) -> Result<Option<Snooze>> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }

    async fn put(&self, snooze: &Snooze) -> Result<()> {
        self.0
            .lock()
            .unwrap()
            .insert(snooze.scope.key(), snooze.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryDirectory(pub Mutex<HashSet<String>>);

#[async_trait]
impl Directory for MemoryDirectory {
    async fn is_never_contact(&self, user: &str) -> Result<bool> {
        Ok(self.0.lock().unwrap().contains(user))
    }

    async fn set_never_contact(&self, user: &str, never: bool, _by: &str) -> Result<()> {
        let mut set = self.0.lock().unwrap();
        if never {
            set.insert(user.to_string());
        } else {
            set.remove(user);
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryQueue(pub Mutex<Vec<WorkItem>>);

#[async_trait]
impl WorkQueue for MemoryQueue {
    async fn send(&self, item: &WorkItem) -> Result<()> {
        self.0.lock().unwrap().push(item.clone());
        Ok(())
    }
}

pub struct StaticSecrets(pub Secrets);

#[async_trait]
impl SecretSource for StaticSecrets {
    async fn fetch(&self) -> Result<Secrets> {
        Ok(self.0.clone())
    }
}

/// A clock that stands still unless moved.
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

//! In-memory twins of the ports: the same behaviour without AWS or Slack, for fast use-case
//! tests. Built only for tests (`cfg(test)`, or the `twins` feature the test crate turns on),
//! never into a Lambda bootstrap.

mod chat;
mod checkpoints;
mod push;
mod second_factor;

pub use chat::{ChatCall, Fault, MemoryChat};
pub use checkpoints::{MemoryCheckpoints, MemoryFailedWritebacks};
pub use push::MemoryPush;
pub use second_factor::{MemorySecondFactor, setup_code};

use crate::core::alert::{Alert, AlertId};
use crate::core::answer_event::AnswerEvent;
use crate::core::record::{AlertRecord, ChatRef, PushSent};
use crate::core::secrets::Secrets;
use crate::core::snooze::Snooze;
use crate::core::state::{AuditEntry, EscalationReason, Status};
use crate::core::transition::Transition;
use crate::core::work::{Announcement, ClaimKind, WorkItem};
use crate::error::Result;
use crate::ports::AlertSummary;
use crate::ports::SecretStore;
use crate::ports::{
    AlertStore, ChatContact, Clock, Directory, Inserted, SecretSource, SiemSink, SnoozeStore,
    WorkQueue,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Records by id; claims with when they were taken; a switch that makes giving a claim back
/// fail (a store outage between a failed send and its release); sweep failures per alert.
#[derive(Default)]
#[allow(clippy::type_complexity)]
pub struct MemoryAlerts(
    pub Mutex<HashMap<AlertId, AlertRecord>>,
    pub Mutex<HashMap<(AlertId, String), DateTime<Utc>>>,
    pub AtomicBool,
    /// Sweep failures per alert.
    pub Mutex<HashMap<AlertId, u32>>,
    /// Poisoned alerts: reading or moving them fails (true: transiently, false: for good).
    pub Mutex<HashMap<AlertId, bool>>,
);

impl MemoryAlerts {
    /// Fails storing, reading and moving `id` from now on (until [`MemoryAlerts::heal`]).
    pub fn poison(&self, id: &AlertId, transient: bool) {
        self.4.lock().unwrap().insert(id.clone(), transient);
    }

    pub fn heal(&self, id: &AlertId) {
        self.4.lock().unwrap().remove(id);
    }

    fn check_poison(&self, id: &AlertId) -> Result<()> {
        match self.4.lock().unwrap().get(id) {
            Some(true) => Err(crate::error::Error::transient("dynamodb", "throttled")),
            Some(false) => Err(crate::error::Error::permanent(
                "dynamodb",
                "alerts item attribute 'status' has an unknown value",
            )),
            None => Ok(()),
        }
    }

    pub fn with(records: impl IntoIterator<Item = AlertRecord>) -> Self {
        let alerts = MemoryAlerts::default();
        alerts
            .0
            .lock()
            .unwrap()
            .extend(records.into_iter().map(|r| (r.id.clone(), r)));
        alerts
    }

    /// The stored record (panics if absent: a test's mistake).
    pub fn record(&self, id: &AlertId) -> AlertRecord {
        self.0.lock().unwrap()[id].clone()
    }

    pub fn is_claimed(&self, id: &AlertId, kind: ClaimKind) -> bool {
        self.1
            .lock()
            .unwrap()
            .contains_key(&(id.clone(), kind.name()))
    }
}

#[async_trait]
impl AlertStore for MemoryAlerts {
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted> {
        self.check_poison(&record.id)?;
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
        self.check_poison(id)?;
        Ok(self.0.lock().unwrap().get(id).cloned())
    }

    async fn transition(&self, id: &AlertId, t: &Transition) -> Result<Option<AlertRecord>> {
        self.check_poison(id)?;
        let mut map = self.0.lock().unwrap();
        let Some(r) = map.get_mut(id).filter(|r| t.from.contains(&r.status)) else {
            return Ok(None);
        };
        r.status = t.to;
        r.history.push(t.audit.clone());
        let c = t.changes.clone();
        if let Some(due) = c.due_at {
            r.due_at = due;
        }
        r.escalation_reason = c.escalation_reason.or(r.escalation_reason);
        r.escalation_detail = c.escalation_detail.or(r.escalation_detail.take());
        r.deadline_at = c.deadline_at.or(r.deadline_at);
        r.explanation = c.explanation.or(r.explanation.take());
        r.chat_user = c.chat_user.or(r.chat_user.take());
        r.ask_message = c.ask_message.or(r.ask_message.take());
        r.escalation_message = c.escalation_message.or(r.escalation_message.take());
        r.snooze_minutes = c.snooze_minutes.or(r.snooze_minutes);
        if c.clear_push {
            r.push = None;
        }
        Ok(Some(r.clone()))
    }

    async fn claim(&self, id: &AlertId, kind: ClaimKind, now: DateTime<Utc>) -> Result<bool> {
        let mut claims = self.1.lock().unwrap();
        if claims.contains_key(&(id.clone(), format!("{}_sent", kind.name()))) {
            return Ok(false);
        }
        let key = (id.clone(), kind.name());
        match claims.get(&key) {
            Some(at) if *at >= now - kind.lease() => Ok(false),
            _ => {
                claims.insert(key, now);
                Ok(true)
            }
        }
    }

    async fn mark_sent(&self, id: &AlertId, kind: ClaimKind, at: DateTime<Utc>) -> Result<()> {
        self.1
            .lock()
            .unwrap()
            .insert((id.clone(), format!("{}_sent", kind.name())), at);
        Ok(())
    }

    async fn release(&self, id: &AlertId, kind: ClaimKind) -> Result<()> {
        if self.2.load(Ordering::SeqCst) {
            return Err(crate::error::Error::transient("dynamodb", "release failed"));
        }
        self.1.lock().unwrap().remove(&(id.clone(), kind.name()));
        Ok(())
    }

    async fn set_escalation_message(&self, id: &AlertId, message: &ChatRef) -> Result<bool> {
        let mut map = self.0.lock().unwrap();
        match map.get_mut(id) {
            Some(r) if r.escalation_message.is_none() => {
                r.escalation_message = Some(message.clone());
                r.due_at = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn recent_for(&self, user: &str, limit: usize) -> Result<Vec<AlertSummary>> {
        let map = self.0.lock().unwrap();
        let mut mine: Vec<AlertSummary> = map
            .values()
            .filter(|r| r.user.as_deref() == Some(user))
            .map(|r| AlertSummary {
                id: r.id.clone(),
                status: r.status,
                rule: r.alert.rule.clone(),
                title: r.alert.title.clone(),
                received_at: r.received_at,
            })
            .collect();
        mine.sort_by_key(|a| std::cmp::Reverse(a.received_at));
        mine.truncate(limit);
        Ok(mine)
    }

    async fn replace_escalation_message(
        &self,
        id: &AlertId,
        message: &ChatRef,
        audit: &crate::core::state::AuditEntry,
    ) -> Result<bool> {
        let mut map = self.0.lock().unwrap();
        Ok(map.get_mut(id).is_some_and(|r| {
            r.escalation_message = Some(message.clone());
            r.history.push(audit.clone());
            true
        }))
    }

    async fn record_push(&self, id: &AlertId, push: &PushSent) -> Result<bool> {
        self.check_poison(id)?;
        let mut map = self.0.lock().unwrap();
        match map.get_mut(id) {
            Some(r) if r.status == Status::AwaitingPush && r.push.is_none() => {
                r.push = Some(push.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn note_failure(&self, id: &AlertId) -> Result<u32> {
        let mut failures = self.3.lock().unwrap();
        let n = failures.entry(id.clone()).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    async fn quarantine(&self, id: &AlertId) -> Result<()> {
        if let Some(r) = self.0.lock().unwrap().get_mut(id) {
            r.due_at = None;
        }
        Ok(())
    }

    async fn reserve_code_attempt(&self, id: &AlertId, max: u32) -> Result<Option<u32>> {
        let mut map = self.0.lock().unwrap();
        let r = map
            .get_mut(id)
            .expect("reserving attempts on a stored alert");
        if r.code_attempts >= max {
            return Ok(None);
        }
        r.code_attempts += 1;
        Ok(Some(r.code_attempts))
    }

    async fn due(&self, status: Status, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertId>> {
        let map = self.0.lock().unwrap();
        let mut due: Vec<_> = map
            .values()
            .filter(|r| r.status == status && r.due_at.is_some_and(|d| d <= now))
            .collect();
        due.sort_by_key(|r| r.due_at);
        Ok(due.into_iter().take(limit).map(|r| r.id.clone()).collect())
    }

    async fn open_asks(&self, user: &str, since: DateTime<Utc>) -> Result<usize> {
        let map = self.0.lock().unwrap();
        Ok(map
            .values()
            .filter(|r| r.user.as_deref() == Some(user) && r.status.is_waiting_for_person())
            .filter(|r| r.received_at >= since)
            .count())
    }

    async fn count_received(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<crate::core::rollup::Tally> {
        let map = self.0.lock().unwrap();
        let mut counter = crate::core::rollup::Counter::default();
        map.values()
            .filter(|r| r.received_at >= start && r.received_at < end)
            .for_each(|r| counter.add(r));
        Ok(counter.finish())
    }

    async fn awaiting_team(&self) -> Result<Vec<AlertRecord>> {
        let map = self.0.lock().unwrap();
        let mut records: Vec<AlertRecord> = map
            .values()
            .filter(|r| r.status.is_waiting_for_team())
            .cloned()
            .collect();
        records.sort_by_key(|r| r.received_at);
        Ok(records)
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

    async fn list(&self) -> Result<Vec<Snooze>> {
        Ok(self.0.lock().unwrap().values().cloned().collect())
    }

    async fn remove(&self, key: &str) -> Result<()> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryDirectory(
    pub Mutex<HashSet<String>>,
    pub Mutex<HashMap<String, ChatContact>>,
);

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

    async fn never_contact_list(&self) -> Result<Vec<String>> {
        let mut users: Vec<String> = self.0.lock().unwrap().iter().cloned().collect();
        users.sort();
        Ok(users)
    }

    async fn cached_contact(&self, user: &str, _now: DateTime<Utc>) -> Result<Option<ChatContact>> {
        Ok(self.1.lock().unwrap().get(user).cloned())
    }

    async fn remember_contact(
        &self,
        user: &str,
        contact: &ChatContact,
        _until: DateTime<Utc>,
    ) -> Result<()> {
        self.1
            .lock()
            .unwrap()
            .insert(user.to_string(), contact.clone());
        Ok(())
    }

    async fn remember_direct(&self, user: &str, chat_id: &str, direct: &str) -> Result<()> {
        if let Some(contact) = self.1.lock().unwrap().get_mut(user)
            && contact.id == chat_id
        {
            contact.direct = Some(direct.to_string());
        }
        Ok(())
    }
}

/// The queue: work items sent, the delays asked for (receipt, seconds), announcements sent.
#[derive(Default)]
pub struct MemoryQueue(
    pub Mutex<Vec<WorkItem>>,
    pub Mutex<Vec<(String, u64)>>,
    pub Mutex<Vec<Announcement>>,
);

impl MemoryQueue {
    /// Takes every work item sent so far.
    pub fn drain(&self) -> Vec<WorkItem> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// Takes every announcement sent so far.
    pub fn announcements(&self) -> Vec<Announcement> {
        std::mem::take(&mut *self.2.lock().unwrap())
    }
}

#[async_trait]
impl WorkQueue for MemoryQueue {
    async fn send(&self, item: &WorkItem) -> Result<()> {
        self.0.lock().unwrap().push(item.clone());
        Ok(())
    }

    async fn retry_after(&self, receipt: &str, seconds: u64) -> Result<()> {
        self.1.lock().unwrap().push((receipt.to_string(), seconds));
        Ok(())
    }

    /// Recorded as sent (the delay is the test's to play out).
    async fn send_later(&self, item: &WorkItem, seconds: u64) -> Result<()> {
        self.0.lock().unwrap().push(item.clone());
        self.1
            .lock()
            .unwrap()
            .push((format!("later:{}", item.alert_id), seconds));
        Ok(())
    }

    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        self.2.lock().unwrap().push(announcement.clone());
        Ok(())
    }
}

/// A secret that never changes; as a [`SecretStore`] too (no cache needed).
pub struct StaticSecrets(pub Secrets);

#[async_trait]
impl SecretSource for StaticSecrets {
    async fn fetch(&self) -> Result<Secrets> {
        Ok(self.0.clone())
    }
}

#[async_trait]
impl SecretStore for StaticSecrets {
    async fn get(&self) -> Result<Arc<Secrets>> {
        Ok(Arc::new(self.0.clone()))
    }

    async fn refresh(&self) -> Result<Arc<Secrets>> {
        Ok(Arc::new(self.0.clone()))
    }
}

/// A SIEM that records what it is sent, and can be told to refuse.
#[derive(Default)]
pub struct MemorySiem(pub Mutex<Vec<AnswerEvent>>, pub AtomicBool);

#[async_trait]
impl SiemSink for MemorySiem {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn send(&self, event: &AnswerEvent) -> Result<()> {
        if self.1.load(Ordering::SeqCst) {
            return Err(crate::error::Error::transient("siem", "HTTP 503"));
        }
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// A stored record as the write paths leave it after `history` (a fixture for rollup tests):
/// received at `received` via the local webhook, kept 180 days.
pub fn record_after(
    alert: Alert,
    user: &str,
    status: Status,
    reason: Option<EscalationReason>,
    received: DateTime<Utc>,
    history: Vec<AuditEntry>,
) -> AlertRecord {
    AlertRecord {
        user: Some(user.into()),
        escalation_reason: reason,
        raw: "{}".into(),
        received_via: "webhook:local".into(),
        history,
        ..AlertRecord::new(
            alert.id(),
            alert,
            status,
            received,
            received + chrono::Duration::days(180),
        )
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
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

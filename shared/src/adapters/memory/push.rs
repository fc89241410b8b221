//! A push provider in memory: who can get a push, and what each push will come to.

use crate::error::{Error, Result};
use crate::ports::{PushFactor, PushOutcome, PushPrompt, PushReady};
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
pub struct MemoryPush {
    ready: Mutex<HashMap<String, PushReady>>,
    /// Per person: what `outcome` answers, in turn (the last one stays).
    outcomes: Mutex<HashMap<String, VecDeque<PushOutcome>>>,
    sent: Mutex<Vec<(String, PushPrompt)>>,
    down: AtomicBool,
}

impl MemoryPush {
    /// `user` has a phone that takes pushes; their pushes come to `outcomes`, in turn.
    pub fn person(&self, user: &str, outcomes: &[PushOutcome]) {
        self.ready
            .lock()
            .unwrap()
            .insert(user.into(), PushReady::Ready);
        self.outcomes
            .lock()
            .unwrap()
            .insert(user.into(), outcomes.iter().cloned().collect());
    }

    /// Every call fails (transiently) until [`MemoryPush::heal`].
    pub fn fail(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    pub fn heal(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Who was pushed, in order.
    pub fn sent(&self) -> Vec<(String, PushPrompt)> {
        self.sent.lock().unwrap().clone()
    }

    fn up(&self) -> Result<()> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(Error::transient("duo", "HTTP 503")),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl PushFactor for MemoryPush {
    async fn ready(&self, user: &str) -> Result<PushReady> {
        self.up()?;
        Ok(self
            .ready
            .lock()
            .unwrap()
            .get(user)
            .cloned()
            .unwrap_or_else(|| {
                PushReady::Unavailable("Duo does not know them (not enrolled in Duo)".into())
            }))
    }

    async fn push(&self, user: &str, prompt: &PushPrompt) -> Result<String> {
        self.up()?;
        let mut sent = self.sent.lock().unwrap();
        sent.push((user.to_string(), prompt.clone()));
        Ok(format!("tx{}:{user}", sent.len()))
    }

    async fn outcome(&self, push_id: &str) -> Result<PushOutcome> {
        self.up()?;
        let user = push_id.split_once(':').map_or("", |(_, user)| user);
        let mut outcomes = self.outcomes.lock().unwrap();
        let queue = outcomes.entry(user.to_string()).or_default();
        Ok(match queue.len() {
            0 => PushOutcome::Waiting,
            1 => queue[0].clone(),
            _ => queue.pop_front().unwrap(),
        })
    }
}

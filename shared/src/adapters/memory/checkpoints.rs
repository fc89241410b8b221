//! A checkpoints twin: named values and once-only claims with a lease, as the table keeps them.

use crate::core::answer_event::AnswerEvent;
use crate::error::Result;
use crate::ports::{Checkpoints, Claim, FailedWritebacks};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq)]
enum Marker {
    Held {
        since: DateTime<Utc>,
        lease: chrono::Duration,
    },
    Done {
        note: String,
    },
}

#[derive(Default)]
pub struct MemoryCheckpoints {
    values: Mutex<HashMap<String, String>>,
    markers: Mutex<HashMap<String, Marker>>,
}

impl MemoryCheckpoints {
    /// The note of a completed job, if it completed.
    pub fn done_note(&self, name: &str) -> Option<String> {
        match self.markers.lock().unwrap().get(name) {
            Some(Marker::Done { note }) => Some(note.clone()),
            _ => None,
        }
    }
}

#[async_trait]
impl Checkpoints for MemoryCheckpoints {
    async fn read(&self, name: &str) -> Result<Option<String>> {
        Ok(self.values.lock().unwrap().get(name).cloned())
    }

    async fn write(&self, name: &str, value: &str) -> Result<()> {
        self.values
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
        Ok(())
    }

    async fn claim(
        &self,
        name: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let mut markers = self.markers.lock().unwrap();
        match markers.get(name) {
            Some(Marker::Done { .. }) => Ok(Claim::Done),
            Some(Marker::Held { since, lease }) if *since + *lease > now => Ok(Claim::Held),
            _ => {
                markers.insert(name.to_string(), Marker::Held { since: now, lease });
                Ok(Claim::Taken)
            }
        }
    }

    async fn complete(&self, name: &str, note: &str, _keep_until: DateTime<Utc>) -> Result<()> {
        self.markers.lock().unwrap().insert(
            name.to_string(),
            Marker::Done {
                note: note.to_string(),
            },
        );
        Ok(())
    }

    async fn release(&self, name: &str) -> Result<()> {
        let mut markers = self.markers.lock().unwrap();
        if matches!(markers.get(name), Some(Marker::Held { .. })) {
            markers.remove(name);
        }
        Ok(())
    }
}

/// Failed write-backs, kept until resolved.
#[derive(Default)]
pub struct MemoryFailedWritebacks(pub Mutex<Vec<(AnswerEvent, String)>>);

#[async_trait]
impl FailedWritebacks for MemoryFailedWritebacks {
    async fn keep(&self, event: &AnswerEvent, error: &str, _until: DateTime<Utc>) -> Result<()> {
        let mut kept = self.0.lock().unwrap();
        kept.retain(|(e, _)| e.event_id != event.event_id);
        kept.push((event.clone(), error.to_string()));
        Ok(())
    }

    async fn pending(&self) -> Result<Vec<AnswerEvent>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(e, _)| e.clone())
            .collect())
    }

    async fn resolved(&self, event_id: &str, _note: &str) -> Result<()> {
        self.0
            .lock()
            .unwrap()
            .retain(|(e, _)| e.event_id != event_id);
        Ok(())
    }
}

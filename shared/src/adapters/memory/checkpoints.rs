//! A checkpoints twin: named values and once-only claims with a lease, as the table keeps them.

use crate::error::Result;
use crate::ports::{Checkpoints, Claim};
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

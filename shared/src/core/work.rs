//! Messages on the work queue. They carry ids, never alert content or secrets: the notifier
//! reads the alert from the store, so a queue message leaks nothing and cannot be stale.

use super::alert::AlertId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// DM the person: "was this you?"
    Ask,
    /// Post the alert to the security team.
    Escalate,
    /// Nudge the person, once, before the deadline.
    Remind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Message format version, so a deploy can change the format without losing messages in flight.
    pub v: u8,
    pub action: Action,
    pub alert_id: AlertId,
}

impl WorkItem {
    pub fn new(action: Action, alert_id: AlertId) -> Self {
        WorkItem {
            v: 1,
            action,
            alert_id,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a work item always serialises")
    }

    pub fn from_json(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|e| format!("not a work item: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_carries_only_ids() {
        let item = WorkItem::new(Action::Escalate, AlertId::from_stored("al_1"));
        let json = item.to_json();
        assert_eq!(json, r#"{"v":1,"action":"escalate","alert_id":"al_1"}"#);
        assert_eq!(WorkItem::from_json(&json), Ok(item));
        assert!(WorkItem::from_json("{}").is_err());
    }
}

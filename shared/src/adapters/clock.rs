//! Clocks: the system clock every deployed function uses, and the travel clock of local runs.
//!
//! `scripts/local-run.sh` shows a reminder, a deadline escalation and a rollup without waiting
//! half an hour, by telling the scheduler and rollup functions what time it is (`"now"` in the
//! event). Honoured only when `SECURITYBOT_TIME_TRAVEL=local`, which template.yaml never sets;
//! otherwise the field is left in the event (and refused there).

use crate::ports::Clock;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

pub const TIME_TRAVEL_ENV: &str = "SECURITYBOT_TIME_TRAVEL";

/// The system clock, unless the current event said otherwise.
#[derive(Debug, Default)]
pub struct TravelClock(Mutex<Option<DateTime<Utc>>>);

impl TravelClock {
    pub fn allowed() -> bool {
        std::env::var(TIME_TRAVEL_ENV).is_ok_and(|v| v == "local")
    }

    /// For a function's `main`: the travel clock when allowed (to feed each event to), and the
    /// clock to wire (the travel clock, or the system clock on every deployed stack).
    pub fn for_main() -> (Option<Arc<TravelClock>>, Arc<dyn Clock>) {
        if Self::allowed() {
            let travel = Arc::new(TravelClock::default());
            (Some(travel.clone()), travel)
        } else {
            (None, Arc::new(SystemClock))
        }
    }

    /// Takes `"now"` (RFC 3339) out of the event for this invocation; without it, real time.
    pub fn take_from(&self, event: &mut Value) {
        let now = event
            .as_object_mut()
            .and_then(|o| o.remove("now"))
            .and_then(|v| v.as_str()?.parse().ok());
        *self.0.lock().expect("clock lock") = now;
    }
}

impl Clock for TravelClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().expect("clock lock").unwrap_or_else(Utc::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_event_sets_the_time_for_one_invocation_only() {
        let clock = TravelClock::default();
        let mut event = json!({"period": "hourly", "now": "2026-11-28T11:00:00Z"});
        clock.take_from(&mut event);
        assert_eq!(event, json!({"period": "hourly"}));
        assert_eq!(
            clock.now(),
            "2026-11-28T11:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        clock.take_from(&mut json!({}));
        assert!((Utc::now() - clock.now()).num_seconds().abs() < 5);
    }
}

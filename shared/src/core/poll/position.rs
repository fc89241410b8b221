//! Where a poller stands in a source's timeline. Everything before `done_until` is stored; a
//! window in progress keeps its bounds and the source's cursor, so the next run continues the
//! same pages. The position only moves after a page is stored: a failure repeats that page
//! (harmless: alerts are deduped by id), never skips one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Inclusive.
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub done_until: DateTime<Utc>,
    /// A window some of whose pages are stored, and the cursor for the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl Position {
    pub fn first(now: DateTime<Utc>, lookback: Duration) -> Self {
        Position {
            done_until: now - lookback,
            window: None,
            after: None,
        }
    }

    /// The window to read next: the one in progress, else the next one up to `now - delay`,
    /// at most `length` long. `None` when caught up.
    pub fn next_window(
        &self,
        now: DateTime<Utc>,
        delay: Duration,
        length: Duration,
    ) -> Option<Window> {
        if let Some(window) = self.window {
            return Some(window);
        }
        let limit = now - delay;
        (self.done_until < limit).then(|| Window {
            start: self.done_until,
            end: (self.done_until + length).min(limit),
        })
    }

    /// After a page of `window` is stored: continue at `next`, or the window is done.
    pub fn advance(&mut self, window: Window, next: Option<Value>) {
        match next {
            Some(after) => {
                self.window = Some(window);
                self.after = Some(after);
            }
            None => {
                self.done_until = window.end;
                self.window = None;
                self.after = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn windows_follow_each_other_without_gaps_and_stop_short_of_now() {
        let now = at("2026-11-28T10:00:00Z");
        let mut p = Position::first(now, Duration::minutes(40));
        let (delay, length) = (Duration::minutes(1), Duration::minutes(15));
        let mut seen = Vec::new();
        while let Some(w) = p.next_window(now, delay, length) {
            seen.push((w.start, w.end));
            p.advance(w, None);
        }
        assert_eq!(
            seen,
            [
                (at("2026-11-28T09:20:00Z"), at("2026-11-28T09:35:00Z")),
                (at("2026-11-28T09:35:00Z"), at("2026-11-28T09:50:00Z")),
                (at("2026-11-28T09:50:00Z"), at("2026-11-28T09:59:00Z")),
            ]
        );
        assert_eq!(p.done_until, at("2026-11-28T09:59:00Z"));
    }

    #[test]
    fn a_window_in_progress_is_resumed_with_its_cursor_and_survives_a_round_trip() {
        let now = at("2026-11-28T10:00:00Z");
        let mut p = Position::first(now, Duration::minutes(30));
        let w = p
            .next_window(now, Duration::zero(), Duration::minutes(60))
            .unwrap();
        p.advance(w, Some(json!([1795853000000_i64, "uuid-7"])));
        let stored = serde_json::to_string(&p).unwrap();
        let back: Position = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, p);
        let later = at("2026-11-28T11:00:00Z");
        assert_eq!(
            back.next_window(later, Duration::zero(), Duration::minutes(60)),
            Some(w),
            "same window, not a new one"
        );
        assert_eq!(
            back.done_until,
            at("2026-11-28T09:30:00Z"),
            "not moved until the window is done"
        );
    }
}

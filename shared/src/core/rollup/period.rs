//! Which hour or day a rollup covers, in the team's time zone. Periods are derived from the
//! schedule's tick (not from "now"), so a retried run covers, and is keyed by, the same period.

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Hourly,
    Daily,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Hourly => "hourly",
            Cadence::Daily => "daily",
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cadence {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hourly" => Ok(Cadence::Hourly),
            "daily" => Ok(Cadence::Daily),
            other => Err(format!(
                "unknown rollup period '{other}': expected hourly or daily"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub cadence: Cadence,
    /// Inclusive.
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    pub tz: Tz,
}

impl Period {
    /// The last whole hour, or the last whole local day, that had ended by `tick`.
    pub fn ended_by(cadence: Cadence, tick: DateTime<Utc>, tz: Tz) -> Period {
        let (start, end) = match cadence {
            Cadence::Hourly => {
                // The local hour boundary, from the offset in force at the tick: right for
                // half-hour zones and on both sides of a DST change.
                let offset = i64::from(tick.with_timezone(&tz).offset().fix().local_minus_utc());
                let seconds = tick.timestamp();
                let end = seconds - (seconds + offset).rem_euclid(3600);
                let end = DateTime::from_timestamp(end, 0).expect("in range");
                (end - Duration::hours(1), end)
            }
            Cadence::Daily => {
                let today = tick.with_timezone(&tz).date_naive();
                let yesterday = today.pred_opt().expect("in range");
                (start_of_day(yesterday, tz), start_of_day(today, tz))
            }
        };
        Period {
            cadence,
            start,
            end,
            tz,
        }
    }

    /// Names the period in the bookkeeping table, so each is posted once.
    pub fn key(&self) -> String {
        format!(
            "rollup#{}#{}",
            self.cadence,
            self.start.format("%Y-%m-%dT%H:%MZ")
        )
    }

    /// "Sat 28 Nov, 09:00–10:00 (Europe/Lisbon)" or "Friday 27 November 2026 (Europe/Lisbon)".
    pub fn label(&self) -> String {
        let start = self.start.with_timezone(&self.tz);
        match self.cadence {
            Cadence::Hourly => format!(
                "{}, {}–{} ({})",
                start.format("%a %-d %b"),
                start.format("%H:%M"),
                self.end.with_timezone(&self.tz).format("%H:%M"),
                self.tz
            ),
            Cadence::Daily => format!("{} ({})", start.format("%A %-d %B %Y"), self.tz),
        }
    }
}

/// Local midnight, or the first moment of the day where a DST change skips midnight.
fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..24)
        .find_map(|hour| {
            tz.from_local_datetime(&date.and_hms_opt(hour, 0, 0)?)
                .earliest()
        })
        .expect("every day has a first hour")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn hourly_is_the_hour_that_just_ended() {
        let p = Period::ended_by(Cadence::Hourly, at("2026-11-28T10:00:07Z"), Tz::UTC);
        assert_eq!(
            (p.start, p.end),
            (at("2026-11-28T09:00:00Z"), at("2026-11-28T10:00:00Z"))
        );
        assert_eq!(p.key(), "rollup#hourly#2026-11-28T09:00Z");
        assert_eq!(p.label(), "Sat 28 Nov, 09:00–10:00 (UTC)");
    }

    #[test]
    fn hourly_follows_half_hour_zones() {
        let p = Period::ended_by(
            Cadence::Hourly,
            at("2026-11-28T10:31:00Z"),
            chrono_tz::Asia::Kolkata,
        );
        // 16:01 in Kolkata: the hour 15:00-16:00 local is 09:30-10:30 UTC.
        assert_eq!(
            (p.start, p.end),
            (at("2026-11-28T09:30:00Z"), at("2026-11-28T10:30:00Z"))
        );
        assert_eq!(p.label(), "Sat 28 Nov, 15:00–16:00 (Asia/Kolkata)");
    }

    #[test]
    fn daily_is_yesterday_in_the_team_zone_across_dst() {
        // Lisbon leaves summer time on Sunday 25 October 2026: that day has 25 hours.
        let p = Period::ended_by(
            Cadence::Daily,
            at("2026-10-26T09:00:00Z"),
            chrono_tz::Europe::Lisbon,
        );
        assert_eq!(
            (p.start, p.end),
            (at("2026-10-24T23:00:00Z"), at("2026-10-26T00:00:00Z"))
        );
        assert_eq!(p.end - p.start, Duration::hours(25));
        assert_eq!(p.label(), "Sunday 25 October 2026 (Europe/Lisbon)");
        // New York at 08:00 local on Monday 30 November: Sunday in New York.
        let p = Period::ended_by(
            Cadence::Daily,
            at("2026-11-30T13:00:00Z"),
            chrono_tz::America::New_York,
        );
        assert_eq!(
            (p.start, p.end),
            (at("2026-11-29T05:00:00Z"), at("2026-11-30T05:00:00Z"))
        );
    }

    #[test]
    fn cadence_names_round_trip() {
        assert_eq!("daily".parse(), Ok(Cadence::Daily));
        assert!(
            "weekly"
                .parse::<Cadence>()
                .unwrap_err()
                .contains("hourly or daily")
        );
    }
}

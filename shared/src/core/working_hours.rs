//! Working hours: when a rule's reminder and deadline clocks run. Optional per rule; without
//! them the clocks run around the clock. Computed in the rule's own time zone, one local day at
//! a time, so DST changes and weekends fall where people expect them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawWorkingHours")]
pub struct WorkingHours {
    pub time_zone: Tz,
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkingHours {
    time_zone: String,
    #[serde(default = "weekdays")]
    days: Vec<String>,
    start: String,
    end: String,
}

fn weekdays() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .map(String::from)
        .to_vec()
}

impl TryFrom<RawWorkingHours> for WorkingHours {
    type Error = String;

    fn try_from(raw: RawWorkingHours) -> Result<Self, String> {
        let time_zone: Tz = raw.time_zone.parse().map_err(|_| {
            format!(
                "time_zone '{}' is not an IANA time zone (e.g. Europe/Lisbon)",
                raw.time_zone
            )
        })?;
        let time = |field: &str, value: &str| {
            NaiveTime::parse_from_str(value, "%H:%M")
                .map_err(|_| format!("{field} '{value}' must be HH:MM (24-hour)"))
        };
        let (start, end) = (time("start", &raw.start)?, time("end", &raw.end)?);
        if start >= end {
            return Err(format!(
                "start ({}) must be before end ({})",
                raw.start, raw.end
            ));
        }
        let days = raw
            .days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("'{d}' is not a day (mon, tue, ...)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if days.is_empty() {
            return Err("days must name at least one day".into());
        }
        Ok(WorkingHours {
            time_zone,
            days,
            start,
            end,
        })
    }
}

impl WorkingHours {
    /// The moment `minutes` of working time have passed since `from`.
    pub fn add(&self, from: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        let mut remaining = Duration::minutes(minutes.into());
        let mut day = from.with_timezone(&self.time_zone).date_naive();
        // A year of days is far more than any deadline; the bound only guards the loop.
        for _ in 0..400 {
            if let Some((open, close)) = self.window(day) {
                let cursor = from.max(open);
                if cursor < close {
                    let available = close - cursor;
                    if remaining <= available {
                        return cursor + remaining;
                    }
                    remaining -= available;
                }
            }
            day = day
                .succ_opt()
                .expect("dates this close to now have a successor");
        }
        from + Duration::minutes(minutes.into())
    }

    /// The day's working window in UTC, if it is a working day.
    fn window(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days.contains(&day.weekday()) {
            return None;
        }
        let at = |t: NaiveTime| {
            let local = day.and_time(t);
            // A time inside a spring-forward gap does not exist: take the first instant after
            // the gap (the first local minute that exists), not the same time an hour later.
            let resolved = (0..=180).find_map(|m| {
                self.time_zone
                    .from_local_datetime(&(local + Duration::minutes(m)))
                    .earliest()
            })?;
            Some(resolved.with_timezone(&Utc))
        };
        Some((at(self.start)?, at(self.end)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(tz: &str) -> WorkingHours {
        toml::from_str(&format!(
            "time_zone = \"{tz}\"\nstart = \"09:00\"\nend = \"18:00\"\n"
        ))
        .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn inside_working_hours_minutes_are_minutes() {
        let h = hours("Europe/Lisbon");
        assert_eq!(
            h.add(utc("2026-11-25T10:00:00Z"), 30),
            utc("2026-11-25T10:30:00Z")
        );
    }

    #[test]
    fn friday_evening_carries_over_the_weekend_and_the_new_york_dst_change() {
        // Friday 2026-03-06 17:50 EST (UTC-5); clocks spring forward on Sunday 2026-03-08.
        let h = hours("America/New_York");
        let friday = utc("2026-03-06T22:50:00Z");
        // 10 minutes on Friday, 20 on Monday from 09:00 EDT (UTC-4).
        assert_eq!(h.add(friday, 30), utc("2026-03-09T13:20:00Z"));
    }

    #[test]
    fn lisbon_across_its_own_dst_change_and_before_opening() {
        // Lisbon springs forward on Sunday 2026-03-29 (UTC+0 -> UTC+1).
        let h = hours("Europe/Lisbon");
        let saturday = utc("2026-03-28T12:00:00Z");
        assert_eq!(
            h.add(saturday, 15),
            utc("2026-03-30T08:15:00Z"),
            "Monday 09:15 WEST"
        );
        let early_monday = utc("2026-03-30T05:00:00Z");
        assert_eq!(
            h.add(early_monday, 60),
            utc("2026-03-30T09:00:00Z"),
            "the clock starts at opening"
        );
    }

    #[test]
    fn two_time_zones_give_different_instants() {
        let a = hours("Asia/Tokyo").add(utc("2026-11-27T10:00:00Z"), 60); // Fri 19:00 JST: after hours
        let b = hours("Europe/Lisbon").add(utc("2026-11-27T10:00:00Z"), 60); // Fri 10:00 WET: open
        assert_eq!(a, utc("2026-11-30T01:00:00Z"), "Monday 10:00 JST");
        assert_eq!(b, utc("2026-11-27T11:00:00Z"));
    }

    #[test]
    fn a_start_inside_the_spring_forward_gap_is_the_first_instant_after_it() {
        let h: WorkingHours = toml::from_str(
            "time_zone = \"America/New_York\"\nstart = \"02:30\"\nend = \"18:00\"\ndays = [\"sun\"]\n",
        )
        .unwrap();
        // 2026-03-08: New York skips from 02:00 to 03:00 EST -> EDT; 03:00 EDT is 07:00 UTC.
        let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(h.window(day).unwrap().0, utc("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn mistakes_are_named() {
        let err = toml::from_str::<WorkingHours>(
            "time_zone = \"Mars/Olympus\"\nstart = \"09:00\"\nend = \"18:00\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
        let err = toml::from_str::<WorkingHours>(
            "time_zone = \"UTC\"\nstart = \"18:00\"\nend = \"09:00\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be before"), "{err}");
    }
}

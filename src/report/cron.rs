//! Cron expressions for report schedules, in UTC: five fields — minute, hour, day of month,
//! month (1–12 or JAN–DEC), day of week (0–7 or SUN–SAT, 0 and 7 both Sunday) — each `*`, a
//! value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those; or `@hourly`,
//! `@daily`, `@weekly`, `@monthly`, `@yearly`. As in cron, when both day fields are restricted
//! a day matching either is due. What a schedule needs is the latest due minute at or before a
//! moment: the start of the period a report is sent for.

use chrono::{DateTime, Datelike, Duration, DurationRound, Timelike, Utc};

/// A parsed expression: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Whether the day-of-month and day-of-week fields were both restricted (`*` is not).
    either_day: bool,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expanded = match expression.trim() {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(format!(
                "{expression:?}: a cron expression has five fields (minute hour day-of-month month day-of-week), this one {}",
                fields.len()
            ));
        };
        let field = |text: &str, what: &str, low: u32, high: u32, names: &[&str]| {
            bits(text, low, high, names).map_err(|message| format!("{expression:?}: {what} {text:?}: {message}"))
        };
        let mut weekdays = field(weekday, "day of week", 0, 7, &WEEKDAYS)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Cron {
            minutes: field(minute, "minute", 0, 59, &[])?,
            hours: u32::try_from(field(hour, "hour", 0, 23, &[])?).unwrap_or(u32::MAX),
            days: u32::try_from(field(day, "day of month", 1, 31, &[])?).unwrap_or(u32::MAX),
            months: u16::try_from(field(month, "month", 1, 12, &MONTHS)? >> 1).unwrap_or(u16::MAX),
            weekdays: u8::try_from(weekdays & 0x7f).unwrap_or(u8::MAX),
            either_day: !day.starts_with('*') && !weekday.starts_with('*'),
        })
    }

    /// Whether the minute starting at `at` is due.
    pub fn matches(&self, at: DateTime<Utc>) -> bool {
        self.matches_day(at) && self.hours & (1 << at.hour()) != 0 && self.minutes & (1 << at.minute()) != 0
    }

    fn matches_day(&self, at: DateTime<Utc>) -> bool {
        if self.months & (1 << at.month0()) == 0 {
            return false;
        }
        let by_date = self.days & (1 << at.day()) != 0;
        let by_weekday = self.weekdays & (1 << at.weekday().num_days_from_sunday()) != 0;
        if self.either_day {
            by_date || by_weekday
        } else {
            by_date && by_weekday
        }
    }

    /// The latest due minute at or before `at`, looking back at most 400 days (a yearly
    /// schedule's period and then some); `None` when nothing was due in that time.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut minute = at.duration_trunc(Duration::minutes(1)).ok()?;
        let horizon = at - Duration::days(400);
        while minute >= horizon {
            if !self.matches_day(minute) {
                // The whole day is not due: on to the day before's last minute.
                minute = minute.duration_trunc(Duration::days(1)).ok()? - Duration::minutes(1);
            } else if self.hours & (1 << minute.hour()) == 0 {
                minute = minute.duration_trunc(Duration::hours(1)).ok()? - Duration::minutes(1);
            } else if self.minutes & (1 << minute.minute()) == 0 {
                minute -= Duration::minutes(1);
            } else {
                return Some(minute);
            }
        }
        None
    }
}

/// The values `text` allows between `low` and `high`, as bits at their own positions.
fn bits(text: &str, low: u32, high: u32, names: &[&str]) -> Result<u64, String> {
    let value = |part: &str| -> Result<u32, String> {
        let by_name = names.iter().position(|n| n.eq_ignore_ascii_case(part)).map(|i| {
            // Month names count from 1, weekday names from 0 (Sunday).
            u32::try_from(i).unwrap_or(0) + u32::from(low == 1)
        });
        let number = by_name.map_or_else(|| part.parse::<u32>().map_err(|_| format!("{part:?} is not a number")), Ok)?;
        if (low..=high).contains(&number) {
            Ok(number)
        } else {
            Err(format!("{number} is outside {low}–{high}"))
        }
    };
    let mut set = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step {step:?} is not a whole number above 0"))?,
            ),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (low, high),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(range)?, high),
                None => (value(range)?, value(range)?),
            },
        };
        if from > to {
            return Err(format!("the range {from}-{to} runs backwards"));
        }
        for v in (from..=to).step_by(step as usize) {
            set |= 1 << v;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a moment").with_timezone(&Utc)
    }

    #[test]
    fn the_latest_due_minute_is_found() {
        let monday_eight = Cron::parse("0 8 * * MON").expect("valid");
        // 2025-04-21 is a Monday.
        assert_eq!(
            monday_eight.latest_at_or_before(at("2025-04-21T09:30:00Z")),
            Some(at("2025-04-21T08:00:00Z"))
        );
        assert_eq!(
            monday_eight.latest_at_or_before(at("2025-04-21T08:00:00Z")),
            Some(at("2025-04-21T08:00:00Z"))
        );
        assert_eq!(
            monday_eight.latest_at_or_before(at("2025-04-21T07:59:59Z")),
            Some(at("2025-04-14T08:00:00Z"))
        );
        let monthly = Cron::parse("@monthly").expect("valid");
        assert_eq!(
            monthly.latest_at_or_before(at("2025-03-15T00:00:00Z")),
            Some(at("2025-03-01T00:00:00Z"))
        );
        let steps = Cron::parse("*/15 9-17 * * 1-5").expect("valid");
        assert_eq!(
            steps.latest_at_or_before(at("2025-04-19T12:00:00Z")),
            Some(at("2025-04-18T17:45:00Z")),
            "Saturday → Friday's last"
        );
        let leap = Cron::parse("0 0 29 2 *").expect("valid");
        assert_eq!(
            leap.latest_at_or_before(at("2025-04-01T00:00:00Z")),
            Some(at("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            leap.latest_at_or_before(at("2024-02-28T00:00:00Z")),
            None,
            "more than 400 days back"
        );
    }

    #[test]
    fn both_restricted_day_fields_match_either_and_sunday_is_0_or_7() {
        let either = Cron::parse("0 0 1 * FRI").expect("valid");
        assert!(either.matches(at("2025-04-18T00:00:00Z")), "a Friday");
        assert!(either.matches(at("2025-04-01T00:00:00Z")), "the first");
        assert!(!either.matches(at("2025-04-02T00:00:00Z")));
        assert_eq!(Cron::parse("0 0 * * 7"), Cron::parse("0 0 * * sun"));
    }

    #[test]
    fn malformed_expressions_say_what_is_wrong() {
        for (expression, says) in [
            ("0 8 * *", "five fields"),
            ("60 8 * * *", "minute \"60\": 60 is outside 0–59"),
            ("0 8 * * MOON", "\"MOON\" is not a number"),
            ("0 8 * * */0", "step"),
            ("0 17-9 * * *", "runs backwards"),
        ] {
            let error = Cron::parse(expression).expect_err(expression);
            assert!(error.contains(says), "{expression}: {error}");
        }
    }
}

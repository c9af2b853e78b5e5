//! The trends page's figures over the postings the filters keep: postings per month (or week)
//! split by one dimension — the groups with most postings each a line, the rest together as
//! "other", the postings that do not say as "unknown" — and how each group moved between the
//! last three periods and the three before.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::serve::market::Job;
use crate::serve::routes::stats::{Dimension, Period};

/// Groups drawn as their own line; the rest are summed as "other".
const LINES: usize = 6;
/// Periods the chart covers, up to the newest posting's, unless the filter's "posted since"
/// sets the start — as far back as the longest chart.
const MONTHS: u32 = 24;
const WEEKS: u64 = 52;
const MOST_MONTHS: u32 = 240;
const MOST_WEEKS: u64 = 520;
/// Periods on each side of the comparison.
const WINDOW: usize = 3;

pub const OTHER: &str = "other";
pub const UNKNOWN: &str = "unknown";

/// One line of the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub group: String,
    /// Postings in each of [`Trends::periods`].
    pub postings: Vec<usize>,
    pub total: usize,
    /// Share of all postings in the chart's periods, in percent.
    pub share_pct: f64,
    /// Postings in the last three periods and in the three before.
    pub recent: usize,
    pub before: usize,
    /// `recent` against `before` in percent (`None` when there were none before).
    pub change_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    pub by: Dimension,
    pub period: Period,
    /// Period labels (`2025-04`, `2025-W16`) and the Unix seconds each starts at (for the chart).
    pub periods: Vec<(String, i64)>,
    pub lines: Vec<Line>,
    /// Postings in the chart's periods, and kept postings without a date (not charted).
    pub charted: usize,
    pub undated: usize,
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// The first day of the period `date` falls in.
fn period_start(period: Period, date: NaiveDate) -> NaiveDate {
    match period {
        Period::Month => date.with_day(1).unwrap_or(date),
        Period::Week => monday_of(date),
    }
}

fn label(period: Period, start: NaiveDate) -> String {
    match period {
        Period::Month => start.format("%Y-%m").to_string(),
        Period::Week => {
            let week = start.iso_week();
            format!("{}-W{:02}", week.year(), week.week())
        }
    }
}

/// The periods the chart covers, oldest first, ending with `newest`'s and starting with
/// `since`'s (or the default length back).
fn periods_up_to(period: Period, newest: NaiveDate, since: Option<NaiveDate>) -> Vec<NaiveDate> {
    let last = period_start(period, newest);
    let first = since.map(|since| period_start(period, since)).filter(|first| *first <= last);
    match period {
        Period::Month => {
            let count = first.map_or(MONTHS, |first| {
                let months = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32;
                (months as u32 + 1).min(MOST_MONTHS)
            });
            (0..count)
                .rev()
                .filter_map(|back| last.checked_sub_months(Months::new(back)))
                .collect()
        }
        Period::Week => {
            let count = first.map_or(WEEKS, |first| ((last - first).num_days() as u64 / 7 + 1).min(MOST_WEEKS));
            (0..count).rev().map(|back| last - Days::new(7 * back)).collect()
        }
    }
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 10.0
    }
}

fn line(group: String, postings: Vec<usize>, charted: usize) -> Line {
    let total = postings.iter().sum();
    let split = postings.len().saturating_sub(WINDOW);
    let recent: usize = postings[split..].iter().sum();
    let before: usize = postings[split.saturating_sub(WINDOW)..split].iter().sum();
    Line {
        group,
        total,
        share_pct: pct(total, charted),
        recent,
        before,
        change_pct: (before > 0).then(|| ((recent as f64 / before as f64 - 1.0) * 1000.0).round() / 10.0),
        postings,
    }
}

/// Postings per period of `jobs` split `by` one dimension, from `since`'s period when given.
pub fn compute(jobs: &[&Job], by: Dimension, period: Period, since: Option<NaiveDate>) -> Trends {
    let undated = jobs.iter().filter(|j| j.date_posted.is_none()).count();
    let Some(newest) = jobs.iter().filter_map(|j| j.date_posted).max() else {
        return Trends {
            by,
            period,
            periods: vec![],
            lines: vec![],
            charted: 0,
            undated,
        };
    };
    let starts = periods_up_to(period, newest, since);
    let index: HashMap<NaiveDate, usize> = starts.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut counts: HashMap<String, Vec<usize>> = HashMap::new();
    let mut charted = 0;
    for job in jobs {
        let Some(&at) = job.date_posted.and_then(|d| index.get(&period_start(period, d))) else {
            continue;
        };
        charted += 1;
        let group = by.of(job).map_or_else(|| UNKNOWN.to_string(), std::borrow::Cow::into_owned);
        counts.entry(group).or_insert_with(|| vec![0; starts.len()])[at] += 1;
    }
    // "unknown" is not a group people compare: it is always its own line, last.
    let unknown = counts.remove(UNKNOWN);
    let mut groups: Vec<(String, Vec<usize>)> = counts.into_iter().collect();
    groups.sort_by(|a, b| b.1.iter().sum::<usize>().cmp(&a.1.iter().sum::<usize>()).then(a.0.cmp(&b.0)));
    let mut lines = Vec::new();
    let mut rest = vec![0; starts.len()];
    for (position, (group, postings)) in groups.into_iter().enumerate() {
        if position < LINES {
            lines.push(line(group, postings, charted));
        } else {
            rest.iter_mut().zip(&postings).for_each(|(sum, n)| *sum += n);
        }
    }
    if rest.iter().any(|n| *n > 0) {
        lines.push(line(OTHER.to_string(), rest, charted));
    }
    if let Some(postings) = unknown {
        lines.push(line(UNKNOWN.to_string(), postings, charted));
    }
    let periods = starts
        .iter()
        .map(|start| {
            (
                label(period, *start),
                start.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp()),
            )
        })
        .collect();
    Trends {
        by,
        period,
        periods,
        lines,
        charted,
        undated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(date: &str, seniority: Option<&str>) -> Job {
        Job {
            seniority: seniority.map(String::from),
            ..Job::for_test(&format!("{date}{seniority:?}"), date)
        }
    }

    #[test]
    fn the_largest_groups_are_lines_the_rest_other_and_the_silent_unknown() {
        let mut jobs = Vec::new();
        // Seven named groups, "g0" the largest; two postings without a seniority.
        for (g, n) in [7, 6, 5, 4, 3, 2, 1].into_iter().enumerate() {
            for _ in 0..n {
                jobs.push(job("2025-04-10", Some(&format!("g{g}"))));
            }
        }
        jobs.push(job("2025-04-11", None));
        jobs.push(job("2025-01-11", None));
        jobs.push(job("undated", Some("g0")));
        let refs: Vec<&Job> = jobs.iter().collect();
        let trends = compute(&refs, Dimension::Seniority, Period::Month, None);
        assert_eq!(trends.periods.len(), 24);
        assert_eq!(trends.periods.last().map(|p| p.0.as_str()), Some("2025-04"));
        assert_eq!(trends.periods[0].0, "2023-05");
        assert_eq!((trends.charted, trends.undated), (30, 1));
        let groups: Vec<(&str, usize)> = trends.lines.iter().map(|l| (l.group.as_str(), l.total)).collect();
        assert_eq!(
            groups,
            [
                ("g0", 7),
                ("g1", 6),
                ("g2", 5),
                ("g3", 4),
                ("g4", 3),
                ("g5", 2),
                ("other", 1),
                ("unknown", 2)
            ]
        );
        assert_eq!(trends.lines[6].postings[23], 1, "g6's posting");
        let unknown = &trends.lines[7];
        // One in April, one in January, three months back.
        assert_eq!((unknown.postings[23], unknown.postings[20]), (1, 1));
        assert_eq!((unknown.recent, unknown.before, unknown.change_pct), (1, 1, Some(0.0)));
        assert!((trends.lines[0].share_pct - 23.3).abs() < 1e-9);
    }

    #[test]
    fn weeks_count_back_from_the_newest_postings_monday() {
        let jobs = [
            job("2025-04-17", Some("senior")),
            job("2025-04-14", Some("senior")),
            job("2024-04-21", Some("senior")),
        ];
        let refs: Vec<&Job> = jobs.iter().collect();
        let trends = compute(&refs, Dimension::Seniority, Period::Week, None);
        assert_eq!(trends.periods.len(), 52);
        assert_eq!(trends.periods.last().map(|p| p.0.as_str()), Some("2025-W16"));
        assert_eq!(trends.periods[0].0, "2024-W17");
        // 2024-04-21 is a Sunday in W16: before the chart, so not charted.
        assert_eq!(trends.charted, 2);
        assert_eq!(trends.lines[0].postings[51], 2);
        assert_eq!(trends.lines[0].change_pct, None);
    }

    #[test]
    fn posted_since_sets_where_the_chart_starts() {
        let jobs = [job("2025-04-17", Some("senior")), job("2019-03-30", Some("senior"))];
        let refs: Vec<&Job> = jobs.iter().collect();
        let since = NaiveDate::from_ymd_opt(2019, 3, 1);
        let months = compute(&refs, Dimension::Seniority, Period::Month, since);
        assert_eq!((months.periods.len(), months.periods[0].0.as_str()), (74, "2019-03"));
        assert_eq!(months.charted, 2);
        let weeks = compute(&refs, Dimension::Seniority, Period::Week, since);
        assert_eq!(weeks.periods[0].0, "2019-W09");
        assert_eq!(weeks.periods.len(), 321);
        // No longer than the longest chart, and a start after the newest posting is no start.
        let long_ago = compute(&refs, Dimension::Seniority, Period::Month, NaiveDate::from_ymd_opt(1990, 1, 1));
        assert_eq!(long_ago.periods.len(), 240);
        let later = compute(&refs, Dimension::Seniority, Period::Month, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(later.periods.len(), 24);
    }

    #[test]
    fn without_dated_postings_there_is_nothing_to_chart() {
        let jobs = [job("undated", Some("senior"))];
        let trends = compute(&[&jobs[0]], Dimension::Seniority, Period::Month, None);
        assert!(trends.periods.is_empty() && trends.lines.is_empty());
        assert_eq!(trends.undated, 1);
    }
}

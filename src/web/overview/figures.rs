//! The overview page's figures, from the postings of the lake snapshot: how many, how many new
//! in the newest week, companies hiring, median pay and the top skills — each beside the same
//! figure one period earlier — and postings per ISO week for the chart. Periods end at the
//! newest posting date in the lake (not today), so a lake that was not fed for a while still
//! compares like with like; the page says how old that date is.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::serve::market::Job;

/// A figure now and one period before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub now: Option<f64>,
    pub before: Option<f64>,
    /// Relative change in percent, when both are there and the earlier one is not zero.
    pub change_pct: Option<f64>,
}

impl Trend {
    fn new(now: Option<f64>, before: Option<f64>) -> Self {
        let change_pct = match (now, before) {
            (Some(now), Some(before)) if before != 0.0 => Some((now - before) / before * 100.0),
            _ => None,
        };
        Trend { now, before, change_pct }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillFigure {
    pub skill_id: String,
    pub name: String,
    pub postings: usize,
    pub postings_before: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub postings: usize,
    pub newest_posting: Option<NaiveDate>,
    /// Postings dated in the 7 days up to the newest posting, and the 7 before.
    pub new_this_week: Trend,
    /// Companies with a posting dated in the 28 days up to the newest posting, and the 28 before.
    pub companies_hiring: Trend,
    /// Median yearly pay in US dollars (range midpoints) over the same 28 days, and the 28 before.
    pub median_pay_usd: Trend,
    /// The most asked-for skills over the 28 days, with their count the 28 days before.
    pub top_skills: Vec<SkillFigure>,
    /// Postings per ISO week (`2025-W14`, the week's Monday) over the year up to the newest
    /// posting, weeks without postings included, oldest first.
    pub weekly: Vec<(String, NaiveDate, usize)>,
}

/// The figures for `jobs`; `skill_name` names a taxonomy id.
pub fn compute(jobs: &[Job], skill_name: impl Fn(&str) -> Option<String>) -> Overview {
    let newest = jobs.iter().filter_map(|j| j.date_posted).max();
    // The days `(from, to]` before the newest posting date, `offset` periods back.
    let window = |days: u64, offset: u64| {
        newest.map(|newest| {
            let to = newest - Days::new(days * offset);
            (to - Days::new(days), to)
        })
    };
    let dated_in = |range: Option<(NaiveDate, NaiveDate)>| -> Vec<&Job> {
        match range {
            Some((from, to)) => jobs.iter().filter(|j| j.date_posted.is_some_and(|d| d > from && d <= to)).collect(),
            None => Vec::new(),
        }
    };
    let count = |range| newest.map(|_| dated_in(range).len() as f64);
    let companies = |range| {
        newest.map(|_| {
            dated_in(range)
                .iter()
                .filter_map(|j| j.company_key.as_ref().or(j.company.as_ref()))
                .collect::<BTreeSet<_>>()
                .len() as f64
        })
    };
    let median_pay = |range| {
        let mut pay: Vec<f64> = dated_in(range).iter().filter_map(|j| j.salary_mid_usd()).collect();
        pay.sort_by(f64::total_cmp);
        match pay.len() {
            0 => None,
            n if n % 2 == 1 => Some(pay[n / 2].round()),
            n => Some(f64::midpoint(pay[n / 2 - 1], pay[n / 2]).round()),
        }
    };
    let (month, month_before) = (window(28, 0), window(28, 1));
    Overview {
        postings: jobs.len(),
        newest_posting: newest,
        new_this_week: Trend::new(count(window(7, 0)), count(window(7, 1))),
        companies_hiring: Trend::new(companies(month), companies(month_before)),
        median_pay_usd: Trend::new(median_pay(month), median_pay(month_before)),
        top_skills: top_skills(&dated_in(month), &dated_in(month_before), &skill_name, 10),
        weekly: newest.map_or_else(Vec::new, |newest| weekly(jobs, newest)),
    }
}

fn skill_counts<'a>(jobs: &[&'a Job]) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    for job in jobs {
        for id in &job.skill_ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
    }
    counts
}

fn top_skills(now: &[&Job], before: &[&Job], skill_name: &impl Fn(&str) -> Option<String>, limit: usize) -> Vec<SkillFigure> {
    let (counts, earlier) = (skill_counts(now), skill_counts(before));
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(limit)
        .map(|(id, postings)| SkillFigure {
            skill_id: id.to_string(),
            name: skill_name(id).unwrap_or_else(|| id.to_string()),
            postings,
            postings_before: earlier.get(id).copied().unwrap_or(0),
        })
        .collect()
}

/// Weeks the overview's chart covers: a year.
const WEEKS: u64 = 52;

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

fn weekly(jobs: &[Job], newest: NaiveDate) -> Vec<(String, NaiveDate, usize)> {
    let last = monday_of(newest);
    let first = last - Days::new(7 * (WEEKS - 1));
    let mut weeks: BTreeMap<NaiveDate, usize> = (0..WEEKS).map(|w| (first + Days::new(7 * w), 0)).collect();
    for date in jobs.iter().filter_map(|j| j.date_posted) {
        if let Some(count) = weeks.get_mut(&monday_of(date)) {
            *count += 1;
        }
    }
    weeks
        .into_iter()
        .map(|(monday, postings)| {
            let week = monday.iso_week();
            (format!("{}-W{:02}", week.year(), week.week()), monday, postings)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(date: &str, company: &str, pay: Option<f64>, skills: &[&str]) -> Job {
        Job {
            title: "Data Engineer".into(),
            company: Some(company.into()),
            salary_min_usd: pay,
            salary_max_usd: pay,
            skill_ids: skills.iter().map(|s| (*s).to_string()).collect(),
            ..Job::for_test(&format!("{date}{company}"), date)
        }
    }

    #[test]
    fn periods_end_at_the_newest_posting_and_compare_with_the_one_before() {
        let jobs = vec![
            job("2025-04-17", "a", Some(100_000.0), &["python", "sql"]),
            job("2025-04-15", "b", Some(120_000.0), &["python"]),
            job("2025-04-10", "a", Some(90_000.0), &["sql"]),
            job("2025-04-09", "c", None, &["python"]),
            job("2025-03-10", "d", Some(80_000.0), &["python"]),
            job("undated", "e", None, &["rust"]),
        ];
        let overview = compute(&jobs, |id| Some(id.to_uppercase()));
        assert_eq!(overview.postings, 6);
        assert_eq!(overview.newest_posting, NaiveDate::from_ymd_opt(2025, 4, 17));
        // (04-10, 04-17] holds two postings, (04-03, 04-10] two.
        assert_eq!(overview.new_this_week, Trend::new(Some(2.0), Some(2.0)));
        assert_eq!(overview.new_this_week.change_pct, Some(0.0));
        // (03-20, 04-17]: companies a, b, c; (02-20, 03-20]: d.
        assert_eq!(overview.companies_hiring.now, Some(3.0));
        assert_eq!(overview.companies_hiring.before, Some(1.0));
        assert_eq!(overview.companies_hiring.change_pct, Some(200.0));
        assert_eq!(overview.median_pay_usd.now, Some(100_000.0));
        assert_eq!(overview.median_pay_usd.before, Some(80_000.0));
        assert_eq!(overview.top_skills[0].name, "PYTHON");
        assert_eq!((overview.top_skills[0].postings, overview.top_skills[0].postings_before), (3, 1));
        // A year of weeks up to the newest posting's, the empty ones too.
        assert_eq!(overview.weekly.len(), 52);
        let weeks: Vec<(&str, usize)> = overview.weekly.iter().rev().take(6).map(|(w, _, n)| (w.as_str(), *n)).collect();
        assert_eq!(
            weeks,
            [
                ("2025-W16", 2),
                ("2025-W15", 2),
                ("2025-W14", 0),
                ("2025-W13", 0),
                ("2025-W12", 0),
                ("2025-W11", 1)
            ]
        );
        assert_eq!(overview.weekly[0].0, "2024-W17");
    }

    #[test]
    fn a_lake_without_dates_has_counts_but_no_periods() {
        let overview = compute(&[job("undated", "a", Some(1.0), &[])], |_| None);
        assert_eq!(overview.postings, 1);
        assert_eq!(overview.new_this_week, Trend::new(None, None));
        assert!(overview.weekly.is_empty() && overview.top_skills.is_empty());
    }
}

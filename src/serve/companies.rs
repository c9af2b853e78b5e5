//! The market's companies as `GET /v1/companies` and the dashboard's companies pages see them:
//! hiring volume, pay, how often their postings are repeated (reposts, the same job on another
//! board) and how many stay open for months, over the postings a filter keeps; and one
//! company's postings per month, titles, places and longest-open postings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::market::{Job, Market};
use super::routes::stats::pay_summary;

/// A posting seen over at least this many days (its first to its last sighting) counts as
/// staying open for months.
pub const LONG_OPEN_DAYS: i64 = 60;

/// The order of the companies list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanySort {
    /// Most postings first.
    #[default]
    Postings,
    /// Highest median pay first (companies without pay last).
    Pay,
    /// Most repeated postings first.
    Reposts,
    /// Most postings open for months first.
    LongOpen,
    /// Newest posting first.
    Newest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitleCount {
    pub title: String,
    pub postings: usize,
}

/// One company over the postings kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyRow {
    pub company_key: String,
    pub company: Option<String>,
    pub postings: usize,
    pub places: usize,
    pub top_titles: Vec<TitleCount>,
    pub newest_posting: Option<NaiveDate>,
    /// P10 / P25 / median / P75 / P90 of the yearly USD midpoint, and postings with pay.
    pub salary_usd: Value,
    /// Records recognised as repeating one of its postings.
    pub reposts: usize,
    /// Its postings seen over [`LONG_OPEN_DAYS`] or more.
    pub long_open: usize,
}

fn median_pay(row: &CompanyRow) -> Option<f64> {
    row.salary_usd["median"].as_f64()
}

/// The `limit` most common of `values`, the most first (ties by name).
fn most_common<'a>(values: impl Iterator<Item = &'a str>, limit: usize) -> Vec<TitleCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .into_iter()
        .take(limit)
        .map(|(title, postings)| TitleCount {
            title: title.to_string(),
            postings,
        })
        .collect()
}

fn row(market: &Market, key: &str, jobs: &[&Job]) -> CompanyRow {
    let places: BTreeSet<String> = jobs.iter().map(|j| j.location()).collect();
    let seen: Vec<_> = jobs.iter().map(|j| market.seen(j)).collect();
    CompanyRow {
        company_key: key.to_string(),
        company: jobs.first().and_then(|j| j.company.clone()),
        postings: jobs.len(),
        places: places.len(),
        top_titles: most_common(jobs.iter().map(|j| j.title.as_str()), 3),
        newest_posting: jobs.iter().filter_map(|j| j.date_posted).max(),
        salary_usd: pay_summary(jobs.iter().filter_map(|j| j.salary_mid_usd()).collect()),
        reposts: seen.iter().map(|s| s.repeats).sum(),
        long_open: seen.iter().filter(|s| s.open_days() >= LONG_OPEN_DAYS).count(),
    }
}

/// Every company of `jobs` (postings without a company are left out), in `sort`'s order.
pub fn companies<'a>(market: &Market, jobs: impl Iterator<Item = &'a Job>, sort: CompanySort) -> Vec<CompanyRow> {
    let mut by_company: HashMap<&str, Vec<&Job>> = HashMap::new();
    for job in jobs {
        if let Some(key) = &job.company_key {
            by_company.entry(key.as_str()).or_default().push(job);
        }
    }
    let mut rows: Vec<CompanyRow> = by_company.into_iter().map(|(key, jobs)| row(market, key, &jobs)).collect();
    rows.sort_by(|a, b| {
        let first = match sort {
            CompanySort::Postings => b.postings.cmp(&a.postings),
            CompanySort::Pay => median_pay(b).partial_cmp(&median_pay(a)).unwrap_or(std::cmp::Ordering::Equal),
            CompanySort::Reposts => b.reposts.cmp(&a.reposts),
            CompanySort::LongOpen => b.long_open.cmp(&a.long_open),
            CompanySort::Newest => b.newest_posting.cmp(&a.newest_posting),
        };
        first.then(b.postings.cmp(&a.postings)).then(a.company_key.cmp(&b.company_key))
    });
    rows
}

/// A posting with when it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenPosting {
    pub posting_key: String,
    pub title: String,
    pub company: Option<String>,
    pub company_key: Option<String>,
    pub location: String,
    pub first_seen: Option<NaiveDate>,
    pub last_seen: Option<NaiveDate>,
    pub open_days: i64,
    pub repeats: usize,
}

/// One company: its row, postings per month, titles, places and its longest-open postings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyDetail {
    pub row: CompanyRow,
    /// `YYYY-MM` and postings, the months without postings between the first and last included.
    pub by_month: Vec<(String, usize)>,
    pub undated: usize,
    pub titles: Vec<TitleCount>,
    pub places: Vec<TitleCount>,
    pub longest_open: Vec<OpenPosting>,
}

/// Titles, places and longest-open postings listed on a company's page.
const LISTED: usize = 10;

/// The `limit` postings of `jobs` seen over the most days (those seen on one day only left out).
pub fn longest_open<'a>(market: &Market, jobs: impl Iterator<Item = &'a Job>, limit: usize) -> Vec<OpenPosting> {
    let mut open: Vec<OpenPosting> = jobs
        .filter_map(|job| {
            let seen = market.seen(job);
            (seen.open_days() > 0).then(|| OpenPosting {
                posting_key: job.posting_key.clone(),
                title: job.title.clone(),
                company: job.company.clone(),
                company_key: job.company_key.clone(),
                location: job.location(),
                first_seen: seen.first,
                last_seen: seen.last,
                open_days: seen.open_days(),
                repeats: seen.repeats,
            })
        })
        .collect();
    open.sort_by(|a, b| b.open_days.cmp(&a.open_days).then(a.posting_key.cmp(&b.posting_key)));
    open.truncate(limit);
    open
}

/// The company `company_key` names, over every posting (`None`: no posting names it).
pub fn company(market: &Market, company_key: &str) -> Option<CompanyDetail> {
    let jobs: Vec<&Job> = market
        .jobs
        .iter()
        .filter(|j| j.company_key.as_deref() == Some(company_key))
        .collect();
    if jobs.is_empty() {
        return None;
    }
    let mut months: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for date in jobs.iter().filter_map(|j| j.date_posted) {
        *months.entry(date.with_day(1).unwrap_or(date)).or_default() += 1;
    }
    let by_month = match (months.keys().next(), months.keys().next_back()) {
        (Some(&first), Some(&last)) => std::iter::successors(Some(first), |month| month.checked_add_months(Months::new(1)))
            .take_while(|month| *month <= last)
            .map(|month| (month.format("%Y-%m").to_string(), months.get(&month).copied().unwrap_or(0)))
            .collect(),
        _ => Vec::new(),
    };
    let places: Vec<String> = jobs.iter().map(|j| j.location()).filter(|l| !l.is_empty()).collect();
    Some(CompanyDetail {
        row: row(market, company_key, &jobs),
        by_month,
        undated: jobs.iter().filter(|j| j.date_posted.is_none()).count(),
        titles: most_common(jobs.iter().map(|j| j.title.as_str()), LISTED),
        places: most_common(places.iter().map(String::as_str), LISTED),
        longest_open: longest_open(market, jobs.iter().copied(), LISTED),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::market::Sighting;

    fn job(key: &str, company: &str, date: &str, pay: Option<f64>) -> Job {
        Job {
            company: Some(company.to_uppercase()),
            company_key: Some(company.into()),
            location_state: Some("WA".into()),
            salary_min_usd: pay,
            salary_max_usd: pay,
            ..Job::for_test(key, date)
        }
    }

    fn repeat(of: &str, date: &str) -> Sighting {
        Sighting {
            posting_key: of.into(),
            match_kind: "near".into(),
            similarity: 0.9,
            date_posted: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            scraped_at: None,
            source_file: "f.jsonl".into(),
            source_record: 1,
        }
    }

    fn market() -> Market {
        let jobs = vec![
            job("a1", "acme", "2025-01-10", Some(100_000.0)),
            job("a2", "acme", "2025-03-02", Some(120_000.0)),
            job("a3", "acme", "undated", None),
            job("b1", "bolt", "2025-02-01", Some(200_000.0)),
            Job {
                company_key: None,
                ..job("x", "nobody", "2025-02-01", None)
            },
        ];
        // a1 seen again 59 and 75 days later; b1 once more the next day.
        let sightings = [
            ("a1".to_string(), vec![repeat("a1", "2025-03-10"), repeat("a1", "2025-03-26")]),
            ("b1".to_string(), vec![repeat("b1", "2025-02-02")]),
        ];
        Market::for_test(jobs, sightings.into_iter().collect())
    }

    #[test]
    fn companies_count_postings_reposts_and_long_open_ones_in_the_order_asked() {
        let market = market();
        let rows = companies(&market, market.jobs.iter(), CompanySort::Postings);
        let keys: Vec<&str> = rows.iter().map(|r| r.company_key.as_str()).collect();
        assert_eq!(keys, ["acme", "bolt"], "postings without a company are left out");
        let acme = &rows[0];
        assert_eq!((acme.postings, acme.places, acme.reposts, acme.long_open), (3, 1, 2, 1));
        assert_eq!(acme.newest_posting, NaiveDate::from_ymd_opt(2025, 3, 2));
        assert_eq!(median_pay(acme), Some(110_000.0));
        assert_eq!(rows[1].long_open, 0, "one day open is not months");
        let by_pay = companies(&market, market.jobs.iter(), CompanySort::Pay);
        assert_eq!(by_pay[0].company_key, "bolt");
        let by_newest = companies(&market, market.jobs.iter(), CompanySort::Newest);
        assert_eq!(by_newest[0].company_key, "acme");
        let filtered = companies(&market, market.jobs.iter().filter(|j| j.posting_key != "a1"), CompanySort::Reposts);
        assert_eq!((filtered[0].company_key.as_str(), filtered[0].reposts), ("bolt", 1));
    }

    #[test]
    fn a_company_has_every_month_between_its_first_and_last_posting() {
        let market = market();
        let acme = company(&market, "acme").expect("acme posts");
        assert_eq!(
            acme.by_month,
            [("2025-01".to_string(), 1), ("2025-02".to_string(), 0), ("2025-03".to_string(), 1)]
        );
        assert_eq!(acme.undated, 1);
        assert_eq!(acme.places[0].postings, 3);
        let open = &acme.longest_open[0];
        assert_eq!((open.posting_key.as_str(), open.open_days, open.repeats), ("a1", 75, 2));
        assert_eq!(acme.longest_open.len(), 1, "postings seen once are not listed");
        assert!(company(&market, "nobody").is_none());
    }
}

//! `GET /v1/stats/...`: market figures over the postings the filters keep — the overview,
//! pay percentiles by a dimension, postings over time and skill demand — computed from the
//! lake snapshot once per lake version and request, then served from the cache.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::extract::ApiQuery;
use super::super::filter::{Filter, JobFilter};
use super::super::market::{Job, Market};
use super::super::problem::Problem;
use super::super::state::AppState;
use super::{cached_json, checked_limit};
use crate::skills::Taxonomy;

/// The postings `filter` keeps.
pub fn kept<'a>(market: &'a Market, filter: &'a Filter) -> impl Iterator<Item = &'a Job> + 'a {
    market
        .jobs
        .iter()
        .zip(&market.search_text)
        .filter(|(job, text)| filter.keeps(job, text))
        .map(|(job, _)| job)
}

/// Percentile `p` (0–100) of sorted `values`, interpolating between neighbours.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = p / 100.0 * last as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    Some(sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64))
}

pub fn pay_summary(mut pay: Vec<f64>) -> Value {
    pay.sort_by(f64::total_cmp);
    let at = |p: f64| percentile(&pay, p).map(f64::round);
    json!({"postings_with_pay": pay.len(), "p10": at(10.0), "p25": at(25.0), "median": at(50.0), "p75": at(75.0), "p90": at(90.0)})
}

fn query_key(name: &str, uri: &Uri) -> String {
    format!("stats/{name}?{}", uri.query().unwrap_or_default())
}

/// `GET /v1/stats/overview`.
pub async fn overview(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
) -> Result<Response, Problem> {
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    cached_json(&state, "stats", query_key("overview", &uri), &headers, move |state, market| {
        let jobs: Vec<&Job> = kept(market, &filter).collect();
        let newest = jobs.iter().filter_map(|j| j.date_posted).max();
        let week_before = newest.map(|d| d - chrono::Days::new(7));
        let mut companies = std::collections::BTreeSet::new();
        let mut by_remote: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_site: BTreeMap<String, usize> = BTreeMap::new();
        for job in &jobs {
            if let Some(company) = job.company_key.as_ref().or(job.company.as_ref()) {
                companies.insert(company.as_str());
            }
            *by_remote
                .entry(job.remote_type.clone().unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
            *by_site.entry(job.source_site.clone()).or_default() += 1;
        }
        Ok(json!({
            "lake_version": market.lake_version,
            "postings": jobs.len(),
            "companies": companies.len(),
            "newest_posting": newest,
            "postings_in_newest_week": week_before.map(|since| jobs.iter().filter(|j| j.date_posted.is_some_and(|d| d > since)).count()),
            "salary_usd": pay_summary(jobs.iter().filter_map(|j| j.salary_mid_usd()).collect()),
            "top_skills": skill_demand(&jobs, state.extractor.taxonomy(), 10),
            "by_remote_type": by_remote,
            "by_source_site": by_site,
        }))
    })
    .await
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    #[default]
    Seniority,
    RemoteType,
    LocationCountry,
    LocationState,
    /// The state and country together (`WA, US`), or whichever of them the posting names.
    Place,
    SourceSite,
    Title,
    /// The title's ESCO occupation (`gold/posting_occupations`).
    TitleFamily,
    JobType,
    /// The years of experience the posting asks for, in [`EXPERIENCE_BANDS`].
    Experience,
}

/// Years of experience as the `experience` grouping bands them.
pub const EXPERIENCE_BANDS: [(i32, i32, &str); 7] = [
    (0, 0, "0 years"),
    (1, 1, "1 year"),
    (2, 2, "2 years"),
    (3, 4, "3–4 years"),
    (5, 6, "5–6 years"),
    (7, 9, "7–9 years"),
    (10, i32::MAX, "10 years or more"),
];

fn experience_band(years: i32) -> Option<&'static str> {
    EXPERIENCE_BANDS
        .iter()
        .find(|(low, high, _)| (*low..=*high).contains(&years))
        .map(|(_, _, name)| *name)
}

impl Dimension {
    /// The posting's group under this dimension (`None`: the posting does not say).
    pub fn of(self, job: &Job) -> Option<Cow<'_, str>> {
        fn borrowed(text: Option<&String>) -> Option<Cow<'_, str>> {
            text.map(|t| Cow::Borrowed(t.as_str()))
        }
        match self {
            Dimension::Seniority => borrowed(job.seniority.as_ref()),
            Dimension::RemoteType => borrowed(job.remote_type.as_ref()),
            Dimension::LocationCountry => borrowed(job.location_country.as_ref()),
            Dimension::LocationState => borrowed(job.location_state.as_ref()),
            Dimension::Place => job.place().map(Cow::Owned),
            Dimension::SourceSite => Some(Cow::Borrowed(job.source_site.as_str())),
            Dimension::Title => Some(Cow::Borrowed(job.title.as_str())),
            Dimension::TitleFamily => borrowed(job.title_family.as_ref()),
            Dimension::JobType => borrowed(job.job_type.as_ref()),
            Dimension::Experience => job.min_years_experience.and_then(experience_band).map(Cow::Borrowed),
        }
    }

    /// The name the API takes (`title_family`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Refuses a dimension the lake has no table for, rather than answering with no groups.
    pub fn check_available(self, market: &Market) -> Result<(), Problem> {
        if matches!(self, Dimension::TitleFamily) && market.tables.occupations.is_none() {
            return Err(Problem::unavailable(
                "no_title_families",
                "the lake has no title families yet: run `rats occupation assign --lake DIR`",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub struct SalaryStats {
    #[serde(default)]
    by: Dimension,
    /// Groups with fewer postings with pay are left out (default 5).
    min_postings: Option<usize>,
    /// Groups shown, the largest first (default 50, at most 1,000).
    limit: Option<usize>,
}

/// `GET /v1/stats/salary?by=…`: pay percentiles per group.
pub async fn salary(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(options): ApiQuery<SalaryStats>,
) -> Result<Response, Problem> {
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    let limit = checked_limit(options.limit, 50, 1_000)?;
    let min_postings = options.min_postings.unwrap_or(5).max(1);
    cached_json(&state, "stats", query_key("salary", &uri), &headers, move |_, market| {
        options.by.check_available(market)?;
        let mut groups: HashMap<Cow<'_, str>, Vec<f64>> = HashMap::new();
        for job in kept(market, &filter) {
            if let (Some(group), Some(pay)) = (options.by.of(job), job.salary_mid_usd()) {
                groups.entry(group).or_default().push(pay);
            }
        }
        let mut groups: Vec<(Cow<'_, str>, Vec<f64>)> = groups.into_iter().filter(|(_, pay)| pay.len() >= min_postings).collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let rows: Vec<Value> = groups
            .into_iter()
            .take(limit)
            .map(|(group, pay)| {
                let mut row = pay_summary(pay);
                row["group"] = json!(group);
                row
            })
            .collect();
        Ok(json!({"lake_version": market.lake_version, "by": options.by, "currency": "USD", "period": "year", "groups": rows}))
    })
    .await
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    #[default]
    Month,
    Week,
}

#[derive(Debug, Deserialize)]
pub struct OverTime {
    #[serde(default)]
    by: Period,
    /// Counts per period split by this dimension too.
    split: Option<Dimension>,
}

/// `GET /v1/stats/postings?by=month|week[&split=…]`: postings per publication period.
pub async fn postings(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(options): ApiQuery<OverTime>,
) -> Result<Response, Problem> {
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    cached_json(&state, "stats", query_key("postings", &uri), &headers, move |_, market| {
        if let Some(split) = options.split {
            split.check_available(market)?;
        }
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut undated = 0;
        for job in kept(market, &filter) {
            let Some(date) = job.date_posted else {
                undated += 1;
                continue;
            };
            let period = match options.by {
                Period::Month => date.format("%Y-%m").to_string(),
                Period::Week => {
                    let week = date.iso_week();
                    format!("{}-W{:02}", week.year(), week.week())
                }
            };
            let group = options
                .split
                .map_or(Cow::Borrowed("all"), |d| d.of(job).unwrap_or(Cow::Borrowed("unknown")))
                .into_owned();
            *counts.entry((period, group)).or_default() += 1;
        }
        let series: Vec<Value> = counts
            .into_iter()
            .map(|((period, group), postings)| json!({"period": period, "group": group, "postings": postings}))
            .collect();
        Ok(json!({"lake_version": market.lake_version, "series": series, "undated": undated}))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct SkillStats {
    limit: Option<usize>,
}

/// `GET /v1/stats/skills`: how many of the kept postings name each skill.
pub async fn skills(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(options): ApiQuery<SkillStats>,
) -> Result<Response, Problem> {
    let filter = Filter::new(&filter, state.extractor.taxonomy())?;
    let limit = checked_limit(options.limit, 50, 5_000)?;
    cached_json(&state, "stats", query_key("skills", &uri), &headers, move |state, market| {
        let jobs: Vec<&Job> = kept(market, &filter).collect();
        Ok(json!({"lake_version": market.lake_version, "postings": jobs.len(), "skills": skill_demand(&jobs, state.extractor.taxonomy(), limit)}))
    })
    .await
}

/// The `limit` skills most postings name: id, name, category, postings and share.
fn skill_demand(jobs: &[&Job], taxonomy: &Taxonomy, limit: usize) -> Vec<Value> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for job in jobs {
        for id in &job.skill_ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .into_iter()
        .take(limit)
        .map(|(id, postings)| {
            let skill = taxonomy.get(id);
            json!({
                "skill_id": id,
                "skill": skill.map(|s| s.name.as_str()),
                "category": skill.map(|s| s.category.as_str()),
                "postings": postings,
                "share": postings as f64 / jobs.len().max(1) as f64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_of_years_falls_in_exactly_one_band() {
        for years in 0..60 {
            let bands = EXPERIENCE_BANDS.iter().filter(|(l, h, _)| (*l..=*h).contains(&years)).count();
            assert_eq!(bands, 1, "{years}");
        }
        assert_eq!(experience_band(4), Some("3–4 years"));
        assert_eq!(experience_band(-1), None);
    }

    #[test]
    fn a_grouping_is_named_as_the_api_takes_it() {
        assert_eq!(Dimension::TitleFamily.name(), "title_family");
        assert_eq!(Dimension::Experience.name(), "experience");
    }

    #[test]
    fn percentiles_interpolate_between_neighbours() {
        let values = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(percentile(&values, 50.0), Some(30.0));
        assert_eq!(percentile(&values, 10.0), Some(14.0));
        assert_eq!(percentile(&values, 100.0), Some(50.0));
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}

//! `GET /v1/jobs` (filtered, sorted, paged by cursor) and `GET /v1/jobs/{posting_key}` (one
//! posting with its description and every sighting recorded as its duplicate).

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::extract::ApiQuery;
use super::super::filter::{Filter, JobFilter};
use super::super::market::{Job, Market, Sighting};
use super::super::problem::Problem;
use super::super::state::AppState;
use super::{cached_json, checked_limit};
use crate::normalize::hex;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest publication date first (undated last).
    #[default]
    Newest,
    Oldest,
    /// Highest yearly USD midpoint first (postings without pay last).
    Salary,
    Title,
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub sort: Sort,
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a page ends: the last posting's sort value and key. The next page starts after it
/// even when the lake has changed in between (keyset paging: no repeats, no gaps among
/// postings that stayed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    sort: Sort,
    value: SortValue,
    key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum SortValue {
    Missing,
    Number(f64),
    Text(String),
}

fn sort_value(job: &Job, sort: Sort) -> SortValue {
    match sort {
        Sort::Newest | Sort::Oldest => job
            .date_posted
            .map_or(SortValue::Missing, |d| SortValue::Text(d.format("%Y-%m-%d").to_string())),
        Sort::Salary => job.salary_mid_usd().map_or(SortValue::Missing, SortValue::Number),
        Sort::Title => SortValue::Text(job.title.to_lowercase()),
    }
}

/// The order of `(value, key)` pairs under `sort`: missing values last, ties by key.
fn compare(sort: Sort, a: (&SortValue, &str), b: (&SortValue, &str)) -> Ordering {
    let by_value = match (a.0, b.0) {
        (SortValue::Missing, SortValue::Missing) => Ordering::Equal,
        (SortValue::Missing, _) | (SortValue::Text(_), SortValue::Number(_)) => Ordering::Greater,
        (_, SortValue::Missing) | (SortValue::Number(_), SortValue::Text(_)) => Ordering::Less,
        (SortValue::Number(x), SortValue::Number(y)) => y.total_cmp(x),
        (SortValue::Text(x), SortValue::Text(y)) => match sort {
            Sort::Newest => y.cmp(x),
            _ => x.cmp(y),
        },
    };
    by_value.then_with(|| a.1.cmp(b.1))
}

fn encode_cursor(cursor: &Cursor) -> String {
    hex(&serde_json::to_vec(cursor).unwrap_or_default())
}

/// The cursor a previous page gave out, checked to belong to `sort`.
pub fn decode_cursor(text: &str, sort: Sort) -> Result<Cursor, Problem> {
    let bad = || Problem::invalid("cursor", "not a cursor this API gave out (take next_cursor from the previous page)");
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if cursor.sort != sort {
        return Err(Problem::invalid(
            "cursor",
            "the cursor belongs to another sort order; keep `sort` as it was",
        ));
    }
    Ok(cursor)
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(filter): ApiQuery<JobFilter>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    let key = format!("jobs?{}", uri.query().unwrap_or_default());
    answer_page(&state, &headers, &filter, paging, key).await
}

/// One page of the postings `filter` keeps, in `paging`'s order; `cache_key` names the request
/// in the lake snapshot's answer cache (the saved-search route shares this).
pub async fn answer_page(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    filter: &JobFilter,
    paging: Paging,
    cache_key: String,
) -> Result<Response, Problem> {
    let limit = checked_limit(paging.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = paging.cursor.as_deref().map(|c| decode_cursor(c, paging.sort)).transpose()?;
    let filter = Filter::new(filter, state.extractor.taxonomy())?;
    cached_json(state, "jobs", cache_key, headers, move |_, market| {
        let found = page(market, &filter, paging.sort, after.as_ref(), limit);
        Ok(json!({
            "lake_version": market.lake_version,
            "total": found.total,
            "jobs": found.jobs,
            "next_cursor": found.next_cursor,
        }))
    })
    .await
}

/// One page of postings.
pub struct JobsPage<'a> {
    /// Postings the filter keeps, on every page.
    pub total: usize,
    pub jobs: Vec<&'a Job>,
    /// Where the next page starts (`None` on the last).
    pub next_cursor: Option<String>,
}

/// The postings `filter` keeps, in `sort`'s order, `limit` of them after `after`.
pub fn page<'a>(market: &'a Market, filter: &Filter, sort: Sort, after: Option<&Cursor>, limit: usize) -> JobsPage<'a> {
    let mut kept: Vec<(SortValue, usize)> = market
        .jobs
        .iter()
        .enumerate()
        .filter(|(i, job)| filter.keeps(job, &market.search_text[*i]))
        .map(|(i, job)| (sort_value(job, sort), i))
        .collect();
    let key = |i: usize| market.jobs[i].posting_key.as_str();
    kept.sort_by(|a, b| compare(sort, (&a.0, key(a.1)), (&b.0, key(b.1))));
    let total = kept.len();
    let start = after.map_or(0, |c| {
        kept.partition_point(|(v, i)| compare(sort, (v, key(*i)), (&c.value, &c.key)).is_le())
    });
    let shown = &kept[start.min(total)..(start + limit).min(total)];
    let next_cursor = (start + limit < total).then(|| shown.last()).flatten().map(|(value, i)| {
        encode_cursor(&Cursor {
            sort,
            value: value.clone(),
            key: key(*i).to_string(),
        })
    });
    JobsPage {
        total,
        jobs: shown.iter().map(|(_, i)| &market.jobs[*i]).collect(),
        next_cursor,
    }
}

pub async fn detail(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(posting_key): Path<String>) -> Result<Response, Problem> {
    let key = format!("job/{posting_key}");
    cached_json(&state, "jobs", key, &headers, move |_, market| {
        let found = posting(market, &posting_key)?;
        let mut body = json!({
            "lake_version": market.lake_version,
            "job": found.job,
            "duplicates": found.sightings,
            "first_seen": found.first_seen,
            "last_seen": found.last_seen,
        });
        body["job"]["description"] = json!(found.job.description);
        Ok(body)
    })
    .await
}

/// A posting with every sighting recorded as its duplicate.
pub struct Posting<'a> {
    pub job: &'a Job,
    pub sightings: &'a [Sighting],
    /// The earliest and latest publication date of the posting and its sightings.
    pub first_seen: Option<NaiveDate>,
    pub last_seen: Option<NaiveDate>,
}

/// The posting `posting_key` names, or 404.
pub fn posting<'a>(market: &'a Market, posting_key: &str) -> Result<Posting<'a>, Problem> {
    let i = *market
        .by_key
        .get(posting_key)
        .ok_or_else(|| Problem::not_found(format!("no posting {posting_key:?} in the lake (version {})", market.lake_version)))?;
    let job = &market.jobs[i];
    let seen = market.seen(job);
    Ok(Posting {
        job,
        sightings: market.sightings_of(job),
        first_seen: seen.first,
        last_seen: seen.last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering_or_another_sort() {
        let cursor = Cursor {
            sort: Sort::Salary,
            value: SortValue::Number(120_000.0),
            key: "abc".into(),
        };
        let text = encode_cursor(&cursor);
        assert_eq!(decode_cursor(&text, Sort::Salary).expect("decodes"), cursor);
        assert_eq!(
            decode_cursor(&text, Sort::Title).expect_err("refused").field.as_deref(),
            Some("cursor")
        );
        assert!(decode_cursor("zz", Sort::Salary).is_err());
        assert!(decode_cursor(&text[..text.len() - 1], Sort::Salary).is_err());
    }

    #[test]
    fn missing_values_sort_last_and_ties_go_by_key() {
        let (none, low, high) = (SortValue::Missing, SortValue::Number(1.0), SortValue::Number(2.0));
        assert_eq!(compare(Sort::Salary, (&high, "b"), (&low, "a")), Ordering::Less);
        assert_eq!(compare(Sort::Salary, (&none, "a"), (&low, "b")), Ordering::Greater);
        assert_eq!(compare(Sort::Salary, (&low, "a"), (&low, "b")), Ordering::Less);
        let (old, new) = (SortValue::Text("2020-01-01".into()), SortValue::Text("2021-01-01".into()));
        assert_eq!(compare(Sort::Newest, (&new, "z"), (&old, "a")), Ordering::Less);
        assert_eq!(compare(Sort::Oldest, (&new, "z"), (&old, "a")), Ordering::Greater);
    }
}

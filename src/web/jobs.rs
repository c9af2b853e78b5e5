//! The jobs pages: `GET /jobs` — the API's posting filters as a form, the results a page at a
//! time in the order asked for, the whole state in the address — and `GET /jobs/{posting_key}`,
//! one posting with its description and every sighting recorded as its duplicate.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::filters::{choices, filter_of, form_values};
use super::kept::kept;
use super::query::{address, fields, tidy, with};
use super::render::{page, problem as shown_problem, user, value};
use super::viewer::Viewer;
use crate::chart::draw::format_value;
use crate::chart::spec::Unit;
use crate::serve::extract::from_form;
use crate::serve::filter::Filter;
use crate::serve::market::{Job, Sighting};
use crate::serve::problem::Problem;
use crate::serve::routes::checked_limit;
use crate::serve::routes::jobs::{self, Cursor, DEFAULT_LIMIT, MAX_LIMIT, Paging, Sort};
use crate::serve::state::AppState;
use crate::skills::Taxonomy;

/// Page sizes the form offers (the API takes any up to its maximum).
const PAGE_SIZES: [usize; 3] = [DEFAULT_LIMIT, 50, 100];

/// A posting as a row of the results.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    posting_key: String,
    title: String,
    company: Option<String>,
    location: String,
    remote_type: Option<String>,
    seniority: Option<String>,
    date_posted: Option<NaiveDate>,
    /// The yearly USD range as people read it (`$120k–$150k`).
    pay: Option<String>,
    skills: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Found {
    total: usize,
    rows: Vec<Row>,
    next_cursor: Option<String>,
}

/// A yearly USD range in short form, or one end of it.
pub fn pay_range(low: Option<f64>, high: Option<f64>) -> Option<String> {
    let short = |v: f64| format_value(v, Unit::Usd);
    match (low, high) {
        (Some(low), Some(high)) if (low - high).abs() < 1.0 => Some(short(low)),
        (Some(low), Some(high)) => Some(format!("{}–{}", short(low), short(high))),
        (one, other) => one.or(other).map(short),
    }
}

/// Taxonomy names of `ids` (an id the taxonomy no longer has stays as it is).
fn skill_names(ids: &[String], taxonomy: &Taxonomy) -> Vec<String> {
    ids.iter()
        .map(|id| taxonomy.get(id).map_or_else(|| id.clone(), |s| s.name.clone()))
        .collect()
}

fn row(job: &Job, taxonomy: &Taxonomy) -> Row {
    Row {
        posting_key: job.posting_key.clone(),
        title: job.title.clone(),
        company: job.company.clone(),
        location: job.location(),
        remote_type: job.remote_type.clone(),
        seniority: job.seniority.clone(),
        date_posted: job.date_posted,
        pay: pay_range(job.salary_min_usd, job.salary_max_usd),
        skills: skill_names(&job.skill_ids, taxonomy),
    }
}

/// The page sizes to offer: the usual ones and the address's own (`limit=5` stays 5 when the
/// form is sent again).
fn page_sizes(query: &str) -> Vec<usize> {
    let mut sizes = PAGE_SIZES.to_vec();
    if let Some(asked) = fields(query).get("limit").and_then(|l| l.parse().ok())
        && (1..=MAX_LIMIT).contains(&asked)
        && !sizes.contains(&asked)
    {
        sizes.push(asked);
        sizes.sort_unstable();
    }
    sizes
}

/// What the query asks for, checked as the API checks it.
struct Asked {
    filter: Filter,
    sort: Sort,
    after: Option<Cursor>,
    limit: usize,
}

fn asked(state: &AppState, query: &str) -> Result<Asked, Problem> {
    let paging: Paging = from_form(query)?;
    Ok(Asked {
        filter: filter_of(query, state.extractor.taxonomy())?,
        sort: paging.sort,
        after: paging.cursor.as_deref().map(|c| jobs::decode_cursor(c, paging.sort)).transpose()?,
        limit: checked_limit(paging.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
    })
}

/// `GET /jobs`.
pub async fn search(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    let query = match tidy("/jobs", &uri) {
        Ok(query) => query,
        Err(redirect) => return redirect,
    };
    let form = context! {
        page => "jobs",
        user => user(&caller),
        fields => form_values(&query, &["sort", "limit"]),
        choices => value(&choices()),
        page_sizes => page_sizes(&query),
        api => address("/v1/jobs", &with(&query, "cursor", None)),
        this_page => address("/v1/jobs", &query),
    };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "jobs.html",
            context! { lake_version => (), found => (), error => (), next => (), first => (), ..form },
        );
    };
    let asked = match asked(&state, &query) {
        Ok(asked) => asked,
        Err(problem) => {
            return page(
                problem.status(),
                "jobs.html",
                context! { lake_version => market.lake_version, found => (), error => shown_problem(&problem), next => (), first => (), ..form },
            );
        }
    };
    let first = asked.after.is_some().then(|| address("/jobs", &with(&query, "cursor", None)));
    let found = kept(&state, &market, &format!("jobs?{query}"), move |state, market| {
        let taxonomy = state.extractor.taxonomy();
        let shown = jobs::page(market, &asked.filter, asked.sort, asked.after.as_ref(), asked.limit);
        Found {
            total: shown.total,
            rows: shown.jobs.iter().map(|job| row(job, taxonomy)).collect(),
            next_cursor: shown.next_cursor,
        }
    })
    .await;
    let found = match found {
        Ok(found) => found,
        Err(failed) => return failed,
    };
    let next = found
        .next_cursor
        .as_deref()
        .map(|cursor| address("/jobs", &with(&query, "cursor", Some(cursor))));
    page(
        StatusCode::OK,
        "jobs.html",
        context! { lake_version => market.lake_version, found => value(&found), error => (), next => next, first => first, ..form },
    )
}

/// `GET /jobs/{posting_key}`.
pub async fn posting(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, Path(posting_key): Path<String>) -> Response {
    let base = context! { page => "jobs", user => user(&caller) };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "posting.html",
            context! { lake_version => (), job => (), error => (), ..base },
        );
    };
    let found = match jobs::posting(&market, &posting_key) {
        Ok(found) => found,
        Err(problem) => {
            return page(
                problem.status(),
                "posting.html",
                context! { lake_version => market.lake_version, job => (), error => shown_problem(&problem), ..base },
            );
        }
    };
    let taxonomy = state.extractor.taxonomy();
    let job = found.job;
    let skills: Vec<(String, String)> = job.skill_ids.iter().cloned().zip(skill_names(&job.skill_ids, taxonomy)).collect();
    page(
        StatusCode::OK,
        "posting.html",
        context! {
            lake_version => market.lake_version,
            job => value(job),
            description => &job.description,
            location => job.location(),
            pay => pay_range(job.salary_min_usd, job.salary_max_usd),
            estimate => estimate_link(job, &skills),
            skills => skills,
            sightings => found.sightings.iter().map(sighting_row).collect::<Vec<_>>(),
            first_seen => found.first_seen.map(|d| d.to_string()),
            last_seen => found.last_seen.map(|d| d.to_string()),
            error => (),
            ..base
        },
    )
}

/// The salary predictor's address for this posting's title, place, level, work and skills.
fn estimate_link(job: &Job, skills: &[(String, String)]) -> String {
    let names: Vec<&str> = skills.iter().map(|(_, name)| name.as_str()).collect();
    let fields = [
        ("title", Some(job.title.clone())),
        ("location", Some(job.location())),
        ("seniority", job.seniority.clone()),
        ("remote", job.remote_type.clone()),
        ("skills", Some(names.join(", "))),
    ];
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            fields
                .iter()
                .filter_map(|(name, value)| Some((name, value.as_ref().filter(|v| !v.is_empty())?))),
        )
        .finish();
    address("/salary/estimate", &query)
}

/// A sighting as a row: where it came from by file name and record (not the server's path).
fn sighting_row(sighting: &Sighting) -> minijinja::Value {
    let file = std::path::Path::new(&sighting.source_file)
        .file_name()
        .map_or_else(|| sighting.source_file.clone(), |name| name.to_string_lossy().into_owned());
    context! {
        match_kind => &sighting.match_kind,
        similarity => format!("{:.2}", sighting.similarity),
        date_posted => sighting.date_posted.map(|d| d.to_string()),
        scraped_at => &sighting.scraped_at,
        source => format!("{file}, record {}", sighting.source_record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_size_in_the_address_is_offered_with_the_usual_ones() {
        assert_eq!(page_sizes("limit=5"), [5, 20, 50, 100]);
        assert_eq!(page_sizes("limit=50"), [20, 50, 100]);
        assert_eq!(page_sizes("limit=100000"), [20, 50, 100]);
        assert_eq!(page_sizes(""), [20, 50, 100]);
    }

    #[test]
    fn pay_ranges_read_short_and_one_end_stands_alone() {
        assert_eq!(pay_range(Some(120_000.0), Some(150_000.0)).as_deref(), Some("$120k–$150k"));
        assert_eq!(pay_range(Some(90_000.0), Some(90_000.0)).as_deref(), Some("$90k"));
        assert_eq!(pay_range(None, Some(75_500.0)).as_deref(), Some("$76k"));
        assert_eq!(pay_range(None, None), None);
    }
}

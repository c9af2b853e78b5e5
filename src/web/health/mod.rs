//! `GET /data-health`: whether the lake can be trusted today — silver, duplicates and
//! quarantine counts, quarantined records by reason, how fresh each source is, and the latest
//! `rats check` run's results.

pub(super) mod figures;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use minijinja::context;
use serde::Serialize;

use super::page_tables::{PageTable, answer, asked_in};
use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::serve::blocking::in_current_span;
use crate::serve::market::Market;
use crate::serve::state::AppState;
use crate::transform::delta::DeltaIo;

/// One source site's postings and its newest posting date.
#[derive(Debug, Serialize)]
struct Source {
    site: String,
    postings: usize,
    undated: usize,
    newest: Option<NaiveDate>,
    /// Days from its newest posting to today.
    age_days: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Health {
    silver: usize,
    duplicates: usize,
    quarantined: i64,
    reasons: Vec<figures::Reason>,
    sources: Vec<Source>,
    checks: Option<figures::LatestChecks>,
    /// Expectations that failed in the latest run, and how many of them are errors.
    failed_checks: usize,
    failed_errors: usize,
}

fn sources(market: &Market, today: NaiveDate) -> Vec<Source> {
    let mut by_site: BTreeMap<&str, (usize, usize, Option<NaiveDate>)> = BTreeMap::new();
    for job in &market.jobs {
        let entry = by_site.entry(job.source_site.as_str()).or_default();
        entry.0 += 1;
        if job.date_posted.is_none() {
            entry.1 += 1;
        }
        entry.2 = entry.2.max(job.date_posted);
    }
    let mut sources: Vec<Source> = by_site
        .into_iter()
        .map(|(site, (postings, undated, newest))| Source {
            site: site.to_string(),
            postings,
            undated,
            newest,
            age_days: newest.map(|d| (today - d).num_days()),
        })
        .collect();
    sources.sort_by(|a, b| b.postings.cmp(&a.postings).then_with(|| a.site.cmp(&b.site)));
    sources
}

fn health(state: &AppState, market: &Market) -> Result<Health, crate::transform::TransformError> {
    let io = DeltaIo::new()?;
    let reasons = figures::quarantine(&io, &state.options.lake)?;
    let mut checks = figures::latest_checks(&io, &state.options.lake)?;
    // Failures first, errors before warnings; the rest as the run listed them.
    if let Some(latest) = checks.as_mut() {
        latest.results.sort_by_key(|r| (r.status != "fail", r.severity != "error"));
    }
    let failed = |severity: Option<&str>| {
        checks.as_ref().map_or(0, |c| {
            c.results
                .iter()
                .filter(|r| r.status == "fail" && severity.is_none_or(|s| r.severity == s))
                .count()
        })
    };
    Ok(Health {
        silver: market.jobs.len(),
        duplicates: market.sightings.values().map(Vec::len).sum(),
        quarantined: reasons.iter().map(|r| r.records).sum(),
        reasons,
        sources: sources(market, chrono::Utc::now().date_naive()),
        failed_checks: failed(None),
        failed_errors: failed(Some("error")),
        checks,
    })
}

/// `GET /data-health`.
pub async fn data_health(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const TABLES: &[PageTable] = &[
        PageTable::new("sources", "/sources"),
        PageTable::new("reasons", "/reasons"),
        PageTable::new("checks", "/checks/results"),
    ];
    let asked = match asked_in(&uri) {
        Ok(asked) => asked,
        Err(refused) => return refused,
    };
    let base = context! { page => "health", user => user(&caller) };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "health.html",
            context! { lake_version => (), found => (), error => (), ..base },
        );
    };
    let (worker, snapshot) = (state.clone(), market.clone());
    match in_current_span(move || health(&worker, &snapshot)).await {
        Ok(Ok(found)) if let Some(asked) = &asked => {
            let rows = serde_json::to_value(&found).unwrap_or_default();
            answer(asked, TABLES, &rows, "/data-health", "", Some(market.lake_version))
        }
        Ok(Ok(found)) => page(
            StatusCode::OK,
            "health.html",
            context! { lake_version => market.lake_version, found => value(&found), error => (), ..base },
        ),
        Ok(Err(error)) => {
            tracing::error!("reading the lake's quarantine and checks: {error}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "health.html",
                context! { lake_version => market.lake_version, found => (), error => "The lake's quarantine or check results could not be read; see the server's log.", ..base },
            )
        }
        Err(error) => {
            tracing::error!("data health: {error}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "health.html",
                context! { lake_version => market.lake_version, found => (), error => "The page's figures could not be computed; see the server's log.", ..base },
            )
        }
    }
}

//! The companies pages: `GET /companies` — companies over the postings the filters keep, by
//! hiring volume, pay, reposts or postings open for months (the query `GET /v1/companies`
//! answers), and the postings open longest — and `GET /companies/{company_key}`, one company's
//! postings per month, titles, places, longest-open postings and its `dim_company` history.

mod history;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::chart::monthly;
use super::filtered::FilteredPage;
use super::filters::filter_of;
use super::kept::kept;
use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::serve::blocking::in_current_span;
use crate::serve::companies::{self, CompanyDetail, CompanyRow, CompanySort, LONG_OPEN_DAYS, OpenPosting};
use crate::serve::extract::from_form;
use crate::serve::filter::Filter;
use crate::serve::market::{Job, Market};
use crate::serve::problem::Problem;
use crate::serve::routes::stats;
use crate::serve::state::AppState;
use crate::skills::Taxonomy;
use crate::transform::delta::DeltaIo;
use crate::web::page_tables::{PageTable, answer, asked_in};

/// Companies a page lists.
const PAGE_SIZE: usize = 50;
/// Postings listed as open longest.
const LONGEST_OPEN: usize = 15;

/// The page's own fields, named as the API's.
#[derive(Debug, Deserialize)]
struct View {
    #[serde(default)]
    sort: CompanySort,
    #[serde(default)]
    offset: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct CompaniesPage {
    sort: CompanySort,
    offset: usize,
    /// Companies over the kept postings, and how many of their postings are long open.
    total: usize,
    long_open: usize,
    rows: Vec<CompanyRow>,
    /// Where the next and the previous page start (`None`: there is none).
    next: Option<usize>,
    previous: Option<usize>,
    longest_open: Vec<OpenPosting>,
    long_open_days: i64,
    page_size: usize,
}

fn parse(query: &str, taxonomy: &Taxonomy, _: &Market) -> Result<(Filter, View), Problem> {
    Ok((filter_of(query, taxonomy)?, from_form(query)?))
}

fn compute(market: &Market, filter: &Filter, view: &View) -> CompaniesPage {
    let jobs: Vec<&Job> = stats::kept(market, filter).collect();
    let rows = companies::companies(market, jobs.iter().copied(), view.sort);
    let total = rows.len();
    let end = view.offset.saturating_add(PAGE_SIZE);
    CompaniesPage {
        sort: view.sort,
        offset: view.offset,
        total,
        long_open: rows.iter().map(|r| r.long_open).sum(),
        rows: rows.into_iter().skip(view.offset).take(PAGE_SIZE).collect(),
        next: (end < total).then_some(end),
        previous: (view.offset > 0).then(|| view.offset.saturating_sub(PAGE_SIZE)),
        longest_open: companies::longest_open(market, jobs.into_iter(), LONGEST_OPEN),
        long_open_days: LONG_OPEN_DAYS,
        page_size: PAGE_SIZE,
    }
}

/// `GET /companies`.
pub async fn list(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const PAGE: FilteredPage = FilteredPage {
        path: "/companies",
        nav: "companies",
        template: "companies.html",
        api: "/v1/companies",
        extra_fields: &["sort", "offset"],
        tables: &[PageTable::new("long-open", "/longest_open")],
        kept: true,
    };
    PAGE.render(&state, &caller, &uri, parse, |_, market, (filter, view)| {
        compute(market, &filter, &view)
    })
    .await
}

/// `GET /companies/{company_key}`.
pub async fn company(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, Path(key): Path<String>, uri: Uri) -> Response {
    const TABLES: &[PageTable] = &[
        PageTable::tuples("months", "/company/by_month", &["month", "postings"]),
        PageTable::new("titles", "/company/titles"),
        PageTable::new("places", "/company/places"),
        PageTable::new("long-open", "/company/longest_open"),
        PageTable::new("history", "/history"),
    ];
    let table = match asked_in(&uri) {
        Ok(table) => table,
        Err(refused) => return refused,
    };
    let path = format!("/companies/{key}");
    let base = context! { page => "companies", user => user(&caller) };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "company.html",
            context! { company => (), history => (), chart => (), error => (), ..base },
        );
    };
    let asked = key.clone();
    let detail: Option<CompanyDetail> = match kept(&state, &market, &format!("company/{key}"), move |_, market| {
        companies::company(market, &asked)
    })
    .await
    {
        Ok(detail) => detail,
        Err(failed) => return failed,
    };
    let Some(detail) = detail else {
        let error = format!("no posting in the lake (version {}) names the company {key:?}", market.lake_version);
        return page(
            StatusCode::NOT_FOUND,
            "company.html",
            context! { company => (), history => (), chart => (), error => error, ..base },
        );
    };
    let lake = state.options.lake.clone();
    // The history, or why it could not be read (the rest of the page still shows).
    let history = in_current_span(move || -> Result<_, String> {
        let io = DeltaIo::new().map_err(|e| e.to_string())?;
        history::versions(&io, &lake, &key).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    if let Err(error) = &history {
        tracing::error!("reading dim_company: {error}");
    }
    if let Some(table) = &table {
        let rows = serde_json::json!({"company": detail, "history": history.as_ref().ok().cloned().flatten()});
        return answer(table, TABLES, &rows, &path, "", Some(market.lake_version));
    }
    let chart = monthly(detail.by_month.iter().map(|(month, n)| (month.as_str(), *n)));
    page(
        StatusCode::OK,
        "company.html",
        context! {
            company => value(&detail),
            history => value(&history),
            chart => chart.to_string(),
            error => (),
            lake_version => market.lake_version,
            long_open_days => LONG_OPEN_DAYS,
            ..base
        },
    )
}

//! `GET /trends`: postings over time over the postings the filters keep, split by title family,
//! place, work arrangement or seniority (the same query as `GET /v1/stats/postings`: `by` is
//! the period, `split` the dimension), and jobs per hour during ingest from the Delta log.

mod figures;

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::filtered::FilteredPage;
use super::filters::filter_of;
use super::viewer::Viewer;
use crate::serve::extract::from_form;
use crate::serve::filter::Filter;
use crate::serve::live::ingest::Ingest;
use crate::serve::market::{Job, Market};
use crate::serve::problem::Problem;
use crate::serve::routes::stats::{self, Dimension, Period};
use crate::serve::state::AppState;
use crate::skills::Taxonomy;
use crate::web::page_tables::PageTable;

/// The page's own fields, named as the API's.
#[derive(Debug, Deserialize)]
struct View {
    by: Option<Period>,
    split: Option<Dimension>,
    /// The filter's field, which also starts the chart.
    posted_since: Option<NaiveDate>,
}

/// What the page shows, as its query asks.
struct Asked {
    filter: Filter,
    split: Dimension,
    period: Period,
    since: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrendsPage {
    trends: figures::Trends,
    /// The trends as uPlot's series: each period's start, then each line's postings.
    trends_chart: serde_json::Value,
    /// Jobs per hour, or why the Delta log could not be read (the rest of the page still shows).
    ingest: Result<Ingest, String>,
    /// Each hour's start, new postings and repeats recognised, for uPlot.
    ingest_chart: serde_json::Value,
}

/// The filter, the split (title families when the lake has them, else places), the period and
/// where the chart starts.
fn parse(query: &str, taxonomy: &Taxonomy, market: &Market) -> Result<Asked, Problem> {
    let filter = filter_of(query, taxonomy)?;
    let view: View = from_form(query)?;
    let split = view.split.unwrap_or(if market.tables.occupations.is_some() {
        Dimension::TitleFamily
    } else {
        Dimension::Place
    });
    split.check_available(market)?;
    Ok(Asked {
        filter,
        split,
        period: view.by.unwrap_or_default(),
        since: view.posted_since,
    })
}

/// `GET /trends`.
pub async fn trends(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const PAGE: FilteredPage = FilteredPage {
        path: "/trends",
        nav: "trends",
        template: "trends.html",
        api: "/v1/stats/postings",
        extra_fields: &["by", "split"],
        tables: &[
            PageTable::new("groups", "/trends/lines"),
            PageTable::new("ingest", "/ingest/Ok/hours"),
        ],
        kept: true,
    };
    PAGE.render(&state, &caller, &uri, parse, |state, market, asked| {
        let jobs: Vec<&Job> = stats::kept(market, &asked.filter).collect();
        let trends = figures::compute(&jobs, asked.split, asked.period, asked.since);
        // The live feed keeps every consume commit's count as it follows the log.
        let ingest = state
            .feed
            .ingest()
            .ok_or_else(|| "the lake's log has not been read yet".to_string());
        let mut trends_chart = vec![serde_json::json!(trends.periods.iter().map(|(_, at)| at).collect::<Vec<_>>())];
        trends_chart.extend(trends.lines.iter().map(|line| serde_json::json!(line.postings)));
        let hours = ingest.as_ref().map(|i| i.hours.as_slice()).unwrap_or_default();
        let ingest_chart = serde_json::json!([
            hours.iter().map(|h| h.start).collect::<Vec<_>>(),
            hours.iter().map(|h| h.postings).collect::<Vec<_>>(),
            hours.iter().map(|h| h.duplicates).collect::<Vec<_>>(),
        ]);
        TrendsPage {
            trends_chart: trends_chart.into(),
            trends,
            ingest,
            ingest_chart,
        }
    })
    .await
}

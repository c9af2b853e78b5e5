//! The overview page (`GET /`): the market's headline figures, each beside its value one period
//! earlier, postings per week and the top skills.

mod figures;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use minijinja::context;

use super::kept::kept;
use super::page_tables::{PageTable, answer, asked_in};
use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::serve::state::AppState;

/// `GET /`.
pub async fn overview(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const TABLES: &[PageTable] = &[
        PageTable::new("top-skills", "/top_skills"),
        PageTable::tuples("weekly", "/weekly", &["week", "starts", "postings"]),
    ];
    let asked = match asked_in(&uri) {
        Ok(asked) => asked,
        Err(refused) => return refused,
    };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "overview.html",
            context! { page => "overview", user => user(&caller), lake_version => (), figures => (), chart => () },
        );
    };
    let figures = match kept(&state, &market, "overview", |state, market| {
        let taxonomy = state.extractor.taxonomy();
        figures::compute(&market.jobs, |id| taxonomy.get(id).map(|s| s.name.clone()))
    })
    .await
    {
        Ok(figures) => figures,
        Err(failed) => return failed,
    };
    if let Some(asked) = &asked {
        let rows = serde_json::to_value(&figures).unwrap_or_default();
        return answer(asked, TABLES, &rows, "/", "", Some(market.lake_version));
    }
    let age_days = figures
        .newest_posting
        .map(|newest| (chrono::Utc::now().date_naive() - newest).num_days());
    // The chart's series for uPlot: Unix seconds of each week's Monday, and the counts.
    let chart = serde_json::json!([
        figures
            .weekly
            .iter()
            .map(|(_, monday, _)| monday.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()))
            .collect::<Vec<_>>(),
        figures.weekly.iter().map(|(_, _, n)| n).collect::<Vec<_>>(),
    ]);
    page(
        StatusCode::OK,
        "overview.html",
        context! {
            page => "overview",
            user => user(&caller),
            lake_version => market.lake_version,
            figures => value(&figures),
            age_days => age_days,
            chart => chart.to_string(),
        },
    )
}

//! The skills pages: `GET /skills` — demand heatmaps (skill × month, skill × place), the skills
//! rising and falling most, and those asked for together, over the postings the filters keep —
//! and `GET /skills/{skill_id}`, one skill with its taxonomy neighbours, the skills named beside
//! it, its demand per month, the pay of postings naming it and the salary model's premium.

mod figures;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use minijinja::context;

use super::chart::monthly;
use super::filtered::FilteredPage;
use super::filters::filter_of;
use super::kept::kept;
use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::serve::market::Job;
use crate::serve::routes::catalog::skill_detail;
use crate::serve::routes::stats;
use crate::serve::state::AppState;
use crate::web::page_tables::PageTable;

/// `GET /skills`.
pub async fn skills(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const PAGE: FilteredPage = FilteredPage {
        path: "/skills",
        nav: "skills",
        template: "skills.html",
        api: "/v1/stats/skills",
        extra_fields: &[],
        tables: &[
            PageTable::heat("by-month", "/by_month", "month"),
            PageTable::heat("by-place", "/by_place", "place"),
            PageTable::new("rising", "/rising"),
            PageTable::new("falling", "/falling"),
            PageTable::new("pairs", "/pairs"),
        ],
        kept: true,
    };
    PAGE.render(
        &state,
        &caller,
        &uri,
        |query, taxonomy, _| filter_of(query, taxonomy),
        |state, market, filter| {
            let taxonomy = state.extractor.taxonomy();
            let jobs: Vec<&Job> = stats::kept(market, &filter).collect();
            figures::compute(&jobs, |id| taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone()))
        },
    )
    .await
}

/// `GET /skills/{skill_id}`.
pub async fn skill(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, Path(id): Path<String>) -> Response {
    let base = context! { page => "skills", user => user(&caller) };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "skill.html",
            context! { skill => (), error => (), chart => (), ..base },
        );
    };
    let id_asked = id.clone();
    let found = kept(&state, &market, &format!("skill/{id}"), move |state, market| {
        skill_detail(state.extractor.taxonomy(), market, &id_asked).map_err(|problem| (problem.status().as_u16(), problem.detail))
    })
    .await;
    let detail = match found {
        Ok(Ok(detail)) => detail,
        Ok(Err((status, detail))) => {
            return page(
                StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND),
                "skill.html",
                context! { skill => (), error => detail, chart => (), ..base },
            );
        }
        Err(failed) => return failed,
    };
    page(
        StatusCode::OK,
        "skill.html",
        context! { chart => monthly_chart(&detail).to_string(), skill => value(&detail), error => (), ..base },
    )
}

/// The skill's postings per month (`postings_by_month`, by `YYYY-MM`) for the chart.
fn monthly_chart(detail: &serde_json::Value) -> serde_json::Value {
    let months = detail["postings_by_month"].as_object().cloned().unwrap_or_default();
    monthly(months.iter().map(|(month, n)| (month.as_str(), n.as_u64().unwrap_or(0) as usize)))
}

//! The skills pages: `GET /skills` — demand heatmaps (skill × month, skill × place), the skills
//! rising and falling most, and those asked for together, over the postings the filters keep —
//! and `GET /skills/{skill_id}`, one skill with its taxonomy neighbours, the skills named beside
//! it, its demand per month, the pay of postings naming it and the salary model's premium.

mod figures;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use minijinja::context;

use super::filters::{choices, filter_of, form_values};
use super::kept::kept;
use super::query::{address, tidy};
use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::serve::market::Job;
use crate::serve::routes::catalog::skill_detail;
use crate::serve::routes::stats;
use crate::serve::state::AppState;

/// `GET /skills`.
pub async fn skills(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    let query = match tidy("/skills", &uri) {
        Ok(query) => query,
        Err(redirect) => return redirect,
    };
    let form = context! {
        page => "skills",
        user => user(&caller),
        fields => form_values(&query, &[]),
        filtered => !query.is_empty(),
        choices => value(&choices()),
        api => address("/v1/stats/skills", &query),
    };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "skills.html",
            context! { lake_version => (), found => (), error => (), ..form },
        );
    };
    let filter = match filter_of(&query, state.extractor.taxonomy()) {
        Ok(filter) => filter,
        Err(problem) => {
            return page(
                problem.status(),
                "skills.html",
                context! { lake_version => market.lake_version, found => (), error => value(&problem), ..form },
            );
        }
    };
    let found = kept(&state, &market, &format!("skills?{query}"), move |state, market| {
        let taxonomy = state.extractor.taxonomy();
        let jobs: Vec<&Job> = stats::kept(market, &filter).collect();
        figures::compute(&jobs, |id| taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone()))
    })
    .await;
    match found {
        Ok(found) => page(
            StatusCode::OK,
            "skills.html",
            context! { lake_version => market.lake_version, found => value(&found), error => (), ..form },
        ),
        Err(failed) => failed,
    }
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
        context! { chart => monthly_series(&detail).to_string(), skill => value(&detail), error => (), ..base },
    )
}

/// The skill's postings per month as uPlot's series: Unix seconds of each month's first day,
/// and the counts.
fn monthly_series(detail: &serde_json::Value) -> serde_json::Value {
    let months = detail["postings_by_month"].as_object().cloned().unwrap_or_default();
    let (mut at, mut counts) = (Vec::new(), Vec::new());
    for (month, postings) in months {
        if let Some(first) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            at.push(first.and_utc().timestamp());
            counts.push(postings);
        }
    }
    serde_json::json!([at, counts])
}

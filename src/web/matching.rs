//! The match page: `GET /match`, a form to upload a CV (PDF, DOCX, text or Markdown) with the
//! postings filters, and `POST /match`, the same upload `POST /v1/match/jobs` takes, answered
//! as a page — the CV as read, the postings ranked for it with matched and missing skills and
//! why, and the skills that would open most postings. No script needed; the CV is not kept.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

use super::filters::{choices, filtering, form_values};
use super::render::{page, problem as shown_problem, user, value};
use super::viewer::Viewer;
use crate::serve::cookies;
use crate::serve::routes::matching::{DEFAULT_TOP, from_upload, ranked};
use crate::serve::state::AppState;

/// How many postings the form offers to list.
const TOPS: [usize; 3] = [DEFAULT_TOP, 25, 50];

/// The form's values; `headers` give the session's CSRF token, which the form echoes in its
/// address (a form cannot send the header the API takes it in).
fn form(caller: &crate::serve::access::Caller, state: &AppState, headers: &HeaderMap, query: &str) -> minijinja::Value {
    context! {
        csrf => cookies::cookie(headers, cookies::CSRF).unwrap_or_default(),
        page => "match",
        user => user(caller),
        fields => form_values(query, &["top"]),
        filtered => filtering(query),
        choices => value(&choices()),
        tops => TOPS,
        upload_limit_mb => state.options.upload_limit / (1024 * 1024),
        preparing => preparing(state),
    }
}

/// How far matching got while the postings are prepared for the match model (on a lake never
/// embedded before, minutes after the server starts); `None` once it answers, or without a
/// match model (the upload says so).
fn preparing(state: &AppState) -> Option<String> {
    let models = state.models()?;
    let version = &models.matching.as_ref()?.chosen.version;
    let market = state.market()?;
    market
        .matching
        .side_for(version)
        .is_none()
        .then(|| market.matching.why_not_ready(version))
}

/// `GET /match`.
pub async fn form_page(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, headers: HeaderMap) -> Response {
    page(
        StatusCode::OK,
        "match.html",
        context! { found => (), error => (), ..form(&caller, &state, &headers, "") },
    )
}

/// `POST /match`: the ranking for the uploaded CV, or the form with what was wrong (the API's
/// status and problem: no file, an unreadable one, a refused filter, no match model).
pub async fn upload(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, request: Request) -> Response {
    let headers = request.headers().clone();
    let asked = match from_upload(request, &state).await {
        Ok(asked) => asked,
        Err(problem) => {
            return page(
                problem.status(),
                "match.html",
                context! { found => (), error => shown_problem(&problem), ..form(&caller, &state, &headers, "") },
            );
        }
    };
    // The form is filled in again as it was sent (all but the file).
    let mut query = serde_urlencoded::to_string(&asked.filter).unwrap_or_default();
    if asked.top != DEFAULT_TOP {
        query = super::query::with(&query, "top", Some(&asked.top.to_string()));
    }
    match ranked(&state, asked).await {
        Ok(found) => page(
            StatusCode::OK,
            "match.html",
            context! { found => value(&found), error => (), ..form(&caller, &state, &headers, &query) },
        ),
        Err(problem) => page(
            problem.status(),
            "match.html",
            context! { found => (), error => shown_problem(&problem), ..form(&caller, &state, &headers, &query) },
        ),
    }
}

//! `GET /salary/estimate`: the salary predictor as a GET form (so an estimate is a link), answered
//! by the model the API's `POST /v1/predict/salary` uses, through the same checks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use crate::serve::blocking::in_current_span;
use crate::serve::extract::from_form;
use crate::serve::problem::{Problem, internal};
use crate::serve::routes::salary::{self, SalaryPosting};
use crate::serve::state::AppState;
use crate::web::filters::choices;
use crate::web::query::{fields, tidy};
use crate::web::render::{page, user, value};
use crate::web::viewer::Viewer;

/// What drives an estimate, at most this many lines.
const CONTRIBUTIONS_SHOWN: usize = 8;

/// The form's fields (skills comma-separated).
const FIELDS: [&str; 7] = [
    "title",
    "location",
    "seniority",
    "years_experience",
    "remote",
    "skills",
    "description",
];

#[derive(Debug, Deserialize)]
struct Asked {
    title: Option<String>,
    location: Option<String>,
    seniority: Option<String>,
    years_experience: Option<u8>,
    remote: Option<String>,
    skills: Option<String>,
    description: Option<String>,
}

impl Asked {
    fn posting(self) -> Option<SalaryPosting> {
        Some(SalaryPosting {
            title: self.title?,
            location: self.location,
            description: self.description,
            skills: crate::comma_items::comma_items(&self.skills),
            seniority: self.seniority,
            years_experience: self.years_experience,
            remote: self.remote,
        })
    }
}

/// The model's answer for the query's posting; `None` before a title is given.
async fn answer(state: &Arc<AppState>, query: &str) -> Result<Option<serde_json::Value>, Problem> {
    let asked: Asked = from_form(query)?;
    let Some(posting) = asked.posting() else {
        return Ok(None);
    };
    let facts = salary::facts_of(state, &posting)?;
    let worker = state.clone();
    let (model, mut answers) = in_current_span(move || salary::estimate(&worker, &[facts], CONTRIBUTIONS_SHOWN))
        .await
        .map_err(|e| internal("predicting", &e))??;
    let mut one = answers.pop().unwrap_or_default();
    one["model"] = model;
    state.metrics.predicted(1);
    Ok(Some(one))
}

/// `GET /salary/estimate`.
pub async fn estimate(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    let query = match tidy("/salary/estimate", &uri) {
        Ok(query) => query,
        Err(redirect) => return redirect,
    };
    let mut values = fields(&query);
    for name in FIELDS {
        values.entry(name.to_string()).or_default();
    }
    let (status, answer, error) = match answer(&state, &query).await {
        Ok(answer) => (StatusCode::OK, answer, None),
        Err(problem) => (problem.status(), None, Some(problem)),
    };
    page(
        status,
        "estimate.html",
        context! {
            page => "salary",
            user => user(&caller),
            fields => values,
            choices => value(&choices()),
            answer => answer.map(|a| value(&a)),
            error => error.map(|p| value(&p)),
        },
    )
}

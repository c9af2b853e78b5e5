//! `/health`, `/ready`, `/metrics` and `/v1/models`: what operators and load balancers ask.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ml::card::ModelCard;
use crate::ml::registry::Registry;

use super::super::matching_side::State as Matching;
use super::super::models::SALARY_KIND;
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use crate::serve::blocking::in_current_span;

/// Alive: the process answers. Says nothing about models or the lake (that is `/ready`).
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready to answer every route: 200 with what is loaded, else 503 with what is missing
/// (models, the lake, matching not prepared yet — with how far it got — or the accounts
/// database not answering). Every other route answers once the lake is read.
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let models = state.models();
    let market = state.market();
    let database = state.accounts.is_reachable().await;
    let ready = state.is_ready() && database;
    let body = json!({
        "ready": ready,
        "models": models.as_ref().map(|m| m.in_use().into_iter().map(|(kind, version)| json!({"kind": kind, "version": version})).collect::<Vec<_>>()),
        "lake": market.as_ref().map(|m| json!({
            "version": m.lake_version,
            "postings": m.jobs.len(),
            "newest_posting": m.newest_posting(),
            "matching_prepared_for": m.matching.progress().filter(|p| p.state == Matching::Prepared).map(|p| p.model_version),
        })),
        "matching": market.as_ref().and_then(|m| m.matching.progress()),
        "database": {"backend": state.accounts.backend().name(), "reachable": database},
        // Redis failing does not make the server unready: limits and caches fall back to this
        // process'.
        "redis": match &state.redis {
            Some(link) => Some(link.probe().await),
            None => None,
        },
        "problem": state.trouble(),
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.metrics.render(&state.gauges());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// Every version of each kind with its card (training data, parameters, cross-validated
/// metrics), its stage and whether the server answers with it.
pub async fn models(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, Problem> {
    let worker = state.clone();
    in_current_span(move || list_models(&worker))
        .await
        .map_err(|e| internal("listing the models", &e))?
}

fn list_models(state: &AppState) -> Result<Json<serde_json::Value>, Problem> {
    let in_use = state.models().map(|m| m.in_use()).unwrap_or_default();
    let mut out = Vec::new();
    for kind in [SALARY_KIND, crate::matching::model::KIND] {
        let registry = Registry::new(&state.options.models_dir, kind);
        let stages = registry.stages().map_err(|e| internal("reading the registry", &e))?;
        for version in registry.versions().map_err(|e| internal("reading the registry", &e))? {
            let path = registry.path_of(&version).join("model.json");
            let bytes = std::fs::read(&path).map_err(|e| internal("reading a model card", &e))?;
            let card: ModelCard = serde_json::from_slice(&bytes).map_err(|e| internal("reading a model card", &e))?;
            out.push(json!({
                "kind": kind,
                "version": version,
                "stage": stages.stages.get(&version),
                "in_use": in_use.iter().any(|(k, v)| k == kind && *v == version),
                "card": card,
            }));
        }
    }
    Ok(Json(json!({"models": out})))
}

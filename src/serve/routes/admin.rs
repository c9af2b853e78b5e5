//! Admin-only reads: `GET /v1/users` and `GET /v1/audit` (the audit log, newest first, paged
//! with `before=<id>`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;

use super::super::extract::ApiQuery;
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use super::checked_limit;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    limit: Option<usize>,
    /// Events older than this event id.
    #[serde(default)]
    before: Option<i64>,
}

pub async fn users(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, Problem> {
    let users = state.accounts.users().await.map_err(|e| internal("listing users", &e))?;
    Ok(Json(json!({"users": users})))
}

pub async fn audit(State(state): State<Arc<AppState>>, ApiQuery(query): ApiQuery<AuditQuery>) -> Result<Json<serde_json::Value>, Problem> {
    let limit = checked_limit(query.limit, 100, 1_000)?;
    let events = state
        .accounts
        .audit_events(limit as i64, query.before)
        .await
        .map_err(|e| internal("reading the audit log", &e))?;
    let next = (events.len() == limit).then(|| events.last().map(|e| e.id)).flatten();
    Ok(Json(json!({"events": events, "next_before": next})))
}

//! The route handlers, one file per area, and the cached-answer helper the GET routes share.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod jobs;
pub mod keys;
pub mod matching;
pub mod salary;
pub mod stats;
pub mod system;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::market::Market;
use super::observe::CacheHit;
use super::problem::{Problem, internal};
use super::state::AppState;

/// A `limit` parameter: `default` when absent, else 1 to `max`.
pub fn checked_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize, Problem> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Problem::invalid("limit", format!("give 1 to {max}"))),
    }
}

/// Answers a GET from the lake snapshot: from the snapshot's cache when the same request was
/// answered at this lake version, else computed (on the blocking pool) and kept. An
/// `If-None-Match` naming the answer's `ETag` gets 304 without a body.
pub async fn cached_json(
    state: &Arc<AppState>,
    cache_name: &'static str,
    key: String,
    headers: &HeaderMap,
    compute: impl FnOnce(&AppState, &Market) -> Result<serde_json::Value, Problem> + Send + 'static,
) -> Result<Response, Problem> {
    let market = state.market_or_503()?;
    let (cached, hit) = if let Some(cached) = market.cached(&key) {
        (cached, true)
    } else {
        let (worker, snapshot) = (state.clone(), market.clone());
        let value = tokio::task::spawn_blocking(move || compute(&worker, &snapshot))
            .await
            .map_err(|e| internal("answering from the lake", &e))??;
        let body = serde_json::to_vec(&value).map_err(|e| internal("writing JSON", &e))?;
        (market.keep(key, body.into()), false)
    };
    state.metrics.cache_lookup(cache_name, hit);
    let etag = HeaderValue::from_str(&cached.etag).map_err(|e| internal("an ETag", &e))?;
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == cached.etag || t.trim() == "*"));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], cached.body.clone()).into_response()
    };
    response.headers_mut().insert(header::ETAG, etag);
    response.extensions_mut().insert(CacheHit(hit));
    Ok(response)
}

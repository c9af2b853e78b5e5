//! The route handlers, one file per area, and what several share: the cached-answer helper of
//! the GET routes, `limit` checking, and whose things a list shows.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod jobs;
pub mod keys;
pub mod matching;
pub mod oidc;
pub mod salary;
pub mod searches;
pub mod stats;
pub mod system;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::Caller;
use super::market::Market;
use super::observe::CacheHit;
use super::problem::{Problem, internal};
use super::shared_cache::SHARED_LAKE_ANSWER_TTL;
use super::state::AppState;
use crate::accounts::Role;
use crate::serve::blocking::in_current_span;

/// A `limit` parameter: `default` when absent, else 1 to `max`.
pub fn checked_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize, Problem> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Problem::invalid("limit", format!("give 1 to {max}"))),
    }
}

/// Whose things a list shows (`?user=NAME`, `?all=true`): the caller's own by default; an
/// admin may ask for another user's or for everyone's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whose {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    all: bool,
}

impl Whose {
    /// The owner to list (`None`: everyone); 403 for a non-admin asking for others'. `what`
    /// names the things in the refusal.
    pub async fn owner(&self, state: &AppState, caller: &Caller, what: &str) -> Result<Option<i64>, Problem> {
        if (self.user.is_some() || self.all) && caller.user.role != Role::Admin {
            return Err(Problem::forbidden("forbidden", format!("only admins list other users' {what}")));
        }
        match (&self.user, self.all) {
            (_, true) => Ok(None),
            (Some(name), false) => Ok(Some(
                state
                    .accounts
                    .user_by_name(name)
                    .await
                    .map_err(|e| internal("reading a user", &e))?
                    .ok_or_else(|| Problem::invalid("user", format!("no user named {name:?}")))?
                    .id,
            )),
            (None, false) => Ok(Some(caller.user.id)),
        }
    }
}

/// Answers a GET from the lake snapshot: from the snapshot's cache when the same request was
/// answered at this lake version, else from the replicas' shared cache (with `--redis`), else
/// computed (on the blocking pool) and kept in both. An `If-None-Match` naming the answer's
/// `ETag` gets 304 without a body.
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
        let shared_key = format!("lake|{}|{key}", market.cache_scope());
        if let Some(body) = state.shared_cache.get(&shared_key).await {
            state.metrics.shared_hit(cache_name);
            (market.keep(key, body.into()), true)
        } else {
            let (worker, snapshot) = (state.clone(), market.clone());
            let value = in_current_span(move || compute(&worker, &snapshot))
                .await
                .map_err(|e| internal("answering from the lake", &e))??;
            let body = serde_json::to_vec(&value).map_err(|e| internal("writing JSON", &e))?;
            state.shared_cache.put(&shared_key, &body, SHARED_LAKE_ANSWER_TTL).await;
            (market.keep(key, body.into()), false)
        }
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

//! Answers a page computes from the lake snapshot, worked out once per lake version on the
//! blocking pool (filtering every posting must not hold up the async threads) and kept in the
//! snapshot's answer cache beside the API's.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::serve::blocking::in_current_span;
use crate::serve::market::Market;
use crate::serve::state::AppState;

/// `compute`'s answer at `market`'s version, under `key` (prefixed `web/` so it never meets an
/// API answer's key); a failed computation is a 500 page.
pub async fn kept<T, F>(state: &Arc<AppState>, market: &Arc<Market>, key: &str, compute: F) -> Result<T, Response>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce(&AppState, &Market) -> T + Send + 'static,
{
    let key = format!("web/{key}");
    if let Some(answer) = recalled(market, &key) {
        return Ok(answer);
    }
    let (worker, snapshot) = (state.clone(), market.clone());
    let answer = in_current_span(move || compute(&worker, &snapshot)).await.map_err(|error| {
        tracing::error!("computing a page's figures: {error}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page's figures could not be computed; see the server's log",
        )
            .into_response()
    })?;
    remember(market, key, &answer);
    Ok(answer)
}

fn recalled<T: DeserializeOwned>(market: &Market, key: &str) -> Option<T> {
    market.cached(key).and_then(|kept| serde_json::from_slice(&kept.body).ok())
}

fn remember<T: Serialize>(market: &Market, key: String, answer: &T) {
    if let Ok(body) = serde_json::to_vec(answer) {
        market.keep(key, body.into());
    }
}

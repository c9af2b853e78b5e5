//! Middleware around every request: a request id, one structured log line, the metrics, and
//! for the API routes the concurrency gate and the time limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::otlp::layer::TRACEPARENT;

use super::problem::Problem;
use super::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// The route pattern that answered (`/v1/jobs/{posting_key}`), for labels and logs: the
/// pattern, not the path, so metrics do not grow a series per posting.
#[derive(Debug, Clone)]
struct RouteLabel(String);

/// Set on a response served from a cache (for the log line).
#[derive(Debug, Clone, Copy)]
pub struct CacheHit(pub bool);

/// Outermost: request id, timing, metrics and the log line, for every request.
pub async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable_id(v))
        .map_or_else(new_request_id, str::to_string);
    let method = method_label(request.method());
    let path = request.uri().path().to_string();
    let span = request_span(&request, &method, &path, &id);
    state.metrics.request_started();
    let mut response = next.run(request).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or_else(|| "unmatched".to_string(), |r| r.0.clone());
    let status = response.status().as_u16();
    state.metrics.request_finished(&route, &method, status, seconds);
    let cache_hit = response.extensions().get::<CacheHit>().map(|c| c.0);
    span.record("otel.name", format!("{method} {route}").as_str());
    span.record("http.route", route.as_str());
    span.record("http.response.status_code", status);
    if let Some(hit) = cache_hit {
        span.record("cache_hit", hit);
    }
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    tracing::info!(
        target: "rats::serve::request",
        request_id = %id,
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms = seconds * 1000.0,
        cache_hit = ?cache_hit,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The request's span (the root of its trace, or a child of the caller's span when the request
/// carries a W3C `traceparent`), named by method and route pattern once the route is known, as
/// OpenTelemetry's HTTP conventions name server spans.
fn request_span(request: &Request, method: &str, path: &str, id: &str) -> tracing::Span {
    let traceparent = request.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok());
    tracing::info_span!(
        target: "rats::serve",
        "request",
        otel.name = tracing::field::Empty,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        traceparent,
        http.request.method = method,
        url.path = path,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        request_id = id,
        cache_hit = tracing::field::Empty,
    )
}

/// Inside the router: records which route pattern matched.
pub async fn label_route(request: Request, next: Next) -> Response {
    let label = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| RouteLabel(p.as_str().to_string()));
    let mut response = next.run(request).await;
    if let Some(label) = label {
        response.extensions_mut().insert(label);
    }
    response
}

/// API routes only: a turn at the gate (or 503 at once when the line is full), then the time
/// limit (503 when it runs out).
pub async fn limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(_turn) = state.gate.enter().await else {
        state.metrics.overload_rejected();
        return Problem::overloaded().into_response();
    };
    let timeout = state.options.request_timeout;
    if let Ok(response) = tokio::time::timeout(timeout, next.run(request)).await {
        response
    } else {
        state.metrics.timed_out();
        Problem::timed_out(timeout.as_secs_f64()).into_response()
    }
}

/// The method as a metrics label: the standard ones by name, any other as `OTHER`, so clients
/// cannot grow the number of series.
fn method_label(method: &axum::http::Method) -> String {
    use axum::http::Method;
    let standard = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    if standard.contains(method) { method.as_str() } else { "OTHER" }.to_string()
}

/// A client's own id is kept when it is short and plain (it goes into logs and headers).
fn is_acceptable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Unique within the process and across restarts: start time and a counter.
fn new_request_id() -> String {
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros())
    });
    format!("{started:x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_request_ids_are_kept() {
        assert!(is_acceptable_id("abc-123_x.y"));
        assert!(!is_acceptable_id("line\nbreak"));
        assert!(!is_acceptable_id(&"x".repeat(65)));
        assert!(!is_acceptable_id(""));
        assert_ne!(new_request_id(), new_request_id());
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        let invented = axum::http::Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&invented), "OTHER");
    }
}

//! Cross-origin requests from browsers: pages on the origins listed with `--cors-origin` (or
//! `serve.cors_origins` in `rats.yaml`) may call the API — their preflights are answered and
//! their answers carry `Access-Control-Allow-Origin` — while a request whose `Origin` is
//! neither listed nor this server's own is refused with 403 and audited, so a page elsewhere
//! cannot make a visitor's browser act on the API. Requests without an `Origin` (scripts,
//! curl) are not affected.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::client_address;
use super::problem::Problem;
use super::state::AppState;

const ALLOWED_METHODS: &str = "GET, POST, DELETE";
const ALLOWED_HEADERS: &str = "authorization, content-type, if-none-match, x-csrf-token, x-request-id";
/// Headers a page's script may read besides the simple ones.
const EXPOSED_HEADERS: &str = "etag, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, x-request-id";
/// Seconds a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Whether `origin` is the server's own: its host and port are the request's `Host`.
fn is_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
    headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

pub async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(request).await;
    };
    if is_same_origin(&origin, request.headers()) {
        return next.run(request).await;
    }
    let listed = state
        .options
        .cors_origins
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(&origin));
    if !listed {
        let client = client_address(request.extensions());
        let detail = format!("{} {} from origin {origin}", request.method(), request.uri().path());
        state
            .accounts
            .audit("cors_refused", None, Some(&origin), client.as_deref(), &detail)
            .await;
        return Problem::forbidden("origin_not_allowed", format!("pages on {origin} may not call this API")).into_response();
    }
    let Ok(allow_origin) = HeaderValue::from_str(&origin) else {
        return Problem::forbidden("origin_not_allowed", "the Origin header is not a valid value").into_response();
    };
    let preflight = request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut answer = StatusCode::NO_CONTENT.into_response();
        let headers = answer.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
        answer
    } else {
        let mut answer = next.run(request).await;
        answer
            .headers_mut()
            .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
        answer
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_own_origin_is_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(is_same_origin("http://127.0.0.1:8080", &headers));
        assert!(is_same_origin("https://127.0.0.1:8080", &headers));
        assert!(!is_same_origin("http://127.0.0.1:8081", &headers));
        assert!(!is_same_origin("http://evil.example", &headers));
        assert!(!is_same_origin("null", &headers));
    }
}

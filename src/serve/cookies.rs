//! Browser sessions: a sign-in with `"cookies": true` puts the access token and the refresh
//! token in `HttpOnly; Secure; SameSite=Strict` cookies that page scripts cannot read, and
//! gives the page a CSRF token (also in a readable cookie). Requests that change something and
//! are authenticated by cookie must echo it in `X-CSRF-Token`; it is derived from the session
//! with the server's key, so a page elsewhere can neither read nor make it.

use axum::http::{HeaderMap, HeaderValue, Method, header};

use crate::accounts::sessions::{ACCESS_SECONDS, REFRESH_SECONDS, Session};

pub const ACCESS: &str = "rats_access";
pub const REFRESH: &str = "rats_refresh";
pub const CSRF: &str = "rats_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The refresh cookie goes only to the routes that use it.
const REFRESH_PATH: &str = "/v1/auth";

/// The value of cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// Whether a method changes something, so that a cookie-authenticated request needs the CSRF
/// token.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, http_only: bool) -> Option<HeaderValue> {
    let http_only = if http_only { "; HttpOnly" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; Secure; SameSite=Strict{http_only}"
    ))
    .ok()
}

/// `Set-Cookie` values for a session: access and refresh tokens (`HttpOnly`) and the CSRF token.
pub fn for_session(session: &Session, csrf: &str) -> Vec<HeaderValue> {
    [
        set_cookie(ACCESS, &session.access_token, "/", ACCESS_SECONDS, true),
        set_cookie(REFRESH, &session.refresh_token, REFRESH_PATH, REFRESH_SECONDS, true),
        set_cookie(CSRF, csrf, "/", REFRESH_SECONDS, false),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `Set-Cookie` values that remove the session's cookies (sign-out).
pub fn cleared() -> Vec<HeaderValue> {
    [
        set_cookie(ACCESS, "", "/", 0, true),
        set_cookie(REFRESH, "", REFRESH_PATH, 0, true),
        set_cookie(CSRF, "", "/", 0, false),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; rats_access=tok.en.sig"));
        headers.append(header::COOKIE, HeaderValue::from_static("rats_csrf=abc"));
        assert_eq!(cookie(&headers, ACCESS).as_deref(), Some("tok.en.sig"));
        assert_eq!(cookie(&headers, CSRF).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, REFRESH), None);
        assert!(changes_state(&Method::POST) && changes_state(&Method::DELETE));
        assert!(!changes_state(&Method::GET));
    }
}

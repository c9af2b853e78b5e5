//! Who a page is for. A page asked for without a valid session goes to renew it when the browser
//! still holds one (its access cookie lives 15 minutes, the session 30 days), else to the
//! sign-in form — either way back to the page afterwards. Renewal is a plain redirect under
//! `/v1/auth`, the only path the refresh cookie is sent to, so it needs no script.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts::secrets::same_bytes;
use crate::serve::access::Caller;
use crate::serve::cookies;
use crate::serve::extract::Client;
use crate::serve::routes::auth::audited_refresh;
use crate::serve::state::AppState;

/// The signed-in person a page is for.
pub struct Viewer(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Viewer(caller.clone()));
        }
        let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        // The readable CSRF cookie lives as long as the session: its presence says there may
        // be one to renew.
        let renewable = cookies::cookie(&parts.headers, cookies::CSRF).is_some_and(|c| !c.is_empty());
        Err(if renewable { to_renew(here) } else { to_sign_in(here) })
    }
}

fn encoded(path: &str) -> String {
    form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// To the sign-in page, which brings the person back to `path` (with its query) afterwards.
pub fn to_sign_in(path: &str) -> Response {
    Redirect::to(&format!("/login?next={}", encoded(path))).into_response()
}

fn to_renew(path: &str) -> Response {
    Redirect::to(&format!("{RENEW}?next={}", encoded(path))).into_response()
}

/// The renewal route.
pub const RENEW: &str = "/v1/auth/renew";

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /v1/auth/renew?next=PATH`: the refresh cookie rotated into a new session (the CSRF cookie
/// must be the session's, as the API's cookie refresh requires it in a header), then back to
/// `next`; without a session to renew, the cookies are removed and the sign-in form follows.
pub async fn renew(State(state): State<Arc<AppState>>, Client(client): Client, headers: HeaderMap, Query(next): Query<Next>) -> Response {
    let next = super::signin::local_path(next.next.as_deref());
    let renewed = match cookies::cookie(&headers, cookies::REFRESH) {
        Some(token) => {
            let csrf_matches = match state.accounts.session_of_refresh_token(&token).await {
                Ok(Some(session)) => cookies::cookie(&headers, cookies::CSRF)
                    .is_some_and(|csrf| same_bytes(csrf.as_bytes(), state.accounts.csrf_token(&session).as_bytes())),
                _ => false,
            };
            if csrf_matches {
                audited_refresh(&state, &token, client.as_deref()).await.ok()
            } else {
                None
            }
        }
        None => None,
    };
    let (mut response, set) = match renewed {
        Some(session) => {
            let csrf = state.accounts.csrf_token(&session.session_id);
            (Redirect::to(&next).into_response(), cookies::for_session(&session, &csrf))
        }
        None => (to_sign_in(&next), cookies::cleared()),
    };
    for value in set {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

//! Signing in with a plain form (no script needed): the API's session cookies, sign-in budget
//! and audit, and back to where the person was going.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::render::page;
use crate::accounts::sessions::Session;
use crate::serve::cookies;
use crate::serve::extract::Client;
use crate::serve::routes::auth::audited_login;
use crate::serve::state::AppState;

/// Where to go after signing in: a path of this site only (no `//host` or `https://…`).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_string(),
        _ => "/".to_string(),
    }
}

#[derive(Debug, Deserialize)]
pub struct Next {
    pub next: Option<String>,
}

/// `GET /login`.
pub async fn login_form(State(state): State<Arc<AppState>>, Query(next): Query<Next>) -> Response {
    sign_in_page(&state, StatusCode::OK, &local_path(next.next.as_deref()), None, "")
}

/// The form, with a "sign in with" link for each OpenID Connect provider configured.
fn sign_in_page(state: &AppState, status: StatusCode, next: &str, error: Option<&str>, username: &str) -> Response {
    page(
        status,
        "login.html",
        context! {
            page => "login",
            next => next,
            error => error,
            username => username,
            providers => state.oidc.names().iter().map(ToString::to_string).collect::<Vec<_>>(),
            open_registration => state.options.open_registration,
            user => (),
        },
    )
}

/// The sign-in form again when the address has spent its sign-in budget (429, `Retry-After`).
pub fn too_many_sign_ins(state: &AppState, retry_after: u64) -> Response {
    let message = format!("Too many sign-in attempts from this address; try again in {retry_after} s.");
    let mut response = sign_in_page(state, StatusCode::TOO_MANY_REQUESTS, "/", Some(&message), "");
    if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The redirect to `next` that sets a new session's cookies (its access and refresh tokens and
/// the CSRF token bound to it).
pub fn signed_in(state: &AppState, session: &Session, next: &str) -> Response {
    let csrf = state.accounts.csrf_token(&session.session_id);
    let mut response = Redirect::to(next).into_response();
    for value in cookies::for_session(session, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: the form's credentials; on success the session's cookies and a redirect to
/// where the person was going, otherwise the form again with the reason (audited as the API's
/// sign-in is; the sign-in budget per address applies, as to `POST /v1/auth/login`).
pub async fn login(State(state): State<Arc<AppState>>, Client(client): Client, Form(form): Form<SignIn>) -> Response {
    let next = local_path(form.next.as_deref());
    match audited_login(&state, &form.username, &form.password, client.as_deref(), " (dashboard)").await {
        Ok(Some(session)) => signed_in(&state, &session, &next),
        // 200: the form again, with the reason (a 401 would need an HTTP authentication scheme
        // to name, and browsers log it as a failed load).
        Ok(None) => sign_in_page(
            &state,
            StatusCode::OK,
            &next,
            Some("The user name or the password is wrong."),
            &form.username,
        ),
        Err(error) => {
            tracing::error!("signing in: {error}");
            sign_in_page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                &next,
                Some("Signing in failed on the server; try again, or tell its operator."),
                &form.username,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_signing_in() {
        assert_eq!(local_path(Some("/jobs?q=rust")), "/jobs?q=rust");
        for outside in ["//evil.example", "https://evil.example", "/\\evil.example", "evil"] {
            assert_eq!(local_path(Some(outside)), "/", "{outside}");
        }
        assert_eq!(local_path(None), "/");
    }
}

//! Sign-in through an OpenID Connect provider, for browsers: `GET /v1/auth/providers` lists the
//! configured providers, `GET /v1/auth/oidc/{provider}/login?next=/path` sends the browser to
//! the provider, and the provider sends it back to `GET /v1/auth/oidc/{provider}/callback`,
//! which makes or finds the user, starts a session in cookies (as a password sign-in with
//! `"cookies": true` does) and sends the browser on. Every outcome is audited.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::identities::Linked;
use crate::serve::oidc::pending::{self, COOKIE};
use crate::serve::oidc::{Callback, OidcError};

use super::super::cookies;
use super::super::extract::{ApiQuery, Client};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
}

/// The providers people may sign in with, and where each sign-in starts.
pub async fn providers(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let providers: Vec<_> = state
        .oidc
        .names()
        .into_iter()
        .map(|name| json!({"name": name, "login": format!("/v1/auth/oidc/{name}/login")}))
        .collect();
    Json(json!({ "providers": providers }))
}

/// 303 to the provider's authorization endpoint, with the cookie that remembers this sign-in.
pub async fn login(
    State(state): State<Arc<AppState>>,
    Path(provider): Path<String>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Result<Response, Problem> {
    let (location, cookie) = state
        .oidc
        .begin(&provider, query.next.as_deref(), state.accounts.signing_key())
        .await
        .map_err(|e| problem_of(&e))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header_value(&location)?);
    headers.insert(header::SET_COOKIE, header_value(&cookie)?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The provider's redirect back: a session in cookies and a page that moves on to `next`.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    Path(provider): Path<String>,
    headers: HeaderMap,
    ApiQuery(answer): ApiQuery<Callback>,
) -> Result<Response, Problem> {
    let accounts = &state.accounts;
    let cookie = cookies::cookie(&headers, COOKIE);
    let finished = state
        .oidc
        .finish(&provider, &answer, cookie.as_deref(), accounts.signing_key())
        .await;
    let (identity, next) = match finished {
        Ok(done) => done,
        Err(error) => {
            let event = if matches!(error, OidcError::StateMismatch) {
                "oidc_state_mismatch"
            } else {
                "oidc_login_failed"
            };
            accounts
                .audit(event, None, None, client.as_deref(), &format!("provider {provider}: {error}"))
                .await;
            return Err(problem_of(&error));
        }
    };
    let linked = accounts
        .link_identity(&identity.issuer, &identity.subject, &identity.username, identity.role)
        .await
        .map_err(|e| internal("binding a provider's account to a user", &e))?;
    match &linked {
        Linked::Created(user) => {
            let detail = format!(
                "made at the first sign-in with {provider} (subject {}) as {}",
                identity.subject, user.role
            );
            accounts
                .audit("user_created", Some(user.id), Some(&user.name), client.as_deref(), &detail)
                .await;
        }
        Linked::Existing { before, after } if before.role != after.role => {
            let detail = format!("role {} → {} from {provider}'s claims", before.role, after.role);
            accounts
                .audit("role_changed", Some(after.id), Some(&after.name), client.as_deref(), &detail)
                .await;
        }
        Linked::Existing { .. } => {}
    }
    let user = linked.user().clone();
    let (id, name) = (user.id, user.name.clone());
    let Some(session) = accounts.start_session(user).await.map_err(|e| internal("starting a session", &e))? else {
        let detail = format!("signed in with {provider}, but the user is disabled");
        accounts
            .audit("login_failed", Some(id), Some(&name), client.as_deref(), &detail)
            .await;
        return Err(Problem::forbidden("user_disabled", "this user is disabled on this server"));
    };
    let detail = format!("signed in with {provider}");
    accounts.audit("login", Some(id), Some(&name), client.as_deref(), &detail).await;
    let csrf = accounts.csrf_token(&session.session_id);
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        onward_page(&next),
    )
        .into_response();
    let headers = response.headers_mut();
    for value in cookies::for_session(&session, &csrf) {
        headers.append(header::SET_COOKIE, value);
    }
    headers.append(header::SET_COOKIE, header_value(&pending::cleared_cookie())?);
    // The page moves on by itself (below); no script of its own.
    headers.insert(header::REFRESH, header_value(&format!("0; url={next}"))?);
    Ok(response)
}

/// A page that sends the browser on to `next`. The session cookies are `SameSite=Strict`, and a
/// browser withholds those on a redirect chain that began at the provider (another site); a
/// page of this server moving on makes the next request same-site, so they go with it.
fn onward_page(next: &str) -> String {
    let escaped = next
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title>\
         <meta http-equiv=\"refresh\" content=\"0; url={escaped}\"></head>\
         <body><p>Signed in. <a href=\"{escaped}\">Continue</a>.</p></body></html>\n"
    )
}

fn header_value(text: &str) -> Result<HeaderValue, Problem> {
    HeaderValue::from_str(text).map_err(|e| internal("a header value", &e))
}

fn problem_of(error: &OidcError) -> Problem {
    let detail = error.to_string();
    match error {
        OidcError::UnknownProvider(_) => Problem::not_found(detail),
        OidcError::Provider { .. } => Problem::bad_gateway("oidc_provider_failed", detail),
        OidcError::StateMismatch => Problem::unauthenticated("oidc_state_mismatch", detail),
        OidcError::Refused(_) | OidcError::IdToken { .. } | OidcError::SubjectMismatch { .. } => {
            Problem::unauthenticated("oidc_login_failed", detail)
        }
        OidcError::NoRole { .. } => Problem::forbidden("oidc_no_role", detail),
        OidcError::MissingSecret { .. } | OidcError::Random(_) => internal("an OpenID Connect sign-in", &detail),
    }
}

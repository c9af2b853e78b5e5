//! `POST /v1/auth/login|register|refresh|logout` and `GET /v1/me`: signing in with a password
//! for an access token and a refresh token (in the answer for scripts, in cookies for
//! browsers — see [`cookies`]), rotating the refresh token, ending the session. Every outcome
//! that matters for security is audited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::secrets::same_bytes;
use crate::accounts::sessions::{Refreshed, Session};
use crate::accounts::{AccountsError, Role, User};

use super::super::access::Caller;
use super::super::cookies;
use super::super::extract::{ApiJson, Change, Client};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
    /// A browser session: tokens in `HttpOnly` cookies, a CSRF token in the answer.
    #[serde(default)]
    cookies: bool,
}

/// The refresh token in the body (scripts), or else in the session cookie (browsers).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The refresh token of a refresh or sign-out, and whether it came from the cookie. One taken
/// from the cookie counts only with the session's CSRF token echoed in `X-CSRF-Token` (403
/// `csrf_failed` otherwise, audited).
async fn presented_refresh_token(
    state: &AppState,
    headers: &HeaderMap,
    body: RefreshToken,
    client: Option<&str>,
) -> Result<(String, bool), Problem> {
    if let Some(token) = body.refresh_token {
        return Ok((token, false));
    }
    let Some(token) = cookies::cookie(headers, cookies::REFRESH) else {
        return Err(Problem::invalid("refresh_token", "give refresh_token, or sign in with cookies"));
    };
    let accounts = &state.accounts;
    let session = accounts
        .session_of_refresh_token(&token)
        .await
        .map_err(|e| internal("reading a refresh token", &e))?;
    let echo = headers.get(cookies::CSRF_HEADER).and_then(|v| v.to_str().ok());
    let matches =
        session.is_some_and(|session| echo.is_some_and(|echo| same_bytes(echo.as_bytes(), accounts.csrf_token(&session).as_bytes())));
    if !matches {
        let detail = format!("the refresh cookie without the session's {} header", cookies::CSRF_HEADER);
        accounts.audit("csrf_failed", None, None, client, &detail).await;
        return Err(Problem::forbidden("csrf_failed", detail));
    }
    Ok((token, true))
}

/// A session as the caller asked for it: tokens in the body, or in cookies with the CSRF token
/// in the body.
fn session_answer(state: &AppState, session: &Session, in_cookies: bool) -> Response {
    if !in_cookies {
        return Json(session).into_response();
    }
    let csrf = state.accounts.csrf_token(&session.session_id);
    let mut response = Json(json!({
        "token_type": "cookie",
        "expires_in": session.expires_in,
        "csrf_token": csrf,
        "user": session.user,
    }))
    .into_response();
    for value in cookies::for_session(session, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, Problem> {
    match audited_login(&state, &body.username, &body.password, client.as_deref(), "").await {
        Ok(Some(session)) => Ok(session_answer(&state, &session, body.cookies)),
        Ok(None) => Err(Problem::unauthenticated("invalid_login", "the user name or the password is wrong")),
        Err(error) => Err(internal("signing in", &error)),
    }
}

/// Signs in with a password and audits the outcome (`login` or `login_failed`); `channel` is
/// added to the audit's detail (the dashboard's form says so). `None`: wrong name or password,
/// or a disabled user.
pub async fn audited_login(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<&str>,
    channel: &str,
) -> Result<Option<Session>, AccountsError> {
    let accounts = &state.accounts;
    let session = accounts.login(username, password).await?;
    if let Some(session) = &session {
        let detail = format!("signed in{channel}");
        accounts
            .audit("login", Some(session.user.id), Some(&session.user.name), client, &detail)
            .await;
    } else {
        let detail = format!("wrong name or password, or a disabled user{channel}");
        accounts.audit("login_failed", None, Some(username), client, &detail).await;
    }
    Ok(session)
}

/// Self-service sign-up as an `api_user`, when the server was started with
/// `--open-registration`; otherwise 403.
pub async fn register(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, Problem> {
    let user = audited_registration(&state, &body.username, &body.password, client.as_deref(), "").await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// Signs someone up as an `api_user` when the server takes sign-ups, audited (the API's
/// registration and the dashboard's register form share this); `channel` is added to the
/// audit detail.
pub async fn audited_registration(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<&str>,
    channel: &str,
) -> Result<User, Problem> {
    if !state.options.open_registration {
        return Err(Problem::forbidden(
            "registration_closed",
            "this server does not take sign-ups; ask its operator for an account",
        ));
    }
    let accounts = &state.accounts;
    match accounts.add_user(username, Role::ApiUser, Some(password)).await {
        Ok(user) => {
            accounts
                .audit(
                    "registered",
                    Some(user.id),
                    Some(&user.name),
                    client,
                    &format!("signed up as api_user{channel}"),
                )
                .await;
            Ok(user)
        }
        Err(AccountsError::UserExists(_)) => Err(Problem::conflict("user_exists", "that user name is taken")),
        Err(AccountsError::Invalid(message)) => {
            let field = if message.starts_with("user name") { "username" } else { "password" };
            Err(Problem::invalid(field, message))
        }
        Err(error) => Err(internal("registering", &error)),
    }
}

pub async fn refresh(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshToken>,
) -> Result<Response, Problem> {
    let (token, in_cookies) = presented_refresh_token(&state, &headers, body, client.as_deref()).await?;
    let session = audited_refresh(&state, &token, client.as_deref()).await?;
    Ok(session_answer(&state, &session, in_cookies))
}

/// Rotates a refresh token into a new session, audited (the API's refresh and the dashboard's
/// renewal share this); a reused token ends its session.
pub async fn audited_refresh(state: &AppState, token: &str, client: Option<&str>) -> Result<Session, Problem> {
    let accounts = &state.accounts;
    match accounts.refresh(token).await.map_err(|e| internal("refreshing", &e))? {
        Refreshed::Rotated(session) => {
            accounts
                .audit(
                    "token_refreshed",
                    Some(session.user.id),
                    Some(&session.user.name),
                    client,
                    "refresh token rotated",
                )
                .await;
            Ok(session)
        }
        Refreshed::Reused { user_id } => {
            accounts
                .audit(
                    "refresh_token_reused",
                    Some(user_id),
                    None,
                    client,
                    "a used refresh token was presented again: its session is revoked",
                )
                .await;
            Err(Problem::unauthenticated(
                "refresh_token_reused",
                "this refresh token was used before; the session is ended, sign in again",
            ))
        }
        Refreshed::Refused => {
            accounts
                .audit("refresh_refused", None, None, client, "unknown, expired or revoked refresh token")
                .await;
            Err(Problem::unauthenticated(
                "invalid_refresh_token",
                "the refresh token is unknown, expired or revoked",
            ))
        }
    }
}

/// Ends the session; a browser's cookies are removed too.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshToken>,
) -> Result<Response, Problem> {
    let accounts = &state.accounts;
    let (token, in_cookies) = presented_refresh_token(&state, &headers, body, client.as_deref()).await?;
    if let Some(user_id) = accounts.logout(&token).await.map_err(|e| internal("signing out", &e))? {
        accounts
            .audit("logout", Some(user_id), None, client.as_deref(), "session ended")
            .await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if in_cookies {
        for value in cookies::cleared() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// The caller as the server sees them: user, role, and the key used if any.
pub async fn me(Extension(caller): Extension<Caller>) -> Json<serde_json::Value> {
    Json(json!({"user": caller.user, "key_id": caller.key_id}))
}

/// What people change about themselves.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyChange {
    /// Where saved-search alerts are mailed; `null` removes it (and with it the mail).
    #[serde(default)]
    email: Change<String>,
}

/// `PATCH /v1/me`: the caller after the change.
pub async fn update_me(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    ApiJson(change): ApiJson<MyChange>,
) -> Result<Json<serde_json::Value>, Problem> {
    let name = &caller.user.name;
    let user = match &change.email {
        Change::Keep => caller.user.clone(),
        Change::Remove => set_email(&state, &caller.user, client.as_deref(), None, name).await?,
        Change::Set(email) => set_email(&state, &caller.user, client.as_deref(), Some(email), name).await?,
    };
    Ok(Json(json!({"user": user, "key_id": caller.key_id})))
}

/// Sets `user`'s mail address (`None` removes it), audited as `email_changed` naming who
/// changed it (`by`); an address that does not read as one is a 422 naming `email`.
pub async fn set_email(state: &AppState, user: &User, client: Option<&str>, email: Option<&str>, by: &str) -> Result<User, Problem> {
    let changed = state.accounts.set_email(&user.name, email).await.map_err(|e| match e {
        AccountsError::Invalid(message) => Problem::invalid("email", message),
        other => internal("changing a mail address", &other),
    })?;
    if changed.email != user.email {
        let detail = match &changed.email {
            Some(address) => format!("email {address} (by {by})"),
            None => format!("email removed (by {by})"),
        };
        state
            .accounts
            .audit("email_changed", Some(changed.id), Some(&changed.name), client, &detail)
            .await;
    }
    Ok(changed)
}

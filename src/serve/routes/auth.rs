//! `POST /v1/auth/login|register|refresh|logout` and `GET /v1/me`: signing in with a password
//! for an access token and a refresh token, rotating the refresh token, ending the session.
//! Every outcome that matters for security is audited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::sessions::Refreshed;
use crate::accounts::{AccountsError, Role};

use super::super::access::Caller;
use super::super::extract::{ApiJson, Client};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    refresh_token: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, Problem> {
    let accounts = &state.accounts;
    let session = accounts
        .login(&body.username, &body.password)
        .await
        .map_err(|e| internal("signing in", &e))?;
    if let Some(session) = session {
        accounts
            .audit(
                "login",
                Some(session.user.id),
                Some(&session.user.name),
                client.as_deref(),
                "signed in",
            )
            .await;
        return Ok(Json(session).into_response());
    }
    accounts
        .audit(
            "login_failed",
            None,
            Some(&body.username),
            client.as_deref(),
            "wrong name or password, or a disabled user",
        )
        .await;
    Err(Problem::unauthenticated("invalid_login", "the user name or the password is wrong"))
}

/// Self-service sign-up as an `api_user`, when the server was started with
/// `--open-registration`; otherwise 403.
pub async fn register(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, Problem> {
    if !state.options.open_registration {
        return Err(Problem::forbidden(
            "registration_closed",
            "this server does not take sign-ups; ask its operator for an account",
        ));
    }
    let accounts = &state.accounts;
    match accounts.add_user(&body.username, Role::ApiUser, Some(&body.password)).await {
        Ok(user) => {
            accounts
                .audit(
                    "registered",
                    Some(user.id),
                    Some(&user.name),
                    client.as_deref(),
                    "signed up as api_user",
                )
                .await;
            Ok((StatusCode::CREATED, Json(user)).into_response())
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
    ApiJson(body): ApiJson<RefreshToken>,
) -> Result<Response, Problem> {
    let accounts = &state.accounts;
    match accounts
        .refresh(&body.refresh_token)
        .await
        .map_err(|e| internal("refreshing", &e))?
    {
        Refreshed::Rotated(session) => {
            accounts
                .audit(
                    "token_refreshed",
                    Some(session.user.id),
                    Some(&session.user.name),
                    client.as_deref(),
                    "refresh token rotated",
                )
                .await;
            Ok(Json(session).into_response())
        }
        Refreshed::Reused { user_id } => {
            accounts
                .audit(
                    "refresh_token_reused",
                    Some(user_id),
                    None,
                    client.as_deref(),
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
                .audit(
                    "refresh_refused",
                    None,
                    None,
                    client.as_deref(),
                    "unknown, expired or revoked refresh token",
                )
                .await;
            Err(Problem::unauthenticated(
                "invalid_refresh_token",
                "the refresh token is unknown, expired or revoked",
            ))
        }
    }
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    ApiJson(body): ApiJson<RefreshToken>,
) -> Result<StatusCode, Problem> {
    let accounts = &state.accounts;
    if let Some(user_id) = accounts
        .logout(&body.refresh_token)
        .await
        .map_err(|e| internal("signing out", &e))?
    {
        accounts
            .audit("logout", Some(user_id), None, client.as_deref(), "session ended")
            .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller as the server sees them: user, role, and the key used if any.
pub async fn me(Extension(caller): Extension<Caller>) -> Json<serde_json::Value> {
    Json(json!({"user": caller.user, "key_id": caller.key_id}))
}

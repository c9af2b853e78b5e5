//! `GET|POST /v1/keys`, `DELETE /v1/keys/{key_id}`: API keys for scripts. Everyone manages
//! their own; admins also list (`?user=NAME` or `?all=true`) and revoke others'. Another
//! user's key answers 404 to a non-admin — the same as a key that does not exist — and the
//! attempt is audited.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::keys::KeyInfo;
use crate::accounts::{AccountsError, Role};

use super::super::access::Caller;
use super::super::extract::{ApiJson, ApiQuery, Client};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use super::Whose;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    #[serde(default)]
    label: String,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(whose): ApiQuery<Whose>,
) -> Result<Json<serde_json::Value>, Problem> {
    let owner = whose.owner(&state, &caller, "keys").await?;
    let keys = state.accounts.keys(owner).await.map_err(|e| internal("listing keys", &e))?;
    Ok(Json(json!({"keys": keys})))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    ApiJson(body): ApiJson<NewKeyRequest>,
) -> Result<Response, Problem> {
    let accounts = &state.accounts;
    let key = match accounts.create_key(&caller.user, &body.label).await {
        Ok(key) => key,
        Err(AccountsError::Invalid(message)) => return Err(Problem::invalid("label", message)),
        Err(error) => return Err(internal("making a key", &error)),
    };
    let detail = format!("key {} made", key.prefix);
    accounts
        .audit("key_created", Some(caller.user.id), Some(&key.prefix), client.as_deref(), &detail)
        .await;
    Ok((StatusCode::CREATED, Json(key)).into_response())
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(key_id): Path<String>,
) -> Result<StatusCode, Problem> {
    revoke_key(&state, &caller, client.as_deref(), &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the key `key_id` for `caller` (their own; an admin's, anyone's), audited; answers
/// the key revoked. Someone else's key is "not found", as a key that does not exist is.
pub async fn revoke_key(state: &AppState, caller: &Caller, client: Option<&str>, key_id: &str) -> Result<KeyInfo, Problem> {
    let accounts = &state.accounts;
    let not_found = || Problem::not_found("no such key among yours");
    let Ok(id) = key_id.parse::<i64>() else {
        return Err(not_found());
    };
    let key = accounts.key(id).await.map_err(|e| internal("reading a key", &e))?;
    let Some(key) = key else { return Err(not_found()) };
    if key.user_id != caller.user.id && caller.user.role != Role::Admin {
        let detail = format!("tried to revoke key {} of another user", key.prefix);
        accounts
            .audit("denied", Some(caller.user.id), Some(&key.prefix), client, &detail)
            .await;
        return Err(not_found());
    }
    accounts.revoke_key(id).await.map_err(|e| internal("revoking a key", &e))?;
    let detail = format!("key {} of {} revoked", key.prefix, key.user);
    accounts
        .audit("key_revoked", Some(caller.user.id), Some(&key.prefix), client, &detail)
        .await;
    Ok(key)
}

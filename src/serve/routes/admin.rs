//! Admin-only routes: `GET /v1/users`, `PATCH /v1/users/{user_name}` (role, tier, mail address, disabling;
//! the admin page's forms do the same through [`change_user`]) and `GET /v1/audit` (the audit
//! log, newest first, paged with `before=<id>`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::tiers::Tier;
use crate::accounts::{AccountsError, Role, User};

use super::super::access::Caller;
use super::super::extract::{ApiJson, ApiQuery, Change, Client};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use super::checked_limit;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    limit: Option<usize>,
    /// Events older than this event id.
    #[serde(default)]
    before: Option<i64>,
}

pub async fn users(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, Problem> {
    let users = state.accounts.users().await.map_err(|e| internal("listing users", &e))?;
    Ok(Json(json!({"users": users})))
}

pub async fn audit(State(state): State<Arc<AppState>>, ApiQuery(query): ApiQuery<AuditQuery>) -> Result<Json<serde_json::Value>, Problem> {
    let limit = checked_limit(query.limit, 100, 1_000)?;
    let events = state
        .accounts
        .audit_events(limit as i64, query.before)
        .await
        .map_err(|e| internal("reading the audit log", &e))?;
    let next = (events.len() == limit).then(|| events.last().map(|e| e.id)).flatten();
    Ok(Json(json!({"events": events, "next_before": next})))
}

/// What an admin may change about a user; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    pub role: Option<Role>,
    /// `free` or `premium`.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// `true` disables the user and ends their sessions (their keys stop working too); a
    /// disabled user is not enabled again.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Where the user's saved-search alerts are mailed; `null` removes it.
    #[serde(default)]
    pub email: Change<String>,
}

/// `PATCH /v1/users/{user_name}`: the user after the change.
pub async fn update_user(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(name): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> Result<Json<serde_json::Value>, Problem> {
    let user = change_user(&state, &caller, client.as_deref(), &name, &change).await?;
    Ok(Json(json!({"user": user})))
}

/// Applies `change` to the user `name` for the admin `caller`, each part audited as `rats users`
/// audits it (naming the admin). An admin cannot take away their own admin role or disable
/// themselves — another admin can — so the last admin cannot lock everyone out.
pub async fn change_user(
    state: &AppState,
    caller: &Caller,
    client: Option<&str>,
    name: &str,
    change: &UserChange,
) -> Result<User, Problem> {
    let accounts = &state.accounts;
    let mut user = accounts
        .user_by_name(name)
        .await
        .map_err(|e| internal("reading a user", &e))?
        .ok_or_else(|| Problem::not_found(format!("no user named {name:?}")))?;
    if user.id == caller.user.id {
        if change.role.is_some_and(|role| role != Role::Admin) {
            return Err(Problem::invalid(
                "role",
                "an admin cannot take away their own admin role: another admin can",
            ));
        }
        if change.disabled == Some(true) {
            return Err(Problem::invalid(
                "disabled",
                "an admin cannot disable themselves: another admin can",
            ));
        }
    }
    if change.disabled == Some(false) && user.disabled_at.is_some() {
        return Err(Problem::invalid(
            "disabled",
            format!("{name} is disabled, and disabled users stay so"),
        ));
    }
    let failed = |e: AccountsError| internal("changing a user", &e);
    // Only a tier can be refused: admins' `admin` tier and the callers' `anonymous` are not a
    // user's to be on.
    let refused_tier = |e: AccountsError| match e {
        AccountsError::Invalid(message) => Problem::invalid("tier", message),
        other => failed(other),
    };
    let by = &caller.user.name;
    if let Some(role) = change.role.filter(|role| *role != user.role) {
        let (before, after) = accounts.set_role(name, role).await.map_err(failed)?;
        let detail = format!("role {} -> {} (by {by})", before.role, after.role);
        accounts
            .audit("role_changed", Some(after.id), Some(&after.name), client, &detail)
            .await;
        user = after;
    }
    if let Some(tier) = change.tier.filter(|tier| *tier != user.tier) {
        user = accounts.set_tier(name, tier).await.map_err(refused_tier)?;
        let detail = format!("tier {tier} (by {by})");
        accounts
            .audit("tier_changed", Some(user.id), Some(&user.name), client, &detail)
            .await;
    }
    let email = match &change.email {
        Change::Keep => None,
        Change::Remove => Some(None),
        Change::Set(email) => Some(Some(email.as_str())),
    };
    if let Some(email) = email {
        user = super::auth::set_email(state, &user, client, email, by).await?;
    }
    if change.disabled == Some(true) && user.disabled_at.is_none() {
        user = accounts.disable_user(name).await.map_err(failed)?;
        let detail = format!("disabled (by {by})");
        accounts
            .audit("user_disabled", Some(user.id), Some(&user.name), client, &detail)
            .await;
    }
    Ok(user)
}

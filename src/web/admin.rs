//! `GET /admin`: the accounts as an admin sees them — users and roles, every API key, and the
//! audit log a page at a time (`?before=ID`, the address holding the place) — with forms that
//! change a user's role or tier, disable a user and revoke a key, doing what
//! `PATCH /v1/users/{user_name}` and `DELETE /v1/keys/{key_id}` do (same checks, same audit).
//! Refused with 403 to anyone else by the server (the link is not shown to them either, but
//! that is not what keeps them out), as the API's admin routes are.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use super::render::{page, problem as shown_problem, user, value};
use super::viewer::Viewer;
use crate::accounts::Role;
use crate::accounts::tiers::Tier;
use crate::serve::access::Caller;
use crate::serve::cookies;
use crate::serve::extract::{Change, Client};
use crate::serve::problem::Problem;
use crate::serve::routes::admin::{UserChange, change_user};
use crate::serve::routes::keys::revoke_key;
use crate::serve::state::AppState;

/// Audit events per page.
const EVENTS_SHOWN: i64 = 50;
/// The tiers an admin may put a user on.
const TIERS: [Tier; 2] = [Tier::Free, Tier::Premium];

#[derive(Debug, Deserialize)]
pub struct Place {
    /// Events older than this id (the previous page's last).
    before: Option<i64>,
    /// The user whose change was saved (after a form's redirect).
    changed: Option<String>,
    /// The prefix of the key revoked (after a form's redirect).
    revoked: Option<String>,
}

/// `GET /admin`.
pub async fn admin(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, headers: HeaderMap, Query(place): Query<Place>) -> Response {
    let done = match (&place.changed, &place.revoked) {
        (Some(name), _) => Some(format!("Saved the changes to {name}.")),
        (None, Some(prefix)) => Some(format!("Revoked the key {prefix}…")),
        (None, None) => None,
    };
    admin_page(&state, &caller, &headers, place.before, Outcome { done, problem: None }).await
}

/// What the last form did, said at the top of the page.
struct Outcome {
    done: Option<String>,
    problem: Option<Problem>,
}

async fn admin_page(state: &AppState, caller: &Caller, headers: &HeaderMap, before: Option<i64>, outcome: Outcome) -> Response {
    if let Some(refused) = unless_admin(caller) {
        return refused;
    }
    let base = context! { page => "admin", user => user(caller) };
    let accounts = &state.accounts;
    let read = async {
        let users = accounts.users().await?;
        let keys = accounts.keys(None).await?;
        let events = accounts.audit_events(EVENTS_SHOWN, before).await?;
        Ok::<_, crate::accounts::AccountsError>((users, keys, events))
    };
    match read.await {
        Ok((users, keys, events)) => {
            let next_before = (events.len() as i64 == EVENTS_SHOWN).then(|| events.last().map(|e| e.id)).flatten();
            let status = outcome.problem.as_ref().map_or(StatusCode::OK, Problem::status);
            page(
                status,
                "admin.html",
                context! {
                    error => (),
                    done => outcome.done,
                    problem => outcome.problem.as_ref().map(shown_problem),
                    csrf => cookies::cookie(headers, cookies::CSRF).unwrap_or_default(),
                    roles => value(&Role::ALL),
                    tiers => value(&TIERS),
                    users => value(&users),
                    keys => value(&keys),
                    events => value(&events),
                    next_before => next_before,
                    paged => before.is_some(),
                    audit_api => match before {
                        Some(before) => format!("/v1/audit?limit={EVENTS_SHOWN}&before={before}"),
                        None => format!("/v1/audit?limit={EVENTS_SHOWN}"),
                    },
                    ..base
                },
            )
        }
        Err(error) => {
            tracing::error!("reading the accounts for the admin page: {error}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "admin.html",
                context! { error => "The accounts database could not be read; see the server's log.", users => (), keys => (), events => (), next_before => (), ..base },
            )
        }
    }
}

/// The users table's forms: a role and a tier, or `disable`.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    role: Option<Role>,
    tier: Option<Tier>,
    disable: Option<String>,
}

/// `POST /admin/users/{user_name}`: back to the page saying it was saved (303), or the page with
/// what was refused.
pub async fn change(
    State(state): State<Arc<AppState>>,
    Viewer(caller): Viewer,
    Client(client): Client,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<UserForm>,
) -> Response {
    if let Some(refused) = unless_admin(&caller) {
        return refused;
    }
    let change = UserChange {
        role: form.role,
        tier: form.tier,
        disabled: form.disable.map(|_| true),
        email: Change::Keep,
    };
    let saved = change_user(&state, &caller, client.as_deref(), &name, &change).await;
    let said = saved.map(|user| format!("changed={}", encoded(&user.name)));
    after_form(&state, &caller, &headers, said).await
}

/// `POST /admin/keys/{key_id}/revoke`.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Viewer(caller): Viewer,
    Client(client): Client,
    headers: HeaderMap,
    Path(key_id): Path<String>,
) -> Response {
    if let Some(refused) = unless_admin(&caller) {
        return refused;
    }
    let revoked = revoke_key(&state, &caller, client.as_deref(), &key_id).await;
    let said = revoked.map(|key| format!("revoked={}", encoded(&key.prefix)));
    after_form(&state, &caller, &headers, said).await
}

/// The 403 page for anyone but an admin.
fn unless_admin(caller: &Caller) -> Option<Response> {
    (caller.user.role != Role::Admin).then(|| {
        page(
            StatusCode::FORBIDDEN,
            "admin.html",
            context! { error => "Only admins see this page.", users => (), keys => (), events => (), next_before => (), page => "admin", user => user(caller) },
        )
    })
}

/// What a form's POST answers: 303 back to the admin page with `query` saying what was done (so
/// reloading it does not send the form again), or the page with what was refused.
async fn after_form(state: &AppState, caller: &Caller, headers: &HeaderMap, done: Result<String, Problem>) -> Response {
    match done {
        Ok(query) => (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/admin?{query}"))]).into_response(),
        Err(problem) => {
            let outcome = Outcome {
                done: None,
                problem: Some(problem),
            };
            admin_page(state, caller, headers, None, outcome).await
        }
    }
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

//! `GET /admin`: the accounts as an admin sees them — users and roles, every API key, and the
//! audit log a page at a time (`?before=ID`, the address holding the place). Refused with 403
//! to anyone else by the server (the link is not shown to them either, but that is not what
//! keeps them out), as the API's `/v1/users` and `/v1/audit` are.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::render::{page, user, value};
use super::viewer::Viewer;
use crate::accounts::Role;
use crate::serve::state::AppState;

/// Audit events per page.
const EVENTS_SHOWN: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct Place {
    /// Events older than this id (the previous page's last).
    before: Option<i64>,
}

/// `GET /admin`.
pub async fn admin(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, Query(place): Query<Place>) -> Response {
    let base = context! { page => "admin", user => user(&caller) };
    if caller.user.role != Role::Admin {
        return page(
            StatusCode::FORBIDDEN,
            "admin.html",
            context! { error => "Only admins see this page.", users => (), keys => (), events => (), next_before => (), ..base },
        );
    }
    let accounts = &state.accounts;
    let read = async {
        let users = accounts.users().await?;
        let keys = accounts.keys(None).await?;
        let events = accounts.audit_events(EVENTS_SHOWN, place.before).await?;
        Ok::<_, crate::accounts::AccountsError>((users, keys, events))
    };
    match read.await {
        Ok((users, keys, events)) => {
            let next_before = (events.len() as i64 == EVENTS_SHOWN).then(|| events.last().map(|e| e.id)).flatten();
            page(
                StatusCode::OK,
                "admin.html",
                context! {
                    error => (),
                    users => value(&users),
                    keys => value(&keys),
                    events => value(&events),
                    next_before => next_before,
                    paged => place.before.is_some(),
                    audit_api => match place.before {
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

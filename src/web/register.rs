//! Signing up with a plain form (no script needed), when the server takes sign-ups
//! (`rats serve --open-registration`): the API's registration (an `api_user`, audited), then
//! signed in as by the sign-in form and back to where the person was going. A server that
//! takes none says so with 403, as `POST /v1/auth/register` does.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::render::page;
use super::signin::{Next, local_path, signed_in};
use super::viewer::to_sign_in;
use crate::serve::extract::Client;
use crate::serve::routes::auth::{audited_login, audited_registration};
use crate::serve::state::AppState;

/// `GET /register`.
pub async fn register_form(State(state): State<Arc<AppState>>, Query(next): Query<Next>) -> Response {
    register_page(&state, StatusCode::OK, &local_path(next.next.as_deref()), None, "")
}

fn register_page(state: &AppState, status: StatusCode, next: &str, error: Option<&str>, username: &str) -> Response {
    let (status, error) = if state.options.open_registration {
        (status, error)
    } else {
        (
            StatusCode::FORBIDDEN,
            Some("This server does not take sign-ups; ask its operator for an account."),
        )
    };
    page(
        status,
        "register.html",
        context! {
            page => "register",
            open => state.options.open_registration,
            min_password => crate::accounts::passwords::MIN_LENGTH,
            next => next,
            error => error,
            username => username,
            user => (),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct SignUp {
    username: String,
    password: String,
    /// The password typed again.
    repeated: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /register`: the new account, signed in, then where the person was going; otherwise
/// the form again with the reason and the name typed.
pub async fn register(State(state): State<Arc<AppState>>, Client(client): Client, Form(form): Form<SignUp>) -> Response {
    let next = local_path(form.next.as_deref());
    let again = |status, error: &str| register_page(&state, status, &next, Some(error), &form.username);
    if form.password != form.repeated {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "The two passwords differ.");
    }
    if let Err(problem) = audited_registration(&state, &form.username, &form.password, client.as_deref(), " (dashboard)").await {
        return again(problem.status(), &problem.detail);
    }
    match audited_login(&state, &form.username, &form.password, client.as_deref(), " (dashboard)").await {
        Ok(Some(session)) => signed_in(&state, &session, &next),
        // Made, but not signed in (the sign-in budget, a database hiccup): the form signs in.
        _ => to_sign_in(&next),
    }
}

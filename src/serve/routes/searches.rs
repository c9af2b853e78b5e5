//! `GET|POST /v1/searches`, `GET|PATCH|DELETE /v1/searches/{search_id}` and
//! `GET /v1/searches/{search_id}/jobs`: saved `/v1/jobs` queries, run again by id, alerting in
//! the live page and, with `email`, by mail ([`crate::serve::alerts`]). Everyone keeps their
//! own; admins also list (`?user=NAME`, `?all=true`), read, change and delete others'.
//! Another user's search answers 404 to a non-admin — the same as one that does not exist —
//! and the attempt is audited.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::accounts::searches::SavedSearch;
use crate::accounts::{AccountsError, Role, User};

use super::super::access::Caller;
use super::super::extract::{ApiJson, ApiQuery, Client};
use super::super::filter::{Filter, JobFilter};
use super::super::problem::{Problem, internal};
use super::super::state::AppState;
use super::Whose;
use super::jobs::{Paging, Sort, answer_page};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSearch {
    name: String,
    /// The `/v1/jobs` filters, by the names its query string uses.
    #[serde(default)]
    filter: Map<String, Value>,
    #[serde(default)]
    sort: Sort,
    /// Mail the search's new postings to its owner.
    #[serde(default)]
    email: bool,
}

/// What may change about a saved search.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchChange {
    email: bool,
}

/// Paging of a saved search's results; the filters and sort are the saved ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPaging {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// The stored form of a search: its filter with only the fields given, and its sort.
fn stored_query(filter: &JobFilter, sort: Sort) -> Value {
    json!({"filter": filter, "sort": sort})
}

/// The filter and sort of a stored query.
fn read_query(query: &Value) -> Result<(JobFilter, Sort), Problem> {
    let filter = serde_json::from_value(query["filter"].clone()).map_err(|e| internal("reading a saved search", &e))?;
    let sort = serde_json::from_value(query["sort"].clone()).map_err(|e| internal("reading a saved search", &e))?;
    Ok((filter, sort))
}

/// Checks a filter as `/v1/jobs` would, refusing names it does not know; errors name the
/// field as `filter.NAME`.
fn checked_filter(given: Map<String, Value>, state: &AppState) -> Result<JobFilter, Problem> {
    let in_filter = |mut problem: Problem| {
        problem.field = Some(format!("filter.{}", problem.field.unwrap_or_default()));
        problem
    };
    if let Some(unknown) = given.keys().find(|k| !JobFilter::FIELDS.contains(&k.as_str())) {
        return Err(in_filter(Problem::invalid(
            unknown.clone(),
            format!("not a filter of /v1/jobs (known: {})", JobFilter::FIELDS.join(", ")),
        )));
    }
    let filter: JobFilter = serde_path_to_error::deserialize(Value::Object(given))
        .map_err(|e| in_filter(Problem::invalid(e.path().to_string(), e.into_inner().to_string())))?;
    Filter::new(&filter, state.extractor.taxonomy()).map_err(in_filter)?;
    Ok(filter)
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiQuery(whose): ApiQuery<Whose>,
) -> Result<Json<Value>, Problem> {
    let owner = whose.owner(&state, &caller, "saved searches").await?;
    let searches = state
        .accounts
        .saved_searches(owner)
        .await
        .map_err(|e| internal("listing saved searches", &e))?;
    Ok(Json(json!({"searches": searches})))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewSearch>,
) -> Result<Response, Problem> {
    let filter = checked_filter(body.filter, &state)?;
    let mail_after = if body.email {
        Some(mail_start(&state, &caller.user)?)
    } else {
        None
    };
    let saved = state
        .accounts
        .save_search(&caller.user, &body.name, &stored_query(&filter, body.sort), mail_after)
        .await;
    match saved {
        Ok(search) => Ok((StatusCode::CREATED, Json(search)).into_response()),
        Err(AccountsError::Invalid(message)) => Err(Problem::invalid("name", message)),
        Err(error) => Err(internal("saving a search", &error)),
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(search_id): Path<String>,
) -> Result<Json<SavedSearch>, Problem> {
    visible_search(&state, &caller, client.as_deref(), &search_id, "read")
        .await
        .map(Json)
}

/// `PATCH /v1/searches/{search_id}`: turns its mail on (for postings from now on) or off.
pub async fn update(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(search_id): Path<String>,
    ApiJson(change): ApiJson<SearchChange>,
) -> Result<Json<SavedSearch>, Problem> {
    let search = visible_search(&state, &caller, client.as_deref(), &search_id, "change").await?;
    if search.email == change.email {
        return Ok(Json(search));
    }
    let mail_after = if change.email {
        let owner = state
            .accounts
            .user_by_id(search.user_id)
            .await
            .map_err(|e| internal("reading a saved search's owner", &e))?
            .ok_or_else(|| Problem::not_found("no such saved search among yours"))?;
        Some(mail_start(&state, &owner)?)
    } else {
        None
    };
    state
        .accounts
        .set_search_email(search.id, mail_after)
        .await
        .map_err(|e| internal("changing a saved search", &e))?
        .map(Json)
        .ok_or_else(|| Problem::not_found("no such saved search among yours"))
}

/// Where a search that starts mailing now starts: after the silver version the server has
/// followed to (or at its first round, before the log is read). Refused when the server sends
/// no mail or `owner` has no address to send it to.
fn mail_start(state: &AppState, owner: &User) -> Result<i64, Problem> {
    if state.options.alert_mail.is_none() {
        return Err(Problem::invalid(
            "email",
            "this server sends no mail (it runs without smtp.url); alerts show in the live page",
        ));
    }
    if owner.email.is_none() {
        return Err(Problem::invalid(
            "email",
            format!("{} has no mail address yet: set one with PATCH /v1/me {{\"email\": …}}", owner.name),
        ));
    }
    Ok(state.feed.version().unwrap_or(-1))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(search_id): Path<String>,
) -> Result<StatusCode, Problem> {
    let search = visible_search(&state, &caller, client.as_deref(), &search_id, "delete").await?;
    state
        .accounts
        .delete_saved_search(search.id)
        .await
        .map_err(|e| internal("deleting a saved search", &e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The postings the saved search keeps today, paged like `/v1/jobs`.
pub async fn run(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Client(client): Client,
    Path(search_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(paging): ApiQuery<RunPaging>,
) -> Result<Response, Problem> {
    let search = visible_search(&state, &caller, client.as_deref(), &search_id, "run").await?;
    let (filter, sort) = read_query(&search.query)?;
    let key = format!("saved-search {}?{}", search.query, uri.query().unwrap_or_default());
    let paging = Paging {
        sort,
        limit: paging.limit,
        cursor: paging.cursor,
    };
    answer_page(&state, &headers, &filter, paging, key).await
}

/// The search `search_id` when the caller may see it (their own, or any for an admin); 404
/// otherwise, auditing an attempt on another user's.
async fn visible_search(
    state: &AppState,
    caller: &Caller,
    client: Option<&str>,
    search_id: &str,
    action: &str,
) -> Result<SavedSearch, Problem> {
    let not_found = || Problem::not_found("no such saved search among yours");
    let Ok(id) = search_id.parse::<i64>() else {
        return Err(not_found());
    };
    let search = state
        .accounts
        .saved_search(id)
        .await
        .map_err(|e| internal("reading a saved search", &e))?
        .ok_or_else(not_found)?;
    if search.user_id != caller.user.id && caller.user.role != Role::Admin {
        let detail = format!("tried to {action} saved search {id} of another user");
        state
            .accounts
            .audit("denied", Some(caller.user.id), Some(&format!("search {id}")), client, &detail)
            .await;
        return Err(not_found());
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_query_reads_back_as_it_was_saved() {
        let filter = JobFilter {
            title: Some("data engineer".into()),
            salary_min: Some(120_000.0),
            ..JobFilter::default()
        };
        let stored = stored_query(&filter, Sort::Salary);
        assert_eq!(
            stored,
            json!({"filter": {"title": "data engineer", "salary_min": 120_000.0}, "sort": "salary"})
        );
        let (read, sort) = read_query(&stored).expect("reads back");
        assert_eq!((read, sort), (filter, Sort::Salary));
    }
}

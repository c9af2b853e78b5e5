//! The page handlers: sign-in (a plain form, no script needed) and the overview. A page asked
//! for without a session redirects to the sign-in page, which brings the person back.

use std::sync::{Arc, LazyLock};

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, context};
use serde::Deserialize;

use super::assets::VERSIONED;
use super::overview;
use crate::chart::draw::format_value;
use crate::chart::spec::Unit;
use crate::serve::access::Caller;
use crate::serve::cookies;
use crate::serve::extract::Client;
use crate::serve::market::Market;
use crate::serve::routes::auth::audited_login;
use crate::serve::state::AppState;

/// The dashboard's routes (method, pattern). They are not in the API's access table (nor its
/// OpenAPI document): the pages are open and send a person without a session to the sign-in
/// page themselves, instead of answering 401.
const PAGE_ROUTES: [(Method, &str); 4] = [
    (Method::GET, "/"),
    (Method::GET, "/login"),
    (Method::POST, "/login"),
    (Method::GET, "/assets/{file}"),
];

/// Whether a matched route is one of the dashboard's (HEAD as GET).
pub fn is_page(method: &Method, route: &str) -> bool {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    PAGE_ROUTES.iter().any(|(m, r)| m == method && *r == route)
}

/// No script, style or image from anywhere but this server; no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("overview.html", include_str!("templates/overview.html")),
    ] {
        environment
            .add_template(name, source)
            .unwrap_or_else(|e| panic!("the built-in template {name} does not parse: {e}"));
    }
    for (name, unit) in [("count", Unit::Count), ("usd", Unit::Usd)] {
        environment.add_filter(name, move |value: Option<f64>| {
            value.map_or_else(|| "–".to_string(), |v| format_value(v, unit))
        });
    }
    // A signed change in percent, or nothing to show.
    environment.add_filter("change", |value: Option<f64>| {
        value.map_or_else(String::new, |v| format!("{v:+.1}%"))
    });
    environment
});

/// A page from `template` with `values`, with the headers every page carries.
fn page(status: StatusCode, template: &str, values: minijinja::Value) -> Response {
    let rendered = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context! { assets => &*VERSIONED, ..values }));
    match rendered {
        Ok(html) => (
            status,
            [
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::error!("rendering {template}: {error:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; see the server's log",
            )
                .into_response()
        }
    }
}

/// Where to go after signing in: a path of this site only (no `//host` or `https://…`).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_string(),
        _ => "/".to_string(),
    }
}

fn to_sign_in(path: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// `GET /`.
pub async fn overview(State(state): State<Arc<AppState>>, caller: Option<Extension<Caller>>) -> Response {
    let Some(Extension(caller)) = caller else {
        return to_sign_in("/");
    };
    let Some(market) = state.market() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "overview.html",
            context! { page => "overview", user => minijinja::Value::from(minijinja::value::Serde(&caller.user)), lake_version => (), figures => (), chart => () },
        );
    };
    let figures = overview_of(&state, &market);
    let age_days = figures
        .newest_posting
        .map(|newest| (chrono::Utc::now().date_naive() - newest).num_days());
    // The chart's series for uPlot: Unix seconds of each week's Monday, and the counts.
    let chart = serde_json::json!([
        figures
            .weekly
            .iter()
            .map(|(_, monday, _)| monday.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()))
            .collect::<Vec<_>>(),
        figures.weekly.iter().map(|(_, _, n)| n).collect::<Vec<_>>(),
    ]);
    page(
        StatusCode::OK,
        "overview.html",
        context! {
            page => "overview",
            user => minijinja::Value::from(minijinja::value::Serde(&caller.user)),
            lake_version => market.lake_version,
            figures => minijinja::Value::from(minijinja::value::Serde(&figures)),
            age_days => age_days,
            chart => chart.to_string(),
        },
    )
}

/// The overview's figures at the snapshot's lake version: computed once per version and kept in
/// the snapshot's answer cache, as the API's stats are.
fn overview_of(state: &AppState, market: &Market) -> overview::Overview {
    const KEY: &str = "web/overview";
    if let Some(figures) = market.cached(KEY).and_then(|kept| serde_json::from_slice(&kept.body).ok()) {
        return figures;
    }
    let taxonomy = state.extractor.taxonomy();
    let figures = overview::compute(&market.jobs, |id| taxonomy.get(id).map(|s| s.name.clone()));
    if let Ok(body) = serde_json::to_vec(&figures) {
        market.keep(KEY.to_string(), body.into());
    }
    figures
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /login`.
pub async fn login_form(Query(next): Query<Next>) -> Response {
    sign_in_page(StatusCode::OK, &local_path(next.next.as_deref()), None, "")
}

fn sign_in_page(status: StatusCode, next: &str, error: Option<&str>, username: &str) -> Response {
    page(
        status,
        "login.html",
        context! { page => "login", next => next, error => error, username => username, user => () },
    )
}

/// The sign-in form again when the address has spent its sign-in budget (429, `Retry-After`).
pub fn too_many_sign_ins(retry_after: u64) -> Response {
    let message = format!("Too many sign-in attempts from this address; try again in {retry_after} s.");
    let mut response = sign_in_page(StatusCode::TOO_MANY_REQUESTS, "/", Some(&message), "");
    if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
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
        Ok(Some(session)) => {
            let csrf = state.accounts.csrf_token(&session.session_id);
            let mut response = Redirect::to(&next).into_response();
            for value in cookies::for_session(&session, &csrf) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        // 200: the form again, with the reason (a 401 would need an HTTP authentication scheme
        // to name, and browsers log it as a failed load).
        Ok(None) => sign_in_page(
            StatusCode::OK,
            &next,
            Some("The user name or the password is wrong."),
            &form.username,
        ),
        Err(error) => {
            tracing::error!("signing in: {error}");
            sign_in_page(
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

    #[test]
    fn every_template_parses() {
        for name in ["base.html", "login.html", "overview.html"] {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }
}

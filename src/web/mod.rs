//! The dashboard: server-rendered pages of `rats serve` on the same port, the same accounts and
//! the same lake snapshot as the API. Pages are minijinja templates compiled into the binary;
//! the CSS, our small script and the vendored chart library (uPlot, `scripts/vendor-web`) are
//! served from memory under `/assets/`. Every page works without JavaScript except the
//! zoomable chart (whose numbers are in a table beside it) and signing out. A page's state
//! (filters, order, page) is its query string, so a link reproduces the view.

mod admin;
mod assets;
mod boxplot;
mod chart;
mod companies;
mod filtered;
mod filters;
mod health;
mod jobs;
mod kept;
mod live;
mod matching;
mod overview;
mod page_tables;
mod query;
mod register;
pub mod render;
mod salary;
mod signin;
mod skills;
mod trends;
mod viewer;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post};

use crate::serve::extract::BodyLimit;
use crate::serve::state::AppState;

/// The dashboard's routes (method, pattern). They are not in the API's access table (nor its
/// OpenAPI document): the pages are open and send a person without a session to the sign-in
/// page themselves, instead of answering 401.
const PAGE_ROUTES: [(Method, &str); 23] = [
    (Method::GET, "/"),
    (Method::GET, viewer::RENEW),
    (Method::GET, "/login"),
    (Method::POST, "/login"),
    (Method::GET, "/register"),
    (Method::POST, "/register"),
    (Method::GET, "/trends"),
    (Method::GET, "/live"),
    (Method::GET, "/jobs"),
    (Method::GET, "/jobs/{posting_key}"),
    (Method::GET, "/salary"),
    (Method::GET, "/salary/estimate"),
    (Method::GET, "/skills"),
    (Method::GET, "/skills/{skill_id}"),
    (Method::GET, "/companies"),
    (Method::GET, "/companies/{company_key}"),
    (Method::GET, "/match"),
    (Method::POST, "/match"),
    (Method::GET, "/data-health"),
    (Method::GET, "/admin"),
    (Method::POST, "/admin/users/{user_name}"),
    (Method::POST, "/admin/keys/{key_id}/revoke"),
    (Method::GET, "/assets/{file}"),
];

/// Whether a matched route is one of the dashboard's (HEAD as GET).
pub fn is_page(method: &Method, route: &str) -> bool {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    PAGE_ROUTES.iter().any(|(m, r)| m == method && *r == route)
}

/// Whether a page's POST spends the caller's rate budget as the API route it stands for does.
pub fn spends_budget(route: &str) -> bool {
    matches!(
        route,
        "/login" | "/register" | "/match" | "/admin/users/{user_name}" | "/admin/keys/{key_id}/revoke"
    )
}

/// The page a POST over the budget gets: the sign-in form, or a plain note, with 429 and
/// `Retry-After`.
pub fn too_many_requests(state: &AppState, route: &str, retry_after: u64) -> axum::response::Response {
    use axum::response::IntoResponse;
    if route == "/login" {
        return signin::too_many_sign_ins(state, retry_after);
    }
    let mut response = (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        format!("Too many requests; try again in {retry_after} s."),
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

/// The dashboard's routes, merged into the API's router. `POST /match` takes uploads as large as
/// `POST /v1/match/jobs` does.
pub fn routes(upload_limit: usize) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/login", get(signin::login_form).post(signin::login))
        .route("/register", get(register::register_form).post(register::register))
        .route(viewer::RENEW, get(viewer::renew))
        .route("/trends", get(trends::trends))
        .route("/live", get(live::live))
        .route("/jobs", get(jobs::search))
        .route("/jobs/{posting_key}", get(jobs::posting))
        .route("/salary", get(salary::distribution))
        .route("/salary/estimate", get(salary::estimate))
        .route("/skills", get(skills::skills))
        .route("/skills/{skill_id}", get(skills::skill))
        .route("/companies", get(companies::list))
        .route("/companies/{company_key}", get(companies::company))
        .route(
            "/match",
            get(matching::form_page)
                .post(matching::upload)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(upload_limit))
                .layer::<_, std::convert::Infallible>(axum::Extension(BodyLimit(upload_limit))),
        )
        .route("/data-health", get(health::data_health))
        .route("/admin", get(admin::admin))
        .route("/admin/users/{user_name}", post(admin::change))
        .route("/admin/keys/{key_id}/revoke", post(admin::revoke))
        .route("/assets/{file}", get(assets::serve))
}

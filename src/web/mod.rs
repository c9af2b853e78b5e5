//! The dashboard: server-rendered pages of `rats serve` on the same port, the same accounts and
//! the same lake snapshot as the API. Pages are minijinja templates compiled into the binary;
//! the CSS, our small script and the vendored chart library (uPlot, `scripts/vendor-web`) are
//! served from memory under `/assets/`. Every page works without JavaScript except the
//! zoomable chart (whose numbers are in a table beside it) and signing out. A page's state
//! (filters, order, page) is its query string, so a link reproduces the view.

mod admin;
mod assets;
mod boxplot;
mod filters;
mod health;
mod jobs;
mod kept;
mod overview;
mod query;
mod render;
mod salary;
mod signin;
mod skills;
mod viewer;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use axum::routing::get;

use crate::serve::state::AppState;

pub use signin::too_many_sign_ins;

/// The dashboard's routes (method, pattern). They are not in the API's access table (nor its
/// OpenAPI document): the pages are open and send a person without a session to the sign-in
/// page themselves, instead of answering 401.
const PAGE_ROUTES: [(Method, &str); 13] = [
    (Method::GET, "/"),
    (Method::GET, viewer::RENEW),
    (Method::GET, "/login"),
    (Method::POST, "/login"),
    (Method::GET, "/jobs"),
    (Method::GET, "/jobs/{posting_key}"),
    (Method::GET, "/salary"),
    (Method::GET, "/salary/estimate"),
    (Method::GET, "/skills"),
    (Method::GET, "/skills/{skill_id}"),
    (Method::GET, "/data-health"),
    (Method::GET, "/admin"),
    (Method::GET, "/assets/{file}"),
];

/// Whether a matched route is one of the dashboard's (HEAD as GET).
pub fn is_page(method: &Method, route: &str) -> bool {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    PAGE_ROUTES.iter().any(|(m, r)| m == method && *r == route)
}

/// The dashboard's routes, merged into the API's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/login", get(signin::login_form).post(signin::login))
        .route(viewer::RENEW, get(viewer::renew))
        .route("/jobs", get(jobs::search))
        .route("/jobs/{posting_key}", get(jobs::posting))
        .route("/salary", get(salary::distribution))
        .route("/salary/estimate", get(salary::estimate))
        .route("/skills", get(skills::skills))
        .route("/skills/{skill_id}", get(skills::skill))
        .route("/data-health", get(health::data_health))
        .route("/admin", get(admin::admin))
        .route("/assets/{file}", get(assets::serve))
}

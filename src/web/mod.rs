//! The dashboard: server-rendered pages of `rats serve` on the same port, the same accounts and
//! the same lake snapshot as the API. Pages are minijinja templates compiled into the binary;
//! the CSS, our small script and the vendored chart library (uPlot, `scripts/vendor-web`) are
//! served from memory under `/assets/`. Every page works without JavaScript except the
//! zoomable chart (whose numbers are in a table beside it) and signing out.

mod assets;
mod overview;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::serve::state::AppState;

pub use pages::{is_page, too_many_sign_ins};

/// The dashboard's routes, merged into the API's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(pages::overview))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/assets/{file}", get(assets::serve))
}

//! The dashboard's static files, compiled into the binary and served with a year's immutable
//! caching: pages link them as `/assets/NAME?v=HASH`, so a new build changes the address.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Name, media type, bytes.
const FILES: [(&str, &str, &[u8]); 7] = [
    ("favicon.svg", "image/svg+xml", include_bytes!("../../assets/web/favicon.svg")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../assets/web/app.css")),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/app.js"),
    ),
    (
        "chart-files.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/chart-files.js"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/live.js"),
    ),
    (
        "uPlot.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/web/vendor/uplot/uPlot.min.css"),
    ),
];

/// Each file's address with its content hash, for the templates (`assets["app.css"]`).
pub static VERSIONED: LazyLock<std::collections::BTreeMap<&'static str, String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, _, bytes)| {
            let digest = Sha256::digest(bytes);
            (*name, format!("/assets/{name}?v={}", crate::normalize::hex(&digest[..6])))
        })
        .collect()
});

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

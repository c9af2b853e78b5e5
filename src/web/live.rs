//! `GET /live`: the live feed. The server renders the newest postings the filters keep and the
//! live figures (jobs per hour, the newest postings' skills and pay) as they are now, and names
//! the place in the log they reach; the page's script then follows `GET /v1/stream` from that
//! place — the same filters, no gap, no repeat — in a virtualised list, reconnecting with
//! backoff, and shows the caller's saved-search alerts; a search saved here may also mail its
//! new postings when the server has a mail server. Without script the page is a snapshot.

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filtered::FilteredPage;
use super::filters::filter_of;
use super::page_tables::PageTable;
use super::viewer::Viewer;
use crate::serve::state::AppState;

/// Postings the page renders; the stream adds the rest.
const SHOWN: usize = 50;

#[derive(Debug, Serialize, Deserialize)]
struct LivePage {
    /// Newest first, each as the stream's `posting` event.
    postings: Vec<Value>,
    /// The place the stream resumes from (`None` before the log has been read).
    place: Option<String>,
    /// The `ingest`, `skills` and `salary` events' data.
    ingest: Value,
    skills: Value,
    salary: Value,
    /// The pay table: a row per percentile, the newest postings' and the market's.
    pay: Vec<Value>,
    /// Whether saved searches may mail their new postings (the server has a mail server).
    mails: bool,
}

/// The rows of the pay table from the `salary` event's data.
fn pay_rows(salary: &Value) -> Vec<Value> {
    const ROWS: [(&str, &str); 6] = [
        ("p10", "10th"),
        ("p25", "25th"),
        ("median", "median"),
        ("p75", "75th"),
        ("p90", "90th"),
        ("postings_with_pay", "postings with pay"),
    ];
    ROWS.iter()
        .map(|(key, label)| serde_json::json!({"row": label, "newest": salary["newest"][key], "market": salary["market"][key]}))
        .collect()
}

/// `GET /live`.
pub async fn live(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const PAGE: FilteredPage = FilteredPage {
        path: "/live",
        nav: "live",
        template: "live.html",
        api: "/v1/stream",
        extra_fields: &[],
        tables: &[
            PageTable::new("postings", "/postings"),
            PageTable::new("hours", "/ingest/hours"),
            PageTable::new("skills", "/skills/skills"),
            PageTable::new("pay", "/pay"),
        ],
        kept: false,
    };
    PAGE.render(
        &state,
        &caller,
        &uri,
        |query, taxonomy, _| filter_of(query, taxonomy),
        |state, _, filter| {
            let Some((place, recent, figures)) = state.feed.now() else {
                return LivePage {
                    postings: Vec::new(),
                    place: None,
                    ingest: Value::Null,
                    skills: Value::Null,
                    salary: Value::Null,
                    pay: Vec::new(),
                    mails: state.options.alert_mail.is_some(),
                };
            };
            let postings = recent
                .iter()
                .rev()
                .filter(|p| filter.keeps(&p.job, &p.search_text))
                .take(SHOWN)
                .filter_map(|p| serde_json::from_str(&p.json).ok())
                .collect();
            let [ingest, skills, salary] = figures
                .events
                .clone()
                .map(|(_, data)| serde_json::from_str(&data).unwrap_or(Value::Null));
            LivePage {
                postings,
                place: Some(place.to_string()),
                ingest,
                skills,
                pay: pay_rows(&salary),
                salary,
                mails: state.options.alert_mail.is_some(),
            }
        },
    )
    .await
}

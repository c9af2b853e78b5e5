//! What the pages over the postings the filter form keeps (salary, skills, trends, companies)
//! share: the tidy address, the form filled in again as sent, 503 before the lake is read, a
//! refused filter shown on the form with the API's status, and the figures computed once per
//! lake version and query.

use std::sync::Arc;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::filters::{choices, filtering, form_values};
use super::kept::kept;
use super::page_tables::{self, PageTable};
use super::query::{address, tidy};
use super::render::{page, problem as shown_problem, user, value};
use crate::serve::access::Caller;
use crate::serve::market::Market;
use crate::serve::problem::Problem;
use crate::serve::state::AppState;
use crate::skills::Taxonomy;

/// One such page.
pub struct FilteredPage {
    /// The page's path, which its form sends to.
    pub path: &'static str,
    /// The navigation entry it belongs to.
    pub nav: &'static str,
    pub template: &'static str,
    /// The API route answering the same query, linked from the page.
    pub api: &'static str,
    /// The page's own fields beside the filter's (the form shows them empty when absent).
    pub extra_fields: &'static [&'static str],
    /// The page's tables, downloadable with `table=NAME&format=…`.
    pub tables: &'static [PageTable],
    /// Whether the figures are kept per lake version and query (on the blocking pool); the live
    /// page's move between versions and are cheap, so it computes them on every request.
    pub kept: bool,
}

impl FilteredPage {
    /// The page for `uri`: `parse` checks its query (the filter and the page's own fields) as
    /// the API would, against the lake snapshot about to be shown, and `compute` works out the figures the template shows as `found`.
    pub async fn render<P, T>(
        &self,
        state: &Arc<AppState>,
        caller: &Caller,
        uri: &Uri,
        parse: impl FnOnce(&str, &Taxonomy, &Market) -> Result<P, Problem>,
        compute: impl FnOnce(&AppState, &Market, P) -> T + Send + 'static,
    ) -> Response
    where
        P: Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        let query = match tidy(self.path, uri) {
            Ok(query) => query,
            Err(redirect) => return redirect,
        };
        let (asked, query) = match page_tables::asked(&query) {
            Ok(asked) => asked,
            Err(refused) => return refused.into_response(),
        };
        let form = context! {
            page => self.nav,
            user => user(caller),
            fields => form_values(&query, self.extra_fields),
            // The filter box opens when a filter is set (the page's own fields are not filters).
            filtered => filtering(&query),
            choices => value(&choices()),
            api => address(self.api, &query),
            query => query.clone(),
        };
        let market = match state.market_or_503() {
            Ok(market) => market,
            Err(problem) if asked.is_some() => return problem.into_response(),
            Err(_) => {
                return page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    self.template,
                    context! { lake_version => (), found => (), error => (), ..form },
                );
            }
        };
        let parsed = match parse(&query, state.extractor.taxonomy(), &market) {
            Ok(parsed) => parsed,
            Err(problem) if asked.is_some() => return problem.into_response(),
            Err(problem) => {
                return page(
                    problem.status(),
                    self.template,
                    context! { lake_version => market.lake_version, found => (), error => shown_problem(&problem), ..form },
                );
            }
        };
        let found = if self.kept {
            let key = format!("{}?{query}", self.path.trim_start_matches('/'));
            kept(state, &market, &key, move |state, market| compute(state, market, parsed)).await
        } else {
            Ok(compute(state, &market, parsed))
        };
        match found {
            Ok(found) if let Some(asked) = &asked => {
                let figures = serde_json::to_value(&found).unwrap_or_default();
                page_tables::answer(asked, self.tables, &figures, self.path, &query, Some(market.lake_version))
            }
            Ok(found) => page(
                StatusCode::OK,
                self.template,
                context! { lake_version => market.lake_version, found => value(&found), error => (), ..form },
            ),
            Err(failed) => failed,
        }
    }
}

//! `GET /salary`: pay over the postings the filters keep, by title family, place, seniority and
//! years of experience, and the skills the salary model finds adding or taking most.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::serve::filter::Filter;
use crate::serve::market::{Job, Market};
use crate::serve::routes::stats::{self, Dimension};
use crate::serve::state::AppState;
use crate::skills::Taxonomy;
use crate::web::boxplot::{BoxPlot, box_plot, five_numbers};
use crate::web::filtered::FilteredPage;
use crate::web::filters::{choices, filter_of};
use crate::web::page_tables::PageTable;
use crate::web::viewer::Viewer;

/// Groups shown per breakdown, the most postings with pay first.
const GROUPS_SHOWN: usize = 12;
/// Groups with fewer postings with pay have no box (their percentiles would say little).
const MIN_POSTINGS: usize = 5;
/// Skills listed at each end of the premiums.
const PREMIUMS_SHOWN: usize = 10;

#[derive(Debug, Serialize, Deserialize)]
struct Breakdown {
    /// The heading's words (`title family`).
    name: String,
    /// The API's name of the grouping (`/v1/stats/salary?by=…`).
    by: String,
    plot: BoxPlot,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Premium {
    skill_id: String,
    skill: String,
    usd: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Distribution {
    postings: usize,
    with_pay: usize,
    /// P10, P25, median, P75, P90 over every kept posting with pay.
    overall: Option<[f64; 5]>,
    breakdowns: Vec<Breakdown>,
    /// The largest premiums and the largest discounts, market-wide.
    premiums_up: Vec<Premium>,
    premiums_down: Vec<Premium>,
}

/// Pay grouped by `group_of`; the largest groups (by postings with pay) when `ordered` is
/// `None`, else the groups named there, in its order.
fn breakdown(jobs: &[(&Job, f64)], group_of: impl Fn(&Job) -> Option<String>, ordered: Option<&[&str]>) -> BoxPlot {
    let mut groups: HashMap<String, Vec<f64>> = HashMap::new();
    for (job, pay) in jobs {
        if let Some(group) = group_of(job) {
            groups.entry(group).or_default().push(*pay);
        }
    }
    let mut groups: Vec<(String, Vec<f64>)> = groups.into_iter().filter(|(_, pay)| pay.len() >= MIN_POSTINGS).collect();
    if let Some(order) = ordered {
        groups.sort_by_key(|(name, _)| order.iter().position(|o| o == name));
    } else {
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        groups.truncate(GROUPS_SHOWN);
    }
    box_plot(groups)
}

fn premiums(market: &Market, taxonomy: &Taxonomy) -> (Vec<Premium>, Vec<Premium>) {
    let mut all: Vec<Premium> = market
        .premiums
        .iter()
        .map(|(id, usd)| Premium {
            skill_id: id.clone(),
            skill: taxonomy.get(id).map_or_else(|| id.clone(), |s| s.name.clone()),
            usd: usd.round(),
        })
        .collect();
    all.sort_by(|a, b| b.usd.total_cmp(&a.usd).then_with(|| a.skill.cmp(&b.skill)));
    let down: Vec<Premium> = all.iter().rev().filter(|p| p.usd < 0.0).take(PREMIUMS_SHOWN).cloned().collect();
    all.truncate(PREMIUMS_SHOWN);
    all.retain(|p| p.usd > 0.0);
    (all, down)
}

fn compute(market: &Market, filter: &Filter, taxonomy: &Taxonomy) -> Distribution {
    let kept: Vec<&Job> = stats::kept(market, filter).collect();
    let paid: Vec<(&Job, f64)> = kept.iter().filter_map(|job| job.salary_mid_usd().map(|pay| (*job, pay))).collect();
    let seniorities: Vec<&str> = choices().seniorities;
    let bands: Vec<&str> = stats::EXPERIENCE_BANDS.iter().map(|(_, _, name)| *name).collect();
    let mut breakdowns = Vec::new();
    if market.tables.occupations.is_some() {
        breakdowns.push(("title family", Dimension::TitleFamily, None));
    }
    breakdowns.extend([
        ("place", Dimension::Place, None),
        ("seniority", Dimension::Seniority, Some(&seniorities)),
        ("years of experience asked for", Dimension::Experience, Some(&bands)),
    ]);
    let (premiums_up, premiums_down) = premiums(market, taxonomy);
    Distribution {
        postings: kept.len(),
        with_pay: paid.len(),
        overall: five_numbers(paid.iter().map(|(_, pay)| *pay).collect()),
        breakdowns: breakdowns
            .into_iter()
            .map(|(name, by, ordered)| Breakdown {
                name: name.to_string(),
                by: by.name(),
                plot: breakdown(&paid, |job| by.of(job).map(String::from), ordered.map(Vec::as_slice)),
            })
            .collect(),
        premiums_up,
        premiums_down,
    }
}

/// `GET /salary`.
pub async fn distribution(State(state): State<Arc<AppState>>, Viewer(caller): Viewer, uri: Uri) -> Response {
    const PAGE: FilteredPage = FilteredPage {
        path: "/salary",
        nav: "salary",
        template: "salary.html",
        api: "/v1/stats/salary",
        extra_fields: &[],
        tables: &[
            PageTable::new("premiums-up", "/premiums_up"),
            PageTable::new("premiums-down", "/premiums_down"),
        ],
        kept: true,
    };
    PAGE.render(
        &state,
        &caller,
        &uri,
        |query, taxonomy, _| filter_of(query, taxonomy),
        |state, market, filter| compute(market, &filter, state.extractor.taxonomy()),
    )
    .await
}

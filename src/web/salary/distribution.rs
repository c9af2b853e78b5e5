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
use crate::serve::routes::stats;
use crate::serve::state::AppState;
use crate::skills::Taxonomy;
use crate::web::boxplot::{BoxPlot, box_plot, five_numbers};
use crate::web::filtered::FilteredPage;
use crate::web::filters::{choices, filter_of};
use crate::web::viewer::Viewer;

/// Groups shown per breakdown, the most postings with pay first.
const GROUPS_SHOWN: usize = 12;
/// Groups with fewer postings with pay have no box (their percentiles would say little).
const MIN_POSTINGS: usize = 5;
/// Skills listed at each end of the premiums.
const PREMIUMS_SHOWN: usize = 10;

/// Years of experience as the breakdown groups them.
const EXPERIENCE_BANDS: [(i32, i32, &str); 7] = [
    (0, 0, "0 years"),
    (1, 1, "1 year"),
    (2, 2, "2 years"),
    (3, 4, "3–4 years"),
    (5, 6, "5–6 years"),
    (7, 9, "7–9 years"),
    (10, i32::MAX, "10 years or more"),
];

#[derive(Debug, Serialize, Deserialize)]
struct Breakdown {
    /// The heading's words (`title family`).
    name: String,
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

fn experience_band(years: i32) -> Option<&'static str> {
    EXPERIENCE_BANDS
        .iter()
        .find(|(low, high, _)| (*low..=*high).contains(&years))
        .map(|(_, _, name)| *name)
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
    let bands: Vec<&str> = EXPERIENCE_BANDS.iter().map(|(_, _, name)| *name).collect();
    let mut breakdowns = Vec::new();
    if market.tables.occupations.is_some() {
        breakdowns.push(("title family", breakdown(&paid, |j| j.title_family.clone(), None)));
    }
    breakdowns.extend([
        ("place", breakdown(&paid, Job::place, None)),
        ("seniority", breakdown(&paid, |j| j.seniority.clone(), Some(&seniorities))),
        (
            "years of experience asked for",
            breakdown(
                &paid,
                |j| j.min_years_experience.and_then(experience_band).map(String::from),
                Some(&bands),
            ),
        ),
    ]);
    let (premiums_up, premiums_down) = premiums(market, taxonomy);
    Distribution {
        postings: kept.len(),
        with_pay: paid.len(),
        overall: five_numbers(paid.iter().map(|(_, pay)| *pay).collect()),
        breakdowns: breakdowns
            .into_iter()
            .map(|(name, plot)| Breakdown {
                name: name.to_string(),
                plot,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_of_years_falls_in_exactly_one_band() {
        for years in 0..60 {
            let bands = EXPERIENCE_BANDS.iter().filter(|(l, h, _)| (*l..=*h).contains(&years)).count();
            assert_eq!(bands, 1, "{years}");
        }
        assert_eq!(experience_band(4), Some("3–4 years"));
        assert_eq!(experience_band(-1), None);
    }
}

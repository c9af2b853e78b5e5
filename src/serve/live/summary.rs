//! What the feed says about the newest postings as a whole, sent after every commit: the skills
//! they ask for most, against how often the whole market asks for them, and their pay against
//! the market's. "Newest" is the last [`WINDOW`] postings in log order, so the figures move
//! with the stream whatever its pace and exist as soon as the lake holds postings.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::skills::Taxonomy;

use super::super::market::Job;
use super::super::routes::stats::pay_summary;

/// Postings the live figures cover.
pub const WINDOW: usize = 1_000;
/// Skills the `skills` event lists.
const TOP_SKILLS: usize = 10;
/// Width of the pay histogram's bars, in yearly USD; the last bar holds everything above.
const PAY_BIN: f64 = 25_000.0;
const PAY_BINS: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendingSkill {
    pub id: String,
    pub name: String,
    /// Newest postings naming it.
    pub postings: usize,
    /// Its share of the newest postings.
    pub share: f64,
    /// Its share of every posting of the lake snapshot (`None` before the snapshot is read).
    pub market_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trending {
    /// Postings counted (at most [`WINDOW`]).
    pub postings: usize,
    pub skills: Vec<TrendingSkill>,
}

/// The skills `window` asks for most, most first (ties by id), each with its market share.
pub fn trending(window: &[&Job], market: &[Job], taxonomy: &Taxonomy) -> Trending {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for job in window {
        for id in &job.skill_ids {
            *counts.entry(id).or_default() += 1;
        }
    }
    let mut top: Vec<(&str, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(TOP_SKILLS);
    let share = |count: usize, of: usize| (of > 0).then(|| count as f64 / of as f64);
    let skills = top
        .into_iter()
        .map(|(id, postings)| TrendingSkill {
            id: id.to_string(),
            name: taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone()),
            postings,
            share: share(postings, window.len()).unwrap_or_default(),
            market_share: share(market.iter().filter(|j| j.skill_ids.iter().any(|s| s == id)).count(), market.len()),
        })
        .collect();
    Trending {
        postings: window.len(),
        skills,
    }
}

/// Pay of the newest postings and of the market: percentiles and a histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Salary {
    pub newest: Value,
    pub market: Value,
    /// Each bar: lower bound (yearly USD) and the newest postings' and the market's counts.
    pub histogram: Vec<Bar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bar {
    pub from: f64,
    pub newest: usize,
    pub market: usize,
}

/// The pay figures of `window` against `market`.
pub fn salary(window: &[&Job], market: &[Job]) -> Salary {
    let newest: Vec<f64> = window.iter().filter_map(|j| j.salary_mid_usd()).collect();
    let every: Vec<f64> = market.iter().filter_map(Job::salary_mid_usd).collect();
    let bin = |pay: f64| ((pay / PAY_BIN).floor().max(0.0) as usize).min(PAY_BINS - 1);
    let mut histogram: Vec<Bar> = (0..PAY_BINS)
        .map(|i| Bar {
            from: i as f64 * PAY_BIN,
            newest: 0,
            market: 0,
        })
        .collect();
    for pay in &newest {
        histogram[bin(*pay)].newest += 1;
    }
    for pay in &every {
        histogram[bin(*pay)].market += 1;
    }
    Salary {
        newest: pay_summary(newest),
        market: pay_summary(every),
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(skills: &[&str], pay: Option<f64>) -> Job {
        let mut job = Job::for_test("k", "2026-11-30");
        job.skill_ids = skills.iter().map(ToString::to_string).collect();
        job.salary_min_usd = pay;
        job.salary_max_usd = pay;
        job
    }

    #[test]
    fn the_newest_postings_skills_are_ranked_with_their_market_share() {
        let taxonomy = crate::skills::Taxonomy::built_in().expect("taxonomy");
        let market = vec![job(&["python", "sql"], None), job(&["sql"], None), job(&[], None), job(&[], None)];
        let window: Vec<&Job> = market.iter().take(2).collect();
        let trending = trending(&window, &market, &taxonomy);
        assert_eq!(trending.postings, 2);
        let names: Vec<(&str, usize, f64, Option<f64>)> = trending
            .skills
            .iter()
            .map(|s| (s.id.as_str(), s.postings, s.share, s.market_share))
            .collect();
        assert_eq!(names, [("sql", 2, 1.0, Some(0.5)), ("python", 1, 0.5, Some(0.25))]);
        assert_eq!(trending.skills[1].name, "Python");
        assert_eq!(super::trending(&[], &[], &taxonomy).skills, []);
    }

    #[test]
    fn pay_is_summarised_and_binned_with_the_top_bar_open() {
        let market = vec![job(&[], Some(60_000.0)), job(&[], Some(1_000_000.0)), job(&[], None)];
        let window: Vec<&Job> = market.iter().take(1).collect();
        let salary = salary(&window, &market);
        assert_eq!(salary.newest["postings_with_pay"], 1);
        assert_eq!(salary.market["postings_with_pay"], 2);
        assert_eq!(salary.histogram.len(), PAY_BINS);
        assert_eq!(
            (salary.histogram[2].newest, salary.histogram[2].market),
            (1, 1),
            "$60k is in $50k–75k"
        );
        assert_eq!(salary.histogram[PAY_BINS - 1].market, 1, "a million is in the open top bar");
    }
}

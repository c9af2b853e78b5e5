//! One résumé against many postings: every posting scored, the best explained (matched and
//! missing skills, related skills the résumé has instead, the years asked), and skill-gap
//! advice from the market — which missing skill would make the résumé fit the most more of
//! these postings, and what the salary model says it is worth.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::datatypes::Float64Type;
use rayon::prelude::*;
use serde::Serialize;

use super::MatchError;
use super::candidates::Candidate;
use super::features::{self, JobIndex, NAMES, ResumeQuery, relative};
use super::profile::{JobProfile, ResumeProfile};
use super::scorer::Scorer;
use crate::ml::salary::premiums;
use crate::ml::top::top_n;
use crate::skills::Taxonomy;

/// A score at or above this (the model's probability of a match is one half) is a fit: what
/// the advice counts.
pub const FIT: f64 = 50.0;
/// Below a fit, a score at or above this (one chance in four) reads as a partial fit; under
/// it, as a poor fit (a nurse's résumé scores about 1 against a data engineering posting).
const PARTIAL_FIT: f64 = 25.0;
/// Missing skills of this many best-ranked postings are the advice's candidates.
const ADVICE_POOL: usize = 25;
const ADVICE_SKILLS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct RankedJob {
    pub rank: usize,
    pub posting_key: String,
    pub source_job_id: Option<String>,
    pub title: String,
    pub company: Option<String>,
    pub location: Option<String>,
    pub remote_type: Option<String>,
    pub salary_usd: Option<(f64, f64)>,
    /// 0–100: the probability that the résumé fits, as the scorer learned it.
    pub score: f64,
    /// The features behind the score, by name.
    pub signals: BTreeMap<&'static str, f32>,
    pub matched_skills: Vec<String>,
    /// Skills the posting names and the résumé lacks, the most specific (rarest) first.
    pub missing_skills: Vec<String>,
    /// `(wanted, has instead)`: partial credit from the taxonomy.
    pub related_skills: Vec<(String, String)>,
    /// Missing skills any one of which, added to the résumé, makes the posting a fit (empty
    /// when it already is one, or when no single skill is enough), in the order of
    /// `missing_skills`.
    pub would_fit_with: Vec<String>,
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub skill_id: String,
    pub skill: String,
    /// Postings considered that name the skill and that the résumé lacks it for.
    pub postings_asking: usize,
    /// Postings that would score a fit (≥ 50) with the skill added and do not now.
    pub more_fits: usize,
    /// The salary model's market-wide median premium for the skill, when the lake has it.
    pub premium_usd_median: Option<f64>,
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub considered: usize,
    /// Postings scoring a fit.
    pub fits: usize,
    pub jobs: Vec<RankedJob>,
    pub advice: Vec<Advice>,
}

/// Everything a ranking reads, prepared by the caller: the postings' side (`candidates`,
/// `profiles` and their `index`, in one order) once for any number of résumés.
pub struct Inputs<'a> {
    pub scorer: &'a Scorer,
    pub taxonomy: &'a Taxonomy,
    pub resume: &'a ResumeProfile,
    pub resume_vector: &'a [f32],
    pub candidates: &'a [Candidate],
    pub profiles: &'a [JobProfile],
    pub index: &'a JobIndex,
    /// Market-wide median skill premiums in US dollars, by skill id.
    pub premiums: &'a HashMap<String, f64>,
    /// The postings to rank (indices into `candidates`, ascending), when a filter keeps only
    /// some; `None` ranks them all. The others are not scored, counted or advised on, and the
    /// scores of those kept are the same as in a ranking of all.
    pub only: Option<&'a [usize]>,
}

impl Inputs<'_> {
    /// Whether `posting` scores as a fit for `query` (the résumé, or the résumé with a skill
    /// added).
    fn fits(&self, query: &ResumeQuery, posting: usize) -> bool {
        self.scorer.score(&self.index.features(query, posting)) >= FIT
    }

    /// A skill's display name (its id when the taxonomy lacks it).
    fn skill_name(&self, id: &str) -> String {
        self.taxonomy.get(id).map_or_else(|| id.to_string(), |s| s.name.clone())
    }
}

/// One posting scored and explained for the résumé as a ranking explains it, without the
/// market advice a ranking adds: `rats match --job … --resumes` asks this of each résumé.
pub fn explain_posting(inputs: &Inputs, posting: usize) -> RankedJob {
    let query = inputs.index.resume(inputs.resume, inputs.resume_vector, inputs.taxonomy);
    let features = inputs.index.features(&query, posting);
    let score = inputs.scorer.score(&features);
    explain(
        1,
        &inputs.candidates[posting],
        &inputs.profiles[posting],
        (score, features),
        (&query, posting),
        inputs,
    )
}

pub fn rank(inputs: &Inputs, top: usize) -> Ranking {
    let index = inputs.index;
    let query = index.resume(inputs.resume, inputs.resume_vector, inputs.taxonomy);
    let pool: Vec<usize> = inputs.only.map_or_else(|| (0..index.len()).collect(), <[usize]>::to_vec);
    // Postings outside the pool keep a score no threshold reaches.
    let mut scores = vec![f64::NEG_INFINITY; index.len()];
    // Every posting is scored on its own: a request spreads them over the cores.
    let pooled: Vec<f64> = pool.par_iter().map(|&i| inputs.scorer.score(&index.features(&query, i))).collect();
    for (&i, score) in pool.iter().zip(pooled) {
        scores[i] = score;
    }
    // Best first, ties in posting-key order; only the best few are shown or advised on.
    let best_first = |a: &usize, b: &usize| {
        scores[*b]
            .total_cmp(&scores[*a])
            .then_with(|| inputs.candidates[*a].posting_key.cmp(&inputs.candidates[*b].posting_key))
    };
    let considered = pool.len();
    let order = top_n(pool, top.max(ADVICE_POOL), best_first);
    let ranked: Vec<RankedJob> = order
        .iter()
        .take(top)
        .enumerate()
        .map(|(position, &i)| {
            explain(
                position + 1,
                &inputs.candidates[i],
                &inputs.profiles[i],
                (scores[i], index.features(&query, i)),
                (&query, i),
                inputs,
            )
        })
        .collect();
    let advice = advise(inputs, &query, &scores, &order);
    Ranking {
        considered,
        fits: scores.iter().filter(|&&s| s >= FIT).count(),
        jobs: ranked,
        advice,
    }
}

fn missing_by_importance(job: &JobProfile, resume: &ResumeProfile, index: &JobIndex) -> Vec<String> {
    let mut missing: Vec<&String> = job.skills.iter().filter(|id| !resume.skills.contains(*id)).collect();
    missing.sort_by(|a, b| index.weight(b).total_cmp(&index.weight(a)).then(a.cmp(b)));
    missing.into_iter().cloned().collect()
}

fn explain(
    rank: usize,
    candidate: &Candidate,
    job: &JobProfile,
    (score, features): (f64, features::Features),
    (query, posting): (&ResumeQuery, usize),
    inputs: &Inputs,
) -> RankedJob {
    let resume = inputs.resume;
    let name = |id: &str| inputs.skill_name(id);
    let matched: Vec<String> = job
        .skills
        .iter()
        .filter(|id| resume.skills.contains(*id))
        .map(|id| name(id))
        .collect();
    let missing_ids = missing_by_importance(job, resume, inputs.index);
    let related: Vec<(String, String)> = missing_ids
        .iter()
        .filter_map(|id| relative(inputs.taxonomy, id, &resume.skills).map(|have| (name(id), name(have))))
        .collect();
    let missing: Vec<String> = missing_ids.iter().map(|id| name(id)).collect();
    let would_fit_with: Vec<String> = if score >= FIT {
        Vec::new()
    } else {
        missing
            .iter()
            .zip(&missing_ids)
            .filter(|(skill, id)| inputs.fits(&inputs.index.with_skill(query, id, skill, inputs.taxonomy), posting))
            .map(|(skill, _)| skill.clone())
            .collect()
    };
    let signals: BTreeMap<&'static str, f32> = NAMES.iter().copied().zip(features).collect();
    let mut parts = vec![format!(
        "has {} of the {} skills the posting names",
        matched.len(),
        job.skills.len()
    )];
    if !job.requirements.is_empty() {
        parts.push(format!("covers {:.0}% of its listed requirements", 100.0 * signals["requirements"]));
    }
    match job.min_years {
        Some(years) if signals["experience"] >= 1.0 => parts.push(format!("meets the {years:.0} years asked")),
        Some(years) => parts.push(format!("short of the {years:.0} years asked")),
        None => {}
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        parts.push(format!("missing {}", shown.join(", ")));
    }
    for (wanted, have) in related.iter().take(3) {
        parts.push(format!("{have} stands in for {wanted}"));
    }
    if !would_fit_with.is_empty() {
        let shown: Vec<&str> = would_fit_with.iter().take(3).map(String::as_str).collect();
        parts.push(format!("{} alone would make it a fit", shown.join(" or ")));
    }
    RankedJob {
        rank,
        posting_key: candidate.posting_key.clone(),
        source_job_id: candidate.source_job_id.clone(),
        title: candidate.title.clone(),
        company: candidate.company.clone(),
        location: candidate.location.clone(),
        remote_type: candidate.remote_type.clone(),
        salary_usd: candidate.salary_usd,
        score,
        signals,
        matched_skills: matched,
        missing_skills: missing,
        related_skills: related,
        would_fit_with,
        explanation: format!("{} (score {score:.0}): {}", verdict(score), parts.join("; ")),
    }
}

/// The explanation's first words for a score.
fn verdict(score: f64) -> &'static str {
    if score >= FIT {
        "Fits"
    } else if score >= PARTIAL_FIT {
        "Partial fit"
    } else {
        "Poor fit"
    }
}

/// For the skills most often missing from the best-ranked postings: how many more postings the
/// résumé would fit with the skill added (its name listed among the résumé's skills). Only
/// skills that turn at least one posting into a fit are advised.
fn advise(inputs: &Inputs, query: &ResumeQuery, scores: &[f64], order: &[usize]) -> Vec<Advice> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for &i in order.iter().take(ADVICE_POOL) {
        for id in inputs.profiles[i].skills.iter().filter(|id| !inputs.resume.skills.contains(*id)) {
            *counts.entry(id.clone()).or_default() += 1;
        }
    }
    let mut candidates: Vec<(String, usize)> = counts.into_iter().collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut advice: Vec<Advice> = candidates
        .into_iter()
        .take(ADVICE_SKILLS * 2)
        .map(|(id, _)| {
            let skill = inputs.skill_name(&id);
            let with_skill = inputs.index.with_skill(query, &id, &skill, inputs.taxonomy);
            let asking: Vec<usize> = inputs
                .index
                .postings_naming(&id)
                .iter()
                .map(|&i| i as usize)
                .filter(|&i| scores[i] > f64::NEG_INFINITY)
                .collect();
            let more_fits = asking.iter().filter(|&&i| scores[i] < FIT && inputs.fits(&with_skill, i)).count();
            let premium = inputs.premiums.get(&id).copied();
            let worth = premium.map_or_else(String::new, |usd| format!(", a market-wide median premium of {}", signed_usd(usd)));
            Advice {
                sentence: format!(
                    "adding {skill} makes you a fit for {more_fits} more of these postings ({} of them ask for it){worth}",
                    asking.len()
                ),
                skill_id: id,
                skill,
                postings_asking: asking.len(),
                more_fits,
                premium_usd_median: premium,
            }
        })
        .collect();
    // A skill that makes no posting a fit is no advice.
    advice.retain(|a| a.more_fits > 0);
    advice.sort_by(|a, b| {
        b.more_fits
            .cmp(&a.more_fits)
            .then(b.postings_asking.cmp(&a.postings_asking))
            .then(a.skill_id.cmp(&b.skill_id))
    });
    advice.truncate(ADVICE_SKILLS);
    advice
}

fn signed_usd(usd: f64) -> String {
    let sign = if usd < 0.0 { "−" } else { "+" };
    format!("{sign}${:.1}k", usd.abs() / 1000.0)
}

/// Market-wide median skill premiums from the lake's `gold/skill_premiums` (written by `rats
/// train salary`); empty when the table does not exist.
pub fn market_premiums(lake_root: &Path) -> Result<HashMap<String, f64>, MatchError> {
    let path = lake_root.join(premiums::TABLE);
    if !path.join("_delta_log").is_dir() {
        return Ok(HashMap::new());
    }
    let batches = crate::lake::scan_table(&path, &["title_family_uri", "skill_id", "premium_usd_median"])?;
    let mut out = HashMap::new();
    for batch in &batches {
        let family = batch.column(0).as_string::<i32>();
        let skill = batch.column(1).as_string::<i32>();
        let median = batch.column(2).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            if family.is_null(row) {
                out.insert(skill.value(row).to_string(), median.value(row));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_reads_as_a_fit_a_partial_fit_or_a_poor_fit() {
        let read: Vec<&str> = [100.0, FIT, FIT - 0.1, PARTIAL_FIT, PARTIAL_FIT - 0.1, 1.0, 0.0]
            .into_iter()
            .map(verdict)
            .collect();
        assert_eq!(
            read,
            ["Fits", "Fits", "Partial fit", "Partial fit", "Poor fit", "Poor fit", "Poor fit"]
        );
    }
}

//! Evaluation on labelled pairs (the rjdb layout): does the matched résumé score above the
//! unmatched one (pairwise accuracy), and is a posting's matched résumé found among every
//! résumé of the file, and a résumé's posting among every posting (top-1, top-5, MRR)?
//!
//! Ranks count ties against the answer: a matcher that gives many candidates the same score
//! does not get lucky. The learned scorer is cross-validated by posting: a posting's scores
//! come from weights fitted without it.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::MatchError;
use super::baselines::{Bm25, keyword_overlap};
use super::embed::SentenceEncoder;
use super::features::{Features, JobIndex, ResumeQuery, SEMANTIC, content_words};
use super::profile::{JobProfile, ResumeProfile, read_job, read_resume};
use super::rjdb::LabelledPair;
use super::scorer::Scorer;
use crate::parallel::map_in_order;
use crate::skills::Extractor;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Retrieval {
    pub top1: f64,
    pub top5: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evaluation {
    pub pairs: usize,
    pub pairwise_accuracy: f64,
    /// Each posting's matched résumé among every résumé (matched and unmatched) of the file.
    pub job_to_resume: Retrieval,
    /// Each matched résumé's posting among every posting of the file.
    pub resume_to_job: Retrieval,
}

impl Evaluation {
    /// The names of [`Evaluation::figures`], dotted as the JSON nests them.
    pub const FIGURES: [&str; 7] = [
        "pairwise_accuracy",
        "job_to_resume.top1",
        "job_to_resume.top5",
        "job_to_resume.mrr",
        "resume_to_job.top1",
        "resume_to_job.top5",
        "resume_to_job.mrr",
    ];

    /// The seven figures in the order every table shows them: pairwise accuracy, then top-1,
    /// top-5 and MRR job→résumé, then résumé→job.
    pub fn figures(&self) -> [f64; 7] {
        [
            self.pairwise_accuracy,
            self.job_to_resume.top1,
            self.job_to_resume.top5,
            self.job_to_resume.mrr,
            self.resume_to_job.top1,
            self.resume_to_job.top5,
            self.resume_to_job.mrr,
        ]
    }
}

/// What cross-validation gives: the held-out metrics, and the scorer fitted on every posting
/// with the number of examples it saw.
pub struct CrossValidated {
    pub evaluation: Evaluation,
    /// Each fold's held-out postings on their own (ranked against the whole file).
    pub per_fold: Vec<Evaluation>,
    pub scorer: Scorer,
    pub examples: usize,
}

/// A labelled file read, embedded and compared once: posting `i`'s matched résumé is résumé
/// `2i`, its unmatched one `2i + 1`.
pub struct Prepared {
    pub jobs: Vec<JobProfile>,
    pub resumes: Vec<ResumeProfile>,
    job_texts: Vec<String>,
    features: Vec<Features>,
}

/// Other postings' matched résumés used as negatives for each training posting, besides its
/// own unmatched one: real matching mostly separates unrelated résumés, rjdb's unmatched
/// résumés are the hard near-misses.
const RANDOM_NEGATIVES: usize = 4;
/// The near-miss counts as much as the random negatives together, so the scorer learns what
/// separates a fit from almost a fit (the years, the last missing skills), not only what
/// separates a fit from an unrelated résumé.
const HARD_NEGATIVE_WEIGHT: usize = RANDOM_NEGATIVES;

impl Prepared {
    pub fn new(pairs: &[LabelledPair], extractor: &Extractor, encoder: &SentenceEncoder, this_year: i32) -> Result<Self, MatchError> {
        let jobs: Vec<JobProfile> = pairs.iter().map(|p| read_job("", &p.job, extractor)).collect();
        let resumes: Vec<ResumeProfile> = pairs
            .iter()
            .flat_map(|p| [&p.matched, &p.unmatched])
            .map(|text| read_resume(text, extractor, this_year))
            .collect();
        let job_focus: Vec<&str> = jobs.iter().map(|j| j.focus.as_str()).collect();
        let resume_focus: Vec<String> = resumes.iter().map(ResumeProfile::focus).collect();
        let job_vectors = encoder.embed(&job_focus)?;
        let resume_vectors = encoder.embed(&resume_focus.iter().map(String::as_str).collect::<Vec<_>>())?;
        let index = JobIndex::new(&jobs, &job_vectors);
        let queries: Vec<ResumeQuery> = resumes
            .iter()
            .zip(&resume_vectors)
            .map(|(r, v)| index.resume(r, v, extractor.taxonomy()))
            .collect();
        let job_ids: Vec<usize> = (0..jobs.len()).collect();
        let features = map_in_order(&job_ids, |&job| {
            queries.iter().map(|resume| index.features(resume, job)).collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        Ok(Self {
            job_texts: pairs.iter().map(|p| p.job.clone()).collect(),
            jobs,
            resumes,
            features,
        })
    }

    pub fn features(&self, job: usize, resume: usize) -> &Features {
        &self.features[job * self.resumes.len() + resume]
    }

    /// Training examples from `jobs`: each with its matched résumé, its unmatched one and
    /// other postings' matched résumés.
    pub fn examples(&self, jobs: &[usize]) -> Vec<(Features, bool)> {
        let n = self.jobs.len();
        let stride = (n / (RANDOM_NEGATIVES + 1)).max(1);
        let mut examples = Vec::new();
        for &job in jobs {
            examples.push((*self.features(job, 2 * job), true));
            for _ in 0..HARD_NEGATIVE_WEIGHT {
                examples.push((*self.features(job, 2 * job + 1), false));
            }
            for k in 1..=RANDOM_NEGATIVES.min(n.saturating_sub(1)) {
                let other = (job + k * stride) % n;
                if other != job {
                    examples.push((*self.features(job, 2 * other), false));
                }
            }
        }
        examples
    }

    /// The metrics of a matcher: `for_job(job, résumé)` scores the rows a posting ranks,
    /// `for_resume(job, résumé)` the columns a résumé ranks (they differ only when
    /// cross-validation scores each query with the weights fitted without it).
    pub fn evaluate(&self, for_job: impl Fn(usize, usize) -> f64 + Sync, for_resume: impl Fn(usize, usize) -> f64 + Sync) -> Evaluation {
        self.evaluate_on(&(0..self.jobs.len()).collect::<Vec<_>>(), &for_job, &for_resume)
    }

    /// The metrics with only `queries` (postings, and their matched résumés) asking; each is
    /// still ranked against every résumé and every posting of the file. The queries are scored
    /// on every core (a baseline scores about a million and a half pairs).
    fn evaluate_on(
        &self,
        queries: &[usize],
        for_job: &(impl Fn(usize, usize) -> f64 + Sync),
        for_resume: &(impl Fn(usize, usize) -> f64 + Sync),
    ) -> Evaluation {
        let n = self.jobs.len();
        let outcomes = map_in_order(queries, |&job| {
            let row: Vec<f64> = (0..self.resumes.len()).map(|r| for_job(job, r)).collect();
            let (matched, unmatched) = (row[2 * job], row[2 * job + 1]);
            let pairwise = match matched.total_cmp(&unmatched) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
            let column: Vec<f64> = (0..n).map(|j| for_resume(j, 2 * job)).collect();
            (pairwise, rank(&row, 2 * job), rank(&column, job))
        });
        let pairwise: f64 = outcomes.iter().map(|o| o.0).sum();
        let job_ranks: Vec<usize> = outcomes.iter().map(|o| o.1).collect();
        let resume_ranks: Vec<usize> = outcomes.iter().map(|o| o.2).collect();
        Evaluation {
            pairs: queries.len(),
            pairwise_accuracy: pairwise / queries.len().max(1) as f64,
            job_to_resume: retrieval(&job_ranks),
            resume_to_job: retrieval(&resume_ranks),
        }
    }

    /// Cross-validated metrics of the learned scorer (`folds` folds by posting) and the weights
    /// fitted on every posting, each fitted on the training examples' features as `view` shows
    /// them (all of them, or [`super::features::without_semantic`] for the skills-only fallback).
    pub fn cross_validate(&self, folds: usize, view: fn(&Features) -> Features) -> CrossValidated {
        let n = self.jobs.len();
        let folds = folds.clamp(2, n.max(2));
        let fold_of = |job: usize| job % folds;
        // Each fold's scorer and (last) the one fitted on every posting, on every core.
        let fits: Vec<usize> = (0..=folds).collect();
        let mut scorers: Vec<Scorer> = map_in_order(&fits, |&fold| {
            let training: Vec<usize> = (0..n).filter(|&j| fold_of(j) != fold).collect();
            let examples: Vec<(Features, bool)> = self.examples(&training).iter().map(|(f, matched)| (view(f), *matched)).collect();
            Scorer::fit(&examples)
        });
        let scorer = scorers.pop().expect("one scorer per fold and one for every posting");
        let for_job = |job: usize, resume: usize| scorers[fold_of(job)].score(&view(self.features(job, resume)));
        let for_resume = |job: usize, resume: usize| scorers[fold_of(resume / 2)].score(&view(self.features(job, resume)));
        let evaluation = self.evaluate(for_job, for_resume);
        let per_fold = (0..folds)
            .map(|fold| {
                let held_out: Vec<usize> = (0..n).filter(|&j| fold_of(j) == fold).collect();
                self.evaluate_on(&held_out, &for_job, &for_resume)
            })
            .collect();
        CrossValidated {
            evaluation,
            per_fold,
            scorer,
            examples: self.examples(&(0..n).collect::<Vec<_>>()).len(),
        }
    }

    /// The same metrics for fixed weights (a trained model on a new file).
    pub fn evaluate_scorer(&self, scorer: &Scorer) -> Evaluation {
        let score = |job, resume| scorer.score(self.features(job, resume));
        self.evaluate(score, score)
    }

    /// The baselines on the same data, by name.
    pub fn baselines(&self) -> BTreeMap<&'static str, Evaluation> {
        let mut out = BTreeMap::new();
        let resume_words: Vec<HashSet<String>> = self.resumes.iter().map(|r| content_words(&r.text).into_iter().collect()).collect();
        let job_words: Vec<Vec<String>> = self.job_texts.iter().map(|t| content_words(t)).collect();
        let job_sets: Vec<HashSet<String>> = job_words.iter().map(|w| w.iter().cloned().collect()).collect();
        let keywords = |job: usize, resume: usize| keyword_overlap(&job_sets[job], &resume_words[resume]);
        out.insert("keyword_overlap", self.evaluate(keywords, keywords));
        let bm25 = Bm25::new(self.resumes.iter().map(|r| r.text.as_str()));
        let by_bm25 = |job: usize, resume: usize| bm25.score(&job_words[job], resume);
        out.insert("bm25", self.evaluate(by_bm25, by_bm25));
        let feature = |index: usize| move |job: usize, resume: usize| f64::from(self.features(job, resume)[index]);
        out.insert("embedding_cosine", self.evaluate(feature(SEMANTIC), feature(SEMANTIC)));
        out.insert("skills", self.evaluate(feature(2), feature(2)));
        out
    }
}

/// The 1-based rank of `target` in `scores`, ties counted against it.
fn rank(scores: &[f64], target: usize) -> usize {
    let own = scores[target];
    1 + scores.iter().enumerate().filter(|&(i, &s)| i != target && s >= own).count()
}

fn retrieval(ranks: &[usize]) -> Retrieval {
    let n = ranks.len().max(1) as f64;
    Retrieval {
        top1: ranks.iter().filter(|&&r| r == 1).count() as f64 / n,
        top5: ranks.iter().filter(|&&r| r <= 5).count() as f64 / n,
        mrr: ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_count_against_the_answer() {
        assert_eq!(rank(&[0.5, 0.5, 0.1], 0), 2);
        assert_eq!(rank(&[0.9, 0.5, 0.1], 0), 1);
        let r = retrieval(&[1, 2, 10]);
        assert!((r.top1 - 1.0 / 3.0).abs() < 1e-9);
        assert!((r.top5 - 2.0 / 3.0).abs() < 1e-9);
        assert!((r.mrr - (1.0 + 0.5 + 0.1) / 3.0).abs() < 1e-9);
    }
}

//! A linear-chain CRF over one BIO layer: the encoder's per-word scores plus learned scores for
//! the first tag and for each pair of neighbouring tags, trained on the likelihood of the whole
//! gold tag sequence and decoded with Viterbi.
//!
//! Why: a per-word softmax learns each word's tag on its own, so a long SKILL span ("manage
//! stakeholder expectations across teams") is won or lost word by word; the sequence likelihood
//! makes the encoder score a span's extent as a whole, which is what strict span F1 counts. The
//! SkillSpan paper's baselines decode with a CRF too. `I` never opens a span: paths that do are
//! not in the model at all (neither in the normaliser nor in decoding).
//!
//! Plain Rust over `f32` slices: sentences are a few dozen words and three tags, far too small
//! for tensor operations to pay off. Training hands the gradients back to the encoder.

use super::tagger::{BEGIN, INSIDE, OUTSIDE};

/// Tags of one layer: O, B, I.
pub const TAGS: usize = 3;

/// Learned tag scores of one layer: `start[t]` for a sentence's first tag, `pair[p][t]` for tag
/// `t` after tag `p`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Transitions {
    pub start: [f32; TAGS],
    pub pair: [[f32; TAGS]; TAGS],
}

/// Gradients of a sentence's negative log-likelihood.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub emissions: Vec<[f32; TAGS]>,
    pub transitions: Transitions,
}

fn allowed_first(tag: usize) -> bool {
    tag != INSIDE
}

fn allowed_after(previous: usize, tag: usize) -> bool {
    tag != INSIDE || previous != OUTSIDE
}

fn log_sum_exp(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// `gold` made a path the model has: an `I` that opens a span (a window cut through a span)
/// becomes `B`.
fn repaired(gold: &[usize]) -> Vec<usize> {
    let mut tags = gold.to_vec();
    for i in 0..tags.len() {
        let opens = if i == 0 {
            !allowed_first(tags[i])
        } else {
            !allowed_after(tags[i - 1], tags[i])
        };
        if opens {
            tags[i] = BEGIN;
        }
    }
    tags
}

/// Negative log-likelihood of `gold` (repaired first) and its gradients with respect to the
/// emissions and the transitions: expected counts under the model minus the gold path's counts
/// (forward-backward in log space, in `f64`).
pub fn negative_log_likelihood(emissions: &[[f32; TAGS]], gold: &[usize], transitions: &Transitions) -> (f64, Gradients) {
    let n = emissions.len();
    let mut gradients = Gradients {
        emissions: vec![[0.0; TAGS]; n],
        transitions: Transitions::default(),
    };
    if n == 0 {
        return (0.0, gradients);
    }
    let gold = repaired(gold);
    let e = |i: usize, t: usize| f64::from(emissions[i][t]);
    let start = |t: usize| {
        if allowed_first(t) {
            f64::from(transitions.start[t])
        } else {
            f64::NEG_INFINITY
        }
    };
    let pair = |p: usize, t: usize| {
        if allowed_after(p, t) {
            f64::from(transitions.pair[p][t])
        } else {
            f64::NEG_INFINITY
        }
    };
    // alpha[i][t]: log-sum of the paths over words 0..=i ending in t.
    let mut alpha = vec![[f64::NEG_INFINITY; TAGS]; n];
    alpha[0] = std::array::from_fn(|t| start(t) + e(0, t));
    for i in 1..n {
        for t in 0..TAGS {
            alpha[i][t] = log_sum_exp((0..TAGS).map(|p| alpha[i - 1][p] + pair(p, t))) + e(i, t);
        }
    }
    // beta[i][t]: log-sum of the paths over words i+1.. given tag t at i.
    let mut beta = vec![[0.0f64; TAGS]; n];
    for i in (0..n - 1).rev() {
        for p in 0..TAGS {
            beta[i][p] = log_sum_exp((0..TAGS).map(|t| pair(p, t) + e(i + 1, t) + beta[i + 1][t]));
        }
    }
    let log_z = log_sum_exp(alpha[n - 1].iter().copied());
    let mut gold_score = start(gold[0]) + e(0, gold[0]);
    for i in 1..n {
        gold_score += pair(gold[i - 1], gold[i]) + e(i, gold[i]);
    }
    let probability = |log: f64| if log == f64::NEG_INFINITY { 0.0 } else { (log - log_z).exp() };
    let indicator = |holds: bool| f64::from(u8::from(holds));
    for i in 0..n {
        for t in 0..TAGS {
            let marginal = probability(alpha[i][t] + beta[i][t]);
            gradients.emissions[i][t] = (marginal - indicator(gold[i] == t)) as f32;
        }
    }
    gradients.transitions.start = std::array::from_fn(|t| (probability(alpha[0][t] + beta[0][t]) - indicator(gold[0] == t)) as f32);
    for i in 1..n {
        let (before, after) = (alpha[i - 1], beta[i]);
        for (p, row) in gradients.transitions.pair.iter_mut().enumerate() {
            for (t, cell) in row.iter_mut().enumerate() {
                let joint = probability(before[p] + pair(p, t) + e(i, t) + after[t]);
                *cell += (joint - indicator(gold[i - 1] == p && gold[i] == t)) as f32;
            }
        }
    }
    (log_z - gold_score, gradients)
}

/// The highest-scoring tag path (`I` only after `B` or `I`).
pub fn viterbi(emissions: &[[f32; TAGS]], transitions: &Transitions) -> Vec<usize> {
    let n = emissions.len();
    let mut best: Vec<[f32; TAGS]> = Vec::with_capacity(n);
    let mut back: Vec<[usize; TAGS]> = Vec::with_capacity(n);
    for (i, word) in emissions.iter().enumerate() {
        let mut here = [f32::NEG_INFINITY; TAGS];
        let mut from = [OUTSIDE; TAGS];
        for tag in [OUTSIDE, BEGIN, INSIDE] {
            if i == 0 {
                if allowed_first(tag) {
                    here[tag] = transitions.start[tag] + word[tag];
                }
                continue;
            }
            for previous in [OUTSIDE, BEGIN, INSIDE] {
                let score = best[i - 1][previous] + transitions.pair[previous][tag] + word[tag];
                if allowed_after(previous, tag) && score > here[tag] {
                    here[tag] = score;
                    from[tag] = previous;
                }
            }
        }
        best.push(here);
        back.push(from);
    }
    let Some(last) = best.last() else {
        return Vec::new();
    };
    let mut tag = [OUTSIDE, BEGIN, INSIDE]
        .into_iter()
        .fold(OUTSIDE, |b, t| if last[t] > last[b] { t } else { b });
    let mut tags = vec![OUTSIDE; n];
    for i in (0..n).rev() {
        tags[i] = tag;
        tag = back[i][tag];
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_transitions() -> Transitions {
        Transitions {
            start: [0.2, -0.1, 0.7],
            pair: [[0.1, -0.3, 0.5], [0.0, 0.4, -0.2], [0.3, -0.5, 0.6]],
        }
    }

    fn sample_emissions() -> Vec<[f32; TAGS]> {
        vec![[0.5, 1.2, -0.3], [-0.2, 0.1, 0.9], [1.1, -0.4, 0.2], [0.0, 0.3, 0.8]]
    }

    /// Every path the model allows, by brute force, for checking the dynamic programmes.
    fn all_paths(n: usize) -> Vec<Vec<usize>> {
        let mut paths = vec![Vec::new()];
        for _ in 0..n {
            paths = paths
                .into_iter()
                .flat_map(|p| (0..TAGS).map(move |t| [p.clone(), vec![t]].concat()))
                .filter(|p| {
                    if p.len() == 1 {
                        allowed_first(p[0])
                    } else {
                        allowed_after(p[p.len() - 2], p[p.len() - 1])
                    }
                })
                .collect();
        }
        paths
    }

    fn path_score(emissions: &[[f32; TAGS]], tags: &[usize], transitions: &Transitions) -> f64 {
        let mut score = f64::from(transitions.start[tags[0]]);
        for (i, &t) in tags.iter().enumerate() {
            score += f64::from(emissions[i][t]);
            if i > 0 {
                score += f64::from(transitions.pair[tags[i - 1]][t]);
            }
        }
        score
    }

    #[test]
    fn the_likelihood_matches_brute_force_over_every_allowed_path() {
        let (emissions, transitions) = (sample_emissions(), sample_transitions());
        let gold = [BEGIN, INSIDE, OUTSIDE, BEGIN];
        let paths = all_paths(emissions.len());
        assert_eq!(paths.len(), 34, "O/B/I paths of four words in which I follows B or I");
        let log_z = log_sum_exp(paths.iter().map(|p| path_score(&emissions, p, &transitions)));
        let (nll, _) = negative_log_likelihood(&emissions, &gold, &transitions);
        assert!((nll - (log_z - path_score(&emissions, &gold, &transitions))).abs() < 1e-9, "{nll}");
        assert_eq!(viterbi(&emissions, &transitions), {
            let best = paths
                .iter()
                .max_by(|a, b| path_score(&emissions, a, &transitions).total_cmp(&path_score(&emissions, b, &transitions)));
            best.expect("paths").clone()
        });
    }

    #[test]
    fn the_gradients_match_finite_differences() {
        let (emissions, transitions) = (sample_emissions(), sample_transitions());
        let gold = [OUTSIDE, BEGIN, INSIDE, INSIDE];
        let (nll, gradients) = negative_log_likelihood(&emissions, &gold, &transitions);
        let step = 1e-3f32;
        let numeric = |changed: f64| (changed - nll) / f64::from(step);
        for i in 0..emissions.len() {
            for t in 0..TAGS {
                let mut moved = emissions.clone();
                moved[i][t] += step;
                let (changed, _) = negative_log_likelihood(&moved, &gold, &transitions);
                assert!(
                    (numeric(changed) - f64::from(gradients.emissions[i][t])).abs() < 2e-3,
                    "emission {i} {t}"
                );
            }
        }
        for p in 0..TAGS {
            let mut moved = transitions;
            moved.start[p] += step;
            let (changed, _) = negative_log_likelihood(&emissions, &gold, &moved);
            assert!(
                (numeric(changed) - f64::from(gradients.transitions.start[p])).abs() < 2e-3,
                "start {p}"
            );
            for t in 0..TAGS {
                let mut moved = transitions;
                moved.pair[p][t] += step;
                let (changed, _) = negative_log_likelihood(&emissions, &gold, &moved);
                assert!(
                    (numeric(changed) - f64::from(gradients.transitions.pair[p][t])).abs() < 2e-3,
                    "pair {p} {t}"
                );
            }
        }
    }

    #[test]
    fn a_span_cut_by_a_window_opens_with_begin() {
        assert_eq!(repaired(&[INSIDE, INSIDE, OUTSIDE, INSIDE]), [BEGIN, INSIDE, OUTSIDE, BEGIN]);
        let (nll, _) = negative_log_likelihood(&sample_emissions(), &[INSIDE, INSIDE, OUTSIDE, INSIDE], &sample_transitions());
        assert!(nll.is_finite() && nll > 0.0, "{nll}");
    }

    #[test]
    fn decoding_never_opens_a_span_with_inside() {
        let ln = f32::ln;
        // Word by word the best tags would be O I I: the decoder must open the span with B.
        let scores = [
            [ln(0.8), ln(0.1), ln(0.1)],
            [ln(0.1), ln(0.4), ln(0.5)],
            [ln(0.2), ln(0.1), ln(0.7)],
        ];
        assert_eq!(viterbi(&scores, &Transitions::default()), [OUTSIDE, BEGIN, INSIDE]);
        assert!(viterbi(&[], &Transitions::default()).is_empty());
        assert_eq!(
            negative_log_likelihood(&[], &[], &Transitions::default()).0.to_bits(),
            0f64.to_bits()
        );
    }
}

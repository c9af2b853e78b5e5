//! The learned combination of the match features: a logistic regression whose output, the
//! probability that the résumé matches the posting, is the 0–100 score.

use serde::{Deserialize, Serialize};

use super::features::{Features, NAMES};

/// L2 penalty on the weights (not the bias): a handful of features on a few thousand pairs
/// needs little, but it keeps a feature that never varies in training at zero.
const L2: f64 = 1e-3;
const STEPS: usize = 3_000;
const LEARNING_RATE: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorer {
    /// One weight per feature, by name (the order of [`NAMES`]).
    pub weights: Vec<(String, f64)>,
    pub bias: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Scorer {
    /// Fits the weights to `examples` (features, matched?) by full-batch gradient descent on
    /// the log loss: deterministic, no seed, the same weights on every run.
    pub fn fit(examples: &[(Features, bool)]) -> Self {
        let mut weights = [0.0f64; NAMES.len()];
        let mut bias = 0.0f64;
        let n = examples.len().max(1) as f64;
        for _ in 0..STEPS {
            let mut gradient = [0.0f64; NAMES.len()];
            let mut gradient_bias = 0.0;
            for (features, matched) in examples {
                let error = sigmoid(linear(weights, bias, features)) - f64::from(u8::from(*matched));
                for (g, x) in gradient.iter_mut().zip(features) {
                    *g += error * f64::from(*x);
                }
                gradient_bias += error;
            }
            for (w, g) in weights.iter_mut().zip(gradient) {
                *w -= LEARNING_RATE * (g / n + L2 * *w);
            }
            bias -= LEARNING_RATE * gradient_bias / n;
        }
        Self {
            weights: NAMES.iter().zip(weights).map(|(name, w)| ((*name).to_string(), w)).collect(),
            bias,
        }
    }

    /// The match score, 0–100.
    pub fn score(&self, features: &Features) -> f64 {
        let z = self.bias + self.weights.iter().zip(features).map(|((_, w), x)| w * f64::from(*x)).sum::<f64>();
        100.0 * sigmoid(z)
    }

    /// Each feature's share of the score's log-odds: what the explanation ranks.
    pub fn contributions(&self, features: &Features) -> Vec<(&str, f64)> {
        self.weights
            .iter()
            .zip(features)
            .map(|((name, w), x)| (name.as_str(), w * f64::from(*x)))
            .collect()
    }
}

fn linear(weights: impl IntoIterator<Item = f64>, bias: f64, features: &Features) -> f64 {
    bias + weights.into_iter().zip(features).map(|(w, x)| w * f64::from(*x)).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feature_that_separates_the_classes_gets_the_weight() {
        let examples: Vec<(Features, bool)> = (0..200)
            .map(|i| {
                let matched = i % 2 == 0;
                let noise = (i % 7) as f32 / 7.0;
                ([noise, if matched { 0.9 } else { 0.3 }, noise, 0.5, 0.5, 1.0], matched)
            })
            .collect();
        let scorer = Scorer::fit(&examples);
        assert!(scorer.weights[1].1 > 3.0, "{:?}", scorer.weights);
        assert!(scorer.weights[0].1.abs() < 1.0, "{:?}", scorer.weights);
        assert!(scorer.score(&[0.5, 0.9, 0.5, 0.5, 0.5, 1.0]) > 80.0);
        assert!(scorer.score(&[0.5, 0.3, 0.5, 0.5, 0.5, 1.0]) < 20.0);
        assert_eq!(scorer, Scorer::fit(&examples), "deterministic");
    }

    #[test]
    fn a_scorer_fitted_without_the_encoders_signal_gives_it_no_weight() {
        use crate::matching::features::{SEMANTIC, without_semantic};
        let examples: Vec<(Features, bool)> = (0..200)
            .map(|i| {
                let matched = i % 2 == 0;
                let (semantic, skills) = if matched { (0.9, 0.7) } else { (0.2, 0.4) };
                ([semantic, skills, 0.5, 0.5, 0.5, 1.0], matched)
            })
            .collect();
        assert!(Scorer::fit(&examples).weights[SEMANTIC].1 > 1.0);
        let skills_only: Vec<(Features, bool)> = examples.iter().map(|(f, matched)| (without_semantic(f), *matched)).collect();
        let fallback = Scorer::fit(&skills_only);
        assert!(fallback.weights[SEMANTIC].1.abs() < 1e-12, "{:?}", fallback.weights);
        assert!(fallback.weights[1].1 > 1.0, "{:?}", fallback.weights);
        let embedded = [0.9, 0.7, 0.5, 0.5, 0.5, 1.0];
        assert!((fallback.score(&embedded) - fallback.score(&without_semantic(&embedded))).abs() < 1e-9);
    }
}

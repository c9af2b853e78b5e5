//! The text baseline the salary report compares against: ridge regression on TF-IDF of title +
//! description (unigrams and bigrams), solved by conjugate gradients on the normal equations.

use std::collections::HashMap;

use super::features::{tokens, word_ngrams};

/// A fitted TF-IDF vocabulary and ridge weights.
pub struct TfidfRidge {
    vocabulary: HashMap<String, usize>,
    idf: Vec<f32>,
    weights: Vec<f32>,
    intercept: f32,
}

type SparseRow = Vec<(usize, f32)>;

impl TfidfRidge {
    /// Fits on `texts` and targets `y` with penalty `lambda`.
    pub fn fit(texts: &[&str], y: &[f32], lambda: f32) -> Self {
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let term_lists: Vec<Vec<String>> = texts.iter().map(|t| terms(t)).collect();
        for list in &term_lists {
            let mut distinct: Vec<&String> = list.iter().collect();
            distinct.sort();
            distinct.dedup();
            for term in distinct {
                *document_frequency.entry(term.clone()).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, usize)> = document_frequency.into_iter().filter(|(_, n)| *n >= 2).collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(50_000);
        let n = texts.len() as f32;
        let idf = kept.iter().map(|(_, df)| ((1.0 + n) / (1.0 + *df as f32)).ln() + 1.0).collect();
        let vocabulary = kept.into_iter().enumerate().map(|(i, (term, _))| (term, i)).collect();
        let mut model = TfidfRidge {
            vocabulary,
            idf,
            weights: Vec::new(),
            intercept: 0.0,
        };
        let rows: Vec<SparseRow> = term_lists.iter().map(|t| model.vector(t)).collect();
        model.intercept = y.iter().sum::<f32>() / y.len().max(1) as f32;
        let centred: Vec<f32> = y.iter().map(|v| v - model.intercept).collect();
        model.weights = conjugate_gradient(&rows, &centred, model.idf.len(), lambda);
        model
    }

    pub fn predict(&self, text: &str) -> f32 {
        self.intercept + self.vector(&terms(text)).iter().map(|(i, v)| self.weights[*i] * v).sum::<f32>()
    }

    /// Sublinear term frequency × idf, L2-normalised.
    fn vector(&self, terms: &[String]) -> SparseRow {
        let mut counts: HashMap<usize, f32> = HashMap::new();
        for term in terms {
            if let Some(&i) = self.vocabulary.get(term) {
                *counts.entry(i).or_default() += 1.0;
            }
        }
        let mut row: SparseRow = counts.into_iter().map(|(i, c)| (i, (1.0 + c.ln()) * self.idf[i])).collect();
        row.sort_by_key(|(i, _)| *i);
        let norm = row.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut row {
                *v /= norm;
            }
        }
        row
    }
}

fn terms(text: &str) -> Vec<String> {
    word_ngrams(&tokens(text))
}

/// Solves `(XᵀX + λI) w = Xᵀy` for sparse rows `X`.
fn conjugate_gradient(rows: &[SparseRow], y: &[f32], width: usize, lambda: f32) -> Vec<f32> {
    let apply = |w: &[f32]| -> Vec<f32> {
        let mut out: Vec<f32> = w.iter().map(|v| v * lambda).collect();
        for row in rows {
            let dot: f32 = row.iter().map(|(i, v)| w[*i] * v).sum();
            for (i, v) in row {
                out[*i] += dot * v;
            }
        }
        out
    };
    let mut rhs = vec![0.0f32; width];
    for (row, target) in rows.iter().zip(y) {
        for (i, v) in row {
            rhs[*i] += v * target;
        }
    }
    let mut w = vec![0.0f32; width];
    let mut residual = rhs.clone();
    let mut direction = residual.clone();
    let mut rs_old: f32 = residual.iter().map(|r| r * r).sum();
    for _ in 0..200 {
        if rs_old < 1e-10 {
            break;
        }
        let ad = apply(&direction);
        let step = rs_old / direction.iter().zip(&ad).map(|(d, a)| d * a).sum::<f32>();
        for i in 0..width {
            w[i] += step * direction[i];
            residual[i] -= step * ad[i];
        }
        let rs_new: f32 = residual.iter().map(|r| r * r).sum();
        for i in 0..width {
            direction[i] = residual[i] + rs_new / rs_old * direction[i];
        }
        rs_old = rs_new;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_carry_the_target_are_learned() {
        let texts: Vec<String> = (0..60)
            .map(|i| {
                if i % 2 == 0 {
                    format!("senior engineer role {i}")
                } else {
                    format!("junior assistant role {i}")
                }
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let y: Vec<f32> = (0..60).map(|i| if i % 2 == 0 { 12.0 } else { 10.0 }).collect();
        let model = TfidfRidge::fit(&refs, &y, 0.1);
        assert!(model.predict("senior engineer") > 11.5);
        assert!(model.predict("junior assistant") < 10.5);
    }
}

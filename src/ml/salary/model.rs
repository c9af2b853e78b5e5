//! A trained salary model as saved in the registry, and prediction with explanations.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::ml::MlError;
use crate::ml::boost::{Matrix, Model};
use crate::ml::explain::{Contribution, explain};
use crate::ml::facts::PostingFacts;
use crate::ml::features::FeatureSpec;
use crate::ml::occupation::OccupationIndex;
use crate::ml::trees::Forest;

/// The saved files of a version.
pub const MEAN_FILE: &str = "mean.json";
pub const QUANTILE_FILE: &str = "quantiles.json";
pub const FEATURES_FILE: &str = "features.json";
pub const CALIBRATION_FILE: &str = "calibration.json";

/// How the quantile interval is widened: `[P10 − offset, P90 + offset]` on the log scale covers
/// the nominal share of out-of-fold postings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub nominal_coverage: f64,
    pub offset: f64,
    /// Out-of-fold coverage of the raw quantile interval and of the calibrated one (each fold's
    /// offset computed from the other folds' postings).
    pub raw_coverage: f64,
    pub calibrated_coverage: f64,
}

/// The mean model, the quantile model, their features and calibration.
pub struct SalaryModel {
    pub spec: FeatureSpec,
    /// The boosters as XGBoost holds them: what [`Self::save`] writes and what batch work (the
    /// skill premiums) runs through. Locked because one XGBoost booster may not be used by two
    /// threads at once, while the trees below may: a server shares one model between its
    /// threads.
    mean: Mutex<Model>,
    quantiles: Mutex<Model>,
    pub calibration: Calibration,
    /// The two models' trees evaluated in process: a request's few rows cost XGBoost's C API
    /// more than the trees themselves (`ml::trees`).
    mean_trees: Forest,
    quantile_trees: Forest,
    /// Maps a title to its family (built from the spec's occupations; none without them).
    families: Option<OccupationIndex>,
}

/// One estimate: yearly US dollars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub currency: &'static str,
    pub period: &'static str,
    /// The interval's nominal coverage (0.8: P10–P90).
    pub interval_coverage: f64,
    pub contributions: Vec<Contribution>,
    /// Why the estimate deserves less trust, when it does (unknown title words, a country the
    /// training data lacks).
    pub notes: Vec<String>,
}

impl SalaryModel {
    /// Reads a version's four files. Each booster file is parsed twice from the same bytes: by
    /// XGBoost (which trains and saves) and by [`Forest`] (which predicts and explains); an
    /// error from either names the file.
    pub fn load(dir: &Path) -> Result<Self, MlError> {
        let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| MlError::file(dir.join(name), e));
        let json = |name: &str| -> Result<serde_json::Value, MlError> {
            serde_json::from_slice(&read(name)?).map_err(|e| MlError::file(dir.join(name), e))
        };
        let booster = |name: &str| -> Result<(Model, Forest), MlError> {
            let bytes = read(name)?;
            let in_file = |e: MlError| MlError::file(dir.join(name), e);
            let trees = Forest::from_json(&bytes).map_err(in_file)?;
            Ok((Model::from_json(&bytes, trees.outputs()).map_err(in_file)?, trees))
        };
        let spec: FeatureSpec = serde_json::from_value(json(FEATURES_FILE)?).map_err(|e| MlError::file(dir.join(FEATURES_FILE), e))?;
        let calibration: Calibration =
            serde_json::from_value(json(CALIBRATION_FILE)?).map_err(|e| MlError::file(dir.join(CALIBRATION_FILE), e))?;
        let mean = booster(MEAN_FILE)?;
        let quantiles = booster(QUANTILE_FILE)?;
        let refuse = |name: &str, what: String| Err(MlError::file(dir.join(name), what));
        if mean.1.outputs() != 1 {
            return refuse(MEAN_FILE, format!("a mean model of {} outputs; one is expected", mean.1.outputs()));
        }
        if quantiles.1.outputs() < 2 {
            return refuse(
                QUANTILE_FILE,
                format!(
                    "a quantile model of {} level(s); the interval needs two, its ends",
                    quantiles.1.outputs()
                ),
            );
        }
        Ok(SalaryModel::assemble(spec, mean, quantiles, calibration))
    }

    /// A model from freshly trained boosters (their trees read back from XGBoost's JSON).
    pub fn new(spec: FeatureSpec, mean: Model, quantiles: Model, calibration: Calibration) -> Result<Self, MlError> {
        let (mean_trees, quantile_trees) = (mean.forest()?, quantiles.forest()?);
        Ok(SalaryModel::assemble(
            spec,
            (mean, mean_trees),
            (quantiles, quantile_trees),
            calibration,
        ))
    }

    fn assemble(spec: FeatureSpec, mean: (Model, Forest), quantiles: (Model, Forest), calibration: Calibration) -> Self {
        let families = (!spec.occupation_index.is_empty()).then(|| OccupationIndex::new(spec.occupation_index.clone()));
        SalaryModel {
            spec,
            mean: Mutex::new(mean.0),
            mean_trees: mean.1,
            quantiles: Mutex::new(quantiles.0),
            quantile_trees: quantiles.1,
            calibration,
            families,
        }
    }

    /// Writes the four files into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), MlError> {
        let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).map_err(|e| MlError::file(dir.join(name), e));
        write(MEAN_FILE, &locked(&self.mean).to_json()?)?;
        write(QUANTILE_FILE, &locked(&self.quantiles).to_json()?)?;
        write(FEATURES_FILE, &pretty_json(&self.spec)?)?;
        write(CALIBRATION_FILE, &pretty_json(&self.calibration)?)
    }

    /// The feature matrix of `facts` (a title's family is looked up when the facts lack it).
    pub fn matrix<'f>(&self, facts: impl IntoIterator<Item = &'f PostingFacts>) -> Matrix {
        let resolved: Vec<Cow<'_, PostingFacts>> = facts.into_iter().map(|f| self.with_family(f)).collect();
        self.encode(&resolved)
    }

    fn encode(&self, facts: &[Cow<'_, PostingFacts>]) -> Matrix {
        let mut data = Vec::with_capacity(facts.len() * self.spec.width());
        for f in facts {
            self.spec.encode(f, &mut data);
        }
        Matrix::new(data, self.spec.width())
    }

    fn with_family<'a>(&self, facts: &'a PostingFacts) -> Cow<'a, PostingFacts> {
        match &self.families {
            Some(index) if facts.occupation.is_none() => Cow::Owned(PostingFacts {
                occupation: index.family(&facts.title),
                ..facts.clone()
            }),
            _ => Cow::Borrowed(facts),
        }
    }

    /// Log estimates of the rows of `x` and their SHAP values (`cols + 1` per row), for many
    /// rows at once: on all cores, and quickest after [`Self::answer_ahead`].
    pub(super) fn estimates_and_contributions(&self, x: &Matrix) -> Result<(Vec<f32>, Vec<f32>), MlError> {
        Ok((self.mean_trees.predict(x)?, self.mean_trees.contributions(x)?))
    }

    /// Works out the explanations' arithmetic ahead ([`Forest::answer_ahead`]): for a model
    /// that will explain many postings (a server's, a file's), at the cost of time once (up to
    /// seconds for deep trees) and memory (up to 256 MiB).
    pub fn answer_ahead(&mut self) {
        self.mean_trees.answer_ahead();
    }

    /// Estimates, intervals and explanations for `facts`.
    pub fn predict(&self, facts: &[PostingFacts], skill_name: &dyn Fn(&str) -> String) -> Result<Vec<Estimate>, MlError> {
        self.estimate(facts, Some(skill_name))
    }

    /// Estimates and intervals without explanations (SHAP values cost several times the
    /// prediction itself), for callers that do not show them.
    pub fn predict_without_explanations(&self, facts: &[PostingFacts]) -> Result<Vec<Estimate>, MlError> {
        self.estimate(facts, None)
    }

    fn estimate(&self, facts: &[PostingFacts], explain_with: Option<&dyn Fn(&str) -> String>) -> Result<Vec<Estimate>, MlError> {
        if facts.is_empty() {
            return Ok(Vec::new());
        }
        // Families are looked up once per posting: the matrix and the explanation share them.
        let facts: Vec<Cow<'_, PostingFacts>> = facts.iter().map(|f| self.with_family(f)).collect();
        let x = self.encode(&facts);
        let width = x.cols + 1;
        let mean = self.mean_trees.predict(&x)?;
        let levels = self.quantile_trees.predict(&x)?;
        let contributions = if explain_with.is_some() {
            self.mean_trees.contributions(&x)?
        } else {
            Vec::new()
        };
        let offset = self.calibration.offset;
        // The interval's ends: the quantile model's first and last levels.
        let levels_per_row = self.quantile_trees.outputs();
        Ok(facts
            .iter()
            .enumerate()
            .map(|(row, f)| {
                let log_estimate = f64::from(mean[row]);
                let low = (f64::from(levels[row * levels_per_row]) - offset).min(log_estimate);
                let high = (f64::from(levels[(row + 1) * levels_per_row - 1]) + offset).max(log_estimate);
                let estimate = log_estimate.exp();
                Estimate {
                    estimate,
                    low: low.exp(),
                    high: high.exp(),
                    currency: "USD",
                    period: "year",
                    interval_coverage: self.calibration.nominal_coverage,
                    contributions: explain_with.map_or_else(Vec::new, |skill_name| {
                        explain(&self.spec, f, &contributions[row * width..(row + 1) * width], estimate, skill_name)
                    }),
                    notes: self.notes(f),
                }
            })
            .collect())
    }
}

impl SalaryModel {
    /// What makes an estimate for `facts` less trustworthy.
    fn notes(&self, facts: &PostingFacts) -> Vec<String> {
        let mut notes = Vec::new();
        let terms = crate::ml::features::title_terms(&facts.title);
        if !self.spec.title_words.iter().any(|w| terms.contains(w)) {
            notes.push(format!(
                "low confidence: no word of the title {:?} is among the {} title words the model learned from",
                facts.title,
                self.spec.title_words.len()
            ));
        }
        match facts.country.as_deref() {
            Some(country) if !self.spec.countries.iter().any(|c| c == country) => {
                notes.push(format!(
                    "low confidence: the training data has too few postings from {country} to learn its pay level"
                ));
            }
            None if facts.state.is_none() => notes.push("no location given or recognised: the estimate is for an unknown place".into()),
            _ => {}
        }
        notes
    }
}

/// A booster, whether or not a thread panicked while holding it (XGBoost's calls leave it whole).
fn locked(booster: &Mutex<Model>) -> MutexGuard<'_, Model> {
    booster.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Pretty JSON with a trailing newline (files people read and diff).
pub fn pretty_json<T: Serialize>(value: &T) -> Result<Vec<u8>, MlError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| MlError::Invalid(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::QUANTILES;
    use super::*;
    use crate::ml::boost::{BoostParams, Objective, train};
    use crate::ml::features::{FeatureOptions, Reference};

    /// A saved model of two small boosters over the columns of an empty spec, of which they use
    /// two: seniority and years of experience.
    fn saved(dir: &Path) -> (SalaryModel, Matrix) {
        saved_with_levels(dir, &QUANTILES)
    }

    fn saved_with_levels(dir: &Path, levels: &[f32]) -> (SalaryModel, Matrix) {
        let spec = FeatureSpec::fit(&[], FeatureOptions::default(), &Reference::default());
        let mut x = Vec::new();
        let mut y = Vec::new();
        for r in 0..200 {
            spec.encode(&facts_of(r), &mut x);
            y.push((r % 8) as f32 * 2.0 - (r % 13) as f32 + (r % 5) as f32);
        }
        let x = Matrix::new(x, spec.width());
        let params = BoostParams {
            max_depth: 3,
            eta: 0.3,
            rounds: 10,
            min_child_weight: 1.0,
            subsample: 1.0,
            colsample_bytree: 1.0,
            lambda: 1.0,
        };
        let mean = train(&x, &y, &params, &Objective::Mean, 1).expect("trains");
        let quantiles = train(&x, &y, &params, &Objective::Quantiles(levels.to_vec()), 1).expect("trains");
        let calibration = Calibration {
            nominal_coverage: 0.8,
            offset: 0.1,
            raw_coverage: 0.7,
            calibrated_coverage: 0.8,
        };
        let model = SalaryModel::new(spec, mean, quantiles, calibration).expect("builds");
        model.save(dir).expect("saves");
        (model, x)
    }

    #[test]
    fn a_loaded_model_predicts_as_the_saved_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (model, x) = saved(dir.path());
        let loaded = SalaryModel::load(dir.path()).expect("loads");
        assert_eq!(
            loaded.mean_trees.predict(&x).expect("predicts"),
            model.mean_trees.predict(&x).expect("predicts")
        );
        assert_eq!(
            loaded.quantile_trees.predict(&x).expect("predicts"),
            model.quantile_trees.predict(&x).expect("predicts")
        );
    }

    /// Posting `r` of the test models: seniority `r % 8`, `r % 13` years.
    fn facts_of(r: usize) -> PostingFacts {
        PostingFacts {
            seniority: Some(crate::ml::features::SENIORITY[r % 8].to_string()),
            min_years_experience: Some((r % 13) as i32),
            ..PostingFacts::default()
        }
    }

    #[test]
    fn the_interval_spans_the_first_and_last_levels_of_older_three_level_models_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        saved_with_levels(dir.path(), &[0.1, 0.5, 0.9]);
        let loaded = SalaryModel::load(dir.path()).expect("loads");
        let facts: Vec<PostingFacts> = (0..40).map(facts_of).collect();
        let x = loaded.matrix(&facts);
        let mean = loaded.mean_trees.predict(&x).expect("predicts");
        let levels = loaded.quantile_trees.predict(&x).expect("predicts");
        let offset = loaded.calibration.offset;
        let estimates = loaded.predict_without_explanations(&facts).expect("estimates");
        for (row, estimate) in estimates.iter().enumerate() {
            let log_estimate = f64::from(mean[row]);
            let low = (f64::from(levels[row * 3]) - offset).min(log_estimate).exp();
            let high = (f64::from(levels[row * 3 + 2]) + offset).max(log_estimate).exp();
            assert!(
                (estimate.low - low).abs() < 1e-9 && (estimate.high - high).abs() < 1e-9,
                "row {row}: {estimate:?}"
            );
        }
        assert!(estimates.iter().any(|e| e.low < e.estimate && e.estimate < e.high));
    }

    #[test]
    fn a_quantile_model_of_one_level_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        saved_with_levels(dir.path(), &[0.5]);
        let message = SalaryModel::load(dir.path()).err().expect("refused").to_string();
        assert!(message.contains(QUANTILE_FILE) && message.contains("1 level"), "{message}");
    }

    #[test]
    fn a_booster_file_that_cannot_be_used_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        saved(dir.path());
        let mean = dir.path().join(MEAN_FILE);
        let text = std::fs::read_to_string(&mean).expect("reads");
        // XGBoost loads a logistic model; the in-process trees refuse it.
        std::fs::write(&mean, text.replace("reg:squarederror", "binary:logistic")).expect("writes");
        let message = SalaryModel::load(dir.path()).err().expect("refused").to_string();
        assert!(message.starts_with(&mean.display().to_string()), "{message}");
        assert!(message.contains("binary:logistic"), "{message}");
        std::fs::write(&mean, &text).expect("writes");
        let quantiles = dir.path().join(QUANTILE_FILE);
        std::fs::write(&quantiles, "{\"learner\":").expect("writes");
        let message = SalaryModel::load(dir.path()).err().expect("refused").to_string();
        assert!(message.starts_with(&quantiles.display().to_string()), "{message}");
    }
}

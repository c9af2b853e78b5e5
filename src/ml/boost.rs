//! A thin layer over XGBoost (the `xgb` crate): dense matrices, training with the parameters
//! the salary model uses, predictions, SHAP contributions, and the JSON model format Python's
//! `xgboost` loads.

use serde::{Deserialize, Serialize};
use xgb::{Booster, DMatrix};

use super::MlError;
use super::trees::Forest;

/// A dense row-major matrix; NaN marks a missing value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    pub data: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
}

impl Matrix {
    pub fn new(data: Vec<f32>, cols: usize) -> Self {
        let rows = data.len().checked_div(cols).unwrap_or(0);
        Matrix { data, rows, cols }
    }

    fn dmatrix(&self) -> Result<DMatrix, MlError> {
        if self.rows == 0 {
            return Err(MlError::NotEnoughData("an empty matrix".into()));
        }
        Ok(DMatrix::from_dense(&self.data, self.rows)?)
    }
}

/// Histogram bins per column (XGBoost's default is 256). Most columns are indicators with one
/// value; the numeric ones (the cost-of-living index has 267 distinct values, years and n-gram
/// counts far fewer) are cut at 64 quantiles instead. Fewer bins make every split search
/// cheaper: a depth-9 booster trained in 2.2 s instead of 3.1 s at R² 0.7801 against 0.7803
/// (fold 1 of the demo lake's examples, Python `xgboost` on the matrix rats built, 2026-12-04).
const MAX_BIN: u32 = 64;

/// Tree-booster hyper-parameters (the ones cross-validation chooses among).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostParams {
    pub max_depth: u32,
    pub eta: f32,
    pub rounds: u32,
    pub min_child_weight: f32,
    pub subsample: f32,
    pub colsample_bytree: f32,
    pub lambda: f32,
}

/// What a model predicts: the conditional mean (squared error) or conditional quantiles
/// (pinball loss, one output per level).
#[derive(Debug, Clone, PartialEq)]
pub enum Objective {
    Mean,
    Quantiles(Vec<f32>),
}

impl Objective {
    fn outputs(&self) -> usize {
        match self {
            Objective::Mean => 1,
            Objective::Quantiles(levels) => levels.len(),
        }
    }
}

/// A trained booster and how many values it predicts per row.
pub struct Model {
    booster: Booster,
    outputs: usize,
}

/// Trains on `x`/`y` with `params`. Deterministic for a given seed: the same data gives a
/// byte-identical model.
pub fn train(x: &Matrix, y: &[f32], params: &BoostParams, objective: &Objective, seed: u64) -> Result<Model, MlError> {
    let train = {
        let mut m = x.dmatrix()?;
        m.set_labels(y)?;
        m
    };
    let mut booster = Booster::new_with_cached_dmats(&xgb::parameters::BoosterParameters::default(), &[&train])?;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut settings: Vec<(&str, String)> = vec![
        ("booster", "gbtree".into()),
        ("tree_method", "hist".into()),
        ("max_bin", MAX_BIN.to_string()),
        ("nthread", threads.to_string()),
        ("seed", seed.to_string()),
        ("max_depth", params.max_depth.to_string()),
        ("eta", params.eta.to_string()),
        ("min_child_weight", params.min_child_weight.to_string()),
        ("subsample", params.subsample.to_string()),
        ("colsample_bytree", params.colsample_bytree.to_string()),
        ("lambda", params.lambda.to_string()),
        ("verbosity", "0".into()),
    ];
    match objective {
        Objective::Mean => settings.push(("objective", "reg:squarederror".into())),
        Objective::Quantiles(levels) => {
            settings.push(("objective", "reg:quantileerror".into()));
            let levels: Vec<String> = levels.iter().map(f32::to_string).collect();
            settings.push(("quantile_alpha", format!("[{}]", levels.join(","))));
        }
    }
    for (name, value) in &settings {
        booster.set_param(name, value)?;
    }
    for round in 0..params.rounds {
        booster.update(&train, round as i32)?;
    }
    Ok(Model {
        booster,
        outputs: objective.outputs(),
    })
}

impl Model {
    /// Predictions, `outputs()` values per row (row-major).
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f32>, MlError> {
        let config = r#"{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": true}"#;
        let (values, _) = self.booster.predict_matrix(&x.dmatrix()?, config)?;
        if values.len() != x.rows * self.outputs {
            return Err(MlError::Xgboost(format!(
                "expected {} predictions for {} rows, got {}",
                x.rows * self.outputs,
                x.rows,
                values.len()
            )));
        }
        Ok(values)
    }

    /// SHAP values: per row, one contribution per column and the bias last (`cols + 1`
    /// values), summing to the prediction. Single-output models only. rats explains with its
    /// own trees ([`Forest::contributions`]); this is XGBoost's answer they are tested against.
    #[cfg(test)]
    pub fn contributions(&self, x: &Matrix) -> Result<Vec<f32>, MlError> {
        let (values, (_, width)) = self.booster.predict_contributions(&x.dmatrix()?)?;
        if width != x.cols + 1 || self.outputs != 1 {
            return Err(MlError::Xgboost(format!("contributions of width {width} for {} columns", x.cols)));
        }
        Ok(values)
    }

    /// The model in XGBoost's JSON format (what Python's `xgboost.Booster(model_file=…)` loads).
    pub fn to_json(&self) -> Result<Vec<u8>, MlError> {
        Ok(self.booster.save_buffer(false)?)
    }

    /// The trees, evaluated in process ([`Forest`]).
    pub fn forest(&self) -> Result<Forest, MlError> {
        Forest::from_json(&self.to_json()?)
    }

    pub fn from_json(bytes: &[u8], outputs: usize) -> Result<Self, MlError> {
        Ok(Model {
            booster: Booster::load_buffer(bytes)?,
            outputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Matrix, Vec<f32>) {
        let x: Vec<f32> = (0..600).map(|i| ((i * 7) % 13) as f32).collect();
        let m = Matrix::new(x, 3);
        let y = (0..m.rows).map(|r| m.data[r * 3] * 2.0 + m.data[r * 3 + 1]).collect();
        (m, y)
    }

    fn params() -> BoostParams {
        BoostParams {
            max_depth: 3,
            eta: 0.3,
            rounds: 30,
            min_child_weight: 1.0,
            subsample: 0.8,
            colsample_bytree: 1.0,
            lambda: 1.0,
        }
    }

    #[test]
    fn contributions_sum_to_the_prediction_and_json_round_trips() {
        let (x, y) = toy();
        let model = train(&x, &y, &params(), &Objective::Mean, 1).expect("trains");
        let predicted = model.predict(&x).expect("predicts");
        let contributions = model.contributions(&x).expect("explains");
        for row in 0..x.rows {
            let sum: f32 = contributions[row * 4..row * 4 + 4].iter().sum();
            assert!((sum - predicted[row]).abs() < 1e-3, "row {row}: {sum} vs {}", predicted[row]);
        }
        let json = model.to_json().expect("saves");
        let again = Model::from_json(&json, 1).expect("loads");
        assert_eq!(again.predict(&x).expect("predicts"), predicted);
        let twice = train(&x, &y, &params(), &Objective::Mean, 1).expect("trains");
        assert_eq!(twice.to_json().expect("saves"), json, "same data and seed, same bytes");
    }

    #[test]
    fn quantile_models_predict_ordered_levels() {
        let (x, y) = toy();
        // Noise the features do not explain, so the levels have a spread to learn.
        let y: Vec<f32> = y.iter().enumerate().map(|(r, v)| v + ((r * 37) % 11) as f32).collect();
        let model = train(&x, &y, &params(), &Objective::Quantiles(vec![0.1, 0.5, 0.9]), 1).expect("trains");
        let predicted = model.predict(&x).expect("predicts");
        assert_eq!(predicted.len(), x.rows * 3);
        let ordered = (0..x.rows).filter(|r| predicted[r * 3] <= predicted[r * 3 + 2]).count();
        assert!(ordered * 10 >= x.rows * 9, "P10 ≤ P90 on {ordered} of {} rows", x.rows);
        let apart = (0..x.rows).filter(|r| predicted[r * 3 + 2] - predicted[r * 3] > 2.0).count();
        assert!(apart * 10 >= x.rows * 9, "P90 − P10 > 2 on {apart} of {} rows", x.rows);
    }
}

//! The salary model: yearly pay in US dollars predicted on the log scale by XGBoost, with an
//! 80 % interval from quantile models (P10, P90) widened by conformal calibration on
//! out-of-fold predictions, and an explanation of every estimate.
//!
//! [`train`] runs the grouped cross-validation and fits the final models; [`evaluate`] adds the
//! baselines, ablations and leave-one-dataset-out the report needs; [`SalaryModel`] loads a
//! saved version and predicts.

pub mod evaluate;
pub mod model;
pub mod premiums;
pub mod query;
pub mod report;
pub mod train;
pub mod version;

pub use model::{Estimate, SalaryModel};
pub use train::{TrainOptions, Trained, train};

/// The quantile levels of the interval model; P50 is kept for the report.
pub const QUANTILES: [f32; 3] = [0.1, 0.5, 0.9];
/// The interval's nominal coverage (P10–P90).
pub const COVERAGE: f64 = 0.8;

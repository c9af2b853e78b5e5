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

/// The quantile levels of the interval model: the interval's ends. (Versions trained before
/// 2026-12-04 also hold P50, which nothing read; a saved model's first and last levels are its
/// ends whatever their number.)
pub const QUANTILES: [f32; 2] = [0.1, 0.9];
/// The interval's nominal coverage (P10–P90).
pub const COVERAGE: f64 = 0.8;

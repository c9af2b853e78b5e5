//! Machine learning on the lake: the salary model (XGBoost with quantile intervals and
//! per-prediction explanations) and the model registry the commands and `serve` load from.
//!
//! Training reads silver only; a model never sees a posting's own pay among its inputs. Every
//! evaluation splits by group (company, else title and place) so one employer's postings never
//! sit on both sides of a split.

pub mod boost;
pub mod card;
pub mod dataset;
pub mod due;
pub mod explain;
pub mod facts;
pub mod features;
pub mod folds;
pub mod metrics;
pub mod occupation;
pub mod registry;
pub mod ridge;
pub mod salary;
pub mod top;
pub mod trees;

use std::path::PathBuf;

/// What can go wrong while training, saving, loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    #[error("XGBoost: {0}")]
    Xgboost(String),
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<xgb::XGBError> for MlError {
    fn from(e: xgb::XGBError) -> Self {
        MlError::Xgboost(e.to_string())
    }
}

impl MlError {
    /// An I/O or format error about `path`.
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        MlError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

//! Job–résumé matching: résumés and postings read into profiles, embedded with a sentence
//! encoder, compared feature by feature and scored by a learned combination; evaluated on
//! labelled pairs (the rjdb layout) against simple baselines.

pub mod baselines;
pub mod candidates;
pub mod document;
pub mod embed;
pub mod eval;
pub mod features;
pub mod language;
pub mod model;
pub mod profile;
pub mod rank;
pub mod rjdb;
pub mod scorer;
pub mod sections;
pub mod train;
pub mod vectors;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("sentence encoder: {0}")]
    Encoder(String),
    #[error(transparent)]
    Ml(#[from] crate::ml::MlError),
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("{0}")]
    Invalid(String),
}

impl MatchError {
    /// An I/O or format error about `path`.
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        MatchError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

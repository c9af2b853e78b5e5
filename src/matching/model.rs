//! A trained match model as the registry keeps it: the scorer's weights (`scorer.json`) and
//! the sentence encoder it was fitted with (`encoder/`, copied in so a version is complete on
//! its own and its scores never change under it).

use std::path::Path;

use super::MatchError;
use super::embed::{self, SentenceEncoder};
use super::scorer::Scorer;
use crate::ml::salary::model::pretty_json;

pub const KIND: &str = "match";
pub const SCORER_FILE: &str = "scorer.json";
pub const ENCODER_DIR: &str = "encoder";

pub struct MatchModel {
    pub scorer: Scorer,
    pub encoder: SentenceEncoder,
}

impl MatchModel {
    pub fn load(dir: &Path) -> Result<Self, MatchError> {
        let path = dir.join(SCORER_FILE);
        let bytes = std::fs::read(&path).map_err(|e| MatchError::file(&path, e))?;
        let scorer = serde_json::from_slice(&bytes).map_err(|e| MatchError::file(&path, e))?;
        Ok(Self {
            scorer,
            encoder: SentenceEncoder::load(&dir.join(ENCODER_DIR))?,
        })
    }
}

/// Writes `scorer` and a copy of the encoder folder `encoder` into the version folder `dir`.
pub fn save(dir: &Path, scorer: &Scorer, encoder: &Path) -> Result<(), MatchError> {
    let path = dir.join(SCORER_FILE);
    std::fs::write(&path, pretty_json(scorer)?).map_err(|e| MatchError::file(&path, e))?;
    let target = dir.join(ENCODER_DIR);
    std::fs::create_dir_all(&target).map_err(|e| MatchError::file(&target, e))?;
    for file in embed::FILES {
        std::fs::copy(encoder.join(file), target.join(file)).map_err(|e| MatchError::file(encoder.join(file), e))?;
    }
    Ok(())
}

//! A trained match model as the registry keeps it: the scorer's weights (`scorer.json`), the
//! skills-only fallback's (`fallback.json`: fitted without the sentence encoder's signal, for
//! when the encoder is too busy to embed a résumé in time) and the sentence encoder it was
//! fitted with (`encoder/`, copied in so a version is complete on its own and its scores never
//! change under it).

use std::path::Path;

use super::MatchError;
use super::embed::{self, SentenceEncoder};
use super::scorer::Scorer;
use crate::ml::salary::model::pretty_json;

pub const KIND: &str = "match";
pub const SCORER_FILE: &str = "scorer.json";
pub const FALLBACK_FILE: &str = "fallback.json";
pub const ENCODER_DIR: &str = "encoder";

pub struct MatchModel {
    pub scorer: Scorer,
    /// `None` for versions trained before the fallback existed.
    pub fallback: Option<Scorer>,
    pub encoder: SentenceEncoder,
}

impl MatchModel {
    pub fn load(dir: &Path) -> Result<Self, MatchError> {
        let read_scorer = |path: &Path| -> Result<Scorer, MatchError> {
            let bytes = std::fs::read(path).map_err(|e| MatchError::file(path, e))?;
            serde_json::from_slice(&bytes).map_err(|e| MatchError::file(path, e))
        };
        let fallback = dir.join(FALLBACK_FILE);
        Ok(Self {
            scorer: read_scorer(&dir.join(SCORER_FILE))?,
            fallback: fallback.exists().then(|| read_scorer(&fallback)).transpose()?,
            encoder: SentenceEncoder::load(&dir.join(ENCODER_DIR))?,
        })
    }
}

/// Writes `scorer`, the skills-only `fallback` and a copy of the encoder folder `encoder` into
/// the version folder `dir`.
pub fn save(dir: &Path, scorer: &Scorer, fallback: &Scorer, encoder: &Path) -> Result<(), MatchError> {
    for (file, weights) in [(SCORER_FILE, scorer), (FALLBACK_FILE, fallback)] {
        let path = dir.join(file);
        std::fs::write(&path, pretty_json(weights)?).map_err(|e| MatchError::file(&path, e))?;
    }
    let target = dir.join(ENCODER_DIR);
    std::fs::create_dir_all(&target).map_err(|e| MatchError::file(&target, e))?;
    for file in embed::FILES {
        std::fs::copy(encoder.join(file), target.join(file)).map_err(|e| MatchError::file(encoder.join(file), e))?;
    }
    Ok(())
}

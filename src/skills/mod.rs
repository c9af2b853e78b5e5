//! Skills: the taxonomy, the gazetteer over it, the learned span model for what the taxonomy
//! lacks, their evaluation on SkillSpan, the knowledge graph and taxonomy imports.
//!
//! Offsets given to users are character offsets (Unicode scalar values) into the text, the way
//! Python slices strings; inside, matching works on byte offsets and converts at the edge.

pub mod conll;
pub mod crf;
pub mod encoder;
pub mod encoder_tagger;
pub mod eval;
pub mod extract;
pub mod gazetteer;
pub mod graph;
pub mod import;
pub mod inference_gelu;
pub mod model;
pub mod tagger;
pub mod taxonomy;
pub mod tokens;
pub mod training;

pub use extract::{Extractor, Mention};
pub use taxonomy::{Skill, Taxonomy, TaxonomyError};

use std::path::Path;

/// Why the skill extractor could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    #[error(transparent)]
    Model(#[from] tagger::ModelError),
    #[error(transparent)]
    Build(#[from] gazetteer::BuildError),
}

/// The extractor for a taxonomy file (built-in when `None`) and an optional span model (a
/// perceptron file or an encoder folder).
pub fn load(taxonomy: Option<&Path>, model: Option<&Path>) -> Result<Extractor, LoadError> {
    let taxonomy = Taxonomy::load(taxonomy)?;
    let model = model.map(model::SpanTagger::load).transpose()?;
    Ok(Extractor::new(taxonomy, model)?)
}

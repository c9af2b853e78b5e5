//! The learned span model behind the extractor: the averaged perceptron (`tagger`, a file,
//! fast enough for consume) or the fine-tuned encoder (`encoder_tagger`, a folder, the more
//! accurate one). `load` tells them apart by what the path is.

use std::path::Path;

use super::encoder_tagger::EncoderTagger;
use super::extract::span_features;
use super::gazetteer::Found;
use super::tagger::{Label, ModelError, SpanModel, TokenSpan};
use super::taxonomy::Taxonomy;
use super::tokens::Token;

pub enum SpanTagger {
    Perceptron(SpanModel),
    Encoder(Box<EncoderTagger>),
}

/// One sentence to tag: its text, tokens and the gazetteer's matches in it.
pub struct SentenceInput<'a> {
    pub text: &'a str,
    pub tokens: &'a [Token],
    pub found: &'a [Found],
}

impl SpanTagger {
    /// A folder is an encoder model, a file a perceptron model.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        if path.is_dir() {
            Ok(Self::Encoder(Box::new(EncoderTagger::load(path)?)))
        } else {
            Ok(Self::Perceptron(SpanModel::load(path)?))
        }
    }

    /// Spans of both labels in each sentence.
    pub fn tag(&self, taxonomy: &Taxonomy, sentences: &[SentenceInput<'_>]) -> Result<Vec<Vec<(Label, TokenSpan)>>, ModelError> {
        match self {
            Self::Perceptron(model) => Ok(sentences
                .iter()
                .map(|s| model.tag(&span_features(taxonomy, s.text, s.tokens, s.found)))
                .collect()),
            Self::Encoder(model) => {
                let words: Vec<Vec<&str>> = sentences
                    .iter()
                    .map(|s| s.tokens.iter().map(|t| &s.text[t.start..t.end]).collect())
                    .collect();
                model.tag_many(&words)
            }
        }
    }
}

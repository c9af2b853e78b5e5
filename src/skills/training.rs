//! Training data for the span model: SkillSpan CoNLL files turned into per-label examples with
//! the same features extraction computes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::conll::{self, ConllError, Sentence};
use super::extract::span_features;
use super::gazetteer::Gazetteer;
use super::tagger::{self, Corpus, Example, Label};
use super::taxonomy::Taxonomy;
use super::tokens;

/// Both layers' examples from `paths`; the gazetteer's matches become features.
pub fn corpus(paths: &[PathBuf], taxonomy: &Taxonomy, gazetteer: &Gazetteer) -> Result<Corpus, ConllError> {
    let mut examples: BTreeMap<Label, Vec<Example>> = BTreeMap::new();
    for path in paths {
        for sentence in &conll::read(path)? {
            add(sentence, taxonomy, gazetteer, &mut examples);
        }
    }
    Ok(Corpus {
        files: paths.iter().map(|p| file_name(p)).collect(),
        examples,
    })
}

fn add(sentence: &Sentence, taxonomy: &Taxonomy, gazetteer: &Gazetteer, examples: &mut BTreeMap<Label, Vec<Example>>) {
    let (text, toks) = tokens::join(&sentence.words);
    let features = span_features(taxonomy, &text, &toks, &gazetteer.find(&text));
    for label in Label::ALL {
        examples.entry(label).or_default().push(Example {
            features: features.clone(),
            gold: tagger::tags_from_spans(toks.len(), sentence.spans(label)),
        });
    }
}

/// A path's file name (the whole path when it has none): how models name their training files.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

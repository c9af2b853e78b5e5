//! The extractor users call: the gazetteer's taxonomy matches plus, when a span model is
//! loaded, the learned SKILL and KNOWLEDGE spans the taxonomy does not cover (linked to a
//! taxonomy id when the whole span is one of its spellings, otherwise kept as emerging skills).

use std::sync::Arc;

use serde::Serialize;

use super::gazetteer::{Found, Gazetteer};
use super::model::{SentenceInput, SpanTagger};
use super::tagger::{self, Label, Mark, ModelError, TokenFeatures, TokenSpan};
use super::taxonomy::Taxonomy;
use super::tokens::{self, Token};

/// Where a mention came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Taxonomy,
    Model,
}

/// One skill mention. `start`/`end` are character offsets into the text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// The taxonomy id, or `None` for an emerging skill the taxonomy does not list.
    pub id: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub surface: String,
    pub start: usize,
    pub end: usize,
    pub origin: Origin,
    /// The SkillSpan layer of a learned span (`None` for taxonomy matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
}

/// A mention without strings: the taxonomy index (none for an emerging skill), offsets and,
/// for a learned span, its label. `extract` turns these into [`Mention`]s; consume stores them
/// as they are, since names, categories and surfaces follow from the id and the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub skill: Option<usize>,
    pub start: usize,
    pub end: usize,
    pub label: Option<Label>,
}

pub struct Extractor {
    taxonomy: Taxonomy,
    /// Skill ids shared by every posting that mentions them (no string per mention).
    ids: Vec<Arc<str>>,
    gazetteer: Gazetteer,
    model: Option<SpanTagger>,
}

impl Extractor {
    pub fn new(taxonomy: Taxonomy, model: Option<SpanTagger>) -> Result<Self, super::gazetteer::BuildError> {
        let gazetteer = Gazetteer::new(&taxonomy)?;
        let ids = taxonomy.skills.iter().map(|s| Arc::from(s.id.as_str())).collect();
        Ok(Self {
            taxonomy,
            ids,
            gazetteer,
            model,
        })
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The shared id of taxonomy skill `index`.
    pub fn id(&self, index: usize) -> &Arc<str> {
        &self.ids[index]
    }

    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    pub fn model(&self) -> Option<&SpanTagger> {
        self.model.as_ref()
    }

    /// Every mention in `text`, in text order.
    pub fn extract(&self, text: &str) -> Result<Vec<Mention>, ModelError> {
        let hits = self.byte_hits(text)?;
        let offsets = char_offsets(text, hits.iter().flat_map(|h| [h.start, h.end]).collect());
        Ok(hits
            .into_iter()
            .map(|hit| {
                let surface = text[hit.start..hit.end].to_string();
                let skill = hit.skill.map(|i| &self.taxonomy.skills[i]);
                Mention {
                    id: skill.map(|s| s.id.clone()),
                    name: skill.map_or_else(|| normalised_phrase(&surface), |s| s.name.clone()),
                    category: skill.map(|s| s.category.clone()),
                    surface,
                    start: offsets(hit.start),
                    end: offsets(hit.end),
                    origin: if hit.label.is_some() { Origin::Model } else { Origin::Taxonomy },
                    label: hit.label,
                }
            })
            .collect())
    }

    /// Every mention in `text`, in text order, with character offsets.
    pub fn hits(&self, text: &str) -> Result<Vec<Hit>, ModelError> {
        let mut hits = self.byte_hits(text)?;
        let offsets = char_offsets(text, hits.iter().flat_map(|h| [h.start, h.end]).collect());
        for hit in &mut hits {
            hit.start = offsets(hit.start);
            hit.end = offsets(hit.end);
        }
        Ok(hits)
    }

    /// The same with byte offsets.
    fn byte_hits(&self, text: &str) -> Result<Vec<Hit>, ModelError> {
        let found = self.gazetteer.find(text);
        let mut hits: Vec<Hit> = found
            .iter()
            .map(|f| Hit {
                skill: Some(f.skill),
                start: f.start,
                end: f.end,
                label: None,
            })
            .collect();
        let Some(model) = &self.model else {
            return Ok(hits);
        };
        let mut units = Vec::new();
        for (from, to) in segments(text) {
            let segment = &text[from..to];
            let toks = tokens::tokenize(segment);
            if toks.is_empty() {
                continue;
            }
            let local: Vec<Found> = found
                .iter()
                .filter(|f| f.start >= from && f.end <= to)
                .map(|f| Found {
                    skill: f.skill,
                    start: f.start - from,
                    end: f.end - from,
                })
                .collect();
            units.push((from, segment, toks, local));
        }
        let inputs: Vec<SentenceInput<'_>> = units
            .iter()
            .map(|(_, segment, toks, local)| SentenceInput {
                text: segment,
                tokens: toks,
                found: local,
            })
            .collect();
        let tagged = model.tag(&self.taxonomy, &inputs)?;
        for ((from, segment, toks, _), spans) in units.iter().zip(tagged) {
            for (label, span) in spans {
                let Some((start, end)) = tokens::trimmed_range(segment, toks, span.first, span.last) else {
                    continue;
                };
                let (start, end) = (start + from, end + from);
                if found.iter().any(|f| f.start < end && start < f.end) {
                    continue;
                }
                hits.push(Hit {
                    skill: self.gazetteer.lookup(&text[start..end]),
                    start,
                    end,
                    label: Some(label),
                });
            }
        }
        hits.sort_by_key(|h| (h.start, h.end));
        Ok(hits)
    }
}

/// The span model's features of one sentence, the gazetteer's matches in it included: the same
/// for training, evaluation and extraction.
pub fn span_features(taxonomy: &Taxonomy, text: &str, toks: &[Token], found: &[Found]) -> Vec<TokenFeatures> {
    tagger::features(text, toks, &marks(taxonomy, toks, found))
}

/// The gazetteer's reading of each token, as span-model features.
fn marks<'t>(taxonomy: &'t Taxonomy, toks: &[Token], found: &[Found]) -> Vec<Option<Mark<'t>>> {
    let mut marks = vec![None; toks.len()];
    for f in found {
        let category = taxonomy.skills[f.skill].category.as_str();
        let mut first = true;
        for (i, t) in toks.iter().enumerate() {
            if t.start < f.end && f.start < t.end {
                marks[i] = Some(Mark { begins: first, category });
                first = false;
            }
        }
    }
    marks
}

/// Token spans covered by gazetteer matches.
pub fn token_spans(toks: &[Token], found: &[Found]) -> Vec<(usize, TokenSpan)> {
    found
        .iter()
        .filter_map(|f| {
            let covered: Vec<usize> = toks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.start < f.end && f.start < t.end)
                .map(|(i, _)| i)
                .collect();
            Some((
                f.skill,
                TokenSpan {
                    first: *covered.first()?,
                    last: *covered.last()?,
                },
            ))
        })
        .collect()
}

/// Lines, and sentences within lines: the units the span model was trained on.
fn segments(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let sentence_end = matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace);
        if b == b'\n' || sentence_end {
            let end = if b == b'\n' { i } else { i + 1 };
            if end > start {
                out.push((start, end));
            }
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Lower case, single spaces: how an emerging skill is named.
fn normalised_phrase(surface: &str) -> String {
    surface.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A byte → character offset function for the given positions, computed in one pass.
fn char_offsets(text: &str, mut wanted: Vec<usize>) -> impl Fn(usize) -> usize + use<> {
    wanted.sort_unstable();
    wanted.dedup();
    let mut table = Vec::with_capacity(wanted.len());
    let mut chars = 0;
    let mut last = 0;
    for &at in &wanted {
        chars += text[last..at].chars().count();
        last = at;
        table.push((at, chars));
    }
    move |byte| table.binary_search_by_key(&byte, |(b, _)| *b).map_or(0, |i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_carry_ids_categories_and_character_offsets() {
        let extractor = Extractor::new(Taxonomy::built_in().expect("valid"), None).expect("builds");
        let text = "Café team: Python & PostgreSQL";
        let mentions = extractor.extract(text).expect("no model");
        let got: Vec<(Option<&str>, &str, usize, usize)> = mentions
            .iter()
            .map(|m| (m.id.as_deref(), m.surface.as_str(), m.start, m.end))
            .collect();
        assert_eq!(
            got,
            [(Some("python"), "Python", 11, 17), (Some("postgresql"), "PostgreSQL", 20, 30)]
        );
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[11..17].iter().collect::<String>(), "Python");
        assert_eq!(mentions[0].category.as_deref(), Some("language"));
    }

    #[test]
    fn segments_split_lines_and_sentences() {
        let text = "One. Two\nThree 3.5 four";
        let parts: Vec<&str> = segments(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(parts, ["One.", " Two", "Three 3.5 four"]);
    }
}

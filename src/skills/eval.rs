//! Span-level evaluation on SkillSpan-style CoNLL files: strict (exact token span) and partial
//! (any overlap) precision, recall and F1, per label and per taxonomy category, for the
//! gazetteer alone, the span model alone and the full extractor.
//!
//! How the gazetteer maps to SkillSpan's layers: soft skills are SKILL spans (abilities), every
//! other category is KNOWLEDGE (tools, technologies, methods, domains). A span's category is its
//! taxonomy skill's category; gold spans get the category of the skill they spell exactly, else
//! `not_in_taxonomy`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Extractor;
use super::conll::Sentence;
use super::extract::token_spans;
use super::gazetteer::Found;
use super::model::SentenceInput;
use super::tagger::{Label, ModelError, TokenSpan};
use super::tokens::{self, Token};

/// The category scored as SkillSpan's SKILL layer.
const SOFT_SKILL: &str = "soft_skill";

/// Category of spans the taxonomy has no entry for.
pub const NOT_IN_TAXONOMY: &str = "not_in_taxonomy";

/// Which predictions are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Gazetteer,
    Model,
    Full,
}

/// Precision, recall and F1 with the counts behind them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub predicted: usize,
    pub gold: usize,
    /// Predicted spans that count as correct.
    pub correct_predicted: usize,
    /// Gold spans that were found.
    pub found_gold: usize,
}

impl Prf {
    fn from_counts(correct_predicted: usize, predicted: usize, found_gold: usize, gold: usize) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(correct_predicted, predicted);
        let recall = ratio(found_gold, gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            precision,
            recall,
            f1,
            predicted,
            gold,
            correct_predicted,
            found_gold,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub strict: Prf,
    pub partial: Prf,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemScores {
    pub system: System,
    pub labels: BTreeMap<Label, Scores>,
    /// Strict scores per category, over both labels.
    pub categories: BTreeMap<String, Prf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub files: Vec<String>,
    pub sentences: usize,
    pub systems: Vec<SystemScores>,
}

/// A predicted or gold span with its label and category.
#[derive(Debug, Clone)]
struct Span {
    label: Label,
    tokens: TokenSpan,
    category: String,
}

/// Per system: counts per label, and strict counts per category.
type Tallies = (BTreeMap<Label, Tally>, BTreeMap<String, [usize; 4]>);

#[derive(Default)]
struct Tally {
    strict: [usize; 4],
    partial: [usize; 4],
}

/// Scores every system the extractor can run (the model ones only when it has a model).
pub fn evaluate(extractor: &Extractor, files: Vec<String>, sentences: &[Sentence]) -> Result<Report, ModelError> {
    let mut systems = vec![System::Gazetteer];
    if extractor.model().is_some() {
        systems.extend([System::Model, System::Full]);
    }
    let taxonomy = extractor.taxonomy();
    let gazetteer = extractor.gazetteer();
    let prepared: Vec<(String, Vec<Token>, Vec<Found>)> = sentences
        .iter()
        .map(|sentence| {
            let (text, toks) = tokens::join(&sentence.words);
            let found = gazetteer.find(&text);
            (text, toks, found)
        })
        .collect();
    let model_spans = match extractor.model() {
        Some(model) => {
            let inputs: Vec<SentenceInput<'_>> = prepared
                .iter()
                .map(|(text, toks, found)| SentenceInput { text, tokens: toks, found })
                .collect();
            model.tag(taxonomy, &inputs)?
        }
        None => vec![Vec::new(); sentences.len()],
    };
    let mut tallies: BTreeMap<System, Tallies> = BTreeMap::new();
    for ((sentence, (text, toks, found)), spans) in sentences.iter().zip(&prepared).zip(model_spans) {
        let category_of = |span: TokenSpan| {
            let phrase = &text[toks[span.first].start..toks[span.last].end];
            gazetteer
                .lookup(phrase)
                .map_or_else(|| NOT_IN_TAXONOMY.to_string(), |i| taxonomy.skills[i].category.clone())
        };
        let gold: Vec<Span> = Label::ALL
            .iter()
            .flat_map(|&label| sentence.spans(label).iter().map(move |&span| (label, span)))
            .map(|(label, span)| Span {
                label,
                tokens: span,
                category: category_of(span),
            })
            .collect();
        let from_gazetteer: Vec<Span> = token_spans(toks, found)
            .into_iter()
            .map(|(skill, span)| {
                let skill = &taxonomy.skills[skill];
                Span {
                    label: if skill.category == SOFT_SKILL {
                        Label::Skill
                    } else {
                        Label::Knowledge
                    },
                    tokens: span,
                    category: skill.category.clone(),
                }
            })
            .collect();
        let from_model: Vec<Span> = spans
            .into_iter()
            .map(|(label, span)| Span {
                label,
                tokens: span,
                category: category_of(span),
            })
            .collect();
        for &system in &systems {
            let predicted: Vec<Span> = match system {
                System::Gazetteer => from_gazetteer.clone(),
                System::Model => from_model.clone(),
                // What `Extractor::extract` returns: every gazetteer match, and the learned
                // spans that overlap none of them.
                System::Full => {
                    let mut all = from_gazetteer.clone();
                    all.extend(
                        from_model
                            .iter()
                            .filter(|m| !from_gazetteer.iter().any(|g| overlaps(m.tokens, g.tokens)))
                            .cloned(),
                    );
                    all
                }
            };
            let (labels, categories) = tallies.entry(system).or_default();
            tally(&predicted, &gold, labels, categories);
        }
    }
    let systems = tallies
        .into_iter()
        .map(|(system, (labels, categories))| SystemScores {
            system,
            labels: Label::ALL
                .iter()
                .map(|label| {
                    let t = labels.get(label).map_or([0; 8], |t| {
                        [
                            t.strict[0],
                            t.strict[1],
                            t.strict[2],
                            t.strict[3],
                            t.partial[0],
                            t.partial[1],
                            t.partial[2],
                            t.partial[3],
                        ]
                    });
                    (
                        *label,
                        Scores {
                            strict: Prf::from_counts(t[0], t[1], t[2], t[3]),
                            partial: Prf::from_counts(t[4], t[5], t[6], t[7]),
                        },
                    )
                })
                .collect(),
            categories: categories
                .into_iter()
                .map(|(c, t)| (c, Prf::from_counts(t[0], t[1], t[2], t[3])))
                .collect(),
        })
        .collect();
    Ok(Report {
        files,
        sentences: sentences.len(),
        systems,
    })
}

fn overlaps(a: TokenSpan, b: TokenSpan) -> bool {
    a.first <= b.last && b.first <= a.last
}

/// Adds one sentence's counts: [correct predicted, predicted, found gold, gold].
fn tally(predicted: &[Span], gold: &[Span], labels: &mut BTreeMap<Label, Tally>, categories: &mut BTreeMap<String, [usize; 4]>) {
    for p in predicted {
        let exact = gold.iter().any(|g| g.label == p.label && g.tokens == p.tokens);
        let touching = gold.iter().any(|g| g.label == p.label && overlaps(g.tokens, p.tokens));
        let t = labels.entry(p.label).or_default();
        t.strict[0] += usize::from(exact);
        t.strict[1] += 1;
        t.partial[0] += usize::from(touching);
        t.partial[1] += 1;
        let c = categories.entry(p.category.clone()).or_default();
        c[0] += usize::from(exact);
        c[1] += 1;
    }
    for g in gold {
        let exact = predicted.iter().any(|p| p.label == g.label && p.tokens == g.tokens);
        let touching = predicted.iter().any(|p| p.label == g.label && overlaps(g.tokens, p.tokens));
        let t = labels.entry(g.label).or_default();
        t.strict[2] += usize::from(exact);
        t.strict[3] += 1;
        t.partial[2] += usize::from(touching);
        t.partial[3] += 1;
        let c = categories.entry(g.category.clone()).or_default();
        c[2] += usize::from(exact);
        c[3] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::Taxonomy;

    fn sentence(words: &str, skill: &[(usize, usize)], knowledge: &[(usize, usize)]) -> Sentence {
        let spans = |v: &[(usize, usize)]| v.iter().map(|&(first, last)| TokenSpan { first, last }).collect();
        Sentence {
            words: words.split(' ').map(str::to_string).collect(),
            skill: spans(skill),
            knowledge: spans(knowledge),
        }
    }

    #[test]
    fn strict_and_partial_scores_count_what_they_should() {
        let extractor = Extractor::new(Taxonomy::built_in().expect("valid"), None).expect("builds");
        // Gold: "Python" and "Apache Kafka streams"; the gazetteer finds "Python" exactly and
        // "Apache Kafka" (overlapping, not exact) and "SQL" (not gold).
        let sentences = [sentence("Python , Apache Kafka streams and SQL", &[], &[(0, 0), (2, 4)])];
        let report = evaluate(&extractor, vec!["t".into()], &sentences).expect("no model");
        let knowledge = &report.systems[0].labels[&Label::Knowledge];
        assert_eq!((knowledge.strict.correct_predicted, knowledge.strict.predicted), (1, 3));
        assert_eq!((knowledge.strict.found_gold, knowledge.strict.gold), (1, 2));
        assert_eq!((knowledge.partial.correct_predicted, knowledge.partial.found_gold), (2, 2));
        assert!((knowledge.strict.f1 - 0.4).abs() < 1e-9, "{}", knowledge.strict.f1);
        assert_eq!(report.systems[0].categories["language"].predicted, 2);
        assert_eq!(report.systems[0].categories[NOT_IN_TAXONOMY].gold, 1);
    }
}

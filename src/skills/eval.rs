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

/// The counts behind one [`Prf`].
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    correct_predicted: usize,
    predicted: usize,
    found_gold: usize,
    gold: usize,
}

impl Counts {
    fn add_predicted(&mut self, correct: bool) {
        self.correct_predicted += usize::from(correct);
        self.predicted += 1;
    }

    fn add_gold(&mut self, found: bool) {
        self.found_gold += usize::from(found);
        self.gold += 1;
    }

    fn prf(self) -> Prf {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.correct_predicted, self.predicted);
        let recall = ratio(self.found_gold, self.gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
            predicted: self.predicted,
            gold: self.gold,
            correct_predicted: self.correct_predicted,
            found_gold: self.found_gold,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    strict: Counts,
    partial: Counts,
}

/// Per system: counts per label, and strict counts per category.
type Tallies = (BTreeMap<Label, Tally>, BTreeMap<String, Counts>);

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
                    let t = labels.get(label).copied().unwrap_or_default();
                    (
                        *label,
                        Scores {
                            strict: t.strict.prf(),
                            partial: t.partial.prf(),
                        },
                    )
                })
                .collect(),
            categories: categories.into_iter().map(|(c, t)| (c, t.prf())).collect(),
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

/// Adds one sentence's counts.
fn tally(predicted: &[Span], gold: &[Span], labels: &mut BTreeMap<Label, Tally>, categories: &mut BTreeMap<String, Counts>) {
    let exact = |a: &Span, b: &Span| a.label == b.label && a.tokens == b.tokens;
    let touching = |a: &Span, b: &Span| a.label == b.label && overlaps(a.tokens, b.tokens);
    for p in predicted {
        let t = labels.entry(p.label).or_default();
        let strict = gold.iter().any(|g| exact(g, p));
        t.strict.add_predicted(strict);
        t.partial.add_predicted(gold.iter().any(|g| touching(g, p)));
        categories.entry(p.category.clone()).or_default().add_predicted(strict);
    }
    for g in gold {
        let t = labels.entry(g.label).or_default();
        let strict = predicted.iter().any(|p| exact(p, g));
        t.strict.add_gold(strict);
        t.partial.add_gold(predicted.iter().any(|p| touching(p, g)));
        categories.entry(g.category.clone()).or_default().add_gold(strict);
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

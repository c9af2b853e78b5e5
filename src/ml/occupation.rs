//! Job titles to ESCO occupations: every occupation's labels (ESCO's preferred and alternative
//! labels) indexed by word unigrams, bigrams and character trigrams, scored by TF-IDF cosine
//! against a title. `rats occupation` ranks occupations for a title; the salary model uses the
//! best one as the posting's title family.
//!
//! The shared datasets' `taxonomies/esco/occupations.csv` has two columns, `id` (the concept
//! URI) and `description`: the labels run together, lower-case, followed by the occupation's
//! description, which starts with a capitalised word ("Bridge operators are responsible for …").
//! Rows that are ISCO groups rather than occupations are skipped.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::MlError;
use super::features::{tokens, word_ngrams};
use super::top::top_n;

/// One ESCO occupation and the labels it is found by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupation {
    pub uri: String,
    /// How the description names it ("Bridge operators").
    pub name: String,
    /// ESCO's preferred and alternative labels, run together.
    pub labels: String,
}

/// A ranked answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub uri: String,
    pub name: String,
    /// TF-IDF cosine of the title with the occupation's labels (0–1).
    pub score: f32,
}

/// Below this cosine a title's best occupation is a guess, not a family.
pub const MIN_FAMILY_SCORE: f32 = 0.3;

pub struct OccupationIndex {
    occupations: Vec<Occupation>,
    /// Term → (occupation, weight), weights L2-normalised per occupation.
    postings: HashMap<String, Vec<(u32, f32)>>,
    idf: HashMap<String, f32>,
}

impl OccupationIndex {
    /// Reads ESCO's occupations file.
    pub fn from_esco_csv(path: &Path) -> Result<Self, MlError> {
        let mut reader = csv::Reader::from_path(path).map_err(|e| MlError::file(path, e))?;
        let mut entries = Vec::new();
        for (row, record) in reader.records().enumerate() {
            let record = record.map_err(|e| MlError::file(path, format!("line {}: {e}", row + 2)))?;
            let (Some(uri), Some(text)) = (record.get(0), record.get(1)) else {
                return Err(MlError::file(
                    path,
                    format!("line {}: expected the columns id,description", row + 2),
                ));
            };
            if !uri.contains("/occupation/") {
                continue;
            }
            let (labels, name) = split_labels(text);
            entries.push(Occupation {
                uri: uri.to_string(),
                name,
                labels,
            });
        }
        if entries.is_empty() {
            return Err(MlError::file(path, "no ESCO occupation rows (ids containing /occupation/)"));
        }
        Ok(Self::new(entries))
    }

    /// An index of `occupations` (what [`OccupationIndex::occupations`] gave, as a model saves it).
    pub fn new(occupations: Vec<Occupation>) -> Self {
        let term_lists: Vec<Vec<String>> = occupations.iter().map(|o| terms(&format!("{} {}", o.labels, o.name))).collect();
        let mut document_frequency: HashMap<&str, u32> = HashMap::new();
        for list in &term_lists {
            let mut distinct: Vec<&str> = list.iter().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            for term in distinct {
                *document_frequency.entry(term).or_default() += 1;
            }
        }
        let n = occupations.len() as f32;
        let idf: HashMap<String, f32> = document_frequency
            .into_iter()
            .map(|(t, df)| (t.to_string(), (n / df as f32).ln() + 1.0))
            .collect();
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        for (i, list) in term_lists.iter().enumerate() {
            for (term, weight) in weighted(list, &idf) {
                postings.entry(term).or_default().push((i as u32, weight));
            }
        }
        OccupationIndex {
            occupations,
            postings,
            idf,
        }
    }

    pub fn occupations(&self) -> &[Occupation] {
        &self.occupations
    }

    /// The best occupation's URI when its score reaches `MIN_FAMILY_SCORE` (the title family).
    pub fn family(&self, title: &str) -> Option<String> {
        self.rank(title, 1).into_iter().find(|m| m.score >= MIN_FAMILY_SCORE).map(|m| m.uri)
    }

    pub fn len(&self) -> usize {
        self.occupations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.occupations.is_empty()
    }

    /// The `top` occupations for `title`, best first (none when no term is shared).
    pub fn rank(&self, title: &str, top: usize) -> Vec<Match> {
        // A dense accumulator: a title shares character trigrams with most occupations, so a
        // hash map of candidates costs more than one float per occupation.
        let mut scores = vec![0.0f32; self.occupations.len()];
        let mut touched = vec![false; self.occupations.len()];
        for (term, weight) in weighted(&terms(title), &self.idf) {
            if let Some(list) = self.postings.get(&term) {
                for (occupation, w) in list {
                    scores[*occupation as usize] += weight * w;
                    touched[*occupation as usize] = true;
                }
            }
        }
        let candidates: Vec<(u32, f32)> = scores
            .into_iter()
            .enumerate()
            .filter(|(i, _)| touched[*i])
            .map(|(i, score)| (i as u32, score))
            .collect();
        let best_first = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // A title touches most occupations (through character trigrams); one is a title family.
        top_n(candidates, top, best_first)
            .into_iter()
            .map(|(i, score)| {
                let o = &self.occupations[i as usize];
                Match {
                    uri: o.uri.clone(),
                    name: o.name.clone(),
                    score,
                }
            })
            .collect()
    }
}

/// Splits ESCO's run-together text into the labels and the description's subject ("Bridge
/// operators"), which names the occupation.
fn split_labels(text: &str) -> (String, String) {
    let start = text
        .char_indices()
        .zip(text.chars().skip(1))
        .find(|((i, c), next)| c.is_uppercase() && next.is_lowercase() && (*i == 0 || text[..*i].ends_with(' ')))
        .map_or(text.len(), |((i, _), _)| i);
    let (labels, description) = text.split_at(start);
    let label_words: std::collections::HashSet<String> = tokens(labels).into_iter().collect();
    let in_labels = |word: &str| {
        let w = word.to_lowercase();
        let singular = [
            w.strip_suffix("ies").map(|s| format!("{s}y")),
            w.strip_suffix("es").map(str::to_string),
            w.strip_suffix('s').map(str::to_string),
        ];
        label_words.contains(&w) || singular.into_iter().flatten().any(|s| label_words.contains(&s))
    };
    // The description's subject: its words that the labels also use ("Data scientists find …").
    let subject: Vec<&str> = description.split_whitespace().take_while(|w| in_labels(w)).take(8).collect();
    let name = if subject.is_empty() {
        labels.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
    } else {
        subject.join(" ")
    };
    (labels.trim().to_string(), name)
}

/// Word unigrams and bigrams, and character trigrams of each word (with boundary marks), so
/// "Sales representations" still meets "sales representative".
fn terms(text: &str) -> Vec<String> {
    let words = tokens(text);
    let mut out = word_ngrams(&words);
    for word in &words {
        let marked: Vec<char> = format!("<{word}>").chars().collect();
        out.extend(marked.windows(3).map(|w| format!("#{}", w.iter().collect::<String>())));
    }
    out
}

/// Sublinear TF × IDF, L2-normalised, in term order; terms unknown to the index are dropped.
fn weighted(terms: &[String], idf: &HashMap<String, f32>) -> Vec<(String, f32)> {
    let mut counts: HashMap<&str, f32> = HashMap::new();
    for term in terms {
        *counts.entry(term).or_default() += 1.0;
    }
    let mut out: Vec<(String, f32)> = counts
        .into_iter()
        .filter_map(|(t, c)| idf.get(t).map(|w| (t.to_string(), (1.0 + c.ln()) * w)))
        .collect();
    // A fixed order, so float sums (the norm here, the scores in `rank`) round the same way in
    // every run: hash-map order would make near-ties flip between runs.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let norm = out.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut out {
            *w /= norm;
        }
    }
    out
}

/// Every silver posting's title family: `(posting_key, title, best match)` for the postings whose
/// best occupation reaches [`MIN_FAMILY_SCORE`], in posting-key order.
pub fn assign(index: &OccupationIndex, lake: &Path) -> Result<Vec<(String, String, Match)>, MlError> {
    use deltalake::arrow::array::{Array, AsArray};
    let path = lake.join(crate::lake::SILVER);
    let batches = crate::lake::scan_table(&path, &["posting_key", "title"])?;
    let mut out = Vec::new();
    for batch in &batches {
        let (Some(keys), Some(titles)) = (batch.column(0).as_string_opt::<i32>(), batch.column(1).as_string_opt::<i32>()) else {
            return Err(MlError::file(&path, "posting_key and title are not string columns"));
        };
        for row in 0..batch.num_rows() {
            if keys.is_null(row) || titles.is_null(row) {
                continue;
            }
            if let Some(best) = index.rank(titles.value(row), 1).into_iter().find(|m| m.score >= MIN_FAMILY_SCORE) {
                out.push((keys.value(row).to_string(), titles.value(row).to_string(), best));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The gold table of [`assign`]'s answers.
pub fn assignments_batch(rows: &[(String, String, Match)]) -> deltalake::arrow::array::RecordBatch {
    use std::sync::Arc;

    use deltalake::arrow::array::{ArrayRef, Float32Array, RecordBatch, StringArray};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    let schema = Schema::new(vec![
        Field::new("posting_key", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("occupation_uri", DataType::Utf8, false),
        Field::new("occupation", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
    ]);
    let text = |f: &dyn Fn(&(String, String, Match)) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let columns = vec![
        text(&|r| &r.0),
        text(&|r| &r.1),
        text(&|r| &r.2.uri),
        text(&|r| &r.2.name),
        Arc::new(Float32Array::from_iter_values(rows.iter().map(|r| r.2.score))) as ArrayRef,
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("columns match the schema")
}

/// Where [`assign`]'s table lands in the lake.
pub const ASSIGNMENTS_TABLE: &str = "gold/posting_occupations";

/// Accuracy at 1 and 5 and mean reciprocal rank over labelled titles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupationScores {
    pub titles: usize,
    pub accuracy_at_1: f64,
    pub accuracy_at_5: f64,
    pub mrr: f64,
}

/// Scores the index on `(title, uri)` pairs; MRR counts ranks up to 100.
pub fn evaluate(index: &OccupationIndex, labelled: &[(String, String)]) -> OccupationScores {
    let (mut at1, mut at5, mut reciprocal) = (0usize, 0usize, 0.0f64);
    for (title, uri) in labelled {
        if let Some(rank) = index.rank(title, 100).iter().position(|m| &m.uri == uri) {
            at1 += usize::from(rank == 0);
            at5 += usize::from(rank < 5);
            reciprocal += 1.0 / (rank as f64 + 1.0);
        }
    }
    let n = labelled.len().max(1) as f64;
    OccupationScores {
        titles: labelled.len(),
        accuracy_at_1: at1 as f64 / n,
        accuracy_at_5: at5 as f64 / n,
        mrr: reciprocal / n,
    }
}

/// Reads a file in the layout of JobBERT's evaluation titles (`vacancyTitle`, `conceptUri`).
pub fn read_labelled(path: &Path) -> Result<Vec<(String, String)>, MlError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| MlError::file(path, e))?;
    let headers = reader.headers().map_err(|e| MlError::file(path, e))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            MlError::file(
                path,
                format!("no {name} column (the header is {})", headers.iter().collect::<Vec<_>>().join(",")),
            )
        })
    };
    let (title, uri) = (column("vacancyTitle")?, column("conceptUri")?);
    let mut out = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| MlError::file(path, format!("line {}: {e}", row + 2)))?;
        out.push((
            record.get(title).unwrap_or_default().to_string(),
            record.get(uri).unwrap_or_default().to_string(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESCO: &str = "id,description\n\
http://data.europa.eu/esco/occupation/a,\"bridge operator drawbridge operator Bridge operators are responsible for the operations of a bridge.\"\n\
http://data.europa.eu/esco/occupation/b,\"commercial sales representative sales executive field sales consultant Commercial sales representatives represent a company.\"\n\
http://data.europa.eu/esco/occupation/c,\"data scientist data science specialist Data scientists find and interpret rich data sources.\"\n\
http://data.europa.eu/esco/isco/C2,\"Health professionals  Health professionals conduct research.\"\n";

    fn index() -> OccupationIndex {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("occupations.csv");
        std::fs::write(&path, ESCO).expect("write");
        OccupationIndex::from_esco_csv(&path).expect("index")
    }

    #[test]
    fn titles_find_their_occupation_and_groups_are_skipped() {
        let index = index();
        assert_eq!(index.len(), 3);
        let best = &index.rank("Senior Data Scientist (NLP)", 3)[0];
        assert_eq!(best.uri, "http://data.europa.eu/esco/occupation/c");
        assert_eq!(best.name, "Data scientists");
        assert_eq!(
            index.rank("Sales representations", 1)[0].uri,
            "http://data.europa.eu/esco/occupation/b"
        );
        assert!(index.rank("!!!", 3).is_empty());
        let scores = evaluate(
            &index,
            &[
                ("data scientist".into(), "http://data.europa.eu/esco/occupation/c".into()),
                ("bridge operator".into(), "http://data.europa.eu/esco/occupation/b".into()),
            ],
        );
        assert!((scores.accuracy_at_1 - 0.5).abs() < 1e-9);
        assert!((0.5..1.0).contains(&scores.mrr), "{scores:?}");
    }

    #[test]
    fn labels_and_description_are_told_apart() {
        let (labels, name) = split_labels("bridge operator drawbridge operator Bridge operators are responsible for it.");
        assert_eq!(labels, "bridge operator drawbridge operator");
        assert_eq!(name, "Bridge operators");
    }
}

//! The learned span model: two first-order averaged-perceptron taggers (BIO), one for SkillSpan's
//! SKILL layer and one for KNOWLEDGE, over hashed word, shape, context and gazetteer features.
//!
//! Why a perceptron: it trains on SkillSpan's 4,800 training sentences in seconds on one core,
//! tags thousands of postings a second, is deterministic (fixed shuffling seed), and the
//! gazetteer's matches enter as features, so the model learns where the taxonomy's reading of a
//! span and SkillSpan's annotation agree. The trained file is small and has no runtime needs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::tokens::Token;

/// Tags per layer: outside, begin, inside.
const TAGS: usize = 3;
pub(crate) const OUTSIDE: usize = 0;
pub(crate) const BEGIN: usize = 1;
pub(crate) const INSIDE: usize = 2;
/// The pseudo previous tag before the first token.
const START: usize = TAGS;
/// Feature hash buckets per layer.
const BUCKETS: usize = 1 << 20;
const MAGIC: &[u8] = b"RATSSPAN2\n";
/// Seed of the per-epoch shuffle: training is reproducible bit for bit.
const SHUFFLE_SEED: u64 = 0x5eed_5a11;

/// The two annotation layers of SkillSpan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Label {
    #[serde(rename = "SKILL")]
    Skill,
    #[serde(rename = "KNOWLEDGE")]
    Knowledge,
}

impl Label {
    pub const ALL: [Label; 2] = [Label::Skill, Label::Knowledge];

    pub fn name(self) -> &'static str {
        match self {
            Label::Skill => "SKILL",
            Label::Knowledge => "KNOWLEDGE",
        }
    }
}

/// What the gazetteer says about one token: inside a mention (first token or not) of a skill
/// of this category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark<'a> {
    pub begins: bool,
    pub category: &'a str,
}

/// One token's hashed features: `single` ones score a tag alone, `paired` ones score a tag
/// together with the previous tag (so "manage" can open a span after `O` but continue one after
/// `I` with different weights).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFeatures {
    pub single: Vec<u32>,
    pub paired: Vec<u32>,
}

/// A span of tokens, first and last inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenSpan {
    pub first: usize,
    pub last: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read span model {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write span model {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a rats span model ({reason})")]
    Format { path: PathBuf, reason: String },
    #[error("the span model failed: {reason}")]
    Run { reason: String },
}

/// Facts about a trained model, stored in its header and printed by `rats train skills`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Training files (names only).
    pub trained_on: Vec<String>,
    pub train_sentences: usize,
    /// Epochs kept per layer (the best dev epoch).
    pub epochs: BTreeMap<Label, usize>,
    /// Strict span F1 on the dev files at the kept epoch.
    pub dev_strict_f1: BTreeMap<Label, f64>,
}

/// One layer's weights.
#[derive(Clone)]
struct Weights {
    emit: Vec<f32>,
    trans: [[f32; TAGS]; TAGS + 1],
}

impl Weights {
    fn zero() -> Self {
        Self {
            emit: vec![0.0; BUCKETS * TAGS],
            trans: [[0.0; TAGS]; TAGS + 1],
        }
    }

    fn emission(&self, features: &[u32]) -> [f32; TAGS] {
        let mut score = [0.0; TAGS];
        for &f in features {
            let row = &self.emit[f as usize * TAGS..f as usize * TAGS + TAGS];
            for t in 0..TAGS {
                score[t] += row[t];
            }
        }
        score
    }

    /// Scores of the paired features for each previous tag.
    fn paired_emission(&self, features: &[u32]) -> [[f32; TAGS]; TAGS + 1] {
        let mut score = [[0.0; TAGS]; TAGS + 1];
        for (prev, row_score) in score.iter_mut().enumerate() {
            for &f in features {
                let row = pair(f, prev) as usize * TAGS;
                for (score, weight) in row_score.iter_mut().zip(&self.emit[row..row + TAGS]) {
                    *score += weight;
                }
            }
        }
        score
    }

    /// Viterbi over BIO with `I` allowed only after `B` or `I`.
    fn decode(&self, sentence: &[TokenFeatures]) -> Vec<usize> {
        let n = sentence.len();
        if n == 0 {
            return Vec::new();
        }
        let allowed = |prev: usize, cur: usize| !(cur == INSIDE && (prev == OUTSIDE || prev == START));
        let mut best = vec![[f32::NEG_INFINITY; TAGS]; n];
        let mut back = vec![[0usize; TAGS]; n];
        let first = self.emission(&sentence[0].single);
        let first_paired = self.paired_emission(&sentence[0].paired);
        for t in 0..TAGS {
            if allowed(START, t) {
                best[0][t] = first[t] + first_paired[START][t] + self.trans[START][t];
            }
        }
        for i in 1..n {
            let emit = self.emission(&sentence[i].single);
            let paired = self.paired_emission(&sentence[i].paired);
            for t in 0..TAGS {
                for p in 0..TAGS {
                    if !allowed(p, t) || best[i - 1][p] == f32::NEG_INFINITY {
                        continue;
                    }
                    let score = best[i - 1][p] + self.trans[p][t] + emit[t] + paired[p][t];
                    if score > best[i][t] {
                        best[i][t] = score;
                        back[i][t] = p;
                    }
                }
            }
        }
        // Ties go to the lower tag, so an untrained layer says "outside".
        let mut tag = (0..TAGS).fold(OUTSIDE, |kept, t| if best[n - 1][t] > best[n - 1][kept] { t } else { kept });
        let mut tags = vec![OUTSIDE; n];
        for i in (0..n).rev() {
            tags[i] = tag;
            tag = back[i][tag];
        }
        tags
    }
}

/// A sentence ready for training: features per token and the gold tags of one layer.
pub struct Example {
    pub features: Vec<TokenFeatures>,
    pub gold: Vec<usize>,
}

/// The bucket of a paired feature under a previous tag.
fn pair(feature: u32, prev: usize) -> u32 {
    let mixed = u64::from(feature).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (prev as u64 + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    ((mixed >> 17) % BUCKETS as u64) as u32
}

/// Gold BIO tags from gold spans.
pub fn tags_from_spans(len: usize, spans: &[TokenSpan]) -> Vec<usize> {
    let mut tags = vec![OUTSIDE; len];
    for span in spans {
        tags[span.first] = BEGIN;
        for tag in &mut tags[span.first + 1..=span.last] {
            *tag = INSIDE;
        }
    }
    tags
}

/// Spans from BIO tags (an `I` after `O` never comes out of the decoder, but starts a span if
/// it does).
pub fn spans_from_tags(tags: &[usize]) -> Vec<TokenSpan> {
    let mut spans = Vec::new();
    let mut open: Option<usize> = None;
    for (i, &tag) in tags.iter().enumerate() {
        match tag {
            BEGIN => {
                if let Some(first) = open.take() {
                    spans.push(TokenSpan { first, last: i - 1 });
                }
                open = Some(i);
            }
            INSIDE => {
                open.get_or_insert(i);
            }
            _ => {
                if let Some(first) = open.take() {
                    spans.push(TokenSpan { first, last: i - 1 });
                }
            }
        }
    }
    if let Some(first) = open {
        spans.push(TokenSpan {
            first,
            last: tags.len() - 1,
        });
    }
    spans
}

/// Hashed features of every token. `marks` has one entry per token.
pub fn features(text: &str, tokens: &[Token], marks: &[Option<Mark<'_>>]) -> Vec<TokenFeatures> {
    let words: Vec<&str> = tokens.iter().map(|t| &text[t.start..t.end]).collect();
    let lower: Vec<String> = words.iter().map(|w| core_of(w).to_lowercase()).collect();
    let shapes: Vec<String> = words.iter().map(|w| shape(w)).collect();
    let at = |i: isize| -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| lower.get(i))
            .map_or(if i < 0 { "<s>" } else { "</s>" }, String::as_str)
    };
    let mark = |i: isize| -> String {
        match usize::try_from(i).ok().and_then(|i| marks.get(i)).copied().flatten() {
            Some(m) => format!("{}{}", if m.begins { "B-" } else { "I-" }, m.category),
            None => "O".to_string(),
        }
    };
    (0..tokens.len())
        .map(|i| {
            let w = lower[i].as_str();
            let ii = i as isize;
            let chars: Vec<char> = w.chars().collect();
            let prefix: String = chars.iter().take(3).collect();
            let suffix3: String = chars.iter().skip(chars.len().saturating_sub(3)).collect();
            let suffix2: String = chars.iter().skip(chars.len().saturating_sub(2)).collect();
            let raw = words[i];
            let mut f = vec![
                hash(0, &[]),
                hash(1, &[w]),
                hash(2, &[&shapes[i]]),
                hash(3, &[&prefix]),
                hash(4, &[&suffix3]),
                hash(5, &[&suffix2]),
                hash(6, &[at(ii - 1)]),
                hash(7, &[at(ii + 1)]),
                hash(8, &[at(ii - 2)]),
                hash(9, &[at(ii + 2)]),
                hash(10, &[at(ii - 1), w]),
                hash(11, &[w, at(ii + 1)]),
                hash(12, &[&mark(ii)]),
                hash(13, &[&mark(ii - 1)]),
                hash(14, &[&mark(ii + 1)]),
                hash(15, &[&mark(ii - 1), &mark(ii)]),
                hash(
                    16,
                    &[if ii == 0 { "first" } else { "" }, if i + 1 == tokens.len() { "last" } else { "" }],
                ),
                hash(
                    17,
                    &[if raw.ends_with(|c: char| c.is_ascii_punctuation()) {
                        "punct-end"
                    } else {
                        ""
                    }],
                ),
                hash(18, &[shapes.get(i.wrapping_sub(1)).map_or("<s>", String::as_str), &shapes[i]]),
                hash(19, &[at(ii - 1), at(ii + 1)]),
            ];
            if marks[i].is_some() {
                f.push(hash(20, &[w, &mark(ii)]));
            }
            f.push(hash(21, &[at(ii - 3)]));
            f.push(hash(22, &[at(ii + 3)]));
            f.push(hash(23, &[stem(w)]));
            f.push(hash(24, &[stem(at(ii - 1)), stem(w)]));
            let paired = vec![
                hash(30, &[w]),
                hash(31, &[&mark(ii)]),
                hash(32, &[&shapes[i]]),
                hash(33, &[&suffix3]),
                hash(34, &[at(ii - 1)]),
            ];
            TokenFeatures { single: f, paired }
        })
        .collect()
}

/// A crude stem ("managing", "managed", "manages" → "manag"), so inflections share weights.
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "ly"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    word
}

/// The word without punctuation around it ("(Python," → "Python"); punctuation alone stays.
fn core_of(word: &str) -> &str {
    let core = word.trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, '+' | '#'));
    if core.is_empty() { word } else { core }
}

/// "Python3" → "Xxd": runs of the same character class collapsed.
fn shape(word: &str) -> String {
    let mut out = String::new();
    for c in word.chars() {
        let class = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        if !out.ends_with(class) {
            out.push(class);
        }
    }
    out
}

/// FNV-1a of a feature template and its parts, folded into the bucket range.
fn hash(template: u8, parts: &[&str]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(template);
    for part in parts {
        for &b in part.as_bytes() {
            eat(b);
        }
        eat(0xff);
    }
    (h % BUCKETS as u64) as u32
}

/// Per-epoch strict span F1 on dev, for the training report.
#[derive(Debug, Clone, Serialize)]
pub struct EpochScore {
    pub epoch: usize,
    pub dev_strict_f1: f64,
}

/// Trains one layer for up to `max_epochs`, keeping the averaged weights of the epoch with the
/// best strict span F1 on `dev`.
fn train_layer(train: &[Example], dev: &[Example], max_epochs: usize) -> (Weights, usize, f64, Vec<EpochScore>) {
    let mut weights = Weights::zero();
    let mut totals = Weights::zero();
    let mut clock: f32 = 1.0;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = SHUFFLE_SEED;
    let mut best: Option<(Weights, usize, f64)> = None;
    let mut history = Vec::new();
    for epoch in 1..=max_epochs {
        shuffle(&mut order, &mut rng);
        for &i in &order {
            let example = &train[i];
            let predicted = weights.decode(&example.features);
            if predicted != example.gold {
                for (position, feats) in example.features.iter().enumerate() {
                    let (gold, guess) = (example.gold[position], predicted[position]);
                    let (gold_prev, guess_prev) = if position == 0 {
                        (START, START)
                    } else {
                        (example.gold[position - 1], predicted[position - 1])
                    };
                    if gold != guess {
                        for &f in &feats.single {
                            let base = f as usize * TAGS;
                            weights.emit[base + gold] += 1.0;
                            totals.emit[base + gold] += clock;
                            weights.emit[base + guess] -= 1.0;
                            totals.emit[base + guess] -= clock;
                        }
                    }
                    if (gold_prev, gold) != (guess_prev, guess) {
                        for &f in &feats.paired {
                            let (gold_row, guess_row) = (
                                pair(f, gold_prev) as usize * TAGS + gold,
                                pair(f, guess_prev) as usize * TAGS + guess,
                            );
                            weights.emit[gold_row] += 1.0;
                            totals.emit[gold_row] += clock;
                            weights.emit[guess_row] -= 1.0;
                            totals.emit[guess_row] -= clock;
                        }
                        weights.trans[gold_prev][gold] += 1.0;
                        totals.trans[gold_prev][gold] += clock;
                        weights.trans[guess_prev][guess] -= 1.0;
                        totals.trans[guess_prev][guess] -= clock;
                    }
                }
            }
            clock += 1.0;
        }
        let averaged = average(&weights, &totals, clock);
        let f1 = strict_f1(&averaged, dev);
        history.push(EpochScore { epoch, dev_strict_f1: f1 });
        if best.as_ref().is_none_or(|(_, _, b)| f1 > *b) {
            best = Some((averaged, epoch, f1));
        }
    }
    let (weights, epoch, f1) = best.unwrap_or_else(|| (Weights::zero(), 0, 0.0));
    (weights, epoch, f1, history)
}

fn average(weights: &Weights, totals: &Weights, clock: f32) -> Weights {
    let mut averaged = weights.clone();
    for (a, t) in averaged.emit.iter_mut().zip(&totals.emit) {
        *a -= t / clock;
    }
    for (row, total_row) in averaged.trans.iter_mut().zip(&totals.trans) {
        for (a, t) in row.iter_mut().zip(total_row) {
            *a -= t / clock;
        }
    }
    averaged
}

fn strict_f1(weights: &Weights, examples: &[Example]) -> f64 {
    let (mut hit, mut predicted, mut gold) = (0usize, 0usize, 0usize);
    for example in examples {
        let guess = spans_from_tags(&weights.decode(&example.features));
        let truth = spans_from_tags(&example.gold);
        hit += guess.iter().filter(|s| truth.contains(s)).count();
        predicted += guess.len();
        gold += truth.len();
    }
    f1(hit, predicted, gold)
}

/// Strict span F1 from counts: spans found exactly, spans predicted, gold spans.
pub(crate) fn f1(hit: usize, predicted: usize, gold: usize) -> f64 {
    let precision = if predicted == 0 { 0.0 } else { hit as f64 / predicted as f64 };
    let recall = if gold == 0 { 0.0 } else { hit as f64 / gold as f64 };
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// Fisher–Yates with xorshift64: the same order on every machine.
pub(crate) fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

/// Training data of both layers, per sentence.
pub struct Corpus {
    pub files: Vec<String>,
    pub examples: BTreeMap<Label, Vec<Example>>,
}

/// The trained model: one tagger per label.
pub struct SpanModel {
    pub info: ModelInfo,
    layers: BTreeMap<Label, Weights>,
}

/// What training reports besides the model.
pub struct TrainingReport {
    pub history: BTreeMap<Label, Vec<EpochScore>>,
}

impl SpanModel {
    pub fn train(train: &Corpus, dev: &Corpus, max_epochs: usize) -> (Self, TrainingReport) {
        let mut layers = BTreeMap::new();
        let mut epochs = BTreeMap::new();
        let mut dev_strict_f1 = BTreeMap::new();
        let mut history = BTreeMap::new();
        for label in Label::ALL {
            let empty = Vec::new();
            let train_examples = train.examples.get(&label).unwrap_or(&empty);
            let dev_examples = dev.examples.get(&label).unwrap_or(&empty);
            let (weights, epoch, f1, scores) = train_layer(train_examples, dev_examples, max_epochs);
            layers.insert(label, weights);
            epochs.insert(label, epoch);
            dev_strict_f1.insert(label, f1);
            history.insert(label, scores);
        }
        let train_sentences = train.examples.values().map(Vec::len).max().unwrap_or(0);
        let info = ModelInfo {
            trained_on: train.files.clone(),
            train_sentences,
            epochs,
            dev_strict_f1,
        };
        (Self { info, layers }, TrainingReport { history })
    }

    /// Spans of every label in one sentence, given its token features.
    pub fn tag(&self, features: &[TokenFeatures]) -> Vec<(Label, TokenSpan)> {
        let mut out = Vec::new();
        for (label, weights) in &self.layers {
            out.extend(spans_from_tags(&weights.decode(features)).into_iter().map(|s| (*label, s)));
        }
        out
    }

    /// Writes the header (JSON facts) and each layer's non-zero weights.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let write_err = |source| ModelError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let file = std::fs::File::create(path).map_err(write_err)?;
        let mut out = BufWriter::new(file);
        let header = serde_json::to_string(&self.info).map_err(|e| write_err(std::io::Error::other(e)))?;
        out.write_all(MAGIC).map_err(write_err)?;
        out.write_all(header.as_bytes()).map_err(write_err)?;
        out.write_all(b"\n").map_err(write_err)?;
        for label in Label::ALL {
            let weights = &self.layers[&label];
            let rows: Vec<u32> = (0..BUCKETS as u32)
                .filter(|&b| weights.emit[b as usize * TAGS..b as usize * TAGS + TAGS].iter().any(|w| *w != 0.0))
                .collect();
            out.write_all(&(rows.len() as u32).to_le_bytes()).map_err(write_err)?;
            for row in rows {
                out.write_all(&row.to_le_bytes()).map_err(write_err)?;
                for w in &weights.emit[row as usize * TAGS..row as usize * TAGS + TAGS] {
                    out.write_all(&w.to_le_bytes()).map_err(write_err)?;
                }
            }
            for w in weights.trans.iter().flatten() {
                out.write_all(&w.to_le_bytes()).map_err(write_err)?;
            }
        }
        out.flush().map_err(write_err)
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let read_err = |source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        };
        let format_err = |reason: &str| ModelError::Format {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut input = BufReader::new(file);
        let mut magic = vec![0u8; MAGIC.len()];
        input.read_exact(&mut magic).map_err(|_| format_err("too short"))?;
        if magic != MAGIC {
            return Err(format_err("wrong magic bytes"));
        }
        let mut header = String::new();
        input.read_line(&mut header).map_err(read_err)?;
        let info: ModelInfo = serde_json::from_str(&header).map_err(|e| format_err(&format!("header: {e}")))?;
        let mut layers = BTreeMap::new();
        let mut word = [0u8; 4];
        let mut next = |input: &mut BufReader<std::fs::File>| -> Result<[u8; 4], ModelError> {
            input.read_exact(&mut word).map_err(|_| format_err("truncated weights"))?;
            Ok(word)
        };
        for label in Label::ALL {
            let mut weights = Weights::zero();
            let rows = u32::from_le_bytes(next(&mut input)?);
            for _ in 0..rows {
                let row = u32::from_le_bytes(next(&mut input)?) as usize;
                if row >= BUCKETS {
                    return Err(format_err("weight row out of range"));
                }
                for t in 0..TAGS {
                    weights.emit[row * TAGS + t] = f32::from_le_bytes(next(&mut input)?);
                }
            }
            for w in weights.trans.iter_mut().flatten() {
                *w = f32::from_le_bytes(next(&mut input)?);
            }
            layers.insert(label, weights);
        }
        Ok(Self { info, layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::tokens;

    #[test]
    fn bio_tags_and_spans_round_trip() {
        let spans = vec![TokenSpan { first: 1, last: 2 }, TokenSpan { first: 3, last: 3 }];
        let tags = tags_from_spans(5, &spans);
        assert_eq!(tags, [OUTSIDE, BEGIN, INSIDE, BEGIN, OUTSIDE]);
        assert_eq!(spans_from_tags(&tags), spans);
        assert_eq!(spans_from_tags(&[INSIDE, INSIDE]), [TokenSpan { first: 0, last: 1 }]);
    }

    fn example(sentence: &str, gold: &[(usize, usize)]) -> Example {
        let words: Vec<String> = sentence.split(' ').map(str::to_string).collect();
        let (text, toks) = tokens::join(&words);
        let marks = vec![None; toks.len()];
        let spans: Vec<TokenSpan> = gold.iter().map(|&(first, last)| TokenSpan { first, last }).collect();
        Example {
            features: features(&text, &toks, &marks),
            gold: tags_from_spans(toks.len(), &spans),
        }
    }

    #[test]
    fn the_tagger_learns_a_pattern_and_survives_a_save_and_load() {
        let train: Vec<Example> = (0..20)
            .map(|i| {
                if i % 2 == 0 {
                    example("you will manage stakeholders daily", &[(2, 3)])
                } else {
                    example("we offer free lunch", &[])
                }
            })
            .collect();
        let dev = vec![example("you will manage stakeholders daily", &[(2, 3)])];
        let corpus = |examples: Vec<Example>| Corpus {
            files: vec!["t".into()],
            examples: BTreeMap::from([(Label::Skill, examples), (Label::Knowledge, Vec::new())]),
        };
        let (model, report) = SpanModel::train(&corpus(train), &corpus(dev), 3);
        assert!((model.info.dev_strict_f1[&Label::Skill] - 1.0).abs() < f64::EPSILON);
        assert_eq!(report.history[&Label::Skill].len(), 3);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.bin");
        model.save(&path).expect("saves");
        let loaded = SpanModel::load(&path).expect("loads");
        let probe = example("you will manage stakeholders daily", &[]);
        assert_eq!(loaded.tag(&probe.features), [(Label::Skill, TokenSpan { first: 2, last: 3 })]);
        assert_eq!(loaded.info, model.info);
        std::fs::write(&path, b"nonsense").expect("writes");
        assert!(matches!(SpanModel::load(&path), Err(ModelError::Format { .. })));
    }
}

//! The fine-tuned span model: a BERT encoder (e5-small-v2 by default) with one linear
//! layer on top giving BIO scores for SkillSpan's SKILL and KNOWLEDGE layers at each word's
//! first word piece, and a linear-chain CRF per layer over those scores (`crf`).
//!
//! Why: SKILL spans are phrases ("work independently", "manage stakeholder expectations")
//! whose extent depends on the whole sentence; the perceptron's local features find them
//! poorly. Fine-tuning every layer on SkillSpan train is the paper's recipe, on a model small
//! enough to train on two CPU cores. The trained model is a folder: the base's `config.json`
//! and `tokenizer.json`, the weights as `model.safetensors`, and `rats-tagger.json` (what it
//! was trained on and how it scored).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Init, Linear, Module, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use super::conll::Sentence;
use super::crf::{self, TAGS, Transitions};
use super::encoder::{Config, Dropout, Encoder, Pass, Seeded};
use super::tagger::{self, Label, ModelError, TokenSpan};

/// File names inside a model folder.
const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const WEIGHTS: &str = "model.safetensors";
pub const INFO: &str = "rats-tagger.json";
/// Variable prefix of the classification layer.
const HEAD: &str = "span_head";
/// The CRF's variables: first-tag scores (layer, tag) and pair scores (layer, previous, tag).
/// Models trained before the CRF have neither; zeros decode them as they were decoded then.
const CRF_START: &str = "span_crf.start";
const CRF_PAIR: &str = "span_crf.pair";
/// How much faster than the encoder the CRF's scores learn. Why: they start at zero and the
/// encoder's peak rate would move them by a fraction of a unit over a whole training, too
/// little to matter next to scores of several units.
const CRF_RATE_FACTOR: f64 = 25.0;
/// The word-piece embedding table, which fine-tuning leaves as the base has it.
const WORD_EMBEDDINGS: &str = "embeddings.word_embeddings.weight";
/// Deviation of the head's starting weights (BERT's `initializer_range`).
const HEAD_INIT_STD: f32 = 0.02;
/// Scores per word: O, B, I for SKILL, then for KNOWLEDGE.
const OUTPUTS: usize = 2 * TAGS;
/// Word pieces per forward pass, [CLS] and [SEP] included; longer sentences are tagged in
/// windows of whole words.
const MAX_PIECES: usize = 128;
/// Sentences per inference batch.
const INFERENCE_BATCH: usize = 32;
/// The scores of a word the encoder cannot see (no word piece): outside for sure.
const CERTAIN_OUTSIDE: [f32; TAGS] = [0.0, f32::NEG_INFINITY, f32::NEG_INFINITY];

/// How `rats train skills --encoder` trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub dropout: f64,
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            epochs: 8,
            learning_rate: 2e-4,
            batch_size: 16,
            dropout: 0.1,
            seed: 2026,
        }
    }
}

/// What fine-tuning reports as it goes.
pub enum TrainEvent<'a> {
    /// A batch was trained; `mean_loss` is over the epoch's batches so far.
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        mean_loss: f64,
    },
    /// An epoch was trained and scored on the dev sentences.
    Epoch {
        epoch: usize,
        mean_loss: f64,
        dev_strict_f1: &'a BTreeMap<Label, f64>,
    },
    /// The average of these epochs' weights was scored on the dev sentences.
    Averaged {
        epochs: &'a [usize],
        dev_strict_f1: &'a BTreeMap<Label, f64>,
    },
}

/// Facts about a trained model, written next to its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderInfo {
    /// The folder name of the base model.
    pub base: String,
    pub trained_on: Vec<String>,
    pub train_sentences: usize,
    pub settings: TrainSettings,
    /// The epoch kept (best dev score, both labels' strict F1 summed); the last averaged one
    /// when `averaged_epochs` is not empty.
    pub epoch: usize,
    /// The epochs whose weights were averaged into the kept model (the second half of
    /// training), when that average scored better on dev than every single epoch; else empty.
    #[serde(default)]
    pub averaged_epochs: Vec<usize>,
    pub dev_strict_f1: BTreeMap<Label, f64>,
    /// Dev strict F1 per label after each epoch.
    pub history: Vec<BTreeMap<Label, f64>>,
}

pub struct EncoderTagger {
    pub info: EncoderInfo,
    tokenizer: Tokenizer,
    encoder: Encoder,
    head: Linear,
    crf_start: Tensor,
    crf_pair: Tensor,
    /// Owns the variables while training; empty after `load`.
    varmap: VarMap,
}

/// One sentence as word pieces: ids with [CLS] and [SEP], and the piece each word starts at
/// (`None` when the word has no piece, e.g. a lone control character).
struct Pieces {
    ids: Vec<u32>,
    first: Vec<Option<usize>>,
}

fn run_err(path: &Path) -> impl Fn(candle_core::Error) -> ModelError + '_ {
    move |e| ModelError::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ModelError::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn load_tokenizer(path: &Path) -> Result<Tokenizer, ModelError> {
    let format = |reason: String| ModelError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| format(e.to_string()))?;
    // Sentence-embedding checkpoints ship padding and truncation settings; windows and batches
    // are built here instead.
    tokenizer.with_padding(None);
    tokenizer.with_truncation(None).map_err(|e| format(e.to_string()))?;
    Ok(tokenizer)
}

impl EncoderTagger {
    /// A model folder written by `save`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let info: EncoderInfo = read_json(&dir.join(INFO))?;
        let weights_path = dir.join(WEIGHTS);
        let mut tensors = candle_core::safetensors::load(&weights_path, &Device::Cpu).map_err(run_err(&weights_path))?;
        for (name, shape) in [(CRF_START, vec![2, TAGS]), (CRF_PAIR, vec![2, TAGS, TAGS])] {
            if !tensors.contains_key(name) {
                let zeros = Tensor::zeros(shape, DType::F32, &Device::Cpu).map_err(run_err(&weights_path))?;
                tensors.insert(name.to_string(), zeros);
            }
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        Self::build(dir, info, &vb, VarMap::new())
    }

    fn build(dir: &Path, info: EncoderInfo, vb: &VarBuilder, varmap: VarMap) -> Result<Self, ModelError> {
        let config: Config = read_json(&dir.join(CONFIG))?;
        if config.max_position_embeddings < MAX_PIECES {
            return Err(ModelError::Format {
                path: dir.join(CONFIG),
                reason: format!("max_position_embeddings is below the {MAX_PIECES} pieces a window holds"),
            });
        }
        let tokenizer = load_tokenizer(&dir.join(TOKENIZER))?;
        let weights_path = dir.join(WEIGHTS);
        let encoder = Encoder::load(vb, &config).map_err(run_err(&weights_path))?;
        let head = Linear::new(
            vb.get_with_hints((OUTPUTS, config.hidden_size), &format!("{HEAD}.weight"), Init::Const(0.0))
                .map_err(run_err(&weights_path))?,
            Some(
                vb.get_with_hints(OUTPUTS, &format!("{HEAD}.bias"), Init::Const(0.0))
                    .map_err(run_err(&weights_path))?,
            ),
        );
        let crf_start = vb
            .get_with_hints((2, TAGS), CRF_START, Init::Const(0.0))
            .map_err(run_err(&weights_path))?;
        let crf_pair = vb
            .get_with_hints((2, TAGS, TAGS), CRF_PAIR, Init::Const(0.0))
            .map_err(run_err(&weights_path))?;
        Ok(Self {
            info,
            tokenizer,
            encoder,
            head,
            crf_start,
            crf_pair,
            varmap,
        })
    }

    /// Writes the model folder.
    pub fn save(&self, dir: &Path, base: &Path) -> Result<(), ModelError> {
        let write_err = |path: PathBuf| {
            move |source| ModelError::Write {
                path: path.clone(),
                source,
            }
        };
        std::fs::create_dir_all(dir).map_err(write_err(dir.to_path_buf()))?;
        for name in [CONFIG, TOKENIZER] {
            std::fs::copy(base.join(name), dir.join(name)).map_err(write_err(dir.join(name)))?;
        }
        let weights = dir.join(WEIGHTS);
        self.varmap.save(&weights).map_err(run_err(&weights))?;
        let info = serde_json::to_string_pretty(&self.info).map_err(|e| ModelError::Format {
            path: dir.join(INFO),
            reason: e.to_string(),
        })?;
        std::fs::write(dir.join(INFO), info + "\n").map_err(write_err(dir.join(INFO)))
    }

    /// Word pieces of `words`, cut into windows of at most `MAX_PIECES` (whole words).
    fn windows(&self, words: &[&str]) -> Result<Vec<(usize, Pieces)>, String> {
        let encoding = self.tokenizer.encode(words.to_vec(), false).map_err(|e| e.to_string())?;
        let mut per_word: Vec<Vec<u32>> = vec![Vec::new(); words.len()];
        for (id, word) in encoding.get_ids().iter().zip(encoding.get_word_ids()) {
            if let Some(word) = word.and_then(|w| per_word.get_mut(w as usize)) {
                word.push(*id);
            }
        }
        let (cls, sep) = (self.special("[CLS]")?, self.special("[SEP]")?);
        let mut windows = Vec::new();
        let mut current = Pieces {
            ids: vec![cls],
            first: Vec::new(),
        };
        let mut start = 0;
        for (w, pieces) in per_word.into_iter().enumerate() {
            // A single word longer than a window keeps its first pieces.
            let pieces = &pieces[..pieces.len().min(MAX_PIECES - 2)];
            if current.ids.len() + pieces.len() + 1 > MAX_PIECES {
                current.ids.push(sep);
                windows.push((
                    start,
                    std::mem::replace(
                        &mut current,
                        Pieces {
                            ids: vec![cls],
                            first: Vec::new(),
                        },
                    ),
                ));
                start = w;
            }
            current.first.push((!pieces.is_empty()).then_some(current.ids.len()));
            current.ids.extend_from_slice(pieces);
        }
        current.ids.push(sep);
        windows.push((start, current));
        Ok(windows)
    }

    fn special(&self, token: &str) -> Result<u32, String> {
        self.tokenizer
            .token_to_id(token)
            .ok_or_else(|| format!("the tokenizer has no {token} token"))
    }

    /// Scores (batch, time, `OUTPUTS`) of a batch of piece sequences.
    fn scores(&self, batch: &[&Pieces], pass: &Pass) -> candle_core::Result<Tensor> {
        let time = batch.iter().map(|p| p.ids.len()).max().unwrap_or(0);
        let mut ids = vec![0u32; batch.len() * time];
        let mut mask = vec![0u32; batch.len() * time];
        for (row, pieces) in batch.iter().enumerate() {
            ids[row * time..row * time + pieces.ids.len()].copy_from_slice(&pieces.ids);
            mask[row * time..row * time + pieces.ids.len()].fill(1);
        }
        let ids = Tensor::from_vec(ids, (batch.len(), time), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (batch.len(), time), &Device::Cpu)?;
        self.head.forward(&self.encoder.forward(&ids, &mask, pass)?)
    }

    /// Spans of both labels in each sentence (given as words).
    pub fn tag_many(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<(Label, TokenSpan)>>, ModelError> {
        let fail = |reason: String| ModelError::Run { reason };
        let mut windows = Vec::new();
        for (s, words) in sentences.iter().enumerate() {
            windows.extend(self.windows(words).map_err(fail)?.into_iter().map(|(offset, p)| (s, offset, p)));
        }
        // Similar lengths share a batch: less padding.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].2.ids.len());
        // Per sentence, per layer, per word: scores of O, B, I (words without a piece stay
        // certain `O`).
        let mut word_scores: Vec<[Vec<[f32; 3]>; 2]> = sentences
            .iter()
            .map(|w| [vec![CERTAIN_OUTSIDE; w.len()], vec![CERTAIN_OUTSIDE; w.len()]])
            .collect();
        for chunk in order.chunks(INFERENCE_BATCH) {
            let batch: Vec<&Pieces> = chunk.iter().map(|&i| &windows[i].2).collect();
            let scores = self
                .scores(&batch, &Pass::Inference)
                .and_then(|s| per_layer(&s))
                .map_err(|e| fail(e.to_string()))?;
            for (row, &i) in chunk.iter().enumerate() {
                let (sentence, offset, pieces) = &windows[i];
                for (w, first) in pieces.first.iter().enumerate() {
                    if let Some(piece) = first {
                        for layer in 0..2 {
                            word_scores[*sentence][layer][offset + w] = scores[row][*piece][layer];
                        }
                    }
                }
            }
        }
        let transitions = self.transitions().map_err(|e| fail(e.to_string()))?;
        Ok(word_scores
            .iter()
            .map(|layers| {
                Label::ALL
                    .iter()
                    .zip(layers)
                    .zip(&transitions)
                    .flat_map(|((&label, scores), transitions)| {
                        tagger::spans_from_tags(&crf::viterbi(scores, transitions))
                            .into_iter()
                            .map(move |s| (label, s))
                    })
                    .collect()
            })
            .collect())
    }

    /// The CRF's current scores, per layer.
    fn transitions(&self) -> candle_core::Result<[Transitions; 2]> {
        let start = self.crf_start.to_vec2::<f32>()?;
        let pair = self.crf_pair.to_vec3::<f32>()?;
        let layer = |l: usize| Transitions {
            start: [start[l][0], start[l][1], start[l][2]],
            pair: [0, 1, 2].map(|p| [pair[l][p][0], pair[l][p][1], pair[l][p][2]]),
        };
        Ok([layer(0), layer(1)])
    }

    /// Fine-tunes the encoder in `base` (an HF-format folder: config.json, tokenizer.json,
    /// model.safetensors) on `train`, scoring `dev` after each epoch and keeping the best
    /// epoch, or the average of the second half's weights when that scores better (it smooths
    /// out the epoch-to-epoch swings of the late epochs). `progress` hears of every batch and
    /// every scored epoch.
    pub fn train(
        base: &Path,
        train: &[Sentence],
        train_files: Vec<String>,
        dev: &[Sentence],
        settings: &TrainSettings,
        progress: &dyn Fn(TrainEvent),
    ) -> Result<Self, ModelError> {
        let weights_path = base.join(WEIGHTS);
        let fail = run_err(&weights_path);
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let info = EncoderInfo {
            base: super::training::file_name(base),
            trained_on: train_files,
            train_sentences: train.len(),
            settings: settings.clone(),
            epoch: 0,
            averaged_epochs: Vec::new(),
            dev_strict_f1: BTreeMap::new(),
            history: Vec::new(),
        };
        let mut model = Self::build(base, info, &vb, varmap)?;
        model.load_base(&weights_path, settings.seed)?;
        model.encoder.freeze_word_embeddings();
        let examples = model.examples(train)?;
        let dev_words: Vec<Vec<&str>> = dev.iter().map(|s| s.words.iter().map(String::as_str).collect()).collect();
        let batches_per_epoch = examples.len().div_ceil(settings.batch_size);
        let total_steps = batches_per_epoch * settings.epochs;
        let warmup = (total_steps / 10).max(1);
        let (crf_vars, encoder_vars) = model.trained_vars().map_err(&fail)?;
        let adam = |vars: Vec<Var>, rate: f64| {
            AdamW::new(
                vars,
                ParamsAdamW {
                    lr: rate,
                    weight_decay: 0.01,
                    ..ParamsAdamW::default()
                },
            )
        };
        let mut optimizer = adam(encoder_vars, settings.learning_rate).map_err(&fail)?;
        let mut crf_optimizer = adam(crf_vars, settings.learning_rate * CRF_RATE_FACTOR).map_err(&fail)?;
        let dropout = Dropout::new(settings.dropout as f32, settings.seed);
        let mut shuffle_state = settings.seed | 1;
        let mut best: Option<(f64, BTreeMap<String, Tensor>)> = None;
        let averaged_epochs: Vec<usize> = (settings.epochs / 2 + 1..=settings.epochs).collect();
        let mut weight_sum: Option<BTreeMap<String, Tensor>> = None;
        let mut step = 0;
        for epoch in 1..=settings.epochs {
            let batches = batches_by_length(&examples, settings.batch_size, &mut shuffle_state);
            let mut loss_sum = 0.0;
            for (b, batch) in batches.iter().enumerate() {
                let factor = if step < warmup {
                    (step + 1) as f64 / warmup as f64
                } else {
                    (total_steps - step) as f64 / (total_steps - warmup).max(1) as f64
                };
                optimizer.set_learning_rate(settings.learning_rate * factor);
                crf_optimizer.set_learning_rate(settings.learning_rate * CRF_RATE_FACTOR * factor);
                let batch: Vec<&Example> = batch.iter().map(|&i| &examples[i]).collect();
                let (surrogate, loss) = model.loss(&batch, &dropout).map_err(&fail)?;
                let gradients = surrogate.backward().map_err(&fail)?;
                optimizer.step(&gradients).map_err(&fail)?;
                crf_optimizer.step(&gradients).map_err(&fail)?;
                loss_sum += loss;
                step += 1;
                progress(TrainEvent::Batch {
                    epoch,
                    batch: b + 1,
                    batches: batches.len(),
                    mean_loss: loss_sum / (b + 1) as f64,
                });
            }
            let scores = model.dev_scores(&dev_words, dev)?;
            let total: f64 = scores.values().sum();
            progress(TrainEvent::Epoch {
                epoch,
                mean_loss: loss_sum / batches.len().max(1) as f64,
                dev_strict_f1: &scores,
            });
            model.info.history.push(scores.clone());
            if best.as_ref().is_none_or(|(b, _)| total > *b) {
                model.info.epoch = epoch;
                model.info.dev_strict_f1 = scores;
                best = Some((total, model.snapshot().map_err(&fail)?));
            }
            if averaged_epochs.len() > 1 && averaged_epochs.contains(&epoch) {
                let weights = model.snapshot().map_err(&fail)?;
                weight_sum = Some(match weight_sum {
                    None => weights,
                    Some(sum) => add(sum, &weights).map_err(&fail)?,
                });
            }
        }
        if let Some(sum) = weight_sum {
            let count = averaged_epochs.len() as f64;
            let average = sum
                .into_iter()
                .map(|(name, total)| Ok((name, (total / count)?)))
                .collect::<candle_core::Result<BTreeMap<_, _>>>()
                .map_err(&fail)?;
            model.restore(&average).map_err(&fail)?;
            let scores = model.dev_scores(&dev_words, dev)?;
            progress(TrainEvent::Averaged {
                epochs: &averaged_epochs,
                dev_strict_f1: &scores,
            });
            if best.as_ref().is_none_or(|(b, _)| scores.values().sum::<f64>() > *b) {
                model.info.epoch = settings.epochs;
                model.info.averaged_epochs = averaged_epochs;
                model.info.dev_strict_f1 = scores;
                return Ok(model);
            }
        }
        if let Some((_, weights)) = best {
            model.restore(&weights).map_err(&fail)?;
        }
        Ok(model)
    }

    /// Copies the base checkpoint's weights into the variables and draws the head's starting
    /// weights from N(0, 0.02²), BERT's initialiser, with `seed`. Why not zeros: a zero head
    /// passes the encoder no gradient until the head has grown, and learned slowly (the curves
    /// are in docs/skills.md).
    fn load_base(&self, path: &Path, seed: u64) -> Result<(), ModelError> {
        let fail = run_err(path);
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(&fail)?;
        let vars = self.varmap.data().lock().map_err(|_| ModelError::Run {
            reason: "the variable store is poisoned".into(),
        })?;
        for (name, var) in vars.iter() {
            // Checkpoints saved from BertForX carry a `bert.` prefix.
            match tensors.get(name).or_else(|| tensors.get(&format!("bert.{name}"))) {
                Some(tensor) => var.set(tensor).map_err(&fail)?,
                None if name == &format!("{HEAD}.weight") => {
                    // Another stream than dropout's, which starts from `seed` itself.
                    let mut generator = Seeded::new(seed.rotate_left(32));
                    let draws: Vec<f32> = (0..var.elem_count()).map(|_| generator.normal(HEAD_INIT_STD)).collect();
                    var.set(&Tensor::from_vec(draws, var.shape(), &Device::Cpu).map_err(&fail)?)
                        .map_err(&fail)?;
                }
                None if name.starts_with(HEAD) || name == CRF_START || name == CRF_PAIR => {}
                None => {
                    return Err(ModelError::Format {
                        path: path.to_path_buf(),
                        reason: format!("the checkpoint has no {name}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The variables fine-tuning moves, as (the CRF's, the rest): all but the frozen word-piece
    /// embeddings.
    fn trained_vars(&self) -> candle_core::Result<(Vec<Var>, Vec<Var>)> {
        let vars = self.varmap.data().lock().map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        let (crf, rest): (Vec<_>, Vec<_>) = vars
            .iter()
            .filter(|(name, _)| name.as_str() != WORD_EMBEDDINGS)
            .partition(|(name, _)| name.as_str() == CRF_START || name.as_str() == CRF_PAIR);
        let vars = |named: Vec<(&String, &Var)>| named.into_iter().map(|(_, var)| var.clone()).collect();
        Ok((vars(crf), vars(rest)))
    }

    /// A copy of the weights fine-tuning moves (the frozen word-piece table stays as the base
    /// has it, so `restore` leaves it alone): the best epoch's, and each averaged epoch's.
    fn snapshot(&self) -> candle_core::Result<BTreeMap<String, Tensor>> {
        let vars = self.varmap.data().lock().map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        vars.iter()
            .filter(|(name, _)| name.as_str() != WORD_EMBEDDINGS)
            .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?)))
            .collect()
    }

    fn restore(&self, weights: &BTreeMap<String, Tensor>) -> candle_core::Result<()> {
        let vars = self.varmap.data().lock().map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
        for (name, var) in vars.iter() {
            if let Some(tensor) = weights.get(name) {
                var.set(tensor)?;
            }
        }
        Ok(())
    }

    fn examples(&self, sentences: &[Sentence]) -> Result<Vec<Example>, ModelError> {
        let mut examples = Vec::new();
        for sentence in sentences {
            let words: Vec<&str> = sentence.words.iter().map(String::as_str).collect();
            let gold = Label::ALL.map(|label| tagger::tags_from_spans(words.len(), sentence.spans(label)));
            let windows = self.windows(&words).map_err(|reason| ModelError::Run { reason })?;
            for (offset, pieces) in windows {
                let mut targets = Vec::new();
                for (w, first) in pieces.first.iter().enumerate() {
                    if let Some(piece) = first {
                        targets.push((*piece, [gold[0][offset + w] as u32, gold[1][offset + w] as u32]));
                    }
                }
                examples.push(Example { pieces, targets });
            }
        }
        Ok(examples)
    }

    /// The CRF's negative log-likelihood of both layers' gold tags, over the words (first
    /// pieces) of the batch, as (a tensor whose gradient is the likelihood's, the value).
    /// Forward-backward runs in `crf` on the scores' values; the tensor is the scores and the
    /// CRF's variables each multiplied by their constant gradient, so backpropagation carries
    /// exactly those gradients into the encoder.
    fn loss(&self, batch: &[&Example], dropout: &Dropout) -> candle_core::Result<(Tensor, f64)> {
        let pieces: Vec<&Pieces> = batch.iter().map(|e| &e.pieces).collect();
        let scores = self.scores(&pieces, &Pass::Training(dropout))?;
        let time = scores.dim(1)?;
        let positions: Vec<u32> = batch
            .iter()
            .enumerate()
            .flat_map(|(row, example)| example.targets.iter().map(move |(piece, _)| (row * time + piece) as u32))
            .collect();
        let words = positions.len();
        let picked = scores
            .reshape((batch.len() * time, OUTPUTS))?
            .index_select(&Tensor::from_vec(positions, words, &Device::Cpu)?, 0)?;
        let values = picked.to_vec2::<f32>()?;
        let transitions = self.transitions()?;
        let scale = 1.0 / words.max(1) as f32;
        let mut score_gradients = vec![0f32; words * OUTPUTS];
        let mut start_gradients = [0f32; 2 * TAGS];
        let mut pair_gradients = [0f32; 2 * TAGS * TAGS];
        let mut total = 0.0;
        let mut first = 0;
        for example in batch {
            let n = example.targets.len();
            for (layer, layer_transitions) in transitions.iter().enumerate() {
                let emissions: Vec<[f32; TAGS]> = values[first..first + n]
                    .iter()
                    .map(|v| [v[layer * TAGS], v[layer * TAGS + 1], v[layer * TAGS + 2]])
                    .collect();
                let gold: Vec<usize> = example.targets.iter().map(|(_, tags)| tags[layer] as usize).collect();
                let (nll, gradients) = crf::negative_log_likelihood(&emissions, &gold, layer_transitions);
                total += nll;
                for (w, word) in gradients.emissions.iter().enumerate() {
                    for (t, g) in word.iter().enumerate() {
                        score_gradients[(first + w) * OUTPUTS + layer * TAGS + t] = g * scale;
                    }
                }
                for t in 0..TAGS {
                    start_gradients[layer * TAGS + t] += gradients.transitions.start[t] * scale;
                    for u in 0..TAGS {
                        pair_gradients[(layer * TAGS + t) * TAGS + u] += gradients.transitions.pair[t][u] * scale;
                    }
                }
            }
            first += n;
        }
        let constant = |values: Vec<f32>, shape: &[usize]| Tensor::from_vec(values, shape, &Device::Cpu);
        let surrogate = ((picked * constant(score_gradients, &[words, OUTPUTS])?)?.sum_all()?
            + (&self.crf_start * constant(start_gradients.to_vec(), &[2, TAGS])?)?.sum_all()?)?
            + (&self.crf_pair * constant(pair_gradients.to_vec(), &[2, TAGS, TAGS])?)?.sum_all()?;
        Ok((surrogate?, total / words.max(1) as f64))
    }

    fn dev_scores(&self, words: &[Vec<&str>], dev: &[Sentence]) -> Result<BTreeMap<Label, f64>, ModelError> {
        let predicted = self.tag_many(words)?;
        Ok(Label::ALL
            .iter()
            .map(|&label| {
                let (mut correct, mut found, mut gold) = (0, 0, 0);
                for (sentence, spans) in dev.iter().zip(&predicted) {
                    let truth = sentence.spans(label);
                    let mine: Vec<TokenSpan> = spans.iter().filter(|(l, _)| *l == label).map(|(_, s)| *s).collect();
                    correct += mine.iter().filter(|s| truth.contains(s)).count();
                    found += mine.len();
                    gold += truth.len();
                }
                (label, tagger::f1(correct, found, gold))
            })
            .collect())
    }
}

/// A training window with its targets: (piece index, [SKILL tag, KNOWLEDGE tag]).
struct Example {
    pieces: Pieces,
    targets: Vec<(usize, [u32; 2])>,
}

/// Scores of O, B, I for each layer at each piece of each row: [row][piece][layer].
fn per_layer(scores: &Tensor) -> candle_core::Result<Vec<Vec<[[f32; TAGS]; 2]>>> {
    let triple = |v: &[f32]| [v[0], v[1], v[2]];
    Ok(scores
        .to_vec3::<f32>()?
        .iter()
        .map(|row| row.iter().map(|piece| [triple(&piece[..TAGS]), triple(&piece[TAGS..])]).collect())
        .collect())
}

/// Weights added name by name (`more` has the names of `sum`).
fn add(sum: BTreeMap<String, Tensor>, more: &BTreeMap<String, Tensor>) -> candle_core::Result<BTreeMap<String, Tensor>> {
    sum.into_iter()
        .map(|(name, total)| match more.get(&name) {
            Some(weights) => Ok((name, (total + weights)?)),
            None => Err(candle_core::Error::Msg(format!("no {name} to add"))),
        })
        .collect()
}

/// A seeded shuffle, then batches of similar length (sorted within blocks of 50 batches) in
/// shuffled order: little padding, still a random walk through the data.
fn batches_by_length(examples: &[Example], batch_size: usize, state: &mut u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    tagger::shuffle(&mut order, state);
    for block in order.chunks_mut(batch_size * 50) {
        block.sort_by_key(|&i| examples[i].pieces.ids.len());
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    let mut positions: Vec<usize> = (0..batches.len()).collect();
    tagger::shuffle(&mut positions, state);
    positions.into_iter().map(|i| std::mem::take(&mut batches[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::encoder::Config;

    const WORDS: [&str; 12] = [
        "we", "use", "java", "and", "sql", "daily", "you", "know", "rust", "well", "team", "the",
    ];

    /// A tiny random BERT in the HF layout: a `WordPiece` tokenizer over `WORDS`, its config and
    /// weights. Stands in for the real base encoder, which unit tests do not download.
    fn tiny_base(dir: &Path) {
        let mut vocab = serde_json::Map::new();
        for (i, token) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].iter().chain(WORDS.iter()).enumerate() {
            vocab.insert((*token).to_string(), serde_json::json!(i));
        }
        let tokenizer = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": null, "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
        });
        std::fs::write(dir.join(TOKENIZER), tokenizer.to_string()).expect("writes");
        let config = Config {
            vocab_size: WORDS.len() + 4,
            hidden_size: 16,
            num_hidden_layers: 1,
            num_attention_heads: 2,
            intermediate_size: 32,
            max_position_embeddings: 128,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
        };
        std::fs::write(dir.join(CONFIG), serde_json::to_string(&config).expect("serialises")).expect("writes");
        // Weights from a fixed pattern, not candle's random initialisation: the base is the same
        // on every run.
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        Encoder::load(&vb, &config).expect("builds");
        for (name, var) in varmap.data().lock().expect("lock").iter() {
            let n = name.len();
            let count = var.elem_count();
            let values: Vec<f32> = (0..count).map(|i| (((i * 7 + n * 13) % 17) as f32 - 8.0) / 40.0).collect();
            var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).expect("tensor"))
                .expect("sets");
        }
        varmap.save(dir.join(WEIGHTS)).expect("saves");
    }

    fn sentence(text: &str, knowledge: &[usize]) -> Sentence {
        Sentence {
            words: text.split(' ').map(str::to_string).collect(),
            skill: Vec::new(),
            knowledge: knowledge.iter().map(|&i| TokenSpan { first: i, last: i }).collect(),
        }
    }

    fn corpus() -> Vec<Sentence> {
        vec![
            sentence("we use java and sql daily", &[2, 4]),
            sentence("you know rust well", &[2]),
            sentence("the team use sql", &[3]),
            sentence("we know java", &[2]),
        ]
    }

    fn train(base: &Path) -> EncoderTagger {
        let settings = TrainSettings {
            epochs: 30,
            learning_rate: 1e-2,
            batch_size: 2,
            dropout: 0.1,
            seed: 7,
        };
        EncoderTagger::train(base, &corpus(), vec!["t".into()], &corpus(), &settings, &|_| {}).expect("trains")
    }

    #[test]
    fn fine_tuning_learns_the_spans_is_reproducible_and_survives_saving() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("base");
        std::fs::create_dir(&base).expect("mkdir");
        tiny_base(&base);
        let model = train(&base);
        assert!(model.info.dev_strict_f1[&Label::Knowledge] > 0.99, "{:?}", model.info.history);
        let transitions = model.transitions().expect("transitions");
        assert_ne!(transitions[1], Transitions::default(), "the CRF's scores were trained");
        let words = vec![vec!["we", "know", "rust", "and", "java"]];
        let tagged = model.tag_many(&words).expect("tags");
        assert_eq!(
            tagged[0],
            [
                (Label::Knowledge, TokenSpan { first: 2, last: 2 }),
                (Label::Knowledge, TokenSpan { first: 4, last: 4 })
            ]
        );
        let first = dir.path().join("first");
        model.save(&first, &base).expect("saves");
        let loaded = EncoderTagger::load(&first).expect("loads");
        assert_eq!(loaded.tag_many(&words).expect("tags"), tagged);
        assert_eq!(loaded.info, model.info);
        // A folder from before the CRF (no span_crf tensors) loads with zero transitions.
        let before_crf = without_crf(&first);
        assert_eq!(before_crf.transitions().expect("transitions"), [Transitions::default(); 2]);
        let second = dir.path().join("second");
        train(&base).save(&second, &base).expect("saves");
        let third = dir.path().join("third");
        train(&base).save(&third, &base).expect("saves");
        let bytes = |d: &Path| std::fs::read(d.join(WEIGHTS)).expect("reads");
        assert!(bytes(&second) == bytes(&third), "two trainings differ");
    }

    #[test]
    fn the_head_starts_from_small_random_weights_its_seed_repeats() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_base(dir.path());
        let head = |seed: u64| {
            let varmap = VarMap::new();
            let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
            let info = EncoderInfo {
                base: "tiny".into(),
                trained_on: Vec::new(),
                train_sentences: 0,
                settings: TrainSettings::default(),
                epoch: 0,
                averaged_epochs: Vec::new(),
                dev_strict_f1: BTreeMap::new(),
                history: Vec::new(),
            };
            let model = EncoderTagger::build(dir.path(), info, &vb, varmap).expect("builds");
            model.load_base(&dir.path().join(WEIGHTS), seed).expect("loads");
            model.head.weight().flatten_all().and_then(|w| w.to_vec1::<f32>()).expect("weights")
        };
        let first = head(1);
        assert_eq!(first.len(), OUTPUTS * 16);
        assert!(first.iter().filter(|w| **w != 0.0).count() > first.len() * 9 / 10, "{first:?}");
        assert!(first.iter().all(|w| w.abs() < 0.2), "{first:?}");
        let bits = |v: &[f32]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&head(1)), bits(&first), "the same seed draws the same head");
        assert_ne!(bits(&head(2)), bits(&first), "another seed draws another head");
    }

    /// The model saved in `dir` loaded without its CRF tensors, as a folder written before the
    /// CRF existed.
    fn without_crf(dir: &Path) -> EncoderTagger {
        let mut tensors = candle_core::safetensors::load(dir.join(WEIGHTS), &Device::Cpu).expect("reads");
        tensors.retain(|name, _| !name.starts_with("span_crf"));
        candle_core::safetensors::save(&tensors, dir.join(WEIGHTS)).expect("writes");
        EncoderTagger::load(dir).expect("loads")
    }

    #[test]
    fn long_sentences_are_tagged_in_windows_of_whole_words() {
        let dir = tempfile::tempdir().expect("tempdir");
        tiny_base(dir.path());
        let model = train(dir.path());
        let long: Vec<&str> = std::iter::repeat_n(["we", "use", "java"], 100).flatten().collect();
        let windows = model.windows(&long).expect("pieces");
        assert!(windows.len() >= 3, "{} windows", windows.len());
        assert!(windows.iter().all(|(_, p)| p.ids.len() <= MAX_PIECES));
        assert_eq!(windows.iter().map(|(_, p)| p.first.len()).sum::<usize>(), long.len());
        // Each window is tagged as if it were a sentence of its own, at its words' offsets.
        let mut expected = Vec::new();
        for (offset, pieces) in &windows {
            let words = long[*offset..offset + pieces.first.len()].to_vec();
            let spans = model.tag_many(&[words]).expect("tags");
            expected.extend(spans[0].iter().map(|(label, s)| {
                let shifted = TokenSpan {
                    first: s.first + offset,
                    last: s.last + offset,
                };
                (*label, shifted)
            }));
        }
        // The whole sentence is decoded as one: the CRF's pair scores link a window's last words
        // to the next window's first, so only spans away from the cuts must agree.
        let cuts: Vec<usize> = windows.iter().skip(1).map(|(offset, _)| *offset).collect();
        let away_from_cuts = |spans: Vec<(Label, TokenSpan)>| -> Vec<(Label, TokenSpan)> {
            let mut kept: Vec<_> = spans
                .into_iter()
                .filter(|(_, s)| cuts.iter().all(|&cut| s.last + 3 < cut || s.first > cut + 3))
                .collect();
            kept.sort();
            kept
        };
        let got = away_from_cuts(model.tag_many(std::slice::from_ref(&long)).expect("tags").remove(0));
        let expected = away_from_cuts(expected);
        assert_eq!(got, expected);
        assert!(got.len() > 50, "{got:?}");
    }

    #[test]
    fn weights_are_added_name_by_name() {
        let weights = |values: &[f32]| BTreeMap::from([("w".to_string(), Tensor::new(values, &Device::Cpu).expect("tensor"))]);
        let sum = add(weights(&[1.0, 2.0]), &weights(&[0.5, -4.0])).expect("adds");
        assert_eq!(sum["w"].to_vec1::<f32>().expect("values"), [1.5, -2.0]);
        assert!(add(weights(&[1.0]), &BTreeMap::new()).is_err(), "a missing name is an error");
    }

    #[test]
    fn a_word_without_pieces_stays_outside() {
        let scores = [CERTAIN_OUTSIDE, [f32::ln(0.1), f32::ln(0.8), f32::ln(0.1)]];
        assert_eq!(crf::viterbi(&scores, &Transitions::default()), [tagger::OUTSIDE, tagger::BEGIN]);
    }
}

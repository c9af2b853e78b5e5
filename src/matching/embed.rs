//! Sentence embeddings: all-MiniLM-L6-v2 (or any HF-format BERT sentence encoder) run by the
//! project's own candle BERT (`skills::encoder`), mean-pooled over real pieces and
//! L2-normalised, so a dot product is the cosine similarity.
//!
//! Why candle and not ONNX Runtime: the BERT code, candle and tokenizers are already in the
//! binary for the skills encoder, so matching adds no crate, no shared library to fetch at run
//! time and no second tensor runtime to build. Texts are cut to `max_pieces` word pieces (what
//! matters in a posting — title, skills, requirements — comes first) and batched by length, so
//! short texts are not padded to long ones.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use super::MatchError;
use crate::normalize::hex;
use crate::skills::encoder::{Config, Encoder, Pass};

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const WEIGHTS: &str = "model.safetensors";
/// The files a sentence-encoder folder holds.
pub const FILES: [&str; 3] = [CONFIG, TOKENIZER, WEIGHTS];
/// Texts per forward pass: large enough to keep the matrix kernels busy, small enough that
/// one long text does not pad many short ones.
const BATCH: usize = 32;
/// Word pieces kept of each text (all-MiniLM-L6-v2 was trained on 128).
pub const DEFAULT_MAX_PIECES: usize = 128;

pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    encoder: Encoder,
    max_pieces: usize,
    dimensions: usize,
    /// sha256 of the weights: vectors cached under one encoder are never read under another.
    id: String,
}

fn format_err(path: &Path) -> impl Fn(String) -> MatchError + '_ {
    move |reason| MatchError::file(path, reason)
}

impl SentenceEncoder {
    /// Loads the folder `dir` (config.json, tokenizer.json, model.safetensors).
    pub fn load(dir: &Path) -> Result<Self, MatchError> {
        let config_path = dir.join(CONFIG);
        let text = std::fs::read_to_string(&config_path).map_err(|e| MatchError::file(&config_path, e))?;
        let config: Config = serde_json::from_str(&text).map_err(|e| MatchError::file(&config_path, e))?;
        let tokenizer_path = dir.join(TOKENIZER);
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| format_err(&tokenizer_path)(e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| format_err(&tokenizer_path)(e.to_string()))?;
        let weights_path = dir.join(WEIGHTS);
        let bytes = std::fs::read(&weights_path).map_err(|e| MatchError::file(&weights_path, e))?;
        let id = hex(&Sha256::digest(&bytes));
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| format_err(&weights_path)(e.to_string()))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let encoder = Encoder::load(&vb, &config).map_err(|e| format_err(&weights_path)(e.to_string()))?;
        Ok(Self {
            tokenizer,
            encoder,
            max_pieces: DEFAULT_MAX_PIECES.min(config.max_position_embeddings),
            dimensions: config.hidden_size,
            id,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The weights' sha256.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// One unit vector per text, in the order given. An empty text gets the vector of `[CLS]
    /// [SEP]`, like any encoder would give it; callers decide whether that means anything.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, MatchError> {
        let mut pieces = Vec::with_capacity(texts.len());
        for text in texts {
            let encoding = self.tokenizer.encode(*text, true).map_err(|e| MatchError::Encoder(e.to_string()))?;
            let mut ids = encoding.get_ids().to_vec();
            if ids.len() > self.max_pieces {
                // Keep the closing [SEP]: the encoder saw every training text end with one.
                let last = ids[ids.len() - 1];
                ids.truncate(self.max_pieces - 1);
                ids.push(last);
            }
            pieces.push(ids);
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| pieces[i].len());
        let batches: Vec<&[usize]> = order.chunks(BATCH).collect();
        let embed_one = |batch: &[usize]| -> Result<Vec<Vec<f32>>, MatchError> {
            let ids: Vec<&[u32]> = batch.iter().map(|&i| pieces[i].as_slice()).collect();
            self.embed_batch(&ids)
        };
        let mut vectors = vec![Vec::new(); texts.len()];
        for (batch, embedded) in batches.iter().zip(on_workers(&batches, embed_one)?) {
            for (&i, vector) in batch.iter().zip(embedded) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    fn embed_batch(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, MatchError> {
        let run = |e: candle_core::Error| MatchError::Encoder(e.to_string());
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for row in batch {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(0u32, width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let ids = Tensor::from_vec(ids, (batch.len(), width), &Device::Cpu).map_err(run)?;
        let mask = Tensor::from_vec(mask, (batch.len(), width), &Device::Cpu).map_err(run)?;
        let states = self.encoder.forward(&ids, &mask, &Pass::Inference).map_err(run)?;
        let weights = mask.to_dtype(DType::F32).map_err(run)?.unsqueeze(2).map_err(run)?;
        let summed = states.broadcast_mul(&weights).map_err(run)?.sum(1).map_err(run)?;
        let counts = weights.sum(1).map_err(run)?.clamp(1e-9, f64::MAX).map_err(run)?;
        let mean = summed.broadcast_div(&counts).map_err(run)?;
        let rows: Vec<Vec<f32>> = mean.to_vec2().map_err(run)?;
        Ok(rows.into_iter().map(normalised).collect())
    }
}

/// `embed_one` of each batch, in order, the batches shared among one thread per core. Why:
/// candle runs a forward pass's element-wise operations (GELU, softmax, layer norms) on the
/// calling thread when `CANDLE_NUM_THREADS` is 1, as `rats serve` sets it, leaving the other
/// core idle meanwhile (about a third of the pass, measured before `Pass::Inference` fused
/// them; not measured since); two passes at once fill it (BENCHMARKS.md, "serve: first start"). One
/// batch (a résumé) runs on the caller's thread.
fn on_workers<T: Send>(batches: &[&[usize]], embed_one: impl Fn(&[usize]) -> Result<T, MatchError> + Sync) -> Result<Vec<T>, MatchError> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(batches.len());
    if workers <= 1 {
        return batches.iter().map(|batch| embed_one(batch)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || -> Result<Vec<(usize, T)>, MatchError> {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(batch) = batches.get(index) else {
                return Ok(done);
            };
            done.push((index, embed_one(batch)?));
        }
    };
    let finished: Vec<Result<Vec<(usize, T)>, MatchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(MatchError::Encoder("an embedding thread panicked".into())))
            })
            .collect()
    });
    // Each index was taken by exactly one thread: back in index order, the batches' order.
    let mut embedded = Vec::with_capacity(batches.len());
    for worker in finished {
        embedded.extend(worker?);
    }
    embedded.sort_unstable_by_key(|(index, _)| *index);
    Ok(embedded.into_iter().map(|(_, vectors)| vectors).collect())
}

fn normalised(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut vector {
            *x /= norm;
        }
    }
    vector
}

/// The dot product of two vectors of the same length (the cosine of unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_shared_among_threads_come_back_in_their_order() {
        let indices: Vec<usize> = (0..1_000).collect();
        let batches: Vec<&[usize]> = indices.chunks(7).collect();
        let sums = on_workers(&batches, |batch| Ok(batch.iter().sum::<usize>())).expect("no errors");
        let expected: Vec<usize> = batches.iter().map(|b| b.iter().sum()).collect();
        assert_eq!(sums, expected);
    }

    #[test]
    fn a_failing_batch_fails_the_whole() {
        let indices: Vec<usize> = (0..100).collect();
        let batches: Vec<&[usize]> = indices.chunks(10).collect();
        let result = on_workers(&batches, |batch| {
            if batch.contains(&55) {
                Err(MatchError::Encoder("batch 5".into()))
            } else {
                Ok(batch.len())
            }
        });
        assert!(matches!(result, Err(MatchError::Encoder(m)) if m == "batch 5"));
    }
}

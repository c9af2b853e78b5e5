//! A BERT encoder (e5-small-v2, the MiniLM family, any HF-format BERT checkpoint) written with
//! candle's differentiable primitives, so `rats train skills --encoder` can fine-tune it.
//!
//! Why not candle-transformers' BERT: its layer norm is a fused kernel without a backward pass
//! and its dropout does nothing, so it can only run a model, not train one. Here a [`Pass`] says
//! which: training uses differentiable primitives and dropout, inference the fused kernels.
//! Weight names follow the HF checkpoints (`embeddings.word_embeddings.weight`,
//! `encoder.layer.0.attention.self.query.weight`, …).

use std::cell::RefCell;

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::{Embedding, Init, Linear, VarBuilder, embedding, linear, ops};
use serde::{Deserialize, Serialize};

use super::inference_gelu::InferenceGelu;

/// The fields of an HF `config.json` that shape a BERT model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
}

/// A seeded xorshift64* generator: training draws its dropout masks and the head's starting
/// weights from it, so a run is reproducible bit for bit (candle's RNG is thread-local and
/// unseeded).
pub struct Seeded {
    state: u64,
}

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Self { state: seed | 1 }
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Normal with mean 0 and deviation `std` (Box–Muller).
    pub fn normal(&mut self, std: f32) -> f32 {
        let u1 = self.unit().max(f32::MIN_POSITIVE);
        let u2 = self.unit();
        std * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// Dropout with its own seeded generator.
pub struct Dropout {
    rate: f32,
    generator: RefCell<Seeded>,
}

impl Dropout {
    pub fn new(rate: f32, seed: u64) -> Self {
        Self {
            rate,
            generator: RefCell::new(Seeded::new(seed)),
        }
    }

    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        if self.rate <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.rate;
        let mut generator = self.generator.borrow_mut();
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| if generator.unit() < keep { 1.0 / keep } else { 0.0 })
            .collect();
        x * Tensor::from_vec(mask, x.shape(), x.device())?
    }
}

/// How a forward pass runs.
pub enum Pass<'a> {
    /// Layer norms, softmax and GELU from candle's differentiable primitives, and this dropout
    /// (which may have a rate of 0): what backpropagation needs.
    Training(&'a Dropout),
    /// Candle's fused layer norm and softmax and [`InferenceGelu`]: no gradients and no dropout,
    /// and a shorter forward pass (BENCHMARKS.md, "serve: first start", "Fused kernels").
    Inference,
}

impl Pass<'_> {
    fn dropout(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Pass::Training(dropout) => dropout.apply(x),
            Pass::Inference => Ok(x.clone()),
        }
    }

    fn softmax(&self, scores: &Tensor) -> Result<Tensor> {
        match self {
            Pass::Training(_) => ops::softmax(scores, D::Minus1),
            Pass::Inference => ops::softmax_last_dim(scores),
        }
    }

    fn gelu(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Pass::Training(_) => x.gelu_erf(),
            Pass::Inference => x.apply_op1_no_bwd(&InferenceGelu),
        }
    }
}

/// Layer normalisation.
struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: &VarBuilder, size: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor, pass: &Pass) -> Result<Tensor> {
        match pass {
            Pass::Training(_) => ops::layer_norm_slow(x, &self.weight, &self.bias, self.eps),
            Pass::Inference => ops::layer_norm(x, &self.weight, &self.bias, self.eps),
        }
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
    heads: usize,
}

impl Layer {
    fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        Ok(Self {
            query: linear(hidden, hidden, vb.pp("attention.self.query"))?,
            key: linear(hidden, hidden, vb.pp("attention.self.key"))?,
            value: linear(hidden, hidden, vb.pp("attention.self.value"))?,
            attention_out: linear(hidden, hidden, vb.pp("attention.output.dense"))?,
            attention_norm: Norm::load(&vb.pp("attention.output.LayerNorm"), hidden, eps)?,
            intermediate: linear(hidden, config.intermediate_size, vb.pp("intermediate.dense"))?,
            output: linear(config.intermediate_size, hidden, vb.pp("output.dense"))?,
            output_norm: Norm::load(&vb.pp("output.LayerNorm"), hidden, eps)?,
            heads: config.num_attention_heads,
        })
    }

    fn forward(&self, x: &Tensor, additive_mask: &Tensor, pass: &Pass) -> Result<Tensor> {
        let (batch, time, hidden) = x.dims3()?;
        let head_size = hidden / self.heads;
        let by_head = |y: Tensor| y.reshape((batch, time, self.heads, head_size))?.transpose(1, 2)?.contiguous();
        let query = by_head(self.query.forward(x)?)?;
        let key = by_head(self.key.forward(x)?)?;
        let value = by_head(self.value.forward(x)?)?;
        let scores = (query.matmul(&key.t()?)? / (head_size as f64).sqrt())?.broadcast_add(additive_mask)?;
        let attention = pass.dropout(&pass.softmax(&scores)?)?;
        let context = attention
            .matmul(&value)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, time, hidden))?;
        let attended = self
            .attention_norm
            .forward(&(pass.dropout(&self.attention_out.forward(&context)?)? + x)?, pass)?;
        let inner = pass.gelu(&self.intermediate.forward(&attended)?)?;
        self.output_norm
            .forward(&(pass.dropout(&self.output.forward(&inner)?)? + attended)?, pass)
    }
}

pub struct Encoder {
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: Norm,
    layers: Vec<Layer>,
}

impl Encoder {
    /// The encoder's variables under `vb` (HF names, without a `bert.` prefix).
    pub fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        let e = vb.pp("embeddings");
        let hidden = config.hidden_size;
        Ok(Self {
            words: embedding(config.vocab_size, hidden, e.pp("word_embeddings"))?,
            positions: embedding(config.max_position_embeddings, hidden, e.pp("position_embeddings"))?,
            types: embedding(config.type_vocab_size, hidden, e.pp("token_type_embeddings"))?,
            norm: Norm::load(&e.pp("LayerNorm"), hidden, config.layer_norm_eps)?,
            layers: (0..config.num_hidden_layers)
                .map(|i| Layer::load(&vb.pp(format!("encoder.layer.{i}")), config))
                .collect::<Result<_>>()?,
        })
    }

    /// Stops training the word-piece embeddings: from here on they are a constant that
    /// backpropagation passes by. Why: the table is a third of e5-small-v2's weights (30,522 × 384), and
    /// each step computed its dense gradient and moved its optimiser state for the few hundred
    /// pieces a batch holds; that memory traffic, not the matrix products, dominated a step.
    /// Call after the weights are loaded: the constant shares their storage as it is then.
    pub fn freeze_word_embeddings(&mut self) {
        self.words = Embedding::new(self.words.embeddings().detach(), self.words.hidden_size());
    }

    /// Hidden states (batch, time, hidden) of `ids` (batch, time; u32) where `mask` (same shape;
    /// 1 for a real piece, 0 for padding) says which pieces to attend to.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, pass: &Pass) -> Result<Tensor> {
        let (_, time) = ids.dims2()?;
        let positions = Tensor::arange(0u32, time as u32, ids.device())?;
        let embedded = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?
            .broadcast_add(&self.types.forward(&ids.zeros_like()?)?)?;
        let mut x = pass.dropout(&self.norm.forward(&embedded, pass)?)?;
        // Padding gets a large negative score before the softmax (as HF BERT does).
        let additive_mask = ((1.0 - mask.to_dtype(DType::F32)?)? * -10_000.0)?.unsqueeze(1)?.unsqueeze(1)?;
        for layer in &self.layers {
            x = layer.forward(&x, &additive_mask, pass)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::VarMap;

    fn tiny() -> Config {
        Config {
            vocab_size: 20,
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 16,
            max_position_embeddings: 16,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
        }
    }

    fn tiny_encoder() -> Encoder {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        Encoder::load(&vb, &tiny()).expect("builds")
    }

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .and_then(|d| d.abs())
            .and_then(|d| d.max_all())
            .and_then(|d| d.to_scalar())
            .expect("compares")
    }

    #[test]
    fn padding_does_not_change_the_states_of_real_pieces() {
        let encoder = tiny_encoder();
        let short = Tensor::new(&[[3u32, 4, 5]], &Device::Cpu).expect("tensor");
        let padded = Tensor::new(&[[3u32, 4, 5, 0, 0]], &Device::Cpu).expect("tensor");
        let mask = Tensor::new(&[[1u32, 1, 1, 0, 0]], &Device::Cpu).expect("tensor");
        let no_dropout = Dropout::new(0.0, 1);
        for pass in [Pass::Training(&no_dropout), Pass::Inference] {
            let a = encoder.forward(&short, &short.ones_like().expect("ones"), &pass).expect("runs");
            let b = encoder.forward(&padded, &mask, &pass).expect("runs");
            let difference = largest_difference(&a, &b.narrow(1, 0, 3).expect("narrow"));
            assert!(difference < 1e-5, "{difference}");
        }
    }

    #[test]
    fn inference_gives_the_states_training_without_dropout_gives() {
        let encoder = tiny_encoder();
        let ids = Tensor::new(&[[3u32, 4, 5, 9, 0], [7, 1, 2, 0, 0]], &Device::Cpu).expect("tensor");
        let mask = Tensor::new(&[[1u32, 1, 1, 1, 0], [1, 1, 1, 0, 0]], &Device::Cpu).expect("tensor");
        let trained = encoder.forward(&ids, &mask, &Pass::Training(&Dropout::new(0.0, 1))).expect("runs");
        let inferred = encoder.forward(&ids, &mask, &Pass::Inference).expect("runs");
        let difference = largest_difference(&trained, &inferred);
        assert!(difference < 1e-4, "{difference}");
    }

    #[test]
    fn dropout_is_reproducible_and_keeps_the_expected_share() {
        let x = Tensor::ones(10_000, DType::F32, &Device::Cpu).expect("ones");
        let first = Dropout::new(0.1, 7).apply(&x).expect("applies").to_vec1::<f32>().expect("vec");
        let second = Dropout::new(0.1, 7).apply(&x).expect("applies").to_vec1::<f32>().expect("vec");
        assert_eq!(first, second);
        let dropped = first.iter().filter(|v| **v == 0.0).count();
        assert!((800..1200).contains(&dropped), "{dropped}");
    }

    #[test]
    fn seeded_normal_draws_have_the_asked_deviation() {
        let mut generator = Seeded::new(2026);
        let draws: Vec<f32> = (0..20_000).map(|_| generator.normal(0.02)).collect();
        let mean = draws.iter().sum::<f32>() / draws.len() as f32;
        let std = (draws.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / draws.len() as f32).sqrt();
        assert!(mean.abs() < 0.001, "{mean}");
        assert!((0.019..0.021).contains(&std), "{std}");
        let mut again = Seeded::new(2026);
        assert_eq!(again.normal(0.02).to_bits(), draws[0].to_bits(), "the same seed draws the same");
    }
}

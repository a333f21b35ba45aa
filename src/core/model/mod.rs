//! The transformer, read top to bottom (after nanoGPT's `model.py`): the parts live in
//! [`layers`] and [`attention`]; here are the block, the decoder and its typed output.
//!
//! Decoder-only, pre-norm (GPT-2, Radford et al. 2019): learned positions, fused QKV with bias,
//! GELU, a final LayerNorm, and an LM head tied to the token embeddings (Press & Wolf 2017); no
//! dropout. The layout equals `shared/bench/torch_reference.py`, so parameter counts and step
//! times compare one to one. The model knows nothing of objectives: it takes ids and a mask and
//! returns logits and an attention trace.

pub mod attention;
pub mod layers;

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use self::attention::{LayerAttention, SelfAttention};
use self::layers::{Embedding, INIT_STD, Mlp};
use super::config::ModelConfig;
use super::rng::{Rng, Stream};

/// One pre-norm transformer block: `x + attn(ln(x))`, then `x + mlp(ln(x))`.
#[derive(Module, Debug)]
pub struct Block {
    pub ln_attn: LayerNorm,
    pub attn: SelfAttention,
    pub ln_mlp: LayerNorm,
    pub mlp: Mlp,
}

impl Block {
    fn init(rng: &mut Rng, c: &ModelConfig, device: &Device) -> Self {
        // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2·layers).
        let residual_std = INIT_STD / ((2 * c.n_layers) as f64).sqrt();
        Self {
            ln_attn: LayerNormConfig::new(c.d_model).init(device),
            attn: SelfAttention::init(rng, c.d_model, c.n_heads, residual_std, device),
            ln_mlp: LayerNormConfig::new(c.d_model).init(device),
            mlp: Mlp::init(rng, c.d_model, c.d_ff, residual_std, device),
        }
    }

    /// # Shapes
    /// - x `[batch, seq, d_model]`, mask `[batch, seq, seq]` → `[batch, seq, d_model]`
    fn forward(
        &self,
        x: Tensor<3>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> (Tensor<3>, Option<LayerAttention>) {
        let (attended, trace) = self
            .attn
            .forward(self.ln_attn.forward(x.clone()), mask, capture);
        let x = x + attended;
        let x = x.clone() + self.mlp.forward(self.ln_mlp.forward(x));
        (x, trace)
    }
}

/// Per-layer attention of one forward pass: what each head attended to, and the mask applied.
/// Empty when capture was off.
#[derive(Debug, Clone, Default)]
pub struct AttentionTrace {
    pub layers: Vec<LayerAttention>,
}

/// What a forward pass returns.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, seq, vocab]`
    pub logits: Tensor<3>,
    pub attention: AttentionTrace,
}

/// Decoder-only transformer.
#[derive(Module, Debug)]
pub struct Decoder {
    pub tokens: Embedding,
    pub positions: Embedding,
    pub blocks: Vec<Block>,
    pub ln_final: LayerNorm,
}

impl Decoder {
    /// Builds the model with weights drawn from `seed` (identical on every backend).
    pub fn init(config: &ModelConfig, seed: u64, device: &Device) -> Self {
        let mut rng = Rng::for_stream(seed, Stream::Init);
        let tokens = Embedding::init(&mut rng, config.vocab_size, config.d_model, device);
        let positions = Embedding::init(&mut rng, config.max_seq_len, config.d_model, device);
        let blocks = (0..config.n_layers)
            .map(|_| Block::init(&mut rng, config, device))
            .collect();
        Self {
            tokens,
            positions,
            blocks,
            ln_final: LayerNormConfig::new(config.d_model).init(device),
        }
    }

    /// # Shapes
    /// - ids `[batch, seq]` with seq ≤ max_seq_len, mask `[batch, seq, seq]` (true = blocked)
    /// - logits `[batch, seq, vocab]`
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> ModelOutput {
        let [b, s] = ids.dims();
        let device = ids.device();
        let positions: Vec<i64> = (0..s as i64).collect();
        let positions = Tensor::<1, Int>::from_data(TensorData::new(positions, [s]), &device)
            .unsqueeze_dim::<2>(0)
            .expand([b, s]); // [b, s]
        let mut x = self.tokens.forward(ids) + self.positions.forward(positions); // [b, s, d]
        let mut attention = AttentionTrace::default();
        for block in &self.blocks {
            let (next, trace) = block.forward(x, mask, capture);
            x = next;
            attention.layers.extend(trace);
        }
        let x = self.ln_final.forward(x);
        let d = x.dims()[2];
        let table = self.tokens.weight.val(); // [vocab, d], tied head
        let vocab = table.dims()[0];
        let logits = x
            .reshape([b * s, d])
            .matmul(table.transpose())
            .reshape([b, s, vocab]); // [b, s, vocab]
        ModelOutput { logits, attention }
    }
}

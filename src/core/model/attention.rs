//! Multi-head attention with explicit weights (Vaswani et al. 2017, §3.2), written out so the
//! weights and the mask that shaped them can be returned for drawing: self-attention (fused QKV
//! with bias, as in GPT-2 and the PyTorch reference), cross-attention for the decoder of an
//! encoder-decoder (T5, BART), and the query stream of XLNet's two-stream attention (Yang et
//! al. 2019, §2.3), which reuses the self-attention weights with queries from another stream.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::layers::{INIT_STD, Linear};
use crate::core::rng::Rng;

/// Score given to blocked cells before the softmax: far enough below any real score that
/// `exp` underflows to exactly 0 in f32, yet finite, so no row can turn into NaN.
const BLOCKED_SCORE: f32 = -1.0e9;

/// Which attention a trace entry shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// Self-attention of a decoder-only model, an encoder or a decoder (causal or not: the mask
    /// says which).
    SelfAttention,
    /// A decoder position reading the encoder's output.
    Cross,
    /// XLNet's content stream: a position sees itself and what comes before it in the order.
    Content,
    /// XLNet's query stream: only what comes strictly before, never its own content.
    Query,
}

/// What one attention layer computed, for pictures and tests.
#[derive(Debug, Clone)]
pub struct LayerAttention {
    /// Index of the block in its stack (encoder and decoder stacks count separately).
    pub layer: usize,
    pub kind: AttentionKind,
    /// Softmax weights `[batch, heads, query, key]`.
    pub weights: Tensor<4>,
    /// The mask that was applied, `[batch, query, key]`, true = blocked.
    pub mask: Tensor<3, Bool>,
}

/// Scaled dot-product attention.
///
/// # Shapes
/// - q `[b, h, sq, dh]`, k and v `[b, h, sk, dh]`, mask `[b, sq, sk]` (true = blocked)
/// - returns `[b, h, sq, dh]` and the weights `[b, h, sq, sk]`
fn attend(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    mask: &Tensor<3, Bool>,
) -> (Tensor<4>, Tensor<4>) {
    let [b, h, sq, dh] = q.dims();
    let sk = k.dims()[2];
    let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((dh as f64).sqrt()); // [b, h, sq, sk]
    let blocked = mask.clone().unsqueeze_dim::<4>(1).expand([b, h, sq, sk]);
    let weights = softmax(scores.mask_fill(blocked, BLOCKED_SCORE), 3); // [b, h, sq, sk]
    (weights.clone().matmul(v), weights)
}

/// `[b, s, d]` → `[b, h, s, d / h]`.
fn split_heads(t: Tensor<3>, h: usize) -> Tensor<4> {
    let [b, s, d] = t.dims();
    t.reshape([b, s, h, d / h]).swap_dims(1, 2)
}

/// `[b, h, s, dh]` → `[b, s, h · dh]`.
fn merge_heads(t: Tensor<4>) -> Tensor<3> {
    let [b, h, s, dh] = t.dims();
    t.swap_dims(1, 2).reshape([b, s, h * dh])
}

#[derive(Module, Debug)]
pub struct SelfAttention {
    pub qkv: Linear,
    pub proj: Linear,
    pub n_heads: usize,
}

impl SelfAttention {
    pub fn init(
        rng: &mut Rng,
        d_model: usize,
        n_heads: usize,
        residual_std: f64,
        device: &Device,
    ) -> Self {
        Self {
            qkv: Linear::init(rng, d_model, 3 * d_model, INIT_STD, device),
            proj: Linear::init(rng, d_model, d_model, residual_std, device),
            n_heads,
        }
    }

    /// # Shapes
    /// - x `[batch, seq, d_model]`, mask `[batch, seq, seq]` (true = blocked)
    /// - returns `[batch, seq, d_model]` and, when `capture`, the weights
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> (Tensor<3>, Option<(Tensor<4>, Tensor<3, Bool>)>) {
        let d = x.dims()[2];
        let qkv = self.qkv.forward(x); // [b, s, 3d]
        let q = split_heads(qkv.clone().narrow(2, 0, d), self.n_heads);
        let k = split_heads(qkv.clone().narrow(2, d, d), self.n_heads);
        let v = split_heads(qkv.narrow(2, 2 * d, d), self.n_heads);
        let (y, weights) = attend(q, k, v, mask);
        let trace = capture.then(|| (weights, mask.clone()));
        (self.proj.forward(merge_heads(y)), trace)
    }

    /// XLNet's query stream: queries from `g` (position, never content), keys and values from
    /// the content stream `h`, the same weights as the content stream. Rows whose mask allows
    /// no key (the first position in the order) are zeroed after the softmax: `row_valid` is
    /// 1 for a row with at least one allowed key, else 0.
    ///
    /// # Shapes
    /// - g, h `[batch, seq, d_model]`, mask `[batch, seq, seq]`, row_valid `[batch, seq]`
    /// - returns `[batch, seq, d_model]` and, when `capture`, the weights
    pub fn forward_query(
        &self,
        g: Tensor<3>,
        h: Tensor<3>,
        mask: &Tensor<3, Bool>,
        row_valid: &Tensor<2>,
        capture: bool,
    ) -> (Tensor<3>, Option<(Tensor<4>, Tensor<3, Bool>)>) {
        let d = g.dims()[2];
        let q = split_heads(self.qkv.forward(g).narrow(2, 0, d), self.n_heads);
        let kv = self.qkv.forward(h);
        let k = split_heads(kv.clone().narrow(2, d, d), self.n_heads);
        let v = split_heads(kv.narrow(2, 2 * d, d), self.n_heads);
        let [b, hh, s, _] = q.dims();
        let valid = row_valid
            .clone()
            .reshape([b, 1, s, 1])
            .expand([b, hh, s, s]); // [b, h, s, s]
        let (_, weights) = attend(q, k, v.clone(), mask);
        let weights = weights * valid;
        let y = weights.clone().matmul(v);
        let trace = capture.then(|| (weights, mask.clone()));
        (self.proj.forward(merge_heads(y)), trace)
    }
}

/// Cross-attention: decoder positions (queries) read the encoder's output (keys and values).
#[derive(Module, Debug)]
pub struct CrossAttention {
    pub q: Linear,
    pub kv: Linear,
    pub proj: Linear,
    pub n_heads: usize,
}

impl CrossAttention {
    pub fn init(
        rng: &mut Rng,
        d_model: usize,
        n_heads: usize,
        residual_std: f64,
        device: &Device,
    ) -> Self {
        Self {
            q: Linear::init(rng, d_model, d_model, INIT_STD, device),
            kv: Linear::init(rng, d_model, 2 * d_model, INIT_STD, device),
            proj: Linear::init(rng, d_model, d_model, residual_std, device),
            n_heads,
        }
    }

    /// # Shapes
    /// - x `[batch, tgt, d_model]`, memory `[batch, src, d_model]`, mask `[batch, tgt, src]`
    /// - returns `[batch, tgt, d_model]` and, when `capture`, the weights
    pub fn forward(
        &self,
        x: Tensor<3>,
        memory: Tensor<3>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> (Tensor<3>, Option<(Tensor<4>, Tensor<3, Bool>)>) {
        let d = x.dims()[2];
        let q = split_heads(self.q.forward(x), self.n_heads);
        let kv = self.kv.forward(memory); // [b, src, 2d]
        let k = split_heads(kv.clone().narrow(2, 0, d), self.n_heads);
        let v = split_heads(kv.narrow(2, d, d), self.n_heads);
        let (y, weights) = attend(q, k, v, mask);
        let trace = capture.then(|| (weights, mask.clone()));
        (self.proj.forward(merge_heads(y)), trace)
    }
}

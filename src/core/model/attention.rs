//! Multi-head self-attention with explicit weights (Vaswani et al. 2017, §3.2), written out so
//! the weights and the mask that shaped them can be returned for drawing. Fused QKV projection
//! with bias, as in GPT-2 and the PyTorch reference.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor};

use super::layers::{INIT_STD, Linear};
use crate::core::rng::Rng;

/// Score given to blocked cells before the softmax: far enough below any real score that
/// `exp` underflows to exactly 0 in f32, yet finite, so no row can turn into NaN.
const BLOCKED_SCORE: f32 = -1.0e9;

#[derive(Module, Debug)]
pub struct SelfAttention {
    pub qkv: Linear,
    pub proj: Linear,
    pub n_heads: usize,
}

/// What one attention layer computed, for pictures and tests.
#[derive(Debug, Clone)]
pub struct LayerAttention {
    /// Softmax weights `[batch, heads, query, key]`.
    pub weights: Tensor<4>,
    /// The mask that was applied, `[batch, query, key]`, true = blocked.
    pub mask: Tensor<3, Bool>,
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
    ) -> (Tensor<3>, Option<LayerAttention>) {
        let [b, s, d] = x.dims();
        let h = self.n_heads;
        let dh = d / h;
        let qkv = self.qkv.forward(x); // [b, s, 3d]
        let heads = |t: Tensor<3>| t.reshape([b, s, h, dh]).swap_dims(1, 2); // [b, h, s, dh]
        let q = heads(qkv.clone().narrow(2, 0, d));
        let k = heads(qkv.clone().narrow(2, d, d));
        let v = heads(qkv.narrow(2, 2 * d, d));
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((dh as f64).sqrt()); // [b, h, s, s]
        let blocked = mask.clone().unsqueeze_dim::<4>(1).expand([b, h, s, s]);
        let weights = softmax(scores.mask_fill(blocked, BLOCKED_SCORE), 3); // [b, h, s, s]
        let y = weights.clone().matmul(v); // [b, h, s, dh]
        let y = y.swap_dims(1, 2).reshape([b, s, d]); // [b, s, d]
        let trace = capture.then(|| LayerAttention {
            weights,
            mask: mask.clone(),
        });
        (self.proj.forward(y), trace)
    }
}

//! The small parts the transformer is built from, smallest first: a linear layer and an
//! embedding table whose weights are drawn from the lab's own seeded generator (so every
//! backend starts from the same numbers), and the position-wise feed-forward network.

use burn::module::{Module, Param};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::core::rng::Rng;

/// Standard deviation of the initial weights (GPT-2's 0.02).
pub const INIT_STD: f64 = 0.02;

fn normal_param<const D: usize>(
    rng: &mut Rng,
    shape: [usize; D],
    std: f64,
    device: &Device,
) -> Param<Tensor<D>> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| (rng.normal() * std) as f32).collect();
    Param::from_data(TensorData::new(values, shape), device)
}

fn zeros_param(n: usize, device: &Device) -> Param<Tensor<1>> {
    Param::from_data(TensorData::new(vec![0f32; n], [n]), device)
}

/// `y = x W + b`, weight stored `[d_in, d_out]`.
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl Linear {
    pub fn init(rng: &mut Rng, d_in: usize, d_out: usize, std: f64, device: &Device) -> Self {
        Self {
            weight: normal_param(rng, [d_in, d_out], std, device),
            bias: zeros_param(d_out, device),
        }
    }

    /// # Shapes
    /// - input `[..., d_in]` → output `[..., d_out]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        burn::tensor::module::linear(x, self.weight.val(), Some(self.bias.val()))
    }
}

/// A lookup table of `n` learned vectors of width `d`.
#[derive(Module, Debug)]
pub struct Embedding {
    pub weight: Param<Tensor<2>>,
}

impl Embedding {
    pub fn init(rng: &mut Rng, n: usize, d: usize, device: &Device) -> Self {
        Self {
            weight: normal_param(rng, [n, d], INIT_STD, device),
        }
    }

    /// # Shapes
    /// - ids `[batch, seq]` → vectors `[batch, seq, d]`
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        burn::tensor::module::embedding(self.weight.val(), ids)
    }
}

/// Position-wise feed-forward network: Linear → GELU → Linear.
#[derive(Module, Debug)]
pub struct Mlp {
    pub up: Linear,
    pub down: Linear,
}

impl Mlp {
    pub fn init(
        rng: &mut Rng,
        d_model: usize,
        d_ff: usize,
        residual_std: f64,
        device: &Device,
    ) -> Self {
        Self {
            up: Linear::init(rng, d_model, d_ff, INIT_STD, device),
            down: Linear::init(rng, d_ff, d_model, residual_std, device),
        }
    }

    /// # Shapes
    /// - `[batch, seq, d_model]` → `[batch, seq, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.down.forward(gelu(self.up.forward(x))) // [b, s, d_ff] → [b, s, d]
    }
}

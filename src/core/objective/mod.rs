//! Pre-training objectives. An objective turns text into a [`Batch`] — inputs, targets, loss
//! weights (which positions are supervised) and the attention mask — and knows nothing of the
//! model. One objective, one file; the skeleton has causal LM ([`clm`]).

pub mod clm;
pub mod coherence;
pub mod infill;
pub mod mlm;
pub mod plm;
pub mod span;

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::masks::AttentionMask;

/// One batch as plain data (the same on every backend).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub batch_size: usize,
    pub seq_len: usize,
    /// `[batch, seq]` row-major.
    pub inputs: Vec<u32>,
    /// `[batch, seq]`: the id each position must predict.
    pub targets: Vec<u32>,
    /// `[batch, seq]`: 1 where the position is scored, 0 where it is not.
    pub loss_weights: Vec<f32>,
    pub mask: AttentionMask,
    /// Tokens of original text in the inputs (no padding, specials or sentinels): what the
    /// budget counts.
    pub original_tokens: usize,
    /// Positions with a non-zero loss weight.
    pub supervised_tokens: usize,
}

/// A batch on a device.
#[derive(Debug, Clone)]
pub struct BatchTensors {
    /// `[batch, seq]`
    pub inputs: Tensor<2, Int>,
    /// `[batch * seq, 1]`
    pub targets: Tensor<2, Int>,
    /// `[batch * seq, 1]`
    pub loss_weights: Tensor<2>,
    /// `[batch, seq, seq]`, true = blocked
    pub mask: Tensor<3, Bool>,
    pub supervised_tokens: usize,
}

impl Batch {
    pub fn to_tensors(&self, device: &Device) -> BatchTensors {
        let (b, s) = (self.batch_size, self.seq_len);
        let ints = |v: &[u32]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
        BatchTensors {
            inputs: Tensor::from_data(TensorData::new(ints(&self.inputs), [b, s]), device),
            targets: Tensor::from_data(TensorData::new(ints(&self.targets), [b * s, 1]), device),
            loss_weights: Tensor::from_data(
                TensorData::new(self.loss_weights.clone(), [b * s, 1]),
                device,
            ),
            mask: self.mask.to_tensor(device),
            supervised_tokens: self.supervised_tokens,
        }
    }
}

//! Helpers the integration modules share: a small model and id tensors.

use burn::tensor::{Device, Int, Tensor, TensorData};
use pretrain_playground::core::config::ModelConfig;

/// A model small enough to train and probe in a test, with `max_seq_len` positions.
pub fn small_config(max_seq_len: usize) -> ModelConfig {
    ModelConfig {
        vocab_size: 64,
        d_model: 32,
        n_layers: 2,
        n_heads: 4,
        d_ff: 64,
        max_seq_len,
    }
}

/// One row of token ids.
pub fn ids(values: &[i64], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [1, values.len()]), device)
}

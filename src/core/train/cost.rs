//! What a step costs: input positions and padding, and training FLOPs, so runs can be compared
//! at equal compute as well as at equal text.

use burn::module::Module;

use crate::core::config::ModelConfig;
use crate::core::metrics::training_flops;
use crate::core::model::network::Network;
use crate::core::objective::Batch;

/// Input positions of `batch` (encoder and decoder sides) and how many of them are padding.
pub(super) fn positions_and_padding(batch: &Batch) -> (usize, usize) {
    let pad = |ids: &[u32]| ids.iter().filter(|&&id| id == 0).count();
    let mut positions = batch.inputs.len();
    let mut padding = pad(&batch.inputs);
    if let Some(decoder) = &batch.decoder {
        positions += decoder.inputs.len();
        padding += batch
            .loss_weights
            .iter()
            .zip(&decoder.inputs)
            .filter(|(w, _)| **w == 0.0)
            .count();
    }
    (positions, padding)
}

/// Training FLOPs of one step on `batch` ([`training_flops`], Kaplan et al. 2020 §2.1): every
/// input position of the stack, padding included; for an encoder-decoder the encoder's
/// parameters over the encoder positions and the rest over the decoder positions, whose
/// attention reads the decoder's positions and the encoder's.
pub fn step_flops(batch: &Batch, network: &Network, c: &ModelConfig) -> f64 {
    let rows = batch.batch_size;
    match network {
        Network::Stack(m) => training_flops(m.num_params(), c, rows * batch.seq_len, batch.seq_len),
        Network::EncoderDecoder(m) => {
            let encoder = m.encoder.num_params();
            let decoder = m.num_params().saturating_sub(encoder);
            let half = ModelConfig {
                n_layers: (c.n_layers / 2).max(1),
                ..*c
            };
            training_flops(encoder, &half, rows * batch.seq_len, batch.seq_len)
                + training_flops(
                    decoder,
                    &half,
                    rows * batch.target_len,
                    batch.target_len + batch.seq_len,
                )
        }
    }
}

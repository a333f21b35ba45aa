//! The encoder-decoder of the denoising objectives (T5, Raffel et al. 2020; BART, Lewis et al.
//! 2020): a bidirectional encoder reads the corrupted text, a causal decoder writes the targets
//! while reading the encoder's output through cross-attention. A size's layers are split
//! between the two stacks (`default`: 2 + 2), and token and position embeddings are shared by
//! encoder, decoder and the tied LM head, so every architecture of one size has about the same
//! number of parameters (cross-attention adds ~12%).

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attention::{AttentionKind, CrossAttention, SelfAttention};
use super::layers::{INIT_STD, Mlp};
use super::{AttentionTrace, Extras, ModelOutput, PairInputs, Transformer};
use crate::core::config::ModelConfig;
use crate::core::rng::{Rng, Stream};

/// A decoder block: causal self-attention, cross-attention to the encoder, feed-forward; each
/// pre-norm with a residual connection.
#[derive(Module, Debug)]
pub struct CrossBlock {
    pub ln_self: LayerNorm,
    pub self_attn: SelfAttention,
    pub ln_cross: LayerNorm,
    pub cross: CrossAttention,
    pub ln_mlp: LayerNorm,
    pub mlp: Mlp,
}

impl CrossBlock {
    fn init(rng: &mut Rng, c: &ModelConfig, n_layers: usize, device: &Device) -> Self {
        let residual_std = INIT_STD / ((3 * n_layers) as f64).sqrt();
        Self {
            ln_self: LayerNormConfig::new(c.d_model).init(device),
            self_attn: SelfAttention::init(rng, c.d_model, c.n_heads, residual_std, device),
            ln_cross: LayerNormConfig::new(c.d_model).init(device),
            cross: CrossAttention::init(rng, c.d_model, c.n_heads, residual_std, device),
            ln_mlp: LayerNormConfig::new(c.d_model).init(device),
            mlp: Mlp::init(rng, c.d_model, c.d_ff, residual_std, device),
        }
    }
}

/// Encoder (a [`Transformer`] stack with a bidirectional mask) plus a cross-attending decoder.
#[derive(Module, Debug)]
pub struct EncoderDecoder {
    pub encoder: Transformer,
    pub decoder: Vec<CrossBlock>,
    pub ln_decoder: LayerNorm,
}

/// What the decoder reads besides the encoder's output.
#[derive(Debug, Clone)]
pub struct DecoderInputs {
    /// `[batch, tgt]`: the targets shifted right (starting with `[BOS]`).
    pub ids: Tensor<2, Int>,
    /// `[batch, tgt, tgt]`, causal (and padding) — true = blocked.
    pub self_mask: Tensor<3, Bool>,
    /// `[batch, tgt, src]`: which encoder positions each decoder position may read (padding
    /// blocked).
    pub cross_mask: Tensor<3, Bool>,
}

impl EncoderDecoder {
    /// Splits `config.n_layers` into encoder and decoder halves (the encoder takes the odd one).
    pub fn init(config: &ModelConfig, extras: Extras, seed: u64, device: &Device) -> Self {
        let mut rng = Rng::for_stream(seed, Stream::Init);
        let n_decoder = (config.n_layers / 2).max(1);
        let n_encoder = config.n_layers.saturating_sub(n_decoder).max(1);
        let encoder = Transformer::init_with(&mut rng, config, n_encoder, extras, device);
        let decoder = (0..n_decoder)
            .map(|_| CrossBlock::init(&mut rng, config, n_decoder, device))
            .collect();
        Self {
            encoder,
            decoder,
            ln_decoder: LayerNormConfig::new(config.d_model).init(device),
        }
    }

    /// # Shapes
    /// - src `[batch, src]`, src_mask `[batch, src, src]`; decoder inputs as in [`DecoderInputs`]
    /// - logits `[batch, tgt, vocab]` (the decoder's); pair logits from the encoder
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        src_mask: &Tensor<3, Bool>,
        pairs: &PairInputs,
        decoder: &DecoderInputs,
        capture: bool,
    ) -> ModelOutput {
        let (memory, mut attention) =
            self.encoder
                .encode(src, src_mask, pairs.segments.as_ref(), capture);
        let pair_logits = self.encoder.pair_logits(&memory, pairs.heads.as_ref());
        let y = self.decode(memory, decoder, capture, &mut attention);
        ModelOutput {
            logits: self.encoder.lm_head(y),
            pair_logits,
            attention: AttentionTrace {
                layers: attention.layers,
            },
        }
    }

    /// The decoder's final states (after its last LayerNorm), reading `memory`.
    ///
    /// # Shapes
    /// - memory `[batch, src, d_model]` → `[batch, tgt, d_model]`
    pub(crate) fn decode(
        &self,
        memory: Tensor<3>,
        decoder: &DecoderInputs,
        capture: bool,
        attention: &mut AttentionTrace,
    ) -> Tensor<3> {
        let mut y = self.encoder.embed(decoder.ids.clone(), None); // [b, tgt, d]
        let offset = self.encoder.blocks.len();
        for (i, block) in self.decoder.iter().enumerate() {
            let (attended, t_self) = block.self_attn.forward(
                block.ln_self.forward(y.clone()),
                &decoder.self_mask,
                capture,
            );
            y = y + attended;
            let (read, t_cross) = block.cross.forward(
                block.ln_cross.forward(y.clone()),
                memory.clone(),
                &decoder.cross_mask,
                capture,
            );
            y = y + read;
            y = y.clone() + block.mlp.forward(block.ln_mlp.forward(y));
            attention.push(offset + i, AttentionKind::SelfAttention, t_self);
            attention.push(offset + i, AttentionKind::Cross, t_cross);
        }
        self.ln_decoder.forward(y)
    }
}

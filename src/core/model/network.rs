//! The network a plan trains, and the loss of one batch. Every architecture takes the same
//! plain [`Batch`](crate::core::objective::Batch) on a device: what the batch carries (a
//! decoder side, a query stream, sentence pairs) decides which forward pass runs, so the
//! training loop never branches on objectives.

use burn::module::{Module, ModuleMapper, ModuleVisitor};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use burn::tensor::Bool;

use crate::core::config::ModelConfig;
use crate::core::model::encdec::{DecoderInputs, EncoderDecoder};
use crate::core::model::{Architecture, Extras, ModelOutput, PairInputs, Transformer};

/// A batch on a device.
#[derive(Debug, Clone)]
pub struct BatchTensors {
    /// `[batch, seq]`
    pub inputs: Tensor<2, Int>,
    /// `[batch, seq]`
    pub segments: Option<Tensor<2, Int>>,
    /// `[batch, seq, seq]`, true = blocked
    pub mask: Tensor<3, Bool>,
    /// `[batch * target_len, 1]`
    pub targets: Tensor<2, Int>,
    /// `[batch * target_len, 1]`
    pub loss_weights: Tensor<2>,
    /// `[batch * target_len, 1]`
    pub corrupted: Tensor<2>,
    pub decoder: Option<DecoderInputs>,
    /// Query mask `[batch, seq, seq]` and row validity `[batch, seq]`.
    pub query: Option<(Tensor<3, Bool>, Tensor<2>)>,
    /// Heads `[batch]` and labels `[batch, 1]`.
    pub pairs: Option<(Tensor<1, Int>, Tensor<2, Int>)>,
    pub supervised_tokens: usize,
}

/// One network of any architecture.
#[derive(Debug, Clone)]
pub enum Network {
    /// Decoder-only, encoder or two-stream: one stack, the masks decide.
    Stack(Transformer),
    EncoderDecoder(EncoderDecoder),
}

impl Network {
    pub fn init(
        architecture: Architecture,
        extras: Extras,
        config: &ModelConfig,
        seed: u64,
        device: &Device,
    ) -> Self {
        match architecture {
            Architecture::EncoderDecoder => {
                Network::EncoderDecoder(EncoderDecoder::init(config, extras, seed, device))
            }
            _ => Network::Stack(Transformer::init(config, extras, seed, device)),
        }
    }

    pub fn num_params(&self) -> usize {
        match self {
            Network::Stack(m) => m.num_params(),
            Network::EncoderDecoder(m) => m.num_params(),
        }
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        match self {
            Network::Stack(m) => m.tokens.weight.device(),
            Network::EncoderDecoder(m) => m.encoder.tokens.weight.device(),
        }
    }

    /// The longest sequence the network reads (its position table).
    pub fn max_seq_len(&self) -> usize {
        match self {
            Network::Stack(m) => m.max_seq_len(),
            Network::EncoderDecoder(m) => m.encoder.max_seq_len(),
        }
    }

    /// The same network for inference (no autodiff graph).
    pub fn valid(&self) -> Network {
        match self {
            Network::Stack(m) => Network::Stack(m.valid()),
            Network::EncoderDecoder(m) => Network::EncoderDecoder(m.valid()),
        }
    }

    /// The forward pass the batch asks for.
    pub fn forward(&self, batch: &BatchTensors, capture: bool) -> ModelOutput {
        let pairs = PairInputs {
            segments: batch.segments.clone(),
            heads: batch.pairs.as_ref().map(|(heads, _)| heads.clone()),
        };
        match (self, &batch.decoder, &batch.query) {
            (Network::EncoderDecoder(m), Some(decoder), _) => {
                m.forward(batch.inputs.clone(), &batch.mask, &pairs, decoder, capture)
            }
            // A pair batch of an encoder-decoder runs through the encoder alone.
            (Network::EncoderDecoder(m), None, _) => {
                m.encoder
                    .forward_pairs(batch.inputs.clone(), &batch.mask, &pairs, capture)
            }
            (Network::Stack(m), _, Some((query_mask, row_valid))) => m.forward_two_stream(
                batch.inputs.clone(),
                &batch.mask,
                query_mask,
                row_valid,
                &pairs,
                capture,
            ),
            (Network::Stack(m), _, None) => {
                m.forward_pairs(batch.inputs.clone(), &batch.mask, &pairs, capture)
            }
        }
    }

    /// The same weights as fresh autodiff leaves on `device`: a copy whose graph is its own.
    pub fn fork(&self, device: &Device) -> Network {
        match self {
            Network::Stack(m) => Network::Stack(m.clone().fork(device)),
            Network::EncoderDecoder(m) => Network::EncoderDecoder(m.clone().fork(device)),
        }
    }

    /// Visits every parameter in the module's order.
    pub fn visit_params<V: ModuleVisitor>(&self, visitor: &mut V) {
        match self {
            Network::Stack(m) => m.visit(visitor),
            Network::EncoderDecoder(m) => m.visit(visitor),
        }
    }

    /// Maps every parameter in the module's order.
    pub fn map_params<M: ModuleMapper>(self, mapper: &mut M) -> Network {
        match self {
            Network::Stack(m) => Network::Stack(m.map(mapper)),
            Network::EncoderDecoder(m) => Network::EncoderDecoder(m.map(mapper)),
        }
    }

    /// One optimizer step with gradients computed elsewhere (summed shards).
    pub fn step_with(
        self,
        optim: &mut ModuleOptimizer,
        lr: f64,
        grads: GradientsParams,
    ) -> Network {
        match self {
            Network::Stack(m) => Network::Stack(optim.step(lr, m, grads)),
            Network::EncoderDecoder(m) => Network::EncoderDecoder(optim.step(lr, m, grads)),
        }
    }

    /// One optimizer step on this network.
    pub fn step(self, optim: &mut ModuleOptimizer, lr: f64, loss: &Tensor<1>) -> Network {
        match self {
            Network::Stack(m) => {
                let grads = GradientsParams::from_grads(loss.backward(), &m);
                Network::Stack(optim.step(lr, m, grads))
            }
            Network::EncoderDecoder(m) => {
                let grads = GradientsParams::from_grads(loss.backward(), &m);
                Network::EncoderDecoder(optim.step(lr, m, grads))
            }
        }
    }
}

/// Summed negative log-likelihood of the targets, each weighted by its loss weight.
///
/// # Shapes
/// - logits `[batch, seq, vocab]`, targets and weights `[batch * seq, 1]` → `[1]`
pub fn weighted_nll_sum(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    weights: Tensor<2>,
) -> Tensor<1> {
    let [b, s, v] = logits.dims();
    let log_probs = log_softmax(logits.reshape([b * s, v]), 1); // [b*s, v]
    let picked = log_probs.gather(1, targets); // [b*s, 1]
    (picked * weights).sum().neg() // [1]
}

/// Negative log-likelihood of the target at every position.
///
/// # Shapes
/// - logits `[batch, seq, vocab]`, targets `[batch * seq, 1]` → `[batch * seq, 1]`
pub fn position_nll(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
    let [b, s, v] = logits.dims();
    let log_probs = log_softmax(logits.reshape([b * s, v]), 1); // [b*s, v]
    log_probs.gather(1, targets).neg() // [b*s, 1]
}

/// The loss terms of one batch, as sums with their counts (so evaluation can pool batches).
pub struct LossTerms {
    /// Token NLL summed over supervised positions, and over corrupted positions.
    pub token_nll: Option<Tensor<1>>,
    pub corrupted_nll: Option<Tensor<1>>,
    /// Pair-head NLL summed over the batch's pairs, and how many the head got right.
    pub pair_nll: Option<Tensor<1>>,
    pub pair_correct: Option<Tensor<1, Int>>,
}

/// Computes the loss terms a batch carries.
pub fn loss_terms(output: ModelOutput, batch: &BatchTensors, with_tokens: bool) -> LossTerms {
    let (pair_nll, pair_correct) = match (output.pair_logits, &batch.pairs) {
        (Some(logits), Some((_, labels))) => {
            let log_probs = log_softmax(logits.clone(), 1); // [b, 2]
            let nll = log_probs.gather(1, labels.clone()).sum().neg(); // [1]
            let predicted = logits.argmax(1); // [b, 1]
            let correct = predicted.equal(labels.clone()).int().sum(); // [1]
            (Some(nll), Some(correct))
        }
        _ => (None, None),
    };
    let (token_nll, corrupted_nll) = if with_tokens {
        let picked = position_nll(output.logits, batch.targets.clone()); // [b*t, 1]
        (
            Some((picked.clone() * batch.loss_weights.clone()).sum()),
            Some((picked * batch.corrupted.clone()).sum()),
        )
    } else {
        (None, None)
    };
    LossTerms {
        token_nll,
        corrupted_nll,
        pair_nll,
        pair_correct,
    }
}

//! Timing the training step, the same way everywhere: natively for `pretrain-playground bench`
//! and, through the same function, wherever else the core runs. One step is what the lab's
//! trainer does for causal LM — upload a batch, forward, masked cross-entropy, backward, Adam
//! with gradient clipping, read the loss back — on random token ids, like the PyTorch
//! reference (`scripts/torch_reference.py`), so the two time the same work.

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::backend::Backend;
use super::config::{ModelConfig, ModelSize};
use super::error::CoreError;
use super::exec::Clock;
pub use super::metrics::training_flops;
use super::model::network::{Network, loss_terms};
use super::model::{Architecture, Extras};
use super::objective::clm;
use super::objective::spec::{BatchShape, BatchSource, ObjectiveKnobs};
use super::objective::windows::WindowBatcher;
use super::rng::{Rng, Stream};
use super::tokenizer::SpecialIds;
use super::train::shards::{
    Executor, LossScales, compute, gradients_params, shard_jobs, sum_shards,
};

/// The shape of one timed step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepShape {
    pub model: ModelConfig,
    pub batch: usize,
    pub seq_len: usize,
}

impl StepShape {
    /// The step the lab trains at `size`: its model, batch and full context.
    pub fn for_size(size: ModelSize) -> Self {
        let model = size.model();
        Self {
            model,
            batch: size.batch_size(),
            seq_len: model.max_seq_len,
        }
    }
}

/// How long one training step took, averaged over the timed steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    pub params: usize,
    pub tokens_per_step: usize,
    pub steps: usize,
    pub ms_per_step: f64,
    pub steps_per_s: f64,
    pub tokens_per_s: f64,
    /// Training FLOPs of one step (see [`training_flops`]).
    pub flops_per_step: f64,
    /// Whether attention weights were kept for the trace (what the visualisations need).
    pub capture: bool,
    /// Row shards per step, each on its own thread natively ([`crate::core::train::shards`]).
    #[serde(default = "one")]
    pub shards: usize,
}

fn one() -> usize {
    1
}

/// Times `steps` causal-LM training steps of a decoder of `shape` on `backend`, after
/// `warmup` untimed ones (the first steps compile kernels and size allocations). With
/// `shards` > 1 each step is the trainer's data-parallel step: row shards computed by
/// `executor` (threads natively, helper workers in the page), gradients summed, one optimizer
/// step.
#[allow(clippy::too_many_arguments)]
pub async fn time_training_step(
    shape: &StepShape,
    warmup: usize,
    steps: usize,
    capture: bool,
    shards: usize,
    executor: &mut Executor,
    backend: &Backend,
    clock: &dyn Clock,
) -> Result<StepTiming, CoreError> {
    shape.model.validate()?;
    if shape.seq_len == 0 || shape.seq_len > shape.model.max_seq_len || shape.batch == 0 {
        return Err(CoreError::Config(format!(
            "a bench step needs 1 ≤ seq_len ≤ {} and a batch of at least 1 (got {} × {})",
            shape.model.max_seq_len, shape.batch, shape.seq_len
        )));
    }
    let specials = SpecialIds::fixed();
    let first_text = SpecialIds::count_fixed() as u32;
    let vocab = shape.model.vocab_size as u32;
    if vocab <= first_text {
        return Err(CoreError::Config(format!(
            "a vocabulary of {vocab} leaves no room for text after the {first_text} specials"
        )));
    }
    let mut rng = Rng::for_stream(0, Stream::Batches);
    let total = shape.batch * (shape.seq_len + 1) * (warmup + steps + 1);
    let stream: Vec<u32> = (0..total)
        .map(|_| first_text + rng.below((vocab - first_text) as usize) as u32)
        .collect();
    let Some(role) = clm::SPEC.tokens() else {
        return Err(CoreError::Config("causal LM has no token role".into()));
    };
    let mut batcher = WindowBatcher::new(
        *role,
        &stream,
        BatchShape {
            knobs: ObjectiveKnobs::default(),
            batch_size: shape.batch,
            seq_len: shape.seq_len,
            vocab_size: shape.model.vocab_size,
            specials,
        },
        Rng::for_stream(0, Stream::Batches),
        "bench",
    )?;
    let device = backend.device.clone().autodiff();
    let mut model = Network::init(
        Architecture::Decoder,
        Extras::default(),
        &shape.model,
        0,
        &device,
    );
    let params = model.num_params();
    let mut optim = AdamConfig::new()
        .with_epsilon(1e-8)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut started = 0.0;
    for i in 0..warmup + steps {
        if i == warmup {
            started = clock.now_s();
        }
        let batch = batcher.next_batch()?;
        let value = if shards > 1 {
            let scales = LossScales {
                tokens: Some((1.0 / batch.supervised_tokens.max(1) as f64, 1.0)),
                pairs: None,
            };
            let jobs = shard_jobs(&batch, shards, scales);
            let mut lost = Vec::new();
            let results = compute(executor, &model, &jobs, &backend.label, &mut lost).await?;
            if !lost.is_empty() {
                return Err(CoreError::Config(format!(
                    "a helper stopped during the bench: {}",
                    lost.join("; ")
                )));
            }
            let sum = sum_shards(results)?;
            let grads = gradients_params(&model, &sum, &backend.device)?;
            model = model.step_with(&mut optim, 1e-3, grads);
            sum.parts[0]
        } else {
            let tensors = batch.to_tensors(&device);
            let output = model.forward(&tensors, capture);
            let terms = loss_terms(output, &tensors, true);
            let Some(nll) = terms.token_nll else {
                return Err(CoreError::Config(
                    "a causal-LM batch carried no loss".into(),
                ));
            };
            let loss: Tensor<1> = nll.mul_scalar(1.0 / batch.supervised_tokens.max(1) as f64);
            model = model.step(&mut optim, 1e-3, &loss);
            loss.into_scalar_async()
                .await
                .map_err(|e| CoreError::read(&backend.label, e))?
        };
        if !value.is_finite() {
            return Err(CoreError::Config(format!(
                "the bench step's loss became {value}"
            )));
        }
    }
    let seconds = (clock.now_s() - started).max(1e-9);
    let tokens_per_step = shape.batch * shape.seq_len;
    let steps_f = steps.max(1) as f64;
    Ok(StepTiming {
        params,
        tokens_per_step,
        steps,
        ms_per_step: seconds * 1000.0 / steps_f,
        steps_per_s: steps_f / seconds,
        tokens_per_s: tokens_per_step as f64 * steps_f / seconds,
        flops_per_step: training_flops(params, &shape.model, tokens_per_step, shape.seq_len),
        capture,
        shards,
    })
}

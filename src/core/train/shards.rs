//! Data parallelism for a CPU training step: the batch is cut into row shards, each shard's
//! gradient is computed on its own copy of the weights — a thread natively, a Web Worker in the
//! page, where wasm has no threads — the gradients are summed in shard order, and one optimizer
//! step follows. This is synchronous data parallelism as in Krizhevsky (2014, "One weird
//! trick…") and PyTorch's DistributedDataParallel (Li et al. 2020), with the all-reduce
//! replaced by a gather to the one process that owns the optimizer.
//!
//! Why the sum is the step's gradient: the step's loss is a sum of per-position (and
//! per-pair) terms divided by the *whole batch's* counts, so each shard scales its own sums
//! by those whole-batch counts ([`LossScales`]) and the shards' losses add up to the step's
//! loss; gradients are linear, so theirs add up to its gradient. Clipping and Adam then run
//! once, on the sum, exactly as for one shard.
//!
//! Reproducibility: shards are summed in a fixed order (shard 0 first), so a run is
//! bit-identical run to run for a given seed and shard count, whichever thread or worker
//! computed which shard (a shard computed by a helper is the same arithmetic on the same
//! numbers as the same shard computed here). Different shard counts group the float sums
//! differently, so their curves differ by rounding only (the tests bound it).

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::model::network::{LossTerms, Network, loss_terms};
use crate::core::objective::Batch;

/// The shards the CLI cuts a CPU step into unless told otherwise: a fixed number, so a
/// command gives the same result on any machine and under any `--jobs`.
pub const DEFAULT_SHARDS: usize = 2;

/// The most shards a step may be cut into (the page's most helpers plus its own).
pub const MAX_SHARDS: usize = 16;

/// How a batch of `batch_size` sequences is cut into `shards` runs of consecutive rows, as
/// even as can be (at most one row apart); never more shards than rows, never none.
pub fn shard_rows(batch_size: usize, shards: usize) -> Vec<Range<usize>> {
    let k = shards.clamp(1, batch_size.max(1));
    (0..k)
        .map(|i| i * batch_size / k..(i + 1) * batch_size / k)
        .collect()
}

/// How a shard's summed losses become its part of the step's loss: each sum is divided by the
/// whole batch's count and multiplied by its objective's weight in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossScales {
    /// `(1 / the batch's supervised positions, the token objective's weight)`.
    pub tokens: Option<(f64, f64)>,
    /// `(1 / the batch's sequences, the pair objective's weight)`.
    pub pairs: Option<(f64, f64)>,
}

/// A step's loss and its two parts (each already divided by its count, before the weights).
pub struct StepLoss {
    pub loss: Tensor<1>,
    pub token_part: Option<Tensor<1>>,
    pub pair_part: Option<Tensor<1>>,
}

impl StepLoss {
    /// `[loss, token part, pair part]` (0 for an absent part): what a step reads back, once.
    pub fn parts(self) -> Tensor<1> {
        let device = self.loss.device();
        let zero = || Tensor::<1>::zeros([1], &device);
        Tensor::cat(
            vec![
                self.loss,
                self.token_part.unwrap_or_else(zero),
                self.pair_part.unwrap_or_else(zero),
            ],
            0,
        )
    }
}

/// The step's loss from a batch's loss terms: the one formula the trainer uses with one shard
/// or many.
pub fn step_loss(terms: LossTerms, scales: &LossScales) -> Result<StepLoss, CoreError> {
    let token = scales
        .tokens
        .zip(terms.token_nll)
        .map(|((scale, weight), nll)| (nll.mul_scalar(scale), weight));
    let pair = scales
        .pairs
        .zip(terms.pair_nll)
        .map(|((scale, weight), nll)| (nll.mul_scalar(scale), weight));
    let loss = match (&token, &pair) {
        (Some((t, wt)), Some((p, wp))) => t.clone().mul_scalar(*wt) + p.clone().mul_scalar(*wp),
        (Some((t, wt)), None) => t.clone().mul_scalar(*wt),
        (None, Some((p, wp))) => p.clone().mul_scalar(*wp),
        (None, None) => return Err(CoreError::Config("a batch carried no loss".into())),
    };
    Ok(StepLoss {
        loss,
        token_part: token.map(|(t, _)| t),
        pair_part: pair.map(|(p, _)| p),
    })
}

/// One shard of a step: its rows and how its sums are scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardJob {
    pub batch: Batch,
    pub scales: LossScales,
}

/// The step's jobs: `batch` cut into `shards` row shards, each scaled by the whole batch's
/// counts.
pub fn shard_jobs(batch: &Batch, shards: usize, scales: LossScales) -> Vec<ShardJob> {
    shard_rows(batch.batch_size, shards)
        .into_iter()
        .map(|rows| ShardJob {
            batch: batch.rows(rows),
            scales,
        })
        .collect()
}

/// What one shard computed: its gradient, as plain numbers so it can cross a thread or a
/// worker boundary, and its part of the step's loss.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardGrads {
    /// For each float parameter in the network's visiting order: whether the loss reached it
    /// (a pair head is not reached by a batch without pairs, and the optimizer must then
    /// leave it alone, as it does with one shard).
    pub present: Vec<bool>,
    /// The gradients of the present parameters, each flattened, concatenated in that order.
    pub values: Vec<f32>,
    /// This shard's `[loss, token part, pair part]` (0 for an absent part).
    pub parts: [f32; 3],
}

/// Gradients of one shard on a fresh copy of `model`'s weights (forked, so the copy's autodiff
/// graph is its own and shards can run at the same time), read back as plain numbers.
pub async fn shard_gradients(
    model: &Network,
    job: &ShardJob,
    label: &str,
) -> Result<ShardGrads, CoreError> {
    let device = model.device();
    let local = model.fork(&device);
    let tensors = job.batch.to_tensors(&device);
    let output = local.forward(&tensors, false);
    let terms = loss_terms(output, &tensors, job.scales.tokens.is_some());
    let step = step_loss(terms, &job.scales)?;
    let mut grads = step.loss.backward();
    let parts = step.parts();
    let mut collect = Collect {
        grads: &mut grads,
        present: Vec::new(),
        tensors: Vec::new(),
    };
    local.visit_params(&mut collect);
    let Collect {
        present, tensors, ..
    } = collect;
    let parts = read(parts, label).await?;
    let values = if tensors.is_empty() {
        Vec::new()
    } else {
        read(Tensor::cat(tensors, 0), label).await?
    };
    Ok(ShardGrads {
        present,
        values,
        parts: [
            parts.first().copied().unwrap_or(f32::NAN),
            parts.get(1).copied().unwrap_or(0.0),
            parts.get(2).copied().unwrap_or(0.0),
        ],
    })
}

/// `tensor`'s numbers, read back asynchronously (the only way WebGPU allows).
pub(crate) async fn read(tensor: Tensor<1>, label: &str) -> Result<Vec<f32>, CoreError> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| CoreError::read(label, e))?
        .try_into_vec::<f32>()
        .map_err(|e| CoreError::read(label, format!("{e:?}")))
}

/// Takes each parameter's gradient out of a backward pass, flattened.
struct Collect<'a> {
    grads: &'a mut Gradients,
    present: Vec<bool>,
    tensors: Vec<Tensor<1>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = param
            .is_require_grad()
            .then(|| param.val().grad_remove(self.grads))
            .flatten();
        self.present.push(grad.is_some());
        if let Some(grad) = grad {
            self.tensors.push(grad.flatten::<1>(0, D - 1));
        }
    }
}

/// The step's gradient: the shards' gradients summed in shard order (shard 0 first), and
/// their loss parts likewise. Shards of one step reach the same parameters; anything else
/// is an error, never a silent zero.
pub fn sum_shards(shards: Vec<ShardGrads>) -> Result<ShardGrads, CoreError> {
    let mut shards = shards.into_iter();
    let Some(mut total) = shards.next() else {
        return Err(CoreError::Config("a step needs at least one shard".into()));
    };
    for shard in shards {
        if shard.present != total.present || shard.values.len() != total.values.len() {
            return Err(CoreError::Config(
                "the shards of one step reached different parameters".into(),
            ));
        }
        for (sum, value) in total.values.iter_mut().zip(&shard.values) {
            *sum += *value;
        }
        for (sum, value) in total.parts.iter_mut().zip(shard.parts) {
            *sum += value;
        }
    }
    Ok(total)
}

/// `sum`'s gradients as burn's optimizer takes them, on `device` (the backend's own device,
/// where a backward pass leaves gradients), keyed by `model`'s parameters.
pub fn gradients_params(
    model: &Network,
    sum: &ShardGrads,
    device: &Device,
) -> Result<GradientsParams, CoreError> {
    let mut place = PlaceGrads {
        sum,
        device,
        index: 0,
        offset: 0,
        grads: GradientsParams::new(),
        wrong: false,
    };
    model.visit_params(&mut place);
    if place.wrong || place.index != sum.present.len() || place.offset != sum.values.len() {
        return Err(CoreError::Config(
            "the summed gradient does not fit the network's parameters".into(),
        ));
    }
    Ok(place.grads)
}

struct PlaceGrads<'a> {
    sum: &'a ShardGrads,
    device: &'a Device,
    index: usize,
    offset: usize,
    grads: GradientsParams,
    wrong: bool,
}

impl ModuleVisitor for PlaceGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let present = self.sum.present.get(self.index).copied();
        self.index += 1;
        match present {
            Some(true) => {}
            Some(false) => return,
            None => {
                self.wrong = true;
                return;
            }
        }
        let shape = param.lazy_shape();
        let n = shape.num_elements();
        let Some(values) = self.sum.values.get(self.offset..self.offset + n) else {
            self.wrong = true;
            return;
        };
        self.offset += n;
        let tensor = Tensor::<D>::from_data(TensorData::new(values.to_vec(), shape), self.device);
        self.grads.register(param.id, tensor);
    }
}

/// Every float weight of `model`, flattened and concatenated in visiting order: what the
/// page's leader sends its helpers before each step.
pub async fn read_weights(model: &Network, label: &str) -> Result<Vec<f32>, CoreError> {
    let mut weights = crate::core::saved::Weights::default();
    model.valid().visit_params(&mut weights);
    if weights.tensors.is_empty() {
        return Ok(Vec::new());
    }
    read(Tensor::cat(weights.tensors, 0), label).await
}

/// `model` with its float weights replaced by `weights` ([`read_weights`]'s layout), each
/// a fresh leaf that tracks gradients.
pub fn load_weights(model: Network, weights: &[f32]) -> Result<Network, CoreError> {
    let device = model.device();
    let mut load = Load {
        weights,
        offset: 0,
        device: &device,
        wrong: false,
    };
    let model = model.map_params(&mut load);
    if load.wrong || load.offset != weights.len() {
        return Err(CoreError::Config(format!(
            "{} weights do not fit this network ({} read)",
            weights.len(),
            load.offset
        )));
    }
    Ok(model)
}

struct Load<'a> {
    weights: &'a [f32],
    offset: usize,
    device: &'a Device,
    wrong: bool,
}

impl ModuleMapper for Load<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let shape = param.lazy_shape();
        let n = shape.num_elements();
        let Some(values) = self.weights.get(self.offset..self.offset + n) else {
            self.wrong = true;
            return param;
        };
        self.offset += n;
        let tensor = Tensor::<D>::from_data(TensorData::new(values.to_vec(), shape), self.device);
        param.map(move |_| tensor.require_grad())
    }
}

/// What [`ShardHelpers::receive`] gives: each helper's shard, or why it has none.
pub type Received<'a> = Pin<Box<dyn Future<Output = Vec<Result<ShardGrads, String>>> + 'a>>;

/// Somewhere else that computes shards: the page's helper workers. The trainer sends each
/// helper one job with the weights it is to read, computes its own shard, then awaits theirs.
pub trait ShardHelpers {
    /// How many helpers are alive.
    fn count(&self) -> usize;
    /// Hands out `jobs`, one per helper in order, each to be computed on `weights`.
    fn send(&mut self, weights: &[f32], jobs: &[ShardJob]) -> Result<(), String>;
    /// The results in the order sent; a helper that failed gives why.
    fn receive(&mut self) -> Received<'_>;
    /// Helpers that stopped since the last call, each with why (whether or not a shard of
    /// theirs was in flight).
    fn lost(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// How the trainer computes a step's shards.
pub enum Executor {
    /// All of them here, one after the other (the page without helpers, any GPU).
    Local,
    /// On scoped threads, one per shard (natively).
    Threads,
    /// Shard 0 here, the others on helpers ([`ShardHelpers`]); a shard whose helper fails is
    /// computed here, so the step, and the run, are the same as if it had not.
    Helpers(Box<dyn ShardHelpers>),
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Executor::Local => f.write_str("Local"),
            Executor::Threads => f.write_str("Threads"),
            Executor::Helpers(h) => write!(f, "Helpers({})", h.count()),
        }
    }
}

/// Computes `jobs` with `executor`, results in shard order. A shard whose helper failed is
/// computed here, and why is added to `failures` (with helpers that stopped meanwhile).
pub async fn compute(
    executor: &mut Executor,
    model: &Network,
    jobs: &[ShardJob],
    label: &str,
    failures: &mut Vec<String>,
) -> Result<Vec<ShardGrads>, CoreError> {
    let Some((first, rest)) = jobs.split_first() else {
        return Ok(Vec::new());
    };
    let mut results = Vec::with_capacity(jobs.len());
    match executor {
        #[cfg(not(target_arch = "wasm32"))]
        Executor::Threads => {
            for result in on_threads(model, jobs, label) {
                results.push(result?);
            }
        }
        Executor::Helpers(helpers) => {
            let remote = rest.len().min(helpers.count());
            let sent = if remote > 0 {
                let weights = read_weights(model, label).await?;
                helpers.send(&weights, &rest[..remote])
            } else {
                Ok(())
            };
            results.push(shard_gradients(model, first, label).await?);
            let mut got = match sent {
                Ok(()) if remote > 0 => helpers.receive().await,
                Ok(()) => Vec::new(),
                Err(why) => {
                    failures.push(why);
                    Vec::new()
                }
            }
            .into_iter();
            for job in rest {
                // A helper's gradient must have shard 0's layout; one that does not is
                // recomputed here like a failed one.
                let fits = |g: &ShardGrads| {
                    results
                        .first()
                        .is_some_and(|r| r.present == g.present && r.values.len() == g.values.len())
                };
                match got.next() {
                    Some(Ok(grads)) if fits(&grads) => results.push(grads),
                    Some(Ok(_)) => {
                        failures.push("a helper's gradient did not fit the network".into());
                        results.push(shard_gradients(model, job, label).await?);
                    }
                    Some(Err(why)) => {
                        failures.push(why);
                        results.push(shard_gradients(model, job, label).await?);
                    }
                    None => results.push(shard_gradients(model, job, label).await?),
                }
            }
            for why in helpers.lost() {
                if !failures.contains(&why) {
                    failures.push(why);
                }
            }
        }
        #[allow(unreachable_patterns)]
        _ => {
            for job in jobs {
                results.push(shard_gradients(model, job, label).await?);
            }
        }
    }
    Ok(results)
}

/// Computes `jobs` on scoped threads, shard 0 on this one; results in shard order.
#[cfg(not(target_arch = "wasm32"))]
pub fn on_threads(
    model: &Network,
    jobs: &[ShardJob],
    label: &str,
) -> Vec<Result<ShardGrads, CoreError>> {
    use crate::core::exec::block_on;
    let Some((first, rest)) = jobs.split_first() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|job| {
                let model = model.clone();
                scope.spawn(move || block_on(shard_gradients(&model, job, label)))
            })
            .collect();
        let mut results = vec![block_on(shard_gradients(model, first, label))];
        for handle in handles {
            results.push(
                handle.join().unwrap_or_else(|_| {
                    Err(CoreError::Config("a training thread panicked".into()))
                }),
            );
        }
        results
    })
}

#[cfg(test)]
#[path = "shards_tests.rs"]
mod tests;

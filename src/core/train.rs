//! The training loop, hand-written (burn's `Learner` does not run in wasm): Adam with linear
//! warm-up then cosine decay, gradient clipping, a token budget, periodic validation and a
//! sampled continuation of a fixed prompt. It runs on whatever burn `Device` it is given and
//! reads numbers back only through `async` calls, so the native CLI and the browser worker
//! drive the very same code; they differ only in the [`Clock`] they pass and in how they wait.

use std::collections::VecDeque;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::{ModelConfig, RunConfig};
use super::data::Dataset;
use super::error::CoreError;
use super::exec::Clock;
use super::masks::AttentionMask;
use super::metrics::unigram_entropy;
use super::mix::ObjectiveMix;
use super::model::{Extras, Transformer};
use super::objective::clm::{ClmBatcher, clm_eval_batches, cycled};
use super::objective::{Batch, BatchTensors};
use super::rng::{Rng, Stream};
use super::summary::{BackendKind, CurvePoint, RunStatus, RunSummary, StepReport, TrainEvent};

/// Where a run trains: the device and how to describe it.
#[derive(Debug, Clone)]
pub struct Backend {
    pub device: Device,
    pub kind: BackendKind,
    pub label: String,
}

impl Backend {
    /// burn's pure-Rust CPU backend.
    pub fn cpu() -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Cpu,
            label: "CPU (burn flex)".into(),
        }
    }
}

/// Learning rate at 1-based `step`: linear warm-up, then cosine decay to 10% of the peak at
/// `total_steps` (Loshchilov & Hutter 2017; the GPT-2/3 recipe).
pub fn learning_rate(step: usize, total_steps: usize, warmup_steps: usize, peak: f64) -> f64 {
    let warmup = warmup_steps.max(1);
    if step <= warmup {
        return peak * step as f64 / warmup as f64;
    }
    let span = total_steps.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    let floor = 0.1 * peak;
    floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
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

/// A training run in progress. Call [`Trainer::start`], then [`Trainer::advance`] until it
/// returns a `Finished` event; [`Trainer::cancel`] ends it early.
pub struct Trainer {
    config: RunConfig,
    model_config: ModelConfig,
    mix: ObjectiveMix,
    preset: Option<String>,
    backend: Backend,
    train_device: Device,
    model: Option<Transformer>,
    optim: ModuleOptimizer,
    batcher: ClmBatcher,
    eval_batches: Vec<BatchTensors>,
    eval_supervised: usize,
    dataset: Dataset,
    clock: Box<dyn Clock>,
    planned_steps: usize,
    warmup_steps: usize,
    step: usize,
    tokens: u64,
    supervised: u64,
    started_s: f64,
    first_step_s: Option<f64>,
    train_s: f64,
    last_sample_s: f64,
    /// Wall time the last sample took: on slow devices samples are spaced further apart so
    /// they never take more than a fifth of the time.
    sample_cost_s: f64,
    recent: VecDeque<(usize, f64)>,
    curve: Vec<CurvePoint>,
    initial_val_loss: f32,
    last_val_loss: f32,
    last_eval_step: usize,
    unigram_entropy: f64,
    status: Option<RunStatus>,
    diverged_at_step: Option<usize>,
}

impl Trainer {
    /// Builds the model and optimizer, measures the starting validation loss and draws a
    /// first sample. Returns the trainer and those first events.
    pub async fn start(
        dataset: Dataset,
        config: RunConfig,
        mix: ObjectiveMix,
        preset: Option<String>,
        backend: Backend,
        clock: Box<dyn Clock>,
    ) -> Result<(Self, Vec<TrainEvent>), CoreError> {
        config.validate()?;
        mix.ensure_trainable()?;
        let model_config = config.size.model();
        if dataset.tokenizer.vocab_size() > model_config.vocab_size {
            return Err(CoreError::Config(format!(
                "the tokenizer has {} entries but the {} model only {}",
                dataset.tokenizer.vocab_size(),
                config.size,
                model_config.vocab_size
            )));
        }
        let started_s = clock.now_s();
        let (batch_size, seq_len) = (config.size.batch_size(), model_config.max_seq_len);
        let specials = dataset.tokenizer.specials();
        // One batch's worth at least, for a student's short text.
        let one_batch = (batch_size * seq_len).max(2 * seq_len) + 1;
        let batcher = ClmBatcher::new(
            cycled(&dataset.train, one_batch),
            batch_size,
            seq_len,
            specials,
            Rng::for_stream(config.seed, Stream::Batches),
        )?;
        let eval_plain: Vec<Batch> = clm_eval_batches(
            &cycled(&dataset.validation, one_batch),
            batch_size,
            seq_len,
            config.eval_batches,
            specials,
        )?;
        let unigram = unigram_entropy(&dataset.train, model_config.vocab_size, &eval_plain);
        let eval_supervised = eval_plain.iter().map(|b| b.supervised_tokens).sum();
        let eval_batches = eval_plain
            .iter()
            .map(|b| b.to_tensors(&backend.device))
            .collect();

        let train_device = backend.device.clone().autodiff();
        let model = Transformer::init(&model_config, Extras::default(), config.seed, &train_device);
        let optim = AdamConfig::new()
            .with_epsilon(1e-8)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(config.grad_clip)))
            .init();
        let expected_per_step = (batch_size * seq_len) as f64 * dataset.original_fraction();
        let planned_steps =
            ((config.budget_tokens as f64 / expected_per_step.max(1.0)).ceil() as usize).max(1);
        let warmup_steps =
            ((planned_steps as f64 * config.warmup_fraction).round() as usize).max(1);

        let mut trainer = Self {
            model_config,
            mix,
            preset,
            train_device,
            model: Some(model),
            optim,
            batcher,
            eval_batches,
            eval_supervised,
            dataset,
            planned_steps,
            warmup_steps,
            step: 0,
            tokens: 0,
            supervised: 0,
            started_s,
            first_step_s: None,
            train_s: 0.0,
            last_sample_s: started_s,
            sample_cost_s: 0.0,
            recent: VecDeque::new(),
            curve: Vec::new(),
            initial_val_loss: f32::NAN,
            last_val_loss: f32::NAN,
            last_eval_step: 0,
            unigram_entropy: unigram,
            status: None,
            diverged_at_step: None,
            backend,
            config,
            clock,
        };
        let val_loss = trainer.validation_loss().await?;
        trainer.initial_val_loss = val_loss;
        trainer.last_val_loss = val_loss;
        let sample = trainer.sample().await?;
        let events = vec![
            TrainEvent::Eval {
                step: 0,
                tokens: 0,
                val_loss,
            },
            sample,
        ];
        Ok((trainer, events))
    }

    pub fn is_done(&self) -> bool {
        self.status.is_some()
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn planned_steps(&self) -> usize {
        self.planned_steps
    }

    pub fn params(&self) -> usize {
        self.model.as_ref().map_or(0, |m| m.num_params())
    }

    /// The word-frequency baseline the validation loss is read against.
    pub fn unigram_entropy(&self) -> f64 {
        self.unigram_entropy
    }

    /// One optimizer step, then whatever evaluation or sample is due. The last call returns a
    /// `Finished` event (budget used up, or the loss diverged); later calls return nothing.
    pub async fn advance(&mut self) -> Result<Vec<TrainEvent>, CoreError> {
        if self.is_done() {
            return Ok(Vec::new());
        }
        let Some(model) = self.model.take() else {
            return Err(CoreError::Config(
                "the model is missing; reset the run".into(),
            ));
        };
        let batch = self.batcher.next_batch();
        let t0 = self.clock.now_s();
        self.first_step_s.get_or_insert(t0);
        let tensors = batch.to_tensors(&self.train_device);
        let output = model.forward(tensors.inputs, &tensors.mask, false);
        let loss = weighted_nll_sum(output.logits, tensors.targets, tensors.loss_weights)
            .div_scalar(batch.supervised_tokens.max(1) as f64);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = learning_rate(
            self.step + 1,
            self.planned_steps,
            self.warmup_steps,
            self.config.peak_lr,
        );
        self.model = Some(self.optim.step(lr, model, grads));
        let loss_value: f32 = loss
            .into_scalar_async()
            .await
            .map_err(|e| CoreError::read(&self.backend.label, e))?;
        let step_s = self.clock.now_s() - t0;

        self.step += 1;
        self.tokens += batch.original_tokens as u64;
        self.supervised += batch.supervised_tokens as u64;
        self.train_s += step_s;
        self.recent.push_back((batch.original_tokens, step_s));
        if self.recent.len() > 20 {
            self.recent.pop_front();
        }
        let mut events = vec![TrainEvent::Step(self.report(
            loss_value,
            lr,
            batch.supervised_tokens,
        ))];
        if !loss_value.is_finite() {
            self.status = Some(RunStatus::Diverged);
            self.diverged_at_step = Some(self.step);
            events.push(TrainEvent::Finished(Box::new(self.summary())));
            return Ok(events);
        }
        self.curve.push(CurvePoint {
            step: self.step,
            tokens: self.tokens,
            train_loss: loss_value,
            val_loss: None,
        });

        let budget_used = self.tokens >= self.config.budget_tokens;
        if budget_used || self.step.is_multiple_of(self.config.eval_every_steps) {
            events.push(self.evaluate().await?);
        }
        let now = self.clock.now_s();
        let sample_gap = self.config.sample_every_s.max(4.0 * self.sample_cost_s);
        if budget_used || now - self.last_sample_s >= sample_gap {
            events.push(self.sample().await?);
        }
        if budget_used {
            self.status = Some(RunStatus::Finished);
            events.push(TrainEvent::Finished(Box::new(self.summary())));
        }
        Ok(events)
    }

    /// Stops the run early; its curve and last validation loss are kept.
    pub fn cancel(&mut self) -> RunSummary {
        if self.status.is_none() {
            self.status = Some(RunStatus::Cancelled);
        }
        self.summary()
    }

    fn report(&self, loss: f32, lr: f64, supervised_tokens: usize) -> StepReport {
        let (tok, secs) = self
            .recent
            .iter()
            .fold((0usize, 0.0), |(t, s), (a, b)| (t + a, s + b));
        let now = self.clock.now_s();
        let since_first = now - self.first_step_s.unwrap_or(now);
        let pace = if self.tokens > 0 {
            since_first / self.tokens as f64
        } else {
            0.0
        };
        let remaining = self.config.budget_tokens.saturating_sub(self.tokens) as f64;
        StepReport {
            step: self.step,
            tokens: self.tokens,
            budget_tokens: self.config.budget_tokens,
            loss,
            lr,
            supervised_tokens,
            tokens_per_s: if secs > 0.0 { tok as f64 / secs } else { 0.0 },
            elapsed_s: now - self.started_s,
            eta_s: remaining * pace,
        }
    }

    async fn evaluate(&mut self) -> Result<TrainEvent, CoreError> {
        let val_loss = self.validation_loss().await?;
        self.last_val_loss = val_loss;
        self.last_eval_step = self.step;
        if let Some(point) = self.curve.last_mut() {
            point.val_loss = Some(val_loss);
        }
        Ok(TrainEvent::Eval {
            step: self.step,
            tokens: self.tokens,
            val_loss,
        })
    }

    /// Mean loss over the fixed validation batches, read back once.
    async fn validation_loss(&self) -> Result<f32, CoreError> {
        let Some(model) = self.model.as_ref() else {
            return Ok(f32::NAN);
        };
        let model = model.valid();
        let mut total: Option<Tensor<1>> = None;
        for batch in &self.eval_batches {
            let out = model.forward(batch.inputs.clone(), &batch.mask, false);
            let nll = weighted_nll_sum(
                out.logits,
                batch.targets.clone(),
                batch.loss_weights.clone(),
            );
            total = Some(match total {
                Some(t) => t + nll,
                None => nll,
            });
        }
        let Some(total) = total else {
            return Ok(f32::NAN);
        };
        let sum: f32 = total
            .into_scalar_async()
            .await
            .map_err(|e| CoreError::read(&self.backend.label, e))?;
        Ok(sum / self.eval_supervised.max(1) as f32)
    }

    /// Continues the dataset's sample prompt ([`Dataset::sample_prompt`]) with temperature sampling (T = 0.8, top-k 40). The draw is
    /// seeded by the run seed and the step, so it changes only because the model changed.
    pub async fn sample(&mut self) -> Result<TrainEvent, CoreError> {
        let started = self.clock.now_s();
        let event = self.draw_sample().await;
        self.last_sample_s = self.clock.now_s();
        self.sample_cost_s = self.last_sample_s - started;
        event
    }

    async fn draw_sample(&self) -> Result<TrainEvent, CoreError> {
        let tokenizer = &self.dataset.tokenizer;
        let prompt_text = self.dataset.sample_prompt();
        let prompt = tokenizer.encode(&prompt_text)?;
        let Some(model) = self.model.as_ref() else {
            return Err(CoreError::Config("no model".into()));
        };
        let model = model.valid();
        let device = &self.backend.device;
        let mut rng = Rng::for_stream(
            self.config.seed ^ ((self.step as u64) << 20),
            Stream::Sampling,
        );
        let mut ids = prompt.clone();
        let max_len = self.model_config.max_seq_len;
        for _ in 0..self.config.sample_tokens {
            let window = &ids[ids.len().saturating_sub(max_len)..];
            let len = window.len();
            let input: Vec<i64> = window.iter().map(|&x| x as i64).collect();
            let input = Tensor::<2, Int>::from_data(TensorData::new(input, [1, len]), device);
            let mask = AttentionMask::causal(1, len).to_tensor(device);
            let logits = model.forward(input, &mask, false).logits; // [1, len, vocab]
            let vocab = logits.dims()[2];
            let last = logits.narrow(1, len - 1, 1).reshape([vocab]); // [vocab]
            let data = last
                .into_data_async()
                .await
                .map_err(|e| CoreError::read(&self.backend.label, e))?;
            let values: Vec<f32> = data
                .try_into_vec::<f32>()
                .map_err(|e| CoreError::read(&self.backend.label, format!("{e:?}")))?;
            let next = sample_top_k(&values, 0.8, 40, &mut rng, tokenizer.specials().eos);
            if next == tokenizer.specials().eos {
                break;
            }
            ids.push(next);
        }
        // An untrained model emits stray bytes; show control characters as spaces.
        let text: String = tokenizer
            .decode(&ids[prompt.len()..])?
            .chars()
            .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
            .collect();
        Ok(TrainEvent::Sample {
            step: self.step,
            prompt: prompt_text,
            text,
        })
    }

    /// The run summary as it stands.
    pub fn summary(&self) -> RunSummary {
        let batch_size = self.config.size.batch_size();
        RunSummary {
            schema_version: super::summary::SCHEMA_VERSION,
            status: self.status.unwrap_or(RunStatus::Cancelled),
            mix: self.mix.canonical(),
            preset: self.preset.clone(),
            seed: self.config.seed,
            corpus_seed: self.config.corpus_seed,
            size: self.config.size,
            params: self.params(),
            backend: self.backend.kind,
            backend_label: self.backend.label.clone(),
            budget_tokens: self.config.budget_tokens,
            tokens_per_step: batch_size * self.model_config.max_seq_len,
            steps: self.step,
            tokens: self.tokens,
            supervised_tokens: self.supervised,
            wall_s: self.clock.now_s() - self.started_s,
            train_s: self.train_s,
            initial_val_loss: self.initial_val_loss,
            final_val_loss: self.last_val_loss,
            unigram_entropy: self.unigram_entropy,
            diverged_at_step: self.diverged_at_step,
            curve: self.curve.clone(),
        }
    }
}

/// Samples an id from logits with temperature and top-k, never a special id other than `eos`.
pub fn sample_top_k(logits: &[f32], temperature: f32, k: usize, rng: &mut Rng, eos: u32) -> u32 {
    let allowed = |id: usize| id as u32 == eos || id >= super::tokenizer::SpecialIds::count_fixed();
    let mut candidates: Vec<(usize, f32)> = logits
        .iter()
        .enumerate()
        .filter(|(id, v)| allowed(*id) && v.is_finite())
        .map(|(id, &v)| (id, v))
        .collect();
    if candidates.is_empty() {
        return eos;
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    candidates.truncate(k.max(1));
    let top = candidates[0].1;
    let weights: Vec<f64> = candidates
        .iter()
        .map(|(_, v)| (((v - top) / temperature.max(1e-3)) as f64).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut draw = rng.next_f64() * total;
    for ((id, _), w) in candidates.iter().zip(&weights) {
        if draw < *w {
            return *id as u32;
        }
        draw -= w;
    }
    candidates[candidates.len() - 1].0 as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;
    use crate::core::exec::{SystemClock, block_on};

    #[test]
    fn a_non_finite_loss_stops_the_run_as_diverged_and_keeps_the_curve() {
        let size = ModelSize::Fast;
        let dataset = Dataset::support(1, size.model().vocab_size).expect("dataset");
        let (mix, _) = ObjectiveMix::parse("clm").expect("mix");
        let (mut trainer, _) = block_on(Trainer::start(
            dataset,
            RunConfig::new(size),
            mix,
            None,
            Backend::cpu(),
            Box::new(SystemClock::default()),
        ))
        .expect("start");
        block_on(trainer.advance()).expect("first step");
        // A NaN learning rate poisons every weight, so the next loss is NaN.
        trainer.config.peak_lr = f64::NAN;
        block_on(trainer.advance()).expect("poisoning step");
        let events = block_on(trainer.advance()).expect("diverging step");
        let Some(TrainEvent::Finished(summary)) = events.last() else {
            panic!("a diverged run ends with a summary: {events:?}");
        };
        assert_eq!(summary.status, RunStatus::Diverged);
        assert_eq!(summary.diverged_at_step, Some(3));
        assert_eq!(
            summary.curve.len(),
            2,
            "the finite part of the curve is kept"
        );
        assert!(trainer.is_done());
        assert!(block_on(trainer.advance()).expect("after").is_empty());
        let json = serde_json::to_string(summary.as_ref()).expect("json");
        assert!(json.contains("\"status\":\"diverged\""));
    }
}

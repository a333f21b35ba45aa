//! The training loop, hand-written (burn's `Learner` does not run in wasm): Adam with linear
//! warm-up then cosine decay, gradient clipping, a token budget, periodic validation and a
//! sampled continuation of a fixed prompt. It runs on whatever burn `Device` it is given and
//! reads numbers back only through `async` calls, so the native CLI and the browser worker
//! drive the very same code; they differ only in the [`Clock`] they pass and in how they wait.

mod batches;
pub mod network;

use std::collections::{BTreeMap, VecDeque};

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::{ModelConfig, RunConfig};
use super::data::Dataset;
use super::error::CoreError;
use super::exec::Clock;
use super::masks::AttentionMask;
use super::metrics::unigram_entropy;
use super::mix::{Objective, ObjectiveMix};
use super::model::Transformer;
use super::objective::{Batch, BatchTensors};
use super::plan::{BatchKind, PairTaskKind, Plan, TokenTask, plan};
use super::rng::{Rng, Stream};
use super::summary::{BackendKind, CurvePoint, RunStatus, RunSummary, StepReport, TrainEvent};
use batches::Batcher;
use network::{Network, loss_terms};

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

pub use network::weighted_nll_sum;

/// A training run in progress. Call [`Trainer::start`], then [`Trainer::advance`] until it
/// returns a `Finished` event; [`Trainer::cancel`] ends it early.
pub struct Trainer {
    config: RunConfig,
    model_config: ModelConfig,
    mix: ObjectiveMix,
    preset: Option<String>,
    backend: Backend,
    train_device: Device,
    plan: Plan,
    model: Option<Network>,
    optim: ModuleOptimizer,
    batchers: Vec<(BatchKind, Batcher)>,
    eval_sets: Vec<EvalSet>,
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
    last_eval: Option<Evaluation>,
    last_eval_step: usize,
    unigram_entropy: f64,
    unigram_corrupted: Option<f64>,
    supervised_per_step: f64,
    status: Option<RunStatus>,
    diverged_at_step: Option<usize>,
}

impl Trainer {
    /// Builds the model and optimizer, measures the starting validation loss and draws a
    /// first sample. Returns the trainer and those first events. ([`Self::new`] and
    /// [`Self::prime`] in one call.)
    pub async fn start(
        dataset: Dataset,
        config: RunConfig,
        mix: ObjectiveMix,
        preset: Option<String>,
        backend: Backend,
        clock: Box<dyn Clock>,
    ) -> Result<(Self, Vec<TrainEvent>), CoreError> {
        let mut trainer = Self::new(dataset, config, mix, preset, backend, clock)?;
        let events = trainer.prime().await?;
        Ok((trainer, events))
    }

    /// Builds the model, optimizer and batchers, ready to step. The page announces the run
    /// here, before the first evaluation: a forward pass over every validation batch, which
    /// on a CPU takes longer than everything before it.
    pub fn new(
        dataset: Dataset,
        config: RunConfig,
        mix: ObjectiveMix,
        preset: Option<String>,
        backend: Backend,
        clock: Box<dyn Clock>,
    ) -> Result<Self, CoreError> {
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
        let plan = plan(&mix)?;
        let mut batchers = Vec::new();
        let mut eval_plain: Vec<(BatchKind, Vec<Batch>)> = Vec::new();
        for (index, &kind) in plan.batches.iter().enumerate() {
            let (batcher, eval) = batches::build(kind, index, &dataset, &config)?;
            batchers.push((kind, batcher));
            eval_plain.push((kind, eval));
        }
        // The word-frequency baselines, on the positions the token losses score.
        let token_batches: Vec<Batch> = eval_plain
            .iter()
            .filter(|(k, _)| k.tokens.is_some())
            .flat_map(|(_, b)| b.iter().cloned())
            .collect();
        let unigram = if token_batches.is_empty() {
            f64::NAN
        } else {
            unigram_entropy(&dataset.train, model_config.vocab_size, &token_batches)
        };
        let corrupted_batches: Vec<Batch> = token_batches
            .iter()
            .map(|b| Batch {
                loss_weights: b.corrupted.clone(),
                ..b.clone()
            })
            .collect();
        let unigram_corrupted = (!corrupted_batches.is_empty())
            .then(|| unigram_entropy(&dataset.train, model_config.vocab_size, &corrupted_batches));
        let eval_sets: Vec<EvalSet> = eval_plain
            .iter()
            .map(|(kind, batches)| EvalSet::new(*kind, batches, &backend.device))
            .collect();
        let per_kind = |f: &dyn Fn(&Batch) -> usize| {
            eval_plain
                .iter()
                .filter_map(|(_, b)| b.first().map(f))
                .sum::<usize>() as f64
                / eval_plain.len().max(1) as f64
        };
        let original_per_step = per_kind(&|b: &Batch| b.original_tokens);
        let supervised_per_step = per_kind(&|b: &Batch| b.supervised_tokens);

        let train_device = backend.device.clone().autodiff();
        let model = Network::init(&plan, &model_config, config.seed, &train_device);
        let optim = AdamConfig::new()
            .with_epsilon(1e-8)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(config.grad_clip)))
            .init();
        let planned_steps =
            ((config.budget_tokens as f64 / original_per_step.max(1.0)).ceil() as usize).max(1);
        let warmup_steps =
            ((planned_steps as f64 * config.warmup_fraction).round() as usize).max(1);

        Ok(Self {
            model_config,
            mix,
            preset,
            plan,
            train_device,
            model: Some(model),
            optim,
            batchers,
            eval_sets,
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
            last_eval: None,
            last_eval_step: 0,
            unigram_entropy: unigram,
            unigram_corrupted,
            supervised_per_step,
            status: None,
            diverged_at_step: None,
            backend,
            config,
            clock,
        })
    }

    /// Whether the starting validation loss has been measured ([`Self::prime`]).
    pub fn is_primed(&self) -> bool {
        self.last_eval.is_some()
    }

    /// Measures the starting validation loss and draws a first sample: the curve's step-0
    /// point. Does nothing the second time. [`Self::advance`] primes first if nobody did.
    pub async fn prime(&mut self) -> Result<Vec<TrainEvent>, CoreError> {
        if self.is_primed() {
            return Ok(Vec::new());
        }
        let evaluation = self.validation().await?;
        let val_loss = evaluation.loss;
        let mut events = vec![TrainEvent::Eval {
            step: 0,
            tokens: 0,
            val_loss,
            val_loss_corrupted: evaluation.corrupted,
            val_pair_accuracy: evaluation.pair_accuracy,
        }];
        self.initial_val_loss = val_loss;
        self.last_val_loss = val_loss;
        self.last_eval = Some(evaluation);
        events.extend(self.sample().await?);
        Ok(events)
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
        if !self.is_primed() {
            let mut events = self.prime().await?;
            events.extend(Box::pin(self.advance()).await?);
            return Ok(events);
        }
        let Some(model) = self.model.take() else {
            return Err(CoreError::Config(
                "the model is missing; reset the run".into(),
            ));
        };
        let index = self.step % self.batchers.len().max(1);
        let Some((kind, batcher)) = self.batchers.get_mut(index) else {
            return Err(CoreError::Config("the plan has no batches".into()));
        };
        let kind = *kind;
        let batch = batcher.next_batch()?;
        let t0 = self.clock.now_s();
        self.first_step_s.get_or_insert(t0);
        let tensors = batch.to_tensors(&self.train_device);
        let output = model.forward(&tensors, false);
        let terms = loss_terms(output, &tensors, kind.tokens.is_some());
        let mut loss: Option<Tensor<1>> = None;
        let mut add = |term: Tensor<1>| {
            loss = Some(match loss.take() {
                Some(l) => l + term,
                None => term,
            })
        };
        if let (Some(task), Some(nll)) = (kind.tokens, terms.token_nll) {
            let weight = self.weight_of(token_objective(task));
            add(nll.mul_scalar(weight / batch.supervised_tokens.max(1) as f64));
        }
        if let (Some(task), Some(nll)) = (kind.pairs, terms.pair_nll) {
            let weight = self.weight_of(pair_objective(task));
            add(nll.mul_scalar(weight / batch.batch_size.max(1) as f64));
        }
        let Some(loss) = loss else {
            self.model = Some(model);
            return Err(CoreError::Config("a batch carried no loss".into()));
        };
        let lr = learning_rate(
            self.step + 1,
            self.planned_steps,
            self.warmup_steps,
            self.config.peak_lr,
        );
        self.model = Some(model.step(&mut self.optim, lr, &loss));
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
            val_loss_corrupted: None,
            val_pair_accuracy: None,
        });

        let budget_used = self.tokens >= self.config.budget_tokens;
        if budget_used || self.step.is_multiple_of(self.config.eval_every_steps) {
            events.push(self.evaluate().await?);
        }
        let now = self.clock.now_s();
        let sample_gap = self.config.sample_every_s.max(4.0 * self.sample_cost_s);
        if budget_used || now - self.last_sample_s >= sample_gap {
            events.extend(self.sample().await?);
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
        let evaluation = self.validation().await?;
        let val_loss = evaluation.loss;
        let (corrupted, accuracy) = (evaluation.corrupted, evaluation.pair_accuracy);
        self.last_val_loss = val_loss;
        self.last_eval = Some(evaluation);
        self.last_eval_step = self.step;
        if let Some(point) = self.curve.last_mut() {
            point.val_loss = Some(val_loss);
            point.val_loss_corrupted = corrupted;
            point.val_pair_accuracy = accuracy;
        }
        Ok(TrainEvent::Eval {
            step: self.step,
            tokens: self.tokens,
            val_loss,
            val_loss_corrupted: corrupted,
            val_pair_accuracy: accuracy,
        })
    }

    /// The loss weight of an objective in this mix: 1 for the primary, the mix's weight for
    /// the auxiliary.
    fn weight_of(&self, objective: Objective) -> f64 {
        if objective == self.mix.primary {
            1.0
        } else {
            f64::from(self.mix.aux_weight)
        }
    }

    /// Every validation measure over the fixed validation batches, read back once per sum.
    async fn validation(&self) -> Result<Evaluation, CoreError> {
        let Some(model) = self.model.as_ref() else {
            return Ok(Evaluation::nan());
        };
        let model = model.valid();
        let read = |t: Tensor<1>| async move {
            t.into_scalar_async()
                .await
                .map_err(|e| CoreError::read(&self.backend.label, e))
        };
        let mut evaluation = Evaluation::default();
        let (mut corrupted_nll, mut corrupted_count) = (0.0f64, 0.0f64);
        let (mut pair_correct, mut pair_count) = (0i64, 0usize);
        for set in &self.eval_sets {
            let mut sums: [Option<Tensor<1>>; 3] = [None, None, None];
            let mut correct: Option<Tensor<1, Int>> = None;
            for batch in &set.batches {
                let terms = loss_terms(
                    model.forward(batch, false),
                    batch,
                    set.kind.tokens.is_some(),
                );
                for (slot, term) in
                    sums.iter_mut()
                        .zip([terms.token_nll, terms.corrupted_nll, terms.pair_nll])
                {
                    if let Some(term) = term {
                        *slot = Some(match slot.take() {
                            Some(s) => s + term,
                            None => term,
                        });
                    }
                }
                if let Some(c) = terms.pair_correct {
                    correct = Some(match correct.take() {
                        Some(s) => s + c,
                        None => c,
                    });
                }
            }
            let [token, corrupted, pair] = sums;
            if let (Some(task), Some(token)) = (set.kind.tokens, token) {
                let value: f32 = read(token).await?;
                let loss = value / set.supervised.max(1) as f32;
                evaluation
                    .components
                    .insert(token_objective(task).name().to_string(), loss);
            }
            if let Some(corrupted) = corrupted {
                let value: f32 = read(corrupted).await?;
                corrupted_nll += f64::from(value);
                corrupted_count += set.corrupted;
            }
            if let (Some(task), Some(pair)) = (set.kind.pairs, pair) {
                let value: f32 = read(pair).await?;
                evaluation.components.insert(
                    pair_objective(task).name().to_string(),
                    value / set.pairs.max(1) as f32,
                );
                if let Some(correct) = correct {
                    let n: i64 = correct
                        .into_scalar_async()
                        .await
                        .map_err(|e| CoreError::read(&self.backend.label, e))?;
                    pair_correct += n;
                    pair_count += set.pairs;
                }
            }
        }
        evaluation.loss = evaluation
            .components
            .iter()
            .map(|(name, loss)| {
                let objective = Objective::ALL.into_iter().find(|o| o.name() == name);
                objective.map_or(0.0, |o| self.weight_of(o) as f32 * loss)
            })
            .sum();
        evaluation.corrupted =
            (corrupted_count > 0.0).then(|| (corrupted_nll / corrupted_count) as f32);
        evaluation.pair_accuracy =
            (pair_count > 0).then(|| pair_correct as f32 / pair_count as f32);
        Ok(evaluation)
    }

    /// Continues the dataset's sample prompt ([`Dataset::sample_prompt`]) with temperature sampling (T = 0.8, top-k 40). The draw is
    /// seeded by the run seed and the step, so it changes only because the model changed.
    /// `None` for networks that do not generate left to right (encoders, encoder-decoders and
    /// XLNet are judged by their losses and, later, by the evaluation issue's probes).
    pub async fn sample(&mut self) -> Result<Option<TrainEvent>, CoreError> {
        if !self.generates() {
            return Ok(None);
        }
        let started = self.clock.now_s();
        let event = self.draw_sample().await;
        self.last_sample_s = self.clock.now_s();
        self.sample_cost_s = self.last_sample_s - started;
        event.map(Some)
    }

    /// Whether the network writes text left to right (a decoder trained with CLM).
    pub fn generates(&self) -> bool {
        self.plan.generates()
    }

    /// How this run's mix is trained, in one line.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The network as it stands (for saving).
    pub fn network(&self) -> Option<&Network> {
        self.model.as_ref()
    }

    /// What a saved run needs to rebuild this network.
    pub fn saved_config(&self) -> super::saved::SavedConfig {
        super::saved::SavedConfig {
            config: self.config.clone(),
            mix: self.preset.clone().unwrap_or_else(|| self.mix.canonical()),
            plan: self.plan.clone(),
            vocab_size: self.model_config.vocab_size,
            corpus: self.dataset.corpus.describe(),
            sample_prompt: self.dataset.sample_prompt(),
        }
    }

    /// Where the tensors live, in words.
    pub fn backend_label(&self) -> &str {
        &self.backend.label
    }

    pub fn tokenizer(&self) -> &super::tokenizer::LabTokenizer {
        &self.dataset.tokenizer
    }

    async fn draw_sample(&self) -> Result<TrainEvent, CoreError> {
        let Some(Network::Stack(model)) = self.model.as_ref() else {
            return Err(CoreError::Config("only a decoder writes samples".into()));
        };
        let prompt = self.dataset.sample_prompt();
        let text = write_continuation(
            &model.valid(),
            &self.dataset.tokenizer,
            &prompt,
            self.config.seed ^ ((self.step as u64) << 20),
            self.config.sample_tokens,
            &self.backend,
        )
        .await?;
        Ok(TrainEvent::Sample {
            step: self.step,
            prompt,
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
            architecture: Some(self.plan.architecture.name().to_string()),
            val_loss_components: self
                .last_eval
                .as_ref()
                .map(|e| e.components.clone())
                .unwrap_or_default(),
            val_loss_corrupted: self.last_eval.as_ref().and_then(|e| e.corrupted),
            unigram_entropy_corrupted: self.unigram_corrupted,
            val_pair_accuracy: self.last_eval.as_ref().and_then(|e| e.pair_accuracy),
            supervised_tokens_per_step: self.supervised_per_step,
            flops_per_step: self.flops_per_step(),
        }
    }

    /// Training FLOPs of one step ([`super::bench::training_flops`]).
    pub fn flops_per_step(&self) -> f64 {
        let c = &self.model_config;
        let positions = self.config.size.batch_size() * c.max_seq_len;
        super::bench::training_flops(self.params(), c, positions, c.max_seq_len)
    }
}

/// The objective a token task trains.
fn token_objective(task: TokenTask) -> Objective {
    match task {
        TokenTask::Clm => Objective::Clm,
        TokenTask::Mlm => Objective::Mlm,
        TokenTask::Span => Objective::Span,
        TokenTask::Infill => Objective::Infill,
        TokenTask::Plm => Objective::Plm,
    }
}

fn pair_objective(task: PairTaskKind) -> Objective {
    match task {
        PairTaskKind::Nsp => Objective::Nsp,
        PairTaskKind::Sop => Objective::Sop,
    }
}

/// The fixed validation batches of one batch kind, on the device, with their counts.
struct EvalSet {
    kind: BatchKind,
    batches: Vec<BatchTensors>,
    supervised: usize,
    corrupted: f64,
    pairs: usize,
}

impl EvalSet {
    fn new(kind: BatchKind, batches: &[Batch], device: &Device) -> Self {
        Self {
            kind,
            supervised: batches.iter().map(|b| b.supervised_tokens).sum(),
            corrupted: batches
                .iter()
                .map(|b| b.corrupted.iter().map(|&c| f64::from(c)).sum::<f64>())
                .sum(),
            pairs: batches
                .iter()
                .filter(|b| b.pairs.is_some())
                .map(|b| b.batch_size)
                .sum(),
            batches: batches.iter().map(|b| b.to_tensors(device)).collect(),
        }
    }
}

/// One evaluation: the mix's validation loss (primary + weight · auxiliary), each objective's
/// own loss, the token loss on corrupted positions only, and the pair head's accuracy.
#[derive(Debug, Clone, Default)]
struct Evaluation {
    loss: f32,
    components: BTreeMap<String, f32>,
    corrupted: Option<f32>,
    pair_accuracy: Option<f32>,
}

impl Evaluation {
    fn nan() -> Self {
        Self {
            loss: f32::NAN,
            ..Self::default()
        }
    }
}

/// Continues `prompt` with temperature sampling (T = 0.8, top-k 40) for at most
/// `max_tokens` tokens or until `[EOS]`, drawing from a stream seeded by `seed`. Used for the
/// live samples of a run and for a saved run loaded back.
pub async fn write_continuation(
    model: &Transformer,
    tokenizer: &super::tokenizer::LabTokenizer,
    prompt: &str,
    seed: u64,
    max_tokens: usize,
    backend: &Backend,
) -> Result<String, CoreError> {
    let prompt_ids = tokenizer.encode(prompt)?;
    let device = &backend.device;
    let mut rng = Rng::for_stream(seed, Stream::Sampling);
    let mut ids = prompt_ids.clone();
    let max_len = model.max_seq_len();
    for _ in 0..max_tokens {
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
            .map_err(|e| CoreError::read(&backend.label, e))?;
        let values: Vec<f32> = data
            .try_into_vec::<f32>()
            .map_err(|e| CoreError::read(&backend.label, format!("{e:?}")))?;
        let next = sample_top_k(&values, 0.8, 40, &mut rng, tokenizer.specials().eos);
        if next == tokenizer.specials().eos {
            break;
        }
        ids.push(next);
    }
    // An untrained model emits stray bytes; show control characters as spaces.
    Ok(tokenizer
        .decode(&ids[prompt_ids.len()..])?
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect())
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

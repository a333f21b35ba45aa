//! The training loop, hand-written (burn's `Learner` does not run in wasm): Adam with a linear
//! warm-up then the recipe's schedule ([`schedule`]), gradient clipping, a token budget,
//! evaluations along the way ([`evaluate`]) and a sampled continuation of a fixed prompt. It
//! runs on whatever burn `Device` it is given and reads numbers back only through `async` calls,
//! so the native CLI and the browser worker drive the very same code; they differ only in the
//! [`Clock`] they pass and in how they wait.

mod batches;
mod branch;
mod cost;
pub mod evaluate;
mod record;
pub mod schedule;
pub mod shards;

use std::collections::VecDeque;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::AdamConfig;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;

pub use self::batches::{EVAL_ROWS, MIN_EVAL_PAIRS, MIN_EVAL_POSITIONS};
pub use self::branch::{Trunk, parse_token_count};
use self::cost::positions_and_padding;
pub use self::cost::step_flops;
use self::evaluate::{EvalSet, Evaluation, evaluate};
pub use self::schedule::learning_rate;
use self::shards::{Executor, LossScales, ShardGrads, ShardJob, step_loss};
use super::backend::Backend;
use super::config::{ModelConfig, RunConfig};
use super::data::Dataset;
use super::error::CoreError;
use super::exec::Clock;
use super::generate::write_continuation;
use super::metrics::UnigramBaseline;
use super::mix::ObjectiveMix;
use super::model::network::{Network, loss_terms};
use burn::module::Module;

use super::objective::Batch;
use super::objective::spec::BatchSource;
use super::plan::{BatchKind, Plan, plan};
use super::summary::{CurvePoint, RunStatus, RunSummary, TrainEvent};

/// How many training batches per kind the trainer looks at, on clones of its batchers, to learn
/// how much text and compute a step takes before the first step.
const LOOKAHEAD_BATCHES: usize = 16;

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
    batchers: Vec<(BatchKind, Box<dyn BatchSource>)>,
    eval_sets: Vec<EvalSet>,
    dataset: Dataset,
    clock: Box<dyn Clock>,
    planned_steps: usize,
    warmup_steps: usize,
    /// Original-text tokens a step takes, the look-ahead's mean: how budgets become steps.
    original_per_step: f64,
    /// The budget the run was planned for: its schedule's length, which a decay branch
    /// ([`branch`]) keeps while its own budget is shorter.
    schedule_tokens: u64,
    /// Where the decay branch now running left its trunk (tokens), if one is.
    branched_at_tokens: Option<u64>,
    step: usize,
    tokens: u64,
    supervised: u64,
    positions: u64,
    padding: u64,
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
    supervised_per_step: f64,
    flops_per_step: f64,
    status: Option<RunStatus>,
    diverged_at_step: Option<usize>,
    /// The corpus fingerprint the summary records, once known ([`Self::fingerprint_corpus`]).
    corpus_fingerprint: Option<String>,
    /// Row shards per step and who computes them ([`shards`]).
    shards: usize,
    executor: Executor,
    /// Why helpers failed since the last [`Self::take_helper_failures`].
    helper_failures: Vec<String>,
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
    /// here, before the first evaluation: a forward pass over the validation batches, which
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
        let plan = plan(&mix)?;
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
        let specials = dataset.tokenizer.specials();
        let mut batchers = Vec::new();
        let mut eval_sets = Vec::new();
        for (index, &kind) in plan.batches.iter().enumerate() {
            let (batcher, eval) = batches::build(kind, index, &dataset, &config)?;
            // Word frequencies over the ids this kind's token objective can predict.
            let baseline = kind.tokens.map(|t| {
                UnigramBaseline::new(
                    &dataset.train,
                    model_config.vocab_size,
                    t.spec().support,
                    specials,
                )
            });
            eval_sets.push(EvalSet::new(
                kind,
                &eval,
                baseline.as_ref(),
                &backend.device,
            ));
            batchers.push((kind, batcher));
        }

        let train_device = backend.device.clone().autodiff();
        let model = Network::init(
            plan.architecture,
            plan.extras(),
            &model_config,
            config.seed,
            &train_device,
        );
        // What a step takes, from the training stream itself: the mean over a look-ahead on
        // clones of the batchers (the schedule's length depends on it).
        let mut original = 0.0;
        let mut supervised = 0.0;
        let mut flops = 0.0;
        let mut looked = 0.0;
        for (_, batcher) in &batchers {
            let mut probe = batcher.boxed_clone();
            for _ in 0..LOOKAHEAD_BATCHES {
                let batch = probe.next_batch()?;
                original += batch.original_tokens as f64;
                supervised += batch.supervised_tokens as f64;
                flops += step_flops(&batch, &model, &model_config);
                looked += 1.0;
            }
        }
        let looked = f64::max(looked, 1.0);
        let original_per_step = original / looked;
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
            corpus_fingerprint: None,
            shards: 1,
            executor: Executor::Local,
            helper_failures: Vec::new(),
            planned_steps,
            warmup_steps,
            original_per_step,
            schedule_tokens: config.budget_tokens,
            branched_at_tokens: None,
            step: 0,
            tokens: 0,
            supervised: 0,
            positions: 0,
            padding: 0,
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
            supervised_per_step: supervised / looked,
            flops_per_step: flops / looked,
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
        let evaluation = self.validation(false).await?;
        self.initial_val_loss = evaluation.loss;
        let mut events = vec![self.record_eval(evaluation)];
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

    /// The word-frequency baseline the token loss is read against (the whole validation
    /// set's; NaN without a token objective).
    pub fn unigram_entropy(&self) -> f64 {
        self.baseline(true).unwrap_or(f64::NAN)
    }

    fn baseline(&self, full: bool) -> Option<f64> {
        // Pooled over the token sets, weighted by their scored positions.
        let mut pooled = crate::core::metrics::Moments::default();
        for set in &self.eval_sets {
            pooled.merge(set.baseline(full));
        }
        pooled.mean()
    }

    /// Evaluations along the curve: every `planned / evaluations` steps.
    fn eval_every(&self) -> usize {
        (self.planned_steps / self.config.evaluations.max(1)).max(1)
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
            self.model = Some(model);
            return Err(CoreError::Config("the plan has no batches".into()));
        };
        let kind = *kind;
        let batch = match batcher.next_batch() {
            Ok(batch) => batch,
            Err(e) => {
                self.model = Some(model);
                return Err(e);
            }
        };
        let t0 = self.clock.now_s();
        self.first_step_s.get_or_insert(t0);
        let weight = |o| self.mix.weight_of(o);
        let scales = LossScales {
            tokens: kind
                .tokens
                .map(|o| (1.0 / batch.supervised_tokens.max(1) as f64, weight(o))),
            pairs: kind
                .pairs
                .map(|o| (1.0 / batch.batch_size.max(1) as f64, weight(o))),
        };
        let lr = learning_rate(
            self.step + 1,
            self.planned_steps,
            self.warmup_steps,
            self.config.peak_lr,
            self.config.schedule,
        );
        let stepped = if self.shards <= 1 {
            self.whole_step(model, &batch, &scales, lr).await
        } else {
            self.sharded_step(model, &batch, scales, lr).await
        };
        let (model, values) = match stepped {
            Ok(done) => done,
            Err((model, e)) => {
                self.model = Some(model);
                return Err(e);
            }
        };
        self.model = Some(model);
        let token_part = scales.tokens.is_some();
        let pair_part = scales.pairs.is_some();
        let loss_value = values.first().copied().unwrap_or(f32::NAN);
        let token_loss = token_part.then(|| values.get(1).copied()).flatten();
        let pair_loss = pair_part.then(|| values.get(2).copied()).flatten();
        let step_s = self.clock.now_s() - t0;

        self.step += 1;
        self.tokens += batch.original_tokens as u64;
        self.supervised += batch.supervised_tokens as u64;
        let (positions, padding) = positions_and_padding(&batch);
        self.positions += positions as u64;
        self.padding += padding as u64;
        self.train_s += step_s;
        self.recent.push_back((batch.original_tokens, step_s));
        if self.recent.len() > 20 {
            self.recent.pop_front();
        }
        let mut events = vec![TrainEvent::Step(self.report(
            loss_value,
            token_loss,
            pair_loss,
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
            train_token_loss: token_loss,
            train_pair_loss: pair_loss,
            val_loss: None,
            val_loss_corrupted: None,
            val_baseline: None,
            val_pair_loss: None,
            val_pair_accuracy: None,
        });

        let budget_used = self.tokens >= self.config.budget_tokens;
        if budget_used || self.step.is_multiple_of(self.eval_every()) {
            let evaluation = self.validation(budget_used).await?;
            events.push(self.record_eval(evaluation));
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

    /// One step on the whole batch: forward, backward, the optimizer, then one read-back of
    /// `[loss, token part, pair part]`. On failure the model comes back unchanged.
    async fn whole_step(
        &mut self,
        model: Network,
        batch: &Batch,
        scales: &LossScales,
        lr: f64,
    ) -> Result<(Network, Vec<f32>), (Network, CoreError)> {
        let tensors = batch.to_tensors(&self.train_device);
        let output = model.forward(&tensors, false);
        let terms = loss_terms(output, &tensors, scales.tokens.is_some());
        let step = match step_loss(terms, scales) {
            Ok(step) => step,
            Err(e) => return Err((model, e)),
        };
        let model = model.step(&mut self.optim, lr, &step.loss);
        match shards::read(step.parts(), &self.backend.label).await {
            Ok(values) => Ok((model, values)),
            Err(e) => Err((model, e)),
        }
    }

    /// One data-parallel step ([`shards`]): the batch cut into row shards, each shard's
    /// gradient computed by the executor, summed in shard order, one optimizer step. A shard
    /// whose helper failed is computed here, so the step is the same either way.
    async fn sharded_step(
        &mut self,
        model: Network,
        batch: &Batch,
        scales: LossScales,
        lr: f64,
    ) -> Result<(Network, Vec<f32>), (Network, CoreError)> {
        let jobs = shards::shard_jobs(batch, self.shards, scales);
        let results = match self.compute_shards(&model, &jobs).await {
            Ok(results) => results,
            Err(e) => return Err((model, e)),
        };
        let summed = shards::sum_shards(results).and_then(|sum| {
            Ok((
                shards::gradients_params(&model, &sum, &self.backend.device)?,
                sum,
            ))
        });
        match summed {
            Ok((grads, sum)) => Ok((
                model.step_with(&mut self.optim, lr, grads),
                sum.parts.to_vec(),
            )),
            Err(e) => Err((model, e)),
        }
    }

    async fn compute_shards(
        &mut self,
        model: &Network,
        jobs: &[ShardJob],
    ) -> Result<Vec<ShardGrads>, CoreError> {
        let label = self.backend.label.clone();
        shards::compute(
            &mut self.executor,
            model,
            jobs,
            &label,
            &mut self.helper_failures,
        )
        .await
    }

    /// Cuts every later step's batch into `shards` row shards computed by `executor`
    /// ([`shards`]). One shard is the plain step. Errors when `shards` is 0, over
    /// [`shards::MAX_SHARDS`] or over the batch's sequences.
    pub fn set_parallel(&mut self, shards: usize, executor: Executor) -> Result<(), CoreError> {
        if shards == 0 || shards > shards::MAX_SHARDS || shards > self.config.batch_size {
            return Err(CoreError::Config(format!(
                "a step can be cut into 1 to {} shards, and no more than its {} sequences (asked \
                 for {shards})",
                shards::MAX_SHARDS,
                self.config.batch_size
            )));
        }
        self.shards = shards;
        self.executor = executor;
        Ok(())
    }

    /// Row shards per step.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Why helpers failed since the last call (their shards were computed here instead).
    pub fn take_helper_failures(&mut self) -> Vec<String> {
        std::mem::take(&mut self.helper_failures)
    }

    /// Stops the run early; its curve and last validation loss are kept.
    pub fn cancel(&mut self) -> RunSummary {
        if self.status.is_none() {
            self.status = Some(RunStatus::Cancelled);
        }
        self.summary()
    }

    /// Every validation measure over the curve's quarter of the validation set, or over all
    /// of it (`full`, the run's last evaluation).
    async fn validation(&self, full: bool) -> Result<Evaluation, CoreError> {
        let Some(model) = self.model.as_ref() else {
            return Ok(Evaluation::nan());
        };
        evaluate(model, &self.eval_sets, &self.mix, full, &self.backend.label).await
    }

    /// Continues the dataset's sample prompt ([`Dataset::sample_prompt`]) with temperature
    /// sampling (T = 0.8, top-k 40). The draw is seeded by the run seed and the step, so it
    /// changes only because the model changed. `None` for networks that do not generate left
    /// to right (encoders, encoder-decoders and XLNet are judged by their losses).
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

    /// How this run's mix is trained.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The network as it stands (for saving).
    pub fn network(&self) -> Option<&Network> {
        self.model.as_ref()
    }

    /// The run's settings.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The mix and the preset it came from.
    pub fn mix(&self) -> (&ObjectiveMix, Option<&str>) {
        (&self.mix, self.preset.as_deref())
    }

    /// The text, tokenizer and corpus the run trains on.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Records the fingerprint of the corpus in the run's summary: `known` when the caller
    /// already computed it for this dataset, else computed here (one pass over every exported
    /// byte). Returns it.
    pub fn fingerprint_corpus(&mut self, known: Option<String>) -> Result<String, CoreError> {
        let value = match (known, &self.corpus_fingerprint) {
            (Some(value), _) => value,
            (None, Some(value)) => value.clone(),
            (None, None) => {
                use crate::core::corpus::export;
                export::fingerprint(&export::files(
                    &self.dataset.corpus,
                    &self.dataset.tokenizer,
                )?)
            }
        };
        self.corpus_fingerprint = Some(value.clone());
        Ok(value)
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

    /// Training FLOPs of one step, the mean over the look-ahead batches ([`step_flops`]).
    pub fn flops_per_step(&self) -> f64 {
        self.flops_per_step
    }
}

/// A plan's batch sources, one per batch kind.
pub type Sources = Vec<(BatchKind, Box<dyn BatchSource>)>;

/// The training batch sources of `mix`'s plan for `config` (its shape, knobs and seed), one per
/// batch kind, as a run draws them — without the validation sets a run also builds.
pub fn training_sources(
    dataset: &Dataset,
    config: &RunConfig,
    mix: &ObjectiveMix,
) -> Result<Sources, CoreError> {
    let plan = plan(mix)?;
    plan.batches
        .iter()
        .enumerate()
        .map(|(index, &kind)| Ok((kind, batches::source(kind, index, dataset, config)?)))
        .collect()
}

/// The first training batch of each kind `mix`'s plan draws for `config` (its shape, knobs and
/// seed): what a step of that run is made of, for the pictures of it and for tests.
pub fn first_batches(
    dataset: &Dataset,
    config: &RunConfig,
    mix: &ObjectiveMix,
) -> Result<Vec<(BatchKind, Batch)>, CoreError> {
    training_sources(dataset, config, mix)?
        .into_iter()
        .map(|(kind, mut source)| Ok((kind, source.next_batch()?)))
        .collect()
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
        let back: RunSummary = serde_json::from_str(&json).expect("a diverged run loads back");
        assert_eq!(back.status, RunStatus::Diverged);
    }
}

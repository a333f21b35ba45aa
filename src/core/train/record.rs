//! What a run reports: the live step report, evaluations turned into events and curve
//! points, and the run summary (the record every later issue extends).

use super::Trainer;
use super::evaluate::Evaluation;
use crate::core::summary::{RunStatus, RunSummary, StepReport, TrainEvent};

impl Trainer {
    pub(super) fn report(
        &self,
        loss: f32,
        token_loss: Option<f32>,
        pair_loss: Option<f32>,
        lr: f64,
        supervised_tokens: usize,
    ) -> StepReport {
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
            token_loss,
            pair_loss,
            lr,
            supervised_tokens,
            tokens_per_s: if secs > 0.0 { tok as f64 / secs } else { 0.0 },
            elapsed_s: now - self.started_s,
            eta_s: remaining * pace,
        }
    }

    /// Keeps an evaluation as the run's latest and turns it into an event (and a curve point).
    pub(super) fn record_eval(&mut self, evaluation: Evaluation) -> TrainEvent {
        let val_loss = evaluation.loss;
        let corrupted = evaluation.token.map(|t| t.loss);
        // The baseline of the positions this evaluation scored (the curve's quarter, or all).
        let baseline = evaluation.token.map(|t| t.baseline);
        let (pair_loss, accuracy) = (
            evaluation.pair.map(|p| p.loss),
            evaluation.pair.map(|p| p.accuracy),
        );
        self.last_val_loss = val_loss;
        self.last_eval = Some(evaluation);
        if let Some(point) = self.curve.last_mut() {
            point.val_loss = Some(val_loss);
            point.val_loss_corrupted = corrupted;
            point.val_baseline = baseline;
            point.val_pair_loss = pair_loss;
            point.val_pair_accuracy = accuracy;
        }
        TrainEvent::Eval {
            step: self.step,
            tokens: self.tokens,
            val_loss,
            val_loss_corrupted: corrupted,
            val_baseline: baseline,
            val_pair_loss: pair_loss,
            val_pair_accuracy: accuracy,
        }
    }

    /// The run summary as it stands.
    pub fn summary(&self) -> RunSummary {
        let token = self.last_eval.as_ref().and_then(|e| e.token);
        let pair = self.last_eval.as_ref().and_then(|e| e.pair);
        let full = self.last_eval.as_ref().is_some_and(|e| e.full);
        RunSummary {
            schema_version: crate::core::summary::SCHEMA_VERSION,
            status: self.status.unwrap_or(RunStatus::Cancelled),
            mix: self.mix.canonical(),
            preset: self.preset.clone(),
            seed: self.config.seed,
            corpus_seed: self.config.corpus_seed,
            size: self.config.size,
            params: self.params(),
            backend: self.backend.kind,
            backend_label: self.backend.label.clone(),
            corpus: Some(self.dataset.corpus.describe()),
            corpus_fingerprint: self.corpus_fingerprint.clone(),
            knobs: Some(self.config.knobs.clone()),
            app_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            shards: Some(self.shards),
            budget_tokens: self.config.budget_tokens,
            schedule_tokens: Some(self.schedule_tokens),
            warmup_steps: Some(self.warmup_steps),
            branched_at_tokens: self.branched_at_tokens,
            tokens_per_step: self.config.batch_size * self.model_config.max_seq_len,
            batch_size: self.config.batch_size,
            peak_lr: Some(self.config.peak_lr),
            schedule: Some(self.config.schedule),
            steps: self.step,
            tokens: self.tokens,
            supervised_tokens: self.supervised,
            wall_s: self.clock.now_s() - self.started_s,
            train_s: self.train_s,
            initial_val_loss: self.initial_val_loss,
            final_val_loss: self.last_val_loss,
            unigram_entropy: token.map_or(f64::NAN, |t| f64::from(t.baseline)),
            diverged_at_step: self.diverged_at_step,
            curve: self.curve.clone(),
            architecture: Some(self.plan.architecture.name().to_string()),
            val_loss_components: self
                .last_eval
                .as_ref()
                .map(|e| e.components.clone())
                .unwrap_or_default(),
            val_loss_corrupted: token.map(|t| t.loss),
            val_loss_corrupted_se: token.filter(|_| full).map(|t| t.loss_se),
            unigram_entropy_corrupted: token.map(|t| f64::from(t.baseline)),
            unigram_margin_se: token.filter(|_| full).map(|t| t.margin_se),
            eval_positions: token.map(|t| t.positions),
            val_pair_loss: pair.map(|p| p.loss),
            val_pair_accuracy: pair.map(|p| p.accuracy),
            val_pair_accuracy_se: pair.filter(|_| full).map(|p| p.accuracy_se),
            eval_pairs: pair.map(|p| p.pairs),
            supervised_tokens_per_step: self.supervised_per_step,
            flops_per_step: self.flops_per_step,
            padding_share: if self.positions > 0 {
                self.padding as f64 / self.positions as f64
            } else {
                0.0
            },
            evaluation: Default::default(),
        }
    }
}

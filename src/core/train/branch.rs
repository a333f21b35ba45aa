//! Budget curves from one run: decay branches off a warm-up–stable–decay trunk.
//!
//! A checkpoint taken in the middle of a cosine schedule has not decayed its learning rate, so
//! it is not a run of that budget. Under WSD (Hu et al. 2024, MiniCPM §4; Hägele et al. 2024)
//! the rate stays at its peak until the last [`WSD_DECAY_FRACTION`] of the steps, so a run of
//! budget `b` is the trunk up to `(1 − fraction)·b` followed by a short decay to `b`. The
//! trainer forks there: [`Trainer::begin_branch`] keeps the trunk (weights, Adam moments,
//! batchers, counters) aside and turns the run into that decay; the caller steps it with
//! [`Trainer::advance`] until it finishes and evaluates it; [`Trainer::end_branch`] puts the
//! trunk back, which continues as if the branch had never run (a test checks it field for
//! field). The branch's batches are the ones the trunk draws next: a fork, not a resample.
//!
//! The warm-up is the smallest checkpoint's ([`Trainer::plan_branches`]), so the first branch
//! is exactly the run planned for its budget alone (a test checks it) and every later one
//! differs from its own stand-alone run only in a shorter warm-up. Each branch's summary says
//! `budget_tokens = b`, `schedule_tokens` = the trunk's budget and `warmup_steps`, so it pools
//! with branches of the same trunk, never with a run planned for `b` alone.

use std::collections::VecDeque;

use burn::optim::ModuleOptimizer;

use super::Trainer;
use crate::core::config::{Schedule, WSD_DECAY_FRACTION};
use crate::core::error::CoreError;
use crate::core::model::network::Network;
use crate::core::objective::spec::BatchSource;
use crate::core::plan::BatchKind;
use crate::core::summary::{CurvePoint, RunStatus};

use super::evaluate::Evaluation;

/// Where the trunk stood when a branch left it: everything [`Trainer::advance`] changes.
pub struct Trunk {
    model: Network,
    optim: ModuleOptimizer,
    batchers: Vec<(BatchKind, Box<dyn BatchSource>)>,
    budget_tokens: u64,
    planned_steps: usize,
    step: usize,
    tokens: u64,
    supervised: u64,
    positions: u64,
    padding: u64,
    first_step_s: Option<f64>,
    train_s: f64,
    last_sample_s: f64,
    sample_cost_s: f64,
    recent: VecDeque<(usize, f64)>,
    curve: Vec<CurvePoint>,
    last_val_loss: f32,
    last_eval: Option<Evaluation>,
    status: Option<RunStatus>,
    diverged_at_step: Option<usize>,
}

/// Parses a token count as the CLI writes it: `500000`, `250k`, `1m`, `1.5m`.
pub fn parse_token_count(text: &str) -> Result<u64, CoreError> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, factor) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1e3),
        Some('m') => (&t[..t.len() - 1], 1e6),
        _ => (t.as_str(), 1.0),
    };
    let value: f64 = digits.parse().map_err(|_| {
        CoreError::Config(format!(
            "`{text}` is not a token count (write e.g. 250000, 250k or 1.5m)"
        ))
    })?;
    let tokens = value * factor;
    if !tokens.is_finite() || tokens < 1.0 || tokens.fract() != 0.0 {
        return Err(CoreError::Config(format!(
            "`{text}` is not a whole, positive number of tokens"
        )));
    }
    Ok(tokens as u64)
}

impl Trainer {
    /// Steps a run planned for `budget_tokens` takes, at this run's tokens per step.
    fn steps_for(&self, budget_tokens: u64) -> usize {
        ((budget_tokens as f64 / self.original_per_step.max(1.0)).ceil() as usize).max(1)
    }

    /// The trunk's step after which the decay branch for `budget_tokens` starts: the last
    /// step a WSD run of that budget spends at the peak rate. Errors name what a student can
    /// change: the schedule, or a checkpoint that falls inside the warm-up or past the end.
    pub fn branch_step(&self, budget_tokens: u64) -> Result<usize, CoreError> {
        if self.config.schedule != Schedule::Wsd {
            return Err(CoreError::Config(format!(
                "evaluating along the budget needs the warm-up–stable–decay schedule (--schedule \
                 wsd): under {} a checkpoint has not decayed its rate and is not a run of its \
                 budget",
                self.config.schedule.name()
            )));
        }
        if budget_tokens >= self.schedule_tokens {
            return Err(CoreError::Config(format!(
                "a checkpoint at {budget_tokens} tokens is not before the run's budget of {}",
                self.schedule_tokens
            )));
        }
        let total = self.steps_for(budget_tokens);
        let decay = ((total as f64 * WSD_DECAY_FRACTION).round() as usize).max(1);
        let start = total.saturating_sub(decay);
        if start < self.warmup_steps {
            return Err(CoreError::Config(format!(
                "a checkpoint at {budget_tokens} tokens is too early: its decay would start at \
                 step {start}, inside the warm-up ({} steps, about {:.0} tokens); choose a \
                 larger checkpoint or a smaller --budget-tokens",
                self.warmup_steps,
                self.warmup_steps as f64 * self.original_per_step
            )));
        }
        Ok(start)
    }

    /// Turns the run, standing on its trunk at [`Self::branch_step`]`(budget_tokens)`, into the
    /// decay branch that ends at `budget_tokens`; returns the trunk to give back to
    /// [`Self::end_branch`]. Step it with [`Self::advance`] until it finishes.
    pub fn begin_branch(&mut self, budget_tokens: u64) -> Result<Trunk, CoreError> {
        let at = self.branch_step(budget_tokens)?;
        if self.step != at || self.is_done() {
            return Err(CoreError::Config(format!(
                "the branch for {budget_tokens} tokens leaves the trunk at step {at}, but the \
                 run is at step {}",
                self.step
            )));
        }
        let Some(model) = self.model.clone() else {
            return Err(CoreError::Config(
                "the model is missing; reset the run".into(),
            ));
        };
        let trunk = Trunk {
            model,
            optim: self.optim.clone(),
            batchers: self
                .batchers
                .iter()
                .map(|(kind, b)| (*kind, b.boxed_clone()))
                .collect(),
            budget_tokens: self.config.budget_tokens,
            planned_steps: self.planned_steps,
            step: self.step,
            tokens: self.tokens,
            supervised: self.supervised,
            positions: self.positions,
            padding: self.padding,
            first_step_s: self.first_step_s,
            train_s: self.train_s,
            last_sample_s: self.last_sample_s,
            sample_cost_s: self.sample_cost_s,
            recent: self.recent.clone(),
            curve: self.curve.clone(),
            last_val_loss: self.last_val_loss,
            last_eval: self.last_eval.clone(),
            status: self.status,
            diverged_at_step: self.diverged_at_step,
        };
        self.config.budget_tokens = budget_tokens;
        self.planned_steps = self.steps_for(budget_tokens);
        self.branched_at_tokens = Some(self.tokens);
        Ok(trunk)
    }

    /// Puts the trunk back after a branch: the run continues exactly where it left off.
    pub fn end_branch(&mut self, trunk: Trunk) {
        let Trunk {
            model,
            optim,
            batchers,
            budget_tokens,
            planned_steps,
            step,
            tokens,
            supervised,
            positions,
            padding,
            first_step_s,
            train_s,
            last_sample_s,
            sample_cost_s,
            recent,
            curve,
            last_val_loss,
            last_eval,
            status,
            diverged_at_step,
        } = trunk;
        self.model = Some(model);
        self.optim = optim;
        self.batchers = batchers;
        self.config.budget_tokens = budget_tokens;
        self.planned_steps = planned_steps;
        self.step = step;
        self.tokens = tokens;
        self.supervised = supervised;
        self.positions = positions;
        self.padding = padding;
        self.first_step_s = first_step_s;
        self.train_s = train_s;
        self.last_sample_s = last_sample_s;
        self.sample_cost_s = sample_cost_s;
        self.recent = recent;
        self.curve = curve;
        self.last_val_loss = last_val_loss;
        self.last_eval = last_eval;
        self.status = status;
        self.diverged_at_step = diverged_at_step;
        self.branched_at_tokens = None;
    }

    /// Plans the checkpoints of `eval_at` before the first step: sorted, each with the trunk
    /// step its branch leaves from; a checkpoint equal to the run's budget is the run itself
    /// and is left out. The warm-up becomes the smallest checkpoint's (its share of that
    /// budget's steps), so the first branch is exactly the run planned for its budget alone,
    /// and no checkpoint spends most of its tokens warming up to a rate it must already decay
    /// from (a 4M trunk's own warm-up is 200k tokens). Errors as [`Self::branch_step`] does,
    /// or when the run has already stepped.
    pub fn plan_branches(&mut self, eval_at: &[u64]) -> Result<Vec<(usize, u64)>, CoreError> {
        let mut points: Vec<u64> = eval_at
            .iter()
            .copied()
            .filter(|&b| b != self.schedule_tokens)
            .collect();
        points.sort_unstable();
        points.dedup();
        let Some(&first) = points.first() else {
            return Ok(Vec::new());
        };
        if self.step > 0 {
            return Err(CoreError::Config(
                "checkpoints are planned before the first step".into(),
            ));
        }
        if first < self.schedule_tokens {
            self.warmup_steps = ((self.steps_for(first) as f64 * self.config.warmup_fraction)
                .round() as usize)
                .max(1);
        }
        points
            .into_iter()
            .map(|b| Ok((self.branch_step(b)?, b)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::backend::Backend;
    use crate::core::config::{ModelSize, RunConfig};
    use crate::core::data::Dataset;
    use crate::core::exec::{SystemClock, block_on};
    use crate::core::mix::ObjectiveMix;
    use crate::core::summary::{RunSummary, TrainEvent};

    #[test]
    fn token_counts_read_with_suffixes() {
        assert_eq!(parse_token_count("250k").ok(), Some(250_000));
        assert_eq!(parse_token_count("1.5m").ok(), Some(1_500_000));
        assert_eq!(parse_token_count(" 4M ").ok(), Some(4_000_000));
        assert_eq!(parse_token_count("500000").ok(), Some(500_000));
        for bad in ["", "k", "lots", "-3k", "0", "1.00001k", "nan"] {
            assert!(parse_token_count(bad).is_err(), "{bad}");
        }
    }

    fn trainer(schedule: Schedule, budget: u64) -> Trainer {
        trainer_of("clm", schedule, budget)
    }

    fn trainer_of(mix: &str, schedule: Schedule, budget: u64) -> Trainer {
        let size = ModelSize::Fast;
        let dataset = Dataset::support(1, size.model().vocab_size).expect("dataset");
        let (mix, _) = ObjectiveMix::parse(mix).expect("mix");
        let mut config = RunConfig::new(size);
        config.budget_tokens = budget;
        config.schedule = schedule;
        config.batch_size = 2;
        config.evaluations = 2;
        config.sample_every_s = 1.0e6;
        Trainer::new(
            dataset,
            config,
            mix,
            None,
            Backend::cpu(),
            Box::new(SystemClock::default()),
        )
        .expect("trainer")
    }

    /// Steps until the run finishes; returns its summary and the learning rates it used.
    fn finish(t: &mut Trainer) -> (RunSummary, Vec<f64>) {
        let mut rates = Vec::new();
        loop {
            for event in block_on(t.advance()).expect("step") {
                match event {
                    TrainEvent::Step(r) => rates.push(r.lr),
                    TrainEvent::Finished(s) => return (*s, rates),
                    _ => {}
                }
            }
        }
    }

    /// Everything but the clock.
    fn timeless(mut s: RunSummary) -> RunSummary {
        s.wall_s = 0.0;
        s.train_s = 0.0;
        s
    }

    #[test]
    fn a_branch_decays_to_a_tenth_and_the_trunk_goes_on_as_if_it_never_ran() {
        let budget = 6_000;
        let checkpoint = 3_000;
        let mut alone = trainer(Schedule::Wsd, checkpoint);
        let (alone_summary, _) = finish(&mut alone);

        let mut t = trainer(Schedule::Wsd, budget);
        let plan = t.plan_branches(&[checkpoint, budget]).expect("plan");
        assert_eq!(plan.len(), 1, "the run's own budget is not a branch");
        let (at, b) = plan[0];
        while t.step() < at {
            block_on(t.advance()).expect("trunk step");
        }
        let trunk = t.begin_branch(b).expect("branch");
        let (branch, rates) = finish(&mut t);
        assert_eq!(branch.budget_tokens, checkpoint);
        assert_eq!(branch.schedule_tokens, Some(budget));
        assert!(branch.tokens >= checkpoint && branch.tokens < budget);
        let peak = branch.peak_lr.expect("peak");
        assert!(
            (rates[0] - peak).abs() < peak * 0.2,
            "the decay starts near the peak"
        );
        let last = *rates.last().expect("a branch step");
        assert!(
            (last - 0.1 * peak).abs() < 1e-9 * peak,
            "ends at a tenth: {last}"
        );
        assert!(rates.windows(2).all(|w| w[1] <= w[0]), "only decays");
        // The smallest checkpoint is the run planned for its budget alone, step for step.
        assert_eq!(
            (branch.steps, branch.tokens, branch.warmup_steps),
            (
                alone_summary.steps,
                alone_summary.tokens,
                alone_summary.warmup_steps
            )
        );
        assert_eq!(branch.final_val_loss, alone_summary.final_val_loss);
        assert_eq!(branch.val_loss_corrupted, alone_summary.val_loss_corrupted);
        t.end_branch(trunk);
        let (after, _) = finish(&mut t);
        // The trunk is the run without a branch, warmed up as briefly as its first checkpoint.
        let mut plain = trainer(Schedule::Wsd, budget);
        plain.warmup_steps = after.warmup_steps.expect("recorded");
        let (plain_summary, _) = finish(&mut plain);
        assert_eq!(
            timeless(after),
            timeless(plain_summary),
            "the trunk after a branch is the run without one"
        );
    }

    #[test]
    fn checkpoints_need_wsd_and_must_fall_after_the_warm_up_and_before_the_end() {
        let mut cosine = trainer(Schedule::Cosine, 6_000);
        assert!(cosine.plan_branches(&[3_000]).is_err());
        let mut t = trainer(Schedule::Wsd, 6_000);
        assert!(t.plan_branches(&[9_000]).is_err(), "past the end");
        assert!(t.plan_branches(&[10]).is_err(), "inside its own warm-up");
        let plan = t.plan_branches(&[4_000, 2_000, 4_000]).expect("plan");
        assert_eq!(plan.iter().map(|p| p.1).collect::<Vec<_>>(), [2_000, 4_000]);
        assert!(plan[0].0 < plan[1].0);
    }

    #[test]
    fn a_two_batch_mix_and_an_encoder_decoder_get_their_trunk_back_after_a_branch() {
        // bert draws two kinds of batch in turn (each batcher with its own stream); t5 runs an
        // encoder-decoder. Both must continue as if no branch had run.
        for mix in ["mlm+nsp", "span"] {
            let mut t = trainer_of(mix, Schedule::Wsd, 4_000);
            let plan = t.plan_branches(&[2_000]).expect("plan");
            let (at, b) = plan[0];
            while t.step() < at {
                block_on(t.advance()).expect("trunk step");
            }
            let trunk = t.begin_branch(b).expect("branch");
            let (branch, _) = finish(&mut t);
            assert_eq!(branch.budget_tokens, 2_000, "{mix}");
            t.end_branch(trunk);
            let (after, _) = finish(&mut t);
            let mut plain = trainer_of(mix, Schedule::Wsd, 4_000);
            plain.warmup_steps = after.warmup_steps.expect("recorded");
            let (plain_summary, _) = finish(&mut plain);
            assert_eq!(timeless(after), timeless(plain_summary), "{mix}");
        }
    }
}

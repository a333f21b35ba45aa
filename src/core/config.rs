//! Named model sizes and the run configuration. The sizes are laid out like the PyTorch
//! reference (`scripts/torch_reference.py`) so parameter counts and step times compare one to
//! one.

use serde::{Deserialize, Serialize};

use super::error::CoreError;
// A null float in `config.json` reads as NaN, which `validate` refuses by name.
use super::json_float::nan_if_null;

/// The lecture budget: tokens of original text entering batches, the same for every mix.
pub const LECTURE_BUDGET_TOKENS: u64 = 500_000;

/// A named model size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSize {
    /// ~1.06M parameters: vocabulary 2048, d_model 128, 4 layers, 4 heads, FFN 512, seq_len 64,
    /// batch 32.
    Default,
    /// ~168k parameters: vocabulary 1024, d_model 64, 2 layers, 4 heads, FFN 256, seq_len 32,
    /// batch 8 — for the CPU fallback and software GPUs.
    Fast,
}

impl ModelSize {
    pub const ALL: [ModelSize; 2] = [ModelSize::Default, ModelSize::Fast];

    pub fn name(self) -> &'static str {
        match self {
            ModelSize::Default => "default",
            ModelSize::Fast => "fast",
        }
    }

    pub fn model(self) -> ModelConfig {
        match self {
            ModelSize::Default => ModelConfig {
                vocab_size: 2048,
                d_model: 128,
                n_layers: 4,
                n_heads: 4,
                d_ff: 512,
                max_seq_len: 64,
            },
            ModelSize::Fast => ModelConfig {
                vocab_size: 1024,
                d_model: 64,
                n_layers: 2,
                n_heads: 4,
                d_ff: 256,
                max_seq_len: 32,
            },
        }
    }

    /// Sequences per step in the reference layout (`scripts/torch_reference.py`); a run's
    /// own batch comes from its objective's [`Recipe`].
    pub fn batch_size(self) -> usize {
        match self {
            ModelSize::Default => 32,
            ModelSize::Fast => 8,
        }
    }
}

/// The learning-rate schedule after the linear warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Cosine decay to 10% of the peak at the last step (Loshchilov & Hutter 2017; GPT-2/3).
    Cosine,
    /// Warm-up–stable–decay: the peak held, then a linear decay to 10% of it over the last
    /// [`WSD_DECAY_FRACTION`] of the steps (Hu et al. 2024, MiniCPM §4). A run can be stopped
    /// on the stable trunk and decayed from there, which budget curves need.
    Wsd,
}

/// Share of the steps WSD spends decaying.
pub const WSD_DECAY_FRACTION: f64 = 0.2;

impl Schedule {
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Cosine => "cosine",
            Schedule::Wsd => "wsd",
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cosine" => Ok(Schedule::Cosine),
            "wsd" => Ok(Schedule::Wsd),
            other => Err(CoreError::Config(format!(
                "unknown schedule `{other}`; choose cosine or wsd"
            ))),
        }
    }
}

/// How an objective trains at one size: Adam's peak rate, sequences per step, the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    #[serde(deserialize_with = "nan_if_null")]
    pub peak_lr: f64,
    pub batch_size: usize,
    pub schedule: Schedule,
}

/// An objective's recipe per model size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipes {
    pub default: Recipe,
    pub fast: Recipe,
}

impl Recipes {
    pub fn for_size(&self, size: ModelSize) -> Recipe {
        match size {
            ModelSize::Default => self.default,
            ModelSize::Fast => self.fast,
        }
    }
}

impl std::str::FromStr for ModelSize {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "default" => Ok(ModelSize::Default),
            "fast" => Ok(ModelSize::Fast),
            other => Err(CoreError::Config(format!(
                "unknown model size `{other}`; choose `default` (~1.06M parameters) or `fast` (~168k)"
            ))),
        }
    }
}

impl std::fmt::Display for ModelSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Shape of the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub vocab_size: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_ff: usize,
    /// Number of learned positions, and so the longest sequence the model can take.
    pub max_seq_len: usize,
}

impl ModelConfig {
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            return Err(CoreError::Config(format!(
                "d_model {} must be a positive multiple of n_heads {}",
                self.d_model, self.n_heads
            )));
        }
        if self.vocab_size == 0 || self.max_seq_len < 2 || self.n_layers == 0 || self.d_ff == 0 {
            return Err(CoreError::Config(
                "every model dimension must be positive".into(),
            ));
        }
        Ok(())
    }

    /// Parameter count of the decoder-only model, by formula (checked against the built model).
    pub fn decoder_params(&self) -> usize {
        let d = self.d_model;
        let per_layer = 2 * d // ln1
            + d * 3 * d + 3 * d // fused qkv
            + d * d + d // output projection
            + 2 * d // ln2
            + d * self.d_ff + self.d_ff // ffn in
            + self.d_ff * d + d; // ffn out
        self.vocab_size * d + self.max_seq_len * d + self.n_layers * per_layer + 2 * d
    }
}

pub use super::objective::spec::ObjectiveKnobs;

/// The most text a run may be given: 100M tokens is hours natively at `default`; beyond it a
/// warm-up alone would outlast a lecture.
pub const MAX_BUDGET_TOKENS: u64 = 100_000_000;

/// Evaluations drawn on the loss curve per run (plus the one at step 0).
pub const CURVE_EVALUATIONS: usize = 16;

/// Everything that decides one training run (besides the text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub size: ModelSize,
    /// Tokens of original text to feed before stopping.
    pub budget_tokens: u64,
    /// Drives initialisation, batching and masking.
    pub seed: u64,
    /// Drives the corpus.
    pub corpus_seed: u64,
    #[serde(deserialize_with = "nan_if_null")]
    pub peak_lr: f64,
    /// Sequences per optimizer step.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Fraction of the planned steps spent warming the learning rate up linearly.
    #[serde(deserialize_with = "nan_if_null")]
    pub warmup_fraction: f64,
    /// Gradient-norm clipping threshold.
    #[serde(deserialize_with = "nan_if_null")]
    pub grad_clip: f32,
    /// Evaluations along the run (on a quarter of the validation set; the last one on all of
    /// it), besides the one at the start.
    #[serde(default = "default_evaluations")]
    pub evaluations: usize,
    /// A new sample of the fixed prompt is drawn at least this often, in seconds of wall time.
    #[serde(deserialize_with = "nan_if_null")]
    pub sample_every_s: f64,
    /// Tokens generated for each sample.
    pub sample_tokens: usize,
    #[serde(default)]
    pub knobs: ObjectiveKnobs,
}

fn default_batch_size() -> usize {
    32
}

fn default_schedule() -> Schedule {
    Schedule::Cosine
}

fn default_evaluations() -> usize {
    CURVE_EVALUATIONS
}

/// Longest continuation a sample may ask for.
pub const MAX_SAMPLE_TOKENS: usize = 256;

impl RunConfig {
    /// The lab's defaults for a size, at causal LM's recipe; [`Self::for_plan`] applies the
    /// recipe of the mix actually trained.
    pub fn new(size: ModelSize) -> Self {
        let recipe = crate::core::objective::clm::RECIPES.for_size(size);
        Self {
            size,
            budget_tokens: LECTURE_BUDGET_TOKENS,
            seed: 0,
            corpus_seed: 1,
            peak_lr: recipe.peak_lr,
            batch_size: recipe.batch_size,
            schedule: recipe.schedule,
            warmup_fraction: 0.05,
            grad_clip: 1.0,
            evaluations: CURVE_EVALUATIONS,
            sample_every_s: 5.0,
            sample_tokens: 24,
            knobs: ObjectiveKnobs::default(),
        }
    }

    /// The defaults for `size` with `plan`'s recipe (rate, batch, schedule).
    pub fn for_plan(size: ModelSize, plan: &crate::core::plan::Plan) -> Self {
        let mut config = Self::new(size);
        config.apply_recipe(plan.recipe(size));
        config
    }

    /// Takes the rate, batch and schedule of `recipe`.
    pub fn apply_recipe(&mut self, recipe: Recipe) {
        self.peak_lr = recipe.peak_lr;
        self.batch_size = recipe.batch_size;
        self.schedule = recipe.schedule;
    }

    pub fn validate(&self) -> Result<(), CoreError> {
        self.size.model().validate()?;
        if self.budget_tokens == 0 || self.budget_tokens > MAX_BUDGET_TOKENS {
            return Err(CoreError::Config(format!(
                "the token budget {} must be between 1 and {MAX_BUDGET_TOKENS}",
                self.budget_tokens
            )));
        }
        if !(self.peak_lr.is_finite() && self.peak_lr > 0.0 && self.peak_lr <= 1.0) {
            return Err(CoreError::Config(format!(
                "learning rate {} must be a number above 0 and at most 1",
                self.peak_lr
            )));
        }
        if !(1..=1024).contains(&self.batch_size) {
            return Err(CoreError::Config(format!(
                "batch size {} must be between 1 and 1024 sequences",
                self.batch_size
            )));
        }
        if !(0.0..1.0).contains(&self.warmup_fraction) {
            return Err(CoreError::Config(
                "warm-up fraction must be in [0, 1)".into(),
            ));
        }
        if !(self.grad_clip.is_finite() && self.grad_clip > 0.0) {
            return Err(CoreError::Config(
                "gradient clipping must be a positive number".into(),
            ));
        }
        if self.evaluations == 0 || self.evaluations > 1000 {
            return Err(CoreError::Config(
                "evaluations per run must be between 1 and 1000".into(),
            ));
        }
        if !(self.sample_every_s.is_finite() && self.sample_every_s >= 0.0) {
            return Err(CoreError::Config(
                "the sample interval must be a number of seconds".into(),
            ));
        }
        if self.sample_tokens > MAX_SAMPLE_TOKENS {
            return Err(CoreError::Config(format!(
                "a sample of {} tokens is longer than the {MAX_SAMPLE_TOKENS} allowed",
                self.sample_tokens
            )));
        }
        self.knobs.validate(self.size.model().max_seq_len)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_reference_parameter_counts() {
        assert_eq!(ModelSize::Default.model().decoder_params(), 1_063_680);
        assert_eq!(ModelSize::Fast.model().decoder_params(), 167_680);
    }

    #[test]
    fn unknown_size_is_a_typed_error() {
        assert!(matches!(
            "huge".parse::<ModelSize>(),
            Err(CoreError::Config(_))
        ));
        assert_eq!("fast".parse::<ModelSize>(), Ok(ModelSize::Fast));
    }
}

//! Named model sizes and the run configuration. The sizes are laid out like the PyTorch
//! reference (`shared/bench/torch_reference.py`) so parameter counts and step times compare one
//! to one.

use serde::{Deserialize, Serialize};

use super::error::CoreError;

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

    pub fn batch_size(self) -> usize {
        match self {
            ModelSize::Default => 32,
            ModelSize::Fast => 8,
        }
    }

    /// Peak learning rate for Adam (smaller models tolerate a larger step).
    pub fn peak_lr(self) -> f64 {
        match self {
            ModelSize::Default => 1e-3,
            ModelSize::Fast => 3e-3,
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

/// The objectives' knobs, each with its paper's default: MLM's mask rate and 80/10/10 split,
/// T5's noise density and mean span, BART's mask ratio and Poisson λ, XLNet's K.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectiveKnobs {
    #[serde(default)]
    pub mlm: crate::core::objective::mlm::MlmConfig,
    #[serde(default)]
    pub span: crate::core::objective::span::SpanConfig,
    #[serde(default)]
    pub infill: crate::core::objective::infill::InfillConfig,
    #[serde(default)]
    pub plm: crate::core::objective::plm::PlmConfig,
}

impl ObjectiveKnobs {
    pub fn validate(&self, seq_len: usize) -> Result<(), CoreError> {
        self.mlm.validate()?;
        self.span.check_seq_len(seq_len)?;
        self.infill.validate()?;
        self.plm.validate()
    }
}

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
    pub peak_lr: f64,
    /// Fraction of the planned steps spent warming the learning rate up linearly.
    pub warmup_fraction: f64,
    /// Gradient-norm clipping threshold.
    pub grad_clip: f32,
    /// Validation loss is measured every this many steps (and at the start and end).
    pub eval_every_steps: usize,
    /// Batches of the validation split scored by each evaluation.
    pub eval_batches: usize,
    /// A new sample of the fixed prompt is drawn at least this often, in seconds of wall time.
    pub sample_every_s: f64,
    /// Tokens generated for each sample.
    pub sample_tokens: usize,
    #[serde(default)]
    pub knobs: ObjectiveKnobs,
}

impl RunConfig {
    /// The lab's defaults for a size.
    pub fn new(size: ModelSize) -> Self {
        Self {
            size,
            budget_tokens: LECTURE_BUDGET_TOKENS,
            seed: 0,
            corpus_seed: 1,
            peak_lr: size.peak_lr(),
            warmup_fraction: 0.05,
            grad_clip: 1.0,
            eval_every_steps: match size {
                ModelSize::Default => 25,
                ModelSize::Fast => 100,
            },
            eval_batches: 4,
            sample_every_s: 5.0,
            sample_tokens: 24,
            knobs: ObjectiveKnobs::default(),
        }
    }

    pub fn validate(&self) -> Result<(), CoreError> {
        self.size.model().validate()?;
        if self.budget_tokens == 0 {
            return Err(CoreError::Config(
                "the token budget must be at least 1".into(),
            ));
        }
        if !(self.peak_lr.is_finite() && self.peak_lr > 0.0 && self.peak_lr <= 1.0) {
            return Err(CoreError::Config(format!(
                "learning rate {} must be a number above 0 and at most 1",
                self.peak_lr
            )));
        }
        if !(0.0..1.0).contains(&self.warmup_fraction) {
            return Err(CoreError::Config(
                "warm-up fraction must be in [0, 1)".into(),
            ));
        }
        if self.eval_every_steps == 0 || self.eval_batches == 0 {
            return Err(CoreError::Config(
                "evaluation cadence and size must be positive".into(),
            ));
        }
        self.knobs.validate(self.size.model().max_seq_len)
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

//! The run summary: one versioned record of a run that every later issue extends (never
//! forks), and the events the training loop emits while it runs. Both are plain serde data:
//! they cross the worker boundary and are written as `run.json`.

use serde::{Deserialize, Serialize};

use super::config::{ModelSize, ObjectiveKnobs, Schedule};
use super::eval::run::RunEvaluation;
// Every float below reads `null` (NaN or an infinity when written) back as NaN.
use super::json_float::{nan_if_null, nan_if_null_values, some_nan_if_null};

/// Bump when a field changes meaning; adding optional fields keeps the version.
///
/// - 2: the word-frequency baselines count only the ids the objective can predict and score
///   the same positions as `val_loss_corrupted` (T5's sentinels on neither side); validation
///   sets are sampled across the whole split; NSP/SOP segments are BERT-style multi-sentence
///   spans; the recipe (`peak_lr`, `batch_size`, `schedule`) and `padding_share` are recorded.
/// - 3: the evaluation's fields ([`RunEvaluation`]): `gen_ppl` / `gen_pppl` with their
///   protocols, the linear probe, its untrained twin and the zero-shot reading per negative
///   kind. Records of schema 1 and 2 load with these fields empty.
pub const SCHEMA_VERSION: u32 = 3;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// The token budget was used up.
    Finished,
    /// The loss became NaN or infinite; the run stopped there.
    Diverged,
    /// Stopped by the user before the budget was used.
    Cancelled,
}

/// Where the tensors ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's flex CPU backend (natively, or wasm in the page).
    Cpu,
    /// burn-wgpu natively (Vulkan / Metal / DX12).
    Wgpu,
    /// burn-wgpu on the browser's WebGPU.
    Webgpu,
}

/// One point of the loss curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub step: usize,
    /// Original-text tokens consumed so far.
    pub tokens: u64,
    /// The step's loss: the mix, primary + weight · auxiliary.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f32,
    /// The step's token loss alone (mean over supervised positions), when the step had one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub train_token_loss: Option<f32>,
    /// The step's pair loss alone, when the step had one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub train_pair_loss: Option<f32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_loss: Option<f32>,
    /// At evaluations of token-level objectives: the loss on corrupted positions only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_loss_corrupted: Option<f32>,
    /// At evaluations: word frequencies on the same positions as `val_loss_corrupted`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_baseline: Option<f32>,
    /// At evaluations of NSP/SOP: the pair head's loss on held-out pairs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_pair_loss: Option<f32>,
    /// At evaluations of NSP/SOP: the pair head's accuracy on held-out pairs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_pair_accuracy: Option<f32>,
}

/// Everything a run leaves behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema_version: u32,
    pub status: RunStatus,
    /// Canonical mix, e.g. `clm`.
    pub mix: String,
    /// The preset the mix came from, if one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub seed: u64,
    pub corpus_seed: u64,
    pub size: ModelSize,
    pub params: usize,
    pub backend: BackendKind,
    /// Human description of the device, e.g. `WebGPU: SwiftShader (software)`.
    pub backend_label: String,
    /// What the run trained on, in words (`the support-desk corpus (corpus seed 1)`, or a
    /// student's file and its size). `null` in records written before the comparison panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus: Option<String>,
    /// SHA-256 of the corpus, its pair sets and the vocabulary (the corpus panel's and
    /// `corpus` command's fingerprint): runs pool only when it matches. Set by whoever wrote
    /// the record (the CLI, the page's worker); `null` in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus_fingerprint: Option<String>,
    /// The objectives' knobs the run trained with (those changed from the papers' defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knobs: Option<ObjectiveKnobs>,
    /// How many row shards each step's batch was cut into and summed
    /// ([`crate::core::train::shards`]): runs are bit-identical for a given seed and shard
    /// count; other counts differ by float rounding. `null` in older records (one shard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<usize>,
    /// The version of the program that trained the run (`CARGO_PKG_VERSION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub budget_tokens: u64,
    /// The budget the learning-rate schedule was planned for: `budget_tokens`, except for a
    /// decay branch of a longer warm-up–stable–decay run (`train --eval-at`), whose warm-up
    /// and stable phase came from that run's plan. Rows pool only when both match. `null` in
    /// records written before budget curves: read it as `budget_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_tokens: Option<u64>,
    /// Steps of linear warm-up: the run's share of its own steps, or of its smallest
    /// checkpoint's along a budget curve. `null` in records written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<usize>,
    /// For a decay branch: the tokens the trunk had seen when the branch left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branched_at_tokens: Option<u64>,
    /// Input positions per optimizer step (batch × sequence length).
    pub tokens_per_step: usize,
    /// Sequences per optimizer step.
    #[serde(default)]
    pub batch_size: usize,
    /// Adam's peak learning rate and the schedule after warm-up (the recipe of the objective
    /// that shapes the mix's batches, unless overridden).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub peak_lr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    pub steps: usize,
    /// Original-text tokens that entered batches.
    pub tokens: u64,
    /// Positions that carried a loss, summed over steps.
    pub supervised_tokens: u64,
    /// Wall time from start to end, evaluation and sampling included.
    #[serde(deserialize_with = "nan_if_null")]
    pub wall_s: f64,
    /// Time in optimizer steps only.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub initial_val_loss: f32,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_val_loss: f32,
    /// Cross-entropy (nats/token) under the training split's add-one unigram distribution over
    /// the ids the objective can predict, on the positions of `val_loss_corrupted`: what
    /// knowing only word frequencies achieves there (NaN, written `null`, without a token
    /// objective).
    #[serde(deserialize_with = "nan_if_null")]
    pub unigram_entropy: f64,
    /// Step at which the loss stopped being finite, for a diverged run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged_at_step: Option<usize>,
    pub curve: Vec<CurvePoint>,
    /// The network the mix trained: decoder, encoder, encoder-decoder or two-stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The last validation loss of each objective of the mix, by name.
    #[serde(
        default,
        skip_serializing_if = "std::collections::BTreeMap::is_empty",
        deserialize_with = "nan_if_null_values"
    )]
    pub val_loss_components: std::collections::BTreeMap<String, f32>,
    /// Token loss on corrupted positions only (MLM's [MASK]/random positions, T5's span
    /// tokens, BART's masked spans, every target of CLM and PLM).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_loss_corrupted: Option<f32>,
    /// Standard error of `val_loss_corrupted` over its positions.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_loss_corrupted_se: Option<f32>,
    /// The unigram baseline on the same positions as `val_loss_corrupted`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub unigram_entropy_corrupted: Option<f64>,
    /// Standard error of the mean per-position difference (model − baseline): the run is below
    /// word frequencies on this set by more than noise when the gap exceeds about twice this.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub unigram_margin_se: Option<f32>,
    /// Validation positions behind `val_loss_corrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_positions: Option<usize>,
    /// Pair-head loss on held-out NSP/SOP pairs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_pair_loss: Option<f32>,
    /// Pair-head accuracy (argmax) on held-out NSP/SOP pairs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_pair_accuracy: Option<f32>,
    /// Its standard error, √(p(1−p)/n).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub val_pair_accuracy_se: Option<f32>,
    /// Held-out pairs behind `val_pair_accuracy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_pairs: Option<usize>,
    /// Token positions carrying a loss per step (mean over the plan's batch kinds).
    #[serde(default, deserialize_with = "nan_if_null")]
    pub supervised_tokens_per_step: f64,
    /// Training FLOPs per step (6 · params + attention per position, each position of each
    /// stack counted; padding included, since it is computed).
    #[serde(default, deserialize_with = "nan_if_null")]
    pub flops_per_step: f64,
    /// Share of the input positions of the run's batches that were padding: equal text is not
    /// equal compute when one mix pads and another does not.
    #[serde(default, deserialize_with = "nan_if_null")]
    pub padding_share: f64,
    /// What the run was judged on after training (empty until evaluated).
    #[serde(flatten)]
    pub evaluation: RunEvaluation,
}

/// One optimizer step, as reported live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: usize,
    pub tokens: u64,
    pub budget_tokens: u64,
    /// The step's loss: the mix, primary + weight · auxiliary.
    #[serde(deserialize_with = "nan_if_null")]
    pub loss: f32,
    /// Its token part (mean over supervised positions) and pair part, when the step has them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub token_loss: Option<f32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_nan_if_null"
    )]
    pub pair_loss: Option<f32>,
    #[serde(deserialize_with = "nan_if_null")]
    pub lr: f64,
    /// Positions that carried a loss in this step.
    pub supervised_tokens: usize,
    /// Original-text tokens per second of optimizer time, over recent steps.
    #[serde(deserialize_with = "nan_if_null")]
    pub tokens_per_s: f64,
    /// Wall time since the run started.
    #[serde(deserialize_with = "nan_if_null")]
    pub elapsed_s: f64,
    /// Estimated wall time left, at the pace so far.
    #[serde(deserialize_with = "nan_if_null")]
    pub eta_s: f64,
}

/// What the training loop tells its driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrainEvent {
    Step(StepReport),
    Eval {
        step: usize,
        tokens: u64,
        #[serde(deserialize_with = "nan_if_null")]
        val_loss: f32,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "some_nan_if_null"
        )]
        val_loss_corrupted: Option<f32>,
        /// Word frequencies on the positions of `val_loss_corrupted`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "some_nan_if_null"
        )]
        val_baseline: Option<f32>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "some_nan_if_null"
        )]
        val_pair_loss: Option<f32>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "some_nan_if_null"
        )]
        val_pair_accuracy: Option<f32>,
    },
    Sample {
        step: usize,
        prompt: String,
        text: String,
    },
    Finished(Box<RunSummary>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pair-only or diverged run writes NaN, which JSON can only hold as `null`; its record
    /// must load back (the page refused its own download before).
    #[test]
    fn a_record_with_nan_losses_loads_back() {
        let point = CurvePoint {
            step: 1,
            tokens: 10,
            train_loss: f32::NAN,
            train_token_loss: None,
            train_pair_loss: None,
            val_loss: Some(f32::NAN),
            val_loss_corrupted: None,
            val_baseline: None,
            val_pair_loss: None,
            val_pair_accuracy: None,
        };
        let json = serde_json::to_string(&point).expect("json");
        assert!(json.contains("null"), "{json}");
        let back: CurvePoint = serde_json::from_str(&json).expect("loads");
        assert!(back.train_loss.is_nan());
    }

    /// `run.json` is read back by saved runs and by the comparison tables: every float has
    /// to come back bit for bit (serde_json needs `float_roundtrip` for that).
    #[test]
    fn floats_survive_a_json_round_trip_exactly() {
        let mut x = 0.387_752_590_000_000_06_f64;
        for _ in 0..10_000 {
            x = x * 1.000_173 + 0.068_506_82;
            let back: f64 =
                serde_json::from_str(&serde_json::to_string(&x).expect("write")).expect("read");
            assert_eq!(back.to_bits(), x.to_bits(), "{x}");
        }
    }
}

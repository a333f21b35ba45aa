//! Masked language modelling (BERT; Devlin et al. 2019, §3.1 "Task #1: Masked LM", and
//! Appendix A.1): a bidirectional encoder sees the whole sequence with some tokens hidden and
//! predicts the original token at every selected position. This file is the data side only — a
//! pure function ([`mask`]) from token ids to corrupted inputs, targets and which positions are
//! scored, and the batchers that apply it to windows of the packed text ([`MlmBatcher`],
//! [`mlm_eval_batches`]); the model never learns which objective it serves.
//!
//! The procedure, and why:
//!
//! - **Which positions.** Only ordinary tokens are candidates: padding, `[CLS]`, `[SEP]`, the
//!   span sentinels and every other special are never selected, because predicting structure
//!   the batcher itself inserted teaches nothing (BERT's `create_pretraining_data.py` likewise
//!   skips `[CLS]`/`[SEP]`).
//! - **How many.** Exactly `round(mask_rate × eligible)` positions, at least one, chosen
//!   uniformly without replacement — BERT's reference code does the same (`num_to_predict =
//!   max(1, round(len × masked_lm_prob))` over shuffled candidates) rather than an independent
//!   coin per token, so every sequence carries the same share of supervision. That share is
//!   small: MLM learns from only ~15% of positions (the cost ELECTRA, Clark et al. 2020, points
//!   out), which [`MlmMasked::supervised`] makes countable.
//! - **What replaces them (80/10/10).** `[MASK]` never appears at fine-tuning time, so BERT
//!   does not always show it: of the selected positions, 80% become `[MASK]`, 10% a random
//!   token and 10% stay unchanged, each decided by an independent draw per position. The model
//!   therefore cannot trust any input token to be the answer, nor assume an unmasked token is
//!   right (§3.1; the ablation of these rates is Appendix C.2, Table 8).
//! - **Random tokens are ordinary tokens.** BERT draws from the whole vocabulary; here a random
//!   replacement is uniform over the ordinary ids `23..vocab_size` only, because a random
//!   `[SEP]` or `[MASK]` would fake structure (a segment boundary, a mask that is not counted
//!   as one). As in BERT, the draw may by chance equal the original token; it is still labelled
//!   [`Corruption::Random`], because that is the procedure the model was trained under.
//!
//! `val_loss_corrupted` scores the positions whose input no longer shows the answer
//! ([`MlmMasked::corrupted`]: `[MASK]` or random); the full MLM loss scores every selected one.

use serde::{Deserialize, Serialize};

use super::Batch;
use super::coherence::{PackedPair, PairLayout, TokenRow, padded_pair_batch};
use super::scoring::{Decoding, ScoreKind, Scoring, ScoringExample, stack_rows};
use super::spec::{
    BatchShape, Family, Knob, KnobError, ObjectiveKnobs, ObjectiveSpec, Role, TargetSupport,
    TokenRole, WithPairs,
};
use crate::core::config::{Recipe, Recipes, Schedule};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// The three knobs of BERT's masking procedure (defaults: the paper's 15%, 80/10/10).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MlmConfig {
    /// Share of eligible (non-special) positions selected for prediction, in (0, 1].
    pub mask_rate: f64,
    /// Of the selected positions, the share replaced by `[MASK]`.
    pub mask_token: f64,
    /// Of the selected positions, the share replaced by a random ordinary token. The rest,
    /// `1 − mask_token − random_token`, are kept unchanged (but still predicted).
    pub random_token: f64,
}

impl Default for MlmConfig {
    fn default() -> Self {
        Self {
            mask_rate: 0.15,
            mask_token: 0.8,
            random_token: 0.1,
        }
    }
}

impl MlmConfig {
    /// Checks the knobs: `mask_rate` in (0, 1], both fractions in [0, 1], their sum ≤ 1
    /// ([`KnobError`] naming the knob).
    pub fn validate(&self) -> Result<(), CoreError> {
        check_knobs(&self.knobs()?, 0)?;
        Ok(())
    }
}

/// What happened to one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// Not selected: not scored.
    None,
    /// Selected and replaced by `[MASK]`.
    Mask,
    /// Selected and replaced by a random ordinary token.
    Random,
    /// Selected but left as it was (still scored).
    Kept,
}

impl Corruption {
    /// Whether the input at this position no longer shows the answer (`[MASK]` or random).
    pub fn is_corrupted(self) -> bool {
        matches!(self, Self::Mask | Self::Random)
    }
}

/// One masked sequence. All vectors have the length of the original token sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlmMasked {
    /// What the model sees.
    pub inputs: Vec<u32>,
    /// The original id at every position (scored only where `selected`).
    pub targets: Vec<u32>,
    /// Positions the loss scores.
    pub selected: Vec<bool>,
    /// What was done at each position.
    pub corruption: Vec<Corruption>,
}

impl MlmMasked {
    /// Number of positions the loss scores.
    pub fn supervised(&self) -> usize {
        self.selected.iter().filter(|&&s| s).count()
    }

    /// Positions whose input was replaced (`[MASK]` or random), in order.
    pub fn corrupted(&self) -> Vec<usize> {
        self.corruption
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_corrupted())
            .map(|(i, _)| i)
            .collect()
    }
}

/// Applies BERT's masking to one sequence (see the module doc for the procedure).
///
/// Errors: an invalid `config` or a `vocab_size` with no ordinary ids ([`CoreError::Config`]);
/// a sequence with no ordinary token at all ([`CoreError::Corpus`]), which leaves nothing to
/// predict.
pub fn mask(
    tokens: &[u32],
    config: &MlmConfig,
    specials: SpecialIds,
    vocab_size: usize,
    rng: &mut Rng,
) -> Result<MlmMasked, CoreError> {
    config.validate()?;
    let first_ordinary = SpecialIds::count_fixed();
    if vocab_size <= first_ordinary {
        return Err(CoreError::Config(format!(
            "a vocabulary of {vocab_size} has no ordinary tokens for masked LM's random \
             replacements; ids below {first_ordinary} are special, so use a larger vocabulary"
        )));
    }
    let mut eligible: Vec<usize> = (0..tokens.len())
        .filter(|&i| !specials.is_special(tokens[i]))
        .collect();
    if eligible.is_empty() {
        return Err(CoreError::Corpus(format!(
            "a sequence of {} tokens holds only padding and special tokens, which leaves nothing \
             to predict for masked LM; give it a sequence with some text in it",
            tokens.len()
        )));
    }
    let count =
        ((config.mask_rate * eligible.len() as f64).round() as usize).clamp(1, eligible.len());

    // Partial Fisher–Yates: the first `count` entries become a uniform sample without
    // replacement.
    for i in 0..count {
        let j = i + rng.below(eligible.len() - i);
        eligible.swap(i, j);
    }
    let mut chosen = eligible[..count].to_vec();
    chosen.sort_unstable(); // category draws go left to right, whatever the shuffle did

    let mut inputs = tokens.to_vec();
    let mut selected = vec![false; tokens.len()];
    let mut corruption = vec![Corruption::None; tokens.len()];
    let ordinary = vocab_size - first_ordinary;
    for &pos in &chosen {
        selected[pos] = true;
        let u = rng.next_f64();
        corruption[pos] = if u < config.mask_token {
            inputs[pos] = specials.mask;
            Corruption::Mask
        } else if u < config.mask_token + config.random_token {
            inputs[pos] = (first_ordinary + rng.below(ordinary)) as u32;
            Corruption::Random
        } else {
            Corruption::Kept
        };
    }
    Ok(MlmMasked {
        inputs,
        targets: tokens.to_vec(),
        selected,
        corruption,
    })
}

impl MlmConfig {
    /// [`MlmConfig::validate`], and that `vocab_size` leaves ordinary ids for the random
    /// replacements: what a batcher checks once so that no batch fails on it later.
    pub fn validate_with_vocab(&self, vocab_size: usize) -> Result<(), CoreError> {
        self.validate()?;
        let first_ordinary = SpecialIds::count_fixed();
        if vocab_size <= first_ordinary {
            return Err(CoreError::Config(format!(
                "a vocabulary of {vocab_size} has no ordinary tokens for masked LM's random \
                 replacements; ids below {first_ordinary} are special, so use a larger vocabulary"
            )));
        }
        Ok(())
    }
}

/// Masked LM's spec: an encoder over packed windows (RoBERTa), or BERT's packed sentence pairs
/// with a pair objective in the same batch.
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "mlm",
    title: "masked LM",
    family: Family::MaskedLm,
    paper: "BERT (Devlin et al. 2019) §3.1 and Appendix A; RoBERTa (Liu et al. 2019) §4",
    how: "15% of each window masked (80% [MASK], 10% random, 10% kept) under a bidirectional mask",
    role: Role::Tokens(TokenRole {
        architecture: Architecture::Encoder,
        with_pairs: WithPairs::SameBatch {
            layout: PairLayout::ClsFirst,
            rows: pair_rows,
            how: "one batch: MLM on [CLS] A [SEP] B [SEP], the pair head on [CLS] (BERT, ALBERT)",
        },
        window_len: full_window,
        windows_batch,
        check,
        scoring: Scoring {
            kind: ScoreKind::PseudoPerplexity,
            protocol: "pseudo-perplexity: each resolution token in turn replaced by [MASK] in \
                       [EOS] ticket [SEP] resolution, the rest visible on both sides",
            caveat: Some(
                "each scored token sees the rest of the reply on both sides, so a \
                 pseudo-perplexity is far lower than a perplexity and is never ranked with one",
            ),
            rows_per_example: |e| e.continuation.len(),
            rows: scoring_rows,
            decoding: Decoding::MaskFilling,
        },
    }),
    knobs: &[MASK_RATE, MASK_TOKEN, RANDOM_TOKEN],
    check_knobs,
    support: TargetSupport::Text,
    recipes: RECIPES,
};

/// The rate sweep's choice for masked LM (BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 1e-3,
        batch_size: 16,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 1e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
};

/// Share of eligible positions selected.
pub const MASK_RATE: Knob = Knob {
    key: "mask_rate",
    flag: "--mask-rate",
    label: "MLM mask rate",
    help: "MLM: share of tokens selected for prediction",
    default: 0.15,
    min: (0.0, false),
    max: (1.0, true),
    whole: false,
    paper: "BERT uses 0.15",
};

/// Of the selected positions, the share shown as `[MASK]`.
pub const MASK_TOKEN: Knob = Knob {
    key: "mask_token",
    flag: "--mask-token",
    label: "MLM share [MASK]",
    help: "MLM: of the selected tokens, the share replaced by [MASK]",
    default: 0.8,
    min: (0.0, true),
    max: (1.0, true),
    whole: false,
    paper: "BERT uses 0.8; its Table 8 tries others",
};

/// Of the selected positions, the share replaced by a random token.
pub const RANDOM_TOKEN: Knob = Knob {
    key: "random_token",
    flag: "--random-token",
    label: "MLM share random",
    help: "MLM: of the selected tokens, the share replaced by a random token (the rest are kept)",
    default: 0.1,
    min: (0.0, true),
    max: (1.0, true),
    whole: false,
    paper: "BERT uses 0.1; its Table 8 tries others",
};

impl MlmConfig {
    /// The masking procedure the knobs describe.
    pub fn from_knobs(knobs: &ObjectiveKnobs) -> Self {
        Self {
            mask_rate: knobs.get(&MASK_RATE),
            mask_token: knobs.get(&MASK_TOKEN),
            random_token: knobs.get(&RANDOM_TOKEN),
        }
    }

    /// The knobs that describe this procedure (the inverse of [`Self::from_knobs`]).
    pub fn knobs(&self) -> Result<ObjectiveKnobs, KnobError> {
        let mut knobs = ObjectiveKnobs::default();
        knobs.set(&MASK_RATE, self.mask_rate)?;
        knobs.set(&MASK_TOKEN, self.mask_token)?;
        knobs.set(&RANDOM_TOKEN, self.random_token)?;
        Ok(knobs)
    }
}

fn check_knobs(knobs: &ObjectiveKnobs, _seq_len: usize) -> Result<(), KnobError> {
    let sum = knobs.get(&MASK_TOKEN) + knobs.get(&RANDOM_TOKEN);
    if sum > 1.0 + 1e-9 {
        return Err(KnobError::Combination {
            objective: "mlm",
            message: format!(
                "mask_token ({}) + random_token ({}) is {sum}; together they must be at most 1, \
                 the rest of the selected tokens staying unchanged (BERT: 0.8 + 0.1)",
                knobs.get(&MASK_TOKEN),
                knobs.get(&RANDOM_TOKEN)
            ),
        });
    }
    Ok(())
}

fn full_window(shape: &BatchShape) -> Result<usize, CoreError> {
    Ok(shape.seq_len)
}

/// Refuses, before training, a vocabulary with no ordinary ids and a text with no ordinary
/// token (nothing to predict).
fn check(stream: &[u32], shape: &BatchShape) -> Result<(), CoreError> {
    MlmConfig::from_knobs(&shape.knobs).validate_with_vocab(shape.vocab_size)?;
    if stream.iter().all(|&id| shape.specials.is_special(id)) {
        return Err(CoreError::Corpus(format!(
            "the text has {} tokens but no ordinary one, which leaves nothing to predict for \
             masked LM; give it some text",
            stream.len()
        )));
    }
    Ok(())
}

/// Pseudo-log-likelihood rows (Salazar et al. 2020): one row per continuation token, that
/// token replaced by `[MASK]` and scored, everything else visible.
fn scoring_rows(examples: &[ScoringExample], specials: SpecialIds) -> Result<Batch, CoreError> {
    let mut rows = Vec::new();
    for e in examples {
        let ids: Vec<u32> = e.context.iter().chain(&e.continuation).copied().collect();
        for p in e.context.len()..ids.len() {
            let mut input = ids.clone();
            input[p] = specials.mask;
            let mut weights = vec![0.0; ids.len()];
            weights[p] = 1.0;
            rows.push((input, ids.clone(), weights));
        }
    }
    stack_rows(rows, specials, AttentionMask::bidirectional)
}

/// Masks each window afresh and lays them out as a [`Batch`].
///
/// A sequence is a contiguous window of `seq_len` tokens of the packed stream: RoBERTa (Liu et
/// al. 2019, §4.2 "FULL-SENTENCES") showed that an encoder trained on such packed windows,
/// crossing sentence and document boundaries, does at least as well as BERT's sentence pairs,
/// and sharing the windows with CLM means two runs differ only in their objective. The
/// `[EOS]`/`[SEP]` separators inside a window are specials, so [`mask`] never selects them.
/// Every time a window is drawn it is masked afresh — RoBERTa's *dynamic masking* (§4.1) —
/// where BERT masked each sequence once and reused it. Full windows hold no padding, so the
/// mask is [`AttentionMask::bidirectional`] with nothing blocked.
///
/// Errors when a window holds nothing but specials ([`CoreError::Corpus`] from [`mask`]).
pub fn windows_batch(
    windows: &[Vec<u32>],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let config = MlmConfig::from_knobs(&shape.knobs);
    let seq_len = windows.first().map_or(0, Vec::len);
    let n = windows.len() * seq_len;
    let mut inputs = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    let mut loss_weights = Vec::with_capacity(n);
    let mut corrupted = Vec::with_capacity(n);
    let mut original_tokens = 0;
    let mut supervised_tokens = 0;
    for window in windows {
        let masked = mask(window, &config, shape.specials, shape.vocab_size, rng)?;
        original_tokens += window
            .iter()
            .filter(|&&id| !shape.specials.is_special(id))
            .count();
        supervised_tokens += masked.supervised();
        loss_weights.extend(masked.selected.iter().map(|&s| f32::from(u8::from(s))));
        corrupted.extend(
            masked
                .corruption
                .iter()
                .map(|c| f32::from(u8::from(c.is_corrupted()))),
        );
        inputs.extend(masked.inputs);
        targets.extend(masked.targets);
    }
    Ok(Batch {
        batch_size: windows.len(),
        seq_len,
        inputs,
        segments: None,
        mask: AttentionMask::bidirectional(seq_len, &vec![false; n]),
        target_len: seq_len,
        targets,
        loss_weights,
        corrupted,
        decoder: None,
        query: None,
        pairs: None,
        original_tokens,
        supervised_tokens,
    })
}

/// BERT's pre-training batch: masked LM on each packed pair `[CLS] A [SEP] B [SEP]`, the pair
/// label beside it (Devlin et al. 2019, §3.1 and Appendix A.2: one input, the two losses
/// summed). `[CLS]`, `[SEP]` and padding are never masked.
fn pair_rows(
    packed: &[PackedPair],
    labels: &[u8],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let config = MlmConfig::from_knobs(&shape.knobs);
    padded_pair_batch(packed, labels, shape, PairLayout::ClsFirst, |ids| {
        // Two empty segments leave only specials: the row still carries its pair label, so it
        // is kept with no token supervision rather than refused.
        if ids.iter().all(|&id| shape.specials.is_special(id)) {
            return Ok(TokenRow::unscored(ids));
        }
        let masked = mask(ids, &config, shape.specials, shape.vocab_size, rng)?;
        Ok(TokenRow {
            loss_weights: masked
                .selected
                .iter()
                .map(|&s| f32::from(u8::from(s)))
                .collect(),
            corrupted: masked
                .corruption
                .iter()
                .map(|c| f32::from(u8::from(c.is_corrupted())))
                .collect(),
            inputs: masked.inputs,
            targets: masked.targets,
        })
    })
}

#[cfg(test)]
#[path = "mlm_tests.rs"]
mod tests;

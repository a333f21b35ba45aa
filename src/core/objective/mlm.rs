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
use super::clm::cycled;
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
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
    /// Checks the knobs: `mask_rate` in (0, 1], both fractions ≥ 0, their sum ≤ 1.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.mask_rate > 0.0 && self.mask_rate <= 1.0) {
            return Err(CoreError::Config(format!(
                "mlm mask_rate is {}; it must be above 0 and at most 1 (BERT uses 0.15)",
                self.mask_rate
            )));
        }
        for (name, value, paper) in [
            ("mask_token", self.mask_token, 0.8),
            ("random_token", self.random_token, 0.1),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(CoreError::Config(format!(
                    "mlm {name} is {value}; it is a share of the selected positions, between 0 \
                     and 1 (BERT uses {paper})"
                )));
            }
        }
        let sum = self.mask_token + self.random_token;
        if sum > 1.0 + 1e-9 {
            return Err(CoreError::Config(format!(
                "mlm mask_token + random_token is {sum}; together they must be at most 1 (the \
                 rest of the selected positions stay unchanged; BERT uses 0.8 + 0.1)"
            )));
        }
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

/// Draws training batches of masked LM from a packed token stream.
///
/// A sequence is a contiguous window of `seq_len` tokens of the stream, as for
/// [`ClmBatcher`](super::clm::ClmBatcher): RoBERTa (Liu et al. 2019, §4.2 "FULL-SENTENCES")
/// showed that an encoder trained on such packed windows, crossing sentence and document
/// boundaries, does at least as well as BERT's sentence pairs, and sharing the windows with CLM
/// means two runs differ only in their objective. The `[EOS]`/`[SEP]` separators inside a
/// window are specials, so [`mask`] never selects them. Every time a window is drawn it is
/// masked afresh — RoBERTa's *dynamic masking* (§4.1) — where BERT masked each sequence once
/// and reused it; on a student's small text a static mask would be memorised within a few
/// epochs. Each epoch starts at a random offset and visits the windows in a seeded random
/// order. Full windows hold no padding, so the mask is [`AttentionMask::bidirectional`]
/// with nothing blocked.
#[derive(Debug, Clone)]
pub struct MlmBatcher {
    stream: Vec<u32>,
    config: MlmConfig,
    batch_size: usize,
    seq_len: usize,
    specials: SpecialIds,
    vocab_size: usize,
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
}

impl MlmBatcher {
    /// A batcher over `stream`, cycled (see [`cycled`]) until it holds at least one batch and
    /// two windows, so that a student's short text still trains.
    ///
    /// Errors: a zero `batch_size` or `seq_len`, an invalid `config` or a vocabulary with no
    /// ordinary ids ([`CoreError::Config`]); a stream with no ordinary token, which leaves
    /// nothing to predict ([`CoreError::Corpus`]).
    pub fn new(
        stream: Vec<u32>,
        config: MlmConfig,
        batch_size: usize,
        seq_len: usize,
        specials: SpecialIds,
        vocab_size: usize,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        check_batch_shape(batch_size, seq_len)?;
        config.validate_with_vocab(vocab_size)?;
        if stream.iter().all(|&id| specials.is_special(id)) {
            return Err(CoreError::Corpus(format!(
                "the training text has {} tokens but no ordinary one, which leaves nothing to \
                 predict for masked LM; give it some text",
                stream.len()
            )));
        }
        // Two windows at least: an epoch's random offset then still leaves one whole window.
        let stream = cycled(&stream, (batch_size * seq_len).max(2 * seq_len));
        Ok(Self {
            stream,
            config,
            batch_size,
            seq_len,
            specials,
            vocab_size,
            rng,
            order: Vec::new(),
            cursor: 0,
        })
    }

    fn new_epoch(&mut self) {
        let offset = self.rng.below(self.seq_len);
        let windows = (self.stream.len() - offset) / self.seq_len; // ≥ 1: len ≥ 2·seq_len
        self.order = (0..windows).map(|i| offset + i * self.seq_len).collect();
        self.rng.shuffle(&mut self.order);
        self.cursor = 0;
    }

    /// The next batch in this run's order, freshly masked.
    ///
    /// Errors only when a window holds nothing but specials ([`CoreError::Corpus`] from
    /// [`mask`]), which takes `seq_len` specials in a row.
    pub fn next_batch(&mut self) -> Result<Batch, CoreError> {
        let mut starts = Vec::with_capacity(self.batch_size);
        while starts.len() < self.batch_size {
            if self.cursor >= self.order.len() {
                self.new_epoch();
            }
            starts.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        mlm_batch(
            &self.stream,
            &starts,
            self.seq_len,
            &self.config,
            self.specials,
            self.vocab_size,
            &mut self.rng,
        )
    }
}

/// Fixed evaluation batches of masked LM: the non-overlapping windows from the start of
/// `stream` that [`clm_eval_batches`](super::clm::clm_eval_batches) also reads (at most
/// `max_batches` full batches), masked once with a generator seeded by `seed`. Building them
/// once and reusing them means every evaluation of a run scores the same positions with the
/// same corruptions, so a falling validation loss is the model's doing, not the mask's.
///
/// Errors: a zero `batch_size` or `seq_len`, an invalid `config` or vocabulary
/// ([`CoreError::Config`]); a stream shorter than one batch (cycle a short validation text
/// with [`cycled`] first, as the trainer does for CLM) or a window of nothing but specials
/// ([`CoreError::Corpus`]).
#[allow(clippy::too_many_arguments)] // shape, masking and seed, each named at the call
pub fn mlm_eval_batches(
    stream: &[u32],
    config: MlmConfig,
    batch_size: usize,
    seq_len: usize,
    max_batches: usize,
    specials: SpecialIds,
    vocab_size: usize,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    check_batch_shape(batch_size, seq_len)?;
    config.validate_with_vocab(vocab_size)?;
    let windows = stream.len() / seq_len;
    let batches = (windows / batch_size).min(max_batches);
    if batches == 0 {
        return Err(CoreError::Corpus(format!(
            "the validation text has {} tokens; {max_batches} evaluation batch(es) of \
             {batch_size}×{seq_len} need at least {}",
            stream.len(),
            batch_size * seq_len
        )));
    }
    let mut rng = Rng::new(seed);
    (0..batches)
        .map(|b| {
            let starts: Vec<usize> = (0..batch_size)
                .map(|i| (b * batch_size + i) * seq_len)
                .collect();
            mlm_batch(
                stream, &starts, seq_len, &config, specials, vocab_size, &mut rng,
            )
        })
        .collect()
}

/// Refuses a batch shape with no positions in it.
fn check_batch_shape(batch_size: usize, seq_len: usize) -> Result<(), CoreError> {
    if batch_size == 0 || seq_len == 0 {
        return Err(CoreError::Config(format!(
            "a masked-LM batch of {batch_size}×{seq_len} holds no tokens; batch size and \
             sequence length must both be at least 1"
        )));
    }
    Ok(())
}

/// Masks the windows `stream[start..start + seq_len]` and lays them out as a [`Batch`].
/// Callers keep every window inside `stream`.
fn mlm_batch(
    stream: &[u32],
    starts: &[usize],
    seq_len: usize,
    config: &MlmConfig,
    specials: SpecialIds,
    vocab_size: usize,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let n = starts.len() * seq_len;
    let mut inputs = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    let mut loss_weights = Vec::with_capacity(n);
    let mut corrupted = Vec::with_capacity(n);
    let mut original_tokens = 0;
    let mut supervised_tokens = 0;
    for &start in starts {
        let window = &stream[start..start + seq_len];
        let masked = mask(window, config, specials, vocab_size, rng)?;
        original_tokens += window
            .iter()
            .filter(|&&id| !specials.is_special(id))
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
        batch_size: starts.len(),
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

#[cfg(test)]
#[path = "mlm_tests.rs"]
mod tests;

//! Span corruption, T5's denoising objective (Raffel et al. 2020, §3.1.4; the "replace corrupted
//! spans" row of Table 5): [`corrupt`] as a pure function on token ids, and [`windows_batch`],
//! which turns windows of the packed stream into encoder-decoder batches.
//!
//! Some tokens of a sequence are hidden in contiguous spans. The encoder sees the sequence with
//! each hidden span replaced by one sentinel, `[SPAN0]`, `[SPAN1]`, … in order; the decoder must
//! write out only what was hidden, each span after its sentinel, closed by one more sentinel:
//!
//! ```text
//! original  Thank you for inviting me to your party last week .
//! input     Thank you [SPAN0] me to your party [SPAN1] week .
//! target    [SPAN0] for inviting [SPAN1] last [SPAN2]
//! ```
//!
//! (The example is the paper's Figure 2. Here, as in T5's `random_spans_noise_mask`, the
//! sequence always ends inside a hidden span.) The target is much shorter than the input, which
//! is why T5 found span corruption as good as BERT-style denoising and cheaper (Table 5).
//!
//! How the spans are drawn follows `random_spans_noise_mask` in the T5 codebase: the counts are
//! fixed by the length, only the positions are random. For `n` tokens, `round(n ×
//! noise_density)` (kept in `1..=n−1`) are hidden, in `round(hidden / mean_span)` spans (at
//! least 1). The hidden tokens are split at random into that many non-empty spans, the kept
//! tokens likewise, and the two lists are interleaved starting with kept text. Rounding is
//! half-to-even, as `tf.round` does.
//!
//! The knobs and why their defaults:
//! - `noise_density` (0.15): the fraction hidden. T5 Table 6 tried 10/15/25/50% (GLUE 82.82 /
//!   83.28 / 83.00 / 81.27): 15%, BERT's rate, was best, and only 50% clearly hurt.
//! - `mean_span` (3.0): the average span length. Table 7 tried 2/3/5/10 (SuperGLUE 72.20 / 72.53 /
//!   72.23 / 70.44): 3 was best by a little; longer spans mean fewer sentinels and shorter
//!   targets.
//!
//! The lab's tokenizer reserves [`SPAN_SENTINELS`] sentinels and a sequence needs one per span
//! plus the closing one, so long sequences at the defaults run out (64 tokens need 4; more than
//! 310 need 17). [`max_sentinels_needed`] and [`SpanConfig::check_seq_len`] check a setting
//! before training starts; the batcher refuses one that does not fit.
//!
//! The batch: the encoder reads the corrupted window padded with `[PAD]`; the decoder reads
//! `[BOS]` and the target shifted right and writes the target. Sentinels and span tokens are all
//! scored, but only span tokens count as corrupted (see [`windows_batch`]).

use serde::{Deserialize, Serialize};

use super::scoring::{Decoding, ScoreKind, Scoring, ScoringExample, one_row};
use super::spec::{
    BatchShape, Family, Knob, KnobError, ObjectiveKnobs, ObjectiveSpec, Role, TargetSupport,
    TokenRole, WithPairs,
};
use super::{Batch, DecoderBatch};
use crate::core::config::{Recipe, Recipes, Schedule};
use crate::core::error::CoreError;
use crate::core::masks::{AttentionMask, CrossMask};
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::{SPAN_SENTINELS, SpecialIds};

/// How much of a sequence span corruption hides, and in how long pieces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpanConfig {
    /// Fraction of the tokens hidden from the encoder, in (0, 1). Paper: 0.15.
    pub noise_density: f64,
    /// Mean length of a hidden span in tokens, at least 1. Paper: 3.0.
    pub mean_span: f64,
}

impl Default for SpanConfig {
    fn default() -> Self {
        Self {
            noise_density: 0.15,
            mean_span: 3.0,
        }
    }
}

impl SpanConfig {
    /// The corruption the knobs describe.
    pub fn from_knobs(knobs: &ObjectiveKnobs) -> Self {
        Self {
            noise_density: knobs.get(&NOISE_DENSITY),
            mean_span: knobs.get(&MEAN_SPAN),
        }
    }

    /// The knobs that describe this corruption.
    pub fn knobs(&self) -> Result<ObjectiveKnobs, KnobError> {
        let mut knobs = ObjectiveKnobs::default();
        knobs.set(&NOISE_DENSITY, self.noise_density)?;
        knobs.set(&MEAN_SPAN, self.mean_span)?;
        Ok(knobs)
    }

    /// Checks each knob's range ([`KnobError`] naming it).
    pub fn validate(&self) -> Result<(), CoreError> {
        self.knobs()?;
        Ok(())
    }

    /// Checks the settings and that every sequence of up to `seq_len` tokens can be corrupted:
    /// at least 2 tokens, and no more sentinels than the tokenizer has.
    pub fn check_seq_len(&self, seq_len: usize) -> Result<(), CoreError> {
        self.knobs()?;
        if seq_len < 2 {
            return Err(CoreError::Config(format!(
                "span corruption needs sequences of at least 2 tokens (one to hide, one to \
                 see); got {seq_len}"
            )));
        }
        let needed = max_sentinels_needed(seq_len, self);
        if needed > SPAN_SENTINELS {
            return Err(CoreError::Config(format!(
                "span corruption of a {seq_len}-token sequence with noise_density {} and \
                 mean_span {} needs {needed} sentinels; the tokenizer has {SPAN_SENTINELS}: lower \
                 noise_density or raise mean_span, or shorten seq_len",
                self.noise_density, self.mean_span
            )));
        }
        Ok(())
    }
}

/// Span corruption's spec: an encoder-decoder over packed windows; with a pair objective,
/// alternate batches (pairs go through the encoder alone).
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "span",
    title: "span corruption",
    family: Family::Denoising,
    paper: "T5 (Raffel et al. 2020) §3.1.4, Tables 4–7",
    how: "T5 span corruption: spans become sentinels in the encoder, the decoder writes them out",
    role: Role::Tokens(TokenRole {
        architecture: Architecture::EncoderDecoder,
        with_pairs: WithPairs::Alternate {
            how: "alternate batches: denoising, then sentence pairs through the encoder with the \
                  pair head on [CLS]",
        },
        window_len: full_window,
        windows_batch,
        check,
        scoring: Scoring {
            kind: ScoreKind::Perplexity,
            protocol: "encoder [EOS] ticket [SEP] [SPAN0], decoder [SPAN0] resolution [SPAN1]; \
                       the resolution's tokens scored",
            caveat: Some(
                "one sentinel stands for the whole reply (up to half the sequence), where \
                 pre-training's spans averaged 3 tokens and hid 15% of a window",
            ),
            rows_per_example: one_row,
            rows: scoring_rows,
            decoding: Decoding::Sentinel,
        },
    }),
    knobs: &[NOISE_DENSITY, MEAN_SPAN],
    check_knobs,
    support: TargetSupport::TextAndSeparators,
    recipes: RECIPES,
};

/// The rate sweep's choice for span corruption (BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 1e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 1e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
};

/// Fraction of tokens hidden.
pub const NOISE_DENSITY: Knob = Knob {
    key: "noise_density",
    flag: "--noise-density",
    label: "T5 noise density",
    help: "T5 span corruption: share of tokens corrupted",
    default: 0.15,
    min: (0.0, false),
    max: (1.0, false),
    whole: false,
    paper: "T5 uses 0.15; its Table 6 tries 0.10–0.50",
};

/// Mean length of a hidden span.
pub const MEAN_SPAN: Knob = Knob {
    key: "mean_span",
    flag: "--mean-span",
    label: "T5 mean span",
    help: "T5 span corruption: mean span length in tokens",
    default: 3.0,
    min: (1.0, true),
    max: (f64::INFINITY, false),
    whole: false,
    paper: "T5 uses 3; its Table 7 tries 2–10",
};

/// Every sequence of up to `seq_len` tokens must be corruptible: at least 2 tokens, no more
/// sentinels than the tokenizer has, and a target that fits the decoder.
fn check_knobs(knobs: &ObjectiveKnobs, seq_len: usize) -> Result<(), KnobError> {
    let config = SpanConfig::from_knobs(knobs);
    let refuse = |message: String| {
        Err(KnobError::Combination {
            objective: "span",
            message,
        })
    };
    if seq_len == 0 {
        return Ok(()); // ranges only: no sequence to fit yet
    }
    if let Err(e) = config.check_seq_len(seq_len) {
        return refuse(e.to_string());
    }
    let Plan { noise, spans } = plan(seq_len, &config);
    let target_len = noise + spans + 1;
    if target_len > seq_len {
        return refuse(format!(
            "a {seq_len}-token sequence with noise_density {} and mean_span {} makes a target of \
             {target_len} tokens ({noise} hidden, {} sentinels), longer than the decoder's \
             {seq_len} positions: lower noise_density or raise mean_span",
            config.noise_density,
            config.mean_span,
            spans + 1
        ));
    }
    Ok(())
}

fn full_window(shape: &BatchShape) -> Result<usize, CoreError> {
    Ok(shape.seq_len)
}

/// The up-front check: the knobs fit `seq_len`, and no sentinel is in the text.
fn check(stream: &[u32], shape: &BatchShape) -> Result<(), CoreError> {
    check_knobs(&shape.knobs, shape.seq_len)?;
    if let Some((pos, k)) = stream
        .iter()
        .enumerate()
        .find_map(|(pos, &id)| sentinel_index(shape.specials, id).map(|k| (pos, k)))
    {
        return Err(CoreError::Corpus(format!(
            "span corruption: the text holds [SPAN{k}] at token {pos}; sentinels are markers, so \
             the text must not contain them"
        )));
    }
    Ok(())
}

/// One corrupted sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanCorruption {
    /// What the encoder sees: the kept tokens, each hidden span replaced by its sentinel.
    pub input: Vec<u32>,
    /// What the decoder writes: each span's sentinel and tokens, then the closing sentinel.
    pub target: Vec<u32>,
    /// The hidden spans as `(start, len)` in the original, in order.
    pub spans: Vec<(usize, usize)>,
}

/// The sentinels corrupting a sequence of `seq_len` tokens (or any shorter one) takes: one per
/// span plus the closing one. Compare with [`SPAN_SENTINELS`]. Returns 0 below 2 tokens, which
/// cannot be corrupted at all.
pub fn max_sentinels_needed(seq_len: usize, config: &SpanConfig) -> usize {
    (2..=seq_len)
        .map(|n| plan(n, config).spans + 1)
        .max()
        .unwrap_or(0)
}

/// Hides random spans of `tokens` (see the module doc). The tokens must not contain sentinels.
pub fn corrupt(
    tokens: &[u32],
    config: &SpanConfig,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<SpanCorruption, CoreError> {
    let n = tokens.len();
    config.check_seq_len(n)?;
    if let Some((pos, index)) = tokens
        .iter()
        .enumerate()
        .find_map(|(pos, &id)| sentinel_index(specials, id).map(|k| (pos, k)))
    {
        return Err(CoreError::Corpus(format!(
            "span corruption: the sequence already holds [SPAN{index}] at position {pos}; \
             sentinels are markers, so the text must not contain them"
        )));
    }
    let Plan { noise, spans } = plan(n, config);
    let hidden_lengths = random_segmentation(noise, spans, rng);
    let kept_lengths = random_segmentation(n - noise, spans, rng);

    let mut input = Vec::with_capacity(n - noise + spans);
    let mut target = Vec::with_capacity(noise + spans + 1);
    let mut hidden = Vec::with_capacity(spans);
    let mut pos = 0;
    for (k, (&kept, &len)) in kept_lengths.iter().zip(&hidden_lengths).enumerate() {
        input.extend_from_slice(&tokens[pos..pos + kept]);
        pos += kept;
        let sentinel = sentinel_id(specials, k);
        input.push(sentinel);
        target.push(sentinel);
        target.extend_from_slice(&tokens[pos..pos + len]);
        hidden.push((pos, len));
        pos += len;
    }
    target.push(sentinel_id(specials, spans));
    Ok(SpanCorruption {
        input,
        target,
        spans: hidden,
    })
}

/// The original sequence from an input and its target: each sentinel in the input is replaced
/// by the tokens that follow the same sentinel in the target. Refuses pairs that [`corrupt`]
/// could not have produced (sentinels out of order, missing, or unclosed).
pub fn reconstruct(
    input: &[u32],
    target: &[u32],
    specials: SpecialIds,
) -> Result<Vec<u32>, CoreError> {
    let malformed = |why: String| CoreError::Corpus(format!("cannot reconstruct the text: {why}"));
    // One entry per sentinel of the target; the last one is the closing sentinel's, empty.
    let mut pieces: Vec<Vec<u32>> = Vec::new();
    for &id in target {
        match sentinel_index(specials, id) {
            Some(k) if k == pieces.len() => pieces.push(Vec::new()),
            Some(k) => {
                return Err(malformed(format!(
                    "the target holds [SPAN{k}] where [SPAN{}] was due",
                    pieces.len()
                )));
            }
            None => match pieces.last_mut() {
                Some(piece) => piece.push(id),
                None => return Err(malformed("the target must start with [SPAN0]".into())),
            },
        }
    }
    match pieces.pop() {
        Some(closing) if closing.is_empty() => {}
        _ => {
            return Err(malformed(
                "the target must end with a closing sentinel".into(),
            ));
        }
    }
    let mut original = Vec::with_capacity(input.len() + pieces.iter().map(Vec::len).sum::<usize>());
    let mut used = 0;
    for &id in input {
        match sentinel_index(specials, id) {
            Some(k) if k == used && k < pieces.len() => {
                original.extend_from_slice(&pieces[k]);
                used += 1;
            }
            Some(k) => {
                return Err(malformed(format!(
                    "the input holds [SPAN{k}] where [SPAN{used}] was due ({} spans in the target)",
                    pieces.len()
                )));
            }
            None => original.push(id),
        }
    }
    if used != pieces.len() {
        return Err(malformed(format!(
            "the target has {} spans but the input only {used} sentinels",
            pieces.len()
        )));
    }
    Ok(original)
}

/// How many tokens are hidden, in how many spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    noise: usize,
    spans: usize,
}

/// T5's counts for an `n`-token sequence (`n ≥ 2`, a validated config).
fn plan(n: usize, config: &SpanConfig) -> Plan {
    let noise = ((n as f64 * config.noise_density).round_ties_even() as usize).clamp(1, n - 1);
    let spans = ((noise as f64 / config.mean_span).round_ties_even() as usize).max(1);
    // Each hidden span needs kept text before it (T5's interleaving starts with kept text), so
    // a very dense setting on a short sequence gets fewer, longer spans rather than none.
    let spans = spans.min(noise).min(n - noise);
    Plan { noise, spans }
}

/// A uniformly random split of `items` things into `segments` non-empty runs (T5's
/// `_random_segmentation`): shuffle `segments − 1` run starts among the `items − 1` gaps.
/// Needs `1 ≤ segments ≤ items`.
fn random_segmentation(items: usize, segments: usize, rng: &mut Rng) -> Vec<usize> {
    let mut starts_run = vec![false; items.saturating_sub(1)];
    for flag in starts_run.iter_mut().take(segments.saturating_sub(1)) {
        *flag = true;
    }
    rng.shuffle(&mut starts_run);
    let mut lengths = Vec::with_capacity(segments);
    let mut current = 1;
    for starts in starts_run {
        if starts {
            lengths.push(current);
            current = 1;
        } else {
            current += 1;
        }
    }
    lengths.push(current);
    lengths
}

fn sentinel_id(specials: SpecialIds, k: usize) -> u32 {
    specials.first_sentinel + k as u32
}

/// `k` when `id` is the sentinel `[SPANk]`.
pub fn sentinel_index(specials: SpecialIds, id: u32) -> Option<usize> {
    let k = id.checked_sub(specials.first_sentinel)? as usize;
    (k < SPAN_SENTINELS).then_some(k)
}

// ── The batch ──────────────────────────────────────────────────────────────────────────────────

/// One encoder-decoder example before padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seq2SeqExample {
    /// What the encoder reads (at most `seq_len` tokens).
    pub input: Vec<u32>,
    /// What the decoder writes (at most `seq_len` tokens).
    pub target: Vec<u32>,
    /// Per target position: whether `val_loss_corrupted` scores it.
    pub corrupted: Vec<bool>,
}

/// Pads encoder-decoder examples into a [`Batch`] (shared by T5 and BART). Encoder: inputs
/// right-padded with `[PAD]` to `seq_len`, bidirectional mask with padded keys blocked. Decoder:
/// `target_len` is the longest target; targets right-padded with `[PAD]`; decoder inputs are
/// the padded targets shifted right after `[BOS]` (the shift is the batcher's job, never the
/// model's); causal self-attention with padded keys blocked; cross-attention blocks padded
/// encoder positions. Every real target position has loss weight 1, padding 0.
pub(crate) fn seq2seq_batch(
    examples: &[Seq2SeqExample],
    seq_len: usize,
    specials: SpecialIds,
    original_tokens: usize,
) -> Result<Batch, CoreError> {
    let batch_size = examples.len();
    let target_len = examples.iter().map(|e| e.target.len()).max().unwrap_or(0);
    if batch_size == 0 || target_len == 0 {
        return Err(CoreError::Config(
            "an encoder-decoder batch needs at least one example with a non-empty target".into(),
        ));
    }
    if target_len > seq_len {
        return Err(CoreError::Config(format!(
            "a decoder target of {target_len} tokens is longer than the model's {seq_len} \
             positions: hide less of each sequence or use longer sequences"
        )));
    }
    // An empty input would leave the encoder a row of padding with no key to read.
    if let Some(e) = examples
        .iter()
        .find(|e| e.input.is_empty() || e.input.len() > seq_len)
    {
        return Err(CoreError::Config(format!(
            "an encoder input of {} tokens does not fit the model's {seq_len} positions (it \
             needs 1 to {seq_len})",
            e.input.len()
        )));
    }
    let mut inputs = Vec::with_capacity(batch_size * seq_len);
    let mut encoder_padding = Vec::with_capacity(batch_size * seq_len);
    let mut targets = Vec::with_capacity(batch_size * target_len);
    let mut decoder_inputs = Vec::with_capacity(batch_size * target_len);
    let mut decoder_padding = Vec::with_capacity(batch_size * target_len);
    let mut corrupted = Vec::with_capacity(batch_size * target_len);
    for e in examples {
        inputs.extend_from_slice(&e.input);
        inputs.resize(inputs.len() + seq_len - e.input.len(), specials.pad);
        encoder_padding.extend((0..seq_len).map(|p| p >= e.input.len()));
        let row = targets.len();
        targets.extend_from_slice(&e.target);
        targets.resize(row + target_len, specials.pad);
        decoder_inputs.push(specials.bos);
        decoder_inputs.extend_from_slice(&targets[row..row + target_len - 1]);
        decoder_padding.extend((0..target_len).map(|t| t >= e.target.len()));
        corrupted.extend((0..target_len).map(|t| match e.corrupted.get(t) {
            Some(true) => 1.0,
            _ => 0.0,
        }));
    }
    let loss_weights: Vec<f32> = decoder_padding
        .iter()
        .map(|&pad| if pad { 0.0 } else { 1.0 })
        .collect();
    let supervised_tokens = decoder_padding.iter().filter(|&&pad| !pad).count();
    Ok(Batch {
        batch_size,
        seq_len,
        segments: None,
        mask: AttentionMask::bidirectional(seq_len, &encoder_padding),
        target_len,
        targets,
        loss_weights,
        corrupted,
        decoder: Some(DecoderBatch {
            inputs: decoder_inputs,
            self_mask: AttentionMask::causal_with_padding(target_len, &decoder_padding),
            cross_mask: CrossMask::from_key_padding(target_len, seq_len, &encoder_padding),
        }),
        query: None,
        pairs: None,
        inputs,
        original_tokens,
        supervised_tokens,
    })
}

/// T5 scoring rows: the continuation is one hidden span after the context, so the encoder
/// reads the context and `[SPAN0]`, and the decoder writes `[SPAN0]`, the continuation and the
/// closing `[SPAN1]`; only the continuation's tokens are scored.
fn scoring_rows(examples: &[ScoringExample], specials: SpecialIds) -> Result<Batch, CoreError> {
    let (open, close) = (specials.first_sentinel, specials.first_sentinel + 1);
    let seq2seq: Vec<Seq2SeqExample> = examples
        .iter()
        .map(|e| {
            let mut input = e.context.clone();
            input.push(open);
            let mut target = vec![open];
            target.extend(&e.continuation);
            target.push(close);
            let corrupted = (0..target.len())
                .map(|t| t >= 1 && t <= e.continuation.len())
                .collect();
            Seq2SeqExample {
                input,
                target,
                corrupted,
            }
        })
        .collect();
    scored_seq2seq(&seq2seq, specials)
}

/// An encoder-decoder scoring batch: only the target positions marked `corrupted` carry a
/// weight (shared by T5 and BART).
pub(crate) fn scored_seq2seq(
    examples: &[Seq2SeqExample],
    specials: SpecialIds,
) -> Result<Batch, CoreError> {
    let seq_len = examples
        .iter()
        .map(|e| e.input.len().max(e.target.len()))
        .max()
        .unwrap_or(0);
    let mut batch = seq2seq_batch(examples, seq_len, specials, 0)?;
    batch.loss_weights = batch.corrupted.clone();
    batch.supervised_tokens = batch.loss_weights.iter().filter(|&&w| w > 0.0).count();
    batch.original_tokens = batch
        .inputs
        .iter()
        .filter(|&&id| !specials.is_special(id))
        .count();
    Ok(batch)
}

/// Tokens of original text among `windows` (no specials): what the budget counts.
pub(crate) fn original_tokens(windows: &[Vec<u32>], specials: SpecialIds) -> usize {
    windows
        .iter()
        .flatten()
        .filter(|&&id| !specials.is_special(id))
        .count()
}

/// Span corruption of windows of the packed stream, as an encoder-decoder batch.
///
/// Each window is corrupted by [`corrupt`]. The encoder reads the corrupted input (kept text
/// and sentinels, shorter than the window, padded to `seq_len`). The decoder writes the T5
/// target — every sentinel and every hidden token — so all of it is scored (`loss_weights` 1,
/// padding 0), but only the hidden span tokens count as corrupted: the sentinels are markers,
/// not text, and no word-frequency baseline can score them (sentinels never occur in the
/// training text), so both sides of that comparison leave them out. Every window has the same
/// length, so every target does too; `target_len` is `noise + spans + 1`, about `seq_len ×
/// noise_density × (1 + 1/mean_span)`: T5's targets are short, which is why the objective is
/// cheap (Raffel et al. 2020, §3.3.4).
pub fn windows_batch(
    windows: &[Vec<u32>],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    span_batch(
        windows,
        &SpanConfig::from_knobs(&shape.knobs),
        shape.seq_len,
        shape.specials,
        rng,
    )
}

/// One span-corruption batch from `windows` (each at most `seq_len` tokens).
fn span_batch(
    windows: &[Vec<u32>],
    config: &SpanConfig,
    seq_len: usize,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let examples = windows
        .iter()
        .map(|window| {
            let SpanCorruption { input, target, .. } = corrupt(window, config, specials, rng)?;
            // The target's non-sentinel tokens are exactly the hidden span tokens.
            let corrupted = target
                .iter()
                .map(|&id| sentinel_index(specials, id).is_none())
                .collect();
            Ok(Seq2SeqExample {
                input,
                target,
                corrupted,
            })
        })
        .collect::<Result<Vec<_>, CoreError>>()?;
    seq2seq_batch(
        &examples,
        seq_len,
        specials,
        original_tokens(windows, specials),
    )
}

#[cfg(test)]
#[path = "span_tests.rs"]
mod tests;

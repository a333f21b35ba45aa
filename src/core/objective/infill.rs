//! Text infilling, BART's denoising objective (Lewis et al. 2020, §2.2; fairseq's
//! `denoising_dataset` with `mask_length = span-poisson`, `replace_length = 1`), as pure
//! functions on token ids ([`corrupt`]), and [`windows_batch`], which turns windows of the
//! packed stream into encoder-decoder batches.
//!
//! Spans of text are hidden, their lengths drawn from a Poisson distribution, and each span —
//! however long, even empty — is replaced by a single `[MASK]`. The encoder sees the corrupted
//! text; the decoder writes out the whole original:
//!
//! ```text
//! original  Thank you for inviting me to your party last week .
//! input     Thank you [MASK] me to your party [MASK] last [MASK] .
//! target    Thank you for inviting me to your party last week .
//! ```
//!
//! (The second `[MASK]` hides nothing: a zero-length span.) Because one `[MASK]` can stand for
//! zero, one or many tokens, the model must also work out how many tokens are missing (§2.2) —
//! unlike BERT, whose every `[MASK]` is exactly one token. Text infilling was the most
//! consistently strong noising in BART's Table 1 (SQuAD 90.8, MNLI 84.0, and the lowest
//! perplexity on XSum, ConvAI2 and CNN/DM).
//!
//! How a sequence of `n` tokens is corrupted: `round(mask_ratio × n)` tokens are hidden (at
//! least one, and at least one left visible). Span lengths are drawn from Poisson(λ) until they
//! add up to that budget, the last one trimmed to land on it exactly (as fairseq does);
//! zero-length draws are kept, each inserting a `[MASK]` where nothing was removed. The spans are
//! then placed, in a random order, uniformly at random with at least one visible token between
//! neighbours, so every span — empty ones too — gets its own `[MASK]` and the record of what each
//! mask hides is exact. (fairseq instead starts each span at an independent random word and lets
//! spans overlap or merge; the lab keeps them apart so the page can show exactly what every
//! `[MASK]` stands for.)
//!
//! The knobs and why their defaults:
//! - `mask_ratio` (0.3): the fraction of tokens hidden. BART's large-scale run masks 30% of the
//!   tokens of each document (§5.1), twice BERT's 15%.
//! - `poisson_lambda` (3.0): the mean span length, λ = 3 in §2.2. About e^−3 ≈ 5% of the spans are
//!   empty.
//!
//! The batch: the encoder reads the corrupted window padded with `[PAD]`; the decoder reads
//! `[BOS]` and the original shifted right and writes the original, every position scored. Since
//! empty spans lengthen the input, windows are a little shorter than `seq_len` when they are
//! common ([`infill_window_len`]).

use serde::{Deserialize, Serialize};

use super::Batch;
use super::scoring::{Decoding, ScoreKind, Scoring, ScoringExample, one_row};
use super::span::{Seq2SeqExample, original_tokens, scored_seq2seq, seq2seq_batch};
use super::spec::{
    BatchShape, Family, Knob, KnobError, ObjectiveKnobs, ObjectiveSpec, Role, TargetSupport,
    TokenRole, WithPairs,
};
use crate::core::config::{Recipe, Recipes, Schedule};
use crate::core::error::CoreError;
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// Longest mean span the lab accepts: longer than its longest sequences, and the Poisson
/// sampler's cost grows with λ.
const MAX_LAMBDA: f64 = 64.0;

/// Span lengths are redrawn this many times when they cannot be kept apart before giving up,
/// so an unlucky draw on a short sequence does not stop a run.
const PLACEMENT_ATTEMPTS: usize = 16;

/// How much of a sequence text infilling hides, and in how long spans.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InfillConfig {
    /// Fraction of the tokens hidden, in (0, 1). Paper: 0.3.
    pub mask_ratio: f64,
    /// Mean span length λ of the Poisson distribution span lengths are drawn from, in (0, 64].
    /// Paper: 3.0.
    pub poisson_lambda: f64,
}

impl Default for InfillConfig {
    fn default() -> Self {
        Self {
            mask_ratio: 0.3,
            poisson_lambda: 3.0,
        }
    }
}

impl InfillConfig {
    /// The corruption the knobs describe.
    pub fn from_knobs(knobs: &ObjectiveKnobs) -> Self {
        Self {
            mask_ratio: knobs.get(&MASK_RATIO),
            poisson_lambda: knobs.get(&POISSON_LAMBDA),
        }
    }

    /// The knobs that describe this corruption.
    pub fn knobs(&self) -> Result<ObjectiveKnobs, KnobError> {
        let mut knobs = ObjectiveKnobs::default();
        knobs.set(&MASK_RATIO, self.mask_ratio)?;
        knobs.set(&POISSON_LAMBDA, self.poisson_lambda)?;
        Ok(knobs)
    }

    /// Checks each knob's range ([`KnobError`] naming it).
    pub fn validate(&self) -> Result<(), CoreError> {
        self.knobs()?;
        Ok(())
    }
}

/// Text infilling's spec: an encoder-decoder over packed windows; with a pair objective,
/// alternate batches (pairs go through the encoder alone).
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "infill",
    title: "text infilling",
    family: Family::Denoising,
    paper: "BART (Lewis et al. 2020) §2.2, Table 1",
    how: "BART text infilling: Poisson(3) spans become one [MASK] each, the decoder rewrites the \
          text",
    role: Role::Tokens(TokenRole {
        architecture: Architecture::EncoderDecoder,
        with_pairs: WithPairs::Alternate {
            how: "alternate batches: denoising, then sentence pairs through the encoder with the \
                  pair head on [CLS]",
        },
        window_len,
        windows_batch,
        check,
        scoring: Scoring {
            kind: ScoreKind::Perplexity,
            protocol: "encoder [EOS] ticket [SEP] [MASK], decoder reconstructing [EOS] ticket \
                       [SEP] resolution; the resolution's tokens scored",
            caveat: Some(
                "one [MASK] stands for the whole reply (up to half the sequence), where \
                 pre-training's spans averaged 3 tokens",
            ),
            rows_per_example: one_row,
            rows: scoring_rows,
            decoding: Decoding::Reconstruct,
        },
    }),
    knobs: &[MASK_RATIO, POISSON_LAMBDA],
    check_knobs,
    support: TargetSupport::TextAndSeparators,
    recipes: RECIPES,
};

/// The rate sweep's choice for text infilling (BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 2e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 3e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
};

/// Fraction of tokens hidden.
pub const MASK_RATIO: Knob = Knob {
    key: "mask_ratio",
    flag: "--mask-ratio",
    label: "BART mask ratio",
    help: "BART text infilling: share of tokens masked",
    default: 0.3,
    min: (0.0, false),
    max: (1.0, false),
    whole: false,
    paper: "BART uses 0.3",
};

/// Mean span length λ.
pub const POISSON_LAMBDA: Knob = Knob {
    key: "poisson_lambda",
    flag: "--poisson-lambda",
    label: "BART span λ",
    help: "BART text infilling: mean span length, Poisson",
    default: 3.0,
    min: (0.0, false),
    max: (MAX_LAMBDA, true),
    whole: false,
    paper: "BART uses λ = 3",
};

/// The corruption must fit the model's positions ([`infill_window_len`]).
fn check_knobs(knobs: &ObjectiveKnobs, seq_len: usize) -> Result<(), KnobError> {
    if seq_len == 0 {
        return Ok(());
    }
    infill_window_len(seq_len, &InfillConfig::from_knobs(knobs))
        .map(|_| ())
        .map_err(|e| KnobError::Combination {
            objective: "infill",
            message: e.to_string(),
        })
}

fn window_len(shape: &BatchShape) -> Result<usize, CoreError> {
    infill_window_len(shape.seq_len, &InfillConfig::from_knobs(&shape.knobs))
}

/// The up-front check: the knobs fit `seq_len`, and no `[MASK]` is in the text.
fn check(stream: &[u32], shape: &BatchShape) -> Result<(), CoreError> {
    window_len(shape)?;
    if let Some(pos) = stream.iter().position(|&id| id == shape.specials.mask) {
        return Err(CoreError::Corpus(format!(
            "text infilling: the text holds [MASK] at token {pos}; [MASK] is the marker, so the \
             text must not contain it"
        )));
    }
    Ok(())
}

/// One corrupted sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Infilling {
    /// What the encoder sees: the original with each span replaced by one `[MASK]`.
    pub input: Vec<u32>,
    /// What the decoder writes: the whole original.
    pub target: Vec<u32>,
    /// The hidden spans as `(start, len)` in the original, in order; `len` may be 0 (the
    /// `[MASK]` was inserted before `start`, or at the end when `start` is the length). The
    /// k-th span is the k-th `[MASK]` of `input`.
    pub spans: Vec<(usize, usize)>,
}

impl Infilling {
    /// Tokens hidden (the sum of the span lengths).
    pub fn masked_tokens(&self) -> usize {
        self.spans.iter().map(|&(_, len)| len).sum()
    }

    /// What each `[MASK]` hides, in order, read from `target` (empty for a zero-length span, and
    /// for a span that lies outside a hand-edited `target`).
    pub fn span_tokens(&self) -> Vec<&[u32]> {
        self.spans
            .iter()
            .map(|&(start, len)| self.target.get(start..start + len).unwrap_or(&[]))
            .collect()
    }
}

/// Hides random spans of `tokens` (see the module doc). The tokens must not contain `[MASK]`.
/// When the drawn spans cannot be kept apart (many empty spans in a short sequence) the lengths
/// are drawn again, up to 16 times, before a [`CoreError::Config`] says what to change.
pub fn corrupt(
    tokens: &[u32],
    config: &InfillConfig,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Infilling, CoreError> {
    config.validate()?;
    let n = tokens.len();
    let masked = (n as f64 * config.mask_ratio).round() as usize;
    if masked == 0 || masked >= n {
        return Err(CoreError::Config(format!(
            "text infilling with mask_ratio {} would hide {masked} of a {n}-token sequence; it \
             needs at least one token to hide and one to keep: use longer sequences or a \
             different mask_ratio",
            config.mask_ratio
        )));
    }
    if let Some(pos) = tokens.iter().position(|&id| id == specials.mask) {
        return Err(CoreError::Corpus(format!(
            "text infilling: the sequence already holds [MASK] at position {pos}; [MASK] is the \
             marker, so the text must not contain it"
        )));
    }
    let visible = n - masked;
    // Neighbouring spans need a visible token between them: at most `visible + 1` spans fit.
    let max_spans = visible + 1;
    let mut lengths = None;
    for _ in 0..PLACEMENT_ATTEMPTS {
        lengths = draw_lengths(masked, max_spans, config.poisson_lambda, rng);
        if lengths.is_some() {
            break;
        }
    }
    let Some(mut lengths) = lengths else {
        return Err(CoreError::Config(format!(
            "text infilling could not place its spans in a {n}-token sequence: hiding {masked} \
             tokens with poisson_lambda {} kept taking more than {max_spans} spans (many of them \
             empty), and spans must be kept apart by the {visible} visible tokens; lower \
             mask_ratio, raise poisson_lambda, or use longer sequences",
            config.poisson_lambda
        )));
    };
    // The trimmed last draw would otherwise always be the last span of the sequence.
    rng.shuffle(&mut lengths);

    // Stars and bars: `visible − (k − 1)` free visible tokens and k spans in a uniformly random
    // order; span i starts after the free tokens before its bar, the one separator each earlier
    // span needs, and the earlier spans themselves, which comes to `bar_i + earlier lengths`.
    let k = lengths.len();
    let bars = choose_sorted(max_spans, k, rng);
    let mut spans = Vec::with_capacity(k);
    let mut earlier = 0;
    for (&bar, &len) in bars.iter().zip(&lengths) {
        spans.push((bar + earlier, len));
        earlier += len;
    }

    let mut input = Vec::with_capacity(visible + k);
    let mut pos = 0;
    for &(start, len) in &spans {
        input.extend_from_slice(&tokens[pos..start]);
        input.push(specials.mask);
        pos = start + len;
    }
    input.extend_from_slice(&tokens[pos..]);
    Ok(Infilling {
        input,
        target: tokens.to_vec(),
        spans,
    })
}

/// The text with the k-th `[MASK]` of `input` replaced by `span_tokens[k]` (possibly empty):
/// the original, given the spans a corruption recorded ([`Infilling::span_tokens`]) or a
/// prediction of them. Refuses a count of spans that differs from the count of masks.
pub fn fill<S: AsRef<[u32]>>(
    input: &[u32],
    span_tokens: &[S],
    specials: SpecialIds,
) -> Result<Vec<u32>, CoreError> {
    let masks = input.iter().filter(|&&id| id == specials.mask).count();
    if masks != span_tokens.len() {
        return Err(CoreError::Corpus(format!(
            "cannot fill the text: it has {masks} [MASK]s but {} spans were given",
            span_tokens.len()
        )));
    }
    let mut spans = span_tokens.iter();
    let mut filled = Vec::with_capacity(input.len());
    for &id in input {
        if id != specials.mask {
            filled.push(id);
        } else if let Some(span) = spans.next() {
            filled.extend_from_slice(span.as_ref());
        }
    }
    Ok(filled)
}

/// Span lengths drawn from Poisson(λ) until they sum to `masked`, the last trimmed to land on
/// it; `None` when that takes more than `max_spans` spans.
fn draw_lengths(masked: usize, max_spans: usize, lambda: f64, rng: &mut Rng) -> Option<Vec<usize>> {
    let mut lengths = Vec::new();
    let mut sum = 0;
    while sum < masked {
        if lengths.len() == max_spans {
            return None;
        }
        let len = poisson(lambda, rng).min(masked - sum);
        lengths.push(len);
        sum += len;
    }
    Some(lengths)
}

/// One Poisson(λ) draw by Knuth's multiplication method: multiply uniforms until the product
/// falls below e^−λ; the number of factors before that is the draw. Exact, and O(λ) per draw,
/// which is cheap for the small λ used here.
fn poisson(lambda: f64, rng: &mut Rng) -> usize {
    let threshold = (-lambda).exp();
    let mut product = rng.next_f64();
    let mut count = 0;
    while product > threshold {
        product *= rng.next_f64();
        count += 1;
    }
    count
}

/// `k` distinct values of `0..m`, uniformly at random, ascending (`k ≤ m`).
fn choose_sorted(m: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..m).collect();
    for i in 0..k.min(m) {
        let j = i + rng.below(m - i);
        slots.swap(i, j);
    }
    slots.truncate(k);
    slots.sort_unstable();
    slots
}

// ── The batcher ────────────────────────────────────────────────────────────────────────────────

/// How many times one window's corruption is drawn before a batch gives up on fitting it.
/// At [`infill_window_len`]'s length a draw overflows rarely (0.25% of windows at λ = 1 and
/// `seq_len` 64, none in 20,000 at the paper's settings), so 64 tries never run out in practice.
const FIT_ATTEMPTS: usize = 64;

/// How many tokens of the packed stream make one BART window for a model of `seq_len`
/// positions, so that the corrupted input nearly always fits.
///
/// The decoder writes the whole window, so it must hold at most `seq_len` tokens; the encoder
/// reads the window with each span replaced by one `[MASK]`, `n − masked + spans` tokens, which
/// exceeds `n` when the spans outnumber the hidden tokens (many empty spans: a small
/// `poisson_lambda`). With Poisson(λ) lengths drawn until they cover `masked` tokens, the number
/// of spans is about `masked / λ + 1` with standard deviation about `√masked / λ` (renewal
/// counting), and never more than `n − masked + 1`, the most that visible text can keep apart.
/// The window is the longest `n ≤ seq_len` whose input, at that mean plus three standard
/// deviations, fits `seq_len`, and whose mean span count can be kept apart (otherwise [`corrupt`]
/// would keep failing). At the paper's settings (30%, λ = 3) that is `seq_len` itself: the
/// input is shorter than the window. A window whose input still does not fit is corrupted
/// again ([`windows_batch`]).
///
/// Errors when no length from 2 up works: `poisson_lambda` too small for `mask_ratio` (about
/// `λ < mask_ratio / (1 − mask_ratio)`: more spans than visible tokens to keep them apart), or
/// `seq_len` too short.
pub fn infill_window_len(seq_len: usize, config: &InfillConfig) -> Result<usize, CoreError> {
    config.validate()?;
    let lambda = config.poisson_lambda;
    (2..=seq_len)
        .rev()
        .find(|&n| {
            let masked = (n as f64 * config.mask_ratio).round() as usize;
            if masked == 0 || masked >= n {
                return false;
            }
            let visible = n - masked;
            let mean_spans = masked as f64 / lambda + 1.0;
            let likely_spans = (mean_spans + 3.0 * (masked as f64).sqrt() / lambda).ceil() as usize;
            mean_spans <= (visible + 1) as f64 && visible + likely_spans.min(visible + 1) <= seq_len
        })
        .ok_or_else(|| {
            CoreError::Config(format!(
                "text infilling with mask_ratio {} and poisson_lambda {} cannot fit a corrupted \
                 sequence into {seq_len} positions: it needs at least one token hidden and one \
                 kept, and every span, even an empty one, adds a [MASK] that visible text must \
                 keep apart from the next; raise poisson_lambda, lower mask_ratio or use longer \
                 sequences",
                config.mask_ratio, config.poisson_lambda
            ))
        })
}

/// Text infilling of windows of the packed stream, as an encoder-decoder batch.
///
/// Each window ([`infill_window_len`] tokens, `seq_len` at the paper's settings) is corrupted
/// by [`corrupt`]. The encoder reads the corrupted text padded with `[PAD]`; the decoder reads
/// `[BOS]` and the window shifted right and writes the whole window, every position scored,
/// because BART reconstructs the entire original (Lewis et al. 2020, §2.2) — copying the
/// visible text is part of its task. Only the hidden span tokens count as corrupted, the
/// positions where the model had to recover something it could not read.
///
/// The input can be longer than the window when empty spans add `[MASK]`s. If a window's input
/// does not fit `seq_len`, its corruption is drawn again from the generator (which has moved
/// on, so the redraw is fresh but still fixed by the seed), up to 64 times before a
/// [`CoreError::Config`]; the shorter window keeps that rare.
pub fn windows_batch(
    windows: &[Vec<u32>],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    infill_batch(
        windows,
        &InfillConfig::from_knobs(&shape.knobs),
        shape.seq_len,
        shape.specials,
        rng,
    )
}

/// BART scoring rows: the continuation is one span hidden behind a single `[MASK]` after the
/// context; the decoder reconstructs context and continuation, and only the continuation's
/// tokens are scored.
fn scoring_rows(examples: &[ScoringExample], specials: SpecialIds) -> Result<Batch, CoreError> {
    let seq2seq: Vec<Seq2SeqExample> = examples
        .iter()
        .map(|e| {
            let mut input = e.context.clone();
            input.push(specials.mask);
            let target: Vec<u32> = e.context.iter().chain(&e.continuation).copied().collect();
            let corrupted = (0..target.len()).map(|t| t >= e.context.len()).collect();
            Seq2SeqExample {
                input,
                target,
                corrupted,
            }
        })
        .collect();
    scored_seq2seq(&seq2seq, specials)
}

/// One text-infilling batch from `windows` (each at most `seq_len` tokens).
fn infill_batch(
    windows: &[Vec<u32>],
    config: &InfillConfig,
    seq_len: usize,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let examples = windows
        .iter()
        .map(|window| {
            let infilling = corrupt_to_fit(window, config, seq_len, specials, rng)?;
            let mut corrupted = vec![false; window.len()];
            for &(start, len) in &infilling.spans {
                corrupted[start..start + len].fill(true);
            }
            Ok(Seq2SeqExample {
                input: infilling.input,
                target: infilling.target,
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

/// [`corrupt`], drawn again until the input fits `seq_len` (see [`InfillBatcher`]).
fn corrupt_to_fit(
    window: &[u32],
    config: &InfillConfig,
    seq_len: usize,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Infilling, CoreError> {
    let mut longest = 0;
    for _ in 0..FIT_ATTEMPTS {
        let infilling = corrupt(window, config, specials, rng)?;
        if infilling.input.len() <= seq_len {
            return Ok(infilling);
        }
        longest = longest.max(infilling.input.len());
    }
    Err(CoreError::Config(format!(
        "text infilling of a {}-token window kept making inputs longer than {seq_len} positions \
         (up to {longest}: too many empty spans); raise poisson_lambda or lower mask_ratio",
        window.len()
    )))
}

#[cfg(test)]
#[path = "infill_tests.rs"]
mod tests;

//! The corruption strip: one example of a batch read back as original text → what the model
//! sees → what it must predict, every position marked with what the objective did to it.
//!
//! Each objective's corruption is read from the batch it made, not drawn again:
//! - **MLM** (BERT §3.1): `[MASK]` / random / kept-but-scored from inputs, targets, loss weights
//!   and the corrupted flags (a corrupted position showing `[MASK]` is masked, any other
//!   corrupted one random; scored and not corrupted is BERT's unchanged 10%).
//! - **CLM** (GPT): nothing is hidden; each position's target is the next token.
//! - **T5** (Raffel et al. 2020 §3.1.4): the original is the input with each sentinel replaced by
//!   what follows it in the target ([`crate::core::objective::span::reconstruct`]).
//! - **BART** (Lewis et al. 2020 §2.2): the decoder's target is the original; a `[MASK]` whose
//!   next original token is flagged corrupted stands for that run of corrupted tokens, any other
//!   `[MASK]` for an empty span (the batcher keeps spans apart by a visible token, so this
//!   reading is exact).
//! - **XLNet** (Yang et al. 2019 §2.3): a position's rank in the factorisation order is the
//!   number of keys its query row reads (it reads exactly what precedes it); targets are
//!   numbered in that order, the other text tokens share one "context" rank, as XLNet's
//!   `_local_perm` treats them.
//! - **NSP/SOP** (BERT §3.1; ALBERT §3.1): segments A/B and the pair label.
//!
//! The strip is animated in [`Frame`]s: the original, then each corruption step, then the
//! predictions. A token names the frame at which it takes its corrupted state and the frame at
//! which its prediction appears, so the shell draws frame `i` by comparing.

use serde::{Deserialize, Serialize};

mod denoising;
mod look;
mod picture;
mod rows;

pub use look::{ChipLook, StripLine};
pub use picture::{PlacedChip, PlacedRow, PlacedText, StripPicture};

use super::trace::slice;
use super::{TokenLabel, TokenText};
use crate::core::error::CoreError;
use crate::core::mix::Objective;
use crate::core::objective::Batch;
use crate::core::plan::BatchKind;
use rows::{Builder, Row};

/// What happened to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Ordinary text, shown as it was.
    Text,
    /// A structural token (`[CLS]`, `[SEP]`, `[EOS]`, `[BOS]`).
    Special,
    /// MLM: replaced by `[MASK]`.
    Masked,
    /// MLM: replaced by a random token.
    Random,
    /// MLM: left as it was but still predicted (BERT's 10%).
    KeptScored,
    /// T5/BART, original row: hidden from the encoder inside a span.
    Dropped,
    /// T5: a span's sentinel (in the input, and opening the span in the target).
    Sentinel,
    /// BART: the one `[MASK]` standing for a span, however long (empty included).
    SpanMask,
    /// T5/BART, target row: a hidden token the decoder must restore.
    Restored,
    /// XLNet: not predicted; every context token shares one lowest rank.
    Context,
    /// XLNet: predicted, at its place in the factorisation order.
    Target,
}

/// One token of a strip row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StripToken {
    pub id: u32,
    pub text: String,
    pub state: TokenState,
    /// Positions of the original row this token stands for: itself for a kept token, a whole
    /// span for a sentinel or BART's `[MASK]` (none for an empty span), nothing for T5's
    /// target sentinels. On the original row, the token's own position.
    pub source: Vec<usize>,
    /// The hidden span the token belongs to or stands for (T5, BART).
    pub span: Option<usize>,
    /// 0 for segment A, 1 for B (sentence pairs).
    pub segment: Option<u32>,
    /// Whether the loss scores this position (on the original row: a token the model must
    /// recover).
    pub supervised: bool,
    /// What this position must predict, when scored.
    pub target: Option<TokenLabel>,
    /// XLNet: 1 for the first target of the order, 2 for the next, …
    pub prediction_order: Option<usize>,
    /// The frame at which the token takes its state (before it, draw it as in the original).
    pub corrupt_frame: Option<usize>,
    /// The frame at which its prediction is shown.
    pub predict_frame: Option<usize>,
}

/// Which part of the animation a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Original,
    Corrupt,
    Predict,
}

/// One step of the animation, with what the page says under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub phase: Phase,
    pub caption: String,
}

/// The sentence-pair side of an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairStrip {
    pub task: Objective,
    /// 1 = B is A's true next segment, in order.
    pub label: u32,
    /// The label in words ("B comes from another document").
    pub verdict: String,
    /// The position the pair head reads (its `[CLS]`).
    pub head: usize,
    pub pack_frame: usize,
    pub predict_frame: usize,
}

/// One example's corruption strip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strip {
    pub example: usize,
    /// The token objective scored on this batch (`None`: the pair head alone).
    pub objective: Option<Objective>,
    pub pair: Option<PairStrip>,
    /// The text before corruption.
    pub original: Vec<StripToken>,
    /// What the model (an encoder-decoder's encoder) reads, position by position; index `i` is
    /// row and column `i` of its matrices.
    pub seen: Vec<StripToken>,
    /// What an encoder-decoder's decoder writes, position by position (empty otherwise);
    /// index `t` is decoder row `t`.
    pub written: Vec<StripToken>,
    /// Padding after `seen` (the matrices have these positions, the strip leaves them out).
    pub padding: usize,
    /// Positions the loss scores in this sequence.
    pub supervised: usize,
    pub frames: Vec<Frame>,
}

/// The strip of example `example` of `batch`, a batch of `kind`.
///
/// Errors when the example is not in the batch, when the batch lacks what its objective needs
/// (XLNet's query mask), or when its corruption cannot be read back (a hand-edited batch).
pub fn strip(
    batch: &Batch,
    kind: BatchKind,
    example: usize,
    text: &impl TokenText,
) -> Result<Strip, CoreError> {
    if example >= batch.batch_size {
        return Err(CoreError::Picture(format!(
            "example {example} asked of a batch of {}",
            batch.batch_size
        )));
    }
    let specials = text.specials();
    let (s, t) = (batch.seq_len, batch.target_len);
    let inputs = slice(&batch.inputs, example, s, "inputs")?;
    let len = inputs
        .iter()
        .rposition(|&id| id != specials.pad)
        .map_or(0, |p| p + 1);
    let row = Row {
        inputs: inputs[..len].to_vec(),
        targets: slice(&batch.targets, example, t, "targets")?,
        weights: slice(&batch.loss_weights, example, t, "loss weights")?,
        corrupted: slice(&batch.corrupted, example, t, "corrupted flags")?,
        specials,
    };
    let mut b = Builder {
        text,
        specials,
        frames: vec![Frame {
            phase: Phase::Original,
            caption: "the original text".into(),
        }],
    };
    let pair = match (kind.pairs, &batch.pairs) {
        (Some(task), Some(p)) => {
            let label = slice(&p.labels, example, 1, "pair labels")?[0];
            let head = slice(&p.heads, example, 1, "pair heads")?[0] as usize;
            let verdict = verdict(task, label);
            let pack_frame = b.frame(
                Phase::Corrupt,
                format!("pack [CLS] A [SEP] B [SEP] as segments A and B: {verdict}"),
            );
            Some((task, label, verdict, head, pack_frame))
        }
        _ => None,
    };
    let (original, mut seen, written) = match kind.tokens {
        None => b.unchanged(&row),
        Some(Objective::Mlm) => b.mlm(&row),
        Some(Objective::Clm) => b.clm(&row),
        Some(Objective::Plm) => {
            let q = batch.query.as_ref().ok_or_else(|| {
                CoreError::Picture("a permuted-LM batch without its query stream".into())
            })?;
            let mask = slice(&q.mask.blocked, example, s * s, "query mask")?;
            b.plm(&row, &mask, s)
        }
        Some(Objective::Span) => b.span(&row)?,
        Some(Objective::Infill) => b.infill(&row)?,
        Some(other) => {
            return Err(CoreError::Picture(format!(
                "{other} predicts no tokens; it is a batch's pair objective"
            )));
        }
    };
    let pair = match pair {
        Some((task, label, verdict, head, pack_frame)) => {
            let segments = batch
                .segments
                .as_ref()
                .map(|seg| slice(seg, example, s, "segments"))
                .transpose()?;
            for (i, token) in seen.iter_mut().enumerate() {
                token.segment = segments.as_ref().and_then(|seg| seg.get(i).copied());
            }
            let predict_frame = b.frame(
                Phase::Predict,
                format!("the pair head reads position {head} ([CLS]) and judges: {verdict}"),
            );
            Some(PairStrip {
                task,
                label,
                verdict,
                head,
                pack_frame,
                predict_frame,
            })
        }
        None => None,
    };
    Ok(Strip {
        example,
        objective: kind.tokens,
        pair,
        original,
        seen,
        written,
        padding: s - len,
        supervised: row.weights.iter().filter(|&&w| w > 0.0).count(),
        frames: b.frames,
    })
}

fn verdict(task: Objective, label: u32) -> String {
    match (task, label) {
        (Objective::Sop, 1) => "A then B, in their order (label 1)",
        (Objective::Sop, _) => "B and A swapped (label 0)",
        (_, 1) => "B is A's next segment (label 1)",
        _ => "B comes from another document (label 0)",
    }
    .to_string()
}

#[cfg(test)]
mod tests;

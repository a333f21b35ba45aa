//! How a token objective scores a continuation given its context: the protocol behind the
//! evaluation's conditional perplexity (`gen_ppl`) and masked LM's pseudo-perplexity
//! (`gen_pppl`). Each objective fills a [`Scoring`] in its own file, so every model is scored
//! the way it pre-trained — a decoder left to right, T5 through one sentinel, BART
//! reconstructing, XLNet in natural order, BERT one `[MASK]` at a time (Salazar et al. 2020) —
//! and on exactly the same tokens: the continuation's, never the context, separators or
//! sentinels. The evaluation ([`crate::core::eval`]) cuts the examples to fit and reads the
//! losses back; the rows here are plain data like every other batch.
//!
//! The same table names how each objective *writes* a reply ([`Decoding`]): the loops live in
//! [`crate::core::eval::replies`], which builds every step's rows in the layout scored here.

use super::{Batch, QueryBatch};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
use crate::core::objective::plm::{PositionRole, two_stream_masks_for};
use crate::core::tokenizer::SpecialIds;
use serde::{Deserialize, Serialize};

/// One scored example: the context as the packed stream holds it (for a ticket,
/// `[EOS] ticket [SEP]`: where the previous document ended, the ticket, the separator before
/// its reply) and the continuation whose tokens are scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringExample {
    pub context: Vec<u32>,
    pub continuation: Vec<u32>,
}

impl ScoringExample {
    /// Cuts the example to fit `seq_len` positions under every protocol: the continuation keeps
    /// its first `seq_len / 2` tokens, the context its last `seq_len − 1 − continuation`
    /// (one position stays free for a sentinel or `[MASK]`). `None` when nothing is left of
    /// either side.
    pub fn fitted(context: &[u32], continuation: &[u32], seq_len: usize) -> Option<Self> {
        let r = continuation.len().min(seq_len / 2);
        let c = context.len().min(seq_len.saturating_sub(1 + r));
        (r > 0 && c > 0).then(|| Self {
            context: context[context.len() - c..].to_vec(),
            continuation: continuation[..r].to_vec(),
        })
    }
}

/// Whether a protocol's figure is a perplexity or a pseudo-perplexity. The two are never
/// ranked against each other: a pseudo-perplexity scores each token with the rest of the reply
/// visible on both sides, so it comes out far lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    Perplexity,
    PseudoPerplexity,
}

/// How a token objective writes a continuation: its natural decoding, one new token per
/// forward pass, in the input layout its scoring protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoding {
    /// A decoder (CLM): the next token after the context and what is written so far.
    LeftToRight,
    /// An encoder (MLM): the context then one `[MASK]` per reply position, filled left to right,
    /// one position per pass (the sequential generation of Wang & Cho 2019, "BERT has a Mouth,
    /// and It Must Speak").
    MaskFilling,
    /// T5: the encoder reads the context and `[SPAN0]`; the decoder starts `[BOS] [SPAN0]` and
    /// writes the hidden span until a sentinel closes it.
    Sentinel,
    /// BART: the encoder reads the context and one `[MASK]`; the decoder is forced through the
    /// context (it reconstructs its input) and then writes what the `[MASK]` hid.
    Reconstruct,
    /// XLNet: one position appended at a time, predicted by its query stream from the
    /// context (read both ways) and the reply before it, never its own content.
    NaturalOrder,
}

/// Longest reply a left-to-right writer may write, its window sliding over the ticket as it
/// goes: resolutions run 28–72 words (~35–90 tokens) and state the action in their third
/// sentence, past half of any window the lab trains.
pub const LONG_REPLY_TOKENS: usize = 96;

impl Decoding {
    pub const ALL: [Decoding; 5] = [
        Decoding::LeftToRight,
        Decoding::MaskFilling,
        Decoding::Sentinel,
        Decoding::Reconstruct,
        Decoding::NaturalOrder,
    ];

    /// The most tokens a reply may have in a model of `seq_len` positions: a left-to-right
    /// writer slides its window ([`LONG_REPLY_TOKENS`]); every other decoding holds the ticket
    /// and the whole reply in one window, half of it each.
    pub fn reply_cap(self, seq_len: usize) -> usize {
        match self {
            Decoding::LeftToRight => LONG_REPLY_TOKENS,
            _ => seq_len / 2,
        }
    }

    /// The shortest bound any decoding has at `seq_len`: every writer's replies cut to it are
    /// the same kind of number, whichever objective wrote them (half the window at the sizes
    /// the lab trains). A reply's first tokens are what the writer would have written with this
    /// bound — the context is cut to the same room under every bound, and a sliding window
    /// first slides past half the window — except for mask filling, whose later `[MASK]`s are
    /// in view; mask filling's bound is never longer than this one at the lab's sizes.
    pub fn common_reply_cap(seq_len: usize) -> usize {
        Self::ALL
            .iter()
            .map(|d| d.reply_cap(seq_len))
            .min()
            .unwrap_or(seq_len / 2)
    }

    pub fn name(self) -> &'static str {
        match self {
            Decoding::LeftToRight => "left_to_right",
            Decoding::MaskFilling => "mask_filling",
            Decoding::Sentinel => "sentinel",
            Decoding::Reconstruct => "reconstruct",
            Decoding::NaturalOrder => "natural_order",
        }
    }

    /// The decoding in one line, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Decoding::LeftToRight => "left to right after [EOS] ticket [SEP], until [EOS] or [SEP]",
            Decoding::MaskFilling => {
                "[EOS] ticket [SEP] then a [MASK] per reply position, filled left to right one \
                 per pass, until [EOS] or [SEP] is predicted"
            }
            Decoding::Sentinel => {
                "encoder [EOS] ticket [SEP] [SPAN0]; decoder [BOS] [SPAN0] writes until a \
                 sentinel, [EOS] or [SEP]"
            }
            Decoding::Reconstruct => {
                "encoder [EOS] ticket [SEP] [MASK]; decoder forced through [EOS] ticket [SEP], \
                 then writes until [EOS] or [SEP]"
            }
            Decoding::NaturalOrder => {
                "[EOS] ticket [SEP] as the shared context, one position appended per pass and \
                 predicted by its query stream, until [EOS] or [SEP]"
            }
        }
    }
}

/// Builds the rows that score `examples`, given the tokenizer's specials.
pub type ScoringRows = fn(&[ScoringExample], SpecialIds) -> Result<Batch, CoreError>;

/// An objective's scoring protocol.
#[derive(Clone, Copy)]
pub struct Scoring {
    pub kind: ScoreKind,
    /// The protocol in one line (`gen_ppl_protocol`).
    pub protocol: &'static str,
    /// Where the protocol asks the model for something its pre-training never showed it.
    pub caveat: Option<&'static str>,
    /// Rows per example in one batch of [`Scoring::rows`] (MLM spends one per scored token).
    pub rows_per_example: fn(&ScoringExample) -> usize,
    pub rows: ScoringRows,
    /// How the objective writes a reply (the evaluation's generated replies).
    pub decoding: Decoding,
}

/// One row per example.
pub fn one_row(_: &ScoringExample) -> usize {
    1
}

/// A plain scoring batch on one stack: each row's ids, targets and weights (unpadded, equal
/// lengths per row), right-padded with `[PAD]` to the longest row, under `mask_for`.
pub(crate) fn stack_rows(
    rows: Vec<(Vec<u32>, Vec<u32>, Vec<f32>)>,
    specials: SpecialIds,
    mask_for: fn(usize, &[bool]) -> AttentionMask,
) -> Result<Batch, CoreError> {
    let seq_len = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    if seq_len == 0 {
        return Err(CoreError::Config("nothing to score".into()));
    }
    let batch_size = rows.len();
    let mut inputs = Vec::with_capacity(batch_size * seq_len);
    let mut targets = Vec::with_capacity(batch_size * seq_len);
    let mut weights = Vec::with_capacity(batch_size * seq_len);
    let mut padding = Vec::with_capacity(batch_size * seq_len);
    for (ids, tgt, w) in rows {
        let n = ids.len();
        padding.extend((0..seq_len).map(|p| p >= n));
        inputs.extend(ids);
        inputs.resize(padding.len(), specials.pad);
        targets.extend(tgt);
        targets.resize(padding.len(), specials.pad);
        weights.extend(w);
        weights.resize(padding.len(), 0.0);
    }
    Ok(scoring_batch(
        batch_size,
        seq_len,
        inputs,
        targets,
        weights,
        mask_for(seq_len, &padding),
        specials,
    ))
}

/// A batch whose loss weights are exactly the scored positions.
pub(crate) fn scoring_batch(
    batch_size: usize,
    seq_len: usize,
    inputs: Vec<u32>,
    targets: Vec<u32>,
    weights: Vec<f32>,
    mask: AttentionMask,
    specials: SpecialIds,
) -> Batch {
    let original_tokens = inputs
        .iter()
        .filter(|&&id| !specials.is_special(id))
        .count();
    Batch {
        batch_size,
        seq_len,
        segments: None,
        mask,
        target_len: seq_len,
        supervised_tokens: weights.iter().filter(|&&w| w > 0.0).count(),
        corrupted: weights.clone(),
        loss_weights: weights,
        targets,
        inputs,
        decoder: None,
        query: None,
        pairs: None,
        original_tokens,
    }
}

/// XLNet-style rows in natural order: the context is the shared context (one lowest rank,
/// read both ways, as in pre-training), each continuation token a target in left-to-right
/// order, so its query stream reads the context and the continuation before it, never itself.
pub(crate) fn natural_order_rows(
    examples: &[ScoringExample],
    specials: SpecialIds,
) -> Result<Batch, CoreError> {
    let seq_len = examples
        .iter()
        .map(|e| e.context.len() + e.continuation.len())
        .max()
        .unwrap_or(0);
    if seq_len == 0 || examples.iter().any(|e| e.context.is_empty()) {
        return Err(CoreError::Config(
            "natural-order scoring needs a context before every continuation".into(),
        ));
    }
    let mut inputs = Vec::with_capacity(examples.len() * seq_len);
    let mut weights = Vec::with_capacity(examples.len() * seq_len);
    let mut roles = Vec::with_capacity(examples.len());
    for e in examples {
        let (c, r) = (e.context.len(), e.continuation.len());
        inputs.extend(&e.context);
        inputs.extend(&e.continuation);
        inputs.resize(inputs.len() + seq_len - c - r, specials.pad);
        weights.extend((0..seq_len).map(|p| if p >= c && p < c + r { 1.0 } else { 0.0 }));
        roles.push(
            (0..seq_len)
                .map(|p| match p {
                    p if p < c => PositionRole::Context,
                    p if p < c + r => PositionRole::Target,
                    _ => PositionRole::Pad,
                })
                .collect::<Vec<_>>(),
        );
    }
    let orders = vec![(0..seq_len).collect::<Vec<_>>(); examples.len()];
    let masks = two_stream_masks_for(&orders, &roles);
    let mut batch = scoring_batch(
        examples.len(),
        seq_len,
        inputs.clone(),
        inputs,
        weights,
        masks.content,
        specials,
    );
    batch.query = Some(QueryBatch {
        mask: masks.query,
        row_valid: masks
            .query_row_valid
            .iter()
            .map(|&v| if v { 1.0 } else { 0.0 })
            .collect(),
    });
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::objective::Objective;

    fn specials() -> SpecialIds {
        SpecialIds::fixed()
    }

    /// Two examples of different lengths, ids far from the specials.
    fn examples() -> Vec<ScoringExample> {
        let s = specials();
        vec![
            ScoringExample {
                context: vec![s.eos, 100, 101, 102, s.sep],
                continuation: vec![200, 201, 202],
            },
            ScoringExample {
                context: vec![110, s.sep],
                continuation: vec![210, 211, 212, 213, 214],
            },
        ]
    }

    /// The (row, target) pairs carrying a weight, as ids, per example in row order.
    fn scored_targets(batch: &Batch, rows_per: &[usize]) -> Vec<Vec<u32>> {
        let t = batch.target_len;
        let mut row = 0;
        rows_per
            .iter()
            .map(|&n| {
                let mut ids = Vec::new();
                for r in row..row + n {
                    for p in r * t..(r + 1) * t {
                        if batch.loss_weights[p] > 0.0 {
                            ids.push(batch.targets[p]);
                        }
                    }
                }
                row += n;
                ids
            })
            .collect()
    }

    #[test]
    fn every_protocol_scores_exactly_the_continuation_tokens() {
        let examples = examples();
        for objective in Objective::ALL {
            let Some(role) = objective.spec().tokens() else {
                continue;
            };
            let scoring = role.scoring;
            let rows_per: Vec<usize> = examples.iter().map(scoring.rows_per_example).collect();
            let batch = (scoring.rows)(&examples, specials()).expect("rows");
            assert_eq!(
                batch.batch_size,
                rows_per.iter().sum::<usize>(),
                "{objective}"
            );
            let scored = scored_targets(&batch, &rows_per);
            for (e, got) in examples.iter().zip(&scored) {
                assert_eq!(
                    got, &e.continuation,
                    "{objective} scores the continuation only"
                );
            }
            assert_eq!(
                batch.supervised_tokens,
                examples.iter().map(|e| e.continuation.len()).sum::<usize>(),
                "{objective}"
            );
            assert_eq!(batch.mask.empty_rows(), 0, "{objective}");
        }
    }

    #[test]
    fn no_protocol_shows_a_scored_token_to_its_own_prediction() {
        let s = specials();
        let examples = examples();
        for objective in Objective::ALL {
            let Some(role) = objective.spec().tokens() else {
                continue;
            };
            let batch = (role.scoring.rows)(&examples, s).expect("rows");
            let (b, n, t) = (batch.batch_size, batch.seq_len, batch.target_len);
            for row in 0..b {
                for p in 0..t {
                    if batch.loss_weights[row * t + p] == 0.0 {
                        continue;
                    }
                    let target = batch.targets[row * t + p];
                    match (&batch.decoder, &batch.query) {
                        // Encoder-decoder: the encoder never holds the continuation, and the
                        // decoder reads only the targets before p.
                        (Some(d), _) => {
                            let input = &batch.inputs[row * n..(row + 1) * n];
                            assert!(!input.contains(&target), "{objective}: encoder sees it");
                            assert_eq!(
                                d.inputs[row * t + p],
                                if p == 0 {
                                    s.bos
                                } else {
                                    batch.targets[row * t + p - 1]
                                }
                            );
                        }
                        // Two streams: the query row of p never reads p, and reads only
                        // context and earlier positions.
                        (None, Some(q)) => {
                            assert!(q.mask.is_blocked(row, p, p), "{objective}");
                            for k in p + 1..n {
                                assert!(q.mask.is_blocked(row, p, k), "{objective}");
                            }
                            assert!(q.row_valid[row * n + p] > 0.0);
                        }
                        (None, None) => {
                            let input = &batch.inputs[row * n..(row + 1) * n];
                            if objective == Objective::Mlm {
                                assert_eq!(input[p], s.mask, "the scored token is masked");
                            } else {
                                // Causal: position p predicts p + 1 and reads nothing after p.
                                for k in p + 1..n {
                                    assert!(batch.mask.is_blocked(row, p, k), "{objective}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_common_bound_is_the_shortest_any_writer_has() {
        assert_eq!(Decoding::common_reply_cap(32), 16);
        assert_eq!(Decoding::common_reply_cap(64), 32);
        assert_eq!(Decoding::LeftToRight.reply_cap(32), LONG_REPLY_TOKENS);
        // A window wider than two long replies: the sliding writer's bound is the shorter.
        assert_eq!(Decoding::common_reply_cap(256), LONG_REPLY_TOKENS);
        for seq_len in [8, 32, 64, 256] {
            for d in Decoding::ALL {
                assert!(Decoding::common_reply_cap(seq_len) <= d.reply_cap(seq_len));
            }
        }
    }

    #[test]
    fn fitting_keeps_the_reply_start_and_the_context_end() {
        let ctx: Vec<u32> = (100..140).collect();
        let cont: Vec<u32> = (200..240).collect();
        let e = ScoringExample::fitted(&ctx, &cont, 32).expect("fits");
        assert_eq!(e.continuation, (200..216).collect::<Vec<_>>());
        assert_eq!(e.context, (125..140).collect::<Vec<_>>());
        assert_eq!(e.context.len() + e.continuation.len(), 31);
        let short = ScoringExample::fitted(&[1, 2], &[3], 32).expect("fits");
        assert_eq!((short.context, short.continuation), (vec![1, 2], vec![3]));
        assert!(ScoringExample::fitted(&[], &[3], 32).is_none());
        assert!(ScoringExample::fitted(&[1], &[], 32).is_none());
    }
}

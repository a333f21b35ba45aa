//! Permuted language modelling (XLNet; Yang et al. 2019, §2.2–2.3), the data side:
//! factorisation orders, which positions are predicted, and the two attention masks of
//! two-stream self-attention, as pure functions of sizes, orders and padding (no tensors, no
//! model); and [`windows_batch`], which builds batches of them from windows of the packed stream
//! (and, with a sentence-pair task, from packed pairs).
//!
//! - **Factorisation orders (§2.2).** A left-to-right model factorises `p(x)` in one fixed
//!   order. XLNet samples a random order `z` (a permutation of the positions) per sequence and
//!   maximises `E_z[Σ_t log p(x_{z_t} | x_{z_<t})]`. Across orders every position is conditioned
//!   on context from both sides, yet the input never contains `[MASK]` and the targets are
//!   predicted one after another, each conditioned on the earlier ones. **Tokens never move:**
//!   position `i` keeps its token and its position embedding, only the masks follow the order,
//!   and the target at a position is its own token (no shift), hidden from it by the masks.
//! - **Partial prediction (§2.3).** The first positions of an order have almost no context, so
//!   predicting them is hard and slows training. XLNet predicts only the last `1/K` of each
//!   order (the targets, with the longest context) and uses the rest as context only; `K = 6`
//!   is the setting in the paper's ablation (Table 6). See [`predicted`] for the exact count.
//! - **Two-stream self-attention (§2.3, Figure 2).** With a random order, a position's
//!   representation must know *which* position it predicts (otherwise it gives the same
//!   distribution for every position still to come) but must not see that position's
//!   *content* (otherwise predicting it is copying). One stream cannot do both, so XLNet runs
//!   two with shared weights: the **content stream** `h_i`, an ordinary representation that
//!   sees itself and everything earlier in the order (`rank(j) ≤ rank(i)`), and the **query
//!   stream** `g_i`, which starts from a learned vector `w`, knows position `i` only through
//!   its position encoding, and reads only the content of strictly earlier positions
//!   (`rank(j) < rank(i)`). The LM head reads `g_i` at the predicted positions.
//!
//! - **Context and targets (the reference implementation).** Only the targets are factorised
//!   one after another. XLNet's released code (`_local_perm` in `data_utils.py`) gives every
//!   non-target, non-functional token — the *context* — one shared lowest rank: context tokens
//!   read one another in both directions (and never a target or a functional token), every
//!   target reads all of the context and the targets before it, and a functional token
//!   (`[SEP]`, `[CLS]`, and here `[EOS]`) keeps its place in the order. So from the second layer
//!   on, the context a target reads is built from the whole context, not from whatever part of
//!   it came earlier in a random order. The query stream is the same either way (targets come
//!   after all the context). [`two_stream_masks_for`] builds exactly this; with every position a
//!   target it is the plain order of §2.2 ([`two_stream_masks`]).

use serde::{Deserialize, Serialize};

use super::coherence::{PackedPair, PairLayout};
use super::scoring::{Decoding, ScoreKind, Scoring, natural_order_rows, one_row};
use super::spec::{
    BatchShape, Family, Knob, KnobError, ObjectiveKnobs, ObjectiveSpec, Role, TargetSupport,
    TokenRole, WithPairs,
};
use super::{Batch, PairBatch, QueryBatch};
use crate::core::config::{Recipe, Recipes, Schedule};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// The one knob of permuted LM (default: the paper's `K = 6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlmConfig {
    /// Partial-prediction constant: about `1/K` of each order is predicted (at least one
    /// position). `K = 1` predicts every position.
    pub k: usize,
}

impl Default for PlmConfig {
    fn default() -> Self {
        Self { k: 6 }
    }
}

impl PlmConfig {
    /// The knob as set.
    pub fn from_knobs(knobs: &ObjectiveKnobs) -> Self {
        Self {
            k: knobs.get(&PLM_K) as usize,
        }
    }

    /// Checks the knob: a whole `k ≥ 1` ([`KnobError`] naming it).
    pub fn validate(&self) -> Result<(), CoreError> {
        PLM_K.check(self.k as f64)?;
        Ok(())
    }
}

/// Permuted LM's spec: the two-stream network over packed windows; with a pair objective, the
/// pair packed as `A [SEP] B [SEP] [CLS]` with `[CLS]` last in every order.
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "plm",
    title: "permuted LM",
    family: Family::PermutedLm,
    paper: "XLNet (Yang et al. 2019) §2.2–2.3, Table 6",
    how: "one factorisation order per sequence, the last 1/K predicted by the query stream",
    role: Role::Tokens(TokenRole {
        architecture: Architecture::TwoStream,
        with_pairs: WithPairs::SameBatch {
            layout: PairLayout::ClsLast,
            rows: pair_rows,
            how: "one batch: PLM on the packed pair with [CLS] last in every order, the pair head \
                  on [CLS]",
        },
        window_len: full_window,
        windows_batch,
        check,
        scoring: Scoring {
            kind: ScoreKind::Perplexity,
            protocol: "natural order: [EOS] ticket [SEP] as the shared context, the resolution's \
                       tokens predicted left to right by the query stream",
            caveat: Some(
                "pre-training predicted the last sixth of a random order; scoring asks for \
                 every reply token in natural order, an order it saw only by chance",
            ),
            rows_per_example: one_row,
            rows: natural_order_rows,
            decoding: Decoding::NaturalOrder,
        },
    }),
    knobs: &[PLM_K],
    check_knobs: no_combination_beyond_range,
    support: TargetSupport::Text,
    recipes: RECIPES,
};

/// The rate sweep's choice for permuted LM (BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 1e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 1e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
};

/// The partial-prediction constant K.
pub const PLM_K: Knob = Knob {
    key: "plm_k",
    flag: "--plm-k",
    label: "XLNet K",
    help: "XLNet: predict the last 1/K of each factorisation order",
    default: 6.0,
    min: (1.0, true),
    max: (64.0, true),
    whole: true,
    paper: "XLNet uses 6 (Table 6 tries 6 and 7)",
};

fn no_combination_beyond_range(_: &ObjectiveKnobs, _: usize) -> Result<(), KnobError> {
    Ok(())
}

fn full_window(shape: &BatchShape) -> Result<usize, CoreError> {
    Ok(shape.seq_len)
}

fn check(_stream: &[u32], shape: &BatchShape) -> Result<(), CoreError> {
    check_plm_setting(&PlmConfig::from_knobs(&shape.knobs), shape.seq_len, 2)
}

/// A uniformly random factorisation order of `0..seq_len`, except that the positions in `last`
/// come last, in the order given (a final `[CLS]` must be last in every order so that its
/// content stream sees the whole pair). The other positions are shuffled by Fisher–Yates, so
/// each of their `(seq_len − |last|)!` orders is equally likely. Entries of `last` outside
/// `0..seq_len` and repeats are ignored, so the result is always a permutation.
pub fn sample_order(seq_len: usize, last: &[usize], rng: &mut Rng) -> Vec<usize> {
    let mut forced = vec![false; seq_len];
    let mut tail = Vec::with_capacity(last.len());
    for &p in last {
        if p < seq_len && !forced[p] {
            forced[p] = true;
            tail.push(p);
        }
    }
    let mut order: Vec<usize> = (0..seq_len).filter(|&p| !forced[p]).collect();
    rng.shuffle(&mut order);
    order.extend(tail);
    order
}

/// `rank[p]` = index of position `p` in `order`, or `None` if `order` is not a permutation of
/// `0..order.len()`.
pub fn ranks(order: &[usize]) -> Option<Vec<usize>> {
    let mut rank = vec![usize::MAX; order.len()];
    for (r, &p) in order.iter().enumerate() {
        if p >= order.len() || rank[p] != usize::MAX {
            return None;
        }
        rank[p] = r;
    }
    Some(rank)
}

/// Which positions are predicted (indexed by position, not by rank).
///
/// The rule: let `eligible` be the positions of `order` not in `exclude` (padding, the
/// forced-last `[CLS]`, other specials). The last `count = max(1, eligible / k)` eligible
/// positions of the order are predicted (integer division; `count = 0` when nothing is
/// eligible; `k = 0` is treated as 1). Excluded positions are skipped, not counted: if the
/// order ends in `[CLS]`, the targets are the `count` eligible positions just before it. With no
/// exclusions this is the last `max(1, seq_len / k)` positions of the order. Counting `1/K` of
/// the *eligible* positions rather than of `seq_len` keeps a padded sequence at about `1/K`
/// targets instead of predicting (nearly) all of its real tokens.
///
/// For `k ≥ 2` and at least two eligible positions, the first eligible position of the order
/// is never predicted; so, when padding is excluded, neither is the position whose query row is
/// empty (the first real one in the order: either excluded or that first eligible one).
pub fn predicted(order: &[usize], k: usize, exclude: &[usize]) -> Vec<bool> {
    let n = order.len();
    let mut excluded = vec![false; n];
    for &p in exclude.iter().filter(|&&p| p < n) {
        excluded[p] = true;
    }
    let eligible = || {
        order
            .iter()
            .rev()
            .copied()
            .filter(|&p| p < n && !excluded[p])
    };
    let count = match eligible().count() {
        0 => 0,
        e => (e / k.max(1)).max(1),
    };
    let mut out = vec![false; n];
    for p in eligible().take(count) {
        out[p] = true;
    }
    out
}

/// The two masks of two-stream self-attention for one batch (`true` = blocked, row-major
/// `[batch, query, key]`), and which query rows have anything to attend to.
///
/// **Contract for empty query rows.** The first real position of each order has nothing
/// earlier to read, so its query row allows no key. It stays fully blocked in `query` (the
/// picture shows it empty, as it is) and `query_row_valid[b * seq_len + i]` is `false` for it —
/// and for exactly the rows with no allowed key. The model must zero the attention weights of
/// every invalid row *after* the softmax (so that row's attention output is zero and the
/// query stream there carries only its own query vector forward), and report those zeros in the
/// attention trace. A softmax over an all-blocked row is meaningless: burn fills blocked scores
/// with a large negative constant, so the row would spread uniformly over blocked keys. Content
/// rows always keep at least their own position, so they are never empty (except in a sequence
/// made only of padding, which a batcher must not build).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStreamMasks {
    /// Content stream: `i` reads `j` iff `rank(j) ≤ rank(i)` (sees itself).
    pub content: AttentionMask,
    /// Query stream: `i` reads `j` iff `rank(j) < rank(i)` (never its own content).
    pub query: AttentionMask,
    /// `[batch, seq]`: `false` where the query row allows no key (see the contract above).
    pub query_row_valid: Vec<bool>,
}

impl TwoStreamMasks {
    /// Whether `query_row_valid` is `false` exactly on the all-blocked query rows.
    pub fn validity_matches_query_rows(&self) -> bool {
        let s = self.query.seq_len.max(1);
        self.query.blocked.len() == self.query_row_valid.len() * self.query.seq_len
            && self
                .query
                .blocked
                .chunks(s)
                .zip(&self.query_row_valid)
                .all(|(row, &valid)| valid == row.iter().any(|&b| !b))
    }
}

/// What a position is in one sequence's factorisation (XLNet's `_local_perm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionRole {
    /// Not predicted: part of the shared context, all of it at one lowest rank.
    Context,
    /// Predicted, at its place in the order.
    Target,
    /// A structural token (`[SEP]`, `[CLS]`, `[EOS]`): never predicted, but keeps its place
    /// in the order, as the reference's "functional" tokens do.
    Functional,
    /// `[PAD]`: no key for anyone.
    Pad,
}

/// Two-stream masks for unpadded sequences in the plain order of §2.2 (every position a
/// target): `i` reads `j` iff `rank(j) ≤ rank(i)` (content) or `rank(j) < rank(i)` (query).
pub fn two_stream_masks(orders: &[Vec<usize>]) -> TwoStreamMasks {
    two_stream_masks_with_padding(orders, &[])
}

/// [`two_stream_masks`] with padding (`pad` empty for none, or one `[seq_len]` flag vector per
/// sequence, `true` = padding): every real position a target.
pub fn two_stream_masks_with_padding(orders: &[Vec<usize>], pad: &[Vec<bool>]) -> TwoStreamMasks {
    let seq_len = orders.first().map_or(0, Vec::len);
    let roles: Vec<Vec<PositionRole>> = (0..orders.len())
        .map(|b| {
            (0..seq_len)
                .map(|p| match pad.get(b).and_then(|v| v.get(p)) {
                    Some(true) => PositionRole::Pad,
                    _ => PositionRole::Target,
                })
                .collect()
        })
        .collect();
    two_stream_masks_for(orders, &roles)
}

/// The two masks of two-stream attention as XLNet's reference builds them, one order and one
/// role per position for each sequence.
///
/// With `rank(p)` the index of `p` in its order and *context* the positions whose role is
/// [`PositionRole::Context`], a real query `i` reads a real key `j`:
/// - **content stream**: iff `j` is context, or `i` is not context and `rank(j) ≤ rank(i)`.
///   Context reads all of the context both ways and nothing else; a target or a functional
///   token reads the context, itself and every target or functional token before it.
/// - **query stream**: iff `rank(j) < rank(i)`. A target comes after all the context in its
///   order, so it reads the whole context and the targets before it, never itself. (Rows of
///   context and functional tokens are never read by the loss.)
///
/// Padded positions are blocked as keys in every row of both streams, so where padding falls in
/// the order changes nothing for real positions. A padded *query* row, in both streams, reads
/// every real key of its sequence (as a padded row of a BERT batch does): its output is never
/// read, and this keeps its rows non-empty.
///
/// # Panics
/// If an order is not a permutation of `0..seq_len`, if orders differ in length, or if `roles`
/// is not one vector of `seq_len` roles per order. Orders from [`sample_order`] and roles from
/// [`PlmExample::roles`] always satisfy this.
pub fn two_stream_masks_for(orders: &[Vec<usize>], roles: &[Vec<PositionRole>]) -> TwoStreamMasks {
    let batch_size = orders.len();
    let seq_len = orders.first().map_or(0, Vec::len);
    assert_eq!(
        roles.len(),
        batch_size,
        "two_stream_masks: {} role vectors for {batch_size} orders",
        roles.len()
    );
    let mut content = vec![true; batch_size * seq_len * seq_len];
    let mut query = vec![true; batch_size * seq_len * seq_len];
    let mut query_row_valid = vec![false; batch_size * seq_len];
    for (b, order) in orders.iter().enumerate() {
        let Some(rank) = ranks(order).filter(|r| r.len() == seq_len) else {
            panic!("two_stream_masks: order {b} is not a permutation of 0..{seq_len}: {order:?}");
        };
        let role = &roles[b];
        assert_eq!(role.len(), seq_len, "two_stream_masks: roles {b} length");
        let is_pad = |p: usize| role[p] == PositionRole::Pad;
        let is_context = |p: usize| role[p] == PositionRole::Context;
        for i in 0..seq_len {
            let row = (b * seq_len + i) * seq_len;
            for j in (0..seq_len).filter(|&j| !is_pad(j)) {
                let (sees_content, sees_query) = if is_pad(i) {
                    (true, true)
                } else {
                    (
                        is_context(j) || (!is_context(i) && rank[j] <= rank[i]),
                        rank[j] < rank[i],
                    )
                };
                content[row + j] = !sees_content;
                query[row + j] = !sees_query;
                query_row_valid[b * seq_len + i] |= sees_query;
            }
        }
    }
    let mask = |blocked| AttentionMask {
        batch_size,
        seq_len,
        blocked,
    };
    TwoStreamMasks {
        content: mask(content),
        query: mask(query),
        query_row_valid,
    }
}

/// Whether the empty query rows are exactly the first real (unpadded) position of each order,
/// and `query_row_valid` marks exactly those. `pad` as in [`two_stream_masks_with_padding`].
pub fn empty_query_rows_are_only_first_in_order(
    masks: &TwoStreamMasks,
    orders: &[Vec<usize>],
    pad: &[Vec<bool>],
) -> bool {
    let s = masks.query.seq_len;
    masks.validity_matches_query_rows()
        && orders.iter().enumerate().all(|(b, order)| {
            let is_pad = |p: usize| pad.get(b).is_some_and(|v| v.get(p) == Some(&true));
            let first_real = order.iter().copied().find(|&p| !is_pad(p));
            (0..s).all(|i| {
                let empty = (0..s).all(|j| masks.query.is_blocked(b, i, j));
                empty == (Some(i) == first_real)
            })
        })
}

/// One sequence prepared for permuted LM. All vectors have the sequence's length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlmExample {
    /// The tokens, unchanged and in place.
    pub inputs: Vec<u32>,
    /// The token each position predicts: its own (scored only where `predicted`).
    pub targets: Vec<u32>,
    /// The factorisation order (positions, first to last).
    pub order: Vec<usize>,
    /// Positions the loss scores.
    pub predicted: Vec<bool>,
    /// `true` on `[PAD]`.
    pub padding: Vec<bool>,
    /// `true` on the structural specials that keep their place in the order (`[SEP]`, `[CLS]`,
    /// `[EOS]`, …; every special but padding).
    pub functional: Vec<bool>,
}

impl PlmExample {
    /// Each position's role, for [`two_stream_masks_for`].
    pub fn roles(&self) -> Vec<PositionRole> {
        (0..self.inputs.len())
            .map(|p| {
                if self.padding[p] {
                    PositionRole::Pad
                } else if self.predicted[p] {
                    PositionRole::Target
                } else if self.functional[p] {
                    PositionRole::Functional
                } else {
                    PositionRole::Context
                }
            })
            .collect()
    }
}

/// Samples an order and the targets for one sequence. Every `[CLS]` is forced last (in
/// position order); padding and every special token (`[CLS]`, `[SEP]`, sentinels, …) are never
/// predicted, as in the MLM objective, because predicting structure the batcher inserted
/// teaches nothing.
pub fn plm_example(
    tokens: &[u32],
    config: &PlmConfig,
    specials: SpecialIds,
    rng: &mut Rng,
) -> PlmExample {
    let at = |keep: &dyn Fn(u32) -> bool| -> Vec<usize> {
        (0..tokens.len()).filter(|&p| keep(tokens[p])).collect()
    };
    let last = at(&|id| id == specials.cls);
    let exclude = at(&|id| specials.is_special(id));
    let order = sample_order(tokens.len(), &last, rng);
    PlmExample {
        inputs: tokens.to_vec(),
        targets: tokens.to_vec(),
        predicted: predicted(&order, config.k, &exclude),
        padding: tokens.iter().map(|&id| id == specials.pad).collect(),
        functional: tokens
            .iter()
            .map(|&id| id != specials.pad && specials.is_special(id))
            .collect(),
        order,
    }
}

// ── The batch ──────────────────────────────────────────────────────────────────────────────────

/// Permuted-LM batches for the two-stream model from windows of the packed stream.
///
/// Each sequence gets its own factorisation order and predicted positions ([`plm_example`]):
/// inputs and targets are the tokens themselves, in place; `loss_weights` and `corrupted` are 1
/// on the predicted positions only (the last `1/K` of the order, never a special token or
/// padding); `mask` is the content stream's mask and `query` the query stream's mask with its
/// row validity ([`two_stream_masks_for`]). A position whose query row reads nothing (when
/// `K = 1` or a sequence has a single text token) is not scored either: it would have to guess
/// its token with no context at all, and the model zeroes that row's attention.
pub fn windows_batch(
    windows: &[Vec<u32>],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    Ok(plm_batch(
        windows,
        &PlmConfig::from_knobs(&shape.knobs),
        shape.specials,
        rng,
    ))
}

/// XLNet with a sentence-pair task: each pair packed as `A [SEP] B [SEP] [CLS]`
/// ([`PairLayout::ClsLast`]) and right-padded with `[PAD]`. The `[CLS]` is forced last in every
/// order, so its content stream has read the whole pair when the pair head reads it (XLNet's
/// own pair format also ends in `[CLS]`); padding is never predicted and blocked as a key.
fn pair_rows(
    packed: &[PackedPair],
    labels: &[u8],
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let config = PlmConfig::from_knobs(&shape.knobs);
    let seq_len = shape.seq_len;
    let mut rows = Vec::with_capacity(packed.len());
    let mut segments = Vec::with_capacity(packed.len() * seq_len);
    let mut heads = Vec::with_capacity(packed.len());
    let mut original_tokens = 0;
    for pair in packed {
        let mut ids = pair.ids.clone();
        ids.resize(seq_len, shape.specials.pad);
        rows.push(ids);
        segments.extend(pair.segments.iter().map(|&s| u32::from(s)));
        segments.resize(rows.len() * seq_len, 0);
        heads.push(pair.head as u32);
        original_tokens += pair.original_tokens;
    }
    // `plm_example` forces the [CLS] last: the packed A and B hold no specials, so the head is
    // the only [CLS] of each row.
    let mut batch = plm_batch(&rows, &config, shape.specials, rng);
    batch.segments = Some(segments);
    batch.pairs = Some(PairBatch {
        heads,
        labels: labels.iter().map(|&l| u32::from(l)).collect(),
    });
    batch.original_tokens = original_tokens;
    Ok(batch)
}

fn check_plm_setting(config: &PlmConfig, seq_len: usize, shortest: usize) -> Result<(), CoreError> {
    config.validate()?;
    if seq_len < shortest {
        return Err(CoreError::Config(format!(
            "permuted language modelling needs sequences of at least {shortest} tokens here \
             (one to predict and context before it{}); got {seq_len}",
            if shortest > 2 {
                ", and for a sentence pair [CLS], two [SEP] and a token each of A and B"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// One permuted-LM batch from `rows` (equal lengths, none all padding).
fn plm_batch(rows: &[Vec<u32>], config: &PlmConfig, specials: SpecialIds, rng: &mut Rng) -> Batch {
    let batch_size = rows.len();
    let seq_len = rows.first().map_or(0, Vec::len);
    let mut orders = Vec::with_capacity(batch_size);
    let mut roles = Vec::with_capacity(batch_size);
    let mut predicted = Vec::with_capacity(batch_size * seq_len);
    for row in rows {
        let example = plm_example(row, config, specials, rng);
        roles.push(example.roles());
        predicted.extend(example.predicted);
        orders.push(example.order);
    }
    let masks = two_stream_masks_for(&orders, &roles);
    let weights: Vec<f32> = predicted
        .iter()
        .zip(&masks.query_row_valid)
        .map(|(&p, &valid)| if p && valid { 1.0 } else { 0.0 })
        .collect();
    let inputs: Vec<u32> = rows.concat();
    Batch {
        batch_size,
        seq_len,
        segments: None,
        mask: masks.content,
        target_len: seq_len,
        targets: inputs.clone(),
        supervised_tokens: weights.iter().filter(|&&w| w > 0.0).count(),
        corrupted: weights.clone(),
        loss_weights: weights,
        decoder: None,
        query: Some(QueryBatch {
            mask: masks.query,
            row_valid: masks
                .query_row_valid
                .iter()
                .map(|&valid| if valid { 1.0 } else { 0.0 })
                .collect(),
        }),
        pairs: None,
        original_tokens: inputs
            .iter()
            .filter(|&&id| !specials.is_special(id))
            .count(),
        inputs,
    }
}

#[cfg(test)]
#[path = "plm_tests.rs"]
mod tests;

//! Permuted language modelling (XLNet; Yang et al. 2019, §2.2–2.3), the data side:
//! factorisation orders, which positions are predicted, and the two attention masks of
//! two-stream self-attention, as pure functions of sizes, orders and padding (no tensors, no
//! model); and [`PlmBatcher`], which builds batches of them from windows of the packed stream or
//! from sentence pairs.
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
//! The lab keeps the paper's full order for the context too. XLNet's released code
//! (`_local_perm` in `data_utils.py`) gives every non-target token the same smallest rank, so
//! context tokens see one another both ways; targets see exactly the same keys either way, but
//! the picture here is the order of §2.2 and Figure 2 as written.

use serde::{Deserialize, Serialize};

use super::coherence::{
    MIN_PAIR_LEN, PairItem, PairLayout, PairTask, SegmentIds, check_pairs, make_items, pack,
};
use super::span::{Windows, eval_windows};
use super::{Batch, PairBatch, QueryBatch};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
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
    /// Checks the knob: `k ≥ 1`.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.k == 0 {
            return Err(CoreError::Config(
                "plm k is 0; it must be at least 1 (the last 1/k of each factorisation order is \
                 predicted; XLNet uses 6, and 1 predicts every position)"
                    .to_string(),
            ));
        }
        Ok(())
    }
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

/// Two-stream masks for unpadded sequences, one order per sequence of the batch. See
/// [`two_stream_masks_with_padding`].
pub fn two_stream_masks(orders: &[Vec<usize>]) -> TwoStreamMasks {
    two_stream_masks_with_padding(orders, &[])
}

/// Two-stream masks, one order per sequence, with optional padding (`pad` empty for none, or
/// one `[seq_len]` flag vector per sequence, `true` = padding).
///
/// With `rank(p)` the index of `p` in its order, a real query `i` reads a real key `j` in the
/// content stream iff `rank(j) ≤ rank(i)` and in the query stream iff `rank(j) < rank(i)`.
/// Padded positions are blocked as keys in every row of both streams, so where padding falls in
/// the order changes nothing for real positions. A padded *query* row, in both streams, reads
/// every real key of its sequence (as a padded row of a BERT batch does): its output is never
/// read (padding is no key and is never predicted), and this keeps its rows non-empty.
///
/// # Panics
/// If an order is not a permutation of `0..seq_len`, if orders differ in length, or if `pad`
/// is neither empty nor one vector of `seq_len` flags per order. Orders from [`sample_order`]
/// always satisfy this.
pub fn two_stream_masks_with_padding(orders: &[Vec<usize>], pad: &[Vec<bool>]) -> TwoStreamMasks {
    let batch_size = orders.len();
    let seq_len = orders.first().map_or(0, Vec::len);
    assert!(
        pad.is_empty() || pad.len() == batch_size,
        "two_stream_masks: {} padding vectors for {batch_size} orders",
        pad.len()
    );
    let mut content = vec![true; batch_size * seq_len * seq_len];
    let mut query = vec![true; batch_size * seq_len * seq_len];
    let mut query_row_valid = vec![false; batch_size * seq_len];
    let no_padding = vec![false; seq_len];
    for (b, order) in orders.iter().enumerate() {
        let Some(rank) = ranks(order).filter(|r| r.len() == seq_len) else {
            panic!("two_stream_masks: order {b} is not a permutation of 0..{seq_len}: {order:?}");
        };
        let is_pad = pad.get(b).unwrap_or(&no_padding);
        assert_eq!(
            is_pad.len(),
            seq_len,
            "two_stream_masks: padding {b} length"
        );
        for i in 0..seq_len {
            let row = (b * seq_len + i) * seq_len;
            for j in (0..seq_len).filter(|&j| !is_pad[j]) {
                let (sees_content, sees_query) = if is_pad[i] {
                    (true, true)
                } else {
                    (rank[j] <= rank[i], rank[j] < rank[i])
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
    /// `true` on `[PAD]`: pass to [`two_stream_masks_with_padding`].
    pub padding: Vec<bool>,
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
        order,
    }
}

// ── The batcher ────────────────────────────────────────────────────────────────────────────────

/// Draws permuted-LM batches for the two-stream model, from windows of a packed stream or, for
/// XLNet with a sentence-pair task (NSP or SOP), from packed pairs.
///
/// Each sequence gets its own factorisation order and predicted positions ([`plm_example`]):
/// inputs and targets are the tokens themselves, in place; `loss_weights` and `corrupted` are 1
/// on the predicted positions only (the last `1/K` of the order, never a special token or
/// padding); `mask` is the content stream's mask and `query` the query stream's mask with its
/// row validity ([`two_stream_masks_with_padding`]). A position whose query row reads nothing
/// (the first real position of its order, when `K = 1` or a sequence has a single text token)
/// is not scored either: it would have to guess its token with no context at all, and the
/// model zeroes that row's attention.
///
/// With pairs ([`with_pairs`](Self::with_pairs)), each sequence is a labelled pair packed as
/// `A [SEP] B [SEP] [CLS]` ([`PairLayout::ClsLast`]) and right-padded with `[PAD]`. The `[CLS]`
/// is forced last in every order, so its content stream has read the whole pair when the pair
/// head reads it (XLNet's own pair format also ends in `[CLS]`); padding is never predicted
/// and blocked as a key. Each batch's labels are exactly half positive for an even
/// batch size ([`make_items`]); the pairs are visited in seeded epochs.
#[derive(Debug, Clone)]
pub struct PlmBatcher {
    source: PlmSource,
    config: PlmConfig,
    batch_size: usize,
    seq_len: usize,
    specials: SpecialIds,
    rng: Rng,
}

#[derive(Debug, Clone)]
enum PlmSource {
    Windows(Windows),
    Pairs {
        task: PairTask,
        pairs: Vec<SegmentIds>,
        order: Vec<usize>,
        cursor: usize,
    },
}

impl PlmBatcher {
    /// Permuted LM over windows of `seq_len` tokens of `stream`, drawn in seeded epochs as for
    /// [`SpanBatcher`](super::span::SpanBatcher).
    pub fn new(
        stream: Vec<u32>,
        config: PlmConfig,
        batch_size: usize,
        seq_len: usize,
        specials: SpecialIds,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        check_plm_setting(&config, seq_len, 2)?;
        Ok(Self {
            source: PlmSource::Windows(Windows::new(
                &stream,
                batch_size,
                seq_len,
                "permuted language modelling",
            )?),
            config,
            batch_size,
            seq_len,
            specials,
            rng,
        })
    }

    /// Permuted LM over sentence pairs, with the pair task's labels and heads in
    /// [`Batch::pairs`]. Refuses pair sets that cannot give the task both labels
    /// ([`check_pairs`]) and a `seq_len` below [`MIN_PAIR_LEN`].
    pub fn with_pairs(
        task: PairTask,
        pairs: Vec<SegmentIds>,
        config: PlmConfig,
        batch_size: usize,
        seq_len: usize,
        specials: SpecialIds,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        check_plm_setting(&config, seq_len, MIN_PAIR_LEN)?;
        check_pairs(task, &pairs)?;
        if batch_size == 0 {
            return Err(CoreError::Config(
                "permuted language modelling: the batch size must be at least 1".into(),
            ));
        }
        Ok(Self {
            source: PlmSource::Pairs {
                task,
                pairs,
                order: Vec::new(),
                cursor: 0,
            },
            config,
            batch_size,
            seq_len,
            specials,
            rng,
        })
    }

    /// The next batch in this run's order.
    pub fn next_batch(&mut self) -> Result<Batch, CoreError> {
        let (config, seq_len, specials) = (self.config, self.seq_len, self.specials);
        match &mut self.source {
            PlmSource::Windows(windows) => {
                let rows = windows.next(self.batch_size, &mut self.rng);
                Ok(plm_batch(&rows, &config, specials, &mut self.rng))
            }
            PlmSource::Pairs {
                task,
                pairs,
                order,
                cursor,
            } => {
                let mut indices = Vec::with_capacity(self.batch_size);
                while indices.len() < self.batch_size {
                    if *cursor >= order.len() {
                        *order = (0..pairs.len()).collect();
                        self.rng.shuffle(order);
                        *cursor = 0;
                    }
                    indices.push(order[*cursor]);
                    *cursor += 1;
                }
                let items = make_items(*task, pairs, &indices, &mut self.rng);
                plm_pair_batch(&items, &config, seq_len, specials, &mut self.rng)
            }
        }
    }
}

/// Fixed evaluation batches of permuted LM: non-overlapping windows from the start of `stream`
/// (at most `max_batches` full batches), with orders drawn from a generator seeded by `seed`,
/// so every call returns the same batches.
pub fn plm_eval_batches(
    stream: &[u32],
    config: PlmConfig,
    batch_size: usize,
    seq_len: usize,
    max_batches: usize,
    specials: SpecialIds,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    check_plm_setting(&config, seq_len, 2)?;
    let mut rng = Rng::new(seed);
    Ok(eval_windows(
        stream,
        batch_size,
        seq_len,
        max_batches,
        "permuted language modelling",
    )?
    .iter()
    .map(|rows| plm_batch(rows, &config, specials, &mut rng))
    .collect())
}

/// Fixed evaluation batches of permuted LM with the pair task: `pairs` in their order (cycled
/// to one batch), at most `max_batches` full batches, labels and orders drawn from a generator
/// seeded by `seed`, so every call returns the same batches.
#[allow(clippy::too_many_arguments)] // the eval shape of every objective, plus the pair task
pub fn plm_pair_eval_batches(
    task: PairTask,
    pairs: &[SegmentIds],
    config: PlmConfig,
    batch_size: usize,
    seq_len: usize,
    max_batches: usize,
    specials: SpecialIds,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    check_plm_setting(&config, seq_len, MIN_PAIR_LEN)?;
    check_pairs(task, pairs)?;
    if batch_size == 0 || max_batches == 0 {
        return Err(CoreError::Config(format!(
            "permuted language modelling: {max_batches} evaluation batches of {batch_size} pairs \
             is none; both must be at least 1"
        )));
    }
    let batches = (pairs.len() / batch_size).clamp(1, max_batches);
    let mut rng = Rng::new(seed);
    (0..batches)
        .map(|b| {
            let indices: Vec<usize> = (0..batch_size)
                .map(|i| (b * batch_size + i) % pairs.len())
                .collect();
            let items = make_items(task, pairs, &indices, &mut rng);
            plm_pair_batch(&items, &config, seq_len, specials, &mut rng)
        })
        .collect()
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
    let mut padding = Vec::with_capacity(batch_size);
    let mut predicted = Vec::with_capacity(batch_size * seq_len);
    for row in rows {
        let example = plm_example(row, config, specials, rng);
        predicted.extend(example.predicted);
        orders.push(example.order);
        padding.push(example.padding);
    }
    let masks = two_stream_masks_with_padding(&orders, &padding);
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

/// One permuted-LM batch of packed, padded pairs, with their segments, heads and labels.
fn plm_pair_batch(
    items: &[PairItem],
    config: &PlmConfig,
    seq_len: usize,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let mut rows = Vec::with_capacity(items.len());
    let mut segments = Vec::with_capacity(items.len() * seq_len);
    let mut heads = Vec::with_capacity(items.len());
    let mut original_tokens = 0;
    for item in items {
        let packed = pack(item, PairLayout::ClsLast, seq_len, specials)?;
        let mut ids = packed.ids;
        ids.resize(seq_len, specials.pad);
        rows.push(ids);
        segments.extend(packed.segments.iter().map(|&s| u32::from(s)));
        segments.resize(rows.len() * seq_len, 0);
        heads.push(packed.head as u32);
        original_tokens += packed.original_tokens;
    }
    // `plm_example` forces the [CLS] last: the packed A and B hold no specials, so the head is
    // the only [CLS] of each row.
    let mut batch = plm_batch(&rows, config, specials, rng);
    batch.segments = Some(segments);
    batch.pairs = Some(PairBatch {
        heads,
        labels: items.iter().map(|item| u32::from(item.label)).collect(),
    });
    batch.original_tokens = original_tokens;
    Ok(batch)
}

#[cfg(test)]
#[path = "plm_tests.rs"]
mod tests;

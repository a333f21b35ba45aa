//! Permuted language modelling (XLNet; Yang et al. 2019, §2.2–2.3): the data side only —
//! factorisation orders, which positions are predicted, and the two attention masks of
//! two-stream self-attention. Pure functions of sizes, orders and padding; no tensors, no model.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn specials() -> SpecialIds {
        SpecialIds {
            pad: 0,
            unk: 1,
            cls: 2,
            sep: 3,
            mask: 4,
            bos: 5,
            eos: 6,
            first_sentinel: 7,
        }
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for shorter in permutations(n - 1) {
            for at in 0..n {
                let mut p = shorter.clone();
                p.insert(at, n - 1);
                out.push(p);
            }
        }
        out
    }

    fn is_permutation(order: &[usize], n: usize) -> bool {
        order.len() == n && ranks(order).is_some()
    }

    #[test]
    fn config_defaults_to_six_and_rejects_zero_naming_the_knob() {
        assert_eq!(PlmConfig::default().k, 6);
        assert!(PlmConfig::default().validate().is_ok());
        assert!(PlmConfig { k: 1 }.validate().is_ok());
        let err = PlmConfig { k: 0 }.validate();
        assert!(matches!(&err, Err(CoreError::Config(m)) if m.contains("plm k")));
        let parsed: PlmConfig = serde_json::from_str("{}").expect("defaults fill in");
        assert_eq!(parsed, PlmConfig::default());
    }

    #[test]
    fn orders_are_permutations_with_forced_positions_last() {
        let mut rng = Rng::new(1);
        for n in 0..12usize {
            for last in [
                vec![],
                vec![n.saturating_sub(1)],
                vec![0, n / 2],
                vec![n, 0, 0],
            ] {
                let order = sample_order(n, &last, &mut rng);
                assert!(is_permutation(&order, n), "{order:?}");
                let mut tail: Vec<usize> = Vec::new();
                for &p in &last {
                    if p < n && !tail.contains(&p) {
                        tail.push(p);
                    }
                }
                assert_eq!(&order[n - tail.len()..], &tail[..], "n {n} last {last:?}");
            }
        }
    }

    /// χ² over the 6 orders of 3 free positions; the critical value for 5 degrees of freedom
    /// at p = 0.001 is 20.515.
    fn chi_square_of_orders(n: usize, last: &[usize], seed: u64) -> f64 {
        let draws = 6000;
        let free: Vec<usize> = (0..n).filter(|p| !last.contains(p)).collect();
        let perms = permutations(3);
        let mut counts = [0usize; 6];
        let mut rng = Rng::new(seed);
        for _ in 0..draws {
            let order = sample_order(n, last, &mut rng);
            let head: Vec<usize> = order[..3]
                .iter()
                .map(|p| free.iter().position(|f| f == p).unwrap_or(99))
                .collect();
            let k = perms
                .iter()
                .position(|p| *p == head)
                .expect("a permutation");
            counts[k] += 1;
        }
        let expected = draws as f64 / 6.0;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    #[test]
    fn orders_are_uniform_chi_square() {
        for seed in [1, 2, 3] {
            let plain = chi_square_of_orders(3, &[], seed);
            assert!(plain < 20.515, "seed {seed}: chi² {plain}");
            let forced = chi_square_of_orders(4, &[1], seed);
            assert!(forced < 20.515, "seed {seed}, [1] last: chi² {forced}");
        }
    }

    #[test]
    fn same_seed_same_orders_other_seed_other_orders() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..20)
                .map(|_| sample_order(16, &[15], &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn masks_are_exactly_the_rank_rules_for_every_order() {
        for n in 1..=5 {
            let orders = permutations(n);
            let m = two_stream_masks(&orders);
            assert_eq!((m.content.batch_size, m.content.seq_len), (orders.len(), n));
            for (b, order) in orders.iter().enumerate() {
                let rank = ranks(order).expect("permutation");
                for i in 0..n {
                    for j in 0..n {
                        assert_eq!(!m.content.is_blocked(b, i, j), rank[j] <= rank[i]);
                        assert_eq!(!m.query.is_blocked(b, i, j), rank[j] < rank[i]);
                    }
                    assert!(m.query.is_blocked(b, i, i), "query sees its own content");
                    assert!(!m.content.is_blocked(b, i, i));
                }
            }
            assert_eq!(m.content.empty_rows(), 0);
            // Exactly one empty query row per sequence, the first in its order.
            assert_eq!(m.query.empty_rows(), orders.len());
            assert_eq!(
                m.query_row_valid.iter().filter(|v| !**v).count(),
                orders.len()
            );
            assert!(empty_query_rows_are_only_first_in_order(&m, &orders, &[]));
        }
    }

    #[test]
    fn identity_order_is_the_causal_mask() {
        let orders = vec![(0..7).collect::<Vec<_>>(); 3];
        let m = two_stream_masks(&orders);
        assert_eq!(m.content, AttentionMask::causal(3, 7));
        for b in 0..3 {
            for i in 0..7 {
                for j in 0..7 {
                    assert_eq!(m.query.is_blocked(b, i, j), j >= i);
                }
            }
        }
        assert_eq!(
            m.query_row_valid[0..7],
            [false, true, true, true, true, true, true]
        );
    }

    /// Follows information through `layers` of two-stream attention: which tokens can reach
    /// the query stream at each position. It must be exactly the strictly earlier ones — never
    /// the position's own token, however deep the model.
    #[test]
    fn query_stream_never_sees_its_own_content_through_any_depth() {
        let mut rng = Rng::new(5);
        let n = 9;
        let order = sample_order(n, &[], &mut rng);
        let m = two_stream_masks(std::slice::from_ref(&order));
        let rank = ranks(&order).expect("permutation");
        // h[i][t]: token t has reached the content stream at i; g likewise for the query stream.
        let mut h: Vec<Vec<bool>> = (0..n).map(|i| (0..n).map(|t| t == i).collect()).collect();
        let mut g = vec![vec![false; n]; n];
        for _ in 0..4 {
            let reach = |mask: &AttentionMask, own: &[Vec<bool>]| -> Vec<Vec<bool>> {
                (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|t| {
                                own[i][t] || (0..n).any(|j| !mask.is_blocked(0, i, j) && h[j][t])
                            })
                            .collect()
                    })
                    .collect()
            };
            let next_g = reach(&m.query, &g);
            h = reach(&m.content, &h);
            g = next_g;
        }
        for i in 0..n {
            for t in 0..n {
                assert_eq!(g[i][t], rank[t] < rank[i], "query {i} token {t}");
                assert_eq!(h[i][t], rank[t] <= rank[i], "content {i} token {t}");
            }
        }
    }

    #[test]
    fn predicted_count_is_max_1_n_over_k_at_the_end_of_the_order() {
        let mut rng = Rng::new(3);
        for n in 1..=20 {
            for k in 1..=8 {
                let order = sample_order(n, &[], &mut rng);
                let p = predicted(&order, k, &[]);
                let count = (n / k).max(1);
                assert_eq!(p.iter().filter(|x| **x).count(), count, "n {n} k {k}");
                assert!(order[n - count..].iter().all(|&q| p[q]));
                assert!(order[..n - count].iter().all(|&q| !p[q]));
            }
        }
        assert_eq!(predicted(&[2, 0, 1], 0, &[]), vec![true; 3]);
        assert!(predicted(&[], 6, &[]).is_empty());
    }

    #[test]
    fn excluded_positions_are_skipped_and_targets_come_from_before_them() {
        // [CLS] at 11 ends the order, padding 9 and 10 lies anywhere in it: the targets are the
        // last max(1, 9 / 3) = 3 eligible positions, skipping 10 and 11.
        let order = vec![9, 4, 0, 8, 1, 7, 2, 10, 6, 3, 5, 11];
        let p = predicted(&order, 3, &[9, 10, 11]);
        let expected: Vec<usize> = vec![6, 3, 5];
        assert_eq!(p.len(), 12);
        for (q, &is_target) in p.iter().enumerate() {
            assert_eq!(is_target, expected.contains(&q), "position {q}");
        }
        assert_eq!(predicted(&[1, 0], 2, &[0, 1]), vec![false, false]);
    }

    #[test]
    fn predicted_positions_always_have_a_valid_query_row_for_k_at_least_2() {
        let mut rng = Rng::new(9);
        for n in 2..=12 {
            let orders: Vec<Vec<usize>> = (0..20)
                .map(|_| sample_order(n, &[n - 1], &mut rng))
                .collect();
            let m = two_stream_masks(&orders);
            for (b, order) in orders.iter().enumerate() {
                for (q, &is_target) in predicted(order, 2, &[]).iter().enumerate() {
                    assert!(!is_target || m.query_row_valid[b * n + q]);
                }
            }
        }
    }

    #[test]
    fn padding_is_never_a_key_and_real_rows_keep_the_rank_rules() {
        let mut rng = Rng::new(11);
        let n = 8;
        let pad: Vec<Vec<bool>> = vec![
            vec![false; n],
            (0..n).map(|p| p >= 5).collect(),
            (0..n).map(|p| p % 3 == 1).collect(),
        ];
        let orders: Vec<Vec<usize>> = (0..3).map(|_| sample_order(n, &[], &mut rng)).collect();
        let m = two_stream_masks_with_padding(&orders, &pad);
        for (b, order) in orders.iter().enumerate() {
            let rank = ranks(order).expect("permutation");
            for i in 0..n {
                for j in 0..n {
                    let (c, q) = (!m.content.is_blocked(b, i, j), !m.query.is_blocked(b, i, j));
                    if pad[b][j] {
                        assert!(!c && !q, "padding {j} is a key for {i}");
                    } else if pad[b][i] {
                        assert!(c && q, "padded row {i} reads every real key");
                    } else {
                        assert_eq!((c, q), (rank[j] <= rank[i], rank[j] < rank[i]));
                    }
                }
            }
            let exclude: Vec<usize> = (0..n).filter(|&p| pad[b][p]).collect();
            let p = predicted(order, 2, &exclude);
            assert!(exclude.iter().all(|&q| !p[q]));
            assert_eq!(
                p.iter().filter(|x| **x).count(),
                ((n - exclude.len()) / 2).max(1)
            );
        }
        assert_eq!(m.content.empty_rows(), 0);
        assert_eq!(m.query.empty_rows(), 3);
        assert!(empty_query_rows_are_only_first_in_order(&m, &orders, &pad));
        // The same masks with the padding placed elsewhere in the order are unchanged for real rows.
        let mut moved = orders[1].clone();
        moved.retain(|&p| p < 5);
        moved.extend([7, 6, 5]);
        let m2 = two_stream_masks_with_padding(&[moved], &pad[1..2]);
        let row = |mask: &AttentionMask, b: usize, i: usize| -> Vec<bool> {
            (0..n).map(|j| mask.is_blocked(b, i, j)).collect()
        };
        for i in 0..5 {
            assert_eq!(row(&m.query, 1, i), row(&m2.query, 0, i));
        }
    }

    #[test]
    fn example_keeps_tokens_in_place_and_predicts_its_own_tokens() {
        let s = specials();
        // text, [SEP], text, [CLS], padding
        let tokens: Vec<u32> = vec![40, 41, 42, 43, 3, 44, 45, 46, 47, 48, 49, 50, 2, 0, 0];
        let config = PlmConfig { k: 3 };
        let mut rng = Rng::new(13);
        for _ in 0..50 {
            let ex = plm_example(&tokens, &config, s, &mut rng);
            assert_eq!(ex.inputs, tokens);
            assert_eq!(ex.targets, tokens);
            assert!(is_permutation(&ex.order, tokens.len()));
            assert_eq!(ex.order.last(), Some(&12), "[CLS] is last");
            // 11 text tokens are eligible: max(1, 11 / 3) = 3 targets, all text.
            assert_eq!(ex.predicted.iter().filter(|x| **x).count(), 3);
            for (p, &id) in tokens.iter().enumerate() {
                assert!(!ex.predicted[p] || !s.is_special(id));
                assert_eq!(ex.padding[p], id == s.pad);
            }
        }
        let a = plm_example(&tokens, &config, s, &mut Rng::new(4));
        let b = plm_example(&tokens, &config, s, &mut Rng::new(4));
        assert_eq!(a, b);
        let m = two_stream_masks_with_padding(
            std::slice::from_ref(&a.order),
            std::slice::from_ref(&a.padding),
        );
        assert_eq!(m.content.empty_rows(), 0);
        // [CLS] is last: its content stream reads every real token of the pair.
        assert!((0..13).all(|j| !m.content.is_blocked(0, 12, j)));
    }

    #[test]
    #[should_panic(expected = "not a permutation")]
    fn a_malformed_order_is_refused() {
        two_stream_masks(&[vec![0, 0, 1]]);
    }
}

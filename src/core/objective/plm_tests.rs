use super::*;
use crate::core::objective::test_support::*;

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
    assert!(matches!(&err, Err(CoreError::Knob(e)) if e.to_string().contains("plm_k")));
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
                        .map(|t| own[i][t] || (0..n).any(|j| !mask.is_blocked(0, i, j) && h[j][t]))
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
    let s = SPECIALS;
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

// ── Context and targets: XLNet's reference masks ─────────────────────────────────────────────

#[test]
fn context_reads_itself_both_ways_and_targets_read_the_context_and_earlier_targets() {
    use PositionRole::{Context, Functional, Pad, Target};
    // Positions 0..7; the order puts context first, then [SEP] (5), then the targets.
    let order = vec![3, 0, 4, 1, 5, 2, 6];
    let roles = vec![
        Context, Context, Target, Context, Context, Functional, Target,
    ];
    let m = two_stream_masks_for(std::slice::from_ref(&order), std::slice::from_ref(&roles));
    let rank = ranks(&order).expect("order");
    let is = |p: usize, r: PositionRole| roles[p] == r;
    for i in 0..7 {
        for j in 0..7 {
            let content = !m.content.is_blocked(0, i, j);
            let query = !m.query.is_blocked(0, i, j);
            if is(i, Context) {
                assert_eq!(
                    content,
                    is(j, Context),
                    "context {i} reads only context, {j}"
                );
            } else {
                assert_eq!(
                    content,
                    is(j, Context) || rank[j] <= rank[i],
                    "{i} reads {j}"
                );
            }
            assert_eq!(query, rank[j] < rank[i], "the query stream is the order's");
            if is(i, Target) {
                assert!(!query || j != i, "a target never reads its own content");
            }
        }
    }
    // Context 0 reads context 3, which came first in the order, and 3 reads 0 back.
    assert!(!m.content.is_blocked(0, 3, 0) && !m.content.is_blocked(0, 0, 3));
    // Context never reads a functional token or a target.
    assert!(m.content.is_blocked(0, 0, 5) && m.content.is_blocked(0, 0, 2));
    // The functional [SEP] reads the context and itself, not the targets after it.
    assert!(!m.content.is_blocked(0, 5, 0) && !m.content.is_blocked(0, 5, 5));
    assert!(m.content.is_blocked(0, 5, 2));
    // The last target reads everything real.
    assert!((0..7).all(|j| !m.content.is_blocked(0, 6, j)));
    // Padding is nobody's key.
    let padded = two_stream_masks_for(&[vec![0, 1, 2, 3]], &[vec![Context, Pad, Target, Context]]);
    for i in 0..4 {
        assert!(padded.content.is_blocked(0, i, 1) && padded.query.is_blocked(0, i, 1));
    }
    assert_eq!(padded.content.empty_rows(), 0);
}

#[test]
fn with_every_position_a_target_the_masks_are_the_plain_order() {
    let mut rng = Rng::new(11);
    for _ in 0..50 {
        let order = sample_order(9, &[], &mut rng);
        let plain = two_stream_masks(std::slice::from_ref(&order));
        let rank = ranks(&order).expect("order");
        for i in 0..9 {
            for j in 0..9 {
                assert_eq!(!plain.content.is_blocked(0, i, j), rank[j] <= rank[i]);
                assert_eq!(!plain.query.is_blocked(0, i, j), rank[j] < rank[i]);
            }
        }
    }
}

#[test]
fn in_a_real_batch_the_context_a_target_reads_is_built_from_the_whole_context() {
    let stream = packed_stream(3000, 5);
    let batch = windows_batch(
        &[stream[..32].to_vec()],
        &plm_shape(6, 1, 32),
        &mut Rng::new(3),
    )
    .expect("batch");
    let query = batch.query.as_ref().expect("query");
    let targets: Vec<usize> = (0..32).filter(|&p| batch.loss_weights[p] > 0.0).collect();
    let context: Vec<usize> = (0..32)
        .filter(|&p| !SPECIALS.is_special(batch.inputs[p]) && !targets.contains(&p))
        .filter(|&p| !query.mask.is_blocked(0, targets[0], p))
        .collect();
    assert!(context.len() > 20, "most of the window is context");
    // Layer 2 of a target reads content rows of the context, each of which read all of it.
    for &c in &context {
        for &d in &context {
            assert!(
                !batch.mask.is_blocked(0, c, d),
                "context {c} reads context {d}"
            );
        }
    }
}

// ── The batches ──────────────────────────────────────────────────────────────────────────────

use std::sync::Arc;

use crate::core::objective::Batch;
use crate::core::objective::coherence::{
    DocSentences, PairBatcher, PairFormat, PairTask, pair_eval_batches,
};
use crate::core::objective::spec::{BatchShape, BatchSource};
use crate::core::objective::windows::{EvalSize, WindowBatcher};

const CLS: u32 = 2;

/// Six documents of five sentences of 2 to 6 tokens; every sentence's ids are its own.
fn docs() -> Arc<Vec<DocSentences>> {
    Arc::new(
        (0..6)
            .map(|doc| DocSentences {
                doc,
                sentences: (0..5)
                    .map(|k| {
                        let base = 100 + (doc * 100 + k * 20) as u32;
                        (base..base + 2 + ((doc + k) % 5) as u32).collect()
                    })
                    .collect(),
            })
            .collect(),
    )
}

fn plm_shape(k: usize, b: usize, s: usize) -> BatchShape {
    let mut knobs = crate::core::objective::spec::ObjectiveKnobs::default();
    knobs.set(&PLM_K, k as f64).expect("k");
    shape_with(knobs, b, s, 2048)
}

/// Every field has its contract length, no content row is empty, and the query stream's empty
/// rows are exactly its invalid rows, none of them scored.
fn assert_plm_contract(batch: &Batch) {
    let (b, s) = (batch.batch_size, batch.seq_len);
    assert_eq!(batch.target_len, s);
    for len in [batch.inputs.len(), batch.targets.len()] {
        assert_eq!(len, b * s);
    }
    for v in [&batch.loss_weights, &batch.corrupted] {
        assert_eq!(v.len(), b * s);
    }
    let query = batch.query.as_ref().expect("a query stream");
    for m in [&batch.mask, &query.mask] {
        assert_eq!(
            (m.batch_size, m.seq_len, m.blocked.len()),
            (b, s, b * s * s)
        );
    }
    assert_eq!(query.row_valid.len(), b * s);
    assert!(batch.decoder.is_none());
    assert_eq!(batch.mask.empty_rows(), 0);
    for (r, blocked) in query.mask.blocked.chunks(s).enumerate() {
        let empty = blocked.iter().all(|&x| x);
        assert_eq!(query.row_valid[r], if empty { 0.0 } else { 1.0 }, "row {r}");
        if empty {
            assert_eq!(batch.loss_weights[r], 0.0, "an empty query row is scored");
        }
    }
    let invalid = query.row_valid.iter().filter(|&&v| v == 0.0).count();
    assert_eq!(query.mask.empty_rows(), invalid);
    assert_eq!(batch.loss_weights, batch.corrupted);
    let weighted = batch.loss_weights.iter().filter(|&&w| w == 1.0).count();
    assert!(batch.loss_weights.iter().all(|&w| w == 0.0 || w == 1.0));
    assert_eq!(batch.supervised_tokens, weighted);
}

fn plm_windows(stream: Vec<u32>, k: usize, b: usize, s: usize, seed: u64) -> WindowBatcher {
    window_batcher(&SPEC, &stream, plm_shape(k, b, s), Rng::new(seed)).expect("batcher")
}

fn pair_format() -> PairFormat {
    match SPEC.tokens().expect("tokens").with_pairs {
        crate::core::objective::spec::WithPairs::SameBatch { layout, rows, .. } => {
            PairFormat { layout, rows }
        }
        _ => unreachable!("PLM shares a batch with its pairs"),
    }
}

fn pair_batcher(task: PairTask, k: usize, b: usize, s: usize, seed: u64) -> PairBatcher {
    PairBatcher::new(
        task,
        docs(),
        pair_format(),
        plm_shape(k, b, s),
        Rng::new(seed),
    )
    .expect("pair batcher")
}

#[test]
fn window_batches_keep_the_window_in_place_and_fill_every_field() {
    for (k, b, s) in [(6, 4, 64), (1, 3, 16), (2, 5, 2), (6, 2, 7)] {
        let mut batcher = plm_windows(counting_stream(3000), k, b, s, 1);
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            assert_eq!((batch.batch_size, batch.seq_len), (b, s));
            assert_plm_contract(&batch);
            assert_eq!(
                batch.targets, batch.inputs,
                "each position predicts its own token"
            );
            for i in 0..b {
                let window = &batch.inputs[i * s..(i + 1) * s];
                assert!(window.windows(2).all(|w| w[1] == w[0] + 1), "{window:?}");
            }
            assert!(batch.pairs.is_none() && batch.segments.is_none());
            assert_eq!(batch.original_tokens, b * s);
        }
    }
}

#[test]
fn weights_are_exactly_the_predicted_positions() {
    let stream = packed_stream(3000, 2);
    for (k, s) in [(6, 64), (3, 37), (2, 16), (1, 12)] {
        for start in [0, 500, 1200] {
            let rows: Vec<Vec<u32>> = (0..4)
                .map(|i| stream[start + i * s..start + (i + 1) * s].to_vec())
                .collect();
            let mut rng = Rng::new(start as u64);
            let mut replay = rng.clone();
            let batch = windows_batch(&rows, &plm_shape(k, 4, s), &mut rng).expect("batch");
            assert_plm_contract(&batch);
            let query = batch.query.as_ref().expect("query");
            for (i, row) in rows.iter().enumerate() {
                assert_eq!(&batch.inputs[i * s..(i + 1) * s], &row[..]);
                let ex = plm_example(row, &PlmConfig { k }, SPECIALS, &mut replay);
                let eligible = row.iter().filter(|&&id| !SPECIALS.is_special(id)).count();
                let mut scored = 0;
                for (p, &id) in row.iter().enumerate() {
                    let valid = query.row_valid[i * s + p] == 1.0;
                    let expected = ex.predicted[p] && valid;
                    assert_eq!(
                        batch.loss_weights[i * s + p] == 1.0,
                        expected,
                        "row {i} pos {p}"
                    );
                    assert!(!expected || !SPECIALS.is_special(id), "a special is scored");
                    scored += usize::from(expected);
                }
                // K ≥ 2 leaves context before every target; K = 1 has no context, so the
                // first target of the order reads nothing (unless a special came first).
                let count = (eligible / k).max(1);
                let first_real_is_text = !SPECIALS.is_special(row[ex.order[0]]);
                let lost = usize::from(k == 1 && first_real_is_text);
                assert_eq!(scored, count - lost, "k {k} row {i}");
            }
        }
    }
}

#[test]
fn pair_batches_end_every_order_in_cls_and_balance_the_labels() {
    for task in [PairTask::Nsp, PairTask::Sop] {
        for (k, b, s) in [(6, 8, 32), (2, 4, 12), (1, 6, 8)] {
            let mut batcher = pair_batcher(task, k, b, s, 3);
            for _ in 0..10 {
                let batch = batcher.next_batch().expect("batch");
                assert_plm_contract(&batch);
                let pairs = batch.pairs.as_ref().expect("pair labels");
                let segments = batch.segments.as_ref().expect("segments");
                assert_eq!((pairs.heads.len(), pairs.labels.len()), (b, b));
                assert_eq!(segments.len(), b * s);
                assert_eq!(pairs.labels.iter().sum::<u32>() as usize, b / 2, "{task:?}");
                let query = batch.query.as_ref().expect("query");
                for i in 0..b {
                    let ids = &batch.inputs[i * s..(i + 1) * s];
                    let head = pairs.heads[i] as usize;
                    assert_eq!(ids[head], CLS);
                    assert_eq!(ids.iter().filter(|&&id| id == CLS).count(), 1);
                    let real: Vec<usize> = (0..s).filter(|&p| ids[p] != PAD).collect();
                    assert_eq!(real.last(), Some(&head), "padding comes after [CLS]");
                    // [CLS] is last in the order: its content row reads every real token, and
                    // its query row reads all but itself; context never reads it.
                    for &p in &real {
                        assert!(!batch.mask.is_blocked(i, head, p));
                        assert_eq!(query.mask.is_blocked(i, head, p), p == head);
                        if p != head {
                            assert!(batch.mask.is_blocked(i, p, head), "{p} reads [CLS]");
                        }
                    }
                    // Padding is never scored and never a key.
                    for p in (0..s).filter(|&p| ids[p] == PAD) {
                        assert_eq!(batch.loss_weights[i * s + p], 0.0);
                        assert_eq!(segments[i * s + p], 0);
                        for q in 0..s {
                            assert!(
                                batch.mask.is_blocked(i, q, p) && query.mask.is_blocked(i, q, p)
                            );
                        }
                    }
                    assert!(segments[i * s + head] == 1 && segments[i * s] == 0);
                }
            }
        }
    }
}

#[test]
fn same_seed_same_batches_other_seed_other() {
    let windows = |seed| {
        let mut b = plm_windows(packed_stream(3000, 0), 6, 4, 32, seed);
        (0..20)
            .map(|_| b.next_batch().expect("batch"))
            .collect::<Vec<_>>()
    };
    assert_eq!(windows(3), windows(3));
    assert_ne!(windows(3), windows(4));
    let pairs = |seed| {
        let mut b = pair_batcher(PairTask::Nsp, 6, 4, 24, seed);
        (0..20)
            .map(|_| b.next_batch().expect("batch"))
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(3), pairs(3));
    assert_ne!(pairs(3), pairs(4));
}

#[test]
fn eval_batches_are_the_same_on_every_call() {
    let stream = counting_stream(1000);
    let eval =
        |seed, wanted| eval_of(&SPEC, &stream, plm_shape(6, 4, 32), wanted, seed).expect("eval");
    let first = eval(9, 30);
    assert_eq!(first, eval(9, 30));
    assert_ne!(first, eval(10, 30), "the seed decides windows and orders");
    for batch in &first {
        assert_plm_contract(batch);
    }
    assert_eq!(eval(9, usize::MAX).len(), 1000 / 32 / 4);
    for task in [PairTask::Nsp, PairTask::Sop] {
        let size = EvalSize {
            rows: 4,
            min_scored: 12,
        };
        let eval = |seed| {
            pair_eval_batches(
                task,
                &docs(),
                pair_format(),
                &plm_shape(6, 4, 24),
                size,
                seed,
            )
            .expect("eval")
        };
        let first = eval(9);
        assert_eq!(first, eval(9));
        assert_eq!(first.len(), 3);
        for batch in &first {
            assert_plm_contract(batch);
            let labels = &batch.pairs.as_ref().expect("pairs").labels;
            assert_eq!(labels.iter().sum::<u32>(), 2);
        }
    }
}

#[test]
fn unusable_settings_and_texts_are_refused_up_front() {
    let text = counting_stream(500);
    let new = |stream: Vec<u32>, k: usize, b, s| {
        let mut knobs = crate::core::objective::spec::ObjectiveKnobs::default();
        knobs.set(&PLM_K, k as f64)?;
        window_batcher(&SPEC, &stream, shape_with(knobs, b, s, 2048), Rng::new(1)).map(|_| ())
    };
    assert!(
        matches!(new(text.clone(), 0, 4, 32), Err(CoreError::Knob(e)) if e.to_string().contains("plm_k"))
    );
    assert!(matches!(
        new(text.clone(), 6, 4, 1),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        new(text.clone(), 6, 0, 32),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(new(vec![], 6, 4, 32), Err(CoreError::Corpus(_))));
    assert!(matches!(
        eval_of(&SPEC, &[], plm_shape(6, 4, 32), 1, 1),
        Err(CoreError::Corpus(_))
    ));
    let with_pairs = |task, docs: Arc<Vec<DocSentences>>, s| {
        PairBatcher::new(task, docs, pair_format(), plm_shape(6, 4, s), Rng::new(1)).map(|_| ())
    };
    assert!(matches!(
        with_pairs(PairTask::Sop, docs(), 4),
        Err(CoreError::Config(_))
    ));
    assert!(with_pairs(PairTask::Sop, docs(), 5).is_ok());
    assert!(matches!(
        with_pairs(PairTask::Sop, Arc::new(vec![]), 32),
        Err(CoreError::Corpus(_))
    ));
    let one_document = Arc::new(docs()[..1].to_vec());
    assert!(matches!(
        with_pairs(PairTask::Nsp, one_document.clone(), 32),
        Err(CoreError::Corpus(_))
    ));
    assert!(with_pairs(PairTask::Sop, one_document, 32).is_ok());
}

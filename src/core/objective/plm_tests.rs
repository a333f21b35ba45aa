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

// ── The batcher ──────────────────────────────────────────────────────────────────────────────

use crate::core::objective::Batch;
use crate::core::objective::coherence::{PairTask, SegmentIds};

const CLS: u32 = 2;

/// Six documents of four pairs each, segments of 2 to 12 tokens.
fn pair_corpus() -> Vec<SegmentIds> {
    let mut pairs = Vec::new();
    for doc in 0..6 {
        for p in 0..4 {
            let base = 100 + (doc * 100 + p * 20) as u32;
            pairs.push(SegmentIds {
                doc,
                a: (base..base + 2 + (p * 3) as u32).collect(),
                b: (base + 10..base + 12 + doc as u32).collect(),
            });
        }
    }
    pairs
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

fn window_batcher(stream: Vec<u32>, k: usize, b: usize, s: usize, seed: u64) -> PlmBatcher {
    PlmBatcher::new(stream, PlmConfig { k }, b, s, SPECIALS, Rng::new(seed)).expect("batcher")
}

fn pair_batcher(task: PairTask, k: usize, b: usize, s: usize, seed: u64) -> PlmBatcher {
    PlmBatcher::with_pairs(
        task,
        pair_corpus(),
        PlmConfig { k },
        b,
        s,
        SPECIALS,
        Rng::new(seed),
    )
    .expect("pair batcher")
}

#[test]
fn window_batches_keep_the_window_in_place_and_fill_every_field() {
    for (k, b, s) in [(6, 4, 64), (1, 3, 16), (2, 5, 2), (6, 2, 7)] {
        let mut batcher = window_batcher(counting_stream(3000), k, b, s, 1);
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
            // Without padding exactly one query row per sequence is empty.
            assert_eq!(batch.query.as_ref().expect("query").mask.empty_rows(), b);
        }
    }
}

#[test]
fn weights_are_exactly_the_predicted_positions() {
    let stream = packed_stream(3000, 2);
    for (k, s) in [(6, 64), (3, 37), (2, 16), (1, 12)] {
        let mut batcher = window_batcher(stream.clone(), k, 4, s, 2);
        for _ in 0..5 {
            // The same draws again, by hand: windows first, then one example per row.
            let mut rng = batcher.rng.clone();
            let mut windows = match &batcher.source {
                PlmSource::Windows(w) => w.clone(),
                PlmSource::Pairs { .. } => unreachable!("a window batcher"),
            };
            let rows = windows.next(4, &mut rng);
            let batch = batcher.next_batch().expect("batch");
            assert_plm_contract(&batch);
            let query = batch.query.as_ref().expect("query");
            for (i, row) in rows.iter().enumerate() {
                assert_eq!(&batch.inputs[i * s..(i + 1) * s], &row[..]);
                let ex = plm_example(row, &PlmConfig { k }, SPECIALS, &mut rng);
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
                // K ≥ 2 never predicts the first of an order; K = 1 loses just that one.
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
                    // [CLS] is last in the order: its content row reads every real token, no
                    // other real token reads it, and its query row reads all but itself.
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
        let mut b = window_batcher(packed_stream(3000, 0), 6, 4, 32, seed);
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
    let config = PlmConfig::default();
    let eval = |seed| plm_eval_batches(&stream, config, 4, 32, 5, SPECIALS, seed).expect("eval");
    let first = eval(9);
    assert_eq!(first, eval(9));
    assert_ne!(first, eval(10), "the seed decides the orders");
    assert_eq!(first.len(), 5);
    for (n, batch) in first.iter().enumerate() {
        assert_plm_contract(batch);
        let start = 100 + (n * 4 * 32) as u32;
        assert_eq!(batch.inputs, (start..start + 4 * 32).collect::<Vec<u32>>());
    }
    let few = plm_eval_batches(&stream, config, 4, 32, 100, SPECIALS, 9).expect("eval");
    assert_eq!(few.len(), 1000 / 32 / 4);

    let pairs = pair_corpus();
    for task in [PairTask::Nsp, PairTask::Sop] {
        let eval = |seed| {
            plm_pair_eval_batches(task, &pairs, config, 4, 24, 3, SPECIALS, seed).expect("eval")
        };
        let first = eval(9);
        assert_eq!(first, eval(9));
        assert_eq!(first.len(), 3);
        for batch in &first {
            assert_plm_contract(batch);
            let labels = &batch.pairs.as_ref().expect("pairs").labels;
            assert_eq!(labels.iter().sum::<u32>(), 2);
        }
        let all = plm_pair_eval_batches(task, &pairs, config, 4, 24, 100, SPECIALS, 9);
        assert_eq!(all.expect("eval").len(), 24 / 4);
    }
}

#[test]
fn unusable_settings_and_texts_are_refused_up_front() {
    let text = counting_stream(500);
    let new = |stream: Vec<u32>, k, b, s| {
        PlmBatcher::new(stream, PlmConfig { k }, b, s, SPECIALS, Rng::new(1)).map(|_| ())
    };
    let with_pairs = |task, pairs: Vec<SegmentIds>, s| {
        PlmBatcher::with_pairs(
            task,
            pairs,
            PlmConfig::default(),
            4,
            s,
            SPECIALS,
            Rng::new(1),
        )
        .map(|_| ())
    };
    assert!(
        matches!(new(text.clone(), 0, 4, 32), Err(CoreError::Config(m)) if m.contains("plm k"))
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
    let config = PlmConfig::default();
    assert!(matches!(
        plm_eval_batches(&[], config, 4, 32, 2, SPECIALS, 1),
        Err(CoreError::Corpus(_))
    ));
    assert!(matches!(
        plm_eval_batches(&text, config, 4, 32, 0, SPECIALS, 1),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        with_pairs(PairTask::Sop, pair_corpus(), 4),
        Err(CoreError::Config(_))
    ));
    assert!(with_pairs(PairTask::Sop, pair_corpus(), 5).is_ok());
    assert!(matches!(
        with_pairs(PairTask::Sop, vec![], 32),
        Err(CoreError::Corpus(_))
    ));
    let one_document: Vec<SegmentIds> = pair_corpus().into_iter().filter(|p| p.doc == 0).collect();
    assert!(matches!(
        with_pairs(PairTask::Nsp, one_document.clone(), 32),
        Err(CoreError::Corpus(_))
    ));
    assert!(with_pairs(PairTask::Sop, one_document.clone(), 32).is_ok());
    assert!(matches!(
        plm_pair_eval_batches(PairTask::Nsp, &one_document, config, 4, 32, 2, SPECIALS, 1),
        Err(CoreError::Corpus(_))
    ));
}

//! Tests of sentence-pair items, packing and batching.

use super::*;
use crate::core::objective::test_support::SPECIALS;

/// Six documents of four pairs each; every segment's ids are unique to it, so a segment
/// can be traced back to its document.
fn corpus() -> Vec<SegmentIds> {
    let mut pairs = Vec::new();
    for doc in 0..6 {
        for p in 0..4 {
            let base = 100 + (doc * 100 + p * 20) as u32;
            pairs.push(SegmentIds {
                doc,
                a: (base..base + 3 + p as u32).collect(),
                b: (base + 10..base + 12 + doc as u32).collect(),
            });
        }
    }
    pairs
}

fn doc_of_segment(pairs: &[SegmentIds], segment: &[u32]) -> Option<usize> {
    pairs
        .iter()
        .find(|p| p.a == segment || p.b == segment)
        .map(|p| p.doc)
}

#[test]
fn make_items_is_exactly_balanced_for_both_tasks() {
    let pairs = corpus();
    for task in [PairTask::Nsp, PairTask::Sop] {
        for seed in 0..20 {
            let mut rng = Rng::new(seed);
            let indices: Vec<usize> = (0..pairs.len()).chain(0..pairs.len()).collect();
            let items = make_items(task, &pairs, &indices, &mut rng);
            assert_eq!(items.len(), 48);
            let positives = items.iter().filter(|i| i.label == 1).count();
            assert_eq!(positives, 24, "{task:?} seed {seed}");
            // Odd sizes are off by at most one.
            let items = make_items(task, &pairs, &indices[..7], &mut rng);
            let positives = items.iter().filter(|i| i.label == 1).count();
            assert!(positives == 3 || positives == 4, "{positives} of 7");
        }
    }
    // The labels are shuffled, not dealt in a fixed pattern.
    let items = make_items(PairTask::Sop, &pairs, &[0; 24], &mut Rng::new(1));
    let labels: Vec<u8> = items.iter().map(|i| i.label).collect();
    assert_ne!(labels[..12], [1; 12]);
}

#[test]
fn make_item_flips_a_fair_coin() {
    let pairs = corpus();
    let mut rng = Rng::new(8);
    let n = 4000;
    let positives = (0..n)
        .filter_map(|k| make_item(PairTask::Nsp, &pairs, k % pairs.len(), &mut rng))
        .filter(|i| i.label == 1)
        .count();
    // σ = sqrt(n/4) ≈ 31.6; ±150 is over 4.5σ.
    assert!(positives.abs_diff(n / 2) < 150, "{positives} of {n}");
}

#[test]
fn sop_negatives_are_exactly_swapped_positives() {
    let pairs = corpus();
    let mut rng = Rng::new(3);
    let indices: Vec<usize> = (0..pairs.len()).collect();
    let items = make_items(PairTask::Sop, &pairs, &indices, &mut rng);
    for (item, pair) in items.iter().zip(&pairs) {
        if item.label == 1 {
            assert_eq!((&item.a, &item.b), (&pair.a, &pair.b));
        } else {
            assert_eq!((&item.a, &item.b), (&pair.b, &pair.a));
        }
    }
    for k in 0..200 {
        let index = k % pairs.len();
        let item = make_item(PairTask::Sop, &pairs, index, &mut rng).expect("sop item");
        let pair = &pairs[index];
        let expected = if item.label == 1 {
            (&pair.a, &pair.b)
        } else {
            (&pair.b, &pair.a)
        };
        assert_eq!((&item.a, &item.b), expected);
    }
}

#[test]
fn nsp_negatives_come_from_another_document() {
    let pairs = corpus();
    let mut rng = Rng::new(4);
    let indices: Vec<usize> = (0..pairs.len()).cycle().take(480).collect();
    let items = make_items(PairTask::Nsp, &pairs, &indices, &mut rng);
    let mut from_a = 0;
    for (item, &index) in items.iter().zip(&indices) {
        let pair = &pairs[index];
        assert_eq!(item.a, pair.a, "A is always the pair's own A");
        if item.label == 1 {
            assert_eq!(item.b, pair.b);
        } else {
            let doc = doc_of_segment(&pairs, &item.b).expect("B is a corpus segment");
            assert_ne!(doc, pair.doc, "negative B from the same document");
            from_a += usize::from(pairs.iter().any(|p| p.a == item.b));
        }
    }
    assert!(
        from_a > 60 && from_a < 180,
        "either segment of the other pair: {from_a}"
    );
}

#[test]
fn nsp_finds_the_one_other_document_and_refuses_when_there_is_none() {
    let mut pairs: Vec<SegmentIds> = (0..50)
        .map(|i| SegmentIds {
            doc: 0,
            a: vec![100 + i],
            b: vec![200 + i],
        })
        .collect();
    let single = pairs.clone();
    let mut rng = Rng::new(5);
    let mut nones = 0;
    for k in 0..60 {
        match make_item(PairTask::Nsp, &single, k % 50, &mut rng) {
            Some(item) => assert_eq!(item.label, 1),
            None => nones += 1,
        }
    }
    assert!(nones > 0, "a negative with one document is impossible");
    assert!(make_items(PairTask::Nsp, &single, &[0, 1, 2, 3], &mut rng).is_empty());
    assert!(matches!(
        check_pairs(PairTask::Nsp, &single),
        Err(CoreError::Corpus(_))
    ));
    assert_eq!(check_pairs(PairTask::Sop, &single), Ok(()));
    assert!(check_pairs(PairTask::Sop, &[]).is_err());

    pairs.push(SegmentIds {
        doc: 1,
        a: vec![900],
        b: vec![901],
    });
    let indices: Vec<usize> = (0..50).collect();
    let items = make_items(PairTask::Nsp, &pairs, &indices, &mut rng);
    assert_eq!(items.len(), 50);
    for item in items.iter().filter(|i| i.label == 0) {
        assert!(item.b == [900] || item.b == [901], "{:?}", item.b);
    }
    assert!(make_item(PairTask::Nsp, &pairs, 99, &mut rng).is_none());
}

#[test]
fn same_seed_same_items() {
    let pairs = corpus();
    let indices: Vec<usize> = (0..pairs.len()).rev().collect();
    for task in [PairTask::Nsp, PairTask::Sop] {
        let run = |seed| make_items(task, &pairs, &indices, &mut Rng::new(seed));
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

#[test]
fn pack_layouts_are_exact() {
    let item = PairItem {
        a: vec![30, 31],
        b: vec![40],
        label: 1,
    };
    let first = pack(&item, PairLayout::ClsFirst, 16, SPECIALS).expect("pack");
    assert_eq!(first.ids, vec![2, 30, 31, 3, 40, 3]);
    assert_eq!(first.segments, vec![0, 0, 0, 0, 1, 1]);
    assert_eq!(first.head, 0);
    assert_eq!(first.ids[first.head], SPECIALS.cls);
    assert_eq!(first.original_tokens, 3);

    let last = pack(&item, PairLayout::ClsLast, 16, SPECIALS).expect("pack");
    assert_eq!(last.ids, vec![30, 31, 3, 40, 3, 2]);
    assert_eq!(last.segments, vec![0, 0, 0, 1, 1, 1]);
    assert_eq!(last.head, 5);
    assert_eq!(last.ids[last.head], SPECIALS.cls);
    assert_eq!(last.original_tokens, 3);
}

#[test]
fn truncation_is_longest_first_and_keeps_the_boundary() {
    let item = PairItem {
        a: (30..40).collect(),
        b: (50..54).collect(),
        label: 0,
    };
    // Budget 6 for A and B: A 10→4, then B (tie) 4→3, then A 4→3.
    let packed = pack(&item, PairLayout::ClsFirst, 9, SPECIALS).expect("pack");
    assert_eq!(packed.ids, vec![2, 37, 38, 39, 3, 50, 51, 52, 3]);
    assert_eq!(packed.segments, vec![0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(packed.original_tokens, 6);
    let packed = pack(&item, PairLayout::ClsLast, 9, SPECIALS).expect("pack");
    assert_eq!(packed.ids, vec![37, 38, 39, 3, 50, 51, 52, 3, 2]);
    assert_eq!(packed.head, 8);

    // Property over many shapes: fits, keeps both sides of the junction, counts right.
    let mut rng = Rng::new(6);
    for _ in 0..2000 {
        let la = rng.below(40);
        let lb = rng.below(40);
        let max_len = MIN_PAIR_LEN + rng.below(50);
        let item = PairItem {
            a: (0..la).map(|i| 100 + i as u32).collect(),
            b: (0..lb).map(|i| 500 + i as u32).collect(),
            label: 1,
        };
        for layout in [PairLayout::ClsFirst, PairLayout::ClsLast] {
            let p = pack(&item, layout, max_len, SPECIALS).expect("pack");
            assert!(p.ids.len() <= max_len);
            assert_eq!(p.ids.len(), p.segments.len());
            assert_eq!(p.ids[p.head], SPECIALS.cls);
            assert_eq!(p.original_tokens, (la + lb).min(max_len - 3));
            let sep = p.ids.iter().position(|&id| id == 3).expect("first [SEP]");
            if la > 0 {
                assert_eq!(p.ids[sep - 1], item.a[la - 1], "A's last token kept");
            }
            if lb > 0 {
                assert_eq!(p.ids[sep + 1], item.b[0], "B's first token kept");
            }
            let kept_a = p.ids.iter().filter(|&&id| (100..500).contains(&id)).count();
            let kept_b = p.ids.iter().filter(|&&id| id >= 500).count();
            assert_eq!(kept_a > 0, la > 0, "a non-empty A keeps a token");
            assert_eq!(kept_b > 0, lb > 0, "a non-empty B keeps a token");
            assert!(p.segments[..=sep].iter().all(|&s| s == 0));
            assert!(p.segments[sep + 1..].iter().all(|&s| s == 1));
        }
    }
}

#[test]
fn too_short_a_length_is_an_error_and_five_is_enough() {
    let item = PairItem {
        a: vec![30, 31, 32],
        b: vec![40, 41],
        label: 1,
    };
    for max_len in 0..MIN_PAIR_LEN {
        let err = pack(&item, PairLayout::ClsFirst, max_len, SPECIALS);
        assert!(
            matches!(err, Err(CoreError::Config(_))),
            "{max_len}: {err:?}"
        );
    }
    let p = pack(&item, PairLayout::ClsFirst, 5, SPECIALS).expect("pack");
    assert_eq!(p.ids, vec![2, 32, 3, 40, 3]);
}

#[test]
fn empty_segments_pack_with_zero_tokens() {
    let specials = SPECIALS;
    let empty_a = PairItem {
        a: vec![],
        b: vec![40, 41],
        label: 1,
    };
    let p = pack(&empty_a, PairLayout::ClsFirst, 8, specials).expect("pack");
    assert_eq!(p.ids, vec![2, 3, 40, 41, 3]);
    assert_eq!(p.segments, vec![0, 0, 1, 1, 1]);
    let empty_b = PairItem {
        a: vec![30],
        b: vec![],
        label: 0,
    };
    let p = pack(&empty_b, PairLayout::ClsLast, 8, specials).expect("pack");
    assert_eq!(p.ids, vec![30, 3, 3, 2]);
    assert_eq!((p.head, p.original_tokens), (3, 1));
    let both = PairItem {
        a: vec![],
        b: vec![],
        label: 0,
    };
    for layout in [PairLayout::ClsFirst, PairLayout::ClsLast] {
        let p = pack(&both, layout, 5, specials).expect("pack");
        assert_eq!(p.ids.len(), 3);
        assert_eq!(p.original_tokens, 0);
        assert_eq!(p.ids[p.head], specials.cls);
    }
}

// ---- Batching ---------------------------------------------------------------------------

const VOCAB: usize = 1000;

fn all_tokens() -> [PairTokens; 3] {
    [
        PairTokens::None,
        PairTokens::Mlm(MlmConfig::default()),
        PairTokens::Clm,
    ]
}

fn batcher(
    task: PairTask,
    tokens: PairTokens,
    batch_size: usize,
    seq_len: usize,
    seed: u64,
) -> PairBatcher {
    PairBatcher::new(
        task,
        corpus(),
        tokens,
        batch_size,
        seq_len,
        SPECIALS,
        VOCAB,
        Rng::new(seed),
    )
    .expect("pair batcher")
}

/// Real length of a row: where the padding starts.
fn real_len(row: &[u32]) -> usize {
    row.iter().position(|&id| id == 0).unwrap_or(row.len())
}

/// The A and B segments of a row packed without token corruption (`PairTokens::None` inputs,
/// or any row's targets under MLM).
fn split_row(row: &[u32], layout: PairLayout) -> (Vec<u32>, Vec<u32>) {
    let real = &row[..real_len(row)];
    let body = match layout {
        PairLayout::ClsFirst => &real[1..],
        PairLayout::ClsLast => &real[..real.len() - 1],
    };
    let sep = body.iter().position(|&id| id == 3).expect("first [SEP]");
    (body[..sep].to_vec(), body[sep + 1..body.len() - 1].to_vec())
}

/// Every structural property of a pair batch, whatever its token objective.
fn assert_pair_batch(batch: &Batch, tokens: PairTokens, batch_size: usize, seq_len: usize) {
    let s = SPECIALS;
    let n = batch_size * seq_len;
    assert_eq!(
        (batch.batch_size, batch.seq_len, batch.target_len),
        (batch_size, seq_len, seq_len)
    );
    let segments = batch.segments.as_ref().expect("segments");
    for len in [
        batch.inputs.len(),
        batch.targets.len(),
        batch.loss_weights.len(),
        batch.corrupted.len(),
        segments.len(),
    ] {
        assert_eq!(len, n);
    }
    assert_eq!(
        (
            batch.mask.batch_size,
            batch.mask.seq_len,
            batch.mask.blocked.len()
        ),
        (batch_size, seq_len, n * seq_len)
    );
    assert_eq!(batch.mask.empty_rows(), 0);
    assert!(batch.decoder.is_none() && batch.query.is_none());
    let pairs = batch.pairs.as_ref().expect("pair labels");
    assert_eq!(
        (pairs.heads.len(), pairs.labels.len()),
        (batch_size, batch_size)
    );
    assert!(pairs.labels.iter().all(|&l| l <= 1));
    assert_eq!(
        pairs.labels.iter().filter(|&&l| l == 1).count() * 2,
        batch_size,
        "exactly half positives: {:?}",
        pairs.labels
    );

    let layout = tokens.layout();
    let mut supervised = 0;
    for row in 0..batch_size {
        let range = row * seq_len..(row + 1) * seq_len;
        // Under MLM the inputs hold [MASK]s, never [PAD]; targets are the packed ids.
        let packed = &batch.targets[range.clone()];
        let len = match tokens {
            PairTokens::Clm => real_len(&batch.inputs[range.clone()]),
            _ => real_len(packed),
        };
        let inputs = &batch.inputs[range.clone()];
        let weights = &batch.loss_weights[range.clone()];
        let corrupted = &batch.corrupted[range.clone()];
        let seg = &segments[range.clone()];
        assert!(inputs[len..].iter().all(|&id| id == s.pad), "right-padded");
        assert!(
            inputs[..len].iter().all(|&id| id != s.pad),
            "no padding inside"
        );

        // The head reads [CLS]: first, or the last real position.
        let head = pairs.heads[row] as usize;
        assert_eq!(inputs[head], s.cls);
        match layout {
            PairLayout::ClsFirst => assert_eq!(head, 0),
            PairLayout::ClsLast => assert_eq!(head, len - 1),
        }
        // Segments: 0 for [CLS] A [SEP], 1 for B [SEP] (and a trailing [CLS]), 0 for padding.
        let ids = if matches!(tokens, PairTokens::Mlm(_)) {
            packed
        } else {
            inputs
        };
        let first_sep = ids.iter().position(|&id| id == s.sep).expect("[SEP]");
        assert_eq!(ids[..len].iter().filter(|&&id| id == s.sep).count(), 2);
        assert!(seg[..=first_sep].iter().all(|&x| x == 0), "{seg:?}");
        assert!(seg[first_sep + 1..len].iter().all(|&x| x == 1), "{seg:?}");
        assert!(seg[len..].iter().all(|&x| x == 0), "{seg:?}");

        // Padded keys are blocked for every query; real keys follow the layout's rule.
        for q in 0..seq_len {
            for k in 0..seq_len {
                let blocked = batch.mask.is_blocked(row, q, k);
                if k >= len {
                    assert!(
                        blocked || k == q,
                        "row {row}: query {q} reads padded key {k}"
                    );
                } else if layout == PairLayout::ClsFirst || q < len {
                    let expect = layout == PairLayout::ClsLast && k > q;
                    assert_eq!(blocked, expect, "row {row}: query {q}, key {k}");
                }
            }
        }

        // Padding is never scored; corrupted ⊆ weighted.
        assert!(weights[len..].iter().all(|&w| w == 0.0), "padding weighted");
        for i in 0..seq_len {
            assert!(corrupted[i] <= weights[i]);
        }
        supervised += weights.iter().filter(|&&w| w > 0.0).count();
        match tokens {
            PairTokens::None => {
                assert_eq!(inputs, packed);
                assert!(weights.iter().chain(corrupted).all(|&w| w == 0.0));
            }
            PairTokens::Mlm(_) => {
                for i in 0..seq_len {
                    if s.is_special(packed[i]) {
                        assert_eq!(weights[i], 0.0, "special {} selected", packed[i]);
                        assert_eq!(inputs[i], packed[i], "special {} changed", packed[i]);
                    }
                    if weights[i] == 0.0 || corrupted[i] == 0.0 {
                        assert_eq!(inputs[i], packed[i]);
                    }
                }
                let eligible = packed.iter().filter(|&&id| !s.is_special(id)).count();
                let selected = weights.iter().filter(|&&w| w == 1.0).count();
                assert_eq!(selected, ((0.15 * eligible as f64).round() as usize).max(1));
            }
            PairTokens::Clm => {
                for i in 0..seq_len {
                    if i + 1 < len {
                        assert_eq!(packed[i], inputs[i + 1], "next id at {i}");
                        assert_eq!(weights[i], 1.0);
                    } else {
                        assert_eq!(weights[i], 0.0, "a weight crosses into padding at {i}");
                    }
                }
                assert_eq!(corrupted, weights);
            }
        }
    }
    assert_eq!(batch.supervised_tokens, supervised);
}

#[test]
fn pair_batches_have_every_field_in_shape_for_every_token_objective() {
    for task in [PairTask::Nsp, PairTask::Sop] {
        for tokens in all_tokens() {
            // 24 tokens fit every corpus pair (so rows are padded); 9 forces truncation.
            for seq_len in [24, 9] {
                let mut b = batcher(task, tokens, 6, seq_len, 1);
                for _ in 0..30 {
                    let batch = b.next_batch().expect("batch");
                    assert_pair_batch(&batch, tokens, 6, seq_len);
                }
            }
        }
    }
}

#[test]
fn pair_rows_are_padded_and_truncated_rows_are_full() {
    let mut b = batcher(PairTask::Sop, PairTokens::None, 8, 24, 2);
    let batch = b.next_batch().expect("batch");
    let pads = batch.inputs.iter().filter(|&&id| id == 0).count();
    assert!(pads > 0, "short pairs are padded");
    let real = batch
        .inputs
        .iter()
        .filter(|&&id| !SPECIALS.is_special(id))
        .count();
    assert_eq!(
        batch.original_tokens, real,
        "A and B tokens, no specials or padding"
    );

    let mut b = batcher(PairTask::Sop, PairTokens::None, 8, 6, 2);
    let batch = b.next_batch().expect("batch");
    assert!(
        batch.inputs.iter().all(|&id| id != 0),
        "a truncated pair fills its row"
    );
    assert_eq!(batch.original_tokens, 8 * 3);
}

#[test]
fn pair_sop_negatives_are_the_positive_swapped() {
    // Two hand-made pairs; every segment is unique, so a row says exactly where it came from.
    let pairs = vec![
        SegmentIds {
            doc: 0,
            a: vec![30, 31, 32],
            b: vec![40, 41],
        },
        SegmentIds {
            doc: 0,
            a: vec![50],
            b: vec![60, 61, 62, 63],
        },
    ];
    for tokens in [PairTokens::None, PairTokens::Clm] {
        let mut b = PairBatcher::new(
            PairTask::Sop,
            pairs.clone(),
            tokens,
            4,
            16,
            SPECIALS,
            VOCAB,
            Rng::new(5),
        )
        .expect("batcher");
        for _ in 0..20 {
            let batch = b.next_batch().expect("batch");
            let labels = &batch.pairs.as_ref().expect("pairs").labels;
            for (row, &label) in labels.iter().enumerate() {
                let (a, b) = split_row(&batch.inputs[row * 16..(row + 1) * 16], tokens.layout());
                let expected = pairs.iter().any(|p| {
                    if label == 1 {
                        (&p.a, &p.b) == (&a, &b)
                    } else {
                        (&p.b, &p.a) == (&a, &b)
                    }
                });
                assert!(expected, "label {label}: A {a:?}, B {b:?}");
            }
        }
    }
}

#[test]
fn pair_nsp_negatives_come_from_another_document() {
    let pairs = corpus();
    let mut b = batcher(PairTask::Nsp, PairTokens::None, 8, 32, 6);
    let mut negatives = 0;
    for _ in 0..30 {
        let batch = b.next_batch().expect("batch");
        let labels = &batch.pairs.as_ref().expect("pairs").labels;
        for (row, &label) in labels.iter().enumerate() {
            let (a, b) = split_row(
                &batch.inputs[row * 32..(row + 1) * 32],
                PairLayout::ClsFirst,
            );
            let own = pairs.iter().find(|p| p.a == a).expect("A is a pair's A");
            if label == 1 {
                assert_eq!(b, own.b);
            } else {
                let doc = doc_of_segment(&pairs, &b).expect("B is a corpus segment");
                assert_ne!(doc, own.doc, "negative from the same document");
                negatives += 1;
            }
        }
    }
    assert_eq!(negatives, 30 * 4);
}

#[test]
fn pair_clm_targets_are_the_next_ids_up_to_the_padding() {
    let item = SegmentIds {
        doc: 0,
        a: vec![30, 31],
        b: vec![40],
    };
    let batch = PairBatcher::new(
        PairTask::Sop,
        vec![item],
        PairTokens::Clm,
        2,
        8,
        SPECIALS,
        VOCAB,
        Rng::new(1),
    )
    .expect("batcher")
    .next_batch()
    .expect("batch");
    let labels = &batch.pairs.as_ref().expect("pairs").labels;
    let positive = labels.iter().position(|&l| l == 1).expect("a positive");
    let row = positive * 8..(positive + 1) * 8;
    assert_eq!(&batch.inputs[row.clone()], &[30, 31, 3, 40, 3, 2, 0, 0]);
    assert_eq!(&batch.targets[row.clone()], &[31, 3, 40, 3, 2, 0, 0, 0]);
    assert_eq!(
        &batch.loss_weights[row.clone()],
        &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    );
    assert_eq!(
        &batch.segments.as_ref().expect("segments")[row],
        &[0, 0, 0, 1, 1, 1, 0, 0]
    );
    assert_eq!(batch.pairs.as_ref().expect("pairs").heads[positive], 5);
    assert_eq!(batch.supervised_tokens, 10);
    assert_eq!(batch.original_tokens, 6);
}

#[test]
fn pair_mlm_never_masks_cls_sep_or_padding() {
    let config = MlmConfig {
        mask_rate: 1.0, // every eligible position: any special selected would show
        ..MlmConfig::default()
    };
    let s = SPECIALS;
    let mut b = batcher(PairTask::Nsp, PairTokens::Mlm(config), 8, 24, 3);
    for _ in 0..50 {
        let batch = b.next_batch().expect("batch");
        for i in 0..batch.inputs.len() {
            let target = batch.targets[i];
            let selected = batch.loss_weights[i] > 0.0;
            assert_eq!(selected, !s.is_special(target), "position {i}, id {target}");
            if [s.cls, s.sep, s.pad].contains(&target) {
                assert_eq!(batch.inputs[i], target);
            }
        }
    }
}

#[test]
fn pair_mlm_row_of_only_specials_carries_its_label_without_token_loss() {
    let pairs = vec![
        SegmentIds {
            doc: 0,
            a: vec![],
            b: vec![],
        },
        SegmentIds {
            doc: 0,
            a: vec![],
            b: vec![],
        },
    ];
    let batch = PairBatcher::new(
        PairTask::Sop,
        pairs,
        PairTokens::Mlm(MlmConfig::default()),
        2,
        8,
        SPECIALS,
        VOCAB,
        Rng::new(1),
    )
    .expect("batcher")
    .next_batch()
    .expect("batch");
    assert_eq!(batch.supervised_tokens, 0);
    assert_eq!(batch.pairs.as_ref().expect("pairs").labels.len(), 2);
}

#[test]
fn pair_same_seed_same_batches_and_eval_batches_are_fixed() {
    for task in [PairTask::Nsp, PairTask::Sop] {
        for tokens in all_tokens() {
            let draw = |seed| {
                let mut b = batcher(task, tokens, 4, 20, seed);
                (0..10)
                    .map(|_| b.next_batch().expect("batch"))
                    .collect::<Vec<_>>()
            };
            assert_eq!(draw(3), draw(3));
            assert_ne!(draw(3), draw(4));

            let eval = |seed, max| {
                pair_eval_batches(task, &corpus(), tokens, 4, 20, max, SPECIALS, VOCAB, seed)
                    .expect("eval")
            };
            let first = eval(7, 3);
            assert_eq!(first.len(), 3);
            assert_eq!(
                first,
                eval(7, 3),
                "every evaluation asks the same questions"
            );
            assert_ne!(first, eval(8, 3));
            assert_eq!(eval(7, 100).len(), 6, "24 pairs make 6 batches of 4");
            for batch in &first {
                assert_pair_batch(batch, tokens, 4, 20);
            }
        }
    }
    // Fewer pairs than one batch: cycled to one batch.
    let few = &corpus()[..3];
    let batches = pair_eval_batches(
        PairTask::Sop,
        few,
        PairTokens::None,
        8,
        20,
        5,
        SPECIALS,
        VOCAB,
        1,
    )
    .expect("eval");
    assert_eq!(batches.len(), 1);
    assert_pair_batch(&batches[0], PairTokens::None, 8, 20);
}

#[test]
fn pair_batcher_refuses_what_it_cannot_batch_with_typed_errors() {
    let single: Vec<SegmentIds> = corpus().into_iter().filter(|p| p.doc == 0).collect();
    let new = |task, pairs: Vec<SegmentIds>, tokens, batch_size, seq_len, vocab| {
        PairBatcher::new(
            task,
            pairs,
            tokens,
            batch_size,
            seq_len,
            SPECIALS,
            vocab,
            Rng::new(1),
        )
        .map(|_| ())
    };
    let corpus_err = |r: Result<(), CoreError>| matches!(r, Err(CoreError::Corpus(_)));
    let config_err = |r: Result<(), CoreError>| matches!(r, Err(CoreError::Config(_)));
    assert!(corpus_err(new(
        PairTask::Nsp,
        single.clone(),
        PairTokens::None,
        4,
        16,
        VOCAB
    )));
    assert_eq!(
        new(PairTask::Sop, single, PairTokens::None, 4, 16, VOCAB),
        Ok(())
    );
    assert!(corpus_err(new(
        PairTask::Sop,
        vec![],
        PairTokens::None,
        4,
        16,
        VOCAB
    )));
    for batch_size in [0, 1, 7] {
        assert!(config_err(new(
            PairTask::Sop,
            corpus(),
            PairTokens::None,
            batch_size,
            16,
            VOCAB
        )));
    }
    assert!(config_err(new(
        PairTask::Sop,
        corpus(),
        PairTokens::Clm,
        4,
        MIN_PAIR_LEN - 1,
        VOCAB
    )));
    assert_eq!(
        new(
            PairTask::Sop,
            corpus(),
            PairTokens::Clm,
            4,
            MIN_PAIR_LEN,
            VOCAB
        ),
        Ok(())
    );
    let bad = PairTokens::Mlm(MlmConfig {
        mask_rate: 2.0,
        ..MlmConfig::default()
    });
    assert!(config_err(new(PairTask::Sop, corpus(), bad, 4, 16, VOCAB)));
    let mlm = PairTokens::Mlm(MlmConfig::default());
    assert!(config_err(new(PairTask::Sop, corpus(), mlm, 4, 16, 23)));
    assert_eq!(
        new(PairTask::Sop, corpus(), PairTokens::Clm, 4, 16, 23),
        Ok(())
    );
    let eval = pair_eval_batches(
        PairTask::Sop,
        &corpus(),
        PairTokens::None,
        4,
        16,
        0,
        SPECIALS,
        VOCAB,
        1,
    );
    assert!(config_err(eval.map(|_| ())));
}

#[test]
fn pair_tokens_choose_the_layout_and_serialise_in_snake_case() {
    assert_eq!(PairTokens::None.layout(), PairLayout::ClsFirst);
    assert_eq!(
        PairTokens::Mlm(MlmConfig::default()).layout(),
        PairLayout::ClsFirst
    );
    assert_eq!(PairTokens::Clm.layout(), PairLayout::ClsLast);
    let json = serde_json::to_string(&[PairTokens::None, PairTokens::Clm]).expect("json");
    assert_eq!(json, r#"["none","clm"]"#);
    let back: PairTokens =
        serde_json::from_str(r#"{"mlm":{"mask_rate":0.15,"mask_token":0.8,"random_token":0.1}}"#)
            .expect("mlm tokens");
    assert_eq!(back, PairTokens::Mlm(MlmConfig::default()));
}

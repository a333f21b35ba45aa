//! Tests of sentence-pair segments, items, packing and batching.

use std::sync::Arc;

use super::*;
use crate::core::objective::spec::{BatchSource, WithPairs};
use crate::core::objective::test_support::{SPECIALS, shape};
use crate::core::objective::{Objective, clm, mlm};

/// The token side a pair batch is built with in these tests.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tokens {
    None,
    Mlm,
    Clm,
}

impl Tokens {
    fn format(self) -> PairFormat {
        let same_batch = |spec: &crate::core::objective::spec::ObjectiveSpec| match spec
            .tokens()
            .expect("a token objective")
            .with_pairs
        {
            WithPairs::SameBatch { layout, rows, .. } => PairFormat { layout, rows },
            WithPairs::Alternate { .. } => unreachable!("same batch"),
        };
        match self {
            Tokens::None => PairFormat::ALONE,
            Tokens::Mlm => same_batch(&mlm::SPEC),
            Tokens::Clm => same_batch(&clm::SPEC),
        }
    }

    fn layout(self) -> PairLayout {
        self.format().layout
    }
}

const ALL_TOKENS: [Tokens; 3] = [Tokens::None, Tokens::Mlm, Tokens::Clm];

/// Six documents of six sentences; sentence `k` of document `d` has `2 + (d + k) % 4` tokens,
/// all its own (`1000·d + 100·k + i`), so a segment can be traced back to where it came from.
fn docs() -> Arc<Vec<DocSentences>> {
    Arc::new(
        (0..6)
            .map(|doc| DocSentences {
                doc,
                sentences: (0..6)
                    .map(|k| {
                        let base = 1000 * doc as u32 + 100 * k as u32 + 30;
                        (base..base + 2 + ((doc + k) % 4) as u32).collect()
                    })
                    .collect(),
            })
            .collect(),
    )
}

fn doc_of(id: u32) -> usize {
    ((id - 30) / 1000) as usize
}

fn sentence_of(id: u32) -> usize {
    (((id - 30) % 1000) / 100) as usize
}

fn batcher(
    task: PairTask,
    tokens: Tokens,
    batch_size: usize,
    seq_len: usize,
    seed: u64,
) -> PairBatcher {
    PairBatcher::new(
        task,
        docs(),
        tokens.format(),
        shape(batch_size, seq_len),
        Rng::new(seed),
    )
    .expect("pair batcher")
}

#[test]
fn chunks_are_consecutive_whole_sentences_of_one_document_split_at_a_boundary() {
    let docs = docs();
    for budget in [5, 9, 13, 29, 61] {
        let mut rng = Rng::new(budget as u64);
        for _ in 0..20 {
            for chunk in chunks(&docs, budget, &mut rng) {
                assert!(!chunk.a.is_empty() && !chunk.b.is_empty());
                let ids: Vec<u32> = chunk.a.iter().chain(&chunk.b).copied().collect();
                assert!(
                    ids.iter().all(|&id| doc_of(id) == chunk.doc),
                    "one document"
                );
                // Whole sentences, consecutive, in order.
                let sentences: Vec<usize> = {
                    let mut v: Vec<usize> = ids.iter().map(|&id| sentence_of(id)).collect();
                    v.dedup();
                    v
                };
                assert!(
                    sentences.windows(2).all(|w| w[1] == w[0] + 1),
                    "{sentences:?}"
                );
                for &k in &sentences {
                    let whole = &docs[chunk.doc].sentences[k];
                    let taken = ids.iter().filter(|&&id| sentence_of(id) == k).count();
                    assert_eq!(taken, whole.len(), "sentence {k} is whole");
                }
                // The split is at a sentence boundary.
                let last_a = sentence_of(*chunk.a.last().expect("a"));
                let first_b = sentence_of(chunk.b[0]);
                assert_eq!(first_b, last_a + 1);
                // It fits, unless two sentences alone do not.
                if sentences.len() > 2 {
                    assert!(ids.len() <= budget, "{} > {budget}", ids.len());
                }
            }
        }
    }
    // The same seed cuts the same chunks.
    let cut = |seed| chunks(&docs, 20, &mut Rng::new(seed));
    assert_eq!(cut(4), cut(4));
    assert_ne!(cut(4), cut(5));
}

#[test]
fn labels_are_exactly_balanced_and_negatives_follow_the_task() {
    let docs = docs();
    for task in [PairTask::Nsp, PairTask::Sop] {
        for seed in 0..10 {
            let mut rng = Rng::new(seed);
            let all = chunks(&docs, 20, &mut rng);
            let picked: Vec<usize> = (0..all.len().min(16)).collect();
            let (items, _) = label_items(task, &all, &picked, &mut rng);
            assert_eq!(items.len(), picked.len());
            assert_eq!(
                items.iter().filter(|i| i.label == 1).count() * 2,
                picked.len()
            );
            for (item, &k) in items.iter().zip(&picked) {
                let chunk = &all[k];
                match (item.label, task) {
                    (1, _) => assert_eq!((&item.a, &item.b), (&chunk.a, &chunk.b)),
                    (_, PairTask::Sop) => assert_eq!((&item.a, &item.b), (&chunk.b, &chunk.a)),
                    (_, PairTask::Nsp) => {
                        assert_eq!(item.a, chunk.a);
                        assert_ne!(doc_of(item.b[0]), chunk.doc, "B from another document");
                    }
                }
            }
        }
    }
}

#[test]
fn an_nsp_negative_takes_another_documents_b_of_the_same_length() {
    // Sixty documents: enough B segments that nearly every length has another document's.
    let docs: Vec<DocSentences> = (0..60)
        .map(|doc| DocSentences {
            doc,
            sentences: (0..6)
                .map(|k| {
                    let base = 1000 * doc as u32 + 100 * k as u32 + 30;
                    (base..base + 2 + ((doc * 7 + k * 3) % 5) as u32).collect()
                })
                .collect(),
        })
        .collect();
    let mut rng = Rng::new(2);
    let (mut exact, mut total) = (0, 0);
    for _ in 0..20 {
        let all = chunks(&docs, 20, &mut rng);
        let picked: Vec<usize> = (0..all.len()).collect();
        let (items, mismatched) = label_items(PairTask::Nsp, &all, &picked, &mut rng);
        let mut counted = 0;
        for (item, &k) in items.iter().zip(&picked) {
            if item.label == 0 {
                total += 1;
                let same = item.b.len() == all[k].b.len();
                exact += usize::from(same);
                counted += usize::from(!same);
                // The other B is a true B: it starts a later part of its document's chunk.
                assert!(
                    all.iter().any(|c| c.b == item.b),
                    "a B segment of some chunk"
                );
            }
        }
        assert_eq!(counted, mismatched);
    }
    assert!(
        exact * 10 >= total * 9,
        "{exact} of {total} negatives matched the length"
    );
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

/// Real length of a row: where the padding starts.
fn real_len(row: &[u32]) -> usize {
    row.iter().position(|&id| id == 0).unwrap_or(row.len())
}

/// The A and B segments of a row packed without token corruption (`Tokens::None` inputs,
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
fn assert_pair_batch(batch: &Batch, tokens: Tokens, batch_size: usize, seq_len: usize) {
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
            Tokens::Clm => real_len(&batch.inputs[range.clone()]),
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
        let ids = if matches!(tokens, Tokens::Mlm) {
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
            Tokens::None => {
                assert_eq!(inputs, packed);
                assert!(weights.iter().chain(corrupted).all(|&w| w == 0.0));
            }
            Tokens::Mlm => {
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
            Tokens::Clm => {
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

// ---- Batching ---------------------------------------------------------------------------

#[test]
fn pair_batches_have_every_field_in_shape_for_every_token_side() {
    for task in [PairTask::Nsp, PairTask::Sop] {
        for tokens in ALL_TOKENS {
            for (b, s) in [(2, 8), (4, 16), (8, 24)] {
                let mut batcher = batcher(task, tokens, b, s, 3);
                for _ in 0..10 {
                    let batch = batcher.next_batch().expect("batch");
                    assert_pair_batch(&batch, tokens, b, s);
                }
            }
        }
    }
}

#[test]
fn pair_sop_negatives_are_the_positive_swapped_within_a_batch_frame() {
    let mut b = batcher(PairTask::Sop, Tokens::None, 8, 24, 5);
    for _ in 0..30 {
        let batch = b.next_batch().expect("batch");
        let labels = &batch.pairs.as_ref().expect("pairs").labels;
        for (row, &label) in labels.iter().enumerate() {
            let (a, bb) = split_row(
                &batch.inputs[row * 24..(row + 1) * 24],
                PairLayout::ClsFirst,
            );
            let (first, second) = (sentence_of(a[0]), sentence_of(bb[0]));
            assert_eq!(doc_of(a[0]), doc_of(bb[0]), "SOP keeps one document");
            assert_eq!(label == 1, first < second, "order decides the label");
        }
    }
}

#[test]
fn pair_nsp_labels_leave_lengths_and_padding_alike() {
    // Positives and negatives come from the same frames: their padding is the same population.
    let mut b = batcher(PairTask::Nsp, Tokens::None, 8, 24, 6);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let batch = b.next_batch().expect("batch");
        let labels = &batch.pairs.as_ref().expect("pairs").labels;
        for (row, &label) in labels.iter().enumerate() {
            let len = real_len(&batch.inputs[row * 24..(row + 1) * 24]);
            if label == 1 {
                pos.push(len)
            } else {
                neg.push(len)
            }
        }
    }
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len() as f64;
    assert!(
        (mean(&pos) - mean(&neg)).abs() < 0.3,
        "{} vs {}",
        mean(&pos),
        mean(&neg)
    );
}

#[test]
fn pair_clm_targets_are_the_next_ids_up_to_the_padding() {
    let mut b = batcher(PairTask::Sop, Tokens::Clm, 4, 20, 1);
    let batch = b.next_batch().expect("batch");
    assert_pair_batch(&batch, Tokens::Clm, 4, 20);
}

#[test]
fn pair_mlm_never_masks_cls_sep_or_padding() {
    let mut knobs = crate::core::objective::spec::ObjectiveKnobs::default();
    knobs
        .set(&mlm::MASK_RATE, 1.0)
        .expect("every eligible position");
    let s = SPECIALS;
    let mut shape = shape(8, 24);
    shape.knobs = knobs;
    let mut b = PairBatcher::new(
        PairTask::Nsp,
        docs(),
        Tokens::Mlm.format(),
        shape,
        Rng::new(3),
    )
    .expect("batcher");
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
    let packed = vec![
        pack(
            &PairItem {
                a: vec![],
                b: vec![],
                label: 1
            },
            PairLayout::ClsFirst,
            8,
            SPECIALS
        )
        .expect("pack");
        2
    ];
    let rows = Tokens::Mlm.format().rows;
    let batch = rows(&packed, &[1, 0], &shape(2, 8), &mut Rng::new(1)).expect("batch");
    assert_eq!(batch.supervised_tokens, 0);
    assert_eq!(batch.pairs.as_ref().expect("pairs").labels, vec![1, 0]);
}

#[test]
fn pair_same_seed_same_batches_and_eval_batches_are_fixed_and_balanced() {
    for task in [PairTask::Nsp, PairTask::Sop] {
        let draw = |seed| {
            let mut b = batcher(task, Tokens::Mlm, 4, 20, seed);
            (0..20)
                .map(|_| b.next_batch().expect("batch"))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let size = crate::core::objective::windows::EvalSize {
            rows: 4,
            min_scored: 40,
        };
        let eval = |seed| {
            pair_eval_batches(
                task,
                &docs(),
                Tokens::None.format(),
                &shape(4, 20),
                size,
                seed,
            )
            .expect("eval")
        };
        let first = eval(9);
        assert_eq!(first, eval(9));
        assert_eq!(first.len(), 10, "40 pairs in batches of 4");
        for batch in &first {
            assert_pair_batch(batch, Tokens::None, 4, 20);
        }
    }
}

#[test]
fn pair_batcher_refuses_what_it_cannot_batch_with_typed_errors() {
    let new = |task, docs: Arc<Vec<DocSentences>>, b, s| {
        PairBatcher::new(task, docs, PairFormat::ALONE, shape(b, s), Rng::new(1)).map(|_| ())
    };
    assert!(
        matches!(new(PairTask::Sop, docs(), 3, 16), Err(CoreError::Config(_))),
        "odd batch"
    );
    assert!(matches!(
        new(PairTask::Sop, docs(), 0, 16),
        Err(CoreError::Config(_))
    ));
    assert!(
        matches!(new(PairTask::Sop, docs(), 4, 4), Err(CoreError::Config(_))),
        "too short"
    );
    assert!(new(PairTask::Sop, docs(), 4, MIN_PAIR_LEN).is_ok());
    assert!(matches!(
        new(PairTask::Nsp, Arc::new(vec![]), 4, 16),
        Err(CoreError::Corpus(_))
    ));
    let one = Arc::new(docs()[..1].to_vec());
    assert!(matches!(
        new(PairTask::Nsp, one.clone(), 4, 16),
        Err(CoreError::Corpus(_))
    ));
    assert!(
        new(PairTask::Sop, one, 4, 16).is_ok(),
        "SOP needs one document only"
    );
    let single_sentences = Arc::new(vec![
        DocSentences {
            doc: 0,
            sentences: vec![vec![40, 41]],
        },
        DocSentences {
            doc: 1,
            sentences: vec![vec![50]],
        },
    ]);
    assert!(matches!(
        new(PairTask::Sop, single_sentences, 4, 16),
        Err(CoreError::Corpus(_))
    ));
    // The objective table knows NSP and SOP as pair objectives.
    assert!(Objective::Nsp.spec().pairs().is_some() && Objective::Sop.spec().pairs().is_some());
}

#[test]
fn an_epoch_smaller_than_a_batch_repeats_its_chunks_instead_of_waiting_forever() {
    // Two documents of two sentences: at most two chunks an epoch, against a batch of 16.
    let tiny = Arc::new(
        (0..2)
            .map(|doc| DocSentences {
                doc,
                sentences: vec![vec![40 + doc as u32, 41], vec![50, 51 + doc as u32]],
            })
            .collect::<Vec<_>>(),
    );
    for task in [PairTask::Sop, PairTask::Nsp] {
        let mut b = PairBatcher::new(
            task,
            tiny.clone(),
            PairFormat::ALONE,
            shape(16, 16),
            Rng::new(3),
        )
        .expect("pair batcher");
        for _ in 0..3 {
            let batch = b.next_batch().expect("a batch");
            assert_pair_batch(&batch, Tokens::None, 16, 16);
        }
    }
}

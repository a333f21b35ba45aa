//! Sentence-pair coherence: next-sentence prediction (NSP; BERT, Devlin et al. 2019, §3.1
//! "Task #2: Next Sentence Prediction") and sentence-order prediction (SOP; ALBERT, Lan et al.
//! 2020, §3.1 "Inter-sentence coherence loss"). The model reads two segments A and B and a
//! binary head says whether B really is A's next segment, in order. This file is the data side:
//! building labelled pairs and packing them into one sequence; the batcher makes tensors.
//!
//! - **Positives** (label 1) are two consecutive segments of one training document, as given.
//! - **NSP negatives** (label 0) keep A and take B from a *different* document. ALBERT showed
//!   this is mostly a topic test: an NSP model is at chance on order-swapped pairs (Table 5:
//!   52.0% SOP accuracy), because a segment from elsewhere usually changes the subject.
//! - **SOP negatives** (label 0) are the positive with its segments swapped, (B, A): same
//!   topic, same sentences, only the order is wrong, so only coherence can decide.
//!
//! Half the items are positives. [`make_item`] flips a coin, as BERT does; [`make_items`]
//! shuffles an exactly half/half label vector, so a set of even size is exactly balanced
//! and a head that always answers one label scores exactly 50%.
//!
//! **Packing** ([`pack`]) follows BERT's input format (§3, Figure 2) with two layouts:
//! [`PairLayout::ClsFirst`] `[CLS] A [SEP] B [SEP]` for encoders (and the encoder of an
//! encoder-decoder), whose head reads position 0; [`PairLayout::ClsLast`] `A [SEP] B [SEP]
//! [CLS]` for causal decoders and XLNet, where only the last position has seen the whole pair,
//! so the head reads there. Segment ids are 0 for `[CLS]`-A-`[SEP]` and 1 for B-`[SEP]`; the
//! trailing `[CLS]` of `ClsLast` gets segment 1, since it follows B. Too long a pair is cut
//! longest-first one token at a time, as BERT's `_truncate_seq_pair` does, but A loses tokens
//! from its *start* and B from its *end*, so the junction between them — the only place where
//! coherence is decided — always stays in view (BERT pops both from the end, which can cut away
//! exactly the sentence ending that leads into B).

use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// Two consecutive segments of one training document, tokenized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentIds {
    /// Which document they come from (any id that tells documents apart).
    pub doc: usize,
    pub a: Vec<u32>,
    pub b: Vec<u32>,
}

/// Which coherence task the negatives are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairTask {
    /// Next-sentence prediction (BERT): negatives take B from another document.
    Nsp,
    /// Sentence-order prediction (ALBERT): negatives are the positive swapped.
    Sop,
}

/// One labelled pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairItem {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    /// 1 = B is A's true next segment, in order; 0 = it is not.
    pub label: u8,
}

/// How many random other pairs an NSP negative tries before scanning for one from another
/// document; rejection keeps the common case O(1), the scan makes `None` mean "impossible".
const NSP_TRIES: usize = 8;

/// Checks that `pairs` can give `task` both labels: there is at least one pair and, for NSP,
/// at least two documents to take negatives across.
pub fn check_pairs(task: PairTask, pairs: &[SegmentIds]) -> Result<(), CoreError> {
    let Some(first) = pairs.first() else {
        return Err(CoreError::Corpus(
            "there are no consecutive segment pairs to train sentence-pair coherence on; the \
             training text needs documents of at least two segments"
                .to_string(),
        ));
    };
    if task == PairTask::Nsp && pairs.iter().all(|p| p.doc == first.doc) {
        return Err(CoreError::Corpus(
            "next-sentence prediction takes its negatives from another document, but all the \
             training pairs come from one document; add a second document (a blank line starts \
             one) or use sentence-order prediction"
                .to_string(),
        ));
    }
    Ok(())
}

/// The item for `pairs[index]`: with probability 1/2 the positive, otherwise the task's
/// negative. `None` when `index` is out of range or no negative can exist (NSP with a single
/// document).
pub fn make_item(
    task: PairTask,
    pairs: &[SegmentIds],
    index: usize,
    rng: &mut Rng,
) -> Option<PairItem> {
    let positive = rng.next_f64() < 0.5;
    build(task, pairs, index, positive, rng)
}

/// Items for `pairs[i]`, `i` in `indices`, with labels from a shuffled half/half vector: when
/// the number of items is even, exactly half are positives (an odd one out gets a coin flip).
/// Indices out of range are skipped before labels are dealt; for NSP over a single document
/// no negative can exist, so the result is empty ([`check_pairs`] says why).
pub fn make_items(
    task: PairTask,
    pairs: &[SegmentIds],
    indices: &[usize],
    rng: &mut Rng,
) -> Vec<PairItem> {
    if check_pairs(task, pairs).is_err() {
        return Vec::new();
    }
    let valid: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| i < pairs.len())
        .collect();
    let mut labels: Vec<bool> = (0..valid.len()).map(|i| i < valid.len() / 2).collect();
    if valid.len() % 2 == 1 {
        let last = valid.len() - 1;
        labels[last] = rng.next_f64() < 0.5;
    }
    rng.shuffle(&mut labels);
    // With at least two documents every negative exists, so nothing below is dropped.
    valid
        .iter()
        .zip(labels)
        .filter_map(|(&index, positive)| build(task, pairs, index, positive, rng))
        .collect()
}

fn build(
    task: PairTask,
    pairs: &[SegmentIds],
    index: usize,
    positive: bool,
    rng: &mut Rng,
) -> Option<PairItem> {
    let pair = pairs.get(index)?;
    if positive {
        return Some(PairItem {
            a: pair.a.clone(),
            b: pair.b.clone(),
            label: 1,
        });
    }
    match task {
        PairTask::Sop => Some(PairItem {
            a: pair.b.clone(),
            b: pair.a.clone(),
            label: 0,
        }),
        PairTask::Nsp => {
            let other = other_document(pairs, pair.doc, rng)?;
            let b = if rng.below(2) == 0 {
                &other.a
            } else {
                &other.b
            };
            Some(PairItem {
                a: pair.a.clone(),
                b: b.clone(),
                label: 0,
            })
        }
    }
}

/// A pair drawn uniformly from those of a document other than `doc`, or `None` if there is
/// none. Rejection sampling first; the scan after it draws from the same distribution.
fn other_document<'a>(
    pairs: &'a [SegmentIds],
    doc: usize,
    rng: &mut Rng,
) -> Option<&'a SegmentIds> {
    for _ in 0..NSP_TRIES {
        let candidate = &pairs[rng.below(pairs.len())];
        if candidate.doc != doc {
            return Some(candidate);
        }
    }
    let others: Vec<&SegmentIds> = pairs.iter().filter(|p| p.doc != doc).collect();
    if others.is_empty() {
        return None;
    }
    Some(others[rng.below(others.len())])
}

/// Where the classification token goes (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairLayout {
    /// `[CLS] A [SEP] B [SEP]`; the head reads position 0 (bidirectional encoders).
    ClsFirst,
    /// `A [SEP] B [SEP] [CLS]`; the head reads the last position (causal decoders, XLNet).
    ClsLast,
}

/// A pair packed into one unpadded sequence; the batcher pads it to the batch's length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedPair {
    pub ids: Vec<u32>,
    /// Per position: 0 for `[CLS]`, A and the first `[SEP]`; 1 for B and its `[SEP]` (and the
    /// trailing `[CLS]` of [`PairLayout::ClsLast`]).
    pub segments: Vec<u8>,
    /// Position of `[CLS]`, which the classification head reads.
    pub head: usize,
    /// A and B tokens kept after truncation (no specials): what the budget counts.
    pub original_tokens: usize,
}

/// Smallest `max_len` that holds the three specials and one token each of A and B.
pub const MIN_PAIR_LEN: usize = 5;

/// Packs `item` in `layout` into at most `max_len` positions, truncating longest-first (A from
/// its start, B from its end) when it does not fit. An empty A or B is packed with zero tokens
/// (`[CLS] [SEP] B [SEP]`): packing never drops or refuses an item, so a batch keeps its size;
/// keeping empty segments out of training is the pair builder's job. Errors when
/// `max_len < MIN_PAIR_LEN`.
pub fn pack(
    item: &PairItem,
    layout: PairLayout,
    max_len: usize,
    specials: SpecialIds,
) -> Result<PackedPair, CoreError> {
    if max_len < MIN_PAIR_LEN {
        return Err(CoreError::Config(format!(
            "a sentence pair needs a sequence length of at least {MIN_PAIR_LEN} ([CLS], two \
             [SEP] and one token each of A and B); {max_len} is too short"
        )));
    }
    let (keep_a, keep_b) = truncated_lengths(item.a.len(), item.b.len(), max_len - 3);
    let a = &item.a[item.a.len() - keep_a..]; // A's end, next to the boundary
    let b = &item.b[..keep_b]; // B's start, next to the boundary
    let len = keep_a + keep_b + 3;
    let mut ids = Vec::with_capacity(len);
    let mut segments = Vec::with_capacity(len);
    if layout == PairLayout::ClsFirst {
        ids.push(specials.cls);
        segments.push(0);
    }
    ids.extend_from_slice(a);
    ids.push(specials.sep);
    segments.resize(segments.len() + keep_a + 1, 0);
    ids.extend_from_slice(b);
    ids.push(specials.sep);
    segments.resize(segments.len() + keep_b + 1, 1);
    let head = match layout {
        PairLayout::ClsFirst => 0,
        PairLayout::ClsLast => {
            ids.push(specials.cls);
            segments.push(1);
            len - 1
        }
    };
    Ok(PackedPair {
        ids,
        segments,
        head,
        original_tokens: keep_a + keep_b,
    })
}

/// BERT's `_truncate_seq_pair` on lengths: while the pair is over `budget`, drop one token from
/// the longer segment (B on a tie, as in BERT).
fn truncated_lengths(mut a: usize, mut b: usize, budget: usize) -> (usize, usize) {
    while a + b > budget {
        if a > b {
            a -= 1;
        } else {
            b -= 1;
        }
    }
    (a, b)
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
        let first = pack(&item, PairLayout::ClsFirst, 16, specials()).expect("pack");
        assert_eq!(first.ids, vec![2, 30, 31, 3, 40, 3]);
        assert_eq!(first.segments, vec![0, 0, 0, 0, 1, 1]);
        assert_eq!(first.head, 0);
        assert_eq!(first.ids[first.head], specials().cls);
        assert_eq!(first.original_tokens, 3);

        let last = pack(&item, PairLayout::ClsLast, 16, specials()).expect("pack");
        assert_eq!(last.ids, vec![30, 31, 3, 40, 3, 2]);
        assert_eq!(last.segments, vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(last.head, 5);
        assert_eq!(last.ids[last.head], specials().cls);
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
        let packed = pack(&item, PairLayout::ClsFirst, 9, specials()).expect("pack");
        assert_eq!(packed.ids, vec![2, 37, 38, 39, 3, 50, 51, 52, 3]);
        assert_eq!(packed.segments, vec![0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(packed.original_tokens, 6);
        let packed = pack(&item, PairLayout::ClsLast, 9, specials()).expect("pack");
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
                let p = pack(&item, layout, max_len, specials()).expect("pack");
                assert!(p.ids.len() <= max_len);
                assert_eq!(p.ids.len(), p.segments.len());
                assert_eq!(p.ids[p.head], specials().cls);
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
            let err = pack(&item, PairLayout::ClsFirst, max_len, specials());
            assert!(
                matches!(err, Err(CoreError::Config(_))),
                "{max_len}: {err:?}"
            );
        }
        let p = pack(&item, PairLayout::ClsFirst, 5, specials()).expect("pack");
        assert_eq!(p.ids, vec![2, 32, 3, 40, 3]);
    }

    #[test]
    fn empty_segments_pack_with_zero_tokens() {
        let specials = specials();
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
}

//! Sentence-pair coherence: next-sentence prediction (NSP; BERT, Devlin et al. 2019, §3.1
//! "Task #2: Next Sentence Prediction") and sentence-order prediction (SOP; ALBERT, Lan et al.
//! 2020, §3.1 "Inter-sentence coherence loss"). The model reads two segments A and B and a
//! binary head says whether B really is A's next segment, in order. This file is the data side:
//! building labelled pairs, packing them into one sequence, and the batchers ([`PairBatcher`],
//! [`pair_eval_batches`]) that pad them into a [`Batch`], with masked LM (BERT) or next-token
//! prediction (a causal decoder) on the same input if asked ([`PairTokens`]).
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

use super::mlm::{MlmConfig, mask};
use super::{Batch, PairBatch};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
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

/// What the token side of a pair batch learns, on the same input as the pair label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairTokens {
    /// The pair head alone: no token is scored.
    None,
    /// Masked LM on the packed pair, as BERT pre-trains: one input, the MLM and NSP losses
    /// summed (Devlin et al. 2019, §3.1 and Appendix A.2).
    Mlm(MlmConfig),
    /// Next-token prediction over the packed pair by a causal decoder, whose last position —
    /// the only one that has read both segments — judges the pair; GPT reads a pair the same
    /// way, delimiter between and the extract token at the end (Radford et al. 2018, §3.3).
    Clm,
}

impl PairTokens {
    /// Where `[CLS]` goes for this token objective: first for the bidirectional encoder of
    /// `None`/`Mlm`, last for the causal decoder of `Clm`.
    pub fn layout(&self) -> PairLayout {
        match self {
            Self::None | Self::Mlm(_) => PairLayout::ClsFirst,
            Self::Clm => PairLayout::ClsLast,
        }
    }
}

/// Draws training batches of a sentence-pair task (NSP or SOP), with an optional token
/// objective on the same input ([`PairTokens`]).
///
/// Each batch takes the next `batch_size` pairs of a seeded random epoch order and labels them
/// with [`make_items`], so every batch is exactly half positives: a pair head that answers one
/// label scores exactly 50% on every batch, and its loss can only fall by reading the pair.
/// Each item is [`pack`]ed in the token objective's layout and right-padded with `[PAD]` to
/// `seq_len`; padded keys are blocked in the mask and padded positions are never scored.
///
/// `supervised_tokens` counts token positions with a loss weight only; the pair labels (one
/// per sequence, in [`PairBatch`]) are a separate loss with its own count, `batch_size`. With
/// [`PairTokens::None`] it is therefore 0.
#[derive(Debug, Clone)]
pub struct PairBatcher {
    task: PairTask,
    pairs: Vec<SegmentIds>,
    tokens: PairTokens,
    batch_size: usize,
    seq_len: usize,
    specials: SpecialIds,
    vocab_size: usize,
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
}

impl PairBatcher {
    /// A batcher over the consecutive segment pairs of the training documents.
    ///
    /// Errors: no pairs, or NSP over a single document ([`check_pairs`];
    /// [`CoreError::Corpus`]); an odd or zero `batch_size`, which cannot be exactly balanced,
    /// a `seq_len` below [`MIN_PAIR_LEN`], or an invalid MLM config or vocabulary
    /// ([`CoreError::Config`]).
    #[allow(clippy::too_many_arguments)] // task, data, token objective, shape, vocabulary, seed
    pub fn new(
        task: PairTask,
        pairs: Vec<SegmentIds>,
        tokens: PairTokens,
        batch_size: usize,
        seq_len: usize,
        specials: SpecialIds,
        vocab_size: usize,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        check_pairs(task, &pairs)?;
        check_pair_batch(tokens, batch_size, seq_len, vocab_size)?;
        Ok(Self {
            task,
            pairs,
            tokens,
            batch_size,
            seq_len,
            specials,
            vocab_size,
            rng,
            order: Vec::new(),
            cursor: 0,
        })
    }

    /// The next batch in this run's order (token masking drawn afresh).
    ///
    /// Errors only if the inputs checked by [`PairBatcher::new`] could not be used after all
    /// (they can: this is a guard, not an expected path).
    pub fn next_batch(&mut self) -> Result<Batch, CoreError> {
        let mut indices = Vec::with_capacity(self.batch_size);
        while indices.len() < self.batch_size {
            if self.cursor >= self.order.len() {
                self.order = (0..self.pairs.len()).collect();
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            indices.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        pair_batch(
            self.task,
            &self.pairs,
            &indices,
            self.tokens,
            self.seq_len,
            self.specials,
            self.vocab_size,
            &mut self.rng,
        )
    }
}

/// Fixed evaluation batches of a sentence-pair task: the pairs in their given order (cycled
/// when there are fewer than one batch), at most `max_batches` batches, labelled, paired with
/// negatives and masked by a generator seeded with `seed`. Built once and reused, every
/// evaluation asks the same questions; each batch is exactly balanced, so chance is exactly
/// 50% accuracy.
///
/// Errors: as [`PairBatcher::new`], and a `max_batches` of 0 ([`CoreError::Config`]).
#[allow(clippy::too_many_arguments)] // as `PairBatcher::new`, plus how many batches
pub fn pair_eval_batches(
    task: PairTask,
    pairs: &[SegmentIds],
    tokens: PairTokens,
    batch_size: usize,
    seq_len: usize,
    max_batches: usize,
    specials: SpecialIds,
    vocab_size: usize,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    check_pairs(task, pairs)?;
    check_pair_batch(tokens, batch_size, seq_len, vocab_size)?;
    if max_batches == 0 {
        return Err(CoreError::Config(
            "sentence-pair evaluation needs at least one batch; 0 evaluation batches were asked \
             for"
            .to_string(),
        ));
    }
    let batches = (pairs.len() / batch_size).clamp(1, max_batches);
    let mut rng = Rng::new(seed);
    (0..batches)
        .map(|b| {
            let indices: Vec<usize> = (0..batch_size)
                .map(|i| (b * batch_size + i) % pairs.len())
                .collect();
            pair_batch(
                task, pairs, &indices, tokens, seq_len, specials, vocab_size, &mut rng,
            )
        })
        .collect()
}

/// The checks shared by [`PairBatcher::new`] and [`pair_eval_batches`] beyond the pairs'.
fn check_pair_batch(
    tokens: PairTokens,
    batch_size: usize,
    seq_len: usize,
    vocab_size: usize,
) -> Result<(), CoreError> {
    if batch_size == 0 || batch_size % 2 == 1 {
        return Err(CoreError::Config(format!(
            "a sentence-pair batch of {batch_size} cannot be exactly half positives; use an \
             even batch size of at least 2"
        )));
    }
    if seq_len < MIN_PAIR_LEN {
        return Err(CoreError::Config(format!(
            "a sentence pair needs a sequence length of at least {MIN_PAIR_LEN} ([CLS], two \
             [SEP] and one token each of A and B); {seq_len} is too short"
        )));
    }
    if let PairTokens::Mlm(config) = tokens {
        config.validate_with_vocab(vocab_size)?;
    }
    Ok(())
}

/// One packed sequence's token side, unpadded: what the model reads and what it is scored on.
struct TokenRow {
    inputs: Vec<u32>,
    targets: Vec<u32>,
    loss_weights: Vec<f32>,
    corrupted: Vec<f32>,
}

/// The token side of one packed pair `ids` (no padding) under `tokens`.
fn token_row(
    ids: &[u32],
    tokens: PairTokens,
    specials: SpecialIds,
    vocab_size: usize,
    rng: &mut Rng,
) -> Result<TokenRow, CoreError> {
    let unscored = || TokenRow {
        inputs: ids.to_vec(),
        targets: ids.to_vec(),
        loss_weights: vec![0.0; ids.len()],
        corrupted: vec![0.0; ids.len()],
    };
    match tokens {
        PairTokens::None => Ok(unscored()),
        // Two empty segments leave only specials: the row still carries its pair label, so it
        // is kept with no token supervision rather than refused.
        PairTokens::Mlm(_) if ids.iter().all(|&id| specials.is_special(id)) => Ok(unscored()),
        PairTokens::Mlm(config) => {
            let masked = mask(ids, &config, specials, vocab_size, rng)?;
            Ok(TokenRow {
                loss_weights: masked
                    .selected
                    .iter()
                    .map(|&s| f32::from(u8::from(s)))
                    .collect(),
                corrupted: masked
                    .corruption
                    .iter()
                    .map(|c| f32::from(u8::from(c.is_corrupted())))
                    .collect(),
                inputs: masked.inputs,
                targets: masked.targets,
            })
        }
        PairTokens::Clm => {
            // Position i predicts ids[i + 1]; the last real position has no next token inside
            // the sequence (the next one would be padding), so it is not scored.
            let mut targets: Vec<u32> = ids.iter().skip(1).copied().collect();
            targets.push(specials.pad);
            let mut loss_weights = vec![1.0; ids.len()];
            if let Some(last) = loss_weights.last_mut() {
                *last = 0.0;
            }
            Ok(TokenRow {
                inputs: ids.to_vec(),
                targets,
                corrupted: loss_weights.clone(),
                loss_weights,
            })
        }
    }
}

/// Labels `pairs[i]`, `i` in `indices`, packs each item and lays them out as a padded
/// [`Batch`].
#[allow(clippy::too_many_arguments)] // everything a batch is made of, each named
fn pair_batch(
    task: PairTask,
    pairs: &[SegmentIds],
    indices: &[usize],
    tokens: PairTokens,
    seq_len: usize,
    specials: SpecialIds,
    vocab_size: usize,
    rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let items = make_items(task, pairs, indices, rng);
    if items.len() != indices.len() {
        return Err(CoreError::Corpus(format!(
            "only {} of {} sentence pairs could be labelled; {task:?} needs pairs from at least \
             two documents",
            items.len(),
            indices.len()
        )));
    }
    let layout = tokens.layout();
    let n = items.len() * seq_len;
    let mut inputs = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    let mut loss_weights = Vec::with_capacity(n);
    let mut corrupted = Vec::with_capacity(n);
    let mut segments = Vec::with_capacity(n);
    let mut key_padding = Vec::with_capacity(n);
    let mut heads = Vec::with_capacity(items.len());
    let mut labels = Vec::with_capacity(items.len());
    let mut original_tokens = 0;
    for item in &items {
        let packed = pack(item, layout, seq_len, specials)?;
        let (len, pad) = (packed.ids.len(), seq_len - packed.ids.len());
        let row = token_row(&packed.ids, tokens, specials, vocab_size, rng)?;
        inputs.extend(row.inputs);
        inputs.extend(std::iter::repeat_n(specials.pad, pad));
        targets.extend(row.targets);
        targets.extend(std::iter::repeat_n(specials.pad, pad));
        loss_weights.extend(row.loss_weights);
        loss_weights.extend(std::iter::repeat_n(0.0, pad));
        corrupted.extend(row.corrupted);
        corrupted.extend(std::iter::repeat_n(0.0, pad));
        segments.extend(packed.segments.iter().map(|&s| u32::from(s)));
        segments.extend(std::iter::repeat_n(0, pad));
        key_padding.extend(std::iter::repeat_n(false, len));
        key_padding.extend(std::iter::repeat_n(true, pad));
        heads.push(packed.head as u32);
        labels.push(u32::from(item.label));
        original_tokens += packed.original_tokens;
    }
    let mask = match layout {
        PairLayout::ClsFirst => AttentionMask::bidirectional(seq_len, &key_padding),
        PairLayout::ClsLast => AttentionMask::causal_with_padding(seq_len, &key_padding),
    };
    let supervised_tokens = loss_weights.iter().filter(|&&w| w > 0.0).count();
    Ok(Batch {
        batch_size: items.len(),
        seq_len,
        inputs,
        segments: Some(segments),
        mask,
        target_len: seq_len,
        targets,
        loss_weights,
        corrupted,
        decoder: None,
        query: None,
        pairs: Some(PairBatch { heads, labels }),
        original_tokens,
        supervised_tokens,
    })
}

#[cfg(test)]
#[path = "coherence_tests.rs"]
mod tests;

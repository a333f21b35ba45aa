//! Sentence-pair coherence: next-sentence prediction (NSP; BERT, Devlin et al. 2019, §3.1
//! "Task #2: Next Sentence Prediction") and sentence-order prediction (SOP; ALBERT, Lan et al.
//! 2020, §3.1 "Inter-sentence coherence loss"). The model reads two segments A and B and a
//! binary head says whether B really is A's next segment, in order. This file is the data side:
//! cutting documents into segment pairs, labelling them, packing them into one sequence, and the
//! batchers ([`PairBatcher`], [`pair_eval_batches`]) that pad them into a [`Batch`], with a
//! token objective on the same input if the mix has one (its [`WithPairs::SameBatch`] rows).
//!
//! **Segments (BERT's `create_instances_from_document`).** A and B are each one or more
//! consecutive sentences of one document, together filling the sequence: sentences are
//! gathered while they fit `seq_len − 3` tokens (with probability 0.1 a shorter random
//! target, BERT's `short_seq_prob`), and the gathered chunk is split at a random sentence
//! boundary into A and B. A chunk of one sentence cannot be split: if the next sentence does not
//! fit either it is taken anyway and the pair truncated; a document's last sentence left alone
//! is not used. A document is all of its parts' sentences in order (a ticket, then its
//! resolution). Chunks and split points are drawn afresh every epoch.
//!
//! - **Positives** (label 1): (A, B) as cut.
//! - **SOP negatives** (label 0): (B, A), the same two segments swapped: same topic, same
//!   sentences, only the order is wrong, so only coherence can decide (ALBERT Table 5: an NSP
//!   model is at 52.0% on this task).
//! - **NSP negatives** (label 0): A with the B of another document's chunk. BERT takes B from a
//!   random document, filled to the remaining length; here the other B is drawn among this
//!   epoch's B segments of *exactly the same token length* (the nearest length when none has
//!   it). Lengths, padding and truncation are then the same for both labels, and the other B
//!   starts at a sentence boundary inside its document as a true B does, so the only difference
//!   a model can use is the text — which for NSP is mostly topic, as ALBERT showed. (BERT's
//!   fill-to-length would make short, padded sequences mostly positives on a corpus of short
//!   documents: a label a model could read off the padding. The shortcut audit,
//!   [`crate::core::audit`], checks that no such artifact is left.)
//!
//! Each batch is exactly half positives (a shuffled half/half label vector), so a head that
//! answers one label scores exactly 50% on every batch.
//!
//! **Packing** ([`pack`]) follows BERT's input format (§3, Figure 2) with two layouts:
//! [`PairLayout::ClsFirst`] `[CLS] A [SEP] B [SEP]` for encoders (and the encoder of an
//! encoder-decoder), whose head reads position 0; [`PairLayout::ClsLast`] `A [SEP] B [SEP]
//! [CLS]` for causal decoders and XLNet, where only the last position has seen the whole pair,
//! so the head reads there. Segment ids are 0 for `[CLS]`-A-`[SEP]` and 1 for B-`[SEP]`; the
//! trailing `[CLS]` of `ClsLast` gets segment 1, since it follows B. Too long a pair is cut
//! longest-first one token at a time, as BERT's `_truncate_seq_pair` does, but the first segment
//! loses tokens from its *start* and the second from its *end*, so the junction between them —
//! the only place where coherence is decided — is always two whole sentence edges, for both
//! labels (BERT pops randomly from either end, which can cut exactly the sentence ending that
//! leads into B).

use serde::{Deserialize, Serialize};

use super::spec::{BatchShape, BatchSource, PairRows};
use super::windows::EvalSize;
use super::{Batch, PairBatch};
use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::masks::AttentionMask;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// One document as the sentence-pair objectives see it: its sentences in order, across its
/// parts, each encoded canonically (see [`crate::core::tokenizer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocSentences {
    /// Which document (any id that tells documents apart).
    pub doc: usize,
    pub sentences: Vec<Vec<u32>>,
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

/// A document's consecutive sentences cut into A and B at a sentence boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub doc: usize,
    pub a: Vec<u32>,
    pub b: Vec<u32>,
}

/// BERT's `short_seq_prob`: how often a chunk aims at a shorter, random length.
pub const SHORT_SEQ_PROB: f64 = 0.1;

/// Fresh epochs a batcher draws, at most, for one batch when an epoch has fewer chunks than
/// the batch has rows (chunk lengths are random, so a small split's epochs vary in size).
const EPOCH_REDRAWS: usize = 64;

/// Cuts every document into chunks of consecutive sentences that fit `budget` tokens, each split
/// at a random sentence boundary (see the module doc). One epoch's worth, in document order.
pub fn chunks(docs: &[DocSentences], budget: usize, rng: &mut Rng) -> Vec<Chunk> {
    let mut out = Vec::new();
    for doc in docs {
        let sentences = &doc.sentences;
        let mut i = 0;
        while i < sentences.len() {
            let target = if rng.next_f64() < SHORT_SEQ_PROB {
                2 + rng.below(budget.saturating_sub(1).max(1))
            } else {
                budget
            };
            let start = i;
            let mut len = sentences[i].len();
            i += 1;
            while i < sentences.len() && len + sentences[i].len() <= target {
                len += sentences[i].len();
                i += 1;
            }
            if i - start < 2 {
                if i >= sentences.len() {
                    break; // a last sentence alone: no pair to make
                }
                i += 1; // too long to fit with anything: take the next anyway, pack truncates
            }
            let split = start + 1 + rng.below(i - start - 1);
            out.push(Chunk {
                doc: doc.doc,
                a: sentences[start..split].concat(),
                b: sentences[split..i].concat(),
            });
        }
    }
    out
}

/// Checks that `docs` can give `task` both labels: at least one chunk and, for NSP, chunks
/// from at least two documents.
pub fn check_documents(task: PairTask, docs: &[DocSentences]) -> Result<(), CoreError> {
    let usable: Vec<usize> = docs
        .iter()
        .filter(|d| d.sentences.len() >= 2)
        .map(|d| d.doc)
        .collect();
    let Some(&first) = usable.first() else {
        return Err(CoreError::Corpus(
            "there are no documents of two or more sentences to train sentence-pair coherence \
             on; the training text needs paragraphs of at least two sentences"
                .to_string(),
        ));
    };
    if task == PairTask::Nsp && usable.iter().all(|&d| d == first) {
        return Err(CoreError::Corpus(
            "next-sentence prediction takes its negatives from another document, but only one \
             document has two or more sentences; add a second (a blank line starts one) or use \
             sentence-order prediction"
                .to_string(),
        ));
    }
    Ok(())
}

/// Labels `picked` chunks of `all` (indices) with a shuffled half/half label vector (an odd one
/// out gets a coin flip) and builds each item: the positive, or the task's negative. NSP's
/// other B comes from `all`, another document's, of the same token length where one exists.
/// Also returns how many NSP negatives had to take a B of another length.
pub fn label_items(
    task: PairTask,
    all: &[Chunk],
    picked: &[usize],
    rng: &mut Rng,
) -> (Vec<PairItem>, usize) {
    let mut labels: Vec<bool> = (0..picked.len()).map(|i| i < picked.len() / 2).collect();
    if picked.len() % 2 == 1 {
        let last = picked.len() - 1;
        labels[last] = rng.next_f64() < 0.5;
    }
    rng.shuffle(&mut labels);
    let mut mismatched = 0;
    let items = picked
        .iter()
        .zip(labels)
        .map(|(&index, positive)| {
            let chunk = &all[index];
            if positive {
                return PairItem {
                    a: chunk.a.clone(),
                    b: chunk.b.clone(),
                    label: 1,
                };
            }
            match task {
                PairTask::Sop => PairItem {
                    a: chunk.b.clone(),
                    b: chunk.a.clone(),
                    label: 0,
                },
                PairTask::Nsp => {
                    let (other, exact) = other_b(all, chunk, rng);
                    mismatched += usize::from(!exact);
                    PairItem {
                        a: chunk.a.clone(),
                        b: other.to_vec(),
                        label: 0,
                    }
                }
            }
        })
        .collect();
    (items, mismatched)
}

/// A B segment of a chunk from another document, of the same length as `chunk.b` if any has
/// it (else the nearest length, shorter first); `true` when the length matched. Rejection
/// sampling among same-length candidates keeps the draw uniform over them.
fn other_b<'a>(all: &'a [Chunk], chunk: &'a Chunk, rng: &mut Rng) -> (&'a [u32], bool) {
    let want = chunk.b.len();
    let mut best: Vec<usize> = Vec::new();
    let mut best_gap = usize::MAX;
    for (i, c) in all.iter().enumerate() {
        if c.doc == chunk.doc {
            continue;
        }
        let gap = c.b.len().abs_diff(want) * 2 + usize::from(c.b.len() > want);
        if gap < best_gap {
            best_gap = gap;
            best.clear();
        }
        if gap == best_gap {
            best.push(i);
        }
    }
    match best.get(rng.below(best.len())) {
        Some(&i) => (&all[i].b, best_gap == 0),
        // `check_documents` refuses a single document, so another one exists.
        None => (&chunk.b, false),
    }
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
/// the longer segment (B on a tie, as in BERT). The evaluation's pair readings fit their pairs
/// with it too ([`crate::core::eval::pair_input`]).
pub(crate) fn truncated_lengths(mut a: usize, mut b: usize, budget: usize) -> (usize, usize) {
    while a + b > budget {
        if a > b {
            a -= 1;
        } else {
            b -= 1;
        }
    }
    (a, b)
}

/// One packed sequence's token side, unpadded: what the model reads and what it is scored on.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
    pub loss_weights: Vec<f32>,
    pub corrupted: Vec<f32>,
}

impl TokenRow {
    /// The row as it is, no token scored (the pair head alone).
    pub fn unscored(ids: &[u32]) -> Self {
        Self {
            inputs: ids.to_vec(),
            targets: ids.to_vec(),
            loss_weights: vec![0.0; ids.len()],
            corrupted: vec![0.0; ids.len()],
        }
    }
}

/// Lays packed pairs out as a padded [`Batch`]: each row's token side from `row`, right-padded
/// with `[PAD]` to `seq_len` (padding never scored), segments, the heads and labels, and the
/// mask of the layout — bidirectional for [`PairLayout::ClsFirst`], causal for
/// [`PairLayout::ClsLast`] — with padded keys blocked.
pub fn padded_pair_batch(
    packed: &[PackedPair],
    labels: &[u8],
    shape: &BatchShape,
    layout: PairLayout,
    mut row: impl FnMut(&[u32]) -> Result<TokenRow, CoreError>,
) -> Result<Batch, CoreError> {
    let (seq_len, specials) = (shape.seq_len, shape.specials);
    let n = packed.len() * seq_len;
    let mut inputs = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    let mut loss_weights = Vec::with_capacity(n);
    let mut corrupted = Vec::with_capacity(n);
    let mut segments = Vec::with_capacity(n);
    let mut key_padding = Vec::with_capacity(n);
    let mut original_tokens = 0;
    for pair in packed {
        let len = pair.ids.len();
        let pad = seq_len.checked_sub(len).ok_or_else(|| {
            CoreError::Config(format!(
                "a packed pair of {len} tokens does not fit {seq_len} positions"
            ))
        })?;
        let r = row(&pair.ids)?;
        inputs.extend(r.inputs);
        inputs.extend(std::iter::repeat_n(specials.pad, pad));
        targets.extend(r.targets);
        targets.extend(std::iter::repeat_n(specials.pad, pad));
        loss_weights.extend(r.loss_weights);
        loss_weights.extend(std::iter::repeat_n(0.0, pad));
        corrupted.extend(r.corrupted);
        corrupted.extend(std::iter::repeat_n(0.0, pad));
        segments.extend(pair.segments.iter().map(|&s| u32::from(s)));
        segments.extend(std::iter::repeat_n(0, pad));
        key_padding.extend(std::iter::repeat_n(false, len));
        key_padding.extend(std::iter::repeat_n(true, pad));
        original_tokens += pair.original_tokens;
    }
    let mask = match layout {
        PairLayout::ClsFirst => AttentionMask::bidirectional(seq_len, &key_padding),
        PairLayout::ClsLast => AttentionMask::causal_with_padding(seq_len, &key_padding),
    };
    let supervised_tokens = loss_weights.iter().filter(|&&w| w > 0.0).count();
    Ok(Batch {
        batch_size: packed.len(),
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
        pairs: Some(PairBatch {
            heads: packed.iter().map(|p| p.head as u32).collect(),
            labels: labels.iter().map(|&l| u32::from(l)).collect(),
        }),
        original_tokens,
        supervised_tokens,
    })
}

/// The pair head alone: `[CLS] A [SEP] B [SEP]` under a bidirectional mask, no token scored
/// (NSP or SOP on their own, and the pair batches an encoder-decoder alternates with).
pub fn pair_only_rows(
    packed: &[PackedPair],
    labels: &[u8],
    shape: &BatchShape,
    _rng: &mut Rng,
) -> Result<Batch, CoreError> {
    padded_pair_batch(packed, labels, shape, PairLayout::ClsFirst, |ids| {
        Ok(TokenRow::unscored(ids))
    })
}

/// How a pair batch is laid out and what its token side learns.
#[derive(Clone, Copy)]
pub struct PairFormat {
    pub layout: PairLayout,
    pub rows: PairRows,
}

impl PairFormat {
    /// The pair head alone ([`pair_only_rows`]).
    pub const ALONE: PairFormat = PairFormat {
        layout: PairLayout::ClsFirst,
        rows: pair_only_rows,
    };
}

/// Smallest sequence that holds a pair, and an even batch (exact balance).
fn check_pair_shape(shape: &BatchShape, rows: usize) -> Result<(), CoreError> {
    if rows == 0 || rows % 2 == 1 {
        return Err(CoreError::Config(format!(
            "a sentence-pair batch of {rows} cannot be exactly half positives; use an even batch \
             size of at least 2"
        )));
    }
    if shape.seq_len < MIN_PAIR_LEN {
        return Err(CoreError::Config(format!(
            "a sentence pair needs a sequence length of at least {MIN_PAIR_LEN} ([CLS], two \
             [SEP] and one token each of A and B); {} is too short",
            shape.seq_len
        )));
    }
    Ok(())
}

/// Labels, packs and lays out `picked` chunks of `all`.
fn pair_batch(
    task: PairTask,
    all: &[Chunk],
    picked: &[usize],
    format: PairFormat,
    shape: &BatchShape,
    rng: &mut Rng,
) -> Result<(Batch, usize), CoreError> {
    let (items, mismatched) = label_items(task, all, picked, rng);
    let packed = items
        .iter()
        .map(|item| pack(item, format.layout, shape.seq_len, shape.specials))
        .collect::<Result<Vec<_>, _>>()?;
    let labels: Vec<u8> = items.iter().map(|i| i.label).collect();
    Ok(((format.rows)(&packed, &labels, shape, rng)?, mismatched))
}

/// Draws training batches of a sentence-pair task (NSP or SOP), with the token side its
/// [`PairFormat`] gives.
///
/// Every epoch cuts the documents into chunks afresh ([`chunks`]) and visits them in a seeded
/// random order; each batch takes the next `batch_size` chunks and labels them exactly half
/// positive ([`label_items`]). Each item is [`pack`]ed in the format's layout and right-padded;
/// padded keys are blocked and padded positions never scored. `supervised_tokens` counts token
/// positions with a loss weight only; the pair labels are a separate loss with its own count,
/// `batch_size`.
#[derive(Clone)]
pub struct PairBatcher {
    task: PairTask,
    docs: std::sync::Arc<Vec<DocSentences>>,
    format: PairFormat,
    shape: BatchShape,
    rng: Rng,
    epoch: Vec<Chunk>,
    order: Vec<usize>,
    cursor: usize,
}

impl PairBatcher {
    /// A batcher over the documents' sentences.
    ///
    /// Errors: no document of two sentences, or NSP over a single document
    /// ([`check_documents`]; [`CoreError::Corpus`]); an odd or zero batch size, which cannot
    /// be exactly balanced, or a `seq_len` below [`MIN_PAIR_LEN`] ([`CoreError::Config`]).
    pub fn new(
        task: PairTask,
        docs: std::sync::Arc<Vec<DocSentences>>,
        format: PairFormat,
        shape: BatchShape,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        check_documents(task, &docs)?;
        check_pair_shape(&shape, shape.batch_size)?;
        Ok(Self {
            task,
            docs,
            format,
            shape,
            rng,
            epoch: Vec::new(),
            order: Vec::new(),
            cursor: 0,
        })
    }

    fn new_epoch(&mut self) {
        self.epoch = chunks(&self.docs, self.shape.seq_len - 3, &mut self.rng);
        self.order = (0..self.epoch.len()).collect();
        self.rng.shuffle(&mut self.order);
        self.cursor = 0;
    }
}

impl BatchSource for PairBatcher {
    fn next_batch(&mut self) -> Result<Batch, CoreError> {
        let rows = self.shape.batch_size;
        if self.cursor + rows > self.order.len() {
            // A batch never spans two epochs: NSP draws its other B from one epoch's chunks.
            // Chunks are drawn afresh until an epoch fills a batch, at most EPOCH_REDRAWS times.
            self.new_epoch();
            for _ in 0..EPOCH_REDRAWS {
                if self.order.len() >= rows {
                    break;
                }
                self.new_epoch();
            }
        }
        if self.order.is_empty() {
            return Err(CoreError::Corpus(
                "the training split gives no sentence pair to batch".into(),
            ));
        }
        // An epoch still smaller than a batch (a short text: a few documents of two
        // sentences) repeats its chunks in the batch; waiting for a larger one could hang.
        let picked: Vec<usize> = (0..rows)
            .filter_map(|k| {
                self.order
                    .get((self.cursor + k) % self.order.len())
                    .copied()
            })
            .collect();
        self.cursor += rows;
        let (batch, _) = pair_batch(
            self.task,
            &self.epoch,
            &picked,
            self.format,
            &self.shape,
            &mut self.rng,
        )?;
        Ok(batch)
    }

    fn boxed_clone(&self) -> Box<dyn BatchSource> {
        Box::new(self.clone())
    }
}

/// Fixed evaluation batches of a sentence-pair task: the documents cut into chunks with a
/// generator seeded by `seed` (cut again, with new split points, while there are fewer chunks
/// than `size.min_scored` pairs), visited in a shuffled order, in batches of `size.rows`
/// exactly balanced pairs. Built once and reused, every evaluation asks the same questions, and
/// chance is exactly 50%.
pub fn pair_eval_batches(
    task: PairTask,
    docs: &[DocSentences],
    format: PairFormat,
    shape: &BatchShape,
    size: EvalSize,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    check_documents(task, docs)?;
    check_pair_shape(shape, size.rows)?;
    let mut rng = Rng::new(seed);
    let mut all = Vec::new();
    // Each pass cuts every document anew; a small split may need several to reach the target.
    for _ in 0..64 {
        all.extend(chunks(docs, shape.seq_len - 3, &mut rng));
        if all.len() >= size.min_scored.max(size.rows) {
            break;
        }
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    rng.shuffle(&mut order);
    let batches = (order.len() / size.rows).clamp(1, size.min_scored.div_ceil(size.rows).max(1));
    (0..batches)
        .map(|b| {
            let picked: Vec<usize> = (0..size.rows)
                .map(|i| order[(b * size.rows + i) % order.len()])
                .collect();
            pair_batch(task, &all, &picked, format, shape, &mut rng).map(|(batch, _)| batch)
        })
        .collect()
}

/// One epoch of labelled items from `docs` for `task`, labelled 32 at a time in the epoch's
/// shuffled order until at least `want` are made (the first items of the whole epoch, the same
/// whatever `want`), with how many NSP negatives among them had to take a B of another length:
/// what the shortcut audit reads ([`crate::core::audit`]). Awaits `cp` after every 32 items
/// (an NSP negative scans the epoch's chunks, so megabytes of text take seconds in all).
pub async fn epoch_items(
    task: PairTask,
    docs: &[DocSentences],
    budget: usize,
    want: usize,
    rng: &mut Rng,
    cp: &mut impl Checkpoint,
) -> (Vec<PairItem>, usize) {
    let all = chunks(docs, budget, rng);
    cp.checkpoint().await;
    let mut order: Vec<usize> = (0..all.len()).collect();
    rng.shuffle(&mut order);
    let mut items = Vec::with_capacity(all.len().min(want.saturating_add(32)));
    let mut mismatched = 0;
    for batch in order.chunks(32) {
        if items.len() >= want {
            break;
        }
        let (i, m) = label_items(task, &all, batch, rng);
        items.extend(i);
        mismatched += m;
        cp.checkpoint().await;
    }
    (items, mismatched)
}

#[cfg(test)]
#[path = "coherence_tests.rs"]
mod tests;

//! Test helpers the objective tests share: token streams shaped like the packed corpus, row
//! slicing, and the contract every encoder-decoder batch meets.

use super::Batch;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// The special ids of every lab tokenizer.
pub(crate) const SPECIALS: SpecialIds = SpecialIds::fixed();

/// The padding id of the lab's tokenizer.
pub(crate) const PAD: u32 = 0;

/// `n` distinct text ids in stream order, so a window can be traced back to where it came from.
pub(crate) fn counting_stream(n: usize) -> Vec<u32> {
    (0..n).map(|i| 100 + i as u32).collect()
}

/// Text with an `[EOS]` after every 37 tokens and a `[SEP]` after every 11, as the packed
/// corpus holds them.
pub(crate) fn packed_stream(n: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| match i {
            i if i % 37 == 36 => 6,
            i if i % 11 == 10 => 3,
            _ => 23 + rng.below(2000) as u32,
        })
        .collect()
}

/// Row `b` of a `[batch, width]` vector.
pub(crate) fn row<T>(v: &[T], width: usize, b: usize) -> &[T] {
    &v[b * width..(b + 1) * width]
}

/// The row without its right padding, checking that padding only comes at the end.
pub(crate) fn unpadded(row: &[u32]) -> &[u32] {
    let len = row.iter().position(|&id| id == PAD).unwrap_or(row.len());
    assert!(
        row[len..].iter().all(|&id| id == PAD),
        "padding inside {row:?}"
    );
    &row[..len]
}

/// Every field has its contract length and no self-attention row is empty.
pub(crate) fn assert_encoder_decoder_shapes(batch: &Batch) {
    let (b, s, t) = (batch.batch_size, batch.seq_len, batch.target_len);
    assert!(t >= 1 && t <= s, "target_len {t} for seq_len {s}");
    assert_eq!(batch.inputs.len(), b * s);
    assert_eq!((batch.mask.batch_size, batch.mask.seq_len), (b, s));
    assert_eq!(batch.mask.blocked.len(), b * s * s);
    for v in [&batch.loss_weights, &batch.corrupted] {
        assert_eq!(v.len(), b * t);
    }
    assert_eq!(batch.targets.len(), b * t);
    let decoder = batch.decoder.as_ref().expect("a decoder side");
    assert_eq!(decoder.inputs.len(), b * t);
    let m = &decoder.self_mask;
    assert_eq!(
        (m.batch_size, m.seq_len, m.blocked.len()),
        (b, t, b * t * t)
    );
    let c = &decoder.cross_mask;
    assert_eq!((c.batch_size, c.queries, c.keys), (b, t, s));
    assert_eq!(c.blocked.len(), b * t * s);
    assert!(batch.query.is_none() && batch.pairs.is_none() && batch.segments.is_none());
    assert_eq!(batch.mask.empty_rows(), 0);
    assert_eq!(decoder.self_mask.empty_rows(), 0);
    assert!(
        c.blocked.chunks(s).all(|r| r.iter().any(|&x| !x)),
        "a cross row reads nothing"
    );
}

use super::spec::{BatchShape, ObjectiveKnobs, ObjectiveSpec};
use super::windows::{EvalSize, WindowBatcher, eval_batches};
use crate::core::error::CoreError;

/// A batch shape with the default knobs and the default size's vocabulary.
pub(crate) fn shape(batch_size: usize, seq_len: usize) -> BatchShape {
    shape_with(ObjectiveKnobs::default(), batch_size, seq_len, 2048)
}

pub(crate) fn shape_with(
    knobs: ObjectiveKnobs,
    batch_size: usize,
    seq_len: usize,
    vocab_size: usize,
) -> BatchShape {
    BatchShape {
        knobs,
        batch_size,
        seq_len,
        vocab_size,
        specials: SPECIALS,
    }
}

/// The training batcher of a token objective over `stream`, as the trainer builds one.
pub(crate) fn window_batcher(
    spec: &ObjectiveSpec,
    stream: &[u32],
    shape: BatchShape,
    rng: Rng,
) -> Result<WindowBatcher, CoreError> {
    let role = spec.tokens().expect("a token objective");
    WindowBatcher::new(*role, stream, shape, rng, spec.title)
}

/// A token objective's validation batches over `stream` (rows per batch, positions wanted).
pub(crate) fn eval_of(
    spec: &ObjectiveSpec,
    stream: &[u32],
    shape: BatchShape,
    min_scored: usize,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    let role = spec.tokens().expect("a token objective");
    let rows = shape.batch_size;
    eval_batches(
        role,
        stream,
        &shape,
        EvalSize { rows, min_scored },
        seed,
        spec.title,
    )
}

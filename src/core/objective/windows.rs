//! Windows of the packed token stream, the sequences every token objective trains on (GPT-2's
//! packing; RoBERTa's FULL-SENTENCES, Liu et al. 2019 §4.2): drawn in seeded epochs for
//! training, and sampled once across the whole validation stream for evaluation, so that a
//! validation figure covers every genre of the split and not just its first documents.

use super::Batch;
use super::spec::{BatchShape, BatchSource, TokenRole};
use crate::core::error::CoreError;
use crate::core::rng::Rng;

/// `stream` repeated until it holds at least `min_len` tokens. A student's short text can be
/// smaller than one batch; cycling it is what several epochs over it would do anyway.
pub fn cycled(stream: &[u32], min_len: usize) -> Vec<u32> {
    if stream.is_empty() || stream.len() >= min_len {
        return stream.to_vec();
    }
    stream.iter().copied().cycle().take(min_len).collect()
}

/// Contiguous windows of `len` tokens from a packed stream, in seeded epochs: each epoch
/// starts at a random offset below `len` (so window boundaries move between epochs) and visits
/// that epoch's windows in a random order. A stream shorter than one batch is cycled to a
/// batch, and to at least two windows so that every epoch holds one.
#[derive(Debug, Clone)]
pub struct Windows {
    stream: Vec<u32>,
    len: usize,
    order: Vec<usize>,
    cursor: usize,
}

impl Windows {
    /// `what` names the objective in error messages.
    pub fn new(
        stream: &[u32],
        batch_size: usize,
        len: usize,
        what: &str,
    ) -> Result<Self, CoreError> {
        check_batch_shape(batch_size, len, what)?;
        if stream.is_empty() {
            return Err(CoreError::Corpus(format!(
                "{what}: the training text has no tokens"
            )));
        }
        Ok(Self {
            stream: cycled(stream, (batch_size * len).max(2 * len)),
            len,
            order: Vec::new(),
            cursor: 0,
        })
    }

    fn new_epoch(&mut self, rng: &mut Rng) {
        let offset = rng.below(self.len);
        // `new` cycled the stream to at least two windows, so every epoch holds one.
        let windows = (self.stream.len() - offset) / self.len;
        self.order = (0..windows).map(|i| offset + i * self.len).collect();
        rng.shuffle(&mut self.order);
        self.cursor = 0;
    }

    /// Tokens per window.
    pub fn window_len(&self) -> usize {
        self.len
    }

    /// The next `count` windows in this run's order.
    pub fn next(&mut self, count: usize, rng: &mut Rng) -> Vec<Vec<u32>> {
        let mut windows = Vec::with_capacity(count);
        while windows.len() < count {
            if self.cursor >= self.order.len() {
                self.new_epoch(rng);
            }
            let start = self.order[self.cursor];
            windows.push(self.stream[start..start + self.len].to_vec());
            self.cursor += 1;
        }
        windows
    }
}

pub(crate) fn check_batch_shape(
    batch_size: usize,
    len: usize,
    what: &str,
) -> Result<(), CoreError> {
    if batch_size == 0 || len == 0 {
        return Err(CoreError::Config(format!(
            "{what}: a batch of {batch_size}×{len} is empty; batch size and sequence length must \
             be at least 1"
        )));
    }
    Ok(())
}

/// The training batcher of any token objective: windows of the stream in seeded epochs, turned
/// into batches by the objective's own [`TokenRole::windows_batch`].
#[derive(Clone)]
pub struct WindowBatcher {
    windows: Windows,
    role: TokenRole,
    shape: BatchShape,
    rng: Rng,
}

impl WindowBatcher {
    /// Checks the objective can train on `stream` with `shape` first.
    pub fn new(
        role: TokenRole,
        stream: &[u32],
        shape: BatchShape,
        rng: Rng,
        what: &str,
    ) -> Result<Self, CoreError> {
        (role.check)(stream, &shape)?;
        let len = (role.window_len)(&shape)?;
        Ok(Self {
            windows: Windows::new(stream, shape.batch_size, len, what)?,
            role,
            shape,
            rng,
        })
    }
}

impl WindowBatcher {
    /// Tokens per window.
    pub fn window_len(&self) -> usize {
        self.windows.window_len()
    }
}

impl BatchSource for WindowBatcher {
    fn next_batch(&mut self) -> Result<Batch, CoreError> {
        let windows = self.windows.next(self.shape.batch_size, &mut self.rng);
        (self.role.windows_batch)(&windows, &self.shape, &mut self.rng)
    }

    fn boxed_clone(&self) -> Box<dyn BatchSource> {
        Box::new(self.clone())
    }
}

/// How large an evaluation set is: batches of `rows` sequences, drawn until the positions it
/// scores (or the pairs it judges) reach `min_scored`, or the split runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalSize {
    pub rows: usize,
    pub min_scored: usize,
}

/// Evaluation batches of a token objective, sampled across the whole `stream`: its
/// non-overlapping windows are visited in an order shuffled by `seed` and corrupted by a
/// generator seeded by `seed`, batch after batch, until the corrupted positions reach
/// `size.min_scored` or the windows run out. The same seed gives the same batches, so every
/// evaluation of a run, and every run of a comparison on one corpus, scores the same positions.
pub fn eval_batches(
    role: &TokenRole,
    stream: &[u32],
    shape: &BatchShape,
    size: EvalSize,
    seed: u64,
    what: &str,
) -> Result<Vec<Batch>, CoreError> {
    (role.check)(stream, shape)?;
    let len = (role.window_len)(shape)?;
    check_batch_shape(size.rows, len, what)?;
    if stream.is_empty() {
        return Err(CoreError::Corpus(format!(
            "{what}: the validation text has no tokens"
        )));
    }
    let stream = cycled(stream, size.rows * len);
    let mut rng = Rng::new(seed);
    let mut starts: Vec<usize> = (0..stream.len() / len).map(|i| i * len).collect();
    rng.shuffle(&mut starts);
    let mut batches = Vec::new();
    let mut scored = 0.0;
    for chunk in starts.chunks(size.rows) {
        if chunk.len() < size.rows && !batches.is_empty() {
            break; // a short last batch would weigh its positions differently; drop it
        }
        let windows: Vec<Vec<u32>> = chunk.iter().map(|&s| stream[s..s + len].to_vec()).collect();
        let batch = (role.windows_batch)(&windows, shape, &mut rng)?;
        scored += batch.corrupted.iter().map(|&c| f64::from(c)).sum::<f64>();
        batches.push(batch);
        if scored >= size.min_scored as f64 {
            break;
        }
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_streams_are_cycled_to_one_batch() {
        assert_eq!(cycled(&[1, 2, 3], 7), vec![1, 2, 3, 1, 2, 3, 1]);
        assert_eq!(cycled(&[1, 2, 3], 2), vec![1, 2, 3]);
        assert!(cycled(&[], 5).is_empty());
    }
}

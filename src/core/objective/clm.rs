//! Causal language modelling (GPT; Radford et al. 2018): every position predicts the next
//! token, seeing only itself and what came before. Sequences are contiguous windows of the
//! packed token stream; the target is the input shifted left by one, done here in the batcher,
//! never in the model. Each epoch starts at a random offset and visits the windows in a seeded
//! random order.

use super::Batch;
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// `stream` repeated until it holds at least `min_len` tokens. A student's short text can be
/// smaller than one batch; cycling it is what several epochs over it would do anyway.
pub fn cycled(stream: &[u32], min_len: usize) -> Vec<u32> {
    if stream.is_empty() || stream.len() >= min_len {
        return stream.to_vec();
    }
    stream.iter().copied().cycle().take(min_len).collect()
}

/// Draws training batches of next-token prediction from a packed stream.
#[derive(Debug, Clone)]
pub struct ClmBatcher {
    stream: Vec<u32>,
    batch_size: usize,
    seq_len: usize,
    specials: SpecialIds,
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
}

impl ClmBatcher {
    pub fn new(
        stream: Vec<u32>,
        batch_size: usize,
        seq_len: usize,
        specials: SpecialIds,
        rng: Rng,
    ) -> Result<Self, CoreError> {
        if stream.len() < 2 * seq_len + 1 || stream.len() < batch_size * seq_len + 1 {
            return Err(CoreError::Corpus(format!(
                "the training text has {} tokens; a batch of {batch_size}×{seq_len} needs at least {}",
                stream.len(),
                (batch_size * seq_len).max(2 * seq_len) + 1
            )));
        }
        Ok(Self {
            stream,
            batch_size,
            seq_len,
            specials,
            rng,
            order: Vec::new(),
            cursor: 0,
        })
    }

    fn new_epoch(&mut self) {
        let offset = self.rng.below(self.seq_len);
        let windows = (self.stream.len() - 1 - offset) / self.seq_len;
        self.order = (0..windows).map(|i| offset + i * self.seq_len).collect();
        self.rng.shuffle(&mut self.order);
        self.cursor = 0;
    }

    /// The next batch in this run's order.
    pub fn next_batch(&mut self) -> Batch {
        let mut starts = Vec::with_capacity(self.batch_size);
        while starts.len() < self.batch_size {
            if self.cursor >= self.order.len() {
                self.new_epoch();
            }
            starts.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        clm_batch(&self.stream, &starts, self.seq_len, self.specials)
    }
}

/// Builds a next-token batch from windows starting at `starts` (each needs `seq_len + 1` ids).
pub fn clm_batch(stream: &[u32], starts: &[usize], seq_len: usize, specials: SpecialIds) -> Batch {
    let mut inputs = Vec::with_capacity(starts.len() * seq_len);
    let mut targets = Vec::with_capacity(starts.len() * seq_len);
    for &start in starts {
        inputs.extend_from_slice(&stream[start..start + seq_len]);
        targets.extend_from_slice(&stream[start + 1..start + seq_len + 1]);
    }
    let original_tokens = inputs
        .iter()
        .filter(|&&id| !specials.is_special(id))
        .count();
    Batch {
        batch_size: starts.len(),
        seq_len,
        segments: None,
        target_len: seq_len,
        loss_weights: vec![1.0; inputs.len()],
        corrupted: vec![1.0; inputs.len()],
        supervised_tokens: inputs.len(),
        inputs,
        targets,
        mask: AttentionMask::causal(starts.len(), seq_len),
        decoder: None,
        query: None,
        pairs: None,
        original_tokens,
    }
}

/// Fixed evaluation batches: non-overlapping windows from the start of `stream`, at most
/// `max_batches` full batches.
pub fn clm_eval_batches(
    stream: &[u32],
    batch_size: usize,
    seq_len: usize,
    max_batches: usize,
    specials: SpecialIds,
) -> Result<Vec<Batch>, CoreError> {
    let windows = stream.len().saturating_sub(1) / seq_len;
    let batches = (windows / batch_size).min(max_batches);
    if batches == 0 {
        return Err(CoreError::Corpus(format!(
            "the validation text has {} tokens; one evaluation batch of {batch_size}×{seq_len} needs {}",
            stream.len(),
            batch_size * seq_len + 1
        )));
    }
    Ok((0..batches)
        .map(|b| {
            let starts: Vec<usize> = (0..batch_size)
                .map(|i| (b * batch_size + i) * seq_len)
                .collect();
            clm_batch(stream, &starts, seq_len, specials)
        })
        .collect())
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
    use crate::core::objective::test_support::SPECIALS;

    #[test]
    fn targets_are_inputs_shifted_by_one() {
        let stream: Vec<u32> = (100..400).collect();
        let mut batcher = ClmBatcher::new(stream, 4, 16, SPECIALS, Rng::new(1)).expect("batcher");
        let batch = batcher.next_batch();
        for row in 0..4 {
            let inp = &batch.inputs[row * 16..(row + 1) * 16];
            let tgt = &batch.targets[row * 16..(row + 1) * 16];
            assert_eq!(&inp[1..], &tgt[..15]);
            assert_eq!(tgt[15], inp[15] + 1);
        }
        assert_eq!(batch.original_tokens, 64);
        assert_eq!(batch.supervised_tokens, 64);
    }

    #[test]
    fn same_seed_same_batches_other_seed_other_batches() {
        let stream: Vec<u32> = (0..5000).map(|i| 30 + (i * 7919 % 900) as u32).collect();
        let draw = |seed| {
            let mut b =
                ClmBatcher::new(stream.clone(), 4, 16, SPECIALS, Rng::new(seed)).expect("batcher");
            (0..30).map(|_| b.next_batch().inputs).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn specials_do_not_count_as_original_text() {
        let mut stream: Vec<u32> = (100..200).collect();
        stream[5] = 6; // [EOS]
        let batch = clm_batch(&stream, &[0], 10, SPECIALS);
        assert_eq!(batch.original_tokens, 9);
    }

    #[test]
    fn too_short_a_text_is_a_typed_error() {
        let err = ClmBatcher::new(vec![100; 10], 4, 16, SPECIALS, Rng::new(1));
        assert!(matches!(err, Err(CoreError::Corpus(_))));
    }
}

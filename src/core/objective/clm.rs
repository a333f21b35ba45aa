//! Causal language modelling (GPT; Radford et al. 2018): every position predicts the next
//! token, seeing only itself and what came before. Sequences are contiguous windows of the
//! packed token stream ([`super::windows`]); the target is the input shifted left by one, done
//! here in the batcher, never in the model.

use super::Batch;
use super::coherence::{PackedPair, PairLayout, TokenRow, padded_pair_batch};
use super::scoring::{Decoding, ScoreKind, Scoring, ScoringExample, one_row, stack_rows};
use super::spec::{
    BatchShape, Family, ObjectiveSpec, Role, TargetSupport, TokenRole, WithPairs, no_combination,
};
use crate::core::config::{Recipe, Recipes, Schedule};
use crate::core::error::CoreError;
use crate::core::masks::AttentionMask;
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// Causal LM's spec: a decoder over packed windows; with a pair objective, GPT's reading of a
/// pair (`A [SEP] B [SEP] [CLS]`, the head on the last position).
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "clm",
    title: "causal LM",
    family: Family::CausalLm,
    paper: "GPT (Radford et al. 2018) §3.1; GPT-2 (Radford et al. 2019)",
    how: "next-token windows under a causal mask",
    role: Role::Tokens(TokenRole {
        architecture: Architecture::Decoder,
        with_pairs: WithPairs::SameBatch {
            layout: PairLayout::ClsLast,
            rows: pair_rows,
            how: "one batch: CLM on A [SEP] B [SEP] [CLS], the pair head on the final [CLS], \
                  which sees the whole pair",
        },
        window_len,
        windows_batch,
        check,
        scoring: Scoring {
            kind: ScoreKind::Perplexity,
            protocol: "left to right on [EOS] ticket [SEP] resolution; the resolution's tokens scored",
            caveat: None,
            rows_per_example: one_row,
            rows: scoring_rows,
            decoding: Decoding::LeftToRight,
        },
    }),
    knobs: &[],
    check_knobs: no_combination,
    support: TargetSupport::TextAndSeparators,
    recipes: RECIPES,
};

/// The rate sweep's choice for causal LM (BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 2e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 3e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
};

/// A window holds one token more than a sequence: the last position's target.
fn window_len(shape: &BatchShape) -> Result<usize, CoreError> {
    Ok(shape.seq_len + 1)
}

fn check(stream: &[u32], shape: &BatchShape) -> Result<(), CoreError> {
    if stream.len() < 2 {
        return Err(CoreError::Corpus(format!(
            "the text has {} token(s); next-token prediction needs at least 2 (a batch of \
             {}×{} is made by cycling a short text)",
            stream.len(),
            shape.batch_size,
            shape.seq_len
        )));
    }
    Ok(())
}

/// Next-token batches from windows of `seq_len + 1` tokens: inputs are the first `seq_len`,
/// targets the last `seq_len`; every position is scored.
pub fn windows_batch(
    windows: &[Vec<u32>],
    shape: &BatchShape,
    _rng: &mut Rng,
) -> Result<Batch, CoreError> {
    let seq_len = windows.first().map_or(0, |w| w.len().saturating_sub(1));
    if seq_len == 0 || windows.iter().any(|w| w.len() != seq_len + 1) {
        return Err(CoreError::Config(
            "next-token windows must all hold seq_len + 1 ≥ 2 tokens".into(),
        ));
    }
    let mut inputs = Vec::with_capacity(windows.len() * seq_len);
    let mut targets = Vec::with_capacity(windows.len() * seq_len);
    for w in windows {
        inputs.extend_from_slice(&w[..seq_len]);
        targets.extend_from_slice(&w[1..]);
    }
    let original_tokens = inputs
        .iter()
        .filter(|&&id| !shape.specials.is_special(id))
        .count();
    Ok(Batch {
        batch_size: windows.len(),
        seq_len,
        segments: None,
        target_len: seq_len,
        loss_weights: vec![1.0; inputs.len()],
        corrupted: vec![1.0; inputs.len()],
        supervised_tokens: inputs.len(),
        inputs,
        targets,
        mask: AttentionMask::causal(windows.len(), seq_len),
        decoder: None,
        query: None,
        pairs: None,
        original_tokens,
    })
}

/// Scores each continuation left to right after its context: the row is context then
/// continuation, shifted by one as in training, and only the targets that are continuation
/// tokens carry a weight.
fn scoring_rows(examples: &[ScoringExample], specials: SpecialIds) -> Result<Batch, CoreError> {
    let rows = examples
        .iter()
        .map(|e| {
            let ids: Vec<u32> = e.context.iter().chain(&e.continuation).copied().collect();
            let n = ids.len() - 1;
            let first = e.context.len().saturating_sub(1);
            let weights = (0..n).map(|p| if p >= first { 1.0 } else { 0.0 }).collect();
            (ids[..n].to_vec(), ids[1..].to_vec(), weights)
        })
        .collect();
    stack_rows(rows, specials, AttentionMask::causal_with_padding)
}

/// Next-token prediction over each packed pair by a causal decoder, whose last position — the
/// only one that has read both segments — judges the pair; GPT reads a pair the same way,
/// delimiter between and the extract token at the end (Radford et al. 2018, §3.3). Position `i`
/// predicts `ids[i + 1]`; the last real position has no next token inside the sequence (the
/// next one would be padding), so it is not scored.
fn pair_rows(
    packed: &[PackedPair],
    labels: &[u8],
    shape: &BatchShape,
    _rng: &mut Rng,
) -> Result<Batch, CoreError> {
    padded_pair_batch(packed, labels, shape, PairLayout::ClsLast, |ids| {
        let mut targets: Vec<u32> = ids.iter().skip(1).copied().collect();
        targets.push(shape.specials.pad);
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::objective::spec::BatchSource;
    use crate::core::objective::test_support::{SPECIALS, shape};
    use crate::core::objective::windows::WindowBatcher;

    fn batcher(stream: Vec<u32>, batch: usize, seq: usize, seed: u64) -> WindowBatcher {
        let role = *SPEC.tokens().expect("token objective");
        WindowBatcher::new(role, &stream, shape(batch, seq), Rng::new(seed), "clm")
            .expect("batcher")
    }

    #[test]
    fn targets_are_inputs_shifted_by_one() {
        let stream: Vec<u32> = (100..400).collect();
        let batch = batcher(stream, 4, 16, 1).next_batch().expect("batch");
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
            let mut b = batcher(stream.clone(), 4, 16, seed);
            (0..30)
                .map(|_| b.next_batch().expect("batch").inputs)
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn specials_do_not_count_as_original_text() {
        let mut window: Vec<u32> = (100..111).collect();
        window[5] = SPECIALS.eos;
        let batch = windows_batch(&[window], &shape(1, 10), &mut Rng::new(0)).expect("batch");
        assert_eq!(batch.original_tokens, 9);
    }

    #[test]
    fn a_text_of_one_token_is_a_typed_error() {
        let role = *SPEC.tokens().expect("token objective");
        let err = WindowBatcher::new(role, &[100], shape(4, 16), Rng::new(1), "clm");
        assert!(matches!(err, Err(CoreError::Corpus(_))));
    }
}

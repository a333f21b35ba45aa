//! The batch sources of a plan: one per batch kind, built from the objectives' specs, with
//! fixed validation batches beside each. The trainer only ever asks for "the next batch of
//! kind i" and "the validation batches of kind i".

use crate::core::config::RunConfig;
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::objective::coherence::{PairBatcher, PairFormat, pair_eval_batches};
use crate::core::objective::spec::{BatchShape, BatchSource, WithPairs};
use crate::core::objective::windows::{EvalSize, WindowBatcher, cycled, eval_batches};
use crate::core::objective::{Batch, Objective};
use crate::core::plan::BatchKind;
use crate::core::rng::{Rng, Stream};

/// Sequences per evaluation batch (larger than a training batch: fewer calls, same positions).
pub const EVAL_ROWS: usize = 32;

/// Corrupted positions a token objective's validation set scores at least (or all the split
/// has): the standard error of a loss near 5 nats over 6,000 positions is about 0.03 nats, and
/// a difference against the baseline on the same positions has a far smaller one.
pub const MIN_EVAL_POSITIONS: usize = 6_000;

/// Held-out pairs a pair objective's validation set judges at least: the standard error of an
/// accuracy near 75% is then 1.4 points.
pub const MIN_EVAL_PAIRS: usize = 1_000;

/// The seed of batch kind `index`'s stream: kinds of one plan never share draws.
fn stream_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The shape of this run's batches.
pub fn shape(dataset: &Dataset, config: &RunConfig) -> BatchShape {
    let model = config.size.model();
    BatchShape {
        knobs: config.knobs.clone(),
        batch_size: config.batch_size,
        seq_len: model.max_seq_len,
        vocab_size: model.vocab_size,
        specials: dataset.tokenizer.specials(),
    }
}

/// The pair format of `kind`: the token objective's same-batch rows, or the head alone.
fn pair_format(kind: BatchKind) -> Result<PairFormat, CoreError> {
    match kind.tokens {
        None => Ok(PairFormat::ALONE),
        Some(token) => match token.spec().tokens().map(|t| t.with_pairs) {
            Some(WithPairs::SameBatch { layout, rows, .. }) => Ok(PairFormat { layout, rows }),
            _ => Err(CoreError::Config(format!(
                "{token} does not share a batch with sentence pairs"
            ))),
        },
    }
}

/// The training batcher of one batch kind (its stream seeded from the run's seed and the kind's
/// index, so kinds of one plan never share draws).
pub fn source(
    kind: BatchKind,
    index: usize,
    dataset: &Dataset,
    config: &RunConfig,
) -> Result<Box<dyn BatchSource>, CoreError> {
    let shape = shape(dataset, config);
    let rng = Rng::for_stream(stream_seed(config.seed, index), Stream::Batches);
    match (kind.tokens, kind.pairs) {
        (_, Some(pair)) => {
            let task = pair_task(pair)?;
            let format = pair_format(kind)?;
            let [train_docs, ..] = &dataset.documents;
            let batcher = PairBatcher::new(task, train_docs.clone(), format, shape, rng)?;
            Ok(Box::new(batcher))
        }
        (Some(token), None) => {
            let Some(role) = token.spec().tokens() else {
                return Err(CoreError::Config(format!("{token} predicts no tokens")));
            };
            // A student's short text: cycled to one batch at least.
            let one_batch = (shape.batch_size * (shape.seq_len + 1)).max(2 * shape.seq_len + 2);
            let train = cycled(&dataset.train, one_batch);
            let batcher = WindowBatcher::new(*role, &train, shape, rng, token.spec().title)?;
            Ok(Box::new(batcher))
        }
        (None, None) => Err(CoreError::Config(
            "a batch kind with nothing to learn".into(),
        )),
    }
}

/// Builds the training batcher ([`source`]) and the fixed validation batches of one batch kind.
pub fn build(
    kind: BatchKind,
    index: usize,
    dataset: &Dataset,
    config: &RunConfig,
) -> Result<(Box<dyn BatchSource>, Vec<Batch>), CoreError> {
    let batcher = source(kind, index, dataset, config)?;
    let mut eval_shape = shape(dataset, config);
    eval_shape.batch_size = EVAL_ROWS;
    // Fixed per corpus: every run of a comparison on one corpus scores the same positions.
    let eval_seed = stream_seed(config.corpus_seed ^ 0xE7A1, index);
    let [_, validation_docs, _] = &dataset.documents;
    let eval = match (kind.tokens, kind.pairs) {
        (_, Some(pair)) => pair_eval_batches(
            pair_task(pair)?,
            validation_docs,
            pair_format(kind)?,
            &eval_shape,
            EvalSize {
                rows: EVAL_ROWS,
                min_scored: MIN_EVAL_PAIRS,
            },
            eval_seed,
        )?,
        (Some(token), None) => {
            let Some(role) = token.spec().tokens() else {
                return Err(CoreError::Config(format!("{token} predicts no tokens")));
            };
            eval_batches(
                role,
                &dataset.validation,
                &eval_shape,
                EvalSize {
                    rows: EVAL_ROWS,
                    min_scored: MIN_EVAL_POSITIONS,
                },
                eval_seed,
                token.spec().title,
            )?
        }
        (None, None) => {
            return Err(CoreError::Config(
                "a batch kind with nothing to learn".into(),
            ));
        }
    };
    Ok((batcher, eval))
}

fn pair_task(pair: Objective) -> Result<crate::core::objective::coherence::PairTask, CoreError> {
    pair.spec()
        .pairs()
        .map(|p| p.task)
        .ok_or_else(|| CoreError::Config(format!("{pair} judges no pairs")))
}

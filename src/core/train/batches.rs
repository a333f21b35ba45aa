//! The batch sources of a plan: one per batch kind, each a batcher of its objective file,
//! with fixed validation batches beside it. The trainer only ever asks for "the next batch of
//! kind i" and "the validation batches of kind i".

use crate::core::config::RunConfig;
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::objective::Batch;
use crate::core::objective::clm::{ClmBatcher, clm_eval_batches, cycled};
use crate::core::objective::coherence::{PairBatcher, PairTask, PairTokens, pair_eval_batches};
use crate::core::objective::infill::{InfillBatcher, infill_eval_batches};
use crate::core::objective::mlm::{MlmBatcher, mlm_eval_batches};
use crate::core::objective::plm::{PlmBatcher, plm_eval_batches, plm_pair_eval_batches};
use crate::core::objective::span::{SpanBatcher, span_eval_batches};
use crate::core::plan::{BatchKind, PairTaskKind, TokenTask};
use crate::core::rng::{Rng, Stream};

/// A batcher of any objective.
pub enum Batcher {
    Clm(ClmBatcher),
    Mlm(MlmBatcher),
    Pairs(PairBatcher),
    Span(SpanBatcher),
    Infill(InfillBatcher),
    Plm(PlmBatcher),
}

impl Batcher {
    pub fn next_batch(&mut self) -> Result<Batch, CoreError> {
        match self {
            Batcher::Clm(b) => Ok(b.next_batch()),
            Batcher::Mlm(b) => b.next_batch(),
            Batcher::Pairs(b) => b.next_batch(),
            Batcher::Span(b) => b.next_batch(),
            Batcher::Infill(b) => b.next_batch(),
            Batcher::Plm(b) => b.next_batch(),
        }
    }
}

fn pair_task(kind: PairTaskKind) -> PairTask {
    match kind {
        PairTaskKind::Nsp => PairTask::Nsp,
        PairTaskKind::Sop => PairTask::Sop,
    }
}

/// The seed of batch kind `index`'s stream: kinds of one plan never share draws.
fn stream_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Builds the training batcher and the fixed validation batches of one batch kind.
pub fn build(
    kind: BatchKind,
    index: usize,
    dataset: &Dataset,
    config: &RunConfig,
) -> Result<(Batcher, Vec<Batch>), CoreError> {
    let model = config.size.model();
    let (batch_size, seq_len, vocab) = (
        config.size.batch_size(),
        model.max_seq_len,
        model.vocab_size,
    );
    let specials = dataset.tokenizer.specials();
    let knobs = config.knobs;
    let rng = Rng::for_stream(stream_seed(config.seed, index), Stream::Batches);
    let eval_seed = stream_seed(config.corpus_seed ^ 0xE7A1, index);
    // One batch's worth at least, for a student's short text.
    let one_batch = (batch_size * seq_len).max(2 * seq_len) + 1;
    let train = cycled(&dataset.train, one_batch);
    let validation = cycled(&dataset.validation, one_batch);
    let max_eval = config.eval_batches;
    match (kind.tokens, kind.pairs) {
        (Some(TokenTask::Clm), None) => Ok((
            Batcher::Clm(ClmBatcher::new(train, batch_size, seq_len, specials, rng)?),
            clm_eval_batches(&validation, batch_size, seq_len, max_eval, specials)?,
        )),
        (Some(TokenTask::Mlm), None) => Ok((
            Batcher::Mlm(MlmBatcher::new(
                train, knobs.mlm, batch_size, seq_len, specials, vocab, rng,
            )?),
            mlm_eval_batches(
                &validation,
                knobs.mlm,
                batch_size,
                seq_len,
                max_eval,
                specials,
                vocab,
                eval_seed,
            )?,
        )),
        (Some(TokenTask::Span), None) => Ok((
            Batcher::Span(SpanBatcher::new(
                train, knobs.span, batch_size, seq_len, specials, rng,
            )?),
            span_eval_batches(
                &validation,
                knobs.span,
                batch_size,
                seq_len,
                max_eval,
                specials,
                eval_seed,
            )?,
        )),
        (Some(TokenTask::Infill), None) => Ok((
            Batcher::Infill(InfillBatcher::new(
                train,
                knobs.infill,
                batch_size,
                seq_len,
                specials,
                rng,
            )?),
            infill_eval_batches(
                &validation,
                knobs.infill,
                batch_size,
                seq_len,
                max_eval,
                specials,
                eval_seed,
            )?,
        )),
        (Some(TokenTask::Plm), None) => Ok((
            Batcher::Plm(PlmBatcher::new(
                train, knobs.plm, batch_size, seq_len, specials, rng,
            )?),
            plm_eval_batches(
                &validation,
                knobs.plm,
                batch_size,
                seq_len,
                max_eval,
                specials,
                eval_seed,
            )?,
        )),
        (Some(TokenTask::Plm), Some(pairs)) => {
            let task = pair_task(pairs);
            Ok((
                Batcher::Plm(PlmBatcher::with_pairs(
                    task,
                    dataset.train_segments.clone(),
                    knobs.plm,
                    batch_size,
                    seq_len,
                    specials,
                    rng,
                )?),
                plm_pair_eval_batches(
                    task,
                    &dataset.validation_segments,
                    knobs.plm,
                    batch_size,
                    seq_len,
                    max_eval,
                    specials,
                    eval_seed,
                )?,
            ))
        }
        (tokens, Some(pairs)) => {
            let task = pair_task(pairs);
            let tokens = match tokens {
                None => PairTokens::None,
                Some(TokenTask::Mlm) => PairTokens::Mlm(knobs.mlm),
                Some(TokenTask::Clm) => PairTokens::Clm,
                Some(other) => {
                    return Err(CoreError::Config(format!(
                        "{other:?} cannot share a batch with sentence pairs"
                    )));
                }
            };
            Ok((
                Batcher::Pairs(PairBatcher::new(
                    task,
                    dataset.train_segments.clone(),
                    tokens,
                    batch_size,
                    seq_len,
                    specials,
                    vocab,
                    rng,
                )?),
                pair_eval_batches(
                    task,
                    &dataset.validation_segments,
                    tokens,
                    batch_size,
                    seq_len,
                    max_eval,
                    specials,
                    vocab,
                    eval_seed,
                )?,
            ))
        }
        (None, None) => Err(CoreError::Config(
            "a batch kind with nothing to learn".into(),
        )),
    }
}

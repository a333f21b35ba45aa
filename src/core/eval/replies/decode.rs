//! The decoding loops behind [`super::write_replies`]: one forward pass per new token, every
//! open reply of a step stacked into one batch in the layout its objective's scoring protocol
//! uses ([`step_rows`]), the next id chosen greedily or by temperature and top-k sampling.

use burn::tensor::{Int, Tensor, TensorData};

use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::generate::sample_top_k_among;
use crate::core::masks::AttentionMask;
use crate::core::model::network::Network;
use crate::core::objective::Batch;
use crate::core::objective::scoring::{Decoding, ScoringExample, natural_order_rows, stack_rows};
use crate::core::objective::span::{Seq2SeqExample, seq2seq_batch};
use crate::core::rng::{Rng, Stream};
use crate::core::tokenizer::SpecialIds;

/// Sampling temperature (as [`crate::core::generate::write_continuation`]).
pub const TEMPERATURE: f32 = 0.8;
/// Sampling keeps the `TOP_K` most likely ids.
pub const TOP_K: usize = 40;
/// Tickets per forward pass.
const ROWS_PER_BATCH: usize = 32;

/// How the next id is chosen from a step's logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The most likely allowed id (ties: the lower id).
    Greedy,
    /// Temperature and top-k sampling; ticket `i` draws from the `i`-th generator seeded from
    /// `Rng::for_stream(seed, Stream::Sampling)`, so its reply does not depend on the others.
    Sampled { seed: u64 },
}

/// Whether `id` ends a reply under `decoding`.
pub(crate) fn is_stop(decoding: Decoding, specials: SpecialIds, id: u32) -> bool {
    let sentinel = id >= specials.first_sentinel && specials.is_special(id);
    id == specials.eos || id == specials.sep || (decoding == Decoding::Sentinel && sentinel)
}

/// The most likely id among those `allowed` admits with a finite logit (ties: the lower id).
fn argmax_among(logits: &[f32], allowed: impl Fn(u32) -> bool) -> Option<u32> {
    let mut best: Option<(u32, f32)> = None;
    for (id, &v) in logits.iter().enumerate() {
        let id = id as u32;
        if v.is_finite() && allowed(id) && best.is_none_or(|(_, b)| v > b) {
            best = Some((id, v));
        }
    }
    best.map(|(id, _)| id)
}

/// One decoding step's rows: the batch, and per row the flat index `row * target_len +
/// position` of the logits that predict its next token.
#[derive(Debug, Clone)]
pub(crate) struct StepRows {
    pub batch: Batch,
    pub read_at: Vec<usize>,
}

/// The rows that predict each reply's next token, given each row's context and what it has
/// written (fewer than `cap` tokens). The position being predicted holds `[MASK]` where the
/// layout has one (mask filling; XLNet's new position, whose content its query never reads);
/// an encoder-decoder's target ends one past what is written, so its decoder inputs — the
/// targets shifted right after `[BOS]` — hold exactly what is known.
pub(crate) fn step_rows(
    decoding: Decoding,
    rows: &[(&[u32], &[u32])],
    cap: usize,
    specials: SpecialIds,
) -> Result<StepRows, CoreError> {
    let plain = |ids: Vec<u32>| {
        let n = ids.len();
        (ids.clone(), ids, vec![0.0; n])
    };
    let (batch, positions): (Batch, Vec<usize>) = match decoding {
        Decoding::LeftToRight => {
            let ids: Vec<Vec<u32>> = rows.iter().map(|(c, w)| [*c, *w].concat()).collect();
            let read = ids.iter().map(|r| r.len().saturating_sub(1)).collect();
            let rows = ids.into_iter().map(plain).collect();
            let batch = stack_rows(rows, specials, AttentionMask::causal_with_padding)?;
            (batch, read)
        }
        Decoding::MaskFilling => {
            let ids: Vec<Vec<u32>> = rows
                .iter()
                .map(|(c, w)| {
                    let masks = vec![specials.mask; cap.saturating_sub(w.len()).max(1)];
                    [*c, *w, &masks].concat()
                })
                .collect();
            let read = rows.iter().map(|(c, w)| c.len() + w.len()).collect();
            let rows = ids.into_iter().map(plain).collect();
            let batch = stack_rows(rows, specials, AttentionMask::bidirectional)?;
            (batch, read)
        }
        Decoding::Sentinel | Decoding::Reconstruct => {
            let examples: Vec<Seq2SeqExample> = rows
                .iter()
                .map(|(c, w)| {
                    let (open, prefix) = if decoding == Decoding::Sentinel {
                        (specials.first_sentinel, vec![specials.first_sentinel])
                    } else {
                        (specials.mask, c.to_vec())
                    };
                    let input = [*c, &[open]].concat();
                    let target = [&prefix, *w, &[specials.mask]].concat();
                    Seq2SeqExample {
                        input,
                        target,
                        corrupted: Vec::new(),
                    }
                })
                .collect();
            let read = examples.iter().map(|e| e.target.len() - 1).collect();
            let seq_len = examples
                .iter()
                .map(|e| e.input.len().max(e.target.len()))
                .max()
                .unwrap_or(0);
            (seq2seq_batch(&examples, seq_len, specials, 0)?, read)
        }
        Decoding::NaturalOrder => {
            let examples: Vec<ScoringExample> = rows
                .iter()
                .map(|(c, w)| ScoringExample {
                    context: c.to_vec(),
                    continuation: [*w, &[specials.mask]].concat(),
                })
                .collect();
            let read = rows.iter().map(|(c, w)| c.len() + w.len()).collect();
            (natural_order_rows(&examples, specials)?, read)
        }
    };
    let t = batch.target_len;
    let read_at = positions
        .into_iter()
        .enumerate()
        .map(|(row, p)| row * t + p)
        .collect();
    Ok(StepRows { batch, read_at })
}

/// What a step reads of a context and the reply so far: all of it, except that a left-to-right
/// writer slides its `window` over them once they outgrow it (the ticket's start leaves first),
/// as a decoder reads a long text.
pub(crate) fn slide<'a>(
    decoding: Decoding,
    context: &'a [u32],
    written: &'a [u32],
    window: usize,
) -> (&'a [u32], &'a [u32]) {
    let over = (context.len() + written.len()).saturating_sub(window);
    if decoding != Decoding::LeftToRight || over == 0 {
        return (context, written);
    }
    let from_context = over.min(context.len());
    (&context[from_context..], &written[over - from_context..])
}

/// Writes a reply of at most `cap` tokens after each of `contexts` with `decoding`, choosing
/// each token by `pick`; the replies' ids, specials never among them. Awaits `cp` after every
/// forward pass; every number is read back asynchronously.
#[allow(clippy::too_many_arguments)]
pub async fn decode_replies(
    network: &Network,
    decoding: Decoding,
    contexts: &[Vec<u32>],
    cap: usize,
    pick: Pick,
    specials: SpecialIds,
    backend_label: &str,
    cp: &mut impl Checkpoint,
) -> Result<Vec<Vec<u32>>, CoreError> {
    let model = network.valid();
    let device = model.device();
    let window = model.max_seq_len();
    let mut rngs: Vec<Rng> = match pick {
        Pick::Greedy => Vec::new(),
        Pick::Sampled { seed } => {
            let mut seeds = Rng::for_stream(seed, Stream::Sampling);
            contexts
                .iter()
                .map(|_| Rng::new(seeds.next_u64()))
                .collect()
        }
    };
    let allowed = |id: u32| !specials.is_special(id) || is_stop(decoding, specials, id);
    let mut written: Vec<Vec<u32>> = vec![Vec::new(); contexts.len()];
    let mut open: Vec<usize> = (0..contexts.len()).filter(|_| cap > 0).collect();
    while !open.is_empty() {
        let mut finished = Vec::new();
        for chunk in open.chunks(ROWS_PER_BATCH) {
            let step = {
                let rows: Vec<(&[u32], &[u32])> = chunk
                    .iter()
                    .map(|&i| slide(decoding, &contexts[i], &written[i], window))
                    .collect();
                step_rows(decoding, &rows, cap, specials)?
            };
            let tensors = step.batch.to_tensors(&device);
            let logits = model.forward(&tensors, false).logits; // [b, t, vocab]
            let [b, t, vocab] = logits.dims();
            let read_at: Vec<i64> = step.read_at.iter().map(|&p| p as i64).collect();
            let index = Tensor::<1, Int>::from_data(TensorData::new(read_at, [b]), &device);
            let next = logits.reshape([b * t, vocab]).select(0, index); // [b, vocab]
            let values: Vec<f32> = next
                .into_data_async()
                .await
                .map_err(|e| CoreError::read(backend_label, e))?
                .try_into_vec::<f32>()
                .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))?;
            cp.checkpoint().await;
            for (row, &i) in chunk.iter().enumerate() {
                let logits = &values[row * vocab..(row + 1) * vocab];
                let id = match pick {
                    Pick::Greedy => argmax_among(logits, allowed),
                    Pick::Sampled { .. } => {
                        sample_top_k_among(logits, TEMPERATURE, TOP_K, &mut rngs[i], allowed)
                    }
                };
                match id {
                    Some(id) if !is_stop(decoding, specials, id) => written[i].push(id),
                    // A stop, or no finite logit at all (a diverged model): the reply ends.
                    _ => finished.push(i),
                }
            }
        }
        open.retain(|i| !finished.contains(i) && written[*i].len() < cap);
    }
    Ok(written)
}

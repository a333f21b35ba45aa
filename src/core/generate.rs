//! Writing text with a trained decoder: continuing a prompt by temperature and top-k sampling,
//! for the live samples of a run and for a saved run loaded back. Every number is read back
//! asynchronously, so the same code runs on WebGPU in the page.

use burn::tensor::{Int, Tensor, TensorData};

use super::backend::Backend;
use super::error::CoreError;
use super::masks::AttentionMask;
use super::model::Transformer;
use super::rng::{Rng, Stream};
use super::tokenizer::{LabTokenizer, SpecialIds};

/// Continues `prompt` with temperature sampling (T = 0.8, top-k 40) for at most
/// `max_tokens` tokens or until `[EOS]`, drawing from a stream seeded by `seed`. Used for the
/// live samples of a run and for a saved run loaded back.
pub async fn write_continuation(
    model: &Transformer,
    tokenizer: &LabTokenizer,
    prompt: &str,
    seed: u64,
    max_tokens: usize,
    backend: &Backend,
) -> Result<String, CoreError> {
    let mut prompt_ids = tokenizer.encode(prompt)?;
    if prompt_ids.is_empty() {
        // An empty prompt: start where every document starts in the packed stream, after the
        // previous one's [EOS] (decoding drops it).
        prompt_ids.push(tokenizer.specials().eos);
    }
    let device = &backend.device;
    let mut rng = Rng::for_stream(seed, Stream::Sampling);
    let mut ids = prompt_ids.clone();
    let max_len = model.max_seq_len();
    for _ in 0..max_tokens {
        let window = &ids[ids.len().saturating_sub(max_len)..];
        let len = window.len();
        let input: Vec<i64> = window.iter().map(|&x| x as i64).collect();
        let input = Tensor::<2, Int>::from_data(TensorData::new(input, [1, len]), device);
        let mask = AttentionMask::causal(1, len).to_tensor(device);
        let logits = model.forward(input, &mask, false).logits; // [1, len, vocab]
        let vocab = logits.dims()[2];
        let last = logits.narrow(1, len - 1, 1).reshape([vocab]); // [vocab]
        let data = last
            .into_data_async()
            .await
            .map_err(|e| CoreError::read(&backend.label, e))?;
        let values: Vec<f32> = data
            .try_into_vec::<f32>()
            .map_err(|e| CoreError::read(&backend.label, format!("{e:?}")))?;
        let next = sample_top_k(&values, 0.8, 40, &mut rng, tokenizer.specials().eos);
        if next == tokenizer.specials().eos {
            break;
        }
        ids.push(next);
    }
    // An untrained model emits stray bytes; show control characters as spaces.
    Ok(tokenizer
        .decode(&ids[prompt_ids.len()..])?
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect())
}

/// Samples an id from logits with temperature and top-k, never a special id other than `eos`.
pub fn sample_top_k(logits: &[f32], temperature: f32, k: usize, rng: &mut Rng, eos: u32) -> u32 {
    let allowed = |id: u32| id == eos || id as usize >= SpecialIds::count_fixed();
    sample_top_k_among(logits, temperature, k, rng, allowed).unwrap_or(eos)
}

/// Samples an id from logits with temperature and top-k among the ids `allowed` admits (and
/// whose logit is finite); `None` when there is none. One draw from `rng` per call.
pub fn sample_top_k_among(
    logits: &[f32],
    temperature: f32,
    k: usize,
    rng: &mut Rng,
    allowed: impl Fn(u32) -> bool,
) -> Option<u32> {
    let mut candidates: Vec<(usize, f32)> = logits
        .iter()
        .enumerate()
        .filter(|(id, v)| allowed(*id as u32) && v.is_finite())
        .map(|(id, &v)| (id, v))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    candidates.truncate(k.max(1));
    let top = candidates[0].1;
    let weights: Vec<f64> = candidates
        .iter()
        .map(|(_, v)| (((v - top) / temperature.max(1e-3)) as f64).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut draw = rng.next_f64() * total;
    for ((id, _), w) in candidates.iter().zip(&weights) {
        if draw < *w {
            return Some(*id as u32);
        }
        draw -= w;
    }
    candidates.last().map(|(id, _)| *id as u32)
}

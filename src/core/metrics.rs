//! Reference numbers a loss is read against.

use super::objective::Batch;

/// Cross-entropy, in nats per token, of the scored positions of `batches` under the add-one
/// (Laplace) smoothed unigram distribution of `train` over a vocabulary of `vocab_size`. A
/// model whose validation loss is below this has learned more than token frequencies.
pub fn unigram_entropy(train: &[u32], vocab_size: usize, batches: &[Batch]) -> f64 {
    let mut counts = vec![0u64; vocab_size];
    for &id in train {
        if let Some(c) = counts.get_mut(id as usize) {
            *c += 1;
        }
    }
    let total = train.len() as f64 + vocab_size as f64;
    let (mut nats, mut scored) = (0.0, 0.0);
    for batch in batches {
        for (&target, &weight) in batch.targets.iter().zip(&batch.loss_weights) {
            if weight > 0.0 {
                let count = counts.get(target as usize).copied().unwrap_or(0) as f64;
                nats -= f64::from(weight) * ((count + 1.0) / total).ln();
                scored += f64::from(weight);
            }
        }
    }
    if scored > 0.0 { nats / scored } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::masks::AttentionMask;

    #[test]
    fn uniform_text_gives_log_vocab() {
        let train: Vec<u32> = (0..4).cycle().take(4000).collect();
        let batch = Batch {
            batch_size: 1,
            seq_len: 4,
            inputs: vec![0, 1, 2, 3],
            segments: None,
            mask: AttentionMask::causal(1, 4),
            target_len: 4,
            targets: vec![1, 2, 3, 0],
            loss_weights: vec![1.0; 4],
            corrupted: vec![1.0; 4],
            decoder: None,
            query: None,
            pairs: None,
            original_tokens: 4,
            supervised_tokens: 4,
        };
        let h = unigram_entropy(&train, 4, &[batch]);
        assert!((h - 4f64.ln()).abs() < 1e-9, "{h}");
    }
}

//! Reference numbers a loss is read against, and what a step costs.
//!
//! - [`UnigramBaseline`]: what knowing only word frequencies achieves on the very positions a
//!   loss scores, over the very ids that can be targets there — the same kind of number as the
//!   model's loss beside it.
//! - [`training_flops`]: the usual estimate of a training step's arithmetic (Kaplan et al. 2020,
//!   §2.1), so runs can be compared at equal compute as well as at equal text.
//! - [`Moments`]: running sums for a mean and its standard error.

use super::config::ModelConfig;
use super::objective::Batch;
use super::objective::spec::TargetSupport;
use super::tokenizer::SpecialIds;

/// The add-one (Laplace) smoothed unigram distribution of a training stream over the ids an
/// objective can be asked to predict ([`TargetSupport`]).
///
/// Counting `[SEP]`/`[EOS]` for an objective that never predicts them (MLM, PLM) would give
/// real words less probability than they have; smoothing over sentinels that never occur in
/// text would charge ~13 nats for each (T5 scores them in its target). Both make the baseline a
/// different kind of number from the loss beside it, so the support is the objective's, and
/// positions whose target lies outside it are scored by neither side.
#[derive(Debug, Clone, PartialEq)]
pub struct UnigramBaseline {
    /// Negative log-probability per id; `None` outside the support.
    nll: Vec<Option<f64>>,
    pub support: TargetSupport,
}

impl UnigramBaseline {
    /// Counts `train` over the ids below `vocab_size` that `support` allows.
    pub fn new(
        train: &[u32],
        vocab_size: usize,
        support: TargetSupport,
        specials: SpecialIds,
    ) -> Self {
        let allowed: Vec<bool> = (0..vocab_size)
            .map(|id| support.contains(id as u32, specials))
            .collect();
        let mut counts = vec![0u64; vocab_size];
        for &id in train {
            if allowed.get(id as usize) == Some(&true) {
                counts[id as usize] += 1;
            }
        }
        let size = allowed.iter().filter(|&&a| a).count() as f64;
        let total = counts.iter().sum::<u64>() as f64 + size;
        let nll = counts
            .iter()
            .zip(&allowed)
            .map(|(&c, &a)| a.then(|| -((c as f64 + 1.0) / total).ln()))
            .collect();
        Self { nll, support }
    }

    /// The baseline's loss on `id`, or `None` when the objective never predicts it.
    pub fn nll(&self, id: u32) -> Option<f64> {
        self.nll.get(id as usize).copied().flatten()
    }

    /// Mean loss over the positions of `batches` that `weights` selects (weighted), skipping
    /// targets outside the support. `None` when nothing is scored.
    pub fn mean(&self, batches: &[Batch], weights: impl Fn(&Batch) -> &[f32]) -> Option<f64> {
        let mut m = Moments::default();
        for batch in batches {
            for (&target, &w) in batch.targets.iter().zip(weights(batch)) {
                if w > 0.0
                    && let Some(nll) = self.nll(target)
                {
                    m.add(nll, f64::from(w));
                }
            }
        }
        m.mean()
    }

    /// Per position of `batch`: the baseline's loss where `weights` scores an id in the
    /// support, else 0; and the weights with positions outside the support zeroed.
    pub fn per_position(&self, batch: &Batch, weights: &[f32]) -> (Vec<f32>, Vec<f32>) {
        batch
            .targets
            .iter()
            .zip(weights)
            .map(|(&t, &w)| match self.nll(t) {
                Some(nll) if w > 0.0 => (nll as f32, w),
                _ => (0.0, 0.0),
            })
            .unzip()
    }
}

/// Weighted running sums of a value: its mean, and the standard error of that mean.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub weight: f64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn add(&mut self, value: f64, weight: f64) {
        self.weight += weight;
        self.sum += weight * value;
        self.sum_sq += weight * value * value;
    }

    /// Sums of several batches.
    pub fn merge(&mut self, other: Moments) {
        self.weight += other.weight;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| self.sum / self.weight)
    }

    /// Standard error of the mean, treating each unit of weight as one observation.
    pub fn standard_error(&self) -> Option<f64> {
        if self.weight < 2.0 {
            return None;
        }
        let mean = self.sum / self.weight;
        let variance =
            (self.sum_sq / self.weight - mean * mean).max(0.0) * self.weight / (self.weight - 1.0);
        Some((variance / self.weight).sqrt())
    }
}

/// Standard error of an accuracy `p` measured on `n` items: √(p(1−p)/n).
pub fn accuracy_standard_error(p: f64, n: usize) -> Option<f64> {
    (n > 0).then(|| (p * (1.0 - p) / n as f64).sqrt())
}

/// Training FLOPs of one step over `positions` input positions of a stack with `params`
/// parameters, by the usual estimate (Kaplan et al. 2020, §2.1): 6 per parameter per position
/// (forward 2, backward 4), plus attention's 6 · layers · context · d_model per position.
pub fn training_flops(params: usize, model: &ModelConfig, positions: usize, context: usize) -> f64 {
    let attention = 6.0 * (model.n_layers * context * model.d_model) as f64;
    positions as f64 * (6.0 * params as f64 + attention)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::masks::AttentionMask;

    const SPECIALS: SpecialIds = SpecialIds::fixed();

    fn batch(targets: Vec<u32>, weights: Vec<f32>) -> Batch {
        let n = targets.len();
        Batch {
            batch_size: 1,
            seq_len: n,
            inputs: targets.clone(),
            segments: None,
            mask: AttentionMask::causal(1, n),
            target_len: n,
            targets,
            loss_weights: weights.clone(),
            corrupted: weights,
            decoder: None,
            query: None,
            pairs: None,
            original_tokens: n,
            supervised_tokens: n,
        }
    }

    #[test]
    fn a_hand_computed_baseline_excludes_specials_it_never_predicts() {
        // Vocabulary: 23 specials, then text ids 23 and 24 (25 ids). Training text: 23 three
        // times, 24 once, and [SEP] (3) and [EOS] (6) once each.
        let train = [23, 23, 23, 24, 3, 6];
        let text = UnigramBaseline::new(&train, 25, TargetSupport::Text, SPECIALS);
        // Support {23, 24}: p(23) = (3+1)/(4+2), p(24) = (1+1)/(4+2).
        assert!((text.nll(23).expect("23") - (6.0f64 / 4.0).ln()).abs() < 1e-12);
        assert!((text.nll(24).expect("24") - 3.0f64.ln()).abs() < 1e-12);
        assert_eq!(text.nll(3), None, "MLM never predicts [SEP]");
        assert_eq!(text.nll(7), None, "nor a sentinel");
        // With separators: support {3, 6, 23, 24}, total 6 + 4 = 10.
        let seps = UnigramBaseline::new(&train, 25, TargetSupport::TextAndSeparators, SPECIALS);
        assert!((seps.nll(23).expect("23") - (10.0f64 / 4.0).ln()).abs() < 1e-12);
        assert!((seps.nll(3).expect("[SEP]") - (10.0f64 / 2.0).ln()).abs() < 1e-12);
        assert_eq!(seps.nll(7), None, "sentinels are never a baseline's target");
        assert_eq!(seps.nll(0), None, "nor padding");
    }

    #[test]
    fn the_mean_skips_unscored_positions_and_targets_outside_the_support() {
        let train = [23, 23, 23, 24];
        let base = UnigramBaseline::new(&train, 25, TargetSupport::Text, SPECIALS);
        // Scored: 23 and 24; the sentinel (7) is scored by the objective but not by the
        // baseline, and the last position is not scored at all.
        let b = batch(vec![23, 24, 7, 23], vec![1.0, 1.0, 1.0, 0.0]);
        let mean = base
            .mean(std::slice::from_ref(&b), |b| &b.corrupted)
            .expect("scored");
        let want = ((6.0f64 / 4.0).ln() + 3.0f64.ln()) / 2.0;
        assert!((mean - want).abs() < 1e-12, "{mean} vs {want}");
        let (nll, weights) = base.per_position(&b, &b.corrupted);
        assert_eq!(weights, vec![1.0, 1.0, 0.0, 0.0]);
        assert_eq!(nll[2], 0.0);
        // Uniform text gives log of the support size.
        let uniform: Vec<u32> = (23..27).cycle().take(4000).collect();
        let u = UnigramBaseline::new(&uniform, 27, TargetSupport::Text, SPECIALS);
        let b = batch(vec![23, 24, 25, 26], vec![1.0; 4]);
        let h = u.mean(&[b], |b| &b.loss_weights).expect("h");
        assert!((h - 4f64.ln()).abs() < 1e-3, "{h}");
    }

    #[test]
    fn moments_give_the_mean_and_its_standard_error() {
        let mut m = Moments::default();
        for v in [1.0, 2.0, 3.0, 4.0] {
            m.add(v, 1.0);
        }
        assert_eq!(m.mean(), Some(2.5));
        // Sample variance 5/3, so SE = sqrt(5/3 / 4).
        let se = m.standard_error().expect("se");
        assert!((se - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(Moments::default().mean(), None);
        assert!((accuracy_standard_error(0.5, 100).expect("se") - 0.05).abs() < 1e-12);
    }
}

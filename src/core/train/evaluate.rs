//! Validation: the fixed batches each batch kind is scored on, and what one evaluation
//! measures — each objective's own loss, the token loss on the positions the objective hid
//! beside word frequencies on the same positions (with standard errors), and the pair head's
//! loss and accuracy.
//!
//! The batches are sampled across the whole validation split (see
//! [`crate::core::objective::windows::eval_batches`] and
//! [`crate::core::objective::coherence::pair_eval_batches`]). Points along the loss curve score
//! the first quarter of each set (a random quarter: the batches are in shuffled order), the
//! last evaluation of a run all of it, and every figure says how many positions or pairs it
//! rests on.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor, TensorData};

use crate::core::error::CoreError;
use crate::core::metrics::{Moments, UnigramBaseline, accuracy_standard_error};
use crate::core::mix::ObjectiveMix;
use crate::core::model::network::{BatchTensors, Network, position_nll};
use crate::core::objective::Batch;
use crate::core::plan::BatchKind;
use serde::{Deserialize, Serialize};

/// One fixed validation batch on the device, with the baseline beside it.
struct EvalBatch {
    tensors: BatchTensors,
    /// `[b*t, 1]`: 1 where the token loss and the baseline both score (a corrupted position
    /// whose target the baseline can predict), else 0.
    scored: Tensor<2>,
    /// `[b*t, 1]`: the baseline's loss at the scored positions, 0 elsewhere.
    baseline: Tensor<2>,
    /// On the host: the baseline's sums over the scored positions.
    baseline_moments: Moments,
    supervised: usize,
    pairs: usize,
}

/// The validation batches of one batch kind.
pub struct EvalSet {
    kind: BatchKind,
    batches: Vec<EvalBatch>,
}

impl EvalSet {
    /// Uploads `plain` with the per-position baseline of `baseline` (token kinds only).
    pub fn new(
        kind: BatchKind,
        plain: &[Batch],
        baseline: Option<&UnigramBaseline>,
        device: &Device,
    ) -> Self {
        let batches = plain
            .iter()
            .map(|batch| {
                let n = batch.batch_size * batch.target_len;
                let (nll, scored) = match baseline {
                    Some(b) => b.per_position(batch, &batch.corrupted),
                    None => (vec![0.0; n], vec![0.0; n]),
                };
                let mut moments = Moments::default();
                for (&v, &w) in nll.iter().zip(&scored) {
                    if w > 0.0 {
                        moments.add(f64::from(v), f64::from(w));
                    }
                }
                let column =
                    |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [n, 1]), device);
                EvalBatch {
                    tensors: batch.to_tensors(device),
                    scored: column(scored),
                    baseline: column(nll),
                    baseline_moments: moments,
                    supervised: batch.supervised_tokens,
                    pairs: batch.pairs.as_ref().map_or(0, |p| p.labels.len()),
                }
            })
            .collect();
        Self { kind, batches }
    }

    /// Batches a curve point scores: the first quarter (at least one).
    fn curve_len(&self) -> usize {
        self.batches
            .len()
            .div_ceil(4)
            .max(1)
            .min(self.batches.len())
    }

    /// The baseline's sums over the scored positions of the curve subset or of the whole set.
    pub fn baseline(&self, full: bool) -> Moments {
        let n = if full {
            self.batches.len()
        } else {
            self.curve_len()
        };
        let mut m = Moments::default();
        for b in &self.batches[..n] {
            m.merge(b.baseline_moments);
        }
        m
    }
}

/// The token figures of one evaluation: loss on the scored (corrupted) positions, the baseline
/// on the same positions, and their standard errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenFigures {
    /// Mean loss on the scored positions.
    pub loss: f32,
    /// Its standard error over positions.
    pub loss_se: f32,
    /// Word frequencies on the same positions.
    pub baseline: f32,
    /// Standard error of the mean of (model − baseline) per position: how sure "below the
    /// baseline" is on this set.
    pub margin_se: f32,
    /// Positions scored.
    pub positions: usize,
}

/// The pair figures of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairFigures {
    pub loss: f32,
    pub accuracy: f32,
    pub accuracy_se: f32,
    pub pairs: usize,
}

/// One evaluation: the mix's validation loss (primary + weight · auxiliary), each objective's
/// own loss, and the token and pair figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub loss: f32,
    pub components: BTreeMap<String, f32>,
    pub token: Option<TokenFigures>,
    pub pair: Option<PairFigures>,
    /// Whether the whole validation set was scored (else the curve's quarter).
    pub full: bool,
}

impl Evaluation {
    pub fn nan() -> Self {
        Self {
            loss: f32::NAN,
            ..Self::default()
        }
    }
}

/// Evaluates `model` on `sets` (the curve subset, or everything when `full`).
pub async fn evaluate(
    model: &Network,
    sets: &[EvalSet],
    mix: &ObjectiveMix,
    full: bool,
    backend_label: &str,
) -> Result<Evaluation, CoreError> {
    let model = model.valid();
    let mut evaluation = Evaluation {
        full,
        ..Evaluation::default()
    };
    let mut scored = Moments::default(); // model loss on scored positions
    let mut margin = Moments::default(); // model − baseline on the same positions
    let mut baseline = Moments::default();
    let (mut pair_nll, mut pair_correct, mut pair_count) = (0.0f64, 0.0f64, 0usize);
    for set in sets {
        let n = if full {
            set.batches.len()
        } else {
            set.curve_len()
        };
        let with_tokens = set.kind.tokens.is_some();
        // Sums on the device, read back once per set:
        // [supervised nll, scored nll, scored nll², margin, margin², pair nll, pair correct].
        let mut sums: Option<Tensor<1>> = None;
        let mut supervised = 0usize;
        let mut pairs = 0usize;
        for batch in &set.batches[..n] {
            let output = model.forward(&batch.tensors, false);
            let t = &batch.tensors;
            let device = t.inputs.device();
            let zero = || Tensor::<1>::zeros([1], &device);
            let (sup, sc, sc2, mg, mg2) = if with_tokens {
                let nll = position_nll(output.logits, t.targets.clone()); // [b*t, 1]
                let diff = nll.clone() - batch.baseline.clone();
                (
                    (nll.clone() * t.loss_weights.clone()).sum(),
                    (nll.clone() * batch.scored.clone()).sum(),
                    (nll.clone() * nll * batch.scored.clone()).sum(),
                    (diff.clone() * batch.scored.clone()).sum(),
                    (diff.clone() * diff * batch.scored.clone()).sum(),
                )
            } else {
                (zero(), zero(), zero(), zero(), zero())
            };
            let (pn, pc) = match (output.pair_logits, &t.pairs) {
                (Some(logits), Some((_, labels))) => {
                    let log_probs = burn::tensor::activation::log_softmax(logits.clone(), 1);
                    let nll = log_probs.gather(1, labels.clone()).sum().neg();
                    let correct = logits.argmax(1).equal(labels.clone()).float().sum();
                    (nll, correct)
                }
                _ => (zero(), zero()),
            };
            let row = Tensor::cat(vec![sup, sc, sc2, mg, mg2, pn, pc], 0); // [7]
            sums = Some(match sums.take() {
                Some(s) => s + row,
                None => row,
            });
            supervised += batch.supervised;
            pairs += batch.pairs;
        }
        let Some(sums) = sums else { continue };
        let data = sums
            .into_data_async()
            .await
            .map_err(|e| CoreError::read(backend_label, e))?;
        let v: Vec<f32> = data
            .try_into_vec::<f32>()
            .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))?;
        let v: Vec<f64> = v.into_iter().map(f64::from).collect();
        let set_baseline = set.baseline(full);
        if let Some(task) = set.kind.tokens {
            evaluation.components.insert(
                task.name().to_string(),
                (v[0] / supervised.max(1) as f64) as f32,
            );
            scored.merge(Moments {
                weight: set_baseline.weight,
                sum: v[1],
                sum_sq: v[2],
            });
            margin.merge(Moments {
                weight: set_baseline.weight,
                sum: v[3],
                sum_sq: v[4],
            });
            baseline.merge(set_baseline);
        }
        if let Some(task) = set.kind.pairs {
            evaluation
                .components
                .insert(task.name().to_string(), (v[5] / pairs.max(1) as f64) as f32);
            pair_nll += v[5];
            pair_correct += v[6];
            pair_count += pairs;
        }
    }
    evaluation.loss = evaluation
        .components
        .iter()
        .map(|(name, loss)| {
            let weight = mix
                .objectives()
                .find(|o| o.name() == name)
                .map_or(0.0, |o| mix.weight_of(o));
            weight as f32 * loss
        })
        .sum();
    if let (Some(loss), Some(base)) = (scored.mean(), baseline.mean()) {
        evaluation.token = Some(TokenFigures {
            loss: loss as f32,
            loss_se: scored.standard_error().unwrap_or(f64::NAN) as f32,
            baseline: base as f32,
            margin_se: margin.standard_error().unwrap_or(f64::NAN) as f32,
            positions: scored.weight.round() as usize,
        });
    }
    if pair_count > 0 {
        let accuracy = pair_correct / pair_count as f64;
        evaluation.pair = Some(PairFigures {
            loss: (pair_nll / pair_count as f64) as f32,
            accuracy: accuracy as f32,
            accuracy_se: accuracy_standard_error(accuracy, pair_count).unwrap_or(f64::NAN) as f32,
            pairs: pair_count,
        });
    }
    Ok(evaluation)
}

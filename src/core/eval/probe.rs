//! Linear probes and the numbers a pair judgement is reported with.
//!
//! - [`DenseLogistic`]: L2-regularised logistic regression on dense feature vectors, each
//!   feature standardised on the fitting rows ([`Standardizer`]) — the linear probe of Alain &
//!   Bengio (2017), read on frozen features or on a bag of words. It is fitted by L-BFGS
//!   (Nocedal 1980; Liu & Nocedal 1989) with a backtracking Armijo line search, full batch from
//!   zero weights: no randomness, so the same rows give the same probe. The objective is the
//!   mean log-loss plus `l2 / 2 · ‖w‖²` (the bias is not penalised); it is strictly convex, so
//!   L-BFGS reaches its one minimum. Rows are stored sparse (their nonzeros) and standardised
//!   implicitly, so an iteration costs a multiplication per nonzero of a row rather than one per
//!   feature: a 4,000-wide bag-of-words probe on 1,000 pairs fits in a tenth of a second.
//! - [`roc_auc`]: the area under the ROC curve as the Mann–Whitney U statistic (Mann & Whitney
//!   1947; Bamber 1975), ties counted ½; [`auc_standard_error`] its standard error by Hanley &
//!   McNeil (1982).
//! - [`best_threshold`] and [`accuracy`]: a cut on scores that need one (a zero-shot likelihood
//!   score has no natural ½), chosen on a labelled set and applied to another.
//! - [`ProbeScore`]: accuracy and AUC with their standard errors, as a run summary stores them;
//!   [`PairedDifference`]: two accuracies on the same items, compared item by item.

use serde::{Deserialize, Serialize};

use crate::core::exec::{Checkpoint, NoYield, run_ready};

mod lbfgs;
mod ranking;

pub use ranking::{
    PairedDifference, ProbeScore, accuracy, auc_standard_error, best_threshold, correct, roc_auc,
};

/// Why a probe or a baseline cannot be fitted or scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// Nothing to fit on.
    #[error("no labelled rows to fit on: a probe needs examples of both labels")]
    Empty,
    /// As many labels as rows are needed.
    #[error("{rows} rows but {labels} labels: every row needs exactly one label")]
    LengthMismatch { rows: usize, labels: usize },
    /// Rows of different lengths.
    #[error(
        "row {row} has {len} features but row 0 has {expected}: every row needs the same features"
    )]
    Ragged {
        row: usize,
        len: usize,
        expected: usize,
    },
    /// NaN or infinity among the features.
    #[error("row {row}, feature {feature} is not a finite number: check the feature extraction")]
    NonFinite { row: usize, feature: usize },
    /// A label other than 0 or 1.
    #[error("row {row} has label {label}: labels must be 0 or 1")]
    BadLabel { row: usize, label: u8 },
    /// Every label the same: nothing to separate.
    #[error("every row has label {label}: a probe needs examples of both labels")]
    SingleClass { label: u8 },
    /// A regularisation strength that is not a positive number.
    #[error("the L2 strength {0} must be a positive finite number")]
    Regularization(f64),
    /// Held-out items that cannot be scored (none, or all of one label).
    #[error("cannot score {what}: it needs held-out items of both labels")]
    Unscorable { what: String },
    /// A corpus without what a baseline needs (tickets with resolutions in the training split).
    #[error("{0}")]
    Corpus(String),
}

/// Smallest standard deviation a feature is divided by. A probe leaves a feature whose
/// deviation is below it out of the fit (its weight stays 0): dividing by a near-zero number
/// would only magnify rounding.
pub const STD_FLOOR: f64 = 1e-6;

/// Per-feature mean and standard deviation of the fitting rows (population form, floored at
/// [`STD_FLOOR`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardizer {
    /// Fits on `rows`; all rows must have one length and finite values.
    pub fn fit(rows: &[Vec<f64>]) -> Result<Self, EvalError> {
        let dims = check_rows(rows)?;
        let n = rows.len() as f64;
        let mut mean = vec![0.0; dims];
        for row in rows {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; dims];
        for row in rows {
            for ((v, &x), &m) in var.iter_mut().zip(row).zip(&mean) {
                *v += (x - m) * (x - m);
            }
        }
        let std = var.iter().map(|v| (v / n).sqrt().max(STD_FLOOR)).collect();
        Ok(Self { mean, std })
    }

    /// Whether feature `j` varies on the fitting rows (its deviation is above the floor).
    pub fn varies(&self, j: usize) -> bool {
        self.std.get(j).is_some_and(|&s| s > STD_FLOOR)
    }

    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    pub fn std(&self) -> &[f64] {
        &self.std
    }

    pub fn dims(&self) -> usize {
        self.mean.len()
    }

    /// `(x − mean) / std` per feature; features past the fitted ones are dropped and missing
    /// ones read as the mean (0).
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        (0..self.dims())
            .map(|j| {
                row.get(j)
                    .map_or(0.0, |&x| (x - self.mean[j]) / self.std[j])
            })
            .collect()
    }
}

/// The dimension of `rows`, or why they cannot be fitted on.
fn check_rows(rows: &[Vec<f64>]) -> Result<usize, EvalError> {
    let Some(first) = rows.first() else {
        return Err(EvalError::Empty);
    };
    let expected = first.len();
    for (row, values) in rows.iter().enumerate() {
        if values.len() != expected {
            return Err(EvalError::Ragged {
                row,
                len: values.len(),
                expected,
            });
        }
        if let Some(feature) = values.iter().position(|x| !x.is_finite()) {
            return Err(EvalError::NonFinite { row, feature });
        }
    }
    Ok(expected)
}

/// L2-regularised logistic regression on standardised dense features (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseLogistic {
    standardizer: Standardizer,
    /// One weight per standardised feature.
    weights: Vec<f64>,
    bias: f64,
    /// L-BFGS iterations the fit took.
    iterations: usize,
    /// Whether the gradient fell below the tolerance (else the iteration cap or the line
    /// search's last step ended the fit at a point as good as floating point allows).
    converged: bool,
}

/// Rows kept as their nonzeros: `(feature, value)` runs of `entries`, row `i` at
/// `entries[starts[i]..starts[i + 1]]`.
struct SparseRows {
    starts: Vec<usize>,
    entries: Vec<(usize, f64)>,
}

impl SparseRows {
    fn new(rows: &[Vec<f64>]) -> Self {
        let mut starts = Vec::with_capacity(rows.len() + 1);
        let mut entries = Vec::new();
        for row in rows {
            starts.push(entries.len());
            entries.extend(
                row.iter()
                    .enumerate()
                    .filter(|(_, x)| **x != 0.0)
                    .map(|(j, &x)| (j, x)),
            );
        }
        starts.push(entries.len());
        Self { starts, entries }
    }

    fn row(&self, i: usize) -> &[(usize, f64)] {
        &self.entries[self.starts[i]..self.starts[i + 1]]
    }
}

/// The regularised mean log-loss of standardised rows and its gradient.
struct Objective<'a> {
    rows: SparseRows,
    labels: &'a [u8],
    mean: &'a [f64],
    std: &'a [f64],
    /// Features left out of the fit stay at weight 0 ([`STD_FLOOR`]).
    varies: Vec<bool>,
    l2: f64,
}

impl Objective<'_> {
    /// Loss and gradient at `theta` = (weights…, bias).
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let dims = self.mean.len();
        let (weights, bias) = theta.split_at(dims);
        let bias = bias[0];
        // w·(x − μ)/σ = Σ v_j x_j − Σ v_j μ_j with v = w/σ: only the nonzeros of x are read.
        let scaled: Vec<f64> = weights.iter().zip(self.std).map(|(w, s)| w / s).collect();
        let offset: f64 = scaled.iter().zip(self.mean).map(|(v, m)| v * m).sum();
        let n = self.labels.len() as f64;
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        let mut residual_sum = 0.0;
        for (i, &label) in self.labels.iter().enumerate() {
            let row = self.rows.row(i);
            let z = bias - offset + row.iter().map(|&(j, x)| scaled[j] * x).sum::<f64>();
            let y = f64::from(label);
            loss += softplus(z) - y * z;
            let r = sigmoid(z) - y;
            residual_sum += r;
            for &(j, x) in row {
                grad[j] += r * x;
            }
        }
        for j in 0..dims {
            grad[j] = if self.varies[j] {
                (grad[j] - self.mean[j] * residual_sum) / (n * self.std[j]) + self.l2 * weights[j]
            } else {
                0.0
            };
        }
        grad[dims] = residual_sum / n;
        let penalty: f64 = weights.iter().map(|w| w * w).sum::<f64>() * self.l2 / 2.0;
        loss / n + penalty
    }
}

impl DenseLogistic {
    const LBFGS: lbfgs::Settings = lbfgs::Settings {
        max_iterations: 500,
        memory: 10,
        tolerance: 1e-7,
    };

    /// Fits on `rows` with `labels` (0 or 1, both present) and L2 strength `l2` (> 0).
    pub fn fit(rows: &[Vec<f64>], labels: &[u8], l2: f64) -> Result<Self, EvalError> {
        run_ready(Self::fit_cooperatively(rows, labels, l2, &mut NoYield))
    }

    /// [`Self::fit`], awaiting `cp` after every iteration. Same result.
    pub async fn fit_cooperatively(
        rows: &[Vec<f64>],
        labels: &[u8],
        l2: f64,
        cp: &mut impl Checkpoint,
    ) -> Result<Self, EvalError> {
        if rows.len() != labels.len() {
            return Err(EvalError::LengthMismatch {
                rows: rows.len(),
                labels: labels.len(),
            });
        }
        if !(l2.is_finite() && l2 > 0.0) {
            return Err(EvalError::Regularization(l2));
        }
        let standardizer = Standardizer::fit(rows)?;
        if let Some(row) = labels.iter().position(|&l| l > 1) {
            return Err(EvalError::BadLabel {
                row,
                label: labels[row],
            });
        }
        if let Some(&label) = labels.first()
            && labels.iter().all(|&l| l == label)
        {
            return Err(EvalError::SingleClass { label });
        }
        let objective = Objective {
            rows: SparseRows::new(rows),
            labels,
            mean: &standardizer.mean,
            std: &standardizer.std,
            varies: (0..standardizer.dims())
                .map(|j| standardizer.varies(j))
                .collect(),
            l2,
        };
        let dims = standardizer.dims();
        let found = lbfgs::minimise(
            |theta, grad| objective.eval(theta, grad),
            dims + 1,
            Self::LBFGS,
            cp,
        )
        .await;
        let (weights, bias) = found.theta.split_at(dims);
        Ok(Self {
            weights: weights.to_vec(),
            bias: bias[0],
            standardizer,
            iterations: found.iterations,
            converged: found.converged,
        })
    }

    /// Probability of label 1 for `row` (features past the fitted ones are ignored, missing
    /// ones read as their training mean).
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.logit(row))
    }

    /// The log-odds of label 1 for `row`.
    pub fn logit(&self, row: &[f64]) -> f64 {
        let mean = &self.standardizer.mean;
        let std = &self.standardizer.std;
        self.bias
            + self
                .weights
                .iter()
                .enumerate()
                .filter_map(|(j, w)| row.get(j).map(|x| w * (x - mean[j]) / std[j]))
                .sum::<f64>()
    }

    /// Weights on the standardised features.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn bias(&self) -> f64 {
        self.bias
    }

    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    pub fn iterations(&self) -> usize {
        self.iterations
    }

    pub fn converged(&self) -> bool {
        self.converged
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eᶻ) without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests;

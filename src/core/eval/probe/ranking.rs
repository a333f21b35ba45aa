//! The numbers a judgement is reported with: the area under the ROC curve as the Mann–Whitney
//! U statistic (Mann & Whitney 1947; Bamber 1975) with its standard error (Hanley & McNeil
//! 1982), accuracy at a threshold chosen on a labelled set, and the difference of two
//! accuracies measured on the same items with its paired standard error (McNemar 1947).

use serde::{Deserialize, Serialize};

use crate::core::metrics::accuracy_standard_error;

/// Positives and negatives of a labelled score list, or `None` when the lengths differ, a
/// label is not 0 or 1, or a score is NaN.
fn check_scores(scores: &[f64], labels: &[u8]) -> Option<(usize, usize)> {
    if scores.len() != labels.len()
        || labels.iter().any(|&l| l > 1)
        || scores.iter().any(|s| s.is_nan())
    {
        return None;
    }
    let positives = labels.iter().filter(|&&l| l == 1).count();
    Some((positives, labels.len() - positives))
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting ½ (the Mann–Whitney U over n₊·n₋). `None` when either label is
/// missing, the lengths differ, a label is not 0 or 1, or a score is NaN.
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let (positives, negatives) = check_scores(scores, labels)?;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the positives' ranks (1-based), tied scores sharing their mean rank.
    let (mut rank_sum, mut below) = (0.0, 0usize);
    for group in order.chunk_by(|&a, &b| scores[a] == scores[b]) {
        let mean_rank = below as f64 + (group.len() as f64 + 1.0) / 2.0;
        let tied_positives = group.iter().filter(|&&i| labels[i] == 1).count();
        rank_sum += mean_rank * tied_positives as f64;
        below += group.len();
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Standard error of an AUC measured on `n_pos` positives and `n_neg` negatives (Hanley &
/// McNeil 1982, with Q₁ = A/(2 − A) and Q₂ = 2A²/(1 + A)). `None` without both labels
/// or for an AUC outside [0, 1].
pub fn auc_standard_error(auc: f64, n_pos: usize, n_neg: usize) -> Option<f64> {
    if n_pos == 0 || n_neg == 0 || !(0.0..=1.0).contains(&auc) {
        return None;
    }
    let q1 = auc / (2.0 - auc);
    let q2 = 2.0 * auc * auc / (1.0 + auc);
    let (p, n) = (n_pos as f64, n_neg as f64);
    let variance =
        (auc * (1.0 - auc) + (p - 1.0) * (q1 - auc * auc) + (n - 1.0) * (q2 - auc * auc)) / (p * n);
    Some(variance.max(0.0).sqrt())
}

/// The threshold that maximises [`accuracy`] on a labelled set (label 1 predicted when
/// `score ≥ threshold`). The candidates are the midpoints between adjacent distinct scores,
/// and one unit below the lowest score and above the highest (every item 1, every item 0);
/// among equally accurate candidates the lowest wins. `None` for an empty set, lengths that
/// differ, a label other than 0 or 1, or a score that is not finite.
pub fn best_threshold(scores: &[f64], labels: &[u8]) -> Option<f64> {
    check_scores(scores, labels)?;
    if scores.is_empty() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let groups: Vec<&[usize]> = order.chunk_by(|&a, &b| scores[a] == scores[b]).collect();
    let lowest = scores[order[0]];
    let highest = scores[order[order.len() - 1]];
    // Below every score all items are predicted 1: the positives are right.
    let mut right = labels.iter().filter(|&&l| l == 1).count() as i64;
    let (mut best, mut best_right) = (lowest - 1.0, right);
    for (k, group) in groups.iter().enumerate() {
        // Moving the cut above this group turns its items into predicted 0s.
        for &i in group.iter() {
            right += if labels[i] == 0 { 1 } else { -1 };
        }
        if right > best_right {
            best_right = right;
            best = match groups.get(k + 1).and_then(|g| g.first()) {
                Some(&next) => (scores[group[0]] + scores[next]) / 2.0,
                None => highest + 1.0,
            };
        }
    }
    Some(best)
}

/// Share of items whose label `score ≥ threshold` gets right; 0 for an empty set. Pairs past
/// the shorter of `scores` and `labels` are not read.
pub fn accuracy(scores: &[f64], labels: &[u8], threshold: f64) -> f64 {
    let total = scores.len().min(labels.len());
    if total == 0 {
        return 0.0;
    }
    let right = scores
        .iter()
        .zip(labels)
        .filter(|(s, l)| (**s >= threshold) == (**l == 1))
        .count();
    right as f64 / total as f64
}

/// Whether `score ≥ threshold` gets each item's label right (as [`accuracy`] counts them).
pub fn correct(scores: &[f64], labels: &[u8], threshold: f64) -> Vec<bool> {
    scores
        .iter()
        .zip(labels)
        .map(|(s, l)| (*s >= threshold) == (*l == 1))
        .collect()
}

/// Two judges of the same items compared item by item: the discordant items (one right, the
/// other wrong) that McNemar's test (1947) reads, and the difference of the two accuracies with
/// its paired standard error √((p₁₀ + p₀₁ − (p₁₀ − p₀₁)²) / n), where p₁₀ and p₀₁ are the
/// shares of items only the first or only the second gets right (Agresti, *Categorical Data
/// Analysis*, on comparing dependent proportions). Items both get right or both get wrong add
/// nothing to the difference, so on the same items this is far tighter than treating the two
/// accuracies as independent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// Items judged by both.
    pub n: usize,
    /// Items the first judge gets right and the second wrong.
    pub first_right_only: usize,
    /// Items the second judge gets right and the first wrong.
    pub second_right_only: usize,
    /// Accuracy of the first minus accuracy of the second.
    pub difference: f64,
    /// The paired standard error of `difference`.
    pub se: f64,
}

impl PairedDifference {
    /// Compares per-item correctness `first` and `second` of the same items, in the same order;
    /// `None` when the lengths differ or there is no item.
    pub fn of(first: &[bool], second: &[bool]) -> Option<Self> {
        if first.len() != second.len() || first.is_empty() {
            return None;
        }
        let n = first.len();
        let count = |a: bool, b: bool| {
            first
                .iter()
                .zip(second)
                .filter(|&(&x, &y)| x == a && y == b)
                .count()
        };
        let (first_right_only, second_right_only) = (count(true, false), count(false, true));
        let (p10, p01) = (
            first_right_only as f64 / n as f64,
            second_right_only as f64 / n as f64,
        );
        let difference = p10 - p01;
        let variance = (p10 + p01 - difference * difference) / n as f64;
        Some(Self {
            n,
            first_right_only,
            second_right_only,
            difference,
            se: variance.max(0.0).sqrt(),
        })
    }

    /// The exact one-sided McNemar p-value that the first judge is no better than the second:
    /// among the items only one of them gets right, the chance of the first getting at least
    /// this many if each such item were a fair coin (McNemar 1947; the exact binomial form,
    /// which stays right when few items disagree, where the normal approximation does not).
    pub fn p_first_not_above(&self) -> f64 {
        let (b, m) = (
            self.first_right_only,
            self.first_right_only + self.second_right_only,
        );
        if m == 0 {
            return 1.0;
        }
        // P(X ≥ b), X ~ Binomial(m, 1/2), summed in log space.
        let ln_choose = |k: usize| -> f64 {
            (1..=k)
                .map(|i| ((m - k + i) as f64).ln() - (i as f64).ln())
                .sum::<f64>()
        };
        let half_m = m as f64 * std::f64::consts::LN_2;
        (b..=m)
            .map(|k| (ln_choose(k) - half_m).exp())
            .sum::<f64>()
            .min(1.0)
    }

    /// Whether the first judge is clearly above the second: the exact one-sided McNemar test
    /// at 2.5% ([`Self::p_first_not_above`]), the one-sided half of a two-sided 5% test. Two
    /// judges that agree on every item are not.
    pub fn clearly_above(&self) -> bool {
        self.difference > 0.0 && self.p_first_not_above() < 0.025
    }
}

/// How well scores judge a labelled set: accuracy at a threshold and the threshold-free AUC,
/// each with its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeScore {
    pub accuracy: f64,
    /// √(p(1 − p)/n).
    pub accuracy_se: f64,
    pub auc: f64,
    /// Hanley & McNeil (1982).
    pub auc_se: f64,
    /// Items scored.
    pub n: usize,
}

impl ProbeScore {
    /// Scores `scores` against `labels` with label 1 predicted when `score ≥ threshold`.
    /// `None` when the set lacks a label or cannot be read (see [`roc_auc`]).
    pub fn from_scores(scores: &[f64], labels: &[u8], threshold: f64) -> Option<Self> {
        let (positives, negatives) = check_scores(scores, labels)?;
        let auc = roc_auc(scores, labels)?;
        let accuracy = accuracy(scores, labels, threshold);
        Some(Self {
            accuracy,
            accuracy_se: accuracy_standard_error(accuracy, scores.len())?,
            auc,
            auc_se: auc_standard_error(auc, positives, negatives)?,
            n: scores.len(),
        })
    }
}

use super::*;
use crate::core::rng::Rng;

/// Points in the plane labelled by which side of x + y = 0 they fall, at least `margin` away.
fn separable(rng: &mut Rng, n: usize, margin: f64) -> (Vec<Vec<f64>>, Vec<u8>) {
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    while rows.len() < n {
        let (x, y) = (rng.next_f64() * 4.0 - 2.0, rng.next_f64() * 4.0 - 2.0);
        if (x + y).abs() < margin {
            continue;
        }
        // A third feature of pure noise and a fourth that never changes.
        rows.push(vec![x, y, rng.normal(), 7.0]);
        labels.push(u8::from(x + y > 0.0));
    }
    (rows, labels)
}

/// The gradient of the regularised mean log-loss, computed densely on standardised rows.
fn dense_gradient(model: &DenseLogistic, rows: &[Vec<f64>], labels: &[u8], l2: f64) -> Vec<f64> {
    let n = rows.len() as f64;
    let dims = model.weights().len();
    let mut grad = vec![0.0; dims + 1];
    for (row, &label) in rows.iter().zip(labels) {
        let z = model.standardizer().transform(row);
        let r = model.predict_proba(row) - f64::from(label);
        for (g, x) in grad.iter_mut().zip(&z) {
            *g += r * x / n;
        }
        grad[dims] += r / n;
    }
    for (g, w) in grad.iter_mut().zip(model.weights()) {
        *g += l2 * w;
    }
    grad
}

#[test]
fn a_separable_set_is_probed_perfectly_on_held_out_points() {
    let mut rng = Rng::new(11);
    let (rows, labels) = separable(&mut rng, 200, 0.2);
    let (held, held_labels) = separable(&mut rng, 100, 0.2);
    let model = DenseLogistic::fit(&rows, &labels, 1e-3).expect("fits");
    assert!(model.converged(), "{} iterations", model.iterations());
    let scores: Vec<f64> = held.iter().map(|r| model.predict_proba(r)).collect();
    assert_eq!(accuracy(&scores, &held_labels, 0.5), 1.0);
    assert_eq!(roc_auc(&scores, &held_labels), Some(1.0));
    // The constant feature is left out of the fit: its weight stays exactly 0.
    assert_eq!(model.weights()[3], 0.0);
    // The signal features carry the weight, the noise feature little of it.
    let w = model.weights();
    assert!(w[0] > 1.0 && w[1] > 1.0 && w[2].abs() < w[0] / 5.0, "{w:?}");
    // The sparse, implicitly standardised fit is at the minimum of the dense objective.
    let grad = dense_gradient(&model, &rows, &labels, 1e-3);
    assert!(grad.iter().all(|g| g.abs() < 1e-6), "{grad:?}");
}

#[test]
fn a_one_feature_fit_solves_its_hand_derived_stationarity_condition() {
    // x = ±1 (already standard), labels 0 and 1: by symmetry b = 0, and the gradient
    // −σ(−w) + λw vanishes, so λw = σ(−w) (for λ = 1, w = 1/(1 + eʷ) ≈ 0.401058).
    let rows = vec![vec![-1.0], vec![1.0]];
    let model = DenseLogistic::fit(&rows, &[0, 1], 1.0).expect("fits");
    let w = model.weights()[0];
    assert!(model.bias().abs() < 1e-9);
    assert!((w - 1.0 / (1.0 + w.exp())).abs() < 1e-8, "w = {w}");
    assert!((w - 0.401_058).abs() < 1e-5, "w = {w}");
    let p = model.predict_proba(&[1.0]);
    assert!((p - 1.0 / (1.0 + (-w).exp())).abs() < 1e-12);
    assert!((model.predict_proba(&[-1.0]) - (1.0 - p)).abs() < 1e-12);
}

#[test]
fn the_standardizer_uses_population_moments_and_floors_a_constant_feature() {
    let s = Standardizer::fit(&[vec![1.0, 5.0], vec![3.0, 5.0]]).expect("fits");
    assert_eq!(s.mean(), &[2.0, 5.0]);
    assert_eq!(s.std(), &[1.0, STD_FLOOR]);
    assert!(s.varies(0) && !s.varies(1) && !s.varies(2));
    assert_eq!(s.transform(&[3.0, 5.0]), vec![1.0, 0.0]);
    // Missing features read as the mean; extra ones are dropped.
    assert_eq!(s.transform(&[0.0]), vec![-2.0, 0.0]);
    assert_eq!(s.transform(&[2.0, 5.0, 9.0]), vec![0.0, 0.0]);
}

#[test]
fn fitting_is_deterministic_and_the_cooperative_fit_agrees() {
    struct Count(usize);
    impl Checkpoint for Count {
        fn checkpoint(&mut self) -> impl std::future::Future<Output = ()> {
            self.0 += 1;
            std::future::ready(())
        }
    }
    let mut rng = Rng::new(5);
    let (rows, labels) = separable(&mut rng, 120, 0.0);
    let a = DenseLogistic::fit(&rows, &labels, 1e-2).expect("fits");
    let b = DenseLogistic::fit(&rows, &labels, 1e-2).expect("fits");
    assert_eq!(a, b);
    let mut count = Count(0);
    let c = run_ready(DenseLogistic::fit_cooperatively(
        &rows, &labels, 1e-2, &mut count,
    ))
    .expect("fits");
    assert_eq!(a, c);
    assert!(
        count.0 >= a.iterations() && a.iterations() > 0,
        "{}",
        count.0
    );
}

#[test]
fn bad_input_is_refused_with_a_typed_error() {
    let fit = |rows: &[Vec<f64>], labels: &[u8], l2| DenseLogistic::fit(rows, labels, l2);
    assert_eq!(fit(&[], &[], 1.0), Err(EvalError::Empty));
    assert_eq!(
        fit(&[vec![1.0]], &[1, 0], 1.0),
        Err(EvalError::LengthMismatch { rows: 1, labels: 2 })
    );
    assert_eq!(
        fit(&[vec![1.0, 2.0], vec![1.0]], &[0, 1], 1.0),
        Err(EvalError::Ragged {
            row: 1,
            len: 1,
            expected: 2
        })
    );
    assert_eq!(
        fit(&[vec![1.0], vec![f64::NAN]], &[0, 1], 1.0),
        Err(EvalError::NonFinite { row: 1, feature: 0 })
    );
    assert_eq!(
        fit(&[vec![1.0], vec![2.0]], &[1, 1], 1.0),
        Err(EvalError::SingleClass { label: 1 })
    );
    assert_eq!(
        fit(&[vec![1.0], vec![2.0]], &[0, 2], 1.0),
        Err(EvalError::BadLabel { row: 1, label: 2 })
    );
    assert_eq!(
        fit(&[vec![1.0], vec![2.0]], &[0, 1], 0.0),
        Err(EvalError::Regularization(0.0))
    );
    assert!(fit(&[vec![1.0], vec![2.0]], &[0, 1], f64::NAN).is_err());
    let message = fit(&[vec![1.0], vec![2.0]], &[1, 1], 1.0)
        .expect_err("single class")
        .to_string();
    assert!(message.contains("both labels"), "{message}");
}

#[test]
fn auc_counts_ordered_pairs_and_ties_as_half() {
    // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered right.
    assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Some(0.75));
    // 0.5 (positive) ties 0.5 (negative): (1 + ½ + 2) / 4.
    assert_eq!(roc_auc(&[0.2, 0.5, 0.5, 0.9], &[0, 0, 1, 1]), Some(0.875));
    assert_eq!(roc_auc(&[0.5; 4], &[0, 1, 0, 1]), Some(0.5));
    assert_eq!(roc_auc(&[3.0, 2.0, 1.0], &[1, 0, 0]), Some(1.0));
    assert_eq!(roc_auc(&[1.0, 2.0, 3.0], &[1, 0, 0]), Some(0.0));
    // Order of the items does not matter.
    assert_eq!(roc_auc(&[0.8, 0.35, 0.4, 0.1], &[1, 1, 0, 0]), Some(0.75));
    assert_eq!(roc_auc(&[0.1, 0.2], &[1, 1]), None);
    assert_eq!(roc_auc(&[], &[]), None);
    assert_eq!(roc_auc(&[0.1, 0.2], &[0, 1, 1]), None);
    assert_eq!(roc_auc(&[0.1, f64::NAN], &[0, 1]), None);
    assert_eq!(roc_auc(&[0.1, 0.2], &[0, 3]), None);
}

#[test]
fn the_auc_standard_error_follows_hanley_and_mcneil() {
    // A = ½: Q₁ = Q₂ = ⅓, so with 10 and 10 the variance is (¼ + 9/12 + 9/12) / 100.
    let se = auc_standard_error(0.5, 10, 10).expect("se");
    assert!((se - 0.0175f64.sqrt()).abs() < 1e-12, "{se}");
    // A = 0.75 with 2 and 2: Q₁ = 0.6, Q₂ = 0.642857…
    let (q1, q2) = (0.75 / 1.25, 2.0 * 0.5625 / 1.75);
    let want = ((0.75 * 0.25 + (q1 - 0.5625) + (q2 - 0.5625)) / 4.0f64).sqrt();
    assert!((auc_standard_error(0.75, 2, 2).expect("se") - want).abs() < 1e-12);
    assert_eq!(auc_standard_error(1.0, 50, 50), Some(0.0));
    assert_eq!(auc_standard_error(0.5, 0, 10), None);
    assert_eq!(auc_standard_error(1.5, 10, 10), None);
}

#[test]
fn the_best_threshold_is_the_lowest_midpoint_of_the_most_accurate_cuts() {
    // Cuts and accuracies: −0.9 → 2/5, 0.2 → 3/5, 0.325 → 4/5, 0.475 → 3/5, 0.7 → 4/5,
    // 1.8 → 3/5. Two cuts reach 4/5; the lower one wins.
    let scores = [0.6, 0.1, 0.35, 0.8, 0.3];
    let labels = [0, 0, 1, 1, 0];
    let t = best_threshold(&scores, &labels).expect("threshold");
    assert!((t - 0.325).abs() < 1e-12, "{t}");
    assert_eq!(accuracy(&scores, &labels, t), 0.8);
    assert_eq!(accuracy(&scores, &labels, 0.7), 0.8);
    // Separable: the midpoint of the gap. Tied scores move together.
    assert_eq!(
        best_threshold(&[1.0, 2.0, 3.0, 4.0], &[0, 0, 1, 1]),
        Some(2.5)
    );
    assert_eq!(
        best_threshold(&[1.0, 2.0, 2.0, 4.0], &[0, 1, 1, 1]),
        Some(1.5)
    );
    // One label only: one unit past the scores, on the side that gets them all right.
    assert_eq!(best_threshold(&[0.2, 0.4], &[1, 1]), Some(0.2 - 1.0));
    assert_eq!(best_threshold(&[0.2, 0.4], &[0, 0]), Some(1.4));
    // Inverted scores: predicting every item 1 (or 0) is as good as any cut.
    assert_eq!(best_threshold(&[1.0, 2.0], &[1, 0]), Some(0.0));
    assert_eq!(best_threshold(&[], &[]), None);
    assert_eq!(best_threshold(&[f64::INFINITY], &[1]), None);
    assert_eq!(accuracy(&[], &[], 0.5), 0.0);
}

#[test]
fn a_probe_score_reports_accuracy_and_auc_with_their_errors() {
    let score =
        ProbeScore::from_scores(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1], 0.5).expect("scorable");
    assert_eq!(score.n, 4);
    assert_eq!(score.accuracy, 0.75);
    assert!((score.accuracy_se - (0.75f64 * 0.25 / 4.0).sqrt()).abs() < 1e-12);
    assert_eq!(score.auc, 0.75);
    assert_eq!(Some(score.auc_se), auc_standard_error(0.75, 2, 2));
    let json = serde_json::to_string(&score).expect("serialises");
    let back: ProbeScore = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, score);
    assert_eq!(ProbeScore::from_scores(&[0.1], &[1], 0.5), None);
}

#[test]
fn a_paired_difference_counts_discordant_items_and_has_the_paired_error() {
    // Ten items: both right on 5, both wrong on 1, only the first right on 3, only the second
    // on 1. Accuracies 0.8 and 0.6.
    let first = [true, true, true, true, true, false, true, true, true, false];
    let second = [
        true, true, true, true, true, false, false, false, false, true,
    ];
    let d = PairedDifference::of(&first, &second).expect("same items");
    assert_eq!((d.n, d.first_right_only, d.second_right_only), (10, 3, 1));
    assert!((d.difference - 0.2).abs() < 1e-12);
    // (0.3 + 0.1 − 0.2²) / 10 = 0.036.
    assert!((d.se - 0.036f64.sqrt()).abs() < 1e-12);
    // The unpaired error of the same two accuracies is larger: √(0.8·0.2/10 + 0.6·0.4/10).
    assert!(d.se < (0.016f64 + 0.024).sqrt());
    assert!(
        !d.clearly_above(),
        "3 against 1 disagreeing items is a coin's work"
    );
    // P(X ≥ 3 | 4 fair coins) = 5/16.
    assert!((d.p_first_not_above() - 5.0 / 16.0).abs() < 1e-12);
    // Five items only the first gets right and none the other way: p = 1/32, not below 2.5%,
    // though the difference is five standard errors by the normal approximation.
    let five = PairedDifference {
        n: 100,
        first_right_only: 5,
        second_right_only: 0,
        difference: 0.05,
        se: (0.05f64 - 0.0025).sqrt() / 10.0,
    };
    assert!((five.p_first_not_above() - 1.0 / 32.0).abs() < 1e-12);
    assert!(five.difference > 2.0 * five.se && !five.clearly_above());
    let six = PairedDifference {
        first_right_only: 6,
        ..five
    };
    assert!(six.clearly_above(), "1/64 < 2.5%");
    // Agreement on every item: no difference, none claimed.
    let same = PairedDifference::of(&first, &first).expect("same items");
    assert_eq!((same.difference, same.se), (0.0, 0.0));
    assert!(!same.clearly_above());
    // Right on 40 items the other gets wrong, and no other discordance.
    let a = vec![true; 100];
    let mut b = vec![true; 100];
    b[..40].iter_mut().for_each(|x| *x = false);
    assert!(
        PairedDifference::of(&a, &b)
            .expect("same items")
            .clearly_above()
    );
    assert_eq!(PairedDifference::of(&first, &second[..3]), None);
    assert_eq!(PairedDifference::of(&[], &[]), None);
    assert_eq!(
        correct(&[0.2, 0.7, 0.5], &[0, 0, 1], 0.5),
        vec![true, false, true]
    );
}

//! The `surface` pair baseline: the shortcut audit's surface classifier
//! ([`crate::core::audit`]) — first and last words of A and B, their lengths, closing
//! punctuation, greetings and sign-offs, person and digits, hashed indicators read by an
//! L2-regularised logistic regression — fitted on one split's labelled pairs and scored on
//! another's, as the `bow` baselines are. What the texts' surface alone reaches is the bar a
//! model has to clear before it can be said to read coherence.

use crate::core::audit::{LogisticRegression, surface_features};
use crate::core::corpus::EvalPair;
use crate::core::eval::probe::{EvalError, ProbeScore};

/// Fits the surface classifier on `fit` and scores it on `held`: accuracy at ½ and AUC.
pub fn surface_baseline(fit: &[EvalPair], held: &[EvalPair]) -> Result<ProbeScore, EvalError> {
    let both = |pairs: &[EvalPair]| {
        pairs.iter().any(|p| p.label == 0) && pairs.iter().any(|p| p.label == 1)
    };
    if !both(fit) {
        return Err(EvalError::Empty);
    }
    let rows: Vec<(Vec<u32>, u8)> = fit
        .iter()
        .map(|p| (surface_features(&p.a, &p.b), p.label))
        .collect();
    let model = LogisticRegression::fit(rows.iter().map(|(f, l)| (f.as_slice(), *l)));
    let scores: Vec<f64> = held
        .iter()
        .map(|p| model.predict(&surface_features(&p.a, &p.b)))
        .collect();
    let labels: Vec<u8> = held.iter().map(|p| p.label).collect();
    ProbeScore::from_scores(&scores, &labels, 0.5).ok_or_else(|| EvalError::Unscorable {
        what: "the surface baseline".to_string(),
    })
}

//! Evaluation: what a trained run is judged on — the quality of the replies it generates for
//! held-out support tickets and how well it judges the directed evaluation pairs (is B the right
//! follow-up to A, in that order?). This folder scores a run's generation quality and pair
//! judgement against numbers that need no model at all, so a result always has a floor beside it.
//!
//! Host-side pieces, plain `f64` and `u32` with no tensors:
//! - [`probe`]: linear probes on dense features (standardised, L2-regularised logistic
//!   regression) and the ranking metrics a pair judgement is reported with (accuracy, ROC AUC,
//!   their standard errors, the best threshold for zero-shot scores);
//! - [`text`]: statistics of generated text (distinct-n, sequence-level repetition);
//! - [`baselines`]: what a bag of words reaches on the pair sets, and what copying a training
//!   resolution reaches on the compliance checker.

pub mod baselines;
pub mod probe;
pub mod text;

//! Evaluation: what a trained run is judged on — the quality of the replies it writes for
//! held-out support tickets, and how well it judges the directed evaluation pairs (is B the
//! right follow-up to A, in that order?) — always beside numbers that need no model at all, so
//! a result has a floor next to it.
//!
//! Model-side:
//! - [`generation`]: conditional perplexity of held-out replies under each objective's own
//!   protocol (`gen_ppl`), and masked LM's pseudo-perplexity (`gen_pppl`) beside it;
//! - [`replies`]: replies written to held-out tickets with each objective's own decoding,
//!   greedy and sampled, judged by the compliance checker beside the model-free baselines;
//! - [`pair_input`]: how a network reads a pair — A and B joined as the packed stream joins
//!   them (or as a pair head learned them) and cut to fit — shared by every pair reading and
//!   the pair baselines;
//! - [`features`]: frozen pair features with each architecture's pooling, and the pair head's
//!   zero-shot reading;
//! - [`likelihood`]: the zero-shot reading by likelihood, `log p(B | A) − log p(B)`;
//! - [`run`]: one run's evaluation, end to end, as the run summary records it.
//! - [`view`]: the rows the page's evaluation panel draws.
//!
//! Host-side, plain `f64` and `u32` with no tensors:
//! - [`probe`]: linear probes on dense features (standardised, L2-regularised logistic
//!   regression) and the ranking metrics a pair judgement is reported with (accuracy, ROC AUC,
//!   their standard errors, the best threshold for zero-shot scores);
//! - [`text`]: statistics of generated text (distinct-n, sequence-level repetition);
//! - [`baselines`]: what a bag of words reaches on the pair sets, and what copying a training
//!   resolution reaches on the compliance checker.

pub mod baselines;
pub mod features;
pub mod generation;
pub mod likelihood;
pub mod pair_input;
pub mod probe;
pub mod replies;
pub mod run;
pub mod text;
pub mod view;

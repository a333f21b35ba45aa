//! Evaluation: what a trained run is judged on — generation quality (conditional perplexity
//! of held-out replies under each objective's own protocol) and pair judgement (frozen
//! features probed on the directed pair sets) — beside baselines that are the same kind of
//! number.

pub mod features;
pub mod generation;
pub mod run;

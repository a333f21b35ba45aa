//! Next-sentence prediction (BERT; Devlin et al. 2019, §3.1 "Task #2", Appendix A.2): is B
//! the segment that follows A, or a segment of another document? Its data side — segments,
//! negatives, packing, batches — is shared with SOP in [`super::coherence`].

use super::coherence::PairTask;
use super::spec::{Family, ObjectiveSpec, PairRole, Role, TargetSupport, no_combination};
use crate::core::config::{Recipe, Recipes, Schedule};

/// NSP's spec: the pair head alone, or with a token objective (BERT is `mlm+nsp`).
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "nsp",
    title: "next-sentence prediction",
    family: Family::Coherence,
    paper: "BERT (Devlin et al. 2019) §3.1 Task #2, Appendix A.2",
    how: "sentence pairs [CLS] A [SEP] B [SEP], B half the time from another document; the pair \
          head on [CLS]",
    role: Role::Pairs(PairRole {
        task: PairTask::Nsp,
    }),
    knobs: &[],
    check_knobs: no_combination,
    support: TargetSupport::Text,
    recipes: RECIPES,
};

/// The rate sweep's choice for mixes with NSP, which shapes their batches (BERT's recipe;
/// BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 1e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 1e-3,
        batch_size: 4,
        schedule: Schedule::Wsd,
    },
};

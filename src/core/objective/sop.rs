//! Sentence-order prediction (ALBERT; Lan et al. 2020, §3.1 "Inter-sentence coherence loss"):
//! are A and B in their original order, or swapped? Its data side — segments, negatives,
//! packing, batches — is shared with NSP in [`super::coherence`].

use super::coherence::PairTask;
use super::spec::{Family, ObjectiveSpec, PairRole, Role, TargetSupport, no_combination};
use crate::core::config::{Recipe, Recipes, Schedule};

/// SOP's spec: the pair head alone, or with a token objective (ALBERT is `mlm+sop`).
pub static SPEC: ObjectiveSpec = ObjectiveSpec {
    name: "sop",
    title: "sentence-order prediction",
    family: Family::Coherence,
    paper: "ALBERT (Lan et al. 2020) §3.1, Table 5",
    how: "sentence pairs [CLS] A [SEP] B [SEP], swapped half the time; the pair head on [CLS]",
    role: Role::Pairs(PairRole {
        task: PairTask::Sop,
    }),
    knobs: &[],
    check_knobs: no_combination,
    support: TargetSupport::Text,
    recipes: RECIPES,
};

/// The rate sweep's choice for mixes with SOP, which shapes their batches (ALBERT's recipe;
/// BENCHMARKS.md).
pub const RECIPES: Recipes = Recipes {
    default: Recipe {
        peak_lr: 1e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
    fast: Recipe {
        peak_lr: 2e-3,
        batch_size: 8,
        schedule: Schedule::Wsd,
    },
};

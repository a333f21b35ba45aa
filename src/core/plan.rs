//! How a mix is trained: which network, which batches, and how primary and auxiliary share
//! them — decided from the objectives' specs ([`crate::core::objective::spec`]), never by
//! naming objectives here. The rules:
//!
//! - one token objective: its network, its batches;
//! - one pair objective (NSP or SOP) alone: an encoder with a pair head, pair batches;
//! - a token objective and a pair objective: the token objective's network with a pair head,
//!   and its [`WithPairs`] rule — one batch for both (MLM as BERT and ALBERT do; CLM reading the
//!   pair left to right; PLM with `[CLS]` last in every order), or alternate batches (T5 and
//!   BART, whose pair batches go through the encoder alone);
//! - two token objectives on one plain stack (decoder/encoder: `mlm+clm`): alternate batches,
//!   the mask alone selecting the objective (UniLM, Dong et al. 2019).
//!
//! Alternating rather than mixing masks inside one batch (as UniLM does) keeps each batch one
//! objective's, so its loss, its supervised-token count and its attention picture stay
//! readable. Every other pairing is refused with its reason: two token objectives of different
//! networks (`clm+span`, `mlm+plm`, …) would need a second network, and `nsp+sop` are one
//! head's two readings of the same pairs. [`pairings`] lists what trains, for the page.

use serde::{Deserialize, Serialize};

use super::config::{ModelSize, Recipe};
use super::error::CoreError;
use super::mix::{Objective, ObjectiveMix};
use super::model::{Architecture, Extras};
use super::objective::spec::{Role, WithPairs};

/// One kind of batch the plan draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchKind {
    /// The token objective scored on this batch, if any.
    pub tokens: Option<Objective>,
    /// The pair objective scored on this batch, if any.
    pub pairs: Option<Objective>,
}

impl BatchKind {
    /// What the pictures call it: its objectives' names, upper case (`MLM + NSP`).
    pub fn title(&self) -> String {
        let names: Vec<String> = [self.tokens, self.pairs]
            .into_iter()
            .flatten()
            .map(|o| o.name().to_uppercase())
            .collect();
        names.join(" + ")
    }
}

/// How a mix is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub architecture: Architecture,
    /// Batch kinds drawn in turn (one kind: every step the same).
    pub batches: Vec<BatchKind>,
    /// One line for the page: how the mix is trained.
    pub how: String,
}

impl Plan {
    /// Whether the network writes text left to right: a decoder trained with CLM.
    pub fn generates(&self) -> bool {
        self.architecture == Architecture::Decoder
            && self
                .batches
                .iter()
                .any(|k| k.tokens == Some(Objective::Clm))
    }

    /// The optional parts the network needs.
    pub fn extras(&self) -> Extras {
        Extras {
            pairs: self.batches.iter().any(|b| b.pairs.is_some()),
            query_stream: self.architecture == Architecture::TwoStream,
        }
    }

    /// The objective whose recipe (rate, batch, schedule) the run trains at: the pair objective
    /// when there is one, since its segments shape every batch it shares or alternates with;
    /// otherwise the first token objective.
    pub fn recipe_objective(&self) -> Option<Objective> {
        self.batches
            .iter()
            .find_map(|k| k.pairs)
            .or_else(|| self.batches.iter().find_map(|k| k.tokens))
    }

    /// The recipe this plan trains at for `size`.
    pub fn recipe(&self, size: ModelSize) -> Recipe {
        self.recipe_objective()
            .map_or(Objective::Clm, |o| o)
            .spec()
            .recipes
            .for_size(size)
    }
}

/// Decides how `mix` is trained, or says why it cannot be.
pub fn plan(mix: &ObjectiveMix) -> Result<Plan, CoreError> {
    let objectives: Vec<Objective> = mix.objectives().collect();
    let tokens: Vec<Objective> = objectives
        .iter()
        .copied()
        .filter(|o| o.spec().tokens().is_some())
        .collect();
    let pairs: Vec<Objective> = objectives
        .iter()
        .copied()
        .filter(|o| o.spec().pairs().is_some())
        .collect();
    let refuse = |reason: String| {
        Err(CoreError::Pairing {
            mix: mix.canonical(),
            reason,
        })
    };
    match (tokens.as_slice(), pairs.as_slice()) {
        ([], [pair]) => Ok(Plan {
            architecture: Architecture::Encoder,
            batches: vec![BatchKind {
                tokens: None,
                pairs: Some(*pair),
            }],
            how: format!("{}; only the pair head is trained", pair.spec().how),
        }),
        ([], [_, _]) => refuse(
            "NSP and SOP are two readings of the same pairs by one head; pick one (with a token \
             objective, e.g. mlm+sop)"
                .into(),
        ),
        ([task], []) => Ok(Plan {
            architecture: token_architecture(*task),
            batches: vec![BatchKind {
                tokens: Some(*task),
                pairs: None,
            }],
            how: task.spec().how.into(),
        }),
        ([task], [pair]) => {
            let Some(role) = task.spec().tokens() else {
                return refuse("internal: a token objective without a token role".into());
            };
            let (batches, how) = match role.with_pairs {
                WithPairs::SameBatch { how, .. } => (
                    vec![BatchKind {
                        tokens: Some(*task),
                        pairs: Some(*pair),
                    }],
                    how,
                ),
                WithPairs::Alternate { how } => (
                    vec![
                        BatchKind {
                            tokens: Some(*task),
                            pairs: None,
                        },
                        BatchKind {
                            tokens: None,
                            pairs: Some(*pair),
                        },
                    ],
                    how,
                ),
            };
            Ok(Plan {
                architecture: role.architecture,
                batches,
                how: how.into(),
            })
        }
        ([a, b], [])
            if token_architecture(*a).is_plain_stack()
                && token_architecture(*b).is_plain_stack()
                && token_architecture(*a) != token_architecture(*b) =>
        {
            Ok(Plan {
                // Bidirectional and causal batches on one stack: the encoder's parts serve both.
                architecture: Architecture::Encoder,
                batches: tokens
                    .iter()
                    .map(|&t| BatchKind {
                        tokens: Some(t),
                        pairs: None,
                    })
                    .collect(),
                how: "alternate batches on one shared stack; the mask alone selects the objective \
                      (UniLM)"
                    .into(),
            })
        }
        ([a, b], []) => refuse(format!(
            "{a} trains {} {} and {b} {} {}; one run trains one network (the shared-stack \
             pairing is mlm+clm)",
            article(token_architecture(*a)),
            token_architecture(*a).name(),
            article(token_architecture(*b)),
            token_architecture(*b).name(),
        )),
        _ => refuse("a mix has at most one primary and one auxiliary objective".into()),
    }
}

fn token_architecture(o: Objective) -> Architecture {
    o.spec()
        .tokens()
        .map_or(Architecture::Encoder, |t| t.architecture)
}

fn article(a: Architecture) -> &'static str {
    if matches!(a, Architecture::EncoderDecoder | Architecture::Encoder) {
        "an"
    } else {
        "a"
    }
}

/// One row of the page's "which pairings train, and how" table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    pub mixes: String,
    pub network: String,
    pub how: String,
}

/// Every pairing the lab trains, derived from the specs: each token objective alone, the pair
/// objectives alone, each token objective with a pair objective, and the shared stack.
pub fn pairings() -> Vec<Pairing> {
    let pair_names: Vec<&str> = Objective::ALL
        .iter()
        .filter(|o| o.spec().pairs().is_some())
        .map(|o| o.name())
        .collect();
    let pair_list = pair_names.join("/");
    let mut rows = Vec::new();
    for o in Objective::ALL {
        if let Role::Tokens(t) = o.spec().role {
            rows.push(Pairing {
                mixes: o.name().into(),
                network: t.architecture.name().into(),
                how: o.spec().how.into(),
            });
        }
    }
    rows.push(Pairing {
        mixes: pair_names.join(", "),
        network: "encoder + pair head".into(),
        how: "[CLS] A [SEP] B [SEP] pairs; only the pair head is trained".into(),
    });
    for o in Objective::ALL {
        if let Role::Tokens(t) = o.spec().role {
            let (how, network) = match t.with_pairs {
                WithPairs::SameBatch { how, .. } => {
                    (how, format!("{} + pair head", t.architecture.name()))
                }
                WithPairs::Alternate { how } => (
                    how,
                    format!("{}, pair head on the encoder", t.architecture.name()),
                ),
            };
            rows.push(Pairing {
                mixes: format!("{} + {pair_list} (either way round)", o.name()),
                network,
                how: how.into(),
            });
        }
    }
    rows.push(Pairing {
        mixes: "mlm + clm (either way round)".into(),
        network: "one shared stack".into(),
        how: "alternate batches; the mask selects the objective (UniLM)".into(),
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str) -> Result<Plan, CoreError> {
        plan(&ObjectiveMix::parse(text).expect(text).0)
    }

    #[test]
    fn every_preset_has_a_plan_on_its_papers_architecture() {
        let expected = [
            ("bert", Architecture::Encoder),
            ("roberta", Architecture::Encoder),
            ("albert", Architecture::Encoder),
            ("gpt", Architecture::Decoder),
            ("t5", Architecture::EncoderDecoder),
            ("bart", Architecture::EncoderDecoder),
            ("xlnet", Architecture::TwoStream),
        ];
        for (preset, architecture) in expected {
            let p = plan_of(preset).expect(preset);
            assert_eq!(p.architecture, architecture, "{preset}");
        }
        assert!(plan_of("bert").expect("bert").extras().pairs);
        assert!(plan_of("xlnet").expect("xlnet").extras().query_stream);
        assert!(!plan_of("gpt").expect("gpt").extras().pairs);
    }

    #[test]
    fn supported_pairings_and_refusals() {
        for ok in [
            "nsp",
            "sop",
            "mlm+nsp",
            "nsp+mlm@0.5",
            "clm+sop",
            "plm+nsp",
            "span+sop",
            "infill+nsp",
            "mlm+clm",
            "clm+mlm@0.3",
        ] {
            assert!(plan_of(ok).is_ok(), "{ok}");
        }
        assert_eq!(plan_of("span+nsp").expect("span+nsp").batches.len(), 2);
        for bad in ["clm+span", "mlm+plm", "infill+span", "nsp+sop", "plm+clm"] {
            let err = plan_of(bad).expect_err(bad);
            assert!(matches!(err, CoreError::Pairing { .. }), "{bad}: {err}");
            assert!(
                err.to_string().contains("cannot be trained"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_recipe_follows_the_objective_that_shapes_the_batches() {
        assert_eq!(
            plan_of("bert").expect("bert").recipe_objective(),
            Some(Objective::Nsp)
        );
        assert_eq!(
            plan_of("roberta").expect("roberta").recipe_objective(),
            Some(Objective::Mlm)
        );
        assert_eq!(
            plan_of("span+sop").expect("t5+sop").recipe_objective(),
            Some(Objective::Sop)
        );
    }

    #[test]
    fn the_pairings_table_lists_every_objective() {
        let rows = pairings();
        for o in Objective::ALL {
            assert!(
                rows.iter().any(|r| r.mixes.contains(o.name())),
                "{o} is in the table"
            );
        }
    }
}

//! How a mix is trained: which network, which batches, and how primary and auxiliary share
//! them. One table decides; the module doc, the page and the CLI show it, and any pairing not
//! in it is refused with its reason.
//!
//! | mix | network | how it is trained |
//! | --- | --- | --- |
//! | `clm` | decoder | next-token windows, causal mask (GPT) |
//! | `mlm` | encoder | 15% of each window masked 80/10/10, bidirectional mask (RoBERTa) |
//! | `nsp`, `sop` | encoder + pair head | `[CLS] A [SEP] B [SEP]` pairs, the head reads `[CLS]` |
//! | `span` | encoder-decoder | T5 span corruption: sentinels in, spans out |
//! | `infill` | encoder-decoder | BART text infilling: Poisson spans → one `[MASK]` each, the decoder rewrites all |
//! | `plm` | two-stream | XLNet: one factorisation order per sequence, the last 1/K predicted |
//! | `mlm+nsp`, `mlm+sop` (either way round) | encoder + pair head | one batch: MLM on the packed pair, the head on `[CLS]` (BERT, ALBERT) |
//! | `clm+nsp`, `clm+sop` (either way round) | decoder + pair head | one batch: CLM on `A [SEP] B [SEP] [CLS]`, the head on the last `[CLS]`, which sees the whole pair |
//! | `plm+nsp`, `plm+sop` (either way round) | two-stream + pair head | one batch: PLM on the packed pair, `[CLS]` last in every order (XLNet + NSP, Table 6) |
//! | `span+nsp`, `span+sop`, `infill+nsp`, `infill+sop` (either way round) | encoder-decoder + pair head on the encoder | alternate batches: a denoising batch, then a pair batch through the encoder only |
//! | `mlm+clm`, `clm+mlm` | one shared stack | alternate batches; the mask alone selects the objective (UniLM, Dong et al. 2019) |
//!
//! Alternating rather than mixing masks inside one batch (as UniLM does) keeps each batch one
//! objective's, so its loss, its supervised-token count and its attention picture stay
//! readable. Every other pairing is refused: two token objectives of different architectures
//! (`clm+span`, `mlm+plm`, …) would need a second network, and `nsp+sop` are one head's two
//! readings of the same pairs.

use serde::{Deserialize, Serialize};

/// The supported pairings as the page shows them: mixes, network, how they are trained (the
/// same table as this module's documentation).
pub const PAIRINGS: [(&str, &str, &str); 11] = [
    ("clm", "decoder", "next-token windows, causal mask (GPT)"),
    (
        "mlm",
        "encoder",
        "15% of each window masked 80/10/10, bidirectional mask (RoBERTa)",
    ),
    (
        "nsp, sop",
        "encoder + pair head",
        "[CLS] A [SEP] B [SEP] pairs; the head reads [CLS]",
    ),
    (
        "span",
        "encoder-decoder",
        "T5 span corruption: sentinels in, spans out",
    ),
    (
        "infill",
        "encoder-decoder",
        "BART text infilling: Poisson spans become one [MASK] each; the decoder rewrites all",
    ),
    (
        "plm",
        "two-stream",
        "XLNet: one factorisation order per sequence; the last 1/K predicted",
    ),
    (
        "mlm + nsp/sop",
        "encoder + pair head",
        "one batch: MLM on the packed pair, the head on [CLS] (BERT, ALBERT)",
    ),
    (
        "clm + nsp/sop",
        "decoder + pair head",
        "one batch: CLM on A [SEP] B [SEP] [CLS]; the head on the last [CLS]",
    ),
    (
        "plm + nsp/sop",
        "two-stream + pair head",
        "one batch: PLM on the pair, [CLS] last in every order",
    ),
    (
        "span/infill + nsp/sop",
        "encoder-decoder, pair head on the encoder",
        "alternate batches: denoising, then pairs through the encoder",
    ),
    (
        "mlm + clm",
        "one shared stack",
        "alternate batches; the mask selects the objective (UniLM)",
    ),
];

use super::error::CoreError;
use super::mix::{Objective, ObjectiveMix};
use super::model::Extras;

/// The network a plan trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Decoder,
    Encoder,
    EncoderDecoder,
    TwoStream,
}

impl Architecture {
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Decoder => "decoder",
            Architecture::Encoder => "encoder",
            Architecture::EncoderDecoder => "encoder-decoder",
            Architecture::TwoStream => "two-stream",
        }
    }
}

/// The token-level side of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenTask {
    Clm,
    Mlm,
    Span,
    Infill,
    Plm,
}

/// The sentence-pair side of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairTaskKind {
    Nsp,
    Sop,
}

/// One kind of batch the plan draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchKind {
    /// The token objective scored on this batch, if any.
    pub tokens: Option<TokenTask>,
    /// The pair task scored on this batch, if any.
    pub pairs: Option<PairTaskKind>,
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
                .any(|k| k.tokens == Some(TokenTask::Clm))
    }

    /// The optional parts the network needs.
    pub fn extras(&self) -> Extras {
        Extras {
            pairs: self.batches.iter().any(|b| b.pairs.is_some()),
            query_stream: self.architecture == Architecture::TwoStream,
        }
    }
}

fn token_task(o: Objective) -> Option<TokenTask> {
    match o {
        Objective::Clm => Some(TokenTask::Clm),
        Objective::Mlm => Some(TokenTask::Mlm),
        Objective::Span => Some(TokenTask::Span),
        Objective::Infill => Some(TokenTask::Infill),
        Objective::Plm => Some(TokenTask::Plm),
        Objective::Nsp | Objective::Sop => None,
    }
}

fn pair_task(o: Objective) -> Option<PairTaskKind> {
    match o {
        Objective::Nsp => Some(PairTaskKind::Nsp),
        Objective::Sop => Some(PairTaskKind::Sop),
        _ => None,
    }
}

fn architecture_of(task: TokenTask) -> Architecture {
    match task {
        TokenTask::Clm => Architecture::Decoder,
        TokenTask::Mlm => Architecture::Encoder,
        TokenTask::Span | TokenTask::Infill => Architecture::EncoderDecoder,
        TokenTask::Plm => Architecture::TwoStream,
    }
}

/// Decides how `mix` is trained, or says why it cannot be.
pub fn plan(mix: &ObjectiveMix) -> Result<Plan, CoreError> {
    let objectives: Vec<Objective> = std::iter::once(mix.primary).chain(mix.auxiliary).collect();
    let tokens: Vec<TokenTask> = objectives.iter().filter_map(|&o| token_task(o)).collect();
    let pairs: Vec<PairTaskKind> = objectives.iter().filter_map(|&o| pair_task(o)).collect();
    let refuse = |why: &str| {
        Err(CoreError::Config(format!(
            "the mix `{}` cannot be trained: {why}",
            mix.canonical()
        )))
    };
    match (tokens.as_slice(), pairs.as_slice()) {
        ([], [pair]) => Ok(Plan {
            architecture: Architecture::Encoder,
            batches: vec![BatchKind {
                tokens: None,
                pairs: Some(*pair),
            }],
            how: "sentence pairs [CLS] A [SEP] B [SEP]; only the pair head is trained".into(),
        }),
        ([], [_, _]) => refuse(
            "NSP and SOP are two readings of the same pairs by one head; pick one (with a token objective, e.g. mlm+sop)",
        ),
        ([task], []) => Ok(Plan {
            architecture: architecture_of(*task),
            batches: vec![BatchKind {
                tokens: Some(*task),
                pairs: None,
            }],
            how: match task {
                TokenTask::Clm => "next-token windows under a causal mask",
                TokenTask::Mlm => "15% of each window masked (80% [MASK], 10% random, 10% kept) under a bidirectional mask",
                TokenTask::Span => "T5 span corruption: spans become sentinels in the encoder, the decoder writes them out",
                TokenTask::Infill => "BART text infilling: Poisson(3) spans become one [MASK] each, the decoder rewrites the text",
                TokenTask::Plm => "one factorisation order per sequence, the last 1/K predicted by the query stream",
            }
            .into(),
        }),
        ([task], [pair]) => {
            let same_batch = BatchKind {
                tokens: Some(*task),
                pairs: Some(*pair),
            };
            match task {
                TokenTask::Mlm => Ok(Plan {
                    architecture: Architecture::Encoder,
                    batches: vec![same_batch],
                    how: "one batch: MLM on [CLS] A [SEP] B [SEP], the pair head on [CLS] (BERT, ALBERT)".into(),
                }),
                TokenTask::Clm => Ok(Plan {
                    architecture: Architecture::Decoder,
                    batches: vec![same_batch],
                    how: "one batch: CLM on A [SEP] B [SEP] [CLS], the pair head on the final [CLS], which sees the whole pair".into(),
                }),
                TokenTask::Plm => Ok(Plan {
                    architecture: Architecture::TwoStream,
                    batches: vec![same_batch],
                    how: "one batch: PLM on the packed pair with [CLS] last in every order, the pair head on [CLS]".into(),
                }),
                TokenTask::Span | TokenTask::Infill => Ok(Plan {
                    architecture: Architecture::EncoderDecoder,
                    batches: vec![
                        BatchKind {
                            tokens: Some(*task),
                            pairs: None,
                        },
                        BatchKind {
                            tokens: None,
                            pairs: Some(*pair),
                        },
                    ],
                    how: "alternate batches: denoising, then sentence pairs through the encoder with the pair head on [CLS]".into(),
                }),
            }
        }
        ([a, b], []) if [*a, *b].contains(&TokenTask::Clm) && [*a, *b].contains(&TokenTask::Mlm) => {
            Ok(Plan {
                architecture: Architecture::Encoder,
                batches: tokens
                    .iter()
                    .map(|&t| BatchKind {
                        tokens: Some(t),
                        pairs: None,
                    })
                    .collect(),
                how: "alternate batches on one shared stack; the mask alone selects the objective (UniLM)".into(),
            })
        }
        ([a, b], []) => refuse(&format!(
            "{} trains a{} {} and {} a{} {}; one run trains one network (the shared-stack pairing is mlm+clm)",
            objective_name(*a),
            article(architecture_of(*a)),
            architecture_of(*a).name(),
            objective_name(*b),
            article(architecture_of(*b)),
            architecture_of(*b).name(),
        )),
        _ => refuse("a mix has at most one primary and one auxiliary objective"),
    }
}

fn article(a: Architecture) -> &'static str {
    if a == Architecture::EncoderDecoder || a == Architecture::Encoder {
        "n"
    } else {
        ""
    }
}

fn objective_name(t: TokenTask) -> &'static str {
    match t {
        TokenTask::Clm => "clm",
        TokenTask::Mlm => "mlm",
        TokenTask::Span => "span",
        TokenTask::Infill => "infill",
        TokenTask::Plm => "plm",
    }
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
            let err = plan_of(bad).expect_err(bad).to_string();
            assert!(err.contains("cannot be trained"), "{bad}: {err}");
        }
    }
}

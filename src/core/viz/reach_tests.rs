use super::*;
use crate::core::mix::Objective;
use crate::core::objective::spec::ObjectiveKnobs;
use crate::core::objective::test_support::{packed_stream, shape_with};
use crate::core::objective::{mlm, plm};
use crate::core::plan::BatchKind;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;
use crate::core::viz::strip::{TokenState, strip};
use crate::core::viz::test_support::{Numbers, batches, capture, network};

const SPECIALS: SpecialIds = SpecialIds::fixed();

/// `fast`'s sequence length and a vocabulary its embeddings hold.
const SEQ: usize = 32;
const VOCAB: usize = 1024;

/// Packed-corpus-shaped windows whose ids fit the `fast` vocabulary.
fn windows(count: usize, seed: u64) -> Vec<Vec<u32>> {
    packed_stream(count * SEQ, seed)
        .iter()
        .map(|&id| {
            if SPECIALS.is_special(id) {
                id
            } else {
                23 + id % 1000
            }
        })
        .collect::<Vec<_>>()
        .chunks(SEQ)
        .map(<[u32]>::to_vec)
        .collect()
}

fn flow_of(mix: &str, batch: &crate::core::objective::Batch, example: usize) -> Flow {
    Flow::from_trace(&capture(&network(mix), batch, example)).expect("flow")
}

/// The inputs that can have reached `position` at output row `step`.
fn reached(flow: &Flow, step: usize, position: usize) -> Vec<usize> {
    let row = &flow.rows[flow.output_rows()[step]];
    (0..flow.inputs.len())
        .filter(|&i| row.reached_by(position)[i])
        .collect()
}

#[test]
fn causal_position_t_is_reached_only_from_t_and_before() {
    let (_, batch) = batches("clm").remove(0);
    let flow = flow_of("clm", &batch, 0);
    assert_eq!(flow.output, FlowStream::Stack);
    let steps = flow.output_rows().len();
    assert_eq!(steps, 3, "embeddings and fast's two layers");
    for t in 0..SEQ {
        assert_eq!(
            reached(&flow, 0, t),
            [t],
            "the embedding holds its own token"
        );
        for step in 1..steps {
            let expected: Vec<usize> = (0..=t).collect();
            assert_eq!(
                reached(&flow, step, t),
                expected,
                "layer {step}, position {t}"
            );
        }
    }
}

#[test]
fn xlnets_query_stream_never_sees_its_own_token_nor_later_ones_in_the_order() {
    let ws = windows(2, 4);
    let shape = shape_with(ObjectiveKnobs::default(), 2, SEQ, VOCAB);
    let batch = plm::windows_batch(&ws, &shape, &mut Rng::new(8)).expect("batch");
    let mut replay = Rng::new(8);
    for (example, window) in ws.iter().enumerate() {
        let drawn = plm::plm_example(window, &plm::PlmConfig::default(), SPECIALS, &mut replay);
        let rank = plm::ranks(&drawn.order).expect("a permutation");
        let flow = flow_of("plm", &batch, example);
        assert_eq!(flow.output, FlowStream::Query);
        let targets: Vec<usize> = (0..SEQ).filter(|&p| drawn.predicted[p]).collect();
        assert!(!targets.is_empty());
        for &p in &targets {
            for step in 0..flow.output_rows().len() {
                for i in reached(&flow, step, p) {
                    assert!(i != p, "target {p} reached by its own token at step {step}");
                    assert!(
                        rank[i] < rank[p],
                        "target {p} reached by {i}, later in the order"
                    );
                }
            }
            // From the first layer on it has read the whole context.
            let context: Vec<usize> = (0..SEQ)
                .filter(|&i| !drawn.predicted[i] && !SPECIALS.is_special(window[i]))
                .collect();
            let now = reached(&flow, 1, p);
            assert!(
                context.iter().all(|i| now.contains(i)),
                "target {p} reads the context"
            );
        }
        // The content stream does hold its own token.
        let content = flow
            .rows
            .iter()
            .rfind(|r| r.stream == FlowStream::Content)
            .expect("content rows");
        assert!(targets.iter().all(|&p| content.reached_by(p)[p]));
    }
}

#[test]
fn mlm_mixes_every_position_from_the_first_layer_and_a_kept_token_reaches_its_prediction() {
    let ws = windows(8, 11);
    let shape = shape_with(ObjectiveKnobs::default(), 8, SEQ, VOCAB);
    let batch = mlm::windows_batch(&ws, &shape, &mut Rng::new(12)).expect("batch");
    let kind = BatchKind {
        tokens: Some(Objective::Mlm),
        pairs: None,
    };
    let mut kept_seen = 0;
    for example in 0..8 {
        let strip = strip(&batch, kind, example, &Numbers).expect("strip");
        let flow = flow_of("mlm", &batch, example);
        let everyone: Vec<usize> = (0..SEQ).collect();
        for (p, token) in strip.seen.iter().enumerate() {
            match token.state {
                TokenState::Masked => {
                    assert_eq!(reached(&flow, 0, p), [p], "before any layer: only [MASK]");
                    assert_eq!(
                        reached(&flow, 1, p),
                        everyone,
                        "[MASK] at {p} after layer 1"
                    );
                }
                TokenState::KeptScored => {
                    kept_seen += 1;
                    let last = flow.output_rows().len() - 1;
                    assert!(
                        reached(&flow, last, p).contains(&p),
                        "a kept token's own (true) token reaches its prediction"
                    );
                }
                _ => {}
            }
        }
    }
    assert!(kept_seen > 0, "some token was kept and scored");
}

#[test]
fn every_decoder_position_reaches_every_encoder_token_from_the_first_cross_attention() {
    for mix in ["span", "infill"] {
        let (_, batch) = batches(mix).remove(0);
        let flow = flow_of(mix, &batch, 1);
        assert_eq!(flow.output, FlowStream::Decoder);
        let s = flow.encoder_inputs;
        let real: Vec<usize> = (0..s).filter(|&i| !flow.inputs[i].padding).collect();
        let rows = flow.output_rows();
        let first_cross = rows
            .iter()
            .position(|&r| flow.rows[r].via == Some(Stream::Cross))
            .expect("a cross-attention row");
        for t in 0..batch.target_len {
            for step in 0..rows.len() {
                let from_encoder: Vec<usize> = reached(&flow, step, t)
                    .into_iter()
                    .filter(|&i| i < s)
                    .collect();
                if step < first_cross {
                    assert!(from_encoder.is_empty(), "{mix}: before any cross-attention");
                } else {
                    assert_eq!(from_encoder, real, "{mix}: decoder {t} at step {step}");
                }
            }
            // Its own decoder input and those before it, causally.
            let decoder: Vec<usize> = reached(&flow, rows.len() - 1, t)
                .into_iter()
                .filter(|&i| i >= s)
                .collect();
            assert!(decoder.iter().all(|&i| i - s <= t), "{mix}: causal decoder");
        }
        let first = flow.first_reached(0);
        assert!(real.iter().all(|&i| first[i] == Some(first_cross)));
    }
}

#[test]
fn padding_reaches_nothing() {
    for mix in ["mlm+nsp", "clm+sop", "plm+nsp", "span", "infill"] {
        let (_, batch) = batches(mix).remove(0);
        for example in 0..batch.batch_size {
            let flow = flow_of(mix, &batch, example);
            let pads: Vec<usize> = (0..flow.inputs.len())
                .filter(|&i| flow.inputs[i].padding)
                .collect();
            for row in &flow.rows {
                // A pad's own node holds it (the residual); no other node ever does.
                let offset = if row.stream == FlowStream::Decoder {
                    flow.encoder_inputs
                } else {
                    0
                };
                for q in 0..row.width {
                    for &p in &pads {
                        let own = q + offset == p && row.stream != FlowStream::Query;
                        assert!(
                            own || !row.reached_by(q)[p],
                            "{mix}: padding {p} reached {:?} {q} at layer {}",
                            row.stream,
                            row.layer
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_pair_batch_of_an_encoder_decoder_flows_through_the_encoder_alone() {
    let (kind, batch) = batches("span+sop").remove(1);
    assert!(kind.tokens.is_none());
    let flow = flow_of("span+sop", &batch, 0);
    assert_eq!(flow.output, FlowStream::Encoder);
    assert!(flow.rows.iter().all(|r| r.stream == FlowStream::Encoder));
}

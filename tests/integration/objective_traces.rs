//! For every objective, through the network its plan trains: the attention trace carries
//! exactly the masks the objective built (self / content, query, decoder self, cross), and no
//! weight lands on a blocked cell.

use burn::tensor::{Bool, Device, Tensor};
use pretrain_playground::core::config::{ModelSize, ObjectiveKnobs};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::block_on;
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::attention::AttentionKind;
use pretrain_playground::core::objective::clm::clm_eval_batches;
use pretrain_playground::core::objective::{Batch, coherence, infill, mlm, plm, span};
use pretrain_playground::core::plan::plan;
use pretrain_playground::core::train::network::Network;

fn bools(t: Tensor<3, Bool>) -> Vec<bool> {
    block_on(t.into_data_async())
        .expect("read")
        .try_into_vec::<bool>()
        .expect("bool")
}

fn floats(t: Tensor<4>) -> Vec<f32> {
    block_on(t.into_data_async())
        .expect("read")
        .try_into_vec::<f32>()
        .expect("f32")
}

fn batch_for(mix: &str, dataset: &Dataset) -> Batch {
    let specials = dataset.tokenizer.specials();
    let knobs = ObjectiveKnobs::default();
    let vocab = ModelSize::Fast.model().vocab_size;
    let (b, s) = (2, 32);
    let pairs = |task, tokens| {
        coherence::pair_eval_batches(
            task,
            &dataset.validation_segments,
            tokens,
            b,
            s,
            1,
            specials,
            vocab,
            7,
        )
        .expect("pairs")
        .remove(0)
    };
    match mix {
        "clm" => clm_eval_batches(&dataset.validation, b, s, 1, specials)
            .expect("clm")
            .remove(0),
        "mlm" => mlm::mlm_eval_batches(&dataset.validation, knobs.mlm, b, s, 1, specials, vocab, 7)
            .expect("mlm")
            .remove(0),
        "mlm+nsp" => pairs(
            coherence::PairTask::Nsp,
            coherence::PairTokens::Mlm(knobs.mlm),
        ),
        "clm+sop" => pairs(coherence::PairTask::Sop, coherence::PairTokens::Clm),
        "span" => span::span_eval_batches(&dataset.validation, knobs.span, b, s, 1, specials, 7)
            .expect("span")
            .remove(0),
        "infill" => {
            infill::infill_eval_batches(&dataset.validation, knobs.infill, b, s, 1, specials, 7)
                .expect("infill")
                .remove(0)
        }
        "plm" => plm::plm_eval_batches(&dataset.validation, knobs.plm, b, s, 1, specials, 7)
            .expect("plm")
            .remove(0),
        "plm+nsp" => plm::plm_pair_eval_batches(
            coherence::PairTask::Nsp,
            &dataset.validation_segments,
            knobs.plm,
            b,
            s,
            1,
            specials,
            7,
        )
        .expect("plm pairs")
        .remove(0),
        other => panic!("no batch for {other}"),
    }
}

#[test]
fn every_objectives_trace_carries_its_masks_and_blocks_them() {
    let size = ModelSize::Fast;
    let dataset = Dataset::support(1, size.model().vocab_size).expect("dataset");
    let device = Device::flex();
    let n_layers = size.model().n_layers;
    let encoder_layers = n_layers - (n_layers / 2).max(1);
    for mix in [
        "clm", "mlm", "mlm+nsp", "clm+sop", "span", "infill", "plm", "plm+nsp",
    ] {
        let (parsed, _) = ObjectiveMix::parse(mix).expect("mix");
        let network = Network::init(&plan(&parsed).expect("plan"), &size.model(), 1, &device);
        let batch = batch_for(mix, &dataset);
        let output = network.forward(&batch.to_tensors(&device), true);
        assert!(!output.attention.layers.is_empty(), "{mix}");
        let mut kinds = Vec::new();
        for layer in output.attention.layers {
            let expected: &[bool] = match (layer.kind, &batch.decoder, &batch.query) {
                (AttentionKind::Query, _, Some(q)) => &q.mask.blocked,
                (AttentionKind::Cross, Some(d), _) => &d.cross_mask.blocked,
                // The decoder stack's layers are numbered after the encoder's.
                (AttentionKind::SelfAttention, Some(d), _) if layer.layer >= encoder_layers => {
                    &d.self_mask.blocked
                }
                _ => &batch.mask.blocked,
            };
            let [_, h, q, k] = layer.weights.dims();
            let mask = bools(layer.mask);
            assert_eq!(
                mask, expected,
                "{mix}: {:?} layer {} carries another mask",
                layer.kind, layer.layer
            );
            let weights = floats(layer.weights);
            for (cell, w) in weights.iter().enumerate() {
                let (bh, rest) = (cell / (q * k), cell % (q * k));
                if mask[(bh / h) * q * k + rest] {
                    assert!(*w < 1e-6, "{mix}: weight {w} on a blocked cell");
                }
            }
            kinds.push(layer.kind);
        }
        if batch.decoder.is_some() {
            assert!(kinds.contains(&AttentionKind::Cross), "{mix}");
        }
        if batch.query.is_some() {
            assert!(
                kinds.contains(&AttentionKind::Query) && kinds.contains(&AttentionKind::Content),
                "{mix}"
            );
        }
    }
}

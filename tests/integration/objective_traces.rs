//! For every objective, through the network its plan trains: the attention trace carries
//! exactly the masks the objective built (self / content, query, decoder self, cross), and no
//! weight lands on a blocked cell.

use burn::tensor::{Bool, Device, Tensor};
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::block_on;
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::attention::AttentionKind;
use pretrain_playground::core::model::network::Network;
use pretrain_playground::core::objective::Batch;
use pretrain_playground::core::plan::plan;
use pretrain_playground::core::train::first_batches;

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

/// The first training batch of the mix's first kind, two sequences of the `fast` size.
fn batch_for(mix: &str, dataset: &Dataset) -> Batch {
    let (parsed, _) = ObjectiveMix::parse(mix).expect("mix");
    let mut config = RunConfig::new(ModelSize::Fast);
    config.batch_size = 2;
    config.seed = 7;
    first_batches(dataset, &config, &parsed)
        .expect("batches")
        .remove(0)
        .1
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
        let p = plan(&parsed).expect("plan");
        let network = Network::init(p.architecture, p.extras(), &size.model(), 1, &device);
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

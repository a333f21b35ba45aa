//! What the picture tests share: one support-desk dataset, ids written as numbers, and the
//! first training batches of a mix with an untrained network of its plan.

use std::sync::OnceLock;

use burn::tensor::Device;

use super::TokenText;
use super::trace::{ExportedTrace, capture_example};
use crate::core::config::{ModelSize, RunConfig};
use crate::core::data::Dataset;
use crate::core::exec::block_on;
use crate::core::mix::ObjectiveMix;
use crate::core::model::network::Network;
use crate::core::objective::Batch;
use crate::core::plan::{BatchKind, plan};
use crate::core::tokenizer::special_names;
use crate::core::train::first_batches;

/// Writes an id as its special's name or its number, so tests need no trained tokenizer.
pub(crate) struct Numbers;

impl TokenText for Numbers {
    fn texts(&self, ids: &[u32]) -> Vec<String> {
        let names = special_names();
        ids.iter()
            .map(|&id| {
                names
                    .get(id as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("#{id}"))
            })
            .collect()
    }
}

/// The support-desk corpus at the `fast` size, built once for every test.
pub(crate) fn dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET.get_or_init(|| {
        Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("the support corpus")
    })
}

/// A `fast` run of four sequences, seed 7.
pub(crate) fn config() -> RunConfig {
    let mut config = RunConfig::new(ModelSize::Fast);
    config.batch_size = 4;
    config.seed = 7;
    config
}

/// Every batch kind of `mix`'s plan: its first training batch.
pub(crate) fn batches(mix: &str) -> Vec<(BatchKind, Batch)> {
    let (parsed, _) = ObjectiveMix::parse(mix).expect(mix);
    first_batches(dataset(), &config(), &parsed).expect("batches")
}

/// An untrained network of `mix`'s plan, seed 1.
pub(crate) fn network(mix: &str) -> Network {
    let (parsed, _) = ObjectiveMix::parse(mix).expect(mix);
    let p = plan(&parsed).expect("plan");
    let size = ModelSize::Fast;
    Network::init(
        p.architecture,
        p.extras(),
        &size.model(),
        1,
        &Device::flex(),
    )
}

/// Example `example` of `batch` through `network`, exported with its weights.
pub(crate) fn capture(network: &Network, batch: &Batch, example: usize) -> ExportedTrace {
    block_on(capture_example(
        network, batch, example, &Numbers, true, "CPU",
    ))
    .expect("capture")
}

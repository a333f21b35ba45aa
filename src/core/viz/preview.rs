//! Two objectives side by side without training either (the lecture's "what changes"): for a
//! mix, a fresh batcher draws a batch of each kind its plan trains, exactly as a run of it would
//! (same seed, same knobs), and an untrained network of its plan, seeded the same, runs one
//! example with capture on. The strip, the matrices and the flow are then read from that
//! batch and that trace, as they are during training, so the pictures of an untrained run and a
//! trained one differ only in the weights.

use serde::{Deserialize, Serialize};

use super::reach::Flow;
use super::strip::{Strip, strip};
use super::trace::{ExportedTrace, MatrixView, capture_example, matrix_views};
use crate::core::backend::Backend;
use crate::core::config::RunConfig;
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::mix::ObjectiveMix;
use crate::core::model::Architecture;
use crate::core::model::network::Network;
use crate::core::plan::{BatchKind, plan};
use crate::core::train::training_sources;

/// One batch kind's pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub kind: BatchKind,
    pub strip: Strip,
    /// One matrix per stream, drawn from the exported trace.
    pub matrices: Vec<MatrixView>,
    pub flow: Flow,
    /// The exported trace (masks only) the matrices and the flow were read from, so the page
    /// can offer it for download and its tests can check the drawn cells against it.
    pub trace: ExportedTrace,
}

/// A mix's pictures before training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// The mix, written canonically (`mlm+nsp`).
    pub mix: String,
    pub architecture: Architecture,
    /// How the plan trains it, in one line.
    pub how: String,
    /// One panel per batch kind the plan draws (two for alternating mixes).
    pub panels: Vec<Panel>,
}

/// The pictures of example `example` of `mix`'s training stream: batch `example / batch_size`,
/// row `example % batch_size` (so "a new random example" is `example + 1`). `config` gives the
/// size, seed and knobs; the batch size is the mix's own recipe's, as its run would use.
pub async fn preview(
    dataset: &Dataset,
    config: &RunConfig,
    mix: &ObjectiveMix,
    example: usize,
    backend: &Backend,
) -> Result<Preview, CoreError> {
    let plan = plan(mix)?;
    let mut config = config.clone();
    config.apply_recipe(plan.recipe(config.size));
    let network = Network::init(
        plan.architecture,
        plan.extras(),
        &config.size.model(),
        config.seed,
        &backend.device,
    );
    let rows = config.batch_size.max(1);
    let mut panels = Vec::new();
    for (kind, mut source) in training_sources(dataset, &config, mix)? {
        let mut batch = source.next_batch()?;
        for _ in 0..example / rows {
            batch = source.next_batch()?;
        }
        let row = example % batch.batch_size.max(1);
        let strip = strip(&batch, kind, row, &dataset.tokenizer)?;
        let trace = capture_example(
            &network,
            &batch,
            row,
            &dataset.tokenizer,
            false,
            &backend.label,
        )
        .await?;
        panels.push(Panel {
            kind,
            strip,
            matrices: matrix_views(&trace),
            flow: Flow::from_trace(&trace)?,
            trace,
        });
    }
    Ok(Preview {
        mix: mix.canonical(),
        architecture: plan.architecture,
        how: plan.how,
        panels,
    })
}

/// The lecture's "what changes" pairs for the side-by-side view, as mixes.
pub const COMPARISONS: [(&str, &str, &str); 4] = [
    ("MLM vs CLM", "mlm", "clm"),
    ("NSP vs SOP", "nsp", "sop"),
    ("T5 vs BART", "span", "infill"),
    ("CLM vs PLM", "clm", "plm"),
];

/// [`preview`] of two mixes, for the side-by-side view (MLM vs CLM, NSP vs SOP, T5 vs BART,
/// CLM vs PLM).
pub async fn side_by_side(
    dataset: &Dataset,
    config: &RunConfig,
    left: &ObjectiveMix,
    right: &ObjectiveMix,
    example: usize,
    backend: &Backend,
) -> Result<[Preview; 2], CoreError> {
    Ok([
        preview(dataset, config, left, example, backend).await?,
        preview(dataset, config, right, example, backend).await?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::exec::block_on;
    use crate::core::viz::test_support::{config, dataset};
    use crate::core::viz::trace::{CellState, check_cells, example_batch};

    fn mix(text: &str) -> ObjectiveMix {
        ObjectiveMix::parse(text).expect(text).0
    }

    #[test]
    fn side_by_side_pairs_draw_each_mixs_own_batch_and_masks() {
        let backend = Backend::cpu();
        for (left, right) in [
            ("mlm", "clm"),
            ("nsp", "sop"),
            ("span", "infill"),
            ("clm", "plm"),
        ] {
            let pair = block_on(side_by_side(
                dataset(),
                &config(),
                &mix(left),
                &mix(right),
                5,
                &backend,
            ))
            .expect("previews");
            for (preview, name) in pair.iter().zip([left, right]) {
                assert_eq!(preview.mix, name);
                let p = plan(&mix(name)).expect("plan");
                assert_eq!(preview.panels.len(), p.batches.len());
                // The batch a run of this mix draws: the matrices are its masks, the strip its
                // example.
                let mut run = config();
                run.apply_recipe(p.recipe(run.size));
                let rows = run.batch_size;
                for (panel, (kind, mut source)) in preview
                    .panels
                    .iter()
                    .zip(training_sources(dataset(), &run, &mix(name)).expect("sources"))
                {
                    assert_eq!(panel.kind, kind);
                    let mut batch = source.next_batch().expect("batch");
                    for _ in 0..5 / rows {
                        batch = source.next_batch().expect("batch");
                    }
                    let one = example_batch(&batch, 5 % rows).expect("example");
                    assert_eq!(panel.strip.supervised, one.supervised_tokens, "{name}");
                    let first = &panel.matrices[0];
                    let cells: Vec<bool> = first
                        .cells
                        .iter()
                        .map(|&c| c == CellState::Blocked)
                        .collect();
                    assert_eq!(
                        cells, one.mask.blocked,
                        "{name}: the matrix is the batch's mask"
                    );
                    assert!(!panel.flow.rows.is_empty());
                    // Every matrix is its stream's first layer of the trace the panel carries.
                    assert_eq!(panel.matrices.len(), panel.trace.streams().len());
                    for view in &panel.matrices {
                        let layer = panel.trace.stream(view.stream)[0];
                        check_cells(view, layer).expect("drawn from the carried trace");
                        assert!(layer.weights.is_none(), "a preview ships masks only");
                    }
                }
            }
        }
    }

    #[test]
    fn a_preview_is_fixed_by_its_seed_and_the_next_example_differs() {
        let backend = Backend::cpu();
        let one = block_on(preview(dataset(), &config(), &mix("bart"), 0, &backend)).expect("a");
        let again = block_on(preview(dataset(), &config(), &mix("bart"), 0, &backend)).expect("b");
        assert_eq!(one, again);
        let next = block_on(preview(dataset(), &config(), &mix("bart"), 1, &backend)).expect("c");
        assert_ne!(one.panels[0].strip, next.panels[0].strip);
        let json = serde_json::to_string(&one).expect("serde");
        let back: Preview = serde_json::from_str(&json).expect("back");
        assert_eq!(back, one, "what the worker sends, the page reads");
        assert_eq!(one.architecture, Architecture::EncoderDecoder);
    }
}

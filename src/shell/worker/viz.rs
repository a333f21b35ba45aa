//! The worker's side of the attention pictures: previews of a mix before training (strip,
//! mask matrices, flow; [`crate::core::viz::preview`]) and live captures of the training
//! model's heads on a fixed example, spaced by [`LiveCadence`] so they cost at most 5% of step
//! time. Everything is computed by the core; this file only finds the run's pieces, times the
//! capture and posts the plain data. Every read of the device is asynchronous (a synchronous
//! read deadlocks on WebGPU in the page), and every failure is a message, never a panic.

use crate::core::error::CoreError;
use crate::core::exec::Clock;
use crate::core::mix::ObjectiveMix;
use crate::core::model::network::Network;
use crate::core::objective::Batch;
use crate::core::plan::plan;
use crate::core::tokenizer::LabTokenizer;
use crate::core::train::{Trainer, first_batches};
pub(super) use crate::core::viz::live::LiveCadence;
use crate::core::viz::live::LiveTrace;
use crate::core::viz::preview::preview;
use crate::core::viz::trace::capture_example;
use crate::protocol::{PreviewSlot, WorkerOutput};

use super::{PerformanceClock, Phase, Shared, post, post_any, run_config, run_size};

/// Draws example `example` of `mix` for `slot` and posts it (or why it could not).
pub(super) async fn send_preview(state: Shared, slot: PreviewSlot, mix: String, example: usize) {
    let found = {
        let s = state.borrow();
        match (s.data.as_ref(), s.backend.as_ref(), s.settings.as_ref()) {
            (Some(data), Some((backend, info)), Some(settings)) => Some((
                data.dataset.clone(),
                backend.clone(),
                run_size(settings, backend.kind, info),
                settings.clone(),
            )),
            _ => None,
        }
    };
    let Some((dataset, backend, size, settings)) = found else {
        post_any(&WorkerOutput::PreviewFailed {
            slot,
            message: "The corpus is still being prepared; the pictures follow when it is ready."
                .into(),
        });
        return;
    };
    let result = async {
        let (mix, _) = ObjectiveMix::parse(&mix)?;
        let plan = plan(&mix)?;
        let config = run_config(&settings, size, &plan);
        preview(&dataset, &config, &mix, example, &backend).await
    }
    .await;
    match result {
        Ok(found) => post_any(&WorkerOutput::Preview {
            slot,
            example,
            preview: Box::new(found),
        }),
        Err(e) => post_any(&WorkerOutput::PreviewFailed {
            slot,
            message: e.to_string(),
        }),
    }
}

/// What a live capture reads: the model (without autodiff, so the capture builds no graph),
/// the fixed batch, the tokenizer and the device's label.
pub(super) struct LiveSource {
    network: Network,
    batch: Batch,
    tokenizer: LabTokenizer,
    label: String,
}

impl LiveSource {
    /// The run's fixed example: row 0 of the first training batch of its primary objective
    /// (the same every capture, so a change in the heatmap is the model's, not the text's).
    pub(super) fn of(trainer: &Trainer) -> Result<Self, CoreError> {
        let network = trainer
            .network()
            .ok_or_else(|| CoreError::Picture("the run has no model yet".into()))?
            .valid();
        let (mix, _) = trainer.mix();
        let batch = first_batches(trainer.dataset(), trainer.config(), mix)?
            .into_iter()
            .next()
            .map(|(_, batch)| batch)
            .ok_or_else(|| CoreError::Picture("the run draws no training batch".into()))?;
        Ok(Self {
            network,
            batch,
            tokenizer: trainer.tokenizer().clone(),
            label: trainer.backend_label().to_string(),
        })
    }

    /// The model as it is now (weights change every step; the batch does not).
    pub(super) fn refresh(&mut self, trainer: &Trainer) {
        if let Some(network) = trainer.network() {
            self.network = network.valid();
        }
    }

    /// Captures the heads after step `step`, timing the capture into `cadence`.
    pub(super) async fn capture(
        &self,
        step: usize,
        cadence: &mut LiveCadence,
    ) -> Result<LiveTrace, CoreError> {
        let started = PerformanceClock.now_s();
        let trace = capture_example(
            &self.network,
            &self.batch,
            0,
            &self.tokenizer,
            true,
            &self.label,
        )
        .await?;
        let spent = PerformanceClock.now_s() - started;
        cadence.record_capture(step, spent);
        LiveTrace::new(step, trace, self.tokenizer.specials(), spent * 1e3, cadence)
    }
}

/// The heatmaps of a run that is not training (ready, paused or finished), sent once when the
/// page starts watching, so students see the untrained heads before the first step.
pub(super) async fn capture_idle(state: Shared) {
    let (source, step, run, generation) = {
        let s = state.borrow();
        let Phase::Idle(trainer) = &s.phase else {
            return;
        };
        (LiveSource::of(trainer), trainer.step(), s.run, s.generation)
    };
    let result = match source {
        Ok(source) => source.capture(step, &mut LiveCadence::default()).await,
        Err(e) => Err(e),
    };
    if state.borrow().still(generation).is_none() {
        return;
    }
    post_heads(run, result);
}

/// Posts a capture, or says in the page why the heatmaps could not be drawn.
pub(super) fn post_heads(run: u64, result: Result<LiveTrace, CoreError>) {
    match result {
        Ok(live) => post(
            run,
            &WorkerOutput::Heads {
                live: Box::new(live),
            },
        ),
        Err(e) => post(
            run,
            &WorkerOutput::Error {
                message: format!("The live heatmaps could not be drawn: {e}"),
                fatal: false,
            },
        ),
    }
}

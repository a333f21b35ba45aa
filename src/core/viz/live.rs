//! Live attention heatmaps: how often the training worker may stop to capture the model's
//! attention on its fixed example, and what it sends the page when it does.
//!
//! A capture is one forward pass of one example with the head weights kept and read back, and
//! it is paid for out of training time. The budget is a share of step time (5%), so the
//! spacing is measured, not guessed: [`LiveCadence`] keeps a running mean of a step's and a
//! capture's cost and puts the next capture `⌈capture / (share × step)⌉` steps after the last,
//! which keeps captures at or under that share of the time spent stepping whatever the device
//! (a fast WebGPU step and a slow CPU one space their captures differently). The first capture
//! comes after the first step, so a student sees heads at once.

use serde::{Deserialize, Serialize};

use super::heads::{HeadSummary, summarise};
use super::trace::ExportedTrace;
use crate::core::error::CoreError;
use crate::core::tokenizer::SpecialIds;

/// The share of step time live captures may cost (the 5%).
pub const LIVE_BUDGET_SHARE: f64 = 0.05;

/// Weight of the newest measurement in the running means (a few steps of memory: a step's cost
/// settles after the first, which compiles shaders on WebGPU).
const SMOOTHING: f64 = 0.3;

/// When to capture next, from measured costs.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCadence {
    share: f64,
    step_s: Option<f64>,
    capture_s: Option<f64>,
    /// The step after which the next capture is due.
    next: usize,
}

impl LiveCadence {
    /// A cadence that keeps captures within `share` of step time (clamped to 0.1%–100%).
    pub fn new(share: f64) -> Self {
        Self {
            share: if share.is_finite() {
                share.clamp(0.001, 1.0)
            } else {
                LIVE_BUDGET_SHARE
            },
            step_s: None,
            capture_s: None,
            next: 1,
        }
    }

    /// Records one training step's wall time.
    pub fn record_step(&mut self, seconds: f64) {
        self.step_s = Some(mean(self.step_s, seconds));
    }

    /// Records the wall time of a capture taken after step `step`, and spaces the next one.
    pub fn record_capture(&mut self, step: usize, seconds: f64) {
        self.capture_s = Some(mean(self.capture_s, seconds));
        self.next = step + self.every();
    }

    /// Whether a capture is due after step `step`.
    pub fn due(&self, step: usize) -> bool {
        step >= self.next
    }

    /// Steps between captures at the current costs (1 until both are measured).
    pub fn every(&self) -> usize {
        match (self.step_s, self.capture_s) {
            (Some(step), Some(capture)) if step > 0.0 => {
                let steps = (capture / (self.share * step)).ceil();
                if steps.is_finite() {
                    steps.clamp(1.0, 1e6) as usize
                } else {
                    1
                }
            }
            _ => 1,
        }
    }

    /// The measured mean step and capture times, in milliseconds.
    pub fn costs_ms(&self) -> (Option<f64>, Option<f64>) {
        (
            self.step_s.map(|s| s * 1e3),
            self.capture_s.map(|s| s * 1e3),
        )
    }
}

impl Default for LiveCadence {
    fn default() -> Self {
        Self::new(LIVE_BUDGET_SHARE)
    }
}

fn mean(old: Option<f64>, new: f64) -> f64 {
    let new = if new.is_finite() { new.max(0.0) } else { 0.0 };
    match old {
        Some(old) => old + SMOOTHING * (new - old),
        None => new,
    }
}

/// One live capture as the page gets it: the fixed example's trace with head weights, each
/// head summarised, and what the capture cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveTrace {
    /// The training step after which it was taken.
    pub step: usize,
    pub trace: ExportedTrace,
    pub heads: Vec<HeadSummary>,
    /// This capture's wall time and the mean step time, in milliseconds.
    pub capture_ms: f64,
    pub step_ms: Option<f64>,
    /// Steps until the next capture.
    pub every: usize,
}

impl LiveTrace {
    /// Summarises `trace` (which must carry head weights) into the message for the page. The
    /// heatmaps draw masks and weights only, so the layers' token labels (the summaries have
    /// read them) are dropped: a `default` capture's eight layers of 128 labels each cost the
    /// page tens of milliseconds to deserialise, every capture.
    pub fn new(
        step: usize,
        mut trace: ExportedTrace,
        specials: SpecialIds,
        capture_ms: f64,
        cadence: &LiveCadence,
    ) -> Result<Self, CoreError> {
        let heads = summarise(&trace, specials)?;
        for layer in &mut trace.layers {
            layer.mask.row_tokens = Vec::new();
            layer.mask.col_tokens = Vec::new();
        }
        Ok(Self {
            step,
            trace,
            heads,
            capture_ms,
            step_ms: cadence.costs_ms().0,
            every: cadence.every(),
        })
    }

    /// Capture time as a share of the time spent stepping between two captures.
    pub fn cost_share(&self) -> Option<f64> {
        self.step_ms
            .filter(|&s| s > 0.0)
            .map(|s| self.capture_ms / (s * self.every.max(1) as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::network::Network;
    use crate::core::viz::test_support::{batches, capture, network};

    /// Simulates a run: `steps` steps of `step_s` each, capturing whenever due at `capture_s`;
    /// returns the capture count and their share of step time.
    fn simulate(step_s: f64, capture_s: f64, steps: usize) -> (usize, f64) {
        let mut cadence = LiveCadence::default();
        let (mut captures, mut spent) = (0, 0.0);
        for step in 1..=steps {
            cadence.record_step(step_s);
            if cadence.due(step) {
                cadence.record_capture(step, capture_s);
                captures += 1;
                spent += capture_s;
            }
        }
        (captures, spent / (step_s * steps as f64))
    }

    #[test]
    fn captures_cost_at_most_the_budget_share_of_step_time() {
        // A capture a third of a step: every 7 steps (⌈0.3 / 0.05⌉ = 6.7 → 7).
        let (captures, share) = simulate(0.1, 0.03, 700);
        assert!(share <= LIVE_BUDGET_SHARE + 0.03 / (0.1 * 700.0), "{share}");
        assert!(captures >= 90, "still often enough to watch: {captures}");
        // A capture dearer than a step (WebGPU reading weights back): every 21+ steps.
        let (_, share) = simulate(0.02, 0.02 * 1.05, 2000);
        assert!(share <= 0.051, "{share}");
        // A cheap capture: after every step (never more often).
        let (captures, _) = simulate(1.0, 0.001, 50);
        assert_eq!(captures, 50);
    }

    #[test]
    fn the_first_capture_comes_after_the_first_step_and_spacing_follows_costs() {
        let mut c = LiveCadence::default();
        assert!(!c.due(0) && c.due(1));
        assert_eq!(c.every(), 1, "nothing measured yet");
        c.record_step(0.2);
        c.record_capture(1, 0.05);
        assert_eq!(c.every(), 5);
        assert!(!c.due(5) && c.due(6));
        // A step that gets dearer (a bigger batch) brings captures closer.
        for _ in 0..20 {
            c.record_step(1.0);
        }
        c.record_capture(6, 0.04);
        assert_eq!(
            c.every(),
            1,
            "a capture under 5% of a step: after every step"
        );
        // Nonsense times never panic or stall the cadence.
        let mut odd = LiveCadence::new(f64::NAN);
        odd.record_step(f64::INFINITY);
        odd.record_capture(1, f64::NAN);
        assert!(odd.every() >= 1);
    }

    #[test]
    fn a_live_trace_carries_every_heads_summary_and_its_cost_share() {
        let (_, batch) = batches("clm").remove(0);
        let network = network("clm");
        let trace = capture(&network, &batch, 0);
        let layers = trace.layers.len();
        let blocks = match &network {
            Network::Stack(m) => m.blocks.len(),
            Network::EncoderDecoder(_) => 0,
        };
        assert_eq!(layers, blocks, "one self-attention per block");
        let mut cadence = LiveCadence::default();
        cadence.record_step(0.1);
        cadence.record_capture(1, 0.01);
        let summaries = summarise(&trace, SpecialIds::fixed()).expect("summaries");
        let live = LiveTrace::new(1, trace, SpecialIds::fixed(), 10.0, &cadence).expect("live");
        assert_eq!(live.every, 2);
        // The summaries read the labels; the message then leaves them out.
        assert_eq!(live.heads, summaries);
        assert!(
            live.trace
                .layers
                .iter()
                .all(|l| l.mask.row_tokens.is_empty()
                    && l.mask.col_tokens.is_empty()
                    && l.weights.is_some())
        );
        assert_eq!(live.heads.len(), layers * 4, "fast: 4 heads a layer");
        let share = live.cost_share().expect("share");
        assert!((share - 0.05).abs() < 1e-9, "{share}");
        // A trace without weights cannot be summarised: an error, not a panic.
        let masks = live.trace.clone().masks_only();
        assert!(LiveTrace::new(2, masks, SpecialIds::fixed(), 1.0, &cadence).is_err());
    }
}

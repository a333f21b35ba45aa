//! The comparison panel's data: every finished run a page has seen — trained in this visit,
//! restored from the browser's storage, imported from a results file or from a run trained
//! natively — as plain rows, points and pictures the shell only draws.
//!
//! - [`file`]: the results file a page exports and imports (and a bare `run.json` of the CLI);
//! - [`pool`]: which runs may be pooled, and the flags on those that may not (another corpus,
//!   budget, size, recipe, knobs, schema or app version; a duplicate; a failed run);
//! - [`table`]: the table (mean ± sd per mix, best per column, sorting) and its CSV;
//! - [`scatter`]: generation quality against pair accuracy, one point per mix with error bars
//!   over seeds, the baselines and the frontier, laid out and written as SVG;
//! - [`curves`]: learning curves of chosen runs against tokens, FLOPs or wall time;
//! - [`sweep`]: a class sweep (`?mixes=…&seeds=3`) handing each student one cell;
//! - [`race`]: several mixes run one after another, with overall progress and ETA.
//!
//! The idea of laying objectives side by side on one budget, with baselines that need no
//! pre-training as reference rows, is the evaluation design of T5 (Raffel et al. 2020,
//! Tables 4–5) and ELECTRA (Clark et al. 2020, Figure 3's efficiency frontier).

pub mod curves;
pub mod file;
pub mod pool;
pub mod race;
pub mod scatter;
pub mod stat;
pub mod sweep;
pub mod table;
pub mod tour;

use serde::{Deserialize, Serialize};

use super::mix::{ObjectiveMix, PRESETS};
use super::summary::{RunStatus, RunSummary};

/// One row of the panel: a run's summary (evaluation included once it is evaluated), or a run
/// that failed, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelRun {
    /// Where the row came from, in words: `trained here`, a file's name, `run.json (native)`.
    pub source: String,
    /// The mix the row is about (canonical, or the preset's name).
    pub mix: String,
    pub seed: u64,
    /// The run's record; `None` for a run that failed before it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Box<RunSummary>>,
    /// Why the run has no figures (it failed, or the worker crashed under it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its model, where this browser keeps it (the page's "keep models"). Dropped from an
    /// exported file and from an imported one: another browser does not hold the weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<KeptModel>,
}

/// The browser cache the page keeps models in (the service worker, `www/sw.js`, spares it).
pub const MODELS_CACHE: &str = "pretrain-playground-models";

/// Where a run's model is kept in the browser: the key its four saved-run files are stored
/// under, and their size once they are stored (`None` while the worker is still writing them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptModel {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl PanelRun {
    /// A run that finished (or stopped) with its record.
    pub fn finished(source: impl Into<String>, summary: RunSummary) -> Self {
        Self {
            source: source.into(),
            mix: summary
                .preset
                .clone()
                .unwrap_or_else(|| summary.mix.clone()),
            seed: summary.seed,
            summary: Some(Box::new(summary)),
            error: None,
            model: None,
        }
    }

    /// A run that failed, as a row with its reason.
    pub fn failed(
        source: impl Into<String>,
        mix: impl Into<String>,
        seed: u64,
        why: impl Into<String>,
    ) -> Self {
        Self {
            source: source.into(),
            mix: mix.into(),
            seed,
            summary: None,
            error: Some(why.into()),
            model: None,
        }
    }

    /// The mix as the table groups it: `preset (mix)` when a preset names it (a record of a
    /// preset's mix written without the preset groups with it, as does a failed run).
    pub fn label(&self) -> String {
        let text = self
            .summary
            .as_deref()
            .map_or(self.mix.as_str(), |s| s.mix.as_str());
        match ObjectiveMix::parse(text) {
            Ok((mix, _)) => {
                let canonical = mix.canonical();
                match PRESETS.iter().find(|(_, m)| *m == canonical) {
                    Some((preset, _)) => format!("{preset} ({canonical})"),
                    None => canonical,
                }
            }
            Err(_) => text.to_string(),
        }
    }

    /// The record of a run that used its budget (a diverged or cancelled run is shown, not
    /// pooled).
    pub fn finished_summary(&self) -> Option<&RunSummary> {
        self.summary
            .as_deref()
            .filter(|s| s.status == RunStatus::Finished)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::PanelRun;
    use crate::core::config::ModelSize;
    use crate::core::corpus::PairKind;
    use crate::core::summary::{BackendKind, RunStatus, RunSummary, SCHEMA_VERSION};

    /// A finished, evaluated summary of `mix` and `seed` with the given figures.
    pub fn summary(mix: &str, seed: u64, compliance: f64, probe_random: f64) -> RunSummary {
        let text = format!(
            r#"{{"schema_version":{SCHEMA_VERSION},"status":"finished","mix":"{mix}","seed":{seed},
            "corpus_seed":1,"size":"fast","params":168000,"backend":"cpu","backend_label":"CPU",
            "corpus":"the support-desk corpus (corpus seed 1)","corpus_fingerprint":"abc",
            "knobs":{{}},"app_version":"0.1.0",
            "sizes":{{"gen_examples":64,"probe_fit":200,"probe_test":200,"replies":32,"likelihood_pairs":50}},
            "budget_tokens":20000,"tokens_per_step":2048,"batch_size":16,"peak_lr":0.001,
            "schedule":"cosine","steps":10,"tokens":20000,"supervised_tokens":1000,"wall_s":12.5,
            "train_s":10.0,"initial_val_loss":6.0,"final_val_loss":4.0,"unigram_entropy":5.0,
            "curve":[{{"step":1,"tokens":2000,"train_loss":6.0}},{{"step":10,"tokens":20000,"train_loss":4.0,"val_loss":4.1,"val_loss_corrupted":4.1,"val_baseline":5.0}}],
            "supervised_tokens_per_step":100.0,"flops_per_step":1e9,"padding_share":0.0,
            "compliance_common":{compliance},"compliance_common_se":0.02,"compliance_common_cap":32,
            "distinct2":0.5,"gen_ppl":30.0,"gen_ppl_se":1.0,
            "probe_acc":{{"random":{probe_random},"hard":0.6,"swapped":0.55}},
            "probe_acc_se":{{"random":0.02,"hard":0.02,"swapped":0.02}},
            "probe_auc":{{"random":0.8,"hard":0.65,"swapped":0.6}},
            "random_init_acc":{{"random":0.6,"hard":0.52,"swapped":0.5}}}}"#
        );
        let s: RunSummary = serde_json::from_str(&text).expect("a test summary");
        assert_eq!(s.status, RunStatus::Finished);
        assert_eq!(s.size, ModelSize::Fast);
        assert_eq!(s.backend, BackendKind::Cpu);
        assert_eq!(
            s.evaluation.probe_acc.get(PairKind::Random),
            Some(probe_random)
        );
        s
    }

    pub fn run(mix: &str, seed: u64, compliance: f64, probe_random: f64) -> PanelRun {
        PanelRun::finished("trained here", summary(mix, seed, compliance, probe_random))
    }
}

#[cfg(test)]
mod tests {
    /// The service worker deletes every cache but its own at activation; it must spare the
    /// models students kept, by this exact name.
    #[test]
    fn the_service_worker_spares_the_models_cache() {
        let sw = include_str!("../../../www/sw.js");
        assert!(
            sw.contains(&format!("name !== '{}'", super::MODELS_CACHE)),
            "www/sw.js no longer spares {}",
            super::MODELS_CACHE
        );
    }
}

//! The comparison's rows: one per trained run (`row_kind: "run"`) and one per baseline
//! (`row_kind: "baseline"`), every row with the same fields — the run summary's evaluation
//! flattened beside the settings — so `compare.json` and `compare.csv` read as one table.

use serde::{Deserialize, Serialize};

use super::{Grid, PlanTask};
use crate::core::config::ModelSize;
use crate::core::corpus::PairKind;
use crate::core::eval::probe::ProbeScore;
use crate::core::eval::run::PerKind;
use crate::core::mix::ObjectiveMix;
use crate::core::summary::{BackendKind, RunStatus, RunSummary};

/// Whether a row is a trained run or a number that needs no pre-training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Run,
    Baseline,
}

/// A figure per negative kind of the pair sets; every kind is written (`null` where absent),
/// so each row has the same keys and the CSV the same columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Kinds {
    pub random: Option<f64>,
    pub hard: Option<f64>,
    pub swapped: Option<f64>,
}

impl Kinds {
    pub fn get(&self, kind: PairKind) -> Option<f64> {
        match kind {
            PairKind::Random => self.random,
            PairKind::Hard => self.hard,
            PairKind::Swapped => self.swapped,
        }
    }

    pub fn set(&mut self, kind: PairKind, value: f64) {
        match kind {
            PairKind::Random => self.random = Some(value),
            PairKind::Hard => self.hard = Some(value),
            PairKind::Swapped => self.swapped = Some(value),
        }
    }
}

impl From<&PerKind> for Kinds {
    fn from(p: &PerKind) -> Self {
        Self {
            random: p.random,
            hard: p.hard,
            swapped: p.swapped,
        }
    }
}

/// One row of `compare.json` / `compare.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    pub row_kind: RowKind,
    /// The mix as `--mixes` named it for a run; `random-init:<mix>`, `bow`, `bow-ordered`,
    /// `surface`, `unigram` or a reply baseline at its bound for a baseline.
    pub name: String,
    /// Canonical mix and preset (`mlm+nsp`, `bert`) of a run and of its untrained twin.
    pub mix: Option<String>,
    pub preset: Option<String>,
    pub seed: Option<u64>,
    /// `support-desk` or the `--corpus` file's name.
    pub corpus: String,
    pub corpus_seed: u64,
    pub size: ModelSize,
    pub params: Option<usize>,
    pub backend: Option<BackendKind>,
    pub budget_tokens: u64,
    /// Tokens the learning-rate schedule was planned for: the budget, except for a checkpoint
    /// of a budget curve (`--eval-at`), a decay branch of a longer run. Rows pool only when
    /// `budget_tokens` and `schedule_tokens` both match.
    pub schedule_tokens: u64,
    pub status: Option<RunStatus>,
    pub steps: Option<usize>,
    pub tokens: Option<u64>,
    pub wall_s: Option<f64>,
    pub train_s: Option<f64>,
    pub flops_per_step: Option<f64>,
    pub padding_share: Option<f64>,
    pub supervised_tokens_per_step: Option<f64>,
    /// Conditional perplexity of the held-out replies; `gen_pppl` (masked LM's
    /// pseudo-perplexity) is a different kind of number and has its own fields.
    pub gen_ppl: Option<f64>,
    pub gen_ppl_se: Option<f64>,
    pub gen_ppl_protocol: Option<String>,
    pub gen_pppl: Option<f64>,
    pub gen_pppl_se: Option<f64>,
    pub gen_pppl_protocol: Option<String>,
    /// Held-out replies and their tokens behind the generation figures.
    pub gen_examples: Option<usize>,
    pub gen_tokens: Option<usize>,
    pub gen_note: Option<String>,
    /// Greedy replies the compliance checker accepts, with distinct-2 and repetition.
    pub compliance: Option<f64>,
    pub compliance_se: Option<f64>,
    pub distinct2: Option<f64>,
    pub repetition: Option<f64>,
    /// Greedy replies accepted when every writer's replies are cut to the common bound,
    /// `compliance_common_cap` tokens: the compliance that compares across objectives (a
    /// reply baseline cut to that bound has it too).
    pub compliance_common: Option<f64>,
    pub compliance_common_se: Option<f64>,
    pub compliance_common_cap: Option<usize>,
    pub probe_pooling: Option<String>,
    /// Labelled pairs the probe was fitted on, per kind.
    pub probe_fit_pairs: Option<usize>,
    pub probe_acc: Kinds,
    pub probe_acc_se: Kinds,
    pub probe_auc: Kinds,
    pub probe_auc_se: Kinds,
    pub probe_n: Kinds,
    pub zeroshot_method: Option<String>,
    pub zeroshot_acc: Kinds,
    pub zeroshot_acc_se: Kinds,
    pub zeroshot_auc: Kinds,
    pub zeroshot_auc_se: Kinds,
    pub zeroshot_n: Kinds,
    /// Zero-shot by likelihood, `log p(B | A) − log p(B)` under the run's own protocol,
    /// thresholded on the probe's labelled pairs; the pairs left out (B with nothing to score).
    pub zeroshot_likelihood_method: Option<String>,
    pub zeroshot_likelihood_acc: Kinds,
    pub zeroshot_likelihood_acc_se: Kinds,
    pub zeroshot_likelihood_auc: Kinds,
    pub zeroshot_likelihood_auc_se: Kinds,
    pub zeroshot_likelihood_n: Kinds,
    pub zeroshot_likelihood_dropped: Kinds,
    /// Trained probe minus its untrained twin on the same pairs, with the paired standard
    /// error and the exact one-sided McNemar p-value (`probe_vs_twin` of the run).
    pub probe_vs_twin: Kinds,
    pub probe_vs_twin_se: Kinds,
    pub probe_vs_twin_p: Kinds,
    /// How a baseline's figures were made.
    pub method: Option<String>,
    /// Why the row has no figures: the run failed (its `train` error), has not finished, or
    /// the baseline could not be computed. Such rows never enter a mean.
    pub error: Option<String>,
}

impl CompareRow {
    /// A row with the comparison's settings and no figures.
    pub fn empty(row_kind: RowKind, name: impl Into<String>, grid: &Grid) -> Self {
        Self {
            row_kind,
            name: name.into(),
            mix: None,
            preset: None,
            seed: None,
            corpus: grid.corpus_name(),
            corpus_seed: grid.corpus_seed,
            size: grid.size,
            params: None,
            backend: None,
            budget_tokens: grid.budget_tokens,
            schedule_tokens: grid.budget_tokens,
            status: None,
            steps: None,
            tokens: None,
            wall_s: None,
            train_s: None,
            flops_per_step: None,
            padding_share: None,
            supervised_tokens_per_step: None,
            gen_ppl: None,
            gen_ppl_se: None,
            gen_ppl_protocol: None,
            gen_pppl: None,
            gen_pppl_se: None,
            gen_pppl_protocol: None,
            gen_examples: None,
            gen_tokens: None,
            gen_note: None,
            compliance: None,
            compliance_se: None,
            distinct2: None,
            repetition: None,
            compliance_common: None,
            compliance_common_se: None,
            compliance_common_cap: None,
            probe_pooling: None,
            probe_fit_pairs: None,
            probe_acc: Kinds::default(),
            probe_acc_se: Kinds::default(),
            probe_auc: Kinds::default(),
            probe_auc_se: Kinds::default(),
            probe_n: Kinds::default(),
            zeroshot_method: None,
            zeroshot_acc: Kinds::default(),
            zeroshot_acc_se: Kinds::default(),
            zeroshot_auc: Kinds::default(),
            zeroshot_auc_se: Kinds::default(),
            zeroshot_n: Kinds::default(),
            zeroshot_likelihood_method: None,
            zeroshot_likelihood_acc: Kinds::default(),
            zeroshot_likelihood_acc_se: Kinds::default(),
            zeroshot_likelihood_auc: Kinds::default(),
            zeroshot_likelihood_auc_se: Kinds::default(),
            zeroshot_likelihood_n: Kinds::default(),
            zeroshot_likelihood_dropped: Kinds::default(),
            probe_vs_twin: Kinds::default(),
            probe_vs_twin_se: Kinds::default(),
            probe_vs_twin_p: Kinds::default(),
            method: None,
            error: None,
        }
    }

    /// The row of a task whose run left no summary.
    pub fn missing(task: &PlanTask, grid: &Grid, error: String) -> Self {
        let mut row = Self::empty(RowKind::Run, &task.mix, grid);
        if let Ok((mix, preset)) = ObjectiveMix::parse(&task.mix) {
            row.mix = Some(mix.canonical());
            row.preset = preset.map(String::from);
        }
        row.seed = Some(task.seed);
        row.error = Some(error);
        row
    }

    /// A finished (or diverged) run.
    pub fn run(task: &PlanTask, s: &RunSummary, grid: &Grid) -> Self {
        let e = &s.evaluation;
        let mut row = Self::empty(RowKind::Run, &task.mix, grid);
        row.mix = Some(s.mix.clone());
        row.preset = s.preset.clone();
        row.seed = Some(s.seed);
        row.params = Some(s.params);
        row.backend = Some(s.backend);
        row.budget_tokens = s.budget_tokens;
        row.schedule_tokens = s.schedule_tokens.unwrap_or(s.budget_tokens);
        row.status = Some(s.status);
        row.steps = Some(s.steps);
        row.tokens = Some(s.tokens);
        row.wall_s = Some(s.wall_s);
        row.train_s = Some(s.train_s);
        row.flops_per_step = Some(s.flops_per_step);
        row.padding_share = Some(s.padding_share);
        row.supervised_tokens_per_step = Some(s.supervised_tokens_per_step);
        row.gen_ppl = e.gen_ppl;
        row.gen_ppl_se = e.gen_ppl_se;
        row.gen_ppl_protocol = e.gen_ppl_protocol.clone();
        row.gen_pppl = e.gen_pppl;
        row.gen_pppl_se = e.gen_pppl_se;
        row.gen_pppl_protocol = e.gen_pppl_protocol.clone();
        // Every protocol scores the same replies, so the first score's counts are all's.
        row.gen_examples = e.gen_scores.first().map(|g| g.examples);
        row.gen_tokens = e.gen_scores.first().map(|g| g.tokens);
        row.gen_note = e.gen_note.clone();
        row.compliance = e.compliance;
        row.compliance_se = e.compliance_se;
        row.distinct2 = e.distinct2;
        row.repetition = e.repetition;
        row.compliance_common = e.compliance_common;
        row.compliance_common_se = e.compliance_common_se;
        row.compliance_common_cap = e.compliance_common_cap;
        row.probe_pooling = e.probe_pooling.clone();
        row.probe_fit_pairs = e.probe_fit_pairs;
        row.probe_acc = (&e.probe_acc).into();
        row.probe_acc_se = (&e.probe_acc_se).into();
        row.probe_auc = (&e.probe_auc).into();
        row.probe_auc_se = (&e.probe_auc_se).into();
        row.probe_n = (&e.probe_n).into();
        row.zeroshot_method = e.zeroshot_method.clone();
        row.zeroshot_acc = (&e.zeroshot_acc).into();
        row.zeroshot_acc_se = (&e.zeroshot_acc_se).into();
        row.zeroshot_auc = (&e.zeroshot_auc).into();
        row.zeroshot_auc_se = (&e.zeroshot_auc_se).into();
        row.zeroshot_n = (&e.zeroshot_n).into();
        row.zeroshot_likelihood_method = e.zeroshot_likelihood_method.clone();
        row.zeroshot_likelihood_acc = (&e.zeroshot_likelihood_acc).into();
        row.zeroshot_likelihood_acc_se = (&e.zeroshot_likelihood_acc_se).into();
        row.zeroshot_likelihood_auc = (&e.zeroshot_likelihood_auc).into();
        row.zeroshot_likelihood_auc_se = (&e.zeroshot_likelihood_auc_se).into();
        row.zeroshot_likelihood_n = (&e.zeroshot_likelihood_n).into();
        row.zeroshot_likelihood_dropped = (&e.zeroshot_likelihood_dropped).into();
        for kind in PairKind::ALL {
            if let Some(d) = e.probe_vs_twin.get(kind) {
                row.probe_vs_twin.set(kind, d.difference);
                row.probe_vs_twin_se.set(kind, d.se);
                row.probe_vs_twin_p.set(kind, d.p_first_not_above());
            }
        }
        row.error = match s.status {
            RunStatus::Finished => None,
            RunStatus::Diverged => Some(format!(
                "diverged at step {}",
                s.diverged_at_step.map_or("?".into(), |n| n.to_string())
            )),
            RunStatus::Cancelled => Some("cancelled".into()),
        };
        row
    }

    /// The untrained twin of a task's run: the same probe on the network of the same
    /// architecture and seed before any step, as the run's evaluation recorded it.
    pub fn random_init(
        task: &PlanTask,
        s: Option<&RunSummary>,
        grid: &Grid,
        error: Option<String>,
    ) -> Self {
        let mut row = Self::missing(task, grid, String::new());
        row.row_kind = RowKind::Baseline;
        row.name = format!("random-init:{}", task.mix);
        row.method = Some(
            "the run's probe on the untrained network of the same architecture and seed".into(),
        );
        row.error = error;
        if let Some(s) = s {
            let e = &s.evaluation;
            row.params = Some(s.params);
            row.backend = Some(s.backend);
            row.probe_pooling = e.probe_pooling.clone();
            row.probe_fit_pairs = e.probe_fit_pairs;
            row.probe_acc = (&e.random_init_acc).into();
            row.probe_acc_se = (&e.random_init_acc_se).into();
            row.probe_auc = (&e.random_init_auc).into();
            row.probe_auc_se = (&e.random_init_auc_se).into();
            row.probe_n = (&e.random_init_n).into();
        }
        row
    }

    /// Puts one probe score of `kind` into the probe fields.
    pub fn insert_probe(&mut self, kind: PairKind, score: &ProbeScore) {
        self.probe_acc.set(kind, score.accuracy);
        self.probe_acc_se.set(kind, score.accuracy_se);
        self.probe_auc.set(kind, score.auc);
        self.probe_auc_se.set(kind, score.auc_se);
        self.probe_n.set(kind, score.n as f64);
    }

    /// The CSV cells of the row: (column, text) in column order.
    fn cells(&self) -> Vec<(String, String)> {
        fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
            v.as_ref().map_or(String::new(), |v| v.to_string())
        }
        fn float(v: Option<f64>) -> String {
            v.filter(|v| v.is_finite())
                .map_or(String::new(), |v| v.to_string())
        }
        let mut cells: Vec<(String, String)> = Vec::new();
        let mut put = |name: &str, value: String| cells.push((name.to_string(), value));
        put("row_kind", kind_name(self.row_kind).into());
        put("name", self.name.clone());
        put("mix", opt(&self.mix));
        put("preset", opt(&self.preset));
        put("seed", opt(&self.seed));
        put("corpus", self.corpus.clone());
        put("corpus_seed", self.corpus_seed.to_string());
        put("size", self.size.name().into());
        put("params", opt(&self.params));
        put("backend", self.backend.map_or("", backend_name).into());
        put("budget_tokens", self.budget_tokens.to_string());
        put("schedule_tokens", self.schedule_tokens.to_string());
        put("status", self.status.map_or("", status_name).into());
        put("steps", opt(&self.steps));
        put("tokens", opt(&self.tokens));
        put("wall_s", float(self.wall_s));
        put("train_s", float(self.train_s));
        put("flops_per_step", float(self.flops_per_step));
        put("padding_share", float(self.padding_share));
        put(
            "supervised_tokens_per_step",
            float(self.supervised_tokens_per_step),
        );
        put("gen_ppl", float(self.gen_ppl));
        put("gen_ppl_se", float(self.gen_ppl_se));
        put("gen_ppl_protocol", opt(&self.gen_ppl_protocol));
        put("gen_pppl", float(self.gen_pppl));
        put("gen_pppl_se", float(self.gen_pppl_se));
        put("gen_pppl_protocol", opt(&self.gen_pppl_protocol));
        put("gen_examples", opt(&self.gen_examples));
        put("gen_tokens", opt(&self.gen_tokens));
        put("gen_note", opt(&self.gen_note));
        put("compliance", float(self.compliance));
        put("compliance_se", float(self.compliance_se));
        put("distinct2", float(self.distinct2));
        put("repetition", float(self.repetition));
        put("compliance_common", float(self.compliance_common));
        put("compliance_common_se", float(self.compliance_common_se));
        put("compliance_common_cap", opt(&self.compliance_common_cap));
        put("probe_pooling", opt(&self.probe_pooling));
        put("probe_fit_pairs", opt(&self.probe_fit_pairs));
        let per_kind = [
            ("probe_acc", &self.probe_acc),
            ("probe_acc_se", &self.probe_acc_se),
            ("probe_auc", &self.probe_auc),
            ("probe_auc_se", &self.probe_auc_se),
            ("probe_n", &self.probe_n),
        ];
        for (name, kinds) in per_kind {
            for kind in PairKind::ALL {
                put(&format!("{name}_{}", kind.name()), float(kinds.get(kind)));
            }
        }
        put("zeroshot_method", opt(&self.zeroshot_method));
        let per_kind = [
            ("zeroshot_acc", &self.zeroshot_acc),
            ("zeroshot_acc_se", &self.zeroshot_acc_se),
            ("zeroshot_auc", &self.zeroshot_auc),
            ("zeroshot_auc_se", &self.zeroshot_auc_se),
            ("zeroshot_n", &self.zeroshot_n),
        ];
        for (name, kinds) in per_kind {
            for kind in PairKind::ALL {
                put(&format!("{name}_{}", kind.name()), float(kinds.get(kind)));
            }
        }
        put(
            "zeroshot_likelihood_method",
            opt(&self.zeroshot_likelihood_method),
        );
        let per_kind = [
            ("zeroshot_likelihood_acc", &self.zeroshot_likelihood_acc),
            (
                "zeroshot_likelihood_acc_se",
                &self.zeroshot_likelihood_acc_se,
            ),
            ("zeroshot_likelihood_auc", &self.zeroshot_likelihood_auc),
            (
                "zeroshot_likelihood_auc_se",
                &self.zeroshot_likelihood_auc_se,
            ),
            ("zeroshot_likelihood_n", &self.zeroshot_likelihood_n),
            (
                "zeroshot_likelihood_dropped",
                &self.zeroshot_likelihood_dropped,
            ),
            ("probe_vs_twin", &self.probe_vs_twin),
            ("probe_vs_twin_se", &self.probe_vs_twin_se),
            ("probe_vs_twin_p", &self.probe_vs_twin_p),
        ];
        for (name, kinds) in per_kind {
            for kind in PairKind::ALL {
                put(&format!("{name}_{}", kind.name()), float(kinds.get(kind)));
            }
        }
        put("method", opt(&self.method));
        put("error", opt(&self.error));
        cells
    }
}

fn kind_name(kind: RowKind) -> &'static str {
    match kind {
        RowKind::Run => "run",
        RowKind::Baseline => "baseline",
    }
}

fn backend_name(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Cpu => "cpu",
        BackendKind::Wgpu => "wgpu",
        BackendKind::Webgpu => "webgpu",
    }
}

fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Finished => "finished",
        RunStatus::Diverged => "diverged",
        RunStatus::Cancelled => "cancelled",
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `rows` as CSV with a header line; per-kind figures are columns `<field>_<kind>`, absent
/// values empty, floats written to round-trip exactly.
pub fn csv(rows: &[CompareRow]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells = row.cells();
        if i == 0 {
            let header: Vec<String> = cells.iter().map(|(name, _)| field(name)).collect();
            out.push_str(&header.join(","));
            out.push('\n');
        }
        let values: Vec<String> = cells.iter().map(|(_, value)| field(value)).collect();
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid::fast_gpt()
    }

    #[test]
    fn csv_has_one_column_per_field_and_quotes_text() {
        let grid = grid();
        let mut row = CompareRow::empty(RowKind::Baseline, "bow", &grid);
        row.probe_acc.set(PairKind::Hard, 0.625);
        row.method = Some("TF-IDF, \"symmetric\"".into());
        let text = csv(&[row.clone(), row]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let header: Vec<&str> = lines[0].split(',').collect();
        assert!(header.contains(&"probe_acc_hard") && header.contains(&"zeroshot_n_swapped"));
        assert!(lines[1].starts_with("baseline,bow,,,,support-desk,1,fast,"));
        assert!(lines[1].contains(",0.625,"));
        assert!(lines[1].contains(",\"TF-IDF, \"\"symmetric\"\"\","));
        let json =
            serde_json::to_value(CompareRow::empty(RowKind::Run, "gpt", &grid)).expect("json");
        assert_eq!(json["row_kind"], "run");
        assert!(
            json["probe_acc"]["swapped"].is_null(),
            "every kind is written"
        );
    }
}

//! `DIR/plan.json`: the comparison's grid written down before any run starts — the settings,
//! and each (mix, seed) as a numbered task with its run's file and `train` options — so the
//! direct command, each Slurm array task and `--merge` all read the one grid.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::corpus::read_corpus_file;
use crate::cli::runs::TrainJob;
use crate::core::config::ModelSize;
use crate::core::corpus::CorpusInput;
use crate::core::error::CoreError;
use crate::core::eval::run::EvalSizes;
use crate::core::mix::PRESETS;

/// `plan.json`'s format; bump when a field changes meaning.
pub const PLAN_VERSION: u32 = 1;

/// The comparison's settings: everything that decides what each run trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Mixes or presets as `--mixes` named them, in table order.
    pub mixes: Vec<String>,
    pub seeds: Vec<u64>,
    pub size: ModelSize,
    pub budget_tokens: u64,
    pub corpus_seed: u64,
    /// `--corpus FILE` as an absolute path; `null` for the support-desk corpus.
    pub corpus_file: Option<String>,
    /// SHA-256 of the file's decoded text, so a task or a merge notices an edited file.
    pub corpus_sha256: Option<String>,
    /// Checkpoints before `budget_tokens` (`--eval-at`), sorted: each run evaluates a decay
    /// branch off its warm-up–stable–decay trunk at each, written to
    /// `runs/NAME.at-B.json`. Empty for a comparison at one budget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eval_at: Vec<u64>,
    /// `--eval quick`: every run, and the baselines beside them, read the page's quick sets.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quick_eval: bool,
}

impl Grid {
    /// How rows name the corpus: `support-desk` or the file's name.
    pub fn corpus_name(&self) -> String {
        match &self.corpus_file {
            None => "support-desk".to_string(),
            Some(path) => Path::new(path)
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned()),
        }
    }

    /// The corpus the runs train on, checked against the fingerprint in the plan.
    pub fn corpus_input(&self) -> Result<CorpusInput, CoreError> {
        let Some(path) = &self.corpus_file else {
            return Ok(CorpusInput::Support);
        };
        let input = read_corpus_file(path)?;
        if let CorpusInput::Custom { text, .. } = &input
            && self.corpus_sha256.as_deref() != Some(sha256_hex(text).as_str())
        {
            return Err(CoreError::Config(format!(
                "{path} has changed since the comparison was planned; plan it again in a new \
                 --out directory"
            )));
        }
        Ok(input)
    }

    /// The evaluation's set sizes every run and baseline of the grid reads.
    pub fn eval_sizes(&self) -> EvalSizes {
        if self.quick_eval {
            EvalSizes::QUICK
        } else {
            EvalSizes::CLI
        }
    }

    /// A one-mix, one-seed grid at `fast` on the support-desk corpus, for tests.
    #[cfg(test)]
    pub(super) fn fast_gpt() -> Self {
        Self {
            mixes: vec!["gpt".into()],
            seeds: vec![0],
            size: ModelSize::Fast,
            budget_tokens: 3000,
            corpus_seed: 1,
            corpus_file: None,
            corpus_sha256: None,
            eval_at: Vec::new(),
            quick_eval: false,
        }
    }

    /// Every budget a row is made at: the checkpoints, then the budget itself.
    pub fn budgets(&self) -> Vec<u64> {
        let mut all = self.eval_at.clone();
        all.push(self.budget_tokens);
        all
    }

    /// One `train` job per mix and seed, mix-major: task id = mix index × seeds + seed index.
    pub(super) fn tasks(&self) -> Result<Vec<PlanTask>, CoreError> {
        let mut tasks = Vec::new();
        for mix in &self.mixes {
            for &seed in &self.seeds {
                let is_preset = PRESETS.iter().any(|(p, _)| p == mix);
                let mut args: Vec<String> = vec![
                    if is_preset { "--preset" } else { "--mix" }.into(),
                    mix.clone(),
                    "--size".into(),
                    self.size.name().into(),
                    "--budget-tokens".into(),
                    self.budget_tokens.to_string(),
                    "--seed".into(),
                    seed.to_string(),
                    "--corpus-seed".into(),
                    self.corpus_seed.to_string(),
                ];
                if let Some(file) = &self.corpus_file {
                    args.extend(["--corpus".into(), file.clone()]);
                }
                if self.quick_eval {
                    args.extend(["--eval".into(), "quick".into()]);
                }
                if !self.eval_at.is_empty() {
                    let list: Vec<String> = self.eval_at.iter().map(u64::to_string).collect();
                    args.extend([
                        "--eval-at".into(),
                        list.join(","),
                        "--schedule".into(),
                        "wsd".into(),
                    ]);
                }
                tasks.push(PlanTask {
                    id: tasks.len(),
                    mix: mix.clone(),
                    seed,
                    job: TrainJob {
                        name: format!("{}-{seed}", file_safe(mix)),
                        label: format!("{mix} seed {seed}"),
                        args,
                    },
                });
            }
        }
        let mut names: Vec<&str> = tasks.iter().map(|t| t.job.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(CoreError::Config(format!(
                "two mixes would share the run file runs/{}.json; name each mix once",
                w[0]
            )));
        }
        Ok(tasks)
    }
}

/// A mix name as a file name: letters, digits and `+ @ . -` kept, anything else `_`.
fn file_safe(mix: &str) -> String {
    mix.chars()
        .map(|c| {
            if c.is_alphanumeric() || "+@.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One cell of the grid: array task `id` trains `mix` with `seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTask {
    pub id: usize,
    pub mix: String,
    pub seed: u64,
    /// The run's file stem (`runs/NAME.json`, `logs/NAME.log`) and its `train` options.
    #[serde(flatten)]
    pub job: TrainJob,
}

/// `DIR/plan.json`: the grid and every task, written before any run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparePlan {
    pub plan_version: u32,
    #[serde(flatten)]
    pub grid: Grid,
    pub tasks: Vec<PlanTask>,
}

impl ComparePlan {
    pub fn new(grid: Grid) -> Result<Self, CoreError> {
        Ok(Self {
            plan_version: PLAN_VERSION,
            tasks: grid.tasks()?,
            grid,
        })
    }

    pub(super) fn path(dir: &Path) -> PathBuf {
        dir.join("plan.json")
    }

    /// Reads `DIR/plan.json`.
    pub fn read(dir: &Path) -> Result<Self, CoreError> {
        let path = Self::path(dir);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            CoreError::Config(format!(
                "cannot read {} ({e}): plan the comparison first (compare … --out DIR)",
                path.display()
            ))
        })?;
        let plan: Self = serde_json::from_str(&text)
            .map_err(|e| CoreError::Config(format!("{} cannot be read: {e}", path.display())))?;
        if plan.plan_version != PLAN_VERSION {
            return Err(CoreError::Config(format!(
                "{} is plan version {}; this program reads version {PLAN_VERSION}",
                path.display(),
                plan.plan_version
            )));
        }
        Ok(plan)
    }

    /// Writes the plan into `dir`, or keeps the one there if it has the same grid (a
    /// comparison started again resumes); a different grid is refused, since its finished
    /// runs would be mistaken for this one's.
    pub(super) fn write_or_resume(&self, dir: &Path) -> Result<(), CoreError> {
        if Self::path(dir).exists() {
            let old = Self::read(dir)?;
            if old.grid != self.grid {
                return Err(CoreError::Config(format!(
                    "{} holds a comparison with other settings; give another --out (or delete \
                     that directory)",
                    dir.display()
                )));
            }
            return Ok(());
        }
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| CoreError::Config(format!("could not serialise the plan: {e}")))?;
        write_file(&Self::path(dir), &(json + "\n"))
    }
}

pub(super) fn write_file(path: &Path, text: &str) -> Result<(), CoreError> {
    std::fs::write(path, text)
        .map_err(|e| CoreError::Config(format!("could not write {}: {e}", path.display())))
}

//! `pretrain-playground compare`: the evaluation's comparison of pre-training objectives. Every
//! mix is trained for every seed at one token budget — each (mix, seed) a `train` process of
//! this binary that evaluates its run ([`super::runs`], shared with `sweep`) — and the runs'
//! evaluations are laid side by side with the floors that need no pre-training: the untrained
//! twin of each run, a bag of words and the texts' surface on the pair sets, word frequencies
//! on the held-out replies ([`baselines`]). One row per run and per baseline goes to `DIR/compare.json` and
//! `DIR/compare.csv` ([`rows`]); the terminal gets mean ± sd over seeds per mix ([`table`]).
//!
//! The grid is written down first, as `DIR/plan.json`, so the same comparison can run here
//! (`--jobs` at a time) or on a cluster: `--plan slurm` writes a Slurm job array whose task
//! `i` calls `compare --task i` ([`slurm`]), and `--merge DIR` builds the same files from the
//! finished runs. A run that fails is a row with `error` set; the others go on.

mod args;
mod baselines;
mod plan;
mod rows;
mod slurm;
mod table;

use serde::{Deserialize, Serialize};

use super::runs::{RunDir, TrainJob, run_jobs};
use crate::core::error::CoreError;
use args::{CompareArgs, Mode, parse};
use plan::{ComparePlan, write_file};
use rows::{CompareRow, RowKind};

pub use plan::{Grid, PlanTask};

/// Exit code when the files were written but some row has an error (a run that failed or
/// has not finished, a baseline that could not be computed).
pub const EXIT_SOME_FAILED: i32 = 3;

/// Runs `compare`; returns the process exit code (0; [`EXIT_SOME_FAILED`] when a row has an
/// error; 1 when a file cannot be written; 2 for a bad request).
pub fn main(args: &[String]) -> i32 {
    let result = parse(args).and_then(|a| run(&a));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn run(args: &CompareArgs) -> Result<i32, CoreError> {
    match &args.mode {
        Mode::Direct { grid, jobs } => {
            let plan = ComparePlan::new(grid.clone())?;
            let dir = RunDir::create(&args.out)?;
            plan.write_or_resume(&dir.root)?;
            let jobs_of: Vec<TrainJob> = plan.tasks.iter().map(|t| t.job.clone()).collect();
            run_jobs(&dir, &jobs_of, *jobs, "compare")?;
            Ok(merge(&dir, &plan))
        }
        Mode::SlurmPlan { grid } => {
            let plan = ComparePlan::new(grid.clone())?;
            let dir = RunDir::create(&args.out)?;
            plan.write_or_resume(&dir.root)?;
            let root = std::path::absolute(&dir.root).map_err(|e| {
                CoreError::Config(format!("cannot resolve {}: {e}", dir.root.display()))
            })?;
            let exe = std::env::current_exe()
                .map_err(|e| CoreError::Config(format!("cannot find this program: {e}")))?;
            let script = root.join("compare.sbatch");
            write_file(&script, &slurm::sbatch(&plan, &exe, &root))?;
            let n = plan.tasks.len();
            println!(
                "wrote {} ({n} runs: {} mixes × {} seeds) and {}",
                ComparePlan::path(&root).display(),
                grid.mixes.len(),
                grid.seeds.len(),
                script.display()
            );
            println!(
                "submit:       sbatch {}",
                slurm::quote(&script.to_string_lossy())
            );
            println!(
                "when done:    {} compare --merge {}",
                slurm::quote(&exe.to_string_lossy()),
                slurm::quote(&root.to_string_lossy())
            );
            println!(
                "one task here: {} compare --task 0 --out {}",
                slurm::quote(&exe.to_string_lossy()),
                slurm::quote(&root.to_string_lossy())
            );
            Ok(0)
        }
        Mode::Task(id) => {
            let plan = ComparePlan::read(&args.out)?;
            let Some(task) = plan.tasks.iter().find(|t| t.id == *id) else {
                return Err(CoreError::Config(format!(
                    "the plan in {} has tasks 0 to {}, not {id}",
                    args.out.display(),
                    plan.tasks.len().saturating_sub(1)
                )));
            };
            plan.grid.corpus_input()?;
            let dir = RunDir::create(&args.out)?;
            run_jobs(&dir, std::slice::from_ref(&task.job), 1, "compare task")?;
            Ok(if dir.summary(&task.job.name).is_some() {
                0
            } else {
                EXIT_SOME_FAILED
            })
        }
        Mode::Merge => {
            let plan = ComparePlan::read(&args.out)?;
            plan.grid.corpus_input()?;
            let dir = RunDir::create(&args.out)?;
            Ok(merge(&dir, &plan))
        }
    }
}

/// `DIR/compare.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub rows: Vec<CompareRow>,
}

/// Builds every row from the runs in `dir`, prints the table, writes the JSON and CSV;
/// returns the exit code.
fn merge(dir: &RunDir, plan: &ComparePlan) -> i32 {
    let grid = &plan.grid;
    let mut runs = Vec::new();
    let mut twins = Vec::new();
    for task in &plan.tasks {
        let summary = dir.summary(&task.job.name);
        let error = || {
            dir.failure(&task.job.name)
                .unwrap_or_else(|| "not finished".to_string())
        };
        // The checkpoints along the run first (`--eval-at`), then the run at its budget.
        for &budget in &grid.eval_at {
            runs.push(match dir.checkpoint(&task.job.name, budget) {
                Some(s) => CompareRow::run(task, &s, grid),
                None => {
                    let mut row = CompareRow::missing(task, grid, error());
                    row.budget_tokens = budget;
                    row
                }
            });
        }
        let row = match &summary {
            Some(s) => CompareRow::run(task, s, grid),
            None => CompareRow::missing(task, grid, error()),
        };
        twins.push(CompareRow::random_init(
            task,
            summary.as_ref(),
            grid,
            row.error.clone(),
        ));
        runs.push(row);
    }
    // The reply baselines each run scored on its own tickets, cut to its writer's bound and to
    // the common bound: one row per (baseline, bound), from the first run that has it.
    let mut replies: Vec<CompareRow> = Vec::new();
    for task in &plan.tasks {
        let Some(s) = dir.summary(&task.job.name) else {
            continue;
        };
        for b in &s.evaluation.reply_baselines {
            let name = match b.cap {
                Some(cap) => format!("{} (first {cap} tokens)", b.writer),
                None => b.writer.clone(),
            };
            if replies.iter().any(|r| r.name == name) {
                continue;
            }
            let mut row = CompareRow::empty(RowKind::Baseline, &name, grid);
            row.method = Some(b.how.clone());
            row.compliance = Some(b.greedy.compliance);
            row.compliance_se = Some(b.greedy.compliance_se);
            row.distinct2 = b.greedy.distinct2;
            row.repetition = b.greedy.repetition;
            if b.cap.is_some() && b.cap == s.evaluation.compliance_common_cap {
                row.compliance_common = Some(b.greedy.compliance);
                row.compliance_common_se = Some(b.greedy.compliance_se);
                row.compliance_common_cap = b.cap;
            }
            replies.push(row);
        }
    }
    eprintln!("compare: computing the model-free baselines…");
    let mut rows = runs;
    rows.extend(twins);
    rows.extend(replies);
    rows.extend(baselines::model_free_rows(grid));
    print!("{}", table::table(grid, &rows));
    let report = CompareReport { rows };
    let written = serde_json::to_string_pretty(&report)
        .map_err(|e| CoreError::Config(format!("could not serialise the comparison: {e}")))
        .and_then(|json| write_file(&dir.root.join("compare.json"), &(json + "\n")))
        .and_then(|()| write_file(&dir.root.join("compare.csv"), &rows::csv(&report.rows)));
    if let Err(e) = written {
        eprintln!("error: {e}");
        return 1;
    }
    println!(
        "\nwrote {} and {}",
        dir.root.join("compare.json").display(),
        dir.root.join("compare.csv").display()
    );
    if report.rows.iter().any(|r| r.error.is_some()) {
        EXIT_SOME_FAILED
    } else {
        0
    }
}

//! Training runs as child processes, shared by `sweep` and `compare`: each run is a `train`
//! process of this same binary (so runs are isolated and `--jobs` of them go at a time), its
//! summary written to `DIR/runs/NAME.json` and its output to `DIR/logs/NAME.log`. A run whose
//! summary is already there is kept, so a grid that was stopped and started again resumes; a
//! run that fails leaves its reason as the last `error:` line of its log.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::summary::RunSummary;
use crate::core::train::shards::MAX_SHARDS;

/// One `train` process to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainJob {
    /// File stem of the run's summary and log; unique within a directory.
    pub name: String,
    /// How progress lines name the run.
    pub label: String,
    /// `train`'s options, without `--out` and `--quiet` (the runner adds them).
    pub args: Vec<String>,
}

/// A directory of runs: `runs/` holds the summaries, `logs/` what each process printed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    /// Opens `root`, creating it and its `runs/` and `logs/` folders.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, CoreError> {
        let dir = Self { root: root.into() };
        for sub in ["runs", "logs"] {
            let path = dir.root.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| {
                CoreError::Config(format!("could not create {}: {e}", path.display()))
            })?;
        }
        Ok(dir)
    }

    pub fn summary_path(&self, name: &str) -> PathBuf {
        self.root.join("runs").join(format!("{name}.json"))
    }

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}.log"))
    }

    /// The run's summary, if it finished and wrote one that reads back.
    pub fn summary(&self, name: &str) -> Option<RunSummary> {
        read_summary(&self.summary_path(name))
    }

    /// The summary of the run's checkpoint at `budget` tokens (`train --eval-at`).
    pub fn checkpoint(&self, name: &str, budget: u64) -> Option<RunSummary> {
        let path = self.summary_path(name);
        read_summary(Path::new(&crate::cli::checkpoint_path(
            &path.to_string_lossy(),
            budget,
        )))
    }

    /// Why the run failed: the last `error:` line its process printed.
    pub fn failure(&self, name: &str) -> Option<String> {
        let log = std::fs::read_to_string(self.log_path(name)).ok()?;
        log.lines()
            .rev()
            .find_map(|l| l.strip_prefix("error: "))
            .map(|e| e.trim().to_string())
    }
}

pub fn read_summary(path: &Path) -> Option<RunSummary> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn spawn(job: &TrainJob, dir: &RunDir, parallel: usize) -> Result<Child, CoreError> {
    // The machine's cores shared among the runs at a time, unless the job says otherwise.
    let threads = (super::bench::cores() / parallel.max(1)).clamp(1, MAX_SHARDS);
    let share = if job.args.iter().any(|a| a == "--threads") {
        Vec::new()
    } else {
        vec!["--threads".to_string(), threads.to_string()]
    };
    let exe = std::env::current_exe()
        .map_err(|e| CoreError::Config(format!("cannot find this program to run: {e}")))?;
    let log_path = dir.log_path(&job.name);
    let cannot_log =
        |e: std::io::Error| CoreError::Config(format!("cannot write {}: {e}", log_path.display()));
    let log = std::fs::File::create(&log_path).map_err(cannot_log)?;
    let err = log.try_clone().map_err(cannot_log)?;
    Command::new(exe)
        .arg("train")
        .args(&job.args)
        .args(&share)
        .arg("--out")
        .arg(dir.summary_path(&job.name))
        .arg("--quiet")
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| CoreError::Config(format!("cannot start a training run: {e}")))
}

/// Runs every job of `jobs` whose summary is missing, `parallel` at a time, printing a line
/// on stderr as each ends. A run that fails is reported and the others go on; only a process
/// that cannot be started or watched is an error.
pub fn run_jobs(
    dir: &RunDir,
    jobs: &[TrainJob],
    parallel: usize,
    what: &str,
) -> Result<(), CoreError> {
    let pending: Vec<&TrainJob> = jobs
        .iter()
        .filter(|j| dir.summary(&j.name).is_none())
        .collect();
    eprintln!(
        "{what}: {} runs ({} already done), {} at a time, into {}",
        jobs.len(),
        jobs.len() - pending.len(),
        parallel.max(1),
        dir.root.display()
    );
    let started = std::time::Instant::now();
    let mut running: Vec<(Child, &TrainJob)> = Vec::new();
    let mut queue = pending.into_iter();
    let mut done = 0;
    loop {
        while running.len() < parallel.max(1) {
            let Some(job) = queue.next() else { break };
            running.push((spawn(job, dir, parallel)?, job));
        }
        if running.is_empty() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut i = 0;
        while i < running.len() {
            match running[i].0.try_wait() {
                Ok(Some(status)) => {
                    let (_, job) = running.swap_remove(i);
                    done += 1;
                    let outcome = if status.success() {
                        "done".to_string()
                    } else {
                        format!(
                            "FAILED: {}",
                            dir.failure(&job.name).unwrap_or_else(|| format!(
                                "see {}",
                                dir.log_path(&job.name).display()
                            ))
                        )
                    };
                    eprintln!(
                        "  [{done}] {}: {outcome} ({:.0} s in)",
                        job.label,
                        started.elapsed().as_secs_f64()
                    );
                }
                Ok(None) => i += 1,
                Err(e) => {
                    return Err(CoreError::Config(format!("lost a training run: {e}")));
                }
            }
        }
    }
}

pub use crate::core::compare::stat::Stat;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_reads_its_last_error_line() {
        let root = std::env::temp_dir().join(format!("pp-runs-{}", std::process::id()));
        let dir = RunDir::create(&root).expect("dir");
        std::fs::write(
            dir.log_path("x"),
            "training…\nerror: first\nnoise\nerror: the corpus is too small \n",
        )
        .expect("log");
        assert_eq!(dir.failure("x").as_deref(), Some("the corpus is too small"));
        assert_eq!(dir.failure("missing"), None);
        assert!(dir.summary("x").is_none());
        let _ = std::fs::remove_dir_all(&root);
    }
}

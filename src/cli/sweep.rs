//! `pretrain-playground sweep`: many training runs, one table. Every combination of mixes,
//! peak rates, batch sizes and schedules is trained for every seed, each run a `train` process
//! of this same binary ([`super::runs`]: isolated, `--jobs` of them at a time, and a finished
//! run is kept, so a sweep that is stopped and started again resumes). Each setting's row gives the
//! validation loss on corrupted positions and word frequencies on the same positions as mean ±
//! sample sd over seeds, the margin between them, pair accuracy, steps, padding and FLOPs —
//! the rate sweep of BENCHMARKS.md and the README's lecture-budget table come from here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::config::{LECTURE_BUDGET_TOKENS, ModelSize, Schedule};
use crate::core::error::CoreError;
use crate::core::mix::ObjectiveMix;
use crate::core::summary::{RunStatus, RunSummary};

use super::runs::{RunDir, Stat, TrainJob, run_jobs};
use super::{number, value};

/// What `sweep` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepArgs {
    pub mixes: Vec<String>,
    pub seeds: Vec<u64>,
    pub lrs: Vec<Option<f64>>,
    pub batches: Vec<Option<usize>>,
    pub schedules: Vec<Option<Schedule>>,
    pub size: ModelSize,
    pub budget: u64,
    pub corpus_seed: u64,
    pub jobs: usize,
    pub out: String,
}

fn list<T>(
    flag: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, CoreError>,
) -> Result<Vec<T>, CoreError> {
    let items: Vec<T> = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse(s.trim()))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(CoreError::Config(format!(
            "{flag} needs at least one value"
        )));
    }
    Ok(items)
}

pub fn parse(args: &[String]) -> Result<SweepArgs, CoreError> {
    let mut parsed = SweepArgs {
        mixes: Vec::new(),
        seeds: vec![0],
        lrs: vec![None],
        batches: vec![None],
        schedules: vec![None],
        size: ModelSize::Default,
        budget: LECTURE_BUDGET_TOKENS,
        corpus_seed: 1,
        jobs: 1,
        out: "sweep".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--mixes" => {
                parsed.mixes = list(flag, value(flag, &mut it)?, |m| {
                    ObjectiveMix::parse(m)?;
                    Ok(m.to_string())
                })?
            }
            "--seeds" => parsed.seeds = list(flag, value(flag, &mut it)?, |s| number(flag, s))?,
            "--lr" => {
                parsed.lrs = list(flag, value(flag, &mut it)?, |s| number(flag, s).map(Some))?
            }
            "--batch" => {
                parsed.batches = list(flag, value(flag, &mut it)?, |s| number(flag, s).map(Some))?
            }
            "--schedule" => {
                parsed.schedules = list(flag, value(flag, &mut it)?, |s| s.parse().map(Some))?
            }
            "--size" => parsed.size = value(flag, &mut it)?.parse()?,
            "--budget-tokens" => parsed.budget = number(flag, value(flag, &mut it)?)?,
            "--corpus-seed" => parsed.corpus_seed = number(flag, value(flag, &mut it)?)?,
            "--jobs" => parsed.jobs = number::<usize>(flag, value(flag, &mut it)?)?.max(1),
            "--out" => parsed.out = value(flag, &mut it)?.clone(),
            other => {
                return Err(CoreError::Config(format!(
                    "unknown option `{other}` for sweep (see --help)"
                )));
            }
        }
    }
    if parsed.mixes.is_empty() {
        return Err(CoreError::Config(
            "sweep needs --mixes, e.g. --mixes gpt,roberta".into(),
        ));
    }
    Ok(parsed)
}

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    mix: String,
    seed: u64,
    lr: Option<f64>,
    batch: Option<usize>,
    schedule: Option<Schedule>,
}

impl Job {
    /// The setting (everything but the seed), as the table names it.
    fn setting(&self) -> String {
        let mut s = self.mix.clone();
        if let Some(lr) = self.lr {
            s.push_str(&format!(" lr={lr}"));
        }
        if let Some(b) = self.batch {
            s.push_str(&format!(" batch={b}"));
        }
        if let Some(sc) = self.schedule {
            s.push_str(&format!(" {}", sc.name()));
        }
        s
    }

    fn file_name(&self) -> String {
        self.setting()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '.' || c == '=' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            + &format!("_seed{}", self.seed)
    }

    /// The `train` process of this run (no evaluation: the sweep reads losses).
    fn train_job(&self, args: &SweepArgs) -> TrainJob {
        let mut train: Vec<String> = vec![
            "--mix".into(),
            self.mix.clone(),
            "--size".into(),
            args.size.name().into(),
            "--budget-tokens".into(),
            args.budget.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            "--corpus-seed".into(),
            args.corpus_seed.to_string(),
            "--no-eval".into(),
        ];
        if let Some(lr) = self.lr {
            train.extend(["--lr".into(), lr.to_string()]);
        }
        if let Some(b) = self.batch {
            train.extend(["--batch-size".into(), b.to_string()]);
        }
        if let Some(s) = self.schedule {
            train.extend(["--schedule".into(), s.name().into()]);
        }
        TrainJob {
            name: self.file_name(),
            label: format!("{} seed {}", self.setting(), self.seed),
            args: train,
        }
    }
}

/// A setting's row: the mean and sample sd over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub setting: String,
    pub mix: String,
    pub runs: usize,
    pub failed: usize,
    pub steps: f64,
    pub peak_lr: Option<f64>,
    pub batch_size: usize,
    pub schedule: Option<Schedule>,
    pub val_loss_corrupted: Stat,
    pub baseline: Stat,
    /// Baseline − loss per run: positive when the model beats word frequencies.
    pub margin: Stat,
    pub val_loss: Stat,
    pub pair_accuracy: Option<Stat>,
    pub padding_share: f64,
    pub flops_per_step: f64,
    pub wall_s: f64,
    /// Tokens at which the run's curve first goes below its baseline (mean over runs that
    /// do), with how many runs do.
    pub first_below_tokens: Option<f64>,
    pub below_runs: usize,
}

const NAN_STAT: Stat = Stat {
    mean: f64::NAN,
    sd: f64::NAN,
    n: 0,
};

/// Everything the sweep leaves in `DIR/sweep.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    pub command: String,
    pub size: ModelSize,
    pub budget_tokens: u64,
    pub corpus_seed: u64,
    pub rows: Vec<SweepRow>,
    pub runs: Vec<RunSummary>,
}

fn jobs_of(args: &SweepArgs) -> Vec<Job> {
    let mut jobs = Vec::new();
    for mix in &args.mixes {
        for &lr in &args.lrs {
            for &batch in &args.batches {
                for &schedule in &args.schedules {
                    for &seed in &args.seeds {
                        jobs.push(Job {
                            mix: mix.clone(),
                            seed,
                            lr,
                            batch,
                            schedule,
                        });
                    }
                }
            }
        }
    }
    jobs
}

pub fn run(args: &SweepArgs) -> Result<(), CoreError> {
    let dir = RunDir::create(&args.out)?;
    let jobs = jobs_of(args);
    let train_jobs: Vec<TrainJob> = jobs.iter().map(|j| j.train_job(args)).collect();
    run_jobs(&dir, &train_jobs, args.jobs, "sweep")?;
    let mut runs = Vec::new();
    let mut groups: BTreeMap<String, (Job, Vec<Option<RunSummary>>)> = BTreeMap::new();
    for job in &jobs {
        let summary = dir.summary(&job.file_name());
        if let Some(s) = &summary {
            runs.push(s.clone());
        }
        groups
            .entry(job.setting())
            .or_insert_with(|| (job.clone(), Vec::new()))
            .1
            .push(summary);
    }
    // Keep the order the settings were asked for.
    let mut rows: Vec<SweepRow> = Vec::new();
    let mut seen = Vec::new();
    for job in &jobs {
        let key = job.setting();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        if let Some((job, summaries)) = groups.get(&key) {
            rows.push(row(job, summaries));
        }
    }
    print!("{}", table(&rows));
    let report = SweepReport {
        command: format!(
            "pretrain-playground sweep {}",
            std::env::args().skip(2).collect::<Vec<_>>().join(" ")
        ),
        size: args.size,
        budget_tokens: args.budget,
        corpus_seed: args.corpus_seed,
        rows,
        runs,
    };
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| CoreError::Config(format!("could not serialise the sweep: {e}")))?;
    let path = dir.root.join("sweep.json");
    std::fs::write(&path, json + "\n")
        .map_err(|e| CoreError::Config(format!("could not write sweep.json: {e}")))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

fn row(job: &Job, summaries: &[Option<RunSummary>]) -> SweepRow {
    let ok: Vec<&RunSummary> = summaries
        .iter()
        .flatten()
        .filter(|s| s.status == RunStatus::Finished)
        .collect();
    let of = |f: &dyn Fn(&RunSummary) -> Option<f64>| -> Vec<f64> {
        ok.iter().filter_map(|s| f(s)).collect()
    };
    let loss = of(&|s| s.val_loss_corrupted.map(f64::from));
    let base = of(&|s| s.unigram_entropy_corrupted);
    let margin = of(&|s| Some(s.unigram_entropy_corrupted? - f64::from(s.val_loss_corrupted?)));
    let below: Vec<f64> = ok
        .iter()
        .filter_map(|s| {
            s.curve.iter().find_map(|p| {
                (p.val_loss_corrupted? < p.val_baseline? && p.step > 0).then_some(p.tokens as f64)
            })
        })
        .collect();
    let mean = |v: Vec<f64>| Stat::of(&v).map_or(f64::NAN, |s| s.mean);
    SweepRow {
        setting: job.setting(),
        mix: job.mix.clone(),
        runs: ok.len(),
        failed: summaries.len() - ok.len(),
        steps: mean(of(&|s| Some(s.steps as f64))),
        peak_lr: ok.first().and_then(|s| s.peak_lr),
        batch_size: ok.first().map_or(0, |s| s.batch_size),
        schedule: ok.first().and_then(|s| s.schedule),
        val_loss_corrupted: Stat::of(&loss).unwrap_or(NAN_STAT),
        baseline: Stat::of(&base).unwrap_or(NAN_STAT),
        margin: Stat::of(&margin).unwrap_or(NAN_STAT),
        val_loss: Stat::of(&of(&|s| Some(f64::from(s.final_val_loss)))).unwrap_or(NAN_STAT),
        pair_accuracy: Stat::of(&of(&|s| s.val_pair_accuracy.map(f64::from))),
        padding_share: mean(of(&|s| Some(s.padding_share))),
        flops_per_step: mean(of(&|s| Some(s.flops_per_step))),
        wall_s: mean(of(&|s| Some(s.wall_s))),
        below_runs: below.len(),
        first_below_tokens: Stat::of(&below).map(|s| s.mean),
    }
}

/// The sweep as a Markdown table.
pub fn table(rows: &[SweepRow]) -> String {
    let mut out = String::from(
        "| setting | runs | steps | peak lr | batch | schedule | corrupted-position loss | \
         word frequencies, same positions | margin | pair accuracy | padding | GFLOP/step | \
         first below baseline |\n| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | \
         ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let accuracy = r
            .pair_accuracy
            .map(|a| a.scaled(100.0).text(1) + "%")
            .unwrap_or_default();
        let below = match r.first_below_tokens {
            Some(t) if r.below_runs == r.runs => format!("{:.0}k", t / 1000.0),
            Some(t) => format!("{:.0}k ({} of {})", t / 1000.0, r.below_runs, r.runs),
            None if r.runs > 0 && r.margin.n > 0 => "not within budget".into(),
            None => String::new(),
        };
        out.push_str(&format!(
            "| {} | {}{} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {:.1}% | {:.3} | {} |\n",
            r.setting,
            r.runs,
            if r.failed > 0 {
                format!(" ({} failed)", r.failed)
            } else {
                String::new()
            },
            r.steps,
            r.peak_lr.map_or(String::new(), |l| format!("{l:e}")),
            r.batch_size,
            r.schedule.map_or("", |s| s.name()),
            r.val_loss_corrupted.text(3),
            r.baseline.text(3),
            r.margin.text(3),
            accuracy,
            r.padding_share * 100.0,
            r.flops_per_step / 1e9,
            below
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_lists_and_expands_every_combination() {
        let a = parse(&args(
            "--mixes gpt,roberta --seeds 1,2 --lr 1e-3,3e-3 --batch 4,8 --schedule cosine,wsd --size fast --jobs 2",
        ))
        .expect("parse");
        assert_eq!(jobs_of(&a).len(), 2 * 2 * 2 * 2 * 2);
        assert_eq!(a.size, ModelSize::Fast);
        for bad in [
            "--seeds 1",
            "--mixes nope",
            "--mixes gpt --lr x",
            "--mixes gpt --schedule linear",
            "--mixes gpt --what",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}

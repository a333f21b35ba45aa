//! What `compare` was asked to do: a new grid (run here, or planned for Slurm), one task of
//! a planned grid, or a merge of its finished runs.

use std::path::PathBuf;

use super::plan::{Grid, sha256_hex};
use crate::cli::corpus::read_corpus_file;
use crate::cli::{eval_sizes_named, number, parse_token_list, value};
use crate::core::config::{LECTURE_BUDGET_TOKENS, MAX_BUDGET_TOKENS, ModelSize};
use crate::core::corpus::CorpusInput;
use crate::core::error::CoreError;
use crate::core::eval::run::EvalSizes;
use crate::core::mix::{ObjectiveMix, PRESETS};
use crate::core::train::parse_token_count;

/// What `compare` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Train the grid here, `jobs` runs at a time, then merge.
    Direct { grid: Grid, jobs: usize },
    /// Write the plan and a Slurm job array that runs it.
    SlurmPlan { grid: Grid },
    /// Run one task of the plan in `--out` (what each array task calls).
    Task(usize),
    /// Build the table and files from the finished runs of the plan in DIR.
    Merge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompareArgs {
    pub mode: Mode,
    pub out: PathBuf,
}

/// `--seeds K` is seeds 0..K; a list (`3,4,5`, or `7,` for seed 7 alone) names them (read
/// as a class sweep's link reads `seeds=`).
fn parse_seeds(text: &str) -> Result<Vec<u64>, CoreError> {
    crate::core::compare::sweep::parse_seeds(text)
        .map_err(|e| CoreError::Config(format!("--seeds {text}: {e}")))
}

pub fn parse(args: &[String]) -> Result<CompareArgs, CoreError> {
    let mut mixes: Vec<String> = PRESETS.iter().map(|(p, _)| p.to_string()).collect();
    let mut seeds: Vec<u64> = (0..5).collect();
    let mut size = ModelSize::Default;
    let mut budget = LECTURE_BUDGET_TOKENS;
    let mut corpus_seed = 1u64;
    let mut corpus: Option<String> = None;
    let mut jobs = 1usize;
    let mut slurm = false;
    let mut task: Option<usize> = None;
    let mut merge: Option<String> = None;
    let mut out: Option<String> = None;
    let mut eval_at: Vec<u64> = Vec::new();
    let mut budget_given = false;
    let mut quick_eval = false;
    // Settings that only a new plan takes; `--task` and `--merge` read them from plan.json.
    let mut grid_flags: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--mixes" => {
                mixes = value(flag, &mut it)?
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect();
            }
            "--seeds" => seeds = parse_seeds(value(flag, &mut it)?)?,
            "--size" => size = value(flag, &mut it)?.parse()?,
            "--budget-tokens" => {
                budget = parse_token_count(value(flag, &mut it)?)?;
                budget_given = true;
            }
            "--eval-at" => eval_at = parse_token_list(flag, value(flag, &mut it)?)?,
            "--eval" => {
                quick_eval = eval_sizes_named(value(flag, &mut it)?)? == EvalSizes::QUICK;
            }
            "--corpus-seed" => corpus_seed = number(flag, value(flag, &mut it)?)?,
            "--corpus" => corpus = Some(value(flag, &mut it)?.clone()),
            "--jobs" => jobs = number::<usize>(flag, value(flag, &mut it)?)?.max(1),
            "--plan" => match value(flag, &mut it)?.as_str() {
                "slurm" => slurm = true,
                other => {
                    return Err(CoreError::Config(format!(
                        "unknown --plan `{other}`; the one plan written is `slurm`"
                    )));
                }
            },
            "--task" => task = Some(number(flag, value(flag, &mut it)?)?),
            "--merge" => merge = Some(value(flag, &mut it)?.clone()),
            "--out" => out = Some(value(flag, &mut it)?.clone()),
            other => {
                return Err(CoreError::Config(format!(
                    "unknown option `{other}` for compare (see --help)"
                )));
            }
        }
        if !matches!(flag.as_str(), "--task" | "--merge" | "--out" | "--jobs") {
            grid_flags.push(flag);
        }
    }
    let settings_from_plan = |what: &str| -> Result<(), CoreError> {
        match grid_flags.first() {
            Some(flag) => Err(CoreError::Config(format!(
                "{what} takes its settings from DIR/plan.json; leave out {flag}"
            ))),
            None => Ok(()),
        }
    };
    match (task, merge) {
        (Some(_), Some(_)) => Err(CoreError::Config(
            "give --task ID --out DIR or --merge DIR, not both".into(),
        )),
        (Some(id), None) => {
            settings_from_plan("compare --task")?;
            let out = out.ok_or_else(|| {
                CoreError::Config("compare --task ID needs --out DIR, the planned directory".into())
            })?;
            Ok(CompareArgs {
                mode: Mode::Task(id),
                out: out.into(),
            })
        }
        (None, Some(dir)) => {
            settings_from_plan("compare --merge")?;
            if out.as_ref().is_some_and(|o| *o != dir) {
                return Err(CoreError::Config(
                    "compare --merge DIR writes into DIR; leave out --out".into(),
                ));
            }
            Ok(CompareArgs {
                mode: Mode::Merge,
                out: dir.into(),
            })
        }
        (None, None) => {
            if !budget_given && let Some(&last) = eval_at.iter().max() {
                budget = last;
            }
            let mut grid = new_grid(mixes, seeds, size, budget, corpus_seed, corpus)?;
            grid.eval_at = checkpoints(eval_at, budget)?;
            grid.quick_eval = quick_eval;
            grid.tasks()?;
            let mode = if slurm {
                Mode::SlurmPlan { grid }
            } else {
                Mode::Direct { grid, jobs }
            };
            Ok(CompareArgs {
                mode,
                out: out.unwrap_or_else(|| "compare".into()).into(),
            })
        }
    }
}

/// The checkpoints before the budget, sorted and each once; one past the budget is refused.
fn checkpoints(mut eval_at: Vec<u64>, budget: u64) -> Result<Vec<u64>, CoreError> {
    if let Some(&late) = eval_at.iter().find(|&&b| b > budget) {
        return Err(CoreError::Config(format!(
            "--eval-at {late} is past --budget-tokens {budget}: the run ends at its budget"
        )));
    }
    eval_at.retain(|&b| b < budget);
    eval_at.sort_unstable();
    eval_at.dedup();
    Ok(eval_at)
}

fn new_grid(
    mixes: Vec<String>,
    seeds: Vec<u64>,
    size: ModelSize,
    budget_tokens: u64,
    corpus_seed: u64,
    corpus: Option<String>,
) -> Result<Grid, CoreError> {
    if mixes.is_empty() {
        return Err(CoreError::Config(
            "--mixes needs at least one mix, e.g. --mixes gpt,roberta".into(),
        ));
    }
    // Syntax only: a mix that reads but cannot train is a failed row, as in `sweep`.
    for mix in &mixes {
        ObjectiveMix::parse(mix)?;
    }
    if budget_tokens == 0 || budget_tokens > MAX_BUDGET_TOKENS {
        return Err(CoreError::Config(format!(
            "the token budget {budget_tokens} must be between 1 and {MAX_BUDGET_TOKENS}"
        )));
    }
    let (corpus_file, corpus_sha256) = match corpus {
        None => (None, None),
        Some(path) => {
            let CorpusInput::Custom { text, .. } = read_corpus_file(&path)? else {
                return Err(CoreError::Config(format!("{path} is not a text file")));
            };
            let absolute = std::path::absolute(&path)
                .map_err(|e| CoreError::Config(format!("cannot resolve {path}: {e}")))?;
            (
                Some(absolute.to_string_lossy().into_owned()),
                Some(sha256_hex(&text)),
            )
        }
    };
    let grid = Grid {
        mixes,
        seeds,
        size,
        budget_tokens,
        corpus_seed,
        corpus_file,
        corpus_sha256,
        eval_at: Vec::new(),
        quick_eval: false,
    };
    grid.tasks()?;
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::compare::plan::ComparePlan;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn seeds_are_a_count_or_a_list() {
        assert_eq!(parse_seeds("3").expect("count"), [0, 1, 2]);
        assert_eq!(parse_seeds("3,4,5").expect("list"), [3, 4, 5]);
        assert_eq!(parse_seeds("7,").expect("one"), [7]);
        for bad in ["0", "x", "1,1", ","] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_the_modes_and_lays_out_the_grid() {
        let a = parse(&args(
            "--mixes gpt,mlm+sop@0.5 --seeds 2 --size fast --budget-tokens 3000 --jobs 2 --out d",
        ))
        .expect("direct");
        let Mode::Direct { grid, jobs } = &a.mode else {
            panic!("{a:?}")
        };
        assert_eq!(*jobs, 2);
        let plan = ComparePlan::new(grid.clone()).expect("plan");
        let names: Vec<(usize, &str)> = plan
            .tasks
            .iter()
            .map(|t| (t.id, t.job.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (0, "gpt-0"),
                (1, "gpt-1"),
                (2, "mlm+sop@0.5-0"),
                (3, "mlm+sop@0.5-1")
            ]
        );
        assert_eq!(&plan.tasks[0].job.args[..2], ["--preset", "gpt"]);
        assert_eq!(&plan.tasks[2].job.args[..2], ["--mix", "mlm+sop@0.5"]);
        let default = parse(&[]).expect("defaults");
        let Mode::Direct { grid, .. } = &default.mode else {
            panic!("{default:?}")
        };
        assert_eq!((grid.mixes.len(), grid.seeds.len()), (7, 5));
        assert!(matches!(
            parse(&args("--mixes gpt --plan slurm --out d"))
                .expect("slurm")
                .mode,
            Mode::SlurmPlan { .. }
        ));
        assert_eq!(
            parse(&args("--task 3 --out d")).expect("task").mode,
            Mode::Task(3)
        );
        assert_eq!(parse(&args("--merge d")).expect("merge").mode, Mode::Merge);
        // A budget curve: the budget defaults to the last checkpoint, each run is WSD.
        let curve = parse(&args(
            "--mixes gpt --seeds 1 --eval-at 1m,250k,500k,1m --out d",
        ))
        .expect("curve");
        let Mode::Direct { grid, .. } = &curve.mode else {
            panic!("{curve:?}")
        };
        assert_eq!(
            (grid.budget_tokens, grid.eval_at.as_slice()),
            (1_000_000, &[250_000, 500_000][..])
        );
        let job = &ComparePlan::new(grid.clone()).expect("plan").tasks[0].job;
        let tail: Vec<&str> = job
            .args
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(String::as_str)
            .collect();
        assert_eq!(tail, ["--eval-at", "250000,500000", "--schedule", "wsd"]);
        for bad in [
            "--mixes nope",
            "--mixes ,",
            "--mixes gpt,gpt",
            "--seeds 1,1",
            "--plan pbs",
            "--task 0",
            "--task 0 --out d --seeds 2",
            "--merge d --mixes gpt",
            "--merge d --task 1 --out d",
            "--budget-tokens 0",
            "--budget-tokens 500k --eval-at 1m",
            "--eval-at ,",
            "--eval-at 3q",
            "--frobnicate",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}

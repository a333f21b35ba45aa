//! The native command line: argument parsing with typed errors, a terminal progress bar with
//! ETA, and the run summary written as JSON; `corpus` exports the data world ([`corpus`]).
//! Native only.

mod bench;
mod bench_page;
mod compare;
mod corpus;
mod runs;
mod sweep;

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use crate::core::backend::Backend;
use crate::core::config::{LECTURE_BUDGET_TOKENS, ModelSize, RunConfig, Schedule};
use crate::core::corpus::{CorpusInput, PairKind};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::eval::run::{EvalSizes, PerKind, RunEvaluation, RunToEvaluate, evaluate_run};
use crate::core::exec::{NoYield, SystemClock, block_on};
use crate::core::mix::ObjectiveMix;
use crate::core::objective::scoring::ScoreKind;
use crate::core::objective::spec::{ObjectiveKnobs, all_knobs};
use crate::core::plan::plan;
use crate::core::summary::{BackendKind, RunSummary, TrainEvent};
use crate::core::train::shards::{DEFAULT_SHARDS, Executor, MAX_SHARDS};
use crate::core::train::{Trainer, parse_token_count};

const USAGE: &str = "\
pretrain-playground — pre-train a tiny transformer and record what happened

USAGE:
  pretrain-playground train [OPTIONS]
  pretrain-playground sweep --mixes M1,M2,… [--seeds S1,S2,…] [--lr L1,L2,…] [--batch B1,B2,…]
                            [--schedule cosine,wsd] [--size SIZE] [--budget-tokens N]
                            [--corpus-seed S] [--jobs J] [--out DIR]
  pretrain-playground compare [--mixes M1,M2,…] [--seeds K | --seeds S1,S2,…] [--size SIZE]
                              [--budget-tokens N] [--eval-at B1,B2,…] [--eval quick]
                              [--corpus FILE] [--corpus-seed S]
                              [--jobs J] [--plan slurm] [--out DIR]
  pretrain-playground compare --task ID --out DIR
  pretrain-playground compare --merge DIR
  pretrain-playground corpus [--corpus-seed S] [--corpus FILE] [--size SIZE] [--out DIR] [--audit]
  pretrain-playground bench [--quick] [--steps N] [--sizes default,fast] [--backend cpu,wgpu]
                            [--presets] [--scaling] [--torch PYTHON | --no-torch]
                            [--reference FILE] [--torch-device cpu|cuda] [--torch-threads N]
                            [--threads N] [--out FILE]
                            [--page [--dist DIR] [--no-webgpu] [--train-seconds S]]

OPTIONS (train):
  --mix MIX             objective mix, canonical form primary[+aux[@w]] (default: clm)
  --preset NAME         a preset instead of --mix: bert roberta albert gpt t5 bart xlnet
  --budget-tokens N     tokens of original text to train on (default: 500000, the lecture budget)
  --size SIZE           default (~1.06M parameters) or fast (~168k) (default: default)
  --backend B           cpu or wgpu (wgpu needs a build with --features wgpu) (default: cpu)
  --seed S              initialisation, batching and masking seed (default: 0)
  --shards K            cut each CPU step's batch into K row shards whose gradients are
                        summed in a fixed order (default: 2; 1 is the plain step). Part of
                        the experiment: bit-identical for a given seed and K, whatever the
                        machine; another K changes the float rounding only (the record's
                        `shards`)
  --threads N           threads that compute the shards (default: the machine's cores; compare
                        and sweep give each of their --jobs an equal share); never changes
                        the result
  --corpus-seed S       corpus seed (default: 1)
  --corpus FILE         train on your own UTF-8 text instead of the support-desk corpus
  --lr LR               peak learning rate (default: the mix's recipe for the size)
  --batch-size B        sequences per step (default: the mix's recipe)
  --schedule S          cosine or wsd (default: the mix's recipe)
  KNOBS                 each objective's knobs, e.g. --mask-rate 0.15 (listed below)
  --out FILE            write the run summary JSON here (default: run.json)
  --save DIR            save the trained run: model.bpk, tokenizer.json, config.json, run.json
  --eval-at B1,B2,…     evaluate along the run at these budgets (e.g. 250k,500k,1m): each
                        checkpoint before the budget is a short decay branch off a
                        warm-up–stable–decay trunk, written beside --out as FILE.at-B.json;
                        the budget defaults to the last checkpoint, the schedule to wsd
  --eval SET            the evaluation's set sizes: standard (default) or quick (the page's
                        eval=quick sets: much faster, wide error bars)
  --no-eval             skip the evaluation after training (generation perplexity, linear
                        probes of pair judgement, zero-shot pair head)
  --quiet               no progress bar

sweep: trains every combination of --mixes × --lr × --batch × --schedule over --seeds (the
recipe's value where a list is left out), --jobs at a time as separate processes, and prints
one table row per setting: steps, the validation loss on corrupted positions and its
word-frequency baseline (mean ± sd over seeds), pair accuracy, padding share, GFLOP per step.
DIR/sweep.json holds every run's summary. The README's lecture-budget table is
`sweep --mixes gpt,roberta,bert,albert,t5,bart,xlnet --seeds 100,101,102 --size fast`.

compare: the evaluation's comparison of objectives. Trains every mix (default: the seven
presets gpt,roberta,bert,albert,t5,bart,xlnet) for every seed (--seeds K is seeds 0..K-1,
default 5; a list such as 3,4,5 — or 7, for seed 7 alone — names them) at one budget, each run
a `train` process that evaluates itself, --jobs at a time, into DIR/runs/<mix>-<seed>.json
(logs in DIR/logs/). A finished run is kept, so the same command resumes; DIR/plan.json records
the grid and a DIR planned with other settings is refused. Prints one row per mix, mean ± sd
over its finished runs: gen_ppl and gen_pppl (masked LM's pseudo-perplexity, its own column),
compliance at the writer's bound and at the common bound (every writer's replies cut to the
shortest bound any writer has), probe accuracy per negative kind (random, hard, swapped), the
pair head's zero-shot accuracy where there is one, the untrained twin's probe accuracy,
supervised tokens per step and wall time; then the baselines without pre-training (bow,
bow-ordered and surface on the pair sets, reading the tokens a model reads; the reply
baselines; unigram word frequencies on the held-out replies), never pooled with the runs.
Writes DIR/compare.json ({\"rows\": [...]}) and DIR/compare.csv: one row per run (row_kind
\"run\") and per baseline (row_kind \"baseline\": random-init:<mix> per run, the reply
baselines, bow, bow-ordered, surface, unigram), the run's
settings and evaluation flattened (per-kind figures as probe_acc_random… in the CSV). A run
that fails is a row with `error` set (a run not yet finished: \"not finished\") and the others
go on. Exit code 0, or 3 when the files were written but a row has an error. --size and
--budget-tokens default as for train, --out to compare.
--eval-at B1,B2,… makes a budget curve from each run (see train's --eval-at): one row per run
and checkpoint, the table one line per mix and budget; rows carry budget_tokens and
schedule_tokens (the trunk's budget) and pool only where both match. --eval quick evaluates
every run and baseline on the page's quick sets (a fast first look; wide error bars).
--plan slurm writes DIR/plan.json and DIR/compare.sbatch, a Slurm job array with one task per
(mix, seed) that runs `compare --task $SLURM_ARRAY_TASK_ID --out DIR` (one run, the same
`train` as the direct command; exit 3 when it failed), and prints how to submit it;
`compare --merge DIR` then builds the same table and files from the finished runs.

corpus: builds the corpus (the support-desk corpus, or FILE), trains the tokenizer of SIZE
(default: default), prints the statistics and the fingerprint, and with --out writes the splits,
one balanced pair file per split and kind, the consecutive sentence pairs of the training
split, tokenizer.json and stats.json as JSON Lines / JSON (the same seed gives the same bytes).
--audit runs the shortcut audit on every labelled set (NSP/SOP training items at both sizes,
each evaluation pair set per split and kind) and prints one line per set:
`audit <split> <set> artifact=<acc> surface=<acc>`; it fails if an artifact classifier
predicts a label beyond 0.55.

bench: times the training step per size and backend (with and without attention-trace
capture), each preset's real step with --presets, a seq_len/d_model sweep with --scaling, and
the PyTorch reference side by side when a Python with torch is found ($PP_TORCH_PYTHON,
~/.cache/pp-bench/venv, python3; the script from --reference or $PP_TORCH_REFERENCE, default
the project's scripts/torch_reference.py), on --torch-device (default cpu) with
--torch-threads (default: torch's own); the CPU step also runs data-parallel over --threads
(default: the machine's cores), the trainer's own sharded step; it refuses to compare unless both sides count the same
parameters and tokens per step. Prints a Markdown table and writes bench.json (--out).
--quick (CI) proves it works: fast size, 2 steps, every preset, no PyTorch.
--page adds the browser half: the built app (--dist, default dist/ of the checkout; build it
with `trunk build --release` for real figures) in headless Chromium through
scripts/bench_browser.cjs: bytes and time until Train is enabled, the step in a worker of the
app's wasm on the CPU and on WebGPU (SwiftShader here; --no-webgpu skips it), and training
`default` in the page for --train-seconds (default 30): steps/s, peak worker memory, main-thread
tasks over 50 ms. Every performance target is checked in a last table.
";

/// What `train` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainArgs {
    pub mix: ObjectiveMix,
    pub preset: Option<String>,
    pub config: RunConfig,
    pub backend: BackendKind,
    pub out: String,
    pub quiet: bool,
    /// Evaluate the run when it ends (`--no-eval` turns it off).
    pub eval: bool,
    /// Budgets to evaluate along the run (`--eval-at`), each a decay branch.
    pub eval_at: Vec<u64>,
    /// The evaluation's set sizes: the CLI's, or the page's quick ones (`--eval quick`).
    pub eval_sizes: EvalSizes,
    pub corpus: CorpusInput,
    /// Directory to save the trained run into (`--save DIR`).
    pub save: Option<String>,
    /// Row shards a CPU step's batch is cut into (`--shards`, default [`DEFAULT_SHARDS`]):
    /// part of the experiment, since the sum's grouping sets the float rounding.
    pub shards: usize,
    /// Threads that compute the shards (`--threads`; default the machine's cores): how fast,
    /// never what.
    pub threads: usize,
}

fn value<'a>(
    flag: &str,
    it: &mut impl Iterator<Item = &'a String>,
) -> Result<&'a String, CoreError> {
    it.next()
        .ok_or_else(|| CoreError::Config(format!("{flag} needs a value")))
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, CoreError> {
    text.parse()
        .map_err(|_| CoreError::Config(format!("{flag} expects a number, got `{text}`")))
}

/// `--eval standard` (the CLI's sets) or `--eval quick` (the page's `eval=quick` sets).
fn eval_sizes_named(name: &str) -> Result<EvalSizes, CoreError> {
    match name {
        "standard" => Ok(EvalSizes::CLI),
        "quick" => Ok(EvalSizes::QUICK),
        other => Err(CoreError::Config(format!(
            "unknown evaluation set `{other}`; choose standard or quick"
        ))),
    }
}

/// A comma-separated list of token counts (`250k,500k,1m`).
fn parse_token_list(flag: &str, text: &str) -> Result<Vec<u64>, CoreError> {
    let list: Vec<u64> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(parse_token_count)
        .collect::<Result<_, _>>()
        .map_err(|e| CoreError::Config(format!("{flag}: {e}")))?;
    if list.is_empty() {
        return Err(CoreError::Config(format!(
            "{flag} needs at least one token count, e.g. 250k,500k,1m"
        )));
    }
    Ok(list)
}

/// Parses the options of `train`.
pub fn parse_train(args: &[String]) -> Result<TrainArgs, CoreError> {
    let mut mix_text: Option<String> = None;
    let mut preset_text: Option<String> = None;
    let mut size = ModelSize::Default;
    let mut budget = LECTURE_BUDGET_TOKENS;
    let mut backend = BackendKind::Cpu;
    let (mut seed, mut corpus_seed, mut lr) = (0u64, 1u64, None::<f64>);
    let mut out = "run.json".to_string();
    let mut quiet = false;
    let mut eval = true;
    let mut eval_at: Vec<u64> = Vec::new();
    let mut eval_sizes = EvalSizes::CLI;
    let mut budget_given = false;
    let mut corpus_input = CorpusInput::Support;
    let mut knobs = ObjectiveKnobs::default();
    let mut save = None;
    let mut batch_size = None::<usize>;
    let mut schedule = None::<Schedule>;
    let mut threads = bench::cores().min(MAX_SHARDS);
    let mut shards = DEFAULT_SHARDS;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--mix" => mix_text = Some(value(flag, &mut it)?.clone()),
            "--preset" => preset_text = Some(value(flag, &mut it)?.clone()),
            "--budget-tokens" => {
                budget = parse_token_count(value(flag, &mut it)?)?;
                budget_given = true;
            }
            "--size" => size = value(flag, &mut it)?.parse()?,
            "--backend" => {
                backend = match value(flag, &mut it)?.as_str() {
                    "cpu" => BackendKind::Cpu,
                    "wgpu" => BackendKind::Wgpu,
                    other => {
                        return Err(CoreError::Config(format!(
                            "unknown backend `{other}`; choose cpu or wgpu"
                        )));
                    }
                }
            }
            "--seed" => seed = number(flag, value(flag, &mut it)?)?,
            "--threads" => {
                threads = number(flag, value(flag, &mut it)?)?;
                if !(1..=MAX_SHARDS).contains(&threads) {
                    return Err(CoreError::Config(format!(
                        "--threads takes 1 to {MAX_SHARDS}, not {threads}"
                    )));
                }
            }
            "--shards" => {
                shards = number(flag, value(flag, &mut it)?)?;
                if !(1..=MAX_SHARDS).contains(&shards) {
                    return Err(CoreError::Config(format!(
                        "--shards takes 1 to {MAX_SHARDS}, not {shards}"
                    )));
                }
            }
            "--corpus-seed" => corpus_seed = number(flag, value(flag, &mut it)?)?,
            "--lr" => lr = Some(number(flag, value(flag, &mut it)?)?),
            "--batch-size" => batch_size = Some(number(flag, value(flag, &mut it)?)?),
            "--schedule" => schedule = Some(value(flag, &mut it)?.parse()?),
            knob if all_knobs().any(|k| k.flag == knob) => {
                let text = value(flag, &mut it)?;
                if let Some(k) = all_knobs().find(|k| k.flag == knob) {
                    knobs.set_text(k.key, text)?;
                }
            }
            "--out" => out = value(flag, &mut it)?.clone(),
            "--quiet" => quiet = true,
            "--no-eval" => eval = false,
            "--eval-at" => eval_at = parse_token_list(flag, value(flag, &mut it)?)?,
            "--eval" => eval_sizes = eval_sizes_named(value(flag, &mut it)?)?,
            "--save" => save = Some(value(flag, &mut it)?.clone()),
            "--corpus" => corpus_input = corpus::read_corpus_file(value(flag, &mut it)?)?,
            other => {
                return Err(CoreError::Config(format!(
                    "unknown option `{other}` (see --help)"
                )));
            }
        }
    }
    let (mix, preset) = match (mix_text, preset_text) {
        (Some(_), Some(_)) => {
            return Err(CoreError::Config("give --mix or --preset, not both".into()));
        }
        (None, Some(p)) => {
            let (mix, preset) = ObjectiveMix::parse(&p)?;
            if preset.is_none() {
                return Err(CoreError::Config(format!(
                    "`{p}` is not a preset; use --mix for a mix"
                )));
            }
            (mix, preset)
        }
        (Some(m), None) => ObjectiveMix::parse(&m)?,
        (None, None) => ObjectiveMix::parse("clm")?,
    };
    let plan = plan(&mix)?;
    let mut config = RunConfig::for_plan(size, &plan);
    // Along the budget curve, the run is as long as the last checkpoint unless told otherwise,
    // and its schedule warm-up–stable–decay unless told otherwise (a cosine run is refused
    // with its reason when it starts).
    if let Some(&last) = eval_at.iter().max() {
        if !budget_given {
            budget = last;
        }
        if schedule.is_none() {
            schedule = Some(Schedule::Wsd);
        }
    }
    config.budget_tokens = budget;
    config.seed = seed;
    config.corpus_seed = corpus_seed;
    if let Some(lr) = lr {
        config.peak_lr = lr;
    }
    if let Some(b) = batch_size {
        config.batch_size = b;
    }
    if let Some(s) = schedule {
        config.schedule = s;
    }
    config.knobs = knobs;
    config.validate()?;
    Ok(TrainArgs {
        mix,
        preset: preset.map(String::from),
        config,
        backend,
        out,
        quiet,
        eval,
        eval_at,
        eval_sizes,
        corpus: corpus_input,
        save,
        shards,
        threads,
    })
}

fn backend_for(kind: BackendKind) -> Result<Backend, CoreError> {
    match kind {
        BackendKind::Cpu | BackendKind::Webgpu => Ok(Backend::cpu()),
        BackendKind::Wgpu => wgpu_backend(),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_backend() -> Result<Backend, CoreError> {
    let device = burn::tensor::Device::wgpu_options()
        .init()
        .map_err(|e| CoreError::Config(format!("no usable GPU adapter for wgpu: {e}")))?;
    Ok(Backend {
        device,
        kind: BackendKind::Wgpu,
        label: "wgpu (native GPU)".into(),
    })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_backend() -> Result<Backend, CoreError> {
    Err(CoreError::Config(
        "this binary was built without the wgpu backend; rebuild with `cargo build --release --features wgpu`".into(),
    ))
}

fn clock_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Where `train --eval-at` writes the summary of the checkpoint at `budget` tokens: beside
/// `--out`, e.g. `runs/gpt-3.json` → `runs/gpt-3.at-250000.json`.
pub fn checkpoint_path(out: &str, budget: u64) -> String {
    match out.strip_suffix(".json") {
        Some(stem) => format!("{stem}.at-{budget}.json"),
        None => format!("{out}.at-{budget}.json"),
    }
}

fn write_json(path: &str, summary: &RunSummary) -> Result<(), CoreError> {
    let json = serde_json::to_string_pretty(summary)
        .map_err(|e| CoreError::Config(format!("could not serialise the summary: {e}")))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| CoreError::Config(format!("could not write {path}: {e}")))
}

/// What [`drive`] ends with: the run's summary and its last sample, or `None` when it stopped
/// at the step it was asked to stop at.
type Driven = Option<(Box<RunSummary>, String)>;

/// Steps `trainer` until its run (or the decay branch it is on) finishes, or until step
/// `stop_at`, drawing progress on stderr.
fn drive(
    trainer: &mut Trainer,
    first: Vec<TrainEvent>,
    args: &TrainArgs,
    stop_at: Option<usize>,
) -> Result<Driven, CoreError> {
    let mut err = std::io::stderr();
    let bar = !args.quiet && err.is_terminal();
    let mut last_sample = String::new();
    let mut events = first;
    loop {
        for event in events {
            match event {
                TrainEvent::Step(r) if bar => {
                    let width = 30;
                    let filled = ((r.tokens as f64 / r.budget_tokens as f64).min(1.0)
                        * width as f64) as usize;
                    let _ = write!(
                        err,
                        "\r[{}{}] step {} loss {:.3} {:.0} tok/s ETA {}   ",
                        "#".repeat(filled),
                        "-".repeat(width - filled),
                        r.step,
                        r.loss,
                        r.tokens_per_s,
                        clock_text(r.eta_s)
                    );
                }
                TrainEvent::Eval { step, val_loss, .. } if !bar && !args.quiet => {
                    let _ = writeln!(err, "step {step}: validation loss {val_loss:.4}");
                }
                TrainEvent::Sample { prompt, text, .. } => last_sample = format!("{prompt}{text}"),
                TrainEvent::Finished(summary) => {
                    if bar {
                        let _ = writeln!(err);
                    }
                    return Ok(Some((summary, last_sample)));
                }
                _ => {}
            }
        }
        if stop_at.is_some_and(|at| trainer.step() >= at) {
            if bar {
                let _ = writeln!(err);
            }
            return Ok(None);
        }
        events = block_on(trainer.advance())?;
    }
}

/// [`drive`] to the end of the run or branch.
fn drive_to_end(
    trainer: &mut Trainer,
    first: Vec<TrainEvent>,
    args: &TrainArgs,
) -> Result<(Box<RunSummary>, String), CoreError> {
    drive(trainer, first, args, None)?
        .ok_or_else(|| CoreError::Config("the run stopped before its end".into()))
}

/// Evaluates the network `trainer` holds now into `summary` (when `args.eval`).
fn evaluate_into(
    summary: &mut RunSummary,
    trainer: &Trainer,
    args: &TrainArgs,
    wall: std::time::Instant,
) -> Result<(), CoreError> {
    let Some(network) = trainer.network().filter(|_| args.eval) else {
        return Ok(());
    };
    let _ = writeln!(std::io::stderr(), "evaluating…");
    let started = std::time::Instant::now();
    let run = RunToEvaluate {
        network,
        plan: trainer.plan(),
        model_config: &args.config.size.model(),
        seed: args.config.seed,
        dataset: trainer.dataset(),
    };
    summary.evaluation = block_on(evaluate_run(
        run,
        args.eval_sizes,
        trainer.backend_label(),
        &mut NoYield,
    ))?;
    summary.evaluation.eval_s = Some(started.elapsed().as_secs_f64());
    summary.wall_s = wall.elapsed().as_secs_f64();
    Ok(())
}

/// Trains as asked, drawing progress on stderr, and returns the summary. With `--eval-at`,
/// each checkpoint before the budget is a decay branch off the warm-up–stable–decay trunk
/// ([`Trainer::begin_branch`]), evaluated and written to [`checkpoint_path`] as it finishes.
pub fn run_train(args: &TrainArgs) -> Result<RunSummary, CoreError> {
    let wall = std::time::Instant::now();
    let backend = backend_for(args.backend)?;
    let size = args.config.size;
    let mut err = std::io::stderr();
    let corpus = args
        .corpus
        .build(args.config.corpus_seed, args.mix.corpus_needs())?;
    let dataset = Dataset::new(Arc::new(corpus), size.model().vocab_size)?;
    let _ = writeln!(
        err,
        "training {} ({}) on {}, size {size}, on {}, budget {} tokens, seed {}",
        args.mix,
        args.preset.as_deref().unwrap_or("no preset"),
        args.corpus.describe(args.config.corpus_seed),
        backend.label,
        args.config.budget_tokens,
        args.config.seed
    );
    let mut trainer = Trainer::new(
        dataset,
        args.config.clone(),
        args.mix,
        args.preset.clone(),
        backend,
        Box::new(SystemClock::default()),
    )?;
    // A CPU step cut into shards (no more than the batch has sequences), computed on threads
    // when more than one is allowed: the shard count sets the result, the threads only the
    // speed.
    let shards = args.shards.min(args.config.batch_size);
    if args.backend == BackendKind::Cpu && shards > 1 {
        let (executor, on) = if args.threads > 1 {
            (Executor::Threads, "threads")
        } else {
            (Executor::Local, "one thread")
        };
        trainer.set_parallel(shards, executor)?;
        let _ = writeln!(
            err,
            "each step's batch is cut into {shards} shards, on {on}"
        );
    }
    // Every summary this run writes records the corpus it trained on.
    trainer.fingerprint_corpus(None)?;
    // Checked before the first step, so a bad checkpoint costs nothing.
    let branches = trainer.plan_branches(&args.eval_at)?;
    let mut events = block_on(trainer.prime())?;
    for (at, budget) in branches {
        if let Some((summary, sample)) = drive(&mut trainer, events, args, Some(at))? {
            // The trunk diverged before the checkpoint: that is the run's result.
            return finish(*summary, &trainer, args, wall, sample);
        }
        events = Vec::new();
        let trunk = trainer.begin_branch(budget)?;
        let _ = writeln!(
            err,
            "checkpoint: decaying to {budget} tokens from step {at}"
        );
        let (mut summary, _) = drive_to_end(&mut trainer, Vec::new(), args)?;
        evaluate_into(&mut summary, &trainer, args, wall)?;
        let path = checkpoint_path(&args.out, budget);
        write_json(&path, &summary)?;
        let _ = writeln!(
            err,
            "checkpoint {budget} tokens: validation loss {:.4}; summary {path}",
            summary.final_val_loss
        );
        trainer.end_branch(trunk);
    }
    let (summary, last_sample) = drive_to_end(&mut trainer, events, args)?;
    finish(*summary, &trainer, args, wall, last_sample)
}

/// The run's end: the last sample, the evaluation, `--save`.
fn finish(
    mut summary: RunSummary,
    trainer: &Trainer,
    args: &TrainArgs,
    wall: std::time::Instant,
    last_sample: String,
) -> Result<RunSummary, CoreError> {
    if !last_sample.is_empty() {
        let _ = writeln!(std::io::stderr(), "sample: {last_sample}");
    }
    evaluate_into(&mut summary, trainer, args, wall)?;
    if let Some(dir) = &args.save {
        save_run(trainer, &summary, dir)?;
        let _ = writeln!(std::io::stderr(), "saved to {dir}");
    }
    Ok(summary)
}

/// Writes the trained network, tokenizer, config and summary into `dir`.
fn save_run(trainer: &Trainer, summary: &RunSummary, dir: &str) -> Result<(), CoreError> {
    use crate::core::saved;
    let Some(network) = trainer.network() else {
        return Err(CoreError::Config(
            "there is no trained network to save".into(),
        ));
    };
    let files = saved::save(
        network,
        &saved::SavedConfig::of(trainer),
        trainer.tokenizer(),
        summary,
    )?;
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| CoreError::Config(format!("could not create {}: {e}", dir.display())))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).map_err(|e| {
            CoreError::Config(format!("could not write {}: {e}", dir.join(name).display()))
        })
    };
    write(saved::MODEL_FILE, &files.model)?;
    write(saved::TOKENIZER_FILE, files.tokenizer_json.as_bytes())?;
    write(saved::CONFIG_FILE, files.config_json.as_bytes())?;
    write(saved::SUMMARY_FILE, files.summary_json.as_bytes())
}

fn print_summary(s: &RunSummary, out: &str) {
    println!("status            {:?}", s.status);
    println!(
        "mix               {}{}",
        s.mix,
        s.preset
            .as_ref()
            .map(|p| format!(" (preset {p})"))
            .unwrap_or_default()
    );
    println!("size / params     {} / {}", s.size, s.params);
    println!("backend           {}", s.backend_label);
    println!(
        "steps / tokens    {} / {} (budget {})",
        s.steps, s.tokens, s.budget_tokens
    );
    println!(
        "wall / train      {:.1} s / {:.1} s ({:.0} tokens/s in steps)",
        s.wall_s,
        s.train_s,
        s.tokens as f64 / s.train_s.max(1e-9)
    );
    println!(
        "val loss          {:.4} → {:.4} nats/token",
        s.initial_val_loss, s.final_val_loss
    );
    if let Some(architecture) = &s.architecture {
        println!("network           {architecture}");
    }
    println!(
        "recipe            peak lr {}, {} sequences/step, {} schedule",
        s.peak_lr.map_or("?".into(), |l| l.to_string()),
        s.batch_size,
        s.schedule.map_or("?", |s| s.name())
    );
    if !s.val_loss_components.is_empty() {
        let parts: Vec<String> = s
            .val_loss_components
            .iter()
            .map(|(name, loss)| format!("{name} {loss:.4}"))
            .collect();
        println!("val components    {}", parts.join(", "));
    }
    if let (Some(corrupted), Some(unigram)) = (s.val_loss_corrupted, s.unigram_entropy_corrupted) {
        println!(
            "corrupted only    {corrupted:.4} ± {:.4} on {} positions; word frequencies on the \
             same positions {unigram:.4} (difference ± {:.4})",
            s.val_loss_corrupted_se.unwrap_or(f32::NAN),
            s.eval_positions.unwrap_or(0),
            s.unigram_margin_se.unwrap_or(f32::NAN)
        );
    }
    if let Some(accuracy) = s.val_pair_accuracy {
        println!(
            "pair accuracy     {:.1}% ± {:.1} on {} held-out pairs (head argmax)",
            accuracy * 100.0,
            s.val_pair_accuracy_se.unwrap_or(f32::NAN) * 100.0,
            s.eval_pairs.unwrap_or(0)
        );
    }
    println!(
        "per step          {:.0} supervised tokens, {:.2} GFLOP, {:.1}% padding",
        s.supervised_tokens_per_step,
        s.flops_per_step / 1e9,
        s.padding_share * 100.0
    );
    print_evaluation(&s.evaluation);
    println!("summary           {out}");
}

fn print_evaluation(e: &RunEvaluation) {
    for g in &e.gen_scores {
        let what = match g.kind {
            ScoreKind::Perplexity => "gen_ppl ",
            ScoreKind::PseudoPerplexity => "gen_pppl",
        };
        println!(
            "{what}          {:.2} ± {:.2} ({}: {} tokens of {} held-out replies; {})",
            g.perplexity, g.perplexity_se, g.objective, g.tokens, g.examples, g.protocol
        );
        if let Some(caveat) = &g.caveat {
            println!("                  note: {caveat}");
        }
    }
    if let Some(note) = &e.gen_note {
        println!("generation        {note}");
    }
    if let Some(r) = &e.replies {
        println!(
            "compliance        {:.1}% ± {:.1} of {} greedy replies{} ({}: {}); distinct-2 {}, repetition {}",
            r.greedy.compliance * 100.0,
            r.greedy.compliance_se * 100.0,
            r.greedy.replies,
            r.sampled
                .as_ref()
                .map(|s| format!(", {:.1}% sampled", s.compliance * 100.0))
                .unwrap_or_default(),
            r.writer,
            r.decoding,
            r.greedy.distinct2.map_or("–".into(), |d| format!("{d:.2}")),
            r.greedy
                .repetition
                .map_or("–".into(), |d| format!("{d:.2}")),
        );
        if let (Some(c), Some(se), Some(cap)) = (
            e.compliance_common,
            e.compliance_common_se,
            e.compliance_common_cap,
        ) {
            println!(
                "  common bound    {:.1}% ± {:.1} with every reply cut to its first {cap} tokens \
                 (the shortest bound any writer has at this size: compares across objectives)",
                c * 100.0,
                se * 100.0
            );
        }
        for b in &e.reply_baselines {
            println!(
                "  baseline        {} {:.1}% ± {:.1}{}",
                b.writer,
                b.greedy.compliance * 100.0,
                b.greedy.compliance_se * 100.0,
                b.cap
                    .map(|cap| format!(", first {cap} tokens"))
                    .unwrap_or_default()
            );
        }
        if let Some(sample) = r.samples.first() {
            println!("  sample reply    {} [{}]", sample.reply, sample.reason);
        }
    }
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1}%", v * 100.0));
    let line = |label: &str, acc: &PerKind, se: &PerKind, auc: &PerKind| {
        if acc.is_empty() {
            return;
        }
        let cell = |k: PairKind| {
            format!(
                "{} {} ± {} (AUC {})",
                k.name(),
                pct(acc.get(k)),
                pct(se.get(k)),
                auc.get(k).map_or("–".to_string(), |a| format!("{a:.3}"))
            )
        };
        println!(
            "{label:<18}{}; {}; {}",
            cell(PairKind::Random),
            cell(PairKind::Hard),
            cell(PairKind::Swapped)
        );
    };
    if let Some(pooling) = &e.probe_pooling {
        println!(
            "probe             {pooling}, fitted on {} labelled pairs per kind",
            e.probe_fit_pairs.unwrap_or(0)
        );
    }
    line("  trained", &e.probe_acc, &e.probe_acc_se, &e.probe_auc);
    line(
        "  untrained twin",
        &e.random_init_acc,
        &e.random_init_acc_se,
        &e.random_init_auc,
    );
    if !e.probe_vs_twin.is_empty() {
        let cell = |k: PairKind| {
            e.probe_vs_twin.get(k).map_or("–".to_string(), |d| {
                format!(
                    "{} {:+.1} ± {:.1} ({} vs {} pairs{})",
                    k.name(),
                    d.difference * 100.0,
                    d.se * 100.0,
                    d.first_right_only,
                    d.second_right_only,
                    if d.clearly_above() { "" } else { ", not above" }
                )
            })
        };
        println!(
            "  trained − twin  {}; {}; {} (paired: pairs only one of the two gets right)",
            cell(PairKind::Random),
            cell(PairKind::Hard),
            cell(PairKind::Swapped)
        );
    }
    if let Some(method) = &e.zeroshot_method {
        println!("zero-shot         {method}");
        line("", &e.zeroshot_acc, &e.zeroshot_acc_se, &e.zeroshot_auc);
    }
    if let Some(method) = &e.zeroshot_likelihood_method {
        println!("zero-shot         {method}");
        let dropped: f64 = PairKind::ALL
            .into_iter()
            .filter_map(|k| e.zeroshot_likelihood_dropped.get(k))
            .sum();
        if dropped > 0.0 {
            println!("                  {dropped} pairs whose B kept no token to score left out");
        }
        line(
            "",
            &e.zeroshot_likelihood_acc,
            &e.zeroshot_likelihood_acc_se,
            &e.zeroshot_likelihood_auc,
        );
    }
}

/// Entry point; returns the process exit code.
/// Asks glibc to keep freed memory for reuse instead of handing large blocks back to the
/// kernel. A training step allocates and frees the same few hundred buffers of up to a few
/// MB every step; by default glibc serves each from a fresh `mmap` and unmaps it when freed,
/// so every step pays page faults and the kernel's zeroing of those pages (7% of the
/// `default` step in the 2026-11-23 profile). Raising the mmap and trim thresholds keeps the
/// buffers in the heap (BENCHMARKS.md: before/after). A no-op on other C libraries.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes glibc's allocation thresholds; it is called once, before
    // any thread starts, and its arguments are plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

pub fn main(args: Vec<String>) -> i32 {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            0
        }
        Some("train") => {
            let result = parse_train(&args[1..]).and_then(|a| run_train(&a).map(|s| (a, s)));
            match result {
                Ok((a, summary)) => {
                    if let Err(e) = write_json(&a.out, &summary) {
                        eprintln!("error: {e}");
                        return 1;
                    }
                    print_summary(&summary, &a.out);
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Some("bench") => {
            let command = format!("pretrain-playground {}", args.join(" "));
            match bench::parse(&args[1..]).and_then(|a| bench::run(&a, command).map(|r| (a, r))) {
                Ok((a, report)) => {
                    print!("{}", bench::table(&report));
                    let written = serde_json::to_string_pretty(&report)
                        .map_err(|e| e.to_string())
                        .and_then(|json| {
                            std::fs::write(&a.out, json + "\n").map_err(|e| e.to_string())
                        });
                    match written {
                        Ok(()) => {
                            println!("\nwrote {}", a.out);
                            0
                        }
                        Err(e) => {
                            eprintln!("error: could not write {}: {e}", a.out);
                            1
                        }
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Some("corpus") => match corpus::parse(&args[1..]).and_then(|a| corpus::run(&a)) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Some("compare") => compare::main(&args[1..]),
        Some("sweep") => match sweep::parse(&args[1..]).and_then(|a| sweep::run(&a)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_documented_flags() {
        let a = parse_train(&args("--mix clm --budget-tokens 1000 --size fast --backend cpu --seed 3 --corpus-seed 2 --out x.json"))
            .expect("parse");
        assert_eq!(a.mix.canonical(), "clm");
        assert_eq!(a.config.budget_tokens, 1000);
        assert_eq!(a.config.size, ModelSize::Fast);
        assert_eq!((a.config.seed, a.config.corpus_seed), (3, 2));
        assert_eq!(a.out, "x.json");
        assert_eq!(
            a.threads,
            bench::cores().min(MAX_SHARDS),
            "the machine's cores by default"
        );
        assert_eq!(
            a.shards, DEFAULT_SHARDS,
            "a fixed shard count, whatever the machine"
        );
        let k = parse_train(&args("--shards 4 --threads 1")).expect("shards");
        assert_eq!((k.shards, k.threads), (4, 1));
        for bad in ["--shards 0", "--shards 17"] {
            assert!(parse_train(&args(bad)).is_err(), "{bad}");
        }
        let t = parse_train(&args("--threads 3")).expect("threads");
        assert_eq!(t.threads, 3);
        for bad in ["--threads 0", "--threads 17", "--threads two"] {
            assert!(parse_train(&args(bad)).is_err(), "{bad}");
        }
        let p = parse_train(&args("--preset gpt")).expect("preset");
        assert_eq!(p.preset.as_deref(), Some("gpt"));
        let k = parse_train(&args(
            "--preset t5 --noise-density 0.25 --batch-size 16 --schedule wsd",
        ))
        .expect("knobs");
        assert_eq!(
            k.config.knobs.changed().collect::<Vec<_>>(),
            [("noise_density", 0.25)]
        );
        assert_eq!(
            (k.config.batch_size, k.config.schedule),
            (16, Schedule::Wsd)
        );
        let c = parse_train(&args("--preset bert --eval-at 250k,1m")).expect("curve");
        assert_eq!(c.eval_at, [250_000, 1_000_000]);
        assert_eq!(
            (c.config.budget_tokens, c.config.schedule),
            (1_000_000, Schedule::Wsd),
            "the budget is the last checkpoint, the schedule warm-up–stable–decay"
        );
        assert_eq!(
            checkpoint_path("runs/gpt-3.json", 250_000),
            "runs/gpt-3.at-250000.json"
        );
        assert_eq!(checkpoint_path("out", 5), "out.at-5.json");
    }

    #[test]
    fn bad_flags_are_typed_errors() {
        for bad in [
            "--size huge",
            "--budget-tokens lots",
            "--backend tpu",
            "--mix clm --preset gpt",
            "--preset clm",
            "--frobnicate",
            "--seed",
            "--preset t5 --noise-density 1.5",
            "--plm-k 0 --preset xlnet",
            "--plm-k 2.5 --preset xlnet",
            "--mix clm+span",
            "--schedule linear",
            "--batch-size 0",
            "--budget-tokens 1000000000000000",
            "--eval-at",
            "--eval-at 1m,x",
        ] {
            assert!(parse_train(&args(bad)).is_err(), "{bad}");
        }
    }
}

//! `pretrain-playground bench`: times the training step natively (per size and backend, with
//! and without attention-trace capture, and for every preset's real step), runs the PyTorch
//! reference side by side when `torch` can be imported, checks that both time the same model
//! (equal parameters and tokens per step), and prints a table and writes `bench.json`.
//! `--quick` (what CI runs) only proves the command works: fast size, two steps, no PyTorch.

use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::core::bench::{StepShape, StepTiming, time_training_step, training_flops};
use crate::core::config::{ModelConfig, ModelSize, RunConfig};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::{SystemClock, block_on};
use crate::core::mix::{ObjectiveMix, PRESETS};
use crate::core::summary::{BackendKind, TrainEvent};
use crate::core::train::Trainer;
use crate::core::train::shards::{Executor, MAX_SHARDS};

use super::bench_page::{self, PageArgs, PageBench, TargetCheck};
use super::{backend_for, number, value};

/// The project's PyTorch reference (the same model and step in PyTorch), found from wherever
/// the command runs.
pub const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/torch_reference.py");

/// What `bench` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchArgs {
    pub quick: bool,
    pub steps: usize,
    pub sizes: Vec<ModelSize>,
    pub backends: Vec<BackendKind>,
    /// A Python with `torch`; `None` looks for one, `Some("")` means no PyTorch rows.
    pub python: Option<String>,
    /// The PyTorch reference script: `--reference`, `$PP_TORCH_REFERENCE`, or the project's own
    /// `scripts/torch_reference.py`.
    pub reference: String,
    /// Where the reference runs (`--torch-device`: `cpu` or `cuda`).
    pub torch_device: String,
    /// The reference's `torch.set_num_threads` (`--torch-threads`); `None` leaves torch's own.
    pub torch_threads: Option<usize>,
    pub presets: bool,
    pub scaling: bool,
    pub out: String,
    /// The browser half (`--page`): the built app in headless Chromium.
    pub page: Option<PageArgs>,
    /// Threads for the data-parallel CPU rows (`--threads`; default: the machine's cores).
    pub threads: usize,
    /// Interleaved repeats of every step row (`--repeats`, default 5; 1 with `--quick`): each
    /// row is their median, each ratio the median of the per-repeat ratios.
    pub repeats: usize,
}

/// The machine's cores, the default for `--threads` (the trainer's too).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn parse(args: &[String]) -> Result<BenchArgs, CoreError> {
    let mut parsed = BenchArgs {
        quick: false,
        steps: 30,
        sizes: vec![ModelSize::Default, ModelSize::Fast],
        backends: vec![BackendKind::Cpu],
        python: None,
        reference: std::env::var("PP_TORCH_REFERENCE").unwrap_or_else(|_| REFERENCE.into()),
        torch_device: "cpu".into(),
        torch_threads: None,
        presets: false,
        scaling: false,
        out: "bench.json".into(),
        page: None,
        threads: cores(),
        repeats: 5,
    };
    let mut steps_given = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--quick" => parsed.quick = true,
            "--steps" => {
                parsed.steps = number(flag, value(flag, &mut it)?)?;
                steps_given = true;
            }
            "--sizes" => {
                parsed.sizes = value(flag, &mut it)?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--backend" => {
                parsed.backends = value(flag, &mut it)?
                    .split(',')
                    .map(|b| match b {
                        "cpu" => Ok(BackendKind::Cpu),
                        "wgpu" => Ok(BackendKind::Wgpu),
                        other => Err(CoreError::Config(format!(
                            "--backend takes cpu, wgpu or cpu,wgpu, not `{other}`"
                        ))),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--torch" => parsed.python = Some(value(flag, &mut it)?.clone()),
            "--no-torch" => parsed.python = Some(String::new()),
            "--reference" => parsed.reference = value(flag, &mut it)?.clone(),
            "--torch-device" => {
                let device = value(flag, &mut it)?;
                if device != "cpu" && device != "cuda" {
                    return Err(CoreError::Config(format!(
                        "--torch-device takes cpu or cuda, not `{device}`"
                    )));
                }
                parsed.torch_device = device.clone();
            }
            "--torch-threads" => {
                let threads: usize = number(flag, value(flag, &mut it)?)?;
                if threads == 0 {
                    return Err(CoreError::Config(
                        "--torch-threads must be at least 1".into(),
                    ));
                }
                parsed.torch_threads = Some(threads);
            }
            "--repeats" => {
                parsed.repeats = number(flag, value(flag, &mut it)?)?;
                if parsed.repeats == 0 {
                    return Err(CoreError::Config("--repeats must be at least 1".into()));
                }
            }
            "--threads" => {
                parsed.threads = number(flag, value(flag, &mut it)?)?;
                if parsed.threads == 0 {
                    return Err(CoreError::Config("--threads must be at least 1".into()));
                }
            }
            "--presets" => parsed.presets = true,
            "--scaling" => parsed.scaling = true,
            "--out" => parsed.out = value(flag, &mut it)?.clone(),
            "--page" => {
                parsed.page.get_or_insert_with(PageArgs::default);
            }
            "--dist" => {
                parsed.page.get_or_insert_with(PageArgs::default).dist =
                    value(flag, &mut it)?.clone()
            }
            "--no-webgpu" => parsed.page.get_or_insert_with(PageArgs::default).webgpu = false,
            "--train-seconds" => {
                let seconds: u64 = number(flag, value(flag, &mut it)?)?;
                parsed
                    .page
                    .get_or_insert_with(PageArgs::default)
                    .train_seconds = seconds;
            }
            other => {
                return Err(CoreError::Config(format!(
                    "unknown option `{other}` for bench (see --help)"
                )));
            }
        }
    }
    if parsed.steps == 0 {
        return Err(CoreError::Config("--steps must be at least 1".into()));
    }
    if parsed.quick {
        parsed.sizes = vec![ModelSize::Fast];
        parsed.python = Some(String::new());
        parsed.scaling = false;
        parsed.presets = true;
        parsed.repeats = 1;
        if !steps_given {
            parsed.steps = 2;
        }
    }
    Ok(parsed)
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// `step` (the reference's step), `capture` (the same with attention traces kept),
    /// `preset` (the lab's real step for a preset), `scaling`.
    pub what: String,
    pub engine: String,
    pub size: String,
    pub batch: usize,
    pub seq_len: usize,
    pub d_model: usize,
    pub params: usize,
    pub tokens_per_step: usize,
    pub ms_per_step: f64,
    pub steps_per_s: f64,
    pub tokens_per_s: f64,
    /// Achieved FLOP/s over the machine's fp32 peak (`None` where no FLOP count applies).
    pub mfu: Option<f64>,
    /// This row's steps/s over the PyTorch row of the same shape on the same kind of device
    /// (CPU with CPU, wgpu with CUDA).
    pub vs_torch: Option<f64>,
    /// A page row's steps/s over native burn's CPU row of the same size.
    #[serde(default)]
    pub vs_native: Option<f64>,
    /// How many interleaved repeats the row is the median of (each engine timed once per
    /// repeat, in turn), and the lowest and highest ms/step among them.
    #[serde(default = "one")]
    pub repeats: usize,
    #[serde(default)]
    pub ms_range: Option<(f64, f64)>,
    /// The lowest and highest of the per-repeat ratios `vs_torch` is the median of.
    #[serde(default)]
    pub vs_torch_range: Option<(f64, f64)>,
}

fn one() -> usize {
    1
}

/// The machine the bench ran on, and how its fp32 peak was estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ghz: f64,
    pub flops_per_cycle: f64,
    pub peak_gflops: f64,
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema_version: u32,
    pub command: String,
    pub machine: Machine,
    pub steps: usize,
    pub rows: Vec<BenchRow>,
    /// The browser half, when `--page` ran it.
    #[serde(default)]
    pub page: Option<PageBench>,
    /// Every performance target against this run's figures.
    #[serde(default)]
    pub targets: Vec<TargetCheck>,
}

/// Reads the CPU model, clock and vector width from `/proc/cpuinfo`: peak fp32 FLOP/s =
/// cores × GHz × FLOPs per cycle per core (two FMA units × 8 lanes × 2 for AVX2+FMA, twice
/// that with AVX-512, half without FMA).
fn machine() -> Machine {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_string())
    };
    let cpu = field("model name").unwrap_or_else(|| "unknown CPU".into());
    let flags = field("flags").unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let ghz = field("cpu MHz")
        .and_then(|m| m.parse::<f64>().ok())
        .map_or(2.0, |m| m / 1000.0);
    let (flops_per_cycle, unit) = if has("avx512f") {
        (64.0, "AVX-512 FMA")
    } else if has("avx2") && has("fma") {
        (32.0, "AVX2 FMA")
    } else if has("avx") {
        (16.0, "AVX")
    } else {
        (8.0, "SSE")
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let peak_gflops = cores as f64 * ghz * flops_per_cycle;
    Machine {
        how: format!(
            "{cores} cores × {ghz:.2} GHz × {flops_per_cycle} fp32 FLOP/cycle ({unit}) = {peak_gflops:.1} GFLOP/s"
        ),
        cpu,
        cores,
        ghz,
        flops_per_cycle,
        peak_gflops,
    }
}

/// The `--config` JSON the reference builds its model and batch from for a shape.
fn torch_config(shape: &StepShape) -> String {
    let m = &shape.model;
    format!(
        "{{\"vocab\": {}, \"d_model\": {}, \"n_layers\": {}, \"n_heads\": {}, \"d_ff\": {}, \"max_seq_len\": {}, \"seq_len\": {}, \"batch\": {}}}",
        m.vocab_size,
        m.d_model,
        m.n_layers,
        m.n_heads,
        m.d_ff,
        m.max_seq_len,
        shape.seq_len,
        shape.batch
    )
}

/// The arguments the bench gives the reference script for one shape.
fn torch_args(
    shape: &StepShape,
    steps: usize,
    device: &str,
    threads: Option<usize>,
) -> Vec<String> {
    let mut args = vec![
        "--config".to_string(),
        torch_config(shape),
        "--steps".into(),
        steps.to_string(),
        "--device".into(),
        device.into(),
    ];
    if let Some(threads) = threads {
        args.extend(["--threads".into(), threads.to_string()]);
    }
    args
}

/// The JSON line the reference prints for one configuration (the fields the bench reads;
/// the optional ones are absent from older reference scripts).
#[derive(Debug, Deserialize)]
struct TorchLine {
    engine: String,
    params: usize,
    /// Mean milliseconds over the timed steps, the statistic the burn rows report.
    ms_per_step: f64,
    tokens_per_s: f64,
    threads: Option<usize>,
    /// `cpu` or `cuda`.
    device: Option<String>,
    tokens_per_step: Option<usize>,
}

impl TorchLine {
    /// The engine column: the reference's engine, device and threads.
    fn label(&self) -> String {
        let device = self
            .device
            .as_deref()
            .map_or(String::new(), |d| format!(" {d}"));
        let threads = match self.threads {
            Some(1) => ", 1 thread".to_string(),
            Some(t) => format!(", {t} threads"),
            None => String::new(),
        };
        format!("{}{device}{threads}", self.engine)
    }

    /// Whether burn on `kind` runs on the same kind of device as this reference (a CPU
    /// against a CPU, wgpu against CUDA), so a ratio between them means something.
    fn comparable_with(&self, kind: BackendKind) -> bool {
        match self.device.as_deref().unwrap_or("cpu") {
            "cuda" => kind == BackendKind::Wgpu,
            _ => kind == BackendKind::Cpu,
        }
    }
}

/// A Python that can import torch: the one given, `$PP_TORCH_PYTHON`, the bench venv under
/// `~/.cache`, or `python3`.
fn find_python(given: &Option<String>) -> Option<String> {
    if let Some(given) = given {
        return (!given.is_empty()).then(|| given.clone());
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = [
        std::env::var("PP_TORCH_PYTHON").ok(),
        Some(format!("{home}/.cache/pp-bench/venv/bin/python")),
        Some("python3".into()),
    ];
    candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import torch"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn run_torch(python: &str, args: &BenchArgs, shape: &StepShape) -> Result<TorchLine, CoreError> {
    let output = Command::new(python)
        .arg(&args.reference)
        .args(torch_args(
            shape,
            args.steps,
            &args.torch_device,
            args.torch_threads,
        ))
        .output()
        .map_err(|e| {
            CoreError::Config(format!("could not run {python} {}: {e}", args.reference))
        })?;
    if !output.status.success() {
        return Err(CoreError::Config(format!(
            "the PyTorch reference failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| {
        CoreError::Config(format!(
            "the PyTorch reference printed something else ({e}): {line}"
        ))
    })
}

pub(super) fn row(
    what: &str,
    engine: String,
    size: &str,
    shape: &StepShape,
    t: &StepTiming,
    peak: f64,
) -> BenchRow {
    BenchRow {
        what: what.into(),
        engine,
        size: size.into(),
        batch: shape.batch,
        seq_len: shape.seq_len,
        d_model: shape.model.d_model,
        params: t.params,
        tokens_per_step: t.tokens_per_step,
        ms_per_step: t.ms_per_step,
        steps_per_s: t.steps_per_s,
        tokens_per_s: t.tokens_per_s,
        mfu: Some(t.flops_per_step * t.steps_per_s / (peak * 1e9)),
        vs_torch: None,
        vs_native: None,
        repeats: 1,
        ms_range: None,
        vs_torch_range: None,
    }
}

/// Refuses to compare two rows that did not time the same model: equal parameters and equal
/// tokens per step.
fn same_model(size: &str, burn: &BenchRow, torch: &BenchRow) -> Result<(), CoreError> {
    if torch.params != burn.params || torch.tokens_per_step != burn.tokens_per_step {
        return Err(CoreError::Config(format!(
            "the lab's model and the reference differ for {size}: {} vs {} parameters, {} vs {} tokens per step",
            burn.params, torch.params, burn.tokens_per_step, torch.tokens_per_step
        )));
    }
    Ok(())
}

/// Times the burn step for `shape` and, when a Python with torch is there, the reference;
/// the two must agree on parameters and tokens per step.
fn step_rows(
    args: &BenchArgs,
    what: &str,
    size: &str,
    shape: &StepShape,
    python: Option<&str>,
    peak: f64,
    with_capture: bool,
) -> Result<Vec<BenchRow>, CoreError> {
    let clock = SystemClock::default();
    let mut rows = Vec::new();
    let torch = match python {
        Some(python) => {
            let line = run_torch(python, args, shape)?;
            let tokens = shape.batch * shape.seq_len;
            let flops = training_flops(line.params, &shape.model, tokens, shape.seq_len);
            let steps_per_s = 1000.0 / line.ms_per_step;
            // The machine's peak is its CPU's: an MFU only means something for a CPU row.
            let on_cpu = line.comparable_with(BackendKind::Cpu);
            let row = BenchRow {
                what: what.into(),
                engine: line.label(),
                size: size.into(),
                batch: shape.batch,
                seq_len: shape.seq_len,
                d_model: shape.model.d_model,
                params: line.params,
                tokens_per_step: line.tokens_per_step.unwrap_or(tokens),
                ms_per_step: line.ms_per_step,
                steps_per_s,
                tokens_per_s: line.tokens_per_s,
                mfu: on_cpu.then(|| flops * steps_per_s / (peak * 1e9)),
                vs_torch: Some(1.0),
                vs_native: None,
                repeats: 1,
                ms_range: None,
                vs_torch_range: None,
            };
            Some((row, line))
        }
        None => None,
    };
    for &kind in &args.backends {
        let backend = backend_for(kind)?;
        let captures: &[bool] = if what == "step" && with_capture {
            &[false, true]
        } else {
            &[false]
        };
        // The plain step on one thread, then (CPU) the trainer's data-parallel step on
        // `--threads` threads, then the plain step keeping attention traces.
        let mut variants: Vec<(bool, usize)> = vec![(false, 1)];
        if kind == BackendKind::Cpu && args.threads > 1 {
            variants.push((false, args.threads.min(shape.batch).min(MAX_SHARDS)));
        }
        variants.extend(captures.iter().filter(|&&c| c).map(|&c| (c, 1)));
        for (capture, shards) in variants {
            let t = block_on(time_training_step(
                shape,
                3,
                args.steps,
                capture,
                shards,
                &mut Executor::Threads,
                &backend,
                &clock,
            ))?;
            let threads = if shards > 1 {
                format!(", {shards} threads (data-parallel)")
            } else {
                String::new()
            };
            let mut r = row(
                if capture { "capture" } else { what },
                format!("burn {}{threads}", backend.label),
                size,
                shape,
                &t,
                peak,
            );
            if let Some((torch, line)) = &torch {
                same_model(size, &r, torch)?;
                if line.comparable_with(kind) {
                    r.vs_torch = Some(r.steps_per_s / torch.steps_per_s);
                }
            }
            rows.push(r);
        }
    }
    rows.extend(torch.map(|(row, _)| row));
    Ok(rows)
}

/// Rows of the same engine and shape across repeats, as one row each: the median ms/step
/// (steps/s, tokens/s and MFU from it), its range, and the median of the per-repeat ratios to
/// PyTorch with their range. A row found in one repeat only stays as it is.
pub fn median_rows(repeats: Vec<Vec<BenchRow>>) -> Vec<BenchRow> {
    let Some(first) = repeats.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|row| {
            let same: Vec<&BenchRow> = repeats
                .iter()
                .filter_map(|rows| {
                    rows.iter().find(|r| {
                        r.what == row.what && r.engine == row.engine && r.size == row.size
                    })
                })
                .collect();
            let ms: Vec<f64> = same.iter().map(|r| r.ms_per_step).collect();
            let ratios: Vec<f64> = same.iter().filter_map(|r| r.vs_torch).collect();
            let median_ms = median(&ms);
            let scale = row.ms_per_step / median_ms;
            BenchRow {
                ms_per_step: median_ms,
                steps_per_s: 1000.0 / median_ms,
                tokens_per_s: row.tokens_per_step as f64 * 1000.0 / median_ms,
                mfu: row.mfu.map(|m| m * scale),
                vs_torch: (!ratios.is_empty()).then(|| median(&ratios)),
                repeats: same.len(),
                ms_range: range(&ms),
                vs_torch_range: range(&ratios),
                ..row.clone()
            }
        })
        .collect()
}

/// The median (the mean of the middle two for an even count); NaN for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn range(values: &[f64]) -> Option<(f64, f64)> {
    let lo = values.iter().copied().reduce(f64::min)?;
    let hi = values.iter().copied().reduce(f64::max)?;
    Some((lo, hi))
}

/// The run a preset row times: the preset's recipe at `size`, one evaluation, no samples
/// before the end, and just enough budget for the warm-up and `steps` timed steps.
fn preset_config(
    preset: &str,
    size: ModelSize,
    steps: usize,
) -> Result<(ObjectiveMix, Option<&'static str>, RunConfig), CoreError> {
    let (mix, name) = ObjectiveMix::parse(preset)?;
    let mut config = RunConfig::for_plan(size, &crate::core::plan::plan(&mix)?);
    config.evaluations = 1;
    // Finite (the record is JSON) and longer than any bench: the only sample is the last one.
    config.sample_every_s = 1e9;
    let tokens_per_step = config.batch_size * size.model().max_seq_len;
    // Enough budget for the warm-up and the timed steps of the widest batch kind.
    config.budget_tokens = ((steps + 3) * tokens_per_step) as u64;
    config.validate()?;
    Ok((mix, name, config))
}

/// Every preset's real training step (batches from the support-desk corpus, the preset's
/// network and losses), from the trainer's own optimizer-step time.
fn preset_rows(args: &BenchArgs, size: ModelSize) -> Result<Vec<BenchRow>, CoreError> {
    let dataset = Dataset::support(1, size.model().vocab_size)?;
    let mut rows = Vec::new();
    for &kind in &args.backends {
        for (preset, _) in PRESETS {
            let (mix, name, config) = preset_config(preset, size, args.steps)?;
            let (mut trainer, _) = block_on(Trainer::start(
                dataset.clone(),
                config,
                mix,
                name.map(String::from),
                backend_for(kind)?,
                Box::new(SystemClock::default()),
            ))?;
            // The trainer's step as `train` runs it: shared over `--threads` on the CPU.
            let threads = args
                .threads
                .min(trainer.config().batch_size)
                .min(MAX_SHARDS);
            if kind == BackendKind::Cpu && threads > 1 {
                trainer.set_parallel(threads, Executor::Threads)?;
            }
            let shared = if trainer.shards() > 1 {
                format!(", {} threads (data-parallel)", trainer.shards())
            } else {
                String::new()
            };
            let label = format!("{}{shared}", trainer.backend_label());
            let summary = loop {
                let events = block_on(trainer.advance())?;
                if let Some(TrainEvent::Finished(s)) = events.into_iter().last() {
                    break s;
                }
            };
            let steps = summary.steps.max(1) as f64;
            let ms = summary.train_s * 1000.0 / steps;
            rows.push(BenchRow {
                what: format!("preset {preset}"),
                engine: format!("burn {label}"),
                size: size.to_string(),
                batch: summary.batch_size,
                seq_len: size.model().max_seq_len,
                d_model: size.model().d_model,
                params: summary.params,
                tokens_per_step: summary.tokens_per_step,
                ms_per_step: ms,
                steps_per_s: 1000.0 / ms,
                tokens_per_s: summary.tokens as f64 / summary.train_s.max(1e-9),
                mfu: None,
                vs_torch: None,
                vs_native: None,
                repeats: 1,
                ms_range: None,
                vs_torch_range: None,
            });
        }
    }
    Ok(rows)
}

/// The scaling sweep: seq_len 64 → 256 at d_model 128, and d_model 64 → 256 at seq_len 64,
/// the rest of the `default` shape kept (d_ff = 4 · d_model).
fn scaling_shapes() -> Vec<(String, StepShape)> {
    let base = ModelSize::Default.model();
    let mut shapes = Vec::new();
    for seq in [64, 128, 256] {
        shapes.push((
            format!("seq {seq}"),
            StepShape {
                model: ModelConfig {
                    max_seq_len: seq,
                    ..base
                },
                batch: 32,
                seq_len: seq,
            },
        ));
    }
    for d in [64, 256] {
        shapes.push((
            format!("d_model {d}"),
            StepShape {
                model: ModelConfig {
                    d_model: d,
                    d_ff: 4 * d,
                    ..base
                },
                batch: 32,
                seq_len: 64,
            },
        ));
    }
    shapes
}

pub fn run(args: &BenchArgs, command: String) -> Result<BenchReport, CoreError> {
    let machine = machine();
    let python = find_python(&args.python);
    if args.python.is_none() && python.is_none() {
        eprintln!(
            "note: no Python with torch found (set PP_TORCH_PYTHON or pass --torch); PyTorch rows skipped"
        );
    }
    if python.is_some() && !std::path::Path::new(&args.reference).exists() {
        return Err(CoreError::Config(format!(
            "the PyTorch reference is not at {} (pass --reference FILE or --no-torch)",
            args.reference
        )));
    }
    let peak = machine.peak_gflops;
    let mut rows = Vec::new();
    let mut shapes: Vec<(&str, String, StepShape)> = args
        .sizes
        .iter()
        .map(|&size| ("step", size.to_string(), StepShape::for_size(size)))
        .collect();
    if args.scaling {
        shapes.extend(
            scaling_shapes()
                .into_iter()
                .map(|(name, shape)| ("scaling", name, shape)),
        );
    }
    for (what, name, shape) in &shapes {
        // Every engine once per repeat, in turn, so slow drifts of a shared machine fall on
        // all of them alike; the capture row (no target) only in the first repeat.
        let mut repeats = Vec::with_capacity(args.repeats);
        for repeat in 0..args.repeats {
            eprintln!(
                "timing {name} ({what}), repeat {}/{}…",
                repeat + 1,
                args.repeats
            );
            repeats.push(step_rows(
                args,
                what,
                name,
                shape,
                python.as_deref(),
                peak,
                repeat == 0,
            )?);
        }
        rows.extend(median_rows(repeats));
    }
    let page = match &args.page {
        Some(page_args) => {
            eprintln!("measuring the page in headless Chromium…");
            let page =
                bench_page::measure(page_args, args.quick, args.steps, args.repeats, &args.sizes)?;
            let page_rows = bench_page::rows(&page, &rows, peak);
            rows.extend(page_rows);
            Some(page)
        }
        None => None,
    };
    if args.presets {
        let size = args.sizes.first().copied().unwrap_or(ModelSize::Fast);
        eprintln!("timing every preset's step ({size})…");
        rows.extend(preset_rows(args, size)?);
    }
    let targets = bench_page::targets(&rows, page.as_ref());
    Ok(BenchReport {
        schema_version: 2,
        command,
        machine,
        steps: args.steps,
        rows,
        page,
        targets,
    })
}

/// The table, as Markdown (the same text goes into `BENCHMARKS.md`).
pub fn table(report: &BenchReport) -> String {
    let mut out = format!(
        "machine: {} — peak {}\nsteps timed per row: {} (after 3 warm-up steps); a row with repeats \
         is the median of that many interleaved repeats, [lowest–highest] beside it\n\n",
        report.machine.cpu, report.machine.how, report.steps
    );
    out.push_str("| what | size | engine | params | tokens/step | ms/step | steps/s | tokens/s | MFU | vs PyTorch | vs native |\n");
    out.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    let spread = |range: Option<(f64, f64)>, digits: usize, unit: &str| {
        range.map_or(String::new(), |(lo, hi)| {
            format!(" [{lo:.digits$}–{hi:.digits$}{unit}]")
        })
    };
    for r in &report.rows {
        let ms = if r.repeats > 1 {
            format!(
                "{:.1}{} ×{}",
                r.ms_per_step,
                spread(r.ms_range, 1, ""),
                r.repeats
            )
        } else {
            format!("{:.1}", r.ms_per_step)
        };
        let vs_torch = r.vs_torch.map_or("–".into(), |v| {
            let range = if r.repeats > 1 {
                r.vs_torch_range
            } else {
                None
            };
            format!("{v:.2}×{}", spread(range, 2, "×"))
        });
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.0} | {} | {} | {} |\n",
            r.what,
            r.size,
            r.engine,
            r.params,
            r.tokens_per_step,
            ms,
            r.steps_per_s,
            r.tokens_per_s,
            r.mfu.map_or("–".into(), |m| format!("{:.1}%", m * 100.0)),
            vs_torch,
            r.vs_native.map_or("–".into(), |v| format!("{v:.2}×")),
        ));
    }
    if let Some(page) = &report.page {
        out.push_str(&bench_page::table(page));
    }
    out.push_str(&bench_page::targets_table(&report.targets));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_become_medians_with_their_spread() {
        let timing = |ms: f64| StepTiming {
            params: 10,
            tokens_per_step: 100,
            steps: 1,
            ms_per_step: ms,
            steps_per_s: 1000.0 / ms,
            tokens_per_s: 100_000.0 / ms,
            flops_per_step: 1.0e6,
            capture: false,
            shards: 1,
        };
        let shape = StepShape::for_size(ModelSize::Fast);
        let repeats: Vec<Vec<BenchRow>> = [(10.0, 0.5), (30.0, 0.2), (20.0, 0.4)]
            .into_iter()
            .map(|(ms, vs)| {
                let mut r = row("step", "burn CPU".into(), "fast", &shape, &timing(ms), 1.0);
                r.vs_torch = Some(vs);
                vec![r]
            })
            .collect();
        let rows = median_rows(repeats);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.ms_per_step, r.repeats), (20.0, 3));
        assert_eq!(r.steps_per_s, 50.0);
        assert_eq!(r.ms_range, Some((10.0, 30.0)));
        assert_eq!(r.vs_torch, Some(0.4), "the median of the paired ratios");
        assert_eq!(r.vs_torch_range, Some((0.2, 0.5)));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
    use crate::core::model::network::Network;
    use crate::core::model::{Architecture, Extras};

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn every_preset_row_is_a_valid_run() {
        for size in [ModelSize::Fast, ModelSize::Default] {
            for (preset, _) in PRESETS {
                let (_, _, config) = preset_config(preset, size, 2)
                    .unwrap_or_else(|e| panic!("{preset} at {size}: {e}"));
                assert_eq!(config.evaluations, 1);
            }
        }
    }

    #[test]
    fn flags_parse_and_quick_mode_is_small() {
        let quick = parse(&args("--quick --out /tmp/b.json")).expect("quick");
        assert_eq!(quick.sizes, vec![ModelSize::Fast]);
        assert_eq!((quick.steps, quick.python.as_deref()), (2, Some("")));
        let full = parse(&args(
            "--steps 10 --sizes default --backend cpu,wgpu --scaling",
        ))
        .expect("full");
        assert_eq!(full.steps, 10);
        assert_eq!(full.backends, vec![BackendKind::Cpu, BackendKind::Wgpu]);
        assert!(full.scaling && full.python.is_none() && full.page.is_none());
        let page = parse(&args("--quick --dist /tmp/d --no-webgpu")).expect("page");
        let page = page.page.expect("--dist asks for the page half");
        assert_eq!((page.dist.as_str(), page.webgpu), ("/tmp/d", false));
        assert!(
            parse(&args("--page"))
                .expect("page")
                .page
                .is_some_and(|p| p.webgpu)
        );
        for bad in [
            "--steps 0",
            "--sizes huge",
            "--backend tpu",
            "--what",
            "--dist",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn torch_flags_parse() {
        let given = parse(&args(
            "--torch-device cuda --torch-threads 2 --reference /tmp/r.py",
        ))
        .expect("torch flags");
        assert_eq!(given.torch_device, "cuda");
        assert_eq!(given.torch_threads, Some(2));
        assert_eq!(given.reference, "/tmp/r.py");
        let plain = parse(&[]).expect("no flags");
        assert_eq!(
            (plain.torch_device.as_str(), plain.torch_threads),
            ("cpu", None)
        );
        for bad in [
            "--torch-device tpu",
            "--torch-threads 0",
            "--torch-threads two",
            "--torch-device",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_reference_is_the_projects_own() {
        assert!(REFERENCE.ends_with("/scripts/torch_reference.py"));
        assert!(
            std::path::Path::new(REFERENCE).is_file(),
            "{REFERENCE} is missing"
        );
    }

    #[test]
    fn the_reference_gets_the_shape_of_each_size() {
        for size in ModelSize::ALL {
            let shape = StepShape::for_size(size);
            let given = torch_args(&shape, 7, "cpu", Some(2));
            let flag = |name: &str| {
                let at = given.iter().position(|a| a == name);
                at.and_then(|i| given.get(i + 1)).cloned()
            };
            assert_eq!(flag("--steps").as_deref(), Some("7"));
            assert_eq!(flag("--device").as_deref(), Some("cpu"));
            assert_eq!(flag("--threads").as_deref(), Some("2"));
            let json = flag("--config").expect("--config");
            let value: serde_json::Value = serde_json::from_str(&json).expect("json");
            let m = size.model();
            assert_eq!(value["batch"], size.batch_size(), "{size}");
            assert_eq!(value["seq_len"], m.max_seq_len, "{size}");
            assert_eq!(value["max_seq_len"], m.max_seq_len, "{size}");
            assert_eq!(value["vocab"], m.vocab_size, "{size}");
            assert_eq!(value["d_model"], m.d_model, "{size}");
            assert_eq!(value["n_layers"], m.n_layers, "{size}");
            assert_eq!(value["n_heads"], m.n_heads, "{size}");
            assert_eq!(value["d_ff"], m.d_ff, "{size}");
        }
        let default = torch_args(&StepShape::for_size(ModelSize::Default), 3, "cuda", None);
        assert!(!default.iter().any(|a| a == "--threads"));
    }

    /// Runs the project's reference with `--check` (no timing, no torch needed; with torch it
    /// also builds the model and checks every tensor) for every shape the bench sends it and
    /// for its own named sizes. Skipped, with a note, where no Python 3 exists.
    #[test]
    fn the_projects_reference_counts_the_labs_parameters() {
        let python = std::env::var("PP_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
        if Command::new(&python).arg("--version").output().is_err() {
            eprintln!("note: no {python}; the reference's --check was not run");
            return;
        }
        let mut shapes: Vec<(String, StepShape)> = ModelSize::ALL
            .iter()
            .map(|&size| (size.to_string(), StepShape::for_size(size)))
            .collect();
        shapes.extend(scaling_shapes());
        let mut command = Command::new(&python);
        command.arg(REFERENCE).arg("--check");
        for (_, shape) in &shapes {
            command.args(["--config", &torch_config(shape)]);
        }
        for size in ModelSize::ALL {
            command.args(["--config", size.name()]);
        }
        let output = command.output().expect("run the reference");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON line per configuration"))
            .collect();
        assert_eq!(lines.len(), shapes.len() + ModelSize::ALL.len());
        let device = crate::core::backend::Backend::cpu().device;
        for ((name, shape), line) in shapes.iter().zip(&lines) {
            let built = Network::init(
                Architecture::Decoder,
                Extras::default(),
                &shape.model,
                0,
                &device,
            )
            .num_params();
            assert_eq!(line["params"], built, "{name}: {line}");
            assert_eq!(line["layout_params"], built, "{name}: {line}");
            assert_eq!(
                line["tokens_per_step"],
                shape.batch * shape.seq_len,
                "{name}: {line}"
            );
        }
        // The script's own `default` and `fast` are the lab's sizes, batch included.
        for (size, line) in ModelSize::ALL.iter().zip(&lines[shapes.len()..]) {
            let sent: serde_json::Value =
                serde_json::from_str(&torch_config(&StepShape::for_size(*size))).expect("json");
            for key in [
                "vocab",
                "d_model",
                "n_layers",
                "n_heads",
                "d_ff",
                "max_seq_len",
                "seq_len",
                "batch",
            ] {
                assert_eq!(line[key], sent[key], "{size}: {key}");
            }
            assert_eq!(line["params"], size.model().decoder_params(), "{size}");
        }
        // A shape it cannot build is refused with a message, not a traceback.
        let bad = Command::new(&python)
            .arg(REFERENCE)
            .args(["--check", "--config", r#"{"vocab": 8, "d_model": 10}"#])
            .output()
            .expect("run the reference");
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("lacks"));
    }

    #[test]
    fn reference_lines_parse_and_a_different_model_is_refused() {
        let new: TorchLine = serde_json::from_str(
            r#"{"config": "json", "engine": "PyTorch 2.9.0 eager", "device": "cpu", "threads": 2,
                "params": 167680, "tokens_per_step": 256, "ms_per_step": 5.0, "ms_median": 4.9,
                "tokens_per_s": 51200.0, "attention": "explicit"}"#,
        )
        .expect("the project's line");
        assert_eq!(new.label(), "PyTorch 2.9.0 eager cpu, 2 threads");
        assert!(new.comparable_with(BackendKind::Cpu) && !new.comparable_with(BackendKind::Wgpu));
        let old: TorchLine = serde_json::from_str(
            r#"{"engine": "pytorch 2.5 eager", "params": 10, "ms_per_step": 1.0, "tokens_per_s": 2.0}"#,
        )
        .expect("an older reference's line");
        assert_eq!(
            (old.label().as_str(), old.tokens_per_step),
            ("pytorch 2.5 eager", None)
        );
        assert!(old.comparable_with(BackendKind::Cpu));
        let cuda: TorchLine = serde_json::from_str(
            r#"{"engine": "PyTorch", "device": "cuda", "threads": 1, "params": 1, "ms_per_step": 1.0, "tokens_per_s": 1.0}"#,
        )
        .expect("a CUDA line");
        assert_eq!(cuda.label(), "PyTorch cuda, 1 thread");
        assert!(cuda.comparable_with(BackendKind::Wgpu) && !cuda.comparable_with(BackendKind::Cpu));

        let shape = StepShape::for_size(ModelSize::Fast);
        let timing = StepTiming {
            params: 167_680,
            tokens_per_step: 256,
            steps: 1,
            ms_per_step: 10.0,
            steps_per_s: 100.0,
            tokens_per_s: 25_600.0,
            flops_per_step: 1.0,
            capture: false,
            shards: 1,
        };
        let burn = row("step", "burn CPU".into(), "fast", &shape, &timing, 100.0);
        assert!(same_model("fast", &burn, &burn.clone()).is_ok());
        for (params, tokens) in [(167_681, 256), (167_680, 255)] {
            let torch = BenchRow {
                params,
                tokens_per_step: tokens,
                ..burn.clone()
            };
            assert!(
                same_model("fast", &burn, &torch).is_err(),
                "{params} {tokens}"
            );
        }
    }
}

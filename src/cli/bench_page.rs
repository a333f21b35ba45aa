//! The browser half of `pretrain-playground bench --page`: runs the headless-Chromium harness
//! (`scripts/bench_browser.cjs`) on the built app, turns what it measured into rows beside the
//! native ones (the page's CPU and WebGPU steps, each against native burn of the same size),
//! and checks the page against the performance targets: bytes and time until Train is enabled,
//! the worker's peak wasm memory while training `default`, main-thread tasks over 50 ms.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::core::bench::{StepShape, StepTiming};
use crate::core::config::ModelSize;
use crate::core::error::CoreError;

use super::bench::{BenchRow, row};

/// Where the harness and the built app are, and what to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PageArgs {
    pub dist: String,
    pub webgpu: bool,
    /// Seconds of real training in the page (steps/s, memory, long tasks).
    pub train_seconds: u64,
}

impl Default for PageArgs {
    fn default() -> Self {
        Self {
            dist: concat!(env!("CARGO_MANIFEST_DIR"), "/dist").into(),
            webgpu: true,
            train_seconds: 30,
        }
    }
}

/// One file fetched before Train was enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchedFile {
    pub file: String,
    pub raw: u64,
    /// gzip -9 of the file, what a host that compresses sends.
    pub gzip: u64,
}

/// One kind of cold load (fresh profile each time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageLoad {
    pub query: String,
    /// The device label the page showed.
    pub backend: String,
    pub ready_ms: Vec<f64>,
    pub median_ready_ms: f64,
    pub files: Vec<FetchedFile>,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
    pub long_tasks_before_ready: usize,
    /// The page's status line as it changed on the way to ready (ms since navigation).
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// What the corpus panel says building the corpus and tokenizer took.
    #[serde(default)]
    pub corpus_timing: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub ms: f64,
    pub text: String,
}

/// What the harness requested of a bench worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageStepRequest {
    pub backend: String,
    pub size: ModelSize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageBackend {
    pub label: String,
    pub software: bool,
}

/// One step timing taken inside a worker of the app's wasm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageStep {
    pub request: PageStepRequest,
    pub timing: StepTiming,
    pub backend: PageBackend,
    pub wasm_bytes: u64,
    /// Which of the harness's interleaved repeats this timing is (0 in older reports).
    #[serde(default)]
    pub repeat: usize,
}

/// The page training `default` on the CPU with its views animating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageTraining {
    pub size: String,
    pub backend: String,
    pub seconds: f64,
    pub steps: f64,
    pub steps_per_s: f64,
    /// The worker's wasm memory as the page showed it (MB, its peak).
    pub worker_memory_mb: Option<f64>,
    pub long_tasks: usize,
    pub long_task_max_ms: f64,
    pub long_task_total_ms: f64,
}

/// The harness's report, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageBench {
    pub dist: String,
    pub chromium: String,
    pub cross_origin_isolated: bool,
    pub loads: Vec<PageLoad>,
    pub steps: Vec<PageStep>,
    pub training: Option<PageTraining>,
    /// Loads over an emulated classroom network, each to its first training step.
    #[serde(default)]
    pub first_steps: Vec<FirstStep>,
}

/// One load over an emulated link (the harness's server shapes it): navigation to Train
/// enabled, then Train pressed at once and the first step reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstStep {
    pub path: String,
    pub query: String,
    pub mbit: f64,
    pub latency_ms: f64,
    pub ready_ms: f64,
    pub first_step_ms: f64,
}

/// `$NODE_PATH`, or the npm tools `scripts/setup.sh` installs (playwright-core).
fn node_path() -> String {
    std::env::var("NODE_PATH").unwrap_or_else(|_| {
        let cache = std::env::var("PP_CACHE").unwrap_or_else(|_| {
            format!(
                "{}/.cache/pretrain-playground",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        format!("{cache}/npm/node_modules")
    })
}

/// Runs the harness and reads its report.
pub fn measure(
    page: &PageArgs,
    quick: bool,
    steps: usize,
    repeats: usize,
    sizes: &[ModelSize],
) -> Result<PageBench, CoreError> {
    if !Path::new(&page.dist).join("index.html").exists() {
        return Err(CoreError::Config(format!(
            "no built app in {} (build it: `trunk build --release`, or pass --dist DIR)",
            page.dist
        )));
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench_browser.cjs");
    let json = std::env::temp_dir().join(format!("pp-bench-page-{}.json", std::process::id()));
    let sizes: Vec<String> = sizes.iter().map(ToString::to_string).collect();
    let mut command = Command::new("node");
    command
        .env("NODE_PATH", node_path())
        .arg(script)
        .args(["--dist", &page.dist, "--json"])
        .arg(&json)
        .args(["--steps", &steps.to_string(), "--sizes", &sizes.join(",")])
        .args(["--repeats", &repeats.to_string()])
        .args(["--train-seconds", &page.train_seconds.to_string()]);
    if quick {
        command.arg("--quick");
    }
    if !page.webgpu {
        command.arg("--no-webgpu");
    }
    let status = command
        .status()
        .map_err(|e| CoreError::Config(format!("could not run node {script}: {e}")))?;
    if !status.success() {
        return Err(CoreError::Config(format!(
            "the browser harness failed ({status}); its message is above"
        )));
    }
    let text = std::fs::read_to_string(&json)
        .map_err(|e| CoreError::Config(format!("the harness wrote no report: {e}")))?;
    let _ = std::fs::remove_file(&json);
    serde_json::from_str(&text)
        .map_err(|e| CoreError::Config(format!("could not read the harness's report: {e}")))
}

/// The page's step timings as rows: the median of the harness's interleaved repeats (each
/// request timed once per repeat, in turn), the CPU ones against native burn's CPU row of the
/// same size on as many threads as the page had workers.
pub fn rows(bench: &PageBench, native: &[BenchRow], peak_gflops: f64) -> Vec<BenchRow> {
    let repeats = bench
        .steps
        .iter()
        .map(|s| s.repeat)
        .max()
        .map_or(0, |m| m + 1);
    let per_repeat: Vec<Vec<BenchRow>> = (0..repeats)
        .map(|repeat| {
            bench
                .steps
                .iter()
                .filter(|s| s.repeat == repeat)
                .map(|s| page_row(s, peak_gflops))
                .collect()
        })
        .collect();
    super::bench::median_rows(per_repeat)
        .into_iter()
        .map(|mut r| {
            // The page's CPU against native burn's CPU; WebGPU's peer is a GPU, not this row.
            if r.engine.starts_with("page wasm CPU") {
                let workers = bench
                    .steps
                    .iter()
                    .find(|s| page_row(s, peak_gflops).engine == r.engine)
                    .map_or(1, |s| s.timing.shards);
                r.vs_native =
                    native_cpu_on(native, &r.size, workers).map(|n| r.steps_per_s / n.steps_per_s);
            }
            r
        })
        .collect()
}

fn page_row(s: &PageStep, peak_gflops: f64) -> BenchRow {
    let size = s.request.size.to_string();
    let shape = StepShape::for_size(s.request.size);
    let workers = s.timing.shards;
    let engine = if s.backend.label.starts_with("WebGPU") {
        format!("page {}", s.backend.label)
    } else if workers > 1 {
        format!("page wasm CPU, {workers} workers (data-parallel)")
    } else {
        "page wasm CPU".to_string()
    };
    row("step", engine, &size, &shape, &s.timing, peak_gflops)
}

/// Native burn's CPU row for a size on `threads` threads (1: the plain step).
pub fn native_cpu_on<'a>(rows: &'a [BenchRow], size: &str, threads: usize) -> Option<&'a BenchRow> {
    if threads <= 1 {
        return native_cpu(rows, size);
    }
    let shared = format!(", {threads} threads");
    rows.iter().find(|r| {
        r.what == "step"
            && r.size == size
            && r.engine.starts_with("burn CPU")
            && r.engine.contains(&shared)
    })
}

/// Native burn's CPU row (no capture) for a size.
pub fn native_cpu<'a>(rows: &'a [BenchRow], size: &str) -> Option<&'a BenchRow> {
    rows.iter()
        .find(|r| r.what == "step" && r.size == size && r.engine.starts_with("burn CPU"))
}

/// The load, memory and responsiveness figures, as Markdown.
pub fn table(bench: &PageBench) -> String {
    let mut out = format!(
        "\npage: {} in headless Chromium {} (cross-origin isolated: {})\n\n",
        bench.dist, bench.chromium, bench.cross_origin_isolated
    );
    out.push_str(
        "| cold load | device | files | raw | gzip -9 | time to Train enabled (median of runs) |\n",
    );
    out.push_str("| --- | --- | --- | ---: | ---: | --- |\n");
    for l in &bench.loads {
        let files: Vec<String> = l
            .files
            .iter()
            .filter(|f| f.raw > 10_000)
            .map(|f| format!("{} {:.2} MB", f.file.trim_start_matches('/'), mb(f.gzip)))
            .collect();
        let runs: Vec<String> = l.ready_ms.iter().map(|ms| format!("{ms:.0}")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {:.2} MB | {:.2} MB | {:.0} ms ({}) |\n",
            l.query,
            l.backend,
            files.join(", "),
            mb(l.raw_bytes),
            mb(l.gzip_bytes),
            l.median_ready_ms,
            runs.join(", ")
        ));
    }
    if let Some(t) = &bench.training {
        out.push_str(&format!(
            "\ntraining {} on the {} in the page for {:.0} s: {:.2} steps/s; worker wasm memory {}; main-thread tasks over 50 ms: {} (longest {:.0} ms, {:.0} ms in all)\n",
            t.size,
            t.backend,
            t.seconds,
            t.steps_per_s,
            t.worker_memory_mb.map_or("not reported".into(), |m| format!("{m:.0} MB")),
            t.long_tasks,
            t.long_task_max_ms,
            t.long_task_total_ms
        ));
    }
    out
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// One line of the targets table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// Every target of the performance issue against this run's figures (`None`: not measured).
pub fn targets(rows: &[BenchRow], page: Option<&PageBench>) -> Vec<TargetCheck> {
    let mut out = Vec::new();
    // A ratio against its target, and against the issue's hard floor where it has one.
    let ratio = |what: String, target: f64, floor: Option<f64>, value: Option<f64>| {
        let floor_note = floor.map_or(String::new(), |f| format!("; hard floor ≥ {f:.1}×"));
        TargetCheck {
            what,
            target: format!("≥ {target:.1}×{floor_note}"),
            measured: value.map_or("not measured".into(), |v| {
                let floor_met = match floor {
                    Some(f) if v >= f => " (floor met)",
                    Some(_) => " (below the floor)",
                    None => "",
                };
                format!("{v:.2}×{floor_met}")
            }),
            met: value.map(|v| v >= target),
        }
    };
    // Native: the fastest CPU row of the size (one thread or shared over threads) against
    // PyTorch's CPU row, both on the machine's cores.
    for (size, floor) in [("default", Some(0.5)), ("fast", None)] {
        let best = rows
            .iter()
            .filter(|r| r.what == "step" && r.size == size && r.engine.starts_with("burn CPU"))
            .filter_map(|r| r.vs_torch)
            .reduce(f64::max);
        out.push(ratio(
            format!("native CPU vs PyTorch CPU (both on the machine's cores), `{size}`"),
            1.0,
            floor,
            best,
        ));
    }
    // The page's CPU fallback against native on the same size and the same number of
    // workers / threads.
    for size in ["default", "fast"] {
        for r in rows
            .iter()
            .filter(|r| r.size == size && r.engine.starts_with("page wasm CPU"))
        {
            out.push(ratio(
                format!("page CPU fallback vs native CPU, `{size}` ({})", r.engine),
                0.5,
                None,
                r.vs_native,
            ));
        }
    }
    // The bare `default` step in the page against its 0.95 steps/s before this issue.
    let page_default = rows
        .iter()
        .filter(|r| r.size == "default" && r.engine.starts_with("page wasm CPU"))
        .map(|r| r.steps_per_s)
        .reduce(f64::max);
    out.push(ratio(
        "steps/s of the page's CPU fallback at `default` against 0.95 before".into(),
        1.6,
        Some(1.3),
        page_default.map(|v| v / PAGE_DEFAULT_BEFORE),
    ));
    let webgpu = page.and_then(|p| p.loads.iter().find(|l| l.query.contains("size=fast")));
    out.push(TargetCheck {
        what: "bytes until the first WebGPU training step, gzipped".into(),
        target: "≤ 4 MB".into(),
        measured: webgpu.map_or("not measured".into(), |l| {
            format!("{:.2} MB", mb(l.gzip_bytes))
        }),
        met: webgpu.map(|l| l.gzip_bytes <= 4_000_000),
    });
    for first in page.map_or(&[][..], |p| &p.first_steps[..]) {
        out.push(TargetCheck {
            what: format!(
                "time until the first training step, {} Mbit/s and {} ms ({}, `{}`)",
                first.mbit, first.latency_ms, first.path, first.query
            ),
            target: "≤ 4 s".into(),
            measured: format!(
                "{:.2} s to Train enabled, first step done at {:.2} s",
                first.ready_ms / 1000.0,
                first.first_step_ms / 1000.0
            ),
            met: Some(first.first_step_ms <= 4000.0),
        });
    }
    out.push(TargetCheck {
        what: "native wgpu and page WebGPU vs PyTorch CUDA on the same GPU".into(),
        target: "≥ 0.5×".into(),
        measured: "not measured: no GPU machine lent to this run".into(),
        met: None,
    });
    let training = page.and_then(|p| p.training.as_ref());
    let memory = training.and_then(|t| t.worker_memory_mb);
    out.push(TargetCheck {
        what: "peak wasm memory training `default` (the training worker)".into(),
        target: "≤ 256 MB".into(),
        measured: memory.map_or("not measured".into(), |m| format!("{m:.0} MB")),
        met: memory.map(|m| m <= 256.0),
    });
    out.push(TargetCheck {
        what: "main-thread tasks over 50 ms while training".into(),
        target: "0".into(),
        measured: training.map_or("not measured".into(), |t| {
            format!("{} (longest {:.0} ms)", t.long_tasks, t.long_task_max_ms)
        }),
        met: training.map(|t| t.long_tasks == 0),
    });
    out
}

/// Steps/s of the bare `default` step on the page's CPU fallback before the data-parallel
/// workers (BENCHMARKS.md, 2026-11-23: 1,048 ms/step, release build, this 2-core machine).
pub const PAGE_DEFAULT_BEFORE: f64 = 0.95;

/// The targets as Markdown.
pub fn targets_table(checks: &[TargetCheck]) -> String {
    let mut out =
        String::from("\n| target | wanted | measured | met |\n| --- | --- | --- | --- |\n");
    for c in checks {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.what,
            c.target,
            c.measured,
            match c.met {
                Some(true) => "yes",
                Some(false) => "no",
                None => "–",
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness's JSON, as `scripts/bench_browser.cjs` writes it (trimmed).
    const REPORT: &str = r#"{
 "dist": "/x/dist", "chromium": "156.0", "cross_origin_isolated": true, "user_agent": "ua",
 "loads": [{"query": "?size=default&backend=cpu", "backend": "CPU (chosen in the URL)",
   "ready_ms": [1500, 1700, 1600], "median_ready_ms": 1600,
   "files": [{"file": "/app_bg.wasm", "raw": 9000000, "gzip": 2000000, "wire": 2000000, "encoding": "gzip"}],
   "raw_bytes": 9000000, "gzip_bytes": 3500000, "long_tasks_before_ready": 1}],
 "steps": [{"request": {"backend": "cpu", "size": "fast", "warmup": 1, "steps": 2, "capture": false},
   "timing": {"params": 168000, "tokens_per_step": 256, "steps": 2, "ms_per_step": 40.0,
     "steps_per_s": 25.0, "tokens_per_s": 6400.0, "flops_per_step": 1.0e9, "capture": false},
   "backend": {"kind": "cpu", "label": "CPU (chosen in the URL)", "fallback_reason": null, "software": true},
   "wasm_bytes": 30000000}],
 "training": {"size": "default", "backend": "cpu", "seconds": 30, "steps": 12, "steps_per_s": 0.4,
   "tokens_per_s_shown": 800, "worker_memory_mb": 180,
   "long_tasks": 0, "long_task_max_ms": 0, "long_task_total_ms": 0}
}"#;

    fn native_fast() -> BenchRow {
        let shape = StepShape::for_size(ModelSize::Fast);
        let timing = StepTiming {
            params: 168_000,
            tokens_per_step: 256,
            steps: 2,
            ms_per_step: 10.0,
            steps_per_s: 100.0,
            tokens_per_s: 25_600.0,
            flops_per_step: 1.0e9,
            capture: false,
            shards: 1,
        };
        let mut r = row("step", "burn CPU".into(), "fast", &shape, &timing, 100.0);
        r.vs_torch = Some(0.9);
        r
    }

    #[test]
    fn the_harness_report_becomes_rows_against_native_and_target_checks() {
        let bench: PageBench = serde_json::from_str(REPORT).expect("the harness's report parses");
        let native = vec![native_fast()];
        let page_rows = rows(&bench, &native, 100.0);
        assert_eq!(page_rows.len(), 1);
        assert_eq!(page_rows[0].engine, "page wasm CPU");
        assert_eq!(page_rows[0].vs_native, Some(0.25));
        let all: Vec<BenchRow> = native.into_iter().chain(page_rows).collect();
        let checks = targets(&all, Some(&bench));
        let find = |what: &str| {
            checks
                .iter()
                .find(|c| c.what.starts_with(what))
                .unwrap_or_else(|| panic!("no check for {what}"))
        };
        assert_eq!(
            find("native CPU vs PyTorch CPU (both on the machine's cores), `fast`").met,
            Some(false)
        );
        assert_eq!(
            find("native CPU vs PyTorch CPU (both on the machine's cores), `default`").met,
            None
        );
        assert_eq!(
            find("page CPU fallback vs native CPU, `fast` (page wasm CPU)").met,
            Some(false)
        );
        assert_eq!(
            find("steps/s of the page's CPU fallback").met,
            None,
            "no default row"
        );
        assert_eq!(find("bytes until the first WebGPU").met, None);
        assert_eq!(find("peak wasm memory").met, Some(true));
        assert_eq!(find("main-thread tasks").met, Some(true));
        let table = targets_table(&checks);
        assert!(
            table.contains(
                "| native CPU vs PyTorch CPU (both on the machine's cores), `default` | ≥ 1.0×; hard floor ≥ 0.5× | not measured | – |"
            ),
            "{table}"
        );
        // A default page row on two workers: against native on two threads, and against the
        // page's 0.95 steps/s before.
        let mut two = native_fast();
        two.size = "default".into();
        two.engine = "burn CPU (burn flex), 2 threads (data-parallel)".into();
        two.steps_per_s = 4.0;
        let mut shared: PageBench = serde_json::from_str(REPORT).expect("report");
        shared.steps[0].request.size = ModelSize::Default;
        shared.steps[0].timing.shards = 2;
        shared.steps[0].timing.steps_per_s = 1.4;
        shared.steps[0].timing.ms_per_step = 1000.0 / 1.4;
        // A second repeat, slower: the row is the median of the two.
        let mut again = shared.steps[0].clone();
        again.repeat = 1;
        again.timing.ms_per_step = 1000.0 / 1.0;
        shared.steps.push(again);
        let page_two = rows(&shared, &[two], 100.0);
        assert_eq!(
            page_two[0].engine,
            "page wasm CPU, 2 workers (data-parallel)"
        );
        assert_eq!(page_two.len(), 1, "one row from two repeats");
        assert_eq!(page_two[0].repeats, 2);
        let median_steps = 1000.0 / ((1000.0 / 1.4 + 1000.0) / 2.0);
        assert_eq!(page_two[0].vs_native, Some(median_steps / 4.0));
        let checks = targets(&page_two, Some(&shared));
        let gain = checks
            .iter()
            .find(|c| c.what.starts_with("steps/s of the page's CPU fallback"))
            .expect("gain");
        assert_eq!(gain.met, Some(false));
        assert_eq!(
            gain.measured,
            format!(
                "{:.2}× (below the floor)",
                median_steps / PAGE_DEFAULT_BEFORE
            )
        );
        assert!(super::table(&bench).contains("1600 ms (1500, 1700, 1600)"));
    }

    #[test]
    fn a_missing_build_is_a_clear_error() {
        let page = PageArgs {
            dist: "/nonexistent/dist".into(),
            ..PageArgs::default()
        };
        let err = measure(&page, true, 2, 1, &[ModelSize::Fast]).expect_err("no build");
        assert!(
            err.to_string()
                .contains("no built app in /nonexistent/dist"),
            "{err}"
        );
    }
}

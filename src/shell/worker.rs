//! The training worker: owns the device, the data and the model, and talks to the page only
//! through [`WorkerInput`] / [`WorkerOutput`]. Training runs here so the page stays responsive;
//! between steps the loop yields to the worker's event loop so Pause and Reset are heard.
//!
//! What the worker is doing is one [`Phase`], so a message that arrives while a step, the
//! first evaluation or a corpus check is awaited has exactly one meaning; every output is
//! tagged with the page's number for the run it concerns ([`crate::protocol::RunTags`]), and a
//! task that finds its run replaced when it wakes posts nothing.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use crate::core::audit::{self, AuditLine};
use crate::core::backend::Backend;
use crate::core::bench::{StepShape, time_training_step};
use crate::core::config::{ModelSize, RunConfig};
use crate::core::corpus::custom::Needs;
use crate::core::corpus::view::{CorpusTimings, CorpusView};
use crate::core::corpus::{CorpusInput, export};
use crate::core::data::{self, Dataset};
use crate::core::error::CoreError;
use crate::core::eval::run::{EvalControl, EvalSizes, RunToEvaluate, evaluate_run};
use crate::core::exec::{Checkpoint, Clock};
use crate::core::mix::ObjectiveMix;
use crate::core::plan::plan;
use crate::core::saved::{self, LoadedRun, SavedFiles};
use crate::core::summary::{BackendKind, RunSummary, StepReport, TrainEvent};
use crate::core::train::Trainer;
use crate::core::train::shards::Executor;
use crate::protocol::{
    AUTO_WORKERS, BackendInfo, BenchRequest, ReadyInfo, Settings, WorkerInput, WorkerOutput,
};

use super::gpu::choose_backend;

mod helpers;
mod viz;

/// `performance.now()` of the worker, in seconds.
struct PerformanceClock;

impl Clock for PerformanceClock {
    fn now_s(&self) -> f64 {
        js_sys::global()
            .dyn_into::<DedicatedWorkerGlobalScope>()
            .ok()
            .and_then(|scope| scope.performance())
            .map_or(0.0, |p| p.now() / 1000.0)
    }
}

/// The tokenized corpus of the last prepared run, kept so Reset and a new seed do not
/// retrain the tokenizer, with its fingerprint once computed.
struct CachedData {
    key: (CorpusInput, u64, usize),
    /// Shared so the shortcut audit can read it across its awaits without holding the state.
    dataset: Rc<Dataset>,
    fingerprint: Option<String>,
    /// The shortcut audit's lines, once computed.
    audit: Option<Vec<AuditLine>>,
    timings: CorpusTimings,
}

/// A checkpoint of the cooperative corpus build ([`data::build_dataset`]) that yields to the
/// worker's event loop once [`YIELD_EVERY_S`] has passed since the last yield, so Pause, Reset,
/// the tokenizer view and the training loop are served while a student's text is built.
struct YieldEvery {
    last: f64,
}

/// Longest stretch of corpus building between two turns of the event loop, give or take one
/// checkpoint interval (the core places checkpoints so none is more than ~0.25 s apart natively
/// on a 5 MB text; see `own_text_builds_in_short_slices_whatever_the_text`).
const YIELD_EVERY_S: f64 = 0.05;

impl YieldEvery {
    fn new() -> Self {
        Self {
            last: PerformanceClock.now_s(),
        }
    }
}

impl Checkpoint for YieldEvery {
    fn checkpoint(&mut self) -> impl std::future::Future<Output = ()> {
        let now = PerformanceClock.now_s();
        let due = now - self.last >= YIELD_EVERY_S;
        async move {
            if due {
                yield_now().await;
                self.last = PerformanceClock.now_s();
            }
        }
    }
}

/// Builds the corpus and tokenizes it, timing both, yielding to the event loop as it goes.
async fn build_dataset(
    input: &CorpusInput,
    corpus_seed: u64,
    needs: Needs,
    vocab_size: usize,
) -> Result<(Dataset, CorpusTimings), CoreError> {
    data::build_dataset(
        input,
        corpus_seed,
        needs,
        vocab_size,
        &PerformanceClock,
        &mut YieldEvery::new(),
    )
    .await
}

/// What the worker is doing with its run. The trainer lives in the phase that owns it: in
/// `Idle`, or out with the task of `Priming` / `Training` across their awaits.
#[derive(Default)]
enum Phase {
    /// No run yet, or one being prepared (corpus, tokenizer, model).
    #[default]
    Preparing,
    /// The trainer is out measuring the starting loss; Train meanwhile sets `train_requested`
    /// and the run starts when the trainer is back.
    Priming { train_requested: bool },
    /// A run that is not training: not started, paused, finished or failed.
    Idle(Box<Trainer>),
    /// The training loop holds the trainer; Pause sets `pause_requested` and the loop stops
    /// after the step in flight.
    Training { pause_requested: bool },
    /// A saved run the page loaded: looked at, sampled and reset, not trained.
    Loaded(Box<LoadedRun>),
    /// The evaluation holds the trainer; CancelEvaluation sets `cancel_requested` and it stops
    /// at its next stage.
    Evaluating { cancel_requested: bool },
}

#[derive(Default)]
struct State {
    settings: Option<Settings>,
    backend: Option<(Backend, BackendInfo)>,
    phase: Phase,
    /// Bumped by Prepare, Reset, an accepted corpus and a loaded run: a task started for an
    /// older generation drops its work when it wakes.
    generation: u64,
    /// The page's number for the current run (see [`crate::protocol::RunTags`]).
    run: u64,
    data: Option<CachedData>,
    /// The wasm memory size last reported to the page.
    memory_reported: u64,
    /// Whether the page shows live heatmaps (the training loop then captures heads).
    watch_heads: bool,
    /// The helper workers of the data-parallel CPU step, kept across runs.
    helpers: Option<Rc<helpers::Pool>>,
}

impl State {
    /// Stops and drops the current run, trained or loaded, and starts a new generation (run
    /// number `run`) so work begun for the old one is dropped. Returns the summary of a run
    /// cut short before its end (when its trainer is at hand).
    fn end_run(&mut self, run: u64) -> Option<RunSummary> {
        let cut_short = match &mut self.phase {
            Phase::Idle(t) if t.is_primed() && !t.is_done() => Some(t.cancel()),
            _ => None,
        };
        self.phase = Phase::Preparing;
        self.generation += 1;
        self.run = run;
        cut_short
    }

    /// The tag of the current run, for a task that started at `generation`; `None` when that
    /// run has been replaced.
    fn still(&self, generation: u64) -> Option<u64> {
        (self.generation == generation).then_some(self.run)
    }

    fn busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::Training { .. } | Phase::Priming { .. } | Phase::Evaluating { .. }
        )
    }
}

type Shared = Rc<RefCell<State>>;

/// Bytes of this worker's wasm linear memory (it grows and never shrinks).
fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|memory| memory.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |buffer| buffer.byte_length() as u64)
}

/// Tells the page when the wasm memory has grown since the last report.
fn report_memory(state: &Shared) {
    let bytes = wasm_memory_bytes();
    let grew = {
        let mut s = state.borrow_mut();
        let grew = bytes > s.memory_reported;
        s.memory_reported = s.memory_reported.max(bytes);
        grew
    };
    if grew {
        post_any(&WorkerOutput::Memory { wasm_bytes: bytes });
    }
}

fn scope() -> Option<DedicatedWorkerGlobalScope> {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .ok()
}

/// Posts `output` tagged with run `run` (or untagged: it concerns whatever is current).
fn post_tagged(run: Option<u64>, output: &WorkerOutput) {
    // Bytes (saved weights, a live capture's head weights) travel as one `Uint8Array`.
    let serializer =
        serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false);
    match serde::Serialize::serialize(output, &serializer) {
        Ok(value) => {
            if let Some(run) = run {
                let _ = js_sys::Reflect::set(&value, &"run".into(), &JsValue::from(run as f64));
            }
            if let Some(scope) = scope()
                && let Err(e) = scope.post_message(&value)
            {
                web_sys::console::warn_2(&"could not post to the page".into(), &e);
            }
        }
        Err(e) => {
            web_sys::console::warn_1(&format!("could not serialise a worker message: {e}").into())
        }
    }
}

/// Posts what concerns run `run`.
fn post(run: u64, output: &WorkerOutput) {
    post_tagged(Some(run), output);
}

/// Posts what concerns no run in particular.
fn post_any(output: &WorkerOutput) {
    post_tagged(None, output);
}

fn post_error(run: u64, message: String, fatal: bool) {
    post(run, &WorkerOutput::Error { message, fatal });
}

/// Lets the worker's event loop run (so queued messages are handled) without the 4 ms clamp
/// that nested `setTimeout`s get.
async fn yield_now() {
    let Ok(channel) = MessageChannel::new() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        channel.port1().set_onmessage(Some(&resolve));
    });
    if channel.port2().post_message(&JsValue::NULL).is_ok() {
        let _ = JsFuture::from(promise).await;
    }
    channel.port1().set_onmessage(None);
}

/// Installs the message handler and the panic hook. Called once from the worker's entry point.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // The wasm instance is unusable after a panic: tell the page, which starts a new one.
        post_any(&WorkerOutput::Crashed {
            message: info.to_string(),
        });
    }));
    let Some(scope) = scope() else {
        web_sys::console::error_1(&"the worker entry point ran outside a dedicated worker".into());
        return;
    };
    let state: Shared = Rc::new(RefCell::new(State::default()));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let run = js_sys::Reflect::get(&data, &"run".into())
            .ok()
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64);
        match serde_wasm_bindgen::from_value::<WorkerInput>(data) {
            Ok(input) => handle(&state, input, run),
            Err(e) => post_any(&WorkerOutput::Error {
                message: format!("the worker did not understand a message: {e}"),
                fatal: false,
            }),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    // Messages sent before this point had no listener: tell the page it may start now.
    post_any(&WorkerOutput::Loaded);
}

/// Handles one message from the page; `run` is the page's number for the run it concerns.
fn handle(state: &Shared, input: WorkerInput, run: Option<u64>) {
    let current = state.borrow().run;
    // Train and Pause for a run the page has since replaced mean nothing now.
    let stale = run.is_some_and(|r| r != current);
    match input {
        WorkerInput::Prepare(settings) => {
            let generation = {
                let mut s = state.borrow_mut();
                s.settings = Some(settings);
                s.end_run(run.unwrap_or(current + 1));
                s.generation
            };
            spawn_local(prepare(state.clone(), generation));
        }
        WorkerInput::Reset => {
            let generation = {
                let mut s = state.borrow_mut();
                let old = s.run;
                if let Some(summary) = s.end_run(run.unwrap_or(current + 1)) {
                    post(
                        old,
                        &WorkerOutput::Event(TrainEvent::Finished(Box::new(summary))),
                    );
                }
                s.generation
            };
            spawn_local(prepare(state.clone(), generation));
        }
        WorkerInput::Train if !stale => {
            let mut s = state.borrow_mut();
            match &mut s.phase {
                Phase::Priming { train_requested } => *train_requested = true,
                Phase::Training { pause_requested } => *pause_requested = false,
                Phase::Idle(trainer) if !trainer.is_done() => {
                    let Phase::Idle(trainer) = std::mem::replace(
                        &mut s.phase,
                        Phase::Training {
                            pause_requested: false,
                        },
                    ) else {
                        return;
                    };
                    let generation = s.generation;
                    drop(s);
                    spawn_local(train(state.clone(), *trainer, generation));
                }
                _ => {}
            }
        }
        WorkerInput::Pause if !stale => {
            let mut s = state.borrow_mut();
            match &mut s.phase {
                Phase::Training { pause_requested } => *pause_requested = true,
                // A Train that came while priming has no loop to answer the Pause: answer here.
                Phase::Priming { train_requested } if *train_requested => {
                    *train_requested = false;
                    let run = s.run;
                    drop(s);
                    post(
                        run,
                        &WorkerOutput::Paused {
                            step: 0,
                            reason: None,
                        },
                    );
                }
                _ => {}
            }
        }
        WorkerInput::Train | WorkerInput::Pause => {}
        WorkerInput::UseCorpus(input) => {
            spawn_local(use_corpus(state.clone(), input, run.unwrap_or(current)))
        }
        WorkerInput::Tokenize { text } => tokenize(state, text),
        WorkerInput::Shard(request) => helpers::compute(*request),
        WorkerInput::LoadRun(files) => {
            spawn_local(load_run(state.clone(), *files, run.unwrap_or(current)))
        }
        WorkerInput::Bench(request) => spawn_local(bench(state.clone(), request)),
        WorkerInput::Evaluate => {
            let mut s = state.borrow_mut();
            if !matches!(&s.phase, Phase::Idle(t) if t.is_primed()) {
                let run = s.run;
                drop(s);
                post(
                    run,
                    &WorkerOutput::EvaluationStopped {
                        message: "Pause the run first: a run is evaluated between steps.".into(),
                    },
                );
                return;
            }
            let Phase::Idle(trainer) = std::mem::replace(
                &mut s.phase,
                Phase::Evaluating {
                    cancel_requested: false,
                },
            ) else {
                return;
            };
            let generation = s.generation;
            drop(s);
            spawn_local(evaluate(state.clone(), *trainer, generation));
        }
        WorkerInput::Preview { slot, mix, example } => {
            spawn_local(viz::send_preview(state.clone(), slot, mix, example))
        }
        WorkerInput::WatchHeads { on } => {
            let idle = {
                let mut s = state.borrow_mut();
                let was = std::mem::replace(&mut s.watch_heads, on);
                on && !was && matches!(s.phase, Phase::Idle(_))
            };
            if idle {
                spawn_local(viz::capture_idle(state.clone()));
            }
        }
        WorkerInput::CancelEvaluation => {
            if let Phase::Evaluating { cancel_requested } = &mut state.borrow_mut().phase {
                *cancel_requested = true;
            }
        }
        WorkerInput::SaveModel { key, summary } => {
            save_model(state, key, *summary, run.unwrap_or(current))
        }
    }
}

/// Writes the current run's model as a saved run's files for the page to keep (`SaveModel`).
/// What it needs is taken now, so a Prepare that follows at once (the next run of a race)
/// does not lose it; the weights are then read back asynchronously.
fn save_model(state: &Shared, key: String, summary: RunSummary, asked_of: u64) {
    let found = {
        let s = state.borrow();
        match &s.phase {
            // The page asked about another run than the one here (a Reset or a new set-up
            // came first): its weights are gone.
            _ if s.run != asked_of => None,
            // Only the run the row is of (a Reset or the next race run has another).
            Phase::Idle(trainer)
                if trainer.config().seed == summary.seed && trainer.step() == summary.steps =>
            {
                trainer.network().map(|network| {
                    (
                        network.valid(),
                        saved::SavedConfig::of(trainer),
                        trainer.tokenizer().clone(),
                    )
                })
            }
            Phase::Loaded(run)
                if run.summary.seed == summary.seed && run.summary.steps == summary.steps =>
            {
                Some((
                    run.network.valid(),
                    run.saved.clone(),
                    run.tokenizer.clone(),
                ))
            }
            _ => None,
        }
    };
    let Some((network, config, tokenizer)) = found else {
        post_any(&WorkerOutput::ModelNotSaved {
            key,
            message: "the run's model is busy (training or being evaluated) or gone; keep it once the run has finished".into(),
        });
        return;
    };
    spawn_local(async move {
        let output = match saved::save_async(&network, &config, &tokenizer, &summary).await {
            Ok(files) => WorkerOutput::ModelFiles {
                key,
                files: Box::new(files),
            },
            Err(e) => WorkerOutput::ModelNotSaved {
                key,
                message: e.to_string(),
            },
        };
        post_any(&output);
    });
}

/// The evaluation's control in the worker: yields like the corpus build, posts progress, and
/// stops when the page cancels or replaces the run.
struct WorkerEval {
    state: Shared,
    generation: u64,
    run: u64,
    yields: YieldEvery,
}

impl Checkpoint for WorkerEval {
    fn checkpoint(&mut self) -> impl std::future::Future<Output = ()> {
        self.yields.checkpoint()
    }
}

impl EvalControl for WorkerEval {
    fn progress(&mut self, done: usize, total: usize, what: &str) {
        post(
            self.run,
            &WorkerOutput::Evaluating {
                done,
                total,
                what: what.to_string(),
            },
        );
    }

    fn cancelled(&self) -> bool {
        let s = self.state.borrow();
        s.still(self.generation).is_none()
            || matches!(
                s.phase,
                Phase::Evaluating {
                    cancel_requested: true
                }
            )
    }
}

/// Evaluates the trainer's network (the phase is already `Evaluating`), then puts the trainer
/// back `Idle` and posts the result. A run replaced meanwhile posts nothing.
async fn evaluate(state: Shared, trainer: Trainer, generation: u64) {
    let Some(run) = state.borrow().still(generation) else {
        return;
    };
    let label = trainer.backend_label().to_string();
    let model_config = trainer.config().size.model();
    let mut control = WorkerEval {
        state: state.clone(),
        generation,
        run,
        yields: YieldEvery::new(),
    };
    let started = PerformanceClock.now_s();
    let result = match trainer.network() {
        Some(network) => {
            let target = RunToEvaluate {
                network,
                plan: trainer.plan(),
                model_config: &model_config,
                seed: trainer.config().seed,
                dataset: trainer.dataset(),
            };
            let sizes = state
                .borrow()
                .settings
                .as_ref()
                .map_or(EvalSizes::PAGE, |s| s.eval.sizes());
            evaluate_run(target, sizes, &label, &mut control).await
        }
        None => Err(CoreError::Config(
            "there is no trained network to evaluate".into(),
        )),
    };
    let kind = state.borrow().backend.as_ref().map(|(b, _)| b.kind);
    let step = trainer.step();
    let last = trainer.is_done();
    {
        let mut s = state.borrow_mut();
        if s.still(generation).is_none() {
            return;
        }
        s.phase = Phase::Idle(Box::new(trainer));
    }
    match result {
        Ok(mut evaluation) => {
            evaluation.eval_s = Some(PerformanceClock.now_s() - started);
            post(
                run,
                &WorkerOutput::Evaluated {
                    evaluation: Box::new(evaluation),
                    step,
                    last,
                },
            )
        }
        Err(CoreError::Cancelled) => post(
            run,
            &WorkerOutput::EvaluationStopped {
                message: "Evaluation cancelled.".into(),
            },
        ),
        Err(e) => {
            post(
                run,
                &WorkerOutput::EvaluationStopped {
                    message: format!("The evaluation failed: {e}"),
                },
            );
            if kind.is_some_and(|k| is_fatal(k, &e)) {
                post_error(run, e.to_string(), true);
            }
        }
    }
    report_memory(&state);
}

/// Most steps one `Bench` may time (a slip of the harness should not hold a worker for hours).
const BENCH_MAX_STEPS: usize = 1_000;

/// Times the training step on this worker's device, exactly as the native bench does.
/// The bench's shards and who computes them: one shard here, or `request.workers` over
/// helper workers, once every helper is listening (at most 60 s).
async fn bench_helpers(
    state: &Shared,
    backend: &Backend,
    request: &BenchRequest,
) -> Result<(usize, Executor), String> {
    let workers = request
        .workers
        .clamp(1, request.size.batch_size())
        .min(crate::core::train::shards::MAX_SHARDS);
    if backend.kind != BackendKind::Cpu || workers <= 1 {
        return Ok((1, Executor::Local));
    }
    let pool = helper_pool(state, workers - 1)?;
    let started = PerformanceClock.now_s();
    while pool.ready() < pool.size() {
        if PerformanceClock.now_s() - started > 60.0 {
            return Err("the helper workers did not start within a minute".into());
        }
        sleep_ms(50).await;
    }
    let (mix, _) = ObjectiveMix::parse("clm").map_err(|e| e.to_string())?;
    let plan = plan(&mix).map_err(|e| e.to_string())?;
    let helpers = helpers::RunHelpers::new(pool, plan, request.size.model());
    Ok((workers, Executor::Helpers(Box::new(helpers))))
}

/// Waits `ms` milliseconds (a timer, so the worker's messages are served meanwhile).
async fn sleep_ms(ms: i32) {
    let Some(scope) = scope() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

async fn bench(state: Shared, request: BenchRequest) {
    let run = state.borrow().run;
    if state.borrow().busy() {
        post_error(
            run,
            "pause the run before timing a step: the two would share the device".into(),
            false,
        );
        return;
    }
    if request.steps == 0 || request.warmup + request.steps > BENCH_MAX_STEPS {
        post_error(
            run,
            format!(
                "a bench times 1 to {BENCH_MAX_STEPS} steps, warm-up included (asked for {} + {})",
                request.warmup, request.steps
            ),
            false,
        );
        return;
    }
    let settings = Settings {
        backend: request.backend,
        ..state.borrow().settings.clone().unwrap_or_default()
    };
    let (backend, info) = device(&state, &settings).await;
    post(
        run,
        &WorkerOutput::Status {
            text: format!(
                "Timing {} steps of the {} model on {}…",
                request.steps, request.size, info.label
            ),
        },
    );
    yield_now().await;
    let shape = StepShape::for_size(request.size);
    // The data-parallel step over `workers` workers: started (or kept) helpers, all of them
    // listening before the clock starts, so the figure is the shared step's.
    let (shards, mut executor) = match bench_helpers(&state, &backend, &request).await {
        Ok(parallel) => parallel,
        Err(e) => {
            post_error(run, e, false);
            return;
        }
    };
    match time_training_step(
        &shape,
        request.warmup,
        request.steps,
        request.capture,
        shards,
        &mut executor,
        &backend,
        &PerformanceClock,
    )
    .await
    {
        Ok(timing) => post_any(&WorkerOutput::BenchResult {
            timing,
            backend: info,
            wasm_bytes: wasm_memory_bytes(),
        }),
        Err(e) => post_error(run, e.to_string(), false),
    }
}

/// The device of this worker, chosen on first use (burn's wgpu runtime initialises once).
async fn device(state: &Shared, settings: &Settings) -> (Backend, BackendInfo) {
    let known = state.borrow().backend.clone();
    match known {
        Some(known) => known,
        None => {
            post_any(&WorkerOutput::Status {
                text: "Looking for a WebGPU adapter…".into(),
            });
            let chosen = choose_backend(settings.backend).await;
            state.borrow_mut().backend = Some(chosen.clone());
            chosen
        }
    }
}

/// Loads a saved run onto this worker's device. If it loads, it becomes run `offer` and
/// replaces the current run: the page gets `Ready` and the run's recorded curve, a fresh sample
/// (decoders only) and its summary, as if it had just trained here, and the worker's settings
/// become the run's, so Reset trains a fresh run of the same set-up. If not — or if the page
/// started a newer run meanwhile — `RunRejected` and nothing changes.
async fn load_run(state: Shared, files: SavedFiles, offer: u64) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let (backend, info) = device(&state, &settings).await;
    post(
        offer,
        &WorkerOutput::Status {
            text: format!("Loading the saved run onto {}…", info.label),
        },
    );
    yield_now().await;
    let refuse = |message: String| {
        post(
            offer,
            &WorkerOutput::Status {
                text: String::new(),
            },
        );
        post(offer, &WorkerOutput::RunRejected { message });
    };
    let run = match saved::load(&files, &backend.device) {
        Ok(run) => run,
        Err(e) => return refuse(e.to_string()),
    };
    let sample = match run.sample(&backend).await {
        Ok(sample) => sample,
        Err(e) => {
            post_error(offer, e.to_string(), false);
            None
        }
    };
    if state.borrow().run > offer {
        return refuse("a newer set-up was chosen while the run was loading; load it again".into());
    }
    let summary = run.summary.clone();
    let ready = ReadyInfo {
        workers: 1,
        backend: info,
        corpus: if run.saved.corpus.is_empty() {
            format!("corpus seed {}", summary.corpus_seed)
        } else {
            run.saved.corpus.clone()
        },
        architecture: run.saved.plan.architecture.name().to_string(),
        plan: run.saved.plan.how.clone(),
        generates: run.generates(),
        size: summary.size,
        mix: summary.mix.clone(),
        params: summary.params,
        budget_tokens: summary.budget_tokens,
        planned_steps: summary.steps,
        unigram_entropy: summary.unigram_entropy,
        peak_lr: summary.peak_lr.unwrap_or(f64::NAN),
        batch_size: summary.batch_size,
        schedule: summary.schedule,
        seed: summary.seed,
        corpus_seed: summary.corpus_seed,
        knobs: run.saved.config.knobs.clone(),
        loaded_from: Some(summary.backend_label.clone()),
    };
    {
        let mut s = state.borrow_mut();
        s.end_run(offer);
        if let Some(settings) = s.settings.as_mut() {
            settings.mix = run.saved.mix.clone();
            settings.size = Some(summary.size);
            settings.seed = summary.seed;
            settings.corpus_seed = summary.corpus_seed;
            settings.budget_tokens = summary.budget_tokens;
            settings.knobs = run.saved.config.knobs.clone();
        }
        s.phase = Phase::Loaded(Box::new(run));
    }
    post(offer, &WorkerOutput::Ready(ready));
    for event in replay(&summary) {
        post(offer, &WorkerOutput::Event(event));
    }
    if let Some(sample) = sample {
        post(offer, &WorkerOutput::Event(sample));
    }
    post(
        offer,
        &WorkerOutput::Event(TrainEvent::Finished(Box::new(summary))),
    );
    report_memory(&state);
}

/// A finished run's recorded curve as the events that drew it live.
fn replay(summary: &RunSummary) -> Vec<TrainEvent> {
    let pace = if summary.train_s > 0.0 {
        summary.tokens as f64 / summary.train_s
    } else {
        0.0
    };
    let initial = TrainEvent::Eval {
        step: 0,
        tokens: 0,
        val_loss: summary.initial_val_loss,
        val_loss_corrupted: None,
        val_baseline: None,
        val_pair_loss: None,
        val_pair_accuracy: None,
    };
    std::iter::once(initial)
        .chain(summary.curve.iter().flat_map(|point| {
            let step = TrainEvent::Step(StepReport {
                step: point.step,
                tokens: point.tokens,
                budget_tokens: summary.budget_tokens,
                loss: point.train_loss,
                token_loss: point.train_token_loss,
                pair_loss: point.train_pair_loss,
                lr: 0.0,
                supervised_tokens: 0,
                tokens_per_s: pace,
                elapsed_s: 0.0,
                eta_s: 0.0,
            });
            let eval = point.val_loss.map(|val_loss| TrainEvent::Eval {
                step: point.step,
                tokens: point.tokens,
                val_loss,
                val_loss_corrupted: point.val_loss_corrupted,
                val_baseline: point.val_baseline,
                val_pair_loss: point.val_pair_loss,
                val_pair_accuracy: point.val_pair_accuracy,
            });
            std::iter::once(step).chain(eval)
        }))
        .collect()
}

/// Longest text the tokenizer view splits (the page shows every token as a chip).
const TOKENIZE_MAX_CHARS: usize = 2_000;

fn tokenize(state: &Shared, text: String) {
    let s = state.borrow();
    let tokenizer = match (&s.phase, s.data.as_ref()) {
        (Phase::Loaded(run), _) => &run.tokenizer,
        (_, Some(data)) => &data.dataset.tokenizer,
        (_, None) => {
            post_any(&WorkerOutput::Error {
                message: "the tokenizer is not trained yet; wait for the run to be ready".into(),
                fatal: false,
            });
            return;
        }
    };
    let text: String = text.chars().take(TOKENIZE_MAX_CHARS).collect();
    match tokenizer.pieces(&text) {
        Ok(pieces) => post_any(&WorkerOutput::Tokens { text, pieces }),
        Err(e) => post_any(&WorkerOutput::Error {
            message: e.to_string(),
            fatal: false,
        }),
    }
}

/// Checks a new corpus, offered as run `offer`; if it can be used, drops the current run and
/// prepares run `offer` on it, otherwise says why and changes nothing. An offer older than the
/// current run when its check ends (the page chose a newer set-up meanwhile) is refused.
async fn use_corpus(state: Shared, input: CorpusInput, offer: u64) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let reject = |message: String| post(offer, &WorkerOutput::CorpusRejected { message });
    let needs = match ObjectiveMix::parse(&settings.mix) {
        Ok((mix, _)) => mix.corpus_needs(),
        Err(e) => return reject(e.to_string()),
    };
    post(
        offer,
        &WorkerOutput::Status {
            text: "Checking the text and training a tokenizer on it…".into(),
        },
    );
    yield_now().await;
    // Tokenize it now, for the size the run will have, so everything that could refuse this
    // text does so before the current run is touched.
    let vocab = state
        .borrow()
        .backend
        .as_ref()
        .map_or(ModelSize::Fast.model().vocab_size, |(backend, info)| {
            run_size(&settings, backend.kind, info).model().vocab_size
        });
    let (dataset, timings) = match build_dataset(&input, settings.corpus_seed, needs, vocab).await {
        Ok(built) => built,
        Err(e) => return reject(e.to_string()),
    };
    let generation = {
        let mut s = state.borrow_mut();
        if s.run > offer {
            drop(s);
            return reject(
                "the set-up changed while the text was being checked; offer it again".into(),
            );
        }
        s.end_run(offer);
        let description = input.describe(settings.corpus_seed);
        s.data = Some(CachedData {
            audit: None,
            key: (input.clone(), settings.corpus_seed, vocab),
            dataset: Rc::new(dataset),
            fingerprint: None,
            timings,
        });
        if let Some(current) = s.settings.as_mut() {
            current.corpus = input;
        }
        post(offer, &WorkerOutput::CorpusAccepted { description });
        s.generation
    };
    prepare(state, generation).await;
}

/// Picks the device (once per worker: burn's wgpu runtime initialises once), builds the data
/// and the model, and announces the run.
async fn prepare(state: Shared, generation: u64) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let (backend, info) = device(&state, &settings).await;
    let kind = backend.kind;
    match build(&state, &settings, backend, info, generation).await {
        Ok(Some((trainer, ready))) => {
            let Some(run) = state.borrow().still(generation) else {
                return;
            };
            post(run, &WorkerOutput::Ready(ready));
            report_memory(&state);
            prime(&state, trainer, generation).await;
            send_fingerprint(&state, generation).await;
            send_audit(&state, generation).await;
        }
        Ok(None) => {}
        Err(e) => {
            if let Some(run) = state.borrow().still(generation) {
                post_error(run, e.to_string(), is_fatal(kind, &e));
            }
        }
    }
}

/// Whether `e` means WebGPU cannot go on (the page then restarts on the CPU).
fn is_fatal(kind: BackendKind, e: &CoreError) -> bool {
    kind == BackendKind::Webgpu && matches!(e, CoreError::DeviceRead { .. })
}

type Built = (Trainer, ReadyInfo);

/// Measures the new run's starting validation loss and draws its first sample, after `Ready`
/// (Train is already enabled; a click meanwhile starts training as soon as this is done).
async fn prime(state: &Shared, mut trainer: Trainer, generation: u64) {
    {
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return;
        }
        s.phase = Phase::Priming {
            train_requested: false,
        };
    }
    yield_now().await;
    let result = trainer.prime().await;
    let kind = state.borrow().backend.as_ref().map(|(b, _)| b.kind);
    let mut s = state.borrow_mut();
    let Some(run) = s.still(generation) else {
        return;
    };
    let start = matches!(
        s.phase,
        Phase::Priming {
            train_requested: true
        }
    );
    match result {
        Ok(events) if start => {
            s.phase = Phase::Training {
                pause_requested: false,
            };
            drop(s);
            events
                .into_iter()
                .for_each(|e| post(run, &WorkerOutput::Event(e)));
            report_memory(state);
            spawn_local(train(state.clone(), trainer, generation));
        }
        Ok(events) => {
            s.phase = Phase::Idle(Box::new(trainer));
            drop(s);
            events
                .into_iter()
                .for_each(|e| post(run, &WorkerOutput::Event(e)));
            report_memory(state);
        }
        Err(e) => {
            s.phase = Phase::Idle(Box::new(trainer));
            drop(s);
            post_error(run, e.to_string(), kind.is_some_and(|k| is_fatal(k, &e)));
        }
    }
}

/// The size a run gets: the URL's, else `default` on a hardware GPU and `fast` otherwise.
fn run_size(settings: &Settings, kind: BackendKind, info: &BackendInfo) -> ModelSize {
    settings
        .size
        .unwrap_or(if kind == BackendKind::Webgpu && !info.software {
            ModelSize::Default
        } else {
            ModelSize::Fast
        })
}

/// The run's settings for `plan` at `size`: its budget, seeds and knobs from the page.
fn run_config(settings: &Settings, size: ModelSize, plan: &crate::core::plan::Plan) -> RunConfig {
    let mut config = RunConfig::for_plan(size, plan);
    config.budget_tokens = settings.budget_tokens;
    config.seed = settings.seed;
    config.corpus_seed = settings.corpus_seed;
    config.knobs = settings.knobs.clone();
    config
}

/// Builds (or takes from the cache) the tokenized corpus, shows it, and starts a trainer.
/// `None` when a newer Prepare, Reset or corpus superseded this one meanwhile.
async fn build(
    state: &Shared,
    settings: &Settings,
    backend: Backend,
    info: BackendInfo,
    generation: u64,
) -> Result<Option<Built>, CoreError> {
    let kind = backend.kind;
    let Some(run) = state.borrow().still(generation) else {
        return Ok(None);
    };
    let size = run_size(settings, kind, &info);
    let (mix, preset) = ObjectiveMix::parse(&settings.mix)?;
    let plan = plan(&mix)?;
    let config = run_config(settings, size, &plan);
    let description = settings.corpus.describe(settings.corpus_seed);
    let key = (
        settings.corpus.clone(),
        settings.corpus_seed,
        size.model().vocab_size,
    );
    let cached = {
        let s = state.borrow();
        s.data
            .as_ref()
            .filter(|d| d.key == key)
            .map(|d| (Dataset::clone(&d.dataset), d.timings))
    };
    let (dataset, timings) = match cached {
        Some(found) => found,
        None => {
            post(
                run,
                &WorkerOutput::Status {
                    text: "Writing the corpus and training the tokenizer…".into(),
                },
            );
            yield_now().await;
            let (dataset, timings) = build_dataset(
                &settings.corpus,
                settings.corpus_seed,
                mix.corpus_needs(),
                key.2,
            )
            .await?;
            if state.borrow().generation != generation {
                return Ok(None);
            }
            state.borrow_mut().data = Some(CachedData {
                audit: None,
                key,
                dataset: Rc::new(dataset.clone()),
                fingerprint: None,
                timings,
            });
            (dataset, timings)
        }
    };
    let mut view = CorpusView::new(&dataset.corpus, description.clone(), dataset.stats());
    view.timings = Some(timings);
    post(run, &WorkerOutput::Corpus(Box::new(view)));
    post(
        run,
        &WorkerOutput::Status {
            text: format!("Building the {size} model on {}…", info.label),
        },
    );
    yield_now().await;
    if state.borrow().generation != generation {
        return Ok(None);
    }
    let mut trainer = Trainer::new(
        dataset,
        config.clone(),
        mix,
        preset.map(String::from),
        backend,
        Box::new(PerformanceClock),
    )?;
    let workers = share_the_step(state, &mut trainer, settings, kind, size);
    let ready = ReadyInfo {
        workers,
        backend: info,
        corpus: description,
        architecture: trainer.plan().architecture.name().to_string(),
        plan: trainer.plan().how.clone(),
        generates: trainer.generates(),
        size,
        mix: mix.canonical(),
        params: trainer.params(),
        budget_tokens: config.budget_tokens,
        planned_steps: trainer.planned_steps(),
        unigram_entropy: trainer.unigram_entropy(),
        peak_lr: config.peak_lr,
        batch_size: config.batch_size,
        schedule: Some(config.schedule),
        seed: config.seed,
        corpus_seed: config.corpus_seed,
        knobs: config.knobs.clone(),
        loaded_from: None,
    };
    Ok(Some((trainer, ready)))
}

/// The worker's pool of `count` helpers: the one it keeps, unless its size differs or a
/// helper of it has died, then a new one (kept in its place).
fn helper_pool(state: &Shared, count: usize) -> Result<Rc<helpers::Pool>, String> {
    let kept = state.borrow().helpers.clone();
    let pool = match kept {
        Some(pool) if pool.size() == count && !pool.any_dead() => pool,
        _ => helpers::Pool::start(count)?,
    };
    state.borrow_mut().helpers = Some(pool.clone());
    Ok(pool)
}

/// How many workers share each CPU step of this run (the page's `workers=N`, else as many as
/// the machine's cores at `default`, where a step is long enough to gain; `fast` steps are
/// short enough that posting the weights would eat the gain), and the helper workers started
/// for them. Returns the count, 1 when the step is not shared.
fn share_the_step(
    state: &Shared,
    trainer: &mut Trainer,
    settings: &Settings,
    kind: BackendKind,
    size: ModelSize,
) -> usize {
    if kind != BackendKind::Cpu {
        return 1;
    }
    let cores = scope().map_or(1, |s| s.navigator().hardware_concurrency() as usize);
    let auto = if size == ModelSize::Default {
        cores.clamp(1, AUTO_WORKERS)
    } else {
        1
    };
    let workers = settings
        .workers
        .unwrap_or(auto)
        .clamp(1, trainer.config().batch_size);
    if workers <= 1 {
        return 1;
    }
    let pool = match helper_pool(state, workers - 1) {
        Ok(pool) => pool,
        Err(why) => {
            web_sys::console::warn_1(&format!("training on one worker: {why}").into());
            return 1;
        }
    };
    let run_helpers =
        helpers::RunHelpers::new(pool, trainer.plan().clone(), trainer.config().size.model());
    match trainer.set_parallel(workers, Executor::Helpers(Box::new(run_helpers))) {
        Ok(()) => workers,
        Err(e) => {
            web_sys::console::warn_1(&format!("training on one worker: {e}").into());
            1
        }
    }
}

/// Runs the shortcut audit once per tokenized corpus — the run's size's NSP/SOP training items
/// and every evaluation pair set — one set at a time and cooperatively within each (a
/// student's megabytes take seconds a set), so Pause, Reset, the tokenizer view and the
/// training loop are served meanwhile, and sends each line as it comes.
async fn send_audit(state: &Shared, generation: u64) {
    let Some(run) = state.borrow().still(generation) else {
        return;
    };
    let cached = state.borrow().data.as_ref().and_then(|d| d.audit.clone());
    if let Some(lines) = cached {
        post(run, &WorkerOutput::Audit { lines, done: true });
        return;
    }
    let size = {
        let s = state.borrow();
        let vocab = s.data.as_ref().map_or(0, |d| d.key.2);
        ModelSize::ALL
            .into_iter()
            .find(|z| z.model().vocab_size == vocab)
            .unwrap_or(ModelSize::Fast)
    };
    let Some(dataset) = state.borrow().data.as_ref().map(|d| Rc::clone(&d.dataset)) else {
        return;
    };
    let mut lines = Vec::new();
    for task in audit::tasks(&[size]) {
        yield_now().await;
        let line = audit::run_task_cooperatively(&dataset, task, &mut YieldEvery::new()).await;
        if state.borrow().generation != generation {
            return;
        }
        match line {
            Ok(Some(line)) => {
                lines.push(line);
                post(
                    run,
                    &WorkerOutput::Audit {
                        lines: lines.clone(),
                        done: false,
                    },
                );
            }
            Ok(None) => {}
            Err(e) => {
                post_error(run, format!("the shortcut audit stopped: {e}"), false);
                return;
            }
        }
    }
    if let Some(data) = state.borrow_mut().data.as_mut() {
        data.audit = Some(lines.clone());
    }
    post(run, &WorkerOutput::Audit { lines, done: true });
}

/// Computes the corpus fingerprint once per tokenized corpus (a pass over every exported
/// byte, so it runs after `Ready`) and sends it.
async fn send_fingerprint(state: &Shared, generation: u64) {
    yield_now().await;
    let mut s = state.borrow_mut();
    let Some(run) = s.still(generation) else {
        return;
    };
    let Some(data) = s.data.as_mut() else { return };
    let value = match &data.fingerprint {
        Some(value) => value.clone(),
        None => match export::files(&data.dataset.corpus, &data.dataset.tokenizer) {
            Ok(files) => {
                let value = export::fingerprint(&files);
                data.fingerprint = Some(value.clone());
                value
            }
            Err(e) => {
                drop(s);
                post_error(run, e.to_string(), false);
                return;
            }
        },
    };
    drop(s);
    post(run, &WorkerOutput::Fingerprint { value });
}

/// The training loop: one step at a time, holding the trainer, yielding in between so Pause
/// and Reset are heard. A step whose run was replaced while it was awaited posts nothing.
async fn train(state: Shared, mut trainer: Trainer, generation: u64) {
    // Live heatmaps: the fixed example, and when to capture it (measured, ≤ 5% of step time).
    let mut cadence = viz::LiveCadence::default();
    let mut live: Option<viz::LiveSource> = None;
    // The run's summary records the corpus fingerprint: the one computed after `Ready`, or
    // computed now when training started before it was.
    let known = state
        .borrow()
        .data
        .as_ref()
        .and_then(|d| d.fingerprint.clone());
    if let Ok(value) = trainer.fingerprint_corpus(known)
        && let Some(data) = state.borrow_mut().data.as_mut()
    {
        data.fingerprint.get_or_insert(value);
    }
    loop {
        let started = PerformanceClock.now_s();
        let result = trainer.advance().await;
        cadence.record_step(PerformanceClock.now_s() - started);
        let kind = state.borrow().backend.as_ref().map(|(b, _)| b.kind);
        let Some(run) = state.borrow().still(generation) else {
            return;
        };
        let done = trainer.is_done();
        let step = trainer.step();
        match result {
            Ok(events) => {
                events
                    .into_iter()
                    .for_each(|e| post(run, &WorkerOutput::Event(e)));
                report_memory(&state);
                // A helper worker died: its shard was computed here, so the step stands;
                // the run pauses and says why (Train goes on with the workers left).
                let lost = trainer.take_helper_failures();
                if !lost.is_empty() && !done {
                    state.borrow_mut().phase = Phase::Idle(Box::new(trainer));
                    let reason = format!(
                        "{}. Step {step} was finished by the training worker, so nothing is \
                         lost; Train goes on with the workers still running.",
                        lost.join("; ")
                    );
                    post(
                        run,
                        &WorkerOutput::Paused {
                            step,
                            reason: Some(reason),
                        },
                    );
                    return;
                }
                if state.borrow().watch_heads && cadence.due(step) {
                    let source = match live.take() {
                        Some(mut source) => {
                            source.refresh(&trainer);
                            Ok(source)
                        }
                        None => viz::LiveSource::of(&trainer),
                    };
                    match source {
                        Ok(source) => {
                            let captured = source.capture(step, &mut cadence).await;
                            live = Some(source);
                            if state.borrow().still(generation).is_none() {
                                return;
                            }
                            viz::post_heads(run, captured);
                        }
                        Err(e) => {
                            // Stop trying (the page shows why) rather than fail every step.
                            state.borrow_mut().watch_heads = false;
                            viz::post_heads(run, Err(e));
                        }
                    }
                }
            }
            Err(e) => {
                state.borrow_mut().phase = Phase::Idle(Box::new(trainer));
                post_error(run, e.to_string(), kind.is_some_and(|k| is_fatal(k, &e)));
                return;
            }
        }
        if done {
            // A run that used its budget is evaluated at once (the page shows progress and
            // can cancel).
            state.borrow_mut().phase = Phase::Evaluating {
                cancel_requested: false,
            };
            evaluate(state, trainer, generation).await;
            return;
        }
        yield_now().await;
        let mut s = state.borrow_mut();
        let Some(run) = s.still(generation) else {
            return;
        };
        if matches!(
            s.phase,
            Phase::Training {
                pause_requested: true
            }
        ) {
            s.phase = Phase::Idle(Box::new(trainer));
            drop(s);
            post(run, &WorkerOutput::Paused { step, reason: None });
            return;
        }
    }
}

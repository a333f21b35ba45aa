//! The training worker: owns the device, the data and the model, and talks to the page only
//! through [`WorkerInput`] / [`WorkerOutput`]. Training runs here so the page stays responsive;
//! between steps the loop yields to the worker's event loop so Pause and Reset are heard.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use std::sync::Arc;

use crate::core::audit::{self, AuditLine};
use crate::core::backend::Backend;
use crate::core::bench::{StepShape, time_training_step};
use crate::core::config::{ModelSize, RunConfig};
use crate::core::corpus::custom::Needs;
use crate::core::corpus::view::{CorpusTimings, CorpusView};
use crate::core::corpus::{CorpusInput, export};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::Clock;
use crate::core::mix::ObjectiveMix;
use crate::core::plan::plan;
use crate::core::saved::{self, LoadedRun, SavedFiles};
use crate::core::summary::{BackendKind, RunSummary, StepReport, TrainEvent};
use crate::core::train::Trainer;
use crate::protocol::{BackendInfo, BenchRequest, ReadyInfo, Settings, WorkerInput, WorkerOutput};

use super::gpu::choose_backend;

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
    dataset: Dataset,
    fingerprint: Option<String>,
    /// The shortcut audit's lines, once computed.
    audit: Option<Vec<AuditLine>>,
    timings: CorpusTimings,
}

/// Builds the corpus and tokenizes it, timing both.
fn build_dataset(
    input: &CorpusInput,
    corpus_seed: u64,
    needs: Needs,
    vocab_size: usize,
) -> Result<(Dataset, CorpusTimings), CoreError> {
    let clock = PerformanceClock;
    let started = clock.now_s();
    let corpus = input.build(corpus_seed, needs)?;
    let built = clock.now_s();
    let dataset = Dataset::new(Arc::new(corpus), vocab_size)?;
    let timings = CorpusTimings {
        corpus_ms: (built - started) * 1000.0,
        tokenizer_ms: (clock.now_s() - built) * 1000.0,
    };
    Ok((dataset, timings))
}

#[derive(Default)]
struct State {
    settings: Option<Settings>,
    backend: Option<(Backend, BackendInfo)>,
    trainer: Option<Trainer>,
    running: bool,
    /// Bumped by Prepare, Reset and an accepted corpus: work started for an older generation
    /// is dropped.
    generation: u64,
    data: Option<CachedData>,
    /// A saved run the page loaded (then there is no trainer).
    loaded: Option<LoadedRun>,
    /// The wasm memory size last reported to the page.
    memory_reported: u64,
    /// The trainer is out measuring the starting validation loss ([`prime`]); a Train that
    /// arrives meanwhile sets `running`, and training starts when it is back.
    priming: bool,
}

impl State {
    /// Stops and drops the current run, trained or loaded, and starts a new generation so work
    /// begun for it is dropped. Returns the summary of a run cut short before its end.
    fn end_run(&mut self) -> Option<RunSummary> {
        self.running = false;
        let cut_short = self
            .trainer
            .as_mut()
            .filter(|t| t.is_primed() && !t.is_done())
            .map(|t| t.cancel());
        self.trainer = None;
        self.loaded = None;
        self.priming = false;
        self.generation += 1;
        cut_short
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
        post(&WorkerOutput::Memory { wasm_bytes: bytes });
    }
}

fn scope() -> Option<DedicatedWorkerGlobalScope> {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .ok()
}

fn post(output: &WorkerOutput) {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    match serde::Serialize::serialize(output, &serializer) {
        Ok(value) => {
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

fn post_error(message: String, fatal: bool) {
    post(&WorkerOutput::Error { message, fatal });
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

/// Installs the message handler. Called once from the worker's entry point.
pub fn start() {
    let Some(scope) = scope() else {
        web_sys::console::error_1(&"the worker entry point ran outside a dedicated worker".into());
        return;
    };
    let state: Shared = Rc::new(RefCell::new(State::default()));
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<WorkerInput>(event.data()) {
            Ok(input) => handle(&state, input),
            Err(e) => post_error(
                format!("the worker did not understand a message: {e}"),
                false,
            ),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    // Messages sent before this point had no listener: tell the page it may start now.
    post(&WorkerOutput::Loaded);
}

fn handle(state: &Shared, input: WorkerInput) {
    match input {
        WorkerInput::Prepare(settings) => {
            let generation = {
                let mut s = state.borrow_mut();
                s.settings = Some(settings);
                s.end_run();
                s.generation
            };
            spawn_local(prepare(state.clone(), generation));
        }
        WorkerInput::Train => {
            let generation = {
                let mut s = state.borrow_mut();
                if s.running {
                    return;
                }
                if s.priming {
                    // `prime` starts the run when the trainer is back.
                    s.running = true;
                    return;
                }
                if s.trainer.as_ref().is_none_or(|t| t.is_done()) {
                    return;
                }
                s.running = true;
                s.generation
            };
            spawn_local(run(state.clone(), generation));
        }
        WorkerInput::Pause => {
            let mut s = state.borrow_mut();
            let was_running = s.running;
            s.running = false;
            // A Train that came while priming has no loop to answer the Pause: answer here.
            if s.priming && was_running {
                drop(s);
                post(&WorkerOutput::Paused { step: 0 });
            }
        }
        WorkerInput::Reset => {
            let generation = {
                let mut s = state.borrow_mut();
                if let Some(summary) = s.end_run() {
                    post(&WorkerOutput::Event(TrainEvent::Finished(Box::new(
                        summary,
                    ))));
                }
                s.generation
            };
            spawn_local(prepare(state.clone(), generation));
        }
        WorkerInput::UseCorpus(input) => spawn_local(use_corpus(state.clone(), input)),
        WorkerInput::Tokenize { text } => tokenize(state, text),
        WorkerInput::LoadRun(files) => spawn_local(load_run(state.clone(), *files)),
        WorkerInput::Bench(request) => spawn_local(bench(state.clone(), request)),
    }
}

/// Most steps one `Bench` may time (a slip of the harness should not hold a worker for hours).
const BENCH_MAX_STEPS: usize = 1_000;

/// Times the training step on this worker's device, exactly as the native bench does.
async fn bench(state: Shared, request: BenchRequest) {
    if state.borrow().running {
        post_error(
            "pause the run before timing a step: the two would share the device".into(),
            false,
        );
        return;
    }
    if request.steps == 0 || request.warmup + request.steps > BENCH_MAX_STEPS {
        post_error(
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
    post(&WorkerOutput::Status {
        text: format!(
            "Timing {} steps of the {} model on {}…",
            request.steps, request.size, info.label
        ),
    });
    yield_now().await;
    let shape = StepShape::for_size(request.size);
    match time_training_step(
        &shape,
        request.warmup,
        request.steps,
        request.capture,
        &backend,
        &PerformanceClock,
    )
    .await
    {
        Ok(timing) => post(&WorkerOutput::BenchResult {
            timing,
            backend: info,
            wasm_bytes: wasm_memory_bytes(),
        }),
        Err(e) => post_error(e.to_string(), false),
    }
}

/// The device of this worker, chosen on first use (burn's wgpu runtime initialises once).
async fn device(state: &Shared, settings: &Settings) -> (Backend, BackendInfo) {
    let known = state.borrow().backend.clone();
    match known {
        Some(known) => known,
        None => {
            post(&WorkerOutput::Status {
                text: "Looking for a WebGPU adapter…".into(),
            });
            let chosen = choose_backend(settings.backend).await;
            state.borrow_mut().backend = Some(chosen.clone());
            chosen
        }
    }
}

/// Loads a saved run onto this worker's device. If it loads, it replaces the current run and
/// the page gets `Ready` and the run's recorded curve, a fresh sample (decoders only) and its
/// summary, as if it had just trained here; if not, `RunRejected` and nothing changes.
async fn load_run(state: Shared, files: SavedFiles) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let (backend, info) = device(&state, &settings).await;
    post(&WorkerOutput::Status {
        text: format!("Loading the saved run onto {}…", info.label),
    });
    yield_now().await;
    let run = match saved::load(&files, &backend.device) {
        Ok(run) => run,
        Err(e) => {
            post(&WorkerOutput::Status {
                text: String::new(),
            });
            post(&WorkerOutput::RunRejected {
                message: e.to_string(),
            });
            return;
        }
    };
    let sample = match run.sample(&backend).await {
        Ok(sample) => sample,
        Err(e) => {
            post_error(e.to_string(), false);
            None
        }
    };
    let summary = run.summary.clone();
    let ready = ReadyInfo {
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
        loaded_from: Some(summary.backend_label.clone()),
    };
    {
        let mut s = state.borrow_mut();
        s.end_run();
        s.loaded = Some(run);
    }
    post(&WorkerOutput::Ready(ready));
    for event in replay(&summary) {
        post(&WorkerOutput::Event(event));
    }
    if let Some(sample) = sample {
        post(&WorkerOutput::Event(sample));
    }
    post(&WorkerOutput::Event(TrainEvent::Finished(Box::new(
        summary,
    ))));
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
    let tokenizer = match (s.loaded.as_ref(), s.data.as_ref()) {
        (Some(run), _) => &run.tokenizer,
        (None, Some(data)) => &data.dataset.tokenizer,
        (None, None) => {
            post_error(
                "the tokenizer is not trained yet; wait for the run to be ready".into(),
                false,
            );
            return;
        }
    };
    let text: String = text.chars().take(TOKENIZE_MAX_CHARS).collect();
    match tokenizer.pieces(&text) {
        Ok(pieces) => post(&WorkerOutput::Tokens { text, pieces }),
        Err(e) => post_error(e.to_string(), false),
    }
}

/// Checks a new corpus; if it can be used, drops the current run and prepares a new one on
/// it, otherwise says why and changes nothing.
async fn use_corpus(state: Shared, input: CorpusInput) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let needs = match ObjectiveMix::parse(&settings.mix) {
        Ok((mix, _)) => mix.corpus_needs(),
        Err(e) => {
            post(&WorkerOutput::CorpusRejected {
                message: e.to_string(),
            });
            return;
        }
    };
    post(&WorkerOutput::Status {
        text: "Checking the text and training a tokenizer on it…".into(),
    });
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
    let checked = build_dataset(&input, settings.corpus_seed, needs, vocab)
        .map(|(dataset, timings)| (vocab, dataset, timings));
    match checked {
        Err(e) => post(&WorkerOutput::CorpusRejected {
            message: e.to_string(),
        }),
        Ok((vocab, dataset, timings)) => {
            let generation = {
                let mut s = state.borrow_mut();
                s.end_run();
                let description = input.describe(settings.corpus_seed);
                s.data = Some(CachedData {
                    audit: None,
                    key: (input.clone(), settings.corpus_seed, vocab),
                    dataset,
                    fingerprint: None,
                    timings,
                });
                if let Some(current) = s.settings.as_mut() {
                    current.corpus = input;
                }
                post(&WorkerOutput::CorpusAccepted { description });
                s.generation
            };
            prepare(state, generation).await;
        }
    }
}

/// Picks the device (once per worker: burn's wgpu runtime initialises once), builds the data
/// and the model, and announces the run.
async fn prepare(state: Shared, generation: u64) {
    let settings = state.borrow().settings.clone().unwrap_or_default();
    let (backend, info) = device(&state, &settings).await;
    match build(&state, &settings, backend, info, generation).await {
        Ok(Some((trainer, ready))) => {
            {
                let mut s = state.borrow_mut();
                if s.generation != generation {
                    return;
                }
                s.trainer = Some(trainer);
            }
            post(&WorkerOutput::Ready(ready));
            report_memory(&state);
            prime(&state, generation).await;
            send_fingerprint(&state, generation).await;
            send_audit(&state, generation).await;
        }
        Ok(None) => {}
        Err((e, backend_kind)) => {
            let fatal =
                backend_kind == BackendKind::Webgpu && matches!(e, CoreError::DeviceRead { .. });
            post_error(e.to_string(), fatal);
        }
    }
}

type Built = (Trainer, ReadyInfo);

/// Measures the new run's starting validation loss and draws its first sample, after `Ready`
/// (Train is already enabled; a click meanwhile starts training as soon as this is done).
async fn prime(state: &Shared, generation: u64) {
    let taken = {
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return;
        }
        let taken = s.trainer.take();
        s.priming = taken.is_some();
        taken
    };
    let Some(mut trainer) = taken else { return };
    yield_now().await;
    let result = trainer.prime().await;
    let start_run = {
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return;
        }
        s.priming = false;
        s.trainer = Some(trainer);
        if result.is_err() {
            s.running = false;
        }
        s.running
    };
    match result {
        Ok(events) => events
            .into_iter()
            .for_each(|e| post(&WorkerOutput::Event(e))),
        Err(e) => {
            let kind = state.borrow().backend.as_ref().map(|(b, _)| b.kind);
            let fatal =
                kind == Some(BackendKind::Webgpu) && matches!(e, CoreError::DeviceRead { .. });
            post_error(e.to_string(), fatal);
            return;
        }
    }
    report_memory(state);
    if start_run {
        spawn_local(run(state.clone(), generation));
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

/// Builds (or takes from the cache) the tokenized corpus, shows it, and starts a trainer.
/// `None` when a newer Prepare, Reset or corpus superseded this one meanwhile.
async fn build(
    state: &Shared,
    settings: &Settings,
    backend: Backend,
    info: BackendInfo,
    generation: u64,
) -> Result<Option<Built>, (CoreError, BackendKind)> {
    let kind = backend.kind;
    let fail = |e: CoreError| (e, kind);
    let size = run_size(settings, kind, &info);
    let (mix, preset) = ObjectiveMix::parse(&settings.mix).map_err(fail)?;
    let plan = plan(&mix).map_err(fail)?;
    let mut config = RunConfig::for_plan(size, &plan);
    config.budget_tokens = settings.budget_tokens;
    config.seed = settings.seed;
    config.corpus_seed = settings.corpus_seed;
    config.knobs = settings.knobs.clone();
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
            .map(|d| (d.dataset.clone(), d.timings))
    };
    let (dataset, timings) = match cached {
        Some(found) => found,
        None => {
            post(&WorkerOutput::Status {
                text: "Writing the corpus and training the tokenizer…".into(),
            });
            yield_now().await;
            let (dataset, timings) = build_dataset(
                &settings.corpus,
                settings.corpus_seed,
                mix.corpus_needs(),
                key.2,
            )
            .map_err(fail)?;
            if state.borrow().generation != generation {
                return Ok(None);
            }
            state.borrow_mut().data = Some(CachedData {
                audit: None,
                key,
                dataset: dataset.clone(),
                fingerprint: None,
                timings,
            });
            (dataset, timings)
        }
    };
    let mut view = CorpusView::new(&dataset.corpus, description.clone(), dataset.stats());
    view.timings = Some(timings);
    post(&WorkerOutput::Corpus(Box::new(view)));
    post(&WorkerOutput::Status {
        text: format!("Building the {size} model on {}…", info.label),
    });
    yield_now().await;
    if state.borrow().generation != generation {
        return Ok(None);
    }
    let trainer = Trainer::new(
        dataset,
        config.clone(),
        mix,
        preset.map(String::from),
        backend,
        Box::new(PerformanceClock),
    )
    .map_err(fail)?;
    let ready = ReadyInfo {
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
        loaded_from: None,
    };
    Ok(Some((trainer, ready)))
}

/// Runs the shortcut audit once per tokenized corpus — the run's size's NSP/SOP training items
/// and every evaluation pair set — one set at a time, yielding between them so Pause, Reset
/// and the tokenizer view are answered, and sends each line as it comes.
async fn send_audit(state: &Shared, generation: u64) {
    let cached = state.borrow().data.as_ref().and_then(|d| d.audit.clone());
    if let Some(lines) = cached {
        post(&WorkerOutput::Audit { lines, done: true });
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
    let mut lines = Vec::new();
    for task in audit::tasks(&[size]) {
        yield_now().await;
        let line = {
            let s = state.borrow();
            if s.generation != generation {
                return;
            }
            let Some(data) = s.data.as_ref() else { return };
            audit::run_task(&data.dataset, task)
        };
        match line {
            Ok(Some(line)) => {
                lines.push(line);
                post(&WorkerOutput::Audit {
                    lines: lines.clone(),
                    done: false,
                });
            }
            Ok(None) => {}
            Err(e) => {
                post_error(format!("the shortcut audit stopped: {e}"), false);
                return;
            }
        }
    }
    if let Some(data) = state.borrow_mut().data.as_mut() {
        data.audit = Some(lines.clone());
    }
    post(&WorkerOutput::Audit { lines, done: true });
}

/// Computes the corpus fingerprint once per tokenized corpus (a pass over every exported
/// byte, so it runs after `Ready`) and sends it.
async fn send_fingerprint(state: &Shared, generation: u64) {
    yield_now().await;
    let mut s = state.borrow_mut();
    if s.generation != generation {
        return;
    }
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
                post_error(e.to_string(), false);
                return;
            }
        },
    };
    drop(s);
    post(&WorkerOutput::Fingerprint { value });
}

/// The training loop: one step at a time while running, yielding in between.
async fn run(state: Shared, generation: u64) {
    loop {
        let taken = {
            let mut s = state.borrow_mut();
            if !s.running || s.generation != generation {
                None
            } else {
                s.trainer.take()
            }
        };
        let Some(mut trainer) = taken else { break };
        let result = trainer.advance().await;
        let done = trainer.is_done();
        let step = trainer.step();
        let kind = {
            let mut s = state.borrow_mut();
            let kind = s.backend.as_ref().map(|(b, _)| b.kind);
            if s.generation == generation {
                s.trainer = Some(trainer);
                if done {
                    s.running = false;
                }
            }
            kind
        };
        match result {
            Ok(events) => {
                events
                    .into_iter()
                    .for_each(|e| post(&WorkerOutput::Event(e)));
                report_memory(&state);
            }
            Err(e) => {
                state.borrow_mut().running = false;
                let fatal =
                    kind == Some(BackendKind::Webgpu) && matches!(e, CoreError::DeviceRead { .. });
                post_error(e.to_string(), fatal);
                return;
            }
        }
        if done {
            return;
        }
        yield_now().await;
        let paused = {
            let s = state.borrow();
            !s.running && s.generation == generation
        };
        if paused {
            post(&WorkerOutput::Paused { step });
            return;
        }
    }
}

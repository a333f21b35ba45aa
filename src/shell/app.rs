//! The page: Train / Pause / Reset, the device in plain words, a live loss curve, progress with
//! ETA and a sampled continuation of a fixed prompt. It owns no model: it starts the training
//! worker, sends it [`WorkerInput`]s and draws the [`WorkerOutput`]s it gets back.
//! Element ids for tests are stable `data-testid`s.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::core::audit::AuditLine;
use crate::core::corpus::CorpusInput;
use crate::core::corpus::view::CorpusView;
use crate::core::summary::{RunStatus, RunSummary, TrainEvent};
use crate::core::tokenizer::TokenPiece;
use crate::protocol::{
    BackendRequest, ReadyInfo, RunTags, Settings, UrlNote, WorkerInput, WorkerOutput,
};

use super::chart::LossChart;
use super::compare_panel::{self, ComparePanel, CompareView};
use super::corpus_panel::CorpusPanel;
use super::evaluation::{EvalShown, EvaluationPanel};
use super::load_run::LoadRun;
use super::objective_picker::ObjectivePicker;
use super::results::Results;
use super::tour::Tour;
use super::viz::{VizPanel, VizView};

/// Everything the page shows, as signals (all `Copy`).
#[derive(Clone, Copy)]
pub struct RunView {
    pub status: RwSignal<String>,
    pub ready: RwSignal<Option<ReadyInfo>>,
    pub running: RwSignal<bool>,
    pub step: RwSignal<usize>,
    pub loss: RwSignal<Option<f32>>,
    pub tokens: RwSignal<u64>,
    pub tokens_per_s: RwSignal<f64>,
    pub eta_s: RwSignal<Option<f64>>,
    pub train_curve: RwSignal<Vec<(usize, f32)>>,
    pub val_curve: RwSignal<Vec<(usize, f32)>>,
    /// Step, prompt and continuation of the latest sample.
    pub sample: RwSignal<Option<(usize, String, String)>>,
    pub outcome: RwSignal<Option<(RunStatus, usize)>>,
    pub error: RwSignal<Option<String>>,
    /// Why the page fell back to the CPU after the worker failed on WebGPU.
    pub fallback: RwSignal<Option<String>>,
    /// The corpus panel's content, its fingerprint, and why a text was refused.
    pub corpus: RwSignal<Option<CorpusView>>,
    pub fingerprint: RwSignal<Option<String>>,
    /// The shortcut audit of the corpus's labelled sets, and whether it is complete.
    pub audit: RwSignal<Option<(Vec<AuditLine>, bool)>>,
    pub corpus_message: RwSignal<Option<String>>,
    /// The corpus offered to the worker and not yet answered (the one in use is
    /// `settings.corpus`).
    pub pending_corpus: RwSignal<Option<CorpusInput>>,
    /// The tokenizer view: the text and its tokens.
    pub token_view: RwSignal<Option<(String, Vec<TokenPiece>)>>,
    /// The settings of the current worker's run (mix and knobs change them).
    pub settings: RwSignal<Settings>,
    /// The pair head's loss per training step and at each evaluation, and the word-frequency
    /// baseline on the validation positions of the token loss.
    pub train_pair_curve: RwSignal<Vec<(usize, f32)>>,
    pub val_pair_curve: RwSignal<Vec<(usize, f32)>>,
    pub val_baseline: RwSignal<Option<f64>>,
    /// The latest evaluation's loss on corrupted positions and pair-head accuracy.
    pub corrupted_loss: RwSignal<Option<f32>>,
    pub pair_accuracy: RwSignal<Option<f32>>,
    /// The summary of the finished (or loaded) run.
    pub summary: RwSignal<Option<RunSummary>>,
    /// The latest evaluation, the one in progress (stage, stages, what) and why one stopped.
    pub evaluation: RwSignal<Option<EvalShown>>,
    pub evaluating: RwSignal<Option<(usize, usize, String)>>,
    pub eval_message: RwSignal<Option<String>>,
    /// Why a saved run could not be loaded.
    pub load_message: RwSignal<Option<String>>,
    /// The training worker's wasm memory (its peak: wasm memory never shrinks).
    pub worker_memory: RwSignal<Option<u64>>,
    /// What the page's link said that could not be used; shown until dismissed or the set-up
    /// changes.
    pub url_notes: RwSignal<Vec<UrlNote>>,
    /// Why the worker was restarted, when it crashed.
    pub crash: RwSignal<Option<String>>,
    /// Crashes since the last run became ready (a worker that crashes again before its run is
    /// ready is not restarted in a loop).
    pub crash_streak: RwSignal<u32>,
    /// The attention panel's state.
    pub viz: VizView,
    /// The comparison panel's state.
    pub compare: CompareView,
}

impl RunView {
    fn new() -> Self {
        Self {
            status: RwSignal::new("Starting the training worker…".into()),
            ready: RwSignal::new(None),
            running: RwSignal::new(false),
            step: RwSignal::new(0),
            loss: RwSignal::new(None),
            tokens: RwSignal::new(0),
            tokens_per_s: RwSignal::new(0.0),
            eta_s: RwSignal::new(None),
            train_curve: RwSignal::new(Vec::new()),
            val_curve: RwSignal::new(Vec::new()),
            sample: RwSignal::new(None),
            outcome: RwSignal::new(None),
            error: RwSignal::new(None),
            fallback: RwSignal::new(None),
            corpus: RwSignal::new(None),
            fingerprint: RwSignal::new(None),
            audit: RwSignal::new(None),
            corpus_message: RwSignal::new(None),
            pending_corpus: RwSignal::new(None),
            token_view: RwSignal::new(None),
            settings: RwSignal::new(Settings::default()),
            train_pair_curve: RwSignal::new(Vec::new()),
            val_pair_curve: RwSignal::new(Vec::new()),
            val_baseline: RwSignal::new(None),
            corrupted_loss: RwSignal::new(None),
            pair_accuracy: RwSignal::new(None),
            summary: RwSignal::new(None),
            evaluation: RwSignal::new(None),
            evaluating: RwSignal::new(None),
            eval_message: RwSignal::new(None),
            load_message: RwSignal::new(None),
            worker_memory: RwSignal::new(None),
            url_notes: RwSignal::new(Vec::new()),
            crash: RwSignal::new(None),
            crash_streak: RwSignal::new(0),
            viz: VizView::new(),
            compare: CompareView::new(),
        }
    }

    pub(crate) fn clear_run(&self) {
        self.ready.set(None);
        self.running.set(false);
        self.step.set(0);
        self.loss.set(None);
        self.tokens.set(0);
        self.tokens_per_s.set(0.0);
        self.eta_s.set(None);
        self.train_curve.set(Vec::new());
        self.val_curve.set(Vec::new());
        self.train_pair_curve.set(Vec::new());
        self.val_pair_curve.set(Vec::new());
        self.val_baseline.set(None);
        self.sample.set(None);
        self.outcome.set(None);
        self.corrupted_loss.set(None);
        self.pair_accuracy.set(None);
        self.summary.set(None);
        self.evaluation.set(None);
        self.evaluating.set(None);
        self.eval_message.set(None);
        self.viz.clear_run();
    }

    /// Draws one message of the worker, tagged `run`, which [`RunTags::admit`] let through.
    fn apply(&self, output: WorkerOutput, run: Option<u64>) {
        let settings = &self.settings.get_untracked();
        match output {
            WorkerOutput::Loaded => {
                send(&WorkerInput::Prepare(settings.clone()));
            }
            WorkerOutput::Status { text } => self.status.set(text),
            WorkerOutput::Ready(info) => {
                if info.loaded_from.is_some() {
                    self.clear_run();
                    self.load_message.set(None);
                    // The page's set-up becomes the loaded run's, drawn one way everywhere
                    // (the picker, the URL, what Reset trains).
                    self.settings.update(|s| {
                        s.mix = info.mix.clone();
                        s.size = Some(info.size);
                        s.seed = info.seed;
                        s.corpus_seed = info.corpus_seed;
                        s.budget_tokens = info.budget_tokens;
                        s.knobs = info.knobs.clone();
                    });
                }
                self.crash_streak.set(0);
                self.status.set(String::new());
                self.error.set(None);
                self.viz.ready(&info.mix);
                self.ready.set(Some(info));
                compare_panel::ready(*self);
            }
            WorkerOutput::Preview {
                slot,
                example,
                preview,
            } => self.viz.apply_preview(slot, example, *preview),
            WorkerOutput::PreviewFailed { message, .. } => self.viz.message.set(Some(message)),
            WorkerOutput::Heads { live } => self.viz.heads.set(Some(*live)),
            WorkerOutput::Corpus(corpus) => {
                self.fingerprint.set(None);
                self.audit.set(None);
                self.corpus.set(Some(*corpus));
            }
            WorkerOutput::Fingerprint { value } => self.fingerprint.set(Some(value)),
            WorkerOutput::Audit { lines, done } => self.audit.set(Some((lines, done))),
            WorkerOutput::CorpusAccepted { description } => {
                self.clear_run();
                self.corpus_message.set(None);
                if let Some(input) = run.and_then(take_offer) {
                    self.settings.update(|s| s.corpus = input);
                }
                if !offer_pending() {
                    self.pending_corpus.set(None);
                }
                self.status
                    .set(format!("Preparing a fresh run on {description}…"));
            }
            WorkerOutput::CorpusRejected { message } => {
                run.and_then(take_offer);
                if !offer_pending() {
                    self.pending_corpus.set(None);
                }
                self.status.set(String::new());
                self.corpus_message.set(Some(message));
            }
            WorkerOutput::Crashed { message } => restart_after_crash(*self, &message),
            WorkerOutput::RunRejected { message } => {
                self.status.set(String::new());
                self.load_message.set(Some(message));
            }
            WorkerOutput::ModelFiles { key, files } => {
                compare_panel::model_files(*self, key, *files)
            }
            WorkerOutput::ModelNotSaved { key, message } => {
                compare_panel::model_not_saved(*self, key, message)
            }
            WorkerOutput::Tokens { text, pieces } => self.token_view.set(Some((text, pieces))),
            WorkerOutput::Paused { step, reason } => {
                self.running.set(false);
                match reason {
                    Some(why) => self.status.set(format!("Paused after step {step}: {why}")),
                    None => self.status.set(format!("Paused after step {step}.")),
                }
            }
            // Only helper workers send these, to the training worker.
            WorkerOutput::ShardDone(_) | WorkerOutput::ShardFailed { .. } => {}
            WorkerOutput::Error { message, fatal } => {
                self.running.set(false);
                // Only a WebGPU worker has a CPU to fall back to.
                if fatal && settings.backend == BackendRequest::Auto && ON_WEBGPU.with(Cell::get) {
                    fall_back_to_cpu(*self, &message);
                } else {
                    self.status.set(String::new());
                    compare_panel::run_failed(*self, &message);
                    self.error.set(Some(message));
                }
            }
            // The run tags already dropped other runs' events; before `Ready` there is no run.
            WorkerOutput::Event(event) if self.ready.get_untracked().is_some() => {
                self.apply_event(event)
            }
            WorkerOutput::Event(_) => {}
            WorkerOutput::Memory { wasm_bytes } => self.worker_memory.set(Some(wasm_bytes)),
            // The page never asks its own worker for a bench (the bench harness starts one).
            WorkerOutput::BenchResult { .. } => {}
            WorkerOutput::Evaluating { done, total, what } => {
                self.eval_message.set(None);
                self.evaluating.set(Some((done, total, what)));
            }
            WorkerOutput::Evaluated {
                evaluation,
                step,
                last,
            } => {
                self.evaluating.set(None);
                if last {
                    // The record the page downloads as run.json carries it too.
                    self.summary.update(|s| {
                        if let Some(s) = s {
                            s.evaluation = (*evaluation).clone();
                        }
                    });
                }
                self.evaluation.set(Some(EvalShown {
                    evaluation: *evaluation,
                    step,
                    last,
                }));
                if last {
                    compare_panel::run_done(*self, current_run());
                }
            }
            WorkerOutput::EvaluationStopped { message } => {
                self.evaluating.set(None);
                self.eval_message.set(Some(message));
                // A finished run whose evaluation stopped is still a row (without figures).
                compare_panel::run_done(*self, current_run());
            }
        }
    }

    fn apply_event(&self, event: TrainEvent) {
        match event {
            TrainEvent::Step(r) => {
                self.step.set(r.step);
                self.loss.set(Some(r.loss));
                self.tokens.set(r.tokens);
                self.tokens_per_s.set(r.tokens_per_s);
                self.eta_s.set(Some(r.eta_s));
                // The chart draws the token part and the pair part, never their weighted sum.
                if let Some(t) = r.token_loss.filter(|v| v.is_finite()) {
                    self.train_curve.update(|c| c.push((r.step, t)));
                }
                if let Some(p) = r.pair_loss.filter(|v| v.is_finite()) {
                    self.train_pair_curve.update(|c| c.push((r.step, p)));
                }
            }
            TrainEvent::Eval {
                step,
                val_loss_corrupted,
                val_baseline,
                val_pair_loss,
                val_pair_accuracy,
                ..
            } => {
                if let Some(v) = val_loss_corrupted {
                    self.val_curve.update(|c| c.push((step, v)));
                }
                if let Some(v) = val_pair_loss {
                    self.val_pair_curve.update(|c| c.push((step, v)));
                }
                if let Some(b) = val_baseline {
                    self.val_baseline.set(Some(f64::from(b)));
                }
                self.corrupted_loss.set(val_loss_corrupted);
                self.pair_accuracy.set(val_pair_accuracy);
            }
            TrainEvent::Sample { step, prompt, text } => {
                self.sample.set(Some((step, prompt, text)))
            }
            TrainEvent::Finished(summary) => {
                self.running.set(false);
                self.eta_s.set(Some(0.0));
                let at = summary.diverged_at_step.unwrap_or(summary.steps);
                self.outcome.set(Some((summary.status, at)));
                let diverged = summary.status == RunStatus::Diverged;
                // A loaded run brings the evaluation it was saved with.
                if !summary.evaluation.is_empty() {
                    self.evaluation.set(Some(EvalShown {
                        evaluation: summary.evaluation.clone(),
                        step: summary.steps,
                        last: true,
                    }));
                }
                self.summary.set(Some(*summary));
                // A diverged run is not evaluated: it is a row now. A loaded run brings its
                // evaluation: it is a row now too.
                let loaded = self
                    .ready
                    .get_untracked()
                    .is_some_and(|r| r.loaded_from.is_some());
                if diverged || loaded {
                    compare_panel::run_done(*self, current_run());
                }
            }
        }
    }
}

/// The live worker and the callbacks it holds (dropped together when it is replaced).
struct WorkerHandle {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static WORKER: RefCell<Option<WorkerHandle>> = const { RefCell::new(None) };
    /// Whether the live worker is the WebGPU build (only its failures fall back to the CPU).
    static ON_WEBGPU: Cell<bool> = const { Cell::new(false) };
    /// Whether the browser grants a WebGPU adapter, once asked.
    static ADAPTER: Cell<Option<bool>> = const { Cell::new(None) };
    /// Bumped by every `start_worker`: an adapter check answered late starts nothing.
    static STARTS: Cell<u64> = const { Cell::new(0) };
    /// Which run the page shows, and the offers not yet answered.
    static TAGS: RefCell<RunTags> = RefCell::new(RunTags::default());
    /// The own text of each corpus offer not yet answered, by its number.
    static OFFERS: RefCell<std::collections::BTreeMap<u64, CorpusInput>> =
        const { RefCell::new(std::collections::BTreeMap::new()) };
}

/// The number of the run the page shows.
pub(crate) fn current_run() -> u64 {
    TAGS.with(|t| t.borrow().current())
}

/// The text of corpus offer `run`, once answered.
fn take_offer(run: u64) -> Option<CorpusInput> {
    OFFERS.with(|o| o.borrow_mut().remove(&run))
}

fn offer_pending() -> bool {
    OFFERS.with(|o| !o.borrow().is_empty())
}

/// Sends `input` to the worker, tagged with its run number ([`RunTags`]): a new one for
/// Prepare and Reset, an offer's for UseCorpus and LoadRun, the current one otherwise.
/// Returns the number.
pub(crate) fn send(input: &WorkerInput) -> u64 {
    let run = TAGS.with(|t| {
        let mut tags = t.borrow_mut();
        match input {
            WorkerInput::Prepare(_) | WorkerInput::Reset => tags.start(),
            WorkerInput::UseCorpus(_) | WorkerInput::LoadRun(_) => tags.offer(),
            _ => tags.current(),
        }
    });
    if let WorkerInput::UseCorpus(corpus) = input {
        OFFERS.with(|o| o.borrow_mut().insert(run, corpus.clone()));
    }
    // Bytes (a saved run's weights) travel as one `Uint8Array`, not an array of numbers.
    let serializer =
        serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false);
    WORKER.with(|w| {
        if let Some(handle) = w.borrow().as_ref() {
            match serde::Serialize::serialize(input, &serializer) {
                Ok(value) => {
                    let _ = js_sys::Reflect::set(&value, &"run".into(), &(run as f64).into());
                    if let Err(e) = handle.worker.post_message(&value) {
                        web_sys::console::warn_2(&"could not message the worker".into(), &e);
                    }
                }
                Err(e) => {
                    web_sys::console::warn_1(&format!("could not serialise a message: {e}").into())
                }
            }
        }
    });
    run
}

/// Starts a worker for `settings` and asks it to prepare a run. Any failure is shown. The
/// WebGPU build of the worker when the URL allows it and the browser grants an adapter, the
/// CPU-only build (a fraction of the download) otherwise.
fn start_worker(view: RunView, settings: Settings) {
    view.settings.set(settings.clone());
    WORKER.with(|w| {
        if let Some(old) = w.borrow_mut().take() {
            old.worker.terminate();
        }
    });
    let start = STARTS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    if settings.backend == BackendRequest::Cpu {
        spawn_worker(view, false);
        return;
    }
    if let Some(known) = ADAPTER.with(Cell::get) {
        spawn_worker(view, known);
        return;
    }
    view.status.set("Looking for a WebGPU adapter…".into());
    wasm_bindgen_futures::spawn_local(async move {
        let available = super::gpu::adapter_available().await;
        ADAPTER.with(|a| a.set(Some(available)));
        if STARTS.with(Cell::get) == start {
            spawn_worker(view, available);
        }
    });
}

/// The browser's service workers, where it allows them here (only over HTTPS or from this
/// machine: elsewhere `navigator.serviceWorker` is missing, and touching it would throw).
fn service_workers() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = window().navigator();
    js_sys::Reflect::get(&navigator, &"serviceWorker".into())
        .is_ok_and(|v| !v.is_undefined() && !v.is_null())
        .then(|| navigator.service_worker())
}

/// Asks the page's service worker (once it is active) to keep the files of the worker build
/// in use, so the page opens offline with the build this machine needs and no other is
/// downloaded for nothing.
fn keep_offline(webgpu: bool) {
    let Some(workers) = service_workers() else {
        return;
    };
    let files = if webgpu {
        ["worker_loader.js", "worker.js", "worker_bg.wasm"]
    } else {
        [
            "worker_loader.js?build=cpu",
            "worker_cpu.js",
            "worker_cpu_bg.wasm",
        ]
    };
    let Ok(ready) = workers.ready() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else {
            return;
        };
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        if let Some(active) = registration.active() {
            let list = js_sys::Array::new();
            for f in files {
                list.push(&f.into());
            }
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"keep".into(), &list);
            let _ = active.post_message(&message);
        }
    });
}

fn spawn_worker(view: RunView, webgpu: bool) {
    ON_WEBGPU.with(|w| w.set(webgpu));
    keep_offline(webgpu);
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Classic);
    let url = if webgpu {
        "./worker_loader.js"
    } else {
        "./worker_loader.js?build=cpu"
    };
    let worker = match Worker::new_with_options(url, &options) {
        Ok(worker) => worker,
        Err(e) => {
            view.error.set(Some(format!(
                "The browser refused to start the training worker: {e:?}"
            )));
            return;
        }
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let run = js_sys::Reflect::get(&data, &"run".into())
            .ok()
            .and_then(|v| v.as_f64())
            .map(|v| v as u64);
        match serde_wasm_bindgen::from_value::<WorkerOutput>(data) {
            Ok(output) => {
                if TAGS.with(|t| t.borrow_mut().admit(run, &output)) {
                    view.apply(output, run);
                }
            }
            Err(e) => view
                .error
                .set(Some(format!("The page did not understand the worker: {e}"))),
        }
    });
    // An uncaught error in the worker: its code could not load, or a panic trapped (the panic
    // hook's `Crashed` usually comes first; this covers a panic before the hook is installed).
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        event.prevent_default();
        restart_after_crash(view, &event.message());
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    WORKER.with(|w| {
        *w.borrow_mut() = Some(WorkerHandle {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        });
    });
    // `Prepare` goes out when the worker says it is listening (`Loaded`).
}

/// After a failure on WebGPU: say so, and start over on the CPU.
fn fall_back_to_cpu(view: RunView, why: &str) {
    web_sys::console::warn_1(&format!("switching to the CPU: {why}").into());
    view.fallback.set(Some(why.to_string()));
    view.clear_run();
    view.status.set("Restarting on the CPU…".into());
    let settings = Settings {
        backend: BackendRequest::Cpu,
        ..view.settings.get_untracked()
    };
    // Replacing the worker drops the closure that is calling us; finish this call first.
    wasm_bindgen_futures::spawn_local(async move { start_worker(view, settings) });
}

/// After the worker crashed (a panic, or an error it did not catch): a new worker with the
/// same set-up — the same device request, own text included — and a note saying what
/// happened. A finished run's summary stays on screen. A worker that crashes again before its
/// run is ready is not restarted in a loop: on `auto` the page falls back to the CPU once, then
/// stops and says so.
fn restart_after_crash(view: RunView, why: &str) {
    web_sys::console::warn_1(&format!("the training worker crashed: {why}").into());
    // A race counts the run as failed and points the restart at its next mix.
    compare_panel::crashed(view, why);
    view.running.set(false);
    let streak = view.crash_streak.get_untracked() + 1;
    view.crash_streak.set(streak);
    let settings = view.settings.get_untracked();
    let kept = view.summary.get_untracked();
    match streak {
        1 => {
            view.crash.set(Some(format!(
                "The training worker crashed ({why}). It was restarted with the same set-up; {}",
                if kept.is_some() {
                    "the finished run's results are kept below."
                } else {
                    "the run in progress was lost: press Train to start it again."
                }
            )));
            view.clear_run();
            view.summary.set(kept);
            view.status.set("Restarting the training worker…".into());
            wasm_bindgen_futures::spawn_local(async move { start_worker(view, settings) });
        }
        2 if settings.backend == BackendRequest::Auto && ON_WEBGPU.with(Cell::get) => {
            view.crash
                .set(Some(format!("The training worker crashed again ({why}).")));
            fall_back_to_cpu(view, "the worker crashed twice on WebGPU");
        }
        _ => {
            compare_panel::race_stopped(view);
            view.status.set(String::new());
            view.crash.set(Some(format!(
                "The training worker crashed again ({why}) before its run was ready, so it \
                 was not restarted. Reload the page to try again."
            )));
        }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let view = RunView::new();
    provide_context(view);
    provide_context(view.viz);
    let query = window().location().search().unwrap_or_default();
    let (settings, mut notes) = Settings::from_query(&query);
    if settings.custom_corpus_asked {
        notes.push(UrlNote {
            key: "corpus".into(),
            value: "custom".into(),
            reason: "this set-up trained on its own text, which a link cannot carry: paste or choose that text in the corpus panel below, then train".into(),
        });
    }
    view.url_notes.set(notes);
    let open_at = settings.view.clone();
    if open_at.as_deref() == Some("tour") {
        view.compare.tour.set(Some(0));
    }
    start_worker(view, settings);
    if let Some(id) = open_at {
        // After the first render, so the section exists.
        request_animation_frame(move || {
            if let Some(el) = document().get_element_by_id(&id) {
                el.scroll_into_view();
            }
        });
    }

    view! {
        <header class="top">
            <h1>"Pretraining Playground"</h1>
            <p class="tagline">"Watch a tiny transformer pre-train in your browser."</p>
            <Tour/>
        </header>
        <main class="layout">
            <section class="panel controls-panel">
                <Controls/>
                <ObjectivePicker/>
                <BackendLabel/>
                <RunFacts/>
                <UrlNotes/>
                <Messages/>
                <LoadRun/>
            </section>
            <section class="panel">
                <Stats/>
                <Progress/>
                <LossChart/>
                <Results/>
                <EvaluationPanel/>
            </section>
            <section class="panel">
                <Sample/>
            </section>
            <ComparePanel/>
            <VizPanel/>
            <CorpusPanel/>
        </main>
        <Hosting/>
    }
}

/// How this copy of the page is served, in a line at the foot of the page: whether it will
/// open offline after this visit (a service worker, `www/sw.js`, keeps its files; browsers
/// allow one only over HTTPS or on this machine), and whether the host sends cross-origin
/// isolation headers (the lab needs none; without them only timers are coarser).
#[component]
fn Hosting() -> impl IntoView {
    let offline = RwSignal::new("Offline use: checking…".to_string());
    if let Some(workers) = service_workers() {
        let promise = workers.register("./sw.js");
        wasm_bindgen_futures::spawn_local(async move {
            offline.set(match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(_) => "Offline use: after this visit the page opens and trains without a network (the browser keeps its files).".into(),
                Err(e) => format!("Offline use: unavailable here, the browser refused the service worker ({}).", e.as_string().unwrap_or_else(|| "no reason given".into())),
            });
        });
    } else {
        offline.set("Offline use: unavailable here (a browser keeps a page offline only when it is served over HTTPS or from this machine).".into());
    }
    let isolated =
        js_sys::Reflect::get(&window(), &"crossOriginIsolated".into()).is_ok_and(|v| v.is_truthy());
    let headers = if isolated {
        "Served with cross-origin isolation."
    } else {
        "Served without cross-origin isolation headers: nothing is missing for training; only the page's timers are coarser."
    };
    view! {
        <footer class="hosting" data-testid="hosting">
            <p data-testid="hosting-offline">{move || offline.get()}</p>
            <p data-testid="hosting-isolation">{headers}</p>
        </footer>
    }
}

#[component]
fn Controls() -> impl IntoView {
    let view = expect_context::<RunView>();
    let finished = move || view.outcome.get().is_some();
    let can_train = move || view.ready.get().is_some() && !view.running.get() && !finished();
    let train_label = move || match (view.running.get(), view.step.get()) {
        (true, _) => "Training…",
        (false, _) if finished() => "Done",
        (false, 0) => "Train",
        (false, _) => "Resume",
    };
    view! {
        <div class="controls">
            <button data-testid="train" class="primary" disabled=move || !can_train()
                on:click=move |_| {
                    view.running.set(true);
                    view.error.set(None);
                    view.status.set(String::new());
                    send(&WorkerInput::Train);
                }>
                {train_label}
            </button>
            <button data-testid="pause" disabled=move || !view.running.get()
                on:click=move |_| { send(&WorkerInput::Pause); }>"Pause"</button>
            <button data-testid="reset" disabled=move || view.ready.get().is_none()
                on:click=move |_| {
                    view.clear_run();
                    view.status.set("Preparing a fresh run…".into());
                    send(&WorkerInput::Reset);
                }>"Reset"</button>
        </div>
    }
}

#[component]
fn BackendLabel() -> impl IntoView {
    let view = expect_context::<RunView>();
    let label = move || match (view.ready.get(), view.fallback.get(), view.error.get()) {
        (Some(_), Some(reason), _) => format!("CPU (WebGPU unavailable: {reason})"),
        (Some(info), None, _) => info.backend.label,
        (None, _, Some(_)) => "none: the training worker could not start (see below)".into(),
        (None, _, None) => "choosing a device…".into(),
    };
    // The CPU step shared over several workers (the data-parallel fallback).
    let workers = move || {
        view.ready
            .get()
            .filter(|info| info.workers > 1)
            .map(|info| {
                view! {
                    <span class="workers" data-testid="workers" data-workers=info.workers>
                        {format!(" · {} workers share each step", info.workers)}
                    </span>
                }
            })
    };
    view! {
        <p class="backend">"Device: " <span data-testid="backend">{label}</span>{workers}</p>
    }
}

#[component]
fn RunFacts() -> impl IntoView {
    let view = expect_context::<RunView>();
    move || {
        view.ready.get().map(|info| {
            view! {
                <dl class="facts">
                    <dt>"objective"</dt><dd data-testid="run-mix">{info.mix.clone()}</dd>
                    <dt>"network"</dt><dd data-testid="run-plan">{format!("{}: {}", info.architecture, info.plan)}</dd>
                    <dt>"corpus"</dt><dd data-testid="run-corpus">{info.corpus.clone()}</dd>
                    <dt>"model"</dt><dd>{format!("{} · {} parameters", info.size, info.params)}</dd>
                    <dt>"budget"</dt><dd>{format!("{} tokens · ~{} steps", info.budget_tokens, info.planned_steps)}</dd>
                    <dt>"seeds"</dt><dd>{format!("seed {} · corpus {}", info.seed, info.corpus_seed)}</dd>
                    {info.loaded_from.clone().map(|from| view! {
                        <dt>"loaded"</dt><dd data-testid="run-loaded">{format!("a saved run, trained on {from}; Reset returns to a fresh run")}</dd>
                    })}
                </dl>
            }
        })
    }
}

#[component]
fn Messages() -> impl IntoView {
    let view = expect_context::<RunView>();
    let outcome = move || {
        view.outcome.get().map(|(status, step)| match status {
            RunStatus::Finished => format!("Finished: the budget is used up after {step} steps."),
            RunStatus::Diverged => format!(
                "Diverged at step {step}: the loss became NaN or infinite, so training stopped. The curve up to there is kept; Reset to try again."
            ),
            RunStatus::Cancelled => "Cancelled.".to_string(),
        })
    };
    view! {
        <p class="status" data-testid="status">{move || view.status.get()}</p>
        <p class="outcome" data-testid="outcome">{outcome}</p>
        <p class="error" data-testid="error" role="alert">{move || view.error.get()}</p>
        <p class="error" data-testid="crash" role="alert">{move || view.crash.get()}</p>
    }
}

/// What the page's link asked for that it could not use, key by key, until the student
/// dismisses it or chooses another set-up.
#[component]
fn UrlNotes() -> impl IntoView {
    let view = expect_context::<RunView>();
    view! {
        <Show when=move || !view.url_notes.get().is_empty()>
            <div class="url-note" data-testid="url-note" role="alert">
                <p>"This link asked for something the page cannot use, so the defaults stand in:"</p>
                <ul>
                    {move || view.url_notes.get().into_iter().map(|n| view! { <li>{n.to_string()}</li> }).collect_view()}
                </ul>
                <button data-testid="url-note-dismiss" on:click=move |_| view.url_notes.set(Vec::new())>"Dismiss"</button>
            </div>
        </Show>
    }
}

#[component]
fn Stats() -> impl IntoView {
    let view = expect_context::<RunView>();
    let planned = move || view.ready.get().map_or(0, |r| r.planned_steps);
    view! {
        <div class="stats">
            <div class="stat"><span class="stat-label">"step"</span>
                <span data-testid="step-count">{move || format!("{} of ~{}", view.step.get(), planned())}</span></div>
            <div class="stat"><span class="stat-label">"training loss"</span>
                <span data-testid="loss">{move || view.loss.get().map_or("–".into(), |l| format!("{l:.3} nats/token"))}</span></div>
            <div class="stat"><span class="stat-label">"speed"</span>
                <span data-testid="speed">{move || format!("{:.0} tokens/s", view.tokens_per_s.get())}</span></div>
            <Show when=move || view.corrupted_loss.get().is_some()>
                <div class="stat" title="validation loss on the corrupted positions only, against knowing just word frequencies there">
                    <span class="stat-label">"corrupted positions"</span>
                    <span data-testid="corrupted-loss">{move || view.corrupted_loss.get().map(|l| format!("{l:.3} nats")).unwrap_or_default()}</span></div>
            </Show>
            <Show when=move || view.pair_accuracy.get().is_some()>
                <div class="stat" title="the pair head's accuracy on held-out pairs (chance: 50%)">
                    <span class="stat-label">"pair accuracy"</span>
                    <span data-testid="pair-accuracy">{move || view.pair_accuracy.get().map(|a| format!("{:.1}%", a * 100.0)).unwrap_or_default()}</span></div>
            </Show>
            <Show when=move || view.worker_memory.get().is_some()>
                <div class="stat" title="the training worker's WebAssembly memory: model, optimizer state, corpus and the CPU backend's tensors (WebGPU tensors live on the GPU)">
                    <span class="stat-label">"worker memory"</span>
                    <span data-testid="memory">{move || view.worker_memory.get().map(|b| format!("{:.0} MB", b as f64 / 1e6)).unwrap_or_default()}</span></div>
            </Show>
        </div>
    }
}

#[component]
fn Progress() -> impl IntoView {
    let view = expect_context::<RunView>();
    // One value draws the bar, its text and its accessible value: a finished run is at 100%,
    // any other is at the tokens it has used, rounded down (never "100%" short of the end).
    let percent = move || {
        let budget = view.ready.get().map_or(1, |r| r.budget_tokens).max(1);
        let finished = matches!(view.outcome.get(), Some((RunStatus::Finished, _)));
        if finished {
            100.0
        } else {
            (100.0 * view.tokens.get() as f64 / budget as f64)
                .clamp(0.0, 100.0)
                .floor()
        }
    };
    let text = move || {
        let eta = view
            .eta_s
            .get()
            .map_or("ETA –".into(), |e| format!("ETA {}", clock(e)));
        format!("{:.0}% of the token budget · {eta}", percent())
    };
    view! {
        <div class="progress" data-testid="progress" role="progressbar"
            aria-valuemin="0" aria-valuemax="100" aria-valuenow=move || format!("{:.0}", percent())>
            <div class="progress-fill" style:width=move || format!("{:.0}%", percent())></div>
            <span class="progress-text">{text}</span>
        </div>
    }
}

#[component]
fn Sample() -> impl IntoView {
    let view = expect_context::<RunView>();
    view! {
        <h2>"What the model writes"</h2>
        <p class="hint">{move || if view.ready.get().is_none_or(|r| r.generates) {
            "A continuation of a fixed prompt, sampled (temperature 0.8, top-40) every few seconds."
        } else {
            "This objective trains a network that does not write text left to right, so there is nothing to sample; watch its losses instead."
        }}</p>
        <p class="sample" data-testid="sample" class:hidden=move || view.ready.get().is_some_and(|r| !r.generates)>
            <span class="prompt">{move || view.sample.get().map(|(_, p, _)| p).unwrap_or_default()}</span>
            <span class="continuation">{move || view.sample.get().map(|(_, _, t)| t).unwrap_or_default()}</span>
        </p>
        <p class="hint">{move || view.sample.get().map(|(s, _, _)| format!("sampled after step {s}")).unwrap_or_default()}</p>
    }
}

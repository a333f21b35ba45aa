//! The comparison panel: every finished run of this visit, of earlier visits (kept in the
//! browser's storage) and of imported result files or native `run.json`s, as a table, a
//! scatter of generation quality against pair accuracy, and learning curves; race mode,
//! which trains several mixes one after another; a class sweep's cell for each student; and
//! export / import of the runs. Rows, flags, points and pictures come from the core
//! ([`crate::core::compare`]); this file draws them and keeps them.

use std::cell::Cell as StdCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use crate::core::compare::curves::{self, CurveX, CurveY};
use crate::core::compare::file::{ResultsFile, import};
use crate::core::compare::race::Race;
use crate::core::compare::scatter::{self, GenAxis, PairAxis, ScatterSpec};
use crate::core::compare::table::{self, RowRole, SortBy};
use crate::core::compare::{KeptModel, PanelRun};
use crate::core::corpus::PairKind;
use crate::core::saved::SavedFiles;
use crate::core::summary::RunSummary;
use crate::protocol::{Settings, WorkerInput};

use super::app::RunView;
use super::models;
use super::objective_picker::apply_settings;
use super::viz::export::{download_png_text, download_svg_text, download_text};

/// Where the runs are kept between visits.
const STORAGE_KEY: &str = "pretrain-playground/runs";
/// Whether each new run's model is kept too (the student's choice, kept between visits).
const KEEP_MODELS_KEY: &str = "pretrain-playground/keep-models";

/// The panel's state (all `Copy`).
#[derive(Clone, Copy)]
pub struct CompareView {
    pub runs: RwSignal<Vec<PanelRun>>,
    pub sort: RwSignal<Option<SortBy>>,
    pub scatter: RwSignal<ScatterSpec>,
    pub curve_x: RwSignal<CurveX>,
    pub curve_y: RwSignal<CurveY>,
    /// Runs whose curves are drawn (indices into `runs`).
    pub chosen: RwSignal<Vec<usize>>,
    pub race: RwSignal<Option<Race>>,
    /// What happened to the last import, storage write or race.
    pub message: RwSignal<Option<String>>,
    /// The mixes the race box holds.
    pub race_mixes: RwSignal<String>,
    /// The lecture tour's step on screen (`None`: the tour is closed).
    pub tour: RwSignal<Option<usize>>,
    /// Keep each new run's model in the browser ([`models`]), not only its figures.
    pub keep_models: RwSignal<bool>,
}

thread_local! {
    /// The run number (the page's run tag) whose row was added last, and the row: one run is
    /// one row, brought up to date when the run is evaluated again.
    static ADDED: StdCell<Option<(u64, usize)>> = const { StdCell::new(None) };
}

/// Where runs that could not be read back are kept, so a later write does not lose them.
const BACKUP_KEY: &str = "pretrain-playground/runs-unread";

fn now_s() -> f64 {
    window().performance().map_or(0.0, |p| p.now() / 1000.0)
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

impl CompareView {
    /// The panel's state, with the runs earlier visits kept.
    pub(crate) fn new() -> Self {
        let view = Self {
            runs: RwSignal::new(Vec::new()),
            sort: RwSignal::new(None),
            scatter: RwSignal::new(ScatterSpec::default()),
            curve_x: RwSignal::new(CurveX::Tokens),
            curve_y: RwSignal::new(CurveY::Gain),
            chosen: RwSignal::new(Vec::new()),
            race: RwSignal::new(None),
            message: RwSignal::new(None),
            race_mixes: RwSignal::new("gpt,roberta,bert,albert,t5,bart,xlnet".to_string()),
            tour: RwSignal::new(None),
            keep_models: RwSignal::new(
                storage()
                    .and_then(|s| s.get_item(KEEP_MODELS_KEY).ok().flatten())
                    .is_some_and(|v| v == "1"),
            ),
        };
        view.restore();
        view
    }

    /// Reads the runs kept by earlier visits.
    fn restore(&self) {
        let Some(store) = storage() else {
            self.message.set(Some(
                "This browser keeps no storage for the page (private mode?): runs last until the page is closed; export them to keep them.".into(),
            ));
            return;
        };
        let Ok(Some(text)) = store.get_item(STORAGE_KEY) else {
            return;
        };
        match import("the runs kept in this browser", text.as_bytes()) {
            Ok(mut runs) => {
                // A model whose files never arrived (the page closed meanwhile) is not kept,
                // nor are files no row names any more.
                for r in &mut runs {
                    if r.model.as_ref().is_some_and(|m| m.bytes.is_none()) {
                        r.model = None;
                    }
                }
                let keys: Vec<String> = runs
                    .iter()
                    .filter_map(|r| r.model.as_ref().map(|m| m.key.clone()))
                    .collect();
                spawn_local(models::prune(keys));
                self.chosen.set(first_of_each_mix(&runs));
                self.runs.set(runs);
            }
            Err(e) => {
                // A later write replaces the key: keep the unread text beside it first.
                let kept = store.set_item(BACKUP_KEY, &text).is_ok();
                self.message.set(Some(if kept {
                    format!("{e}. They were kept in this browser's storage under `{BACKUP_KEY}`.")
                } else {
                    format!("{e}. Storage is full, so they could not be kept aside.")
                }));
            }
        }
    }

    /// Keeps the runs for the next visit; a full or missing storage is said, never fatal.
    fn store(&self) {
        let runs = self.runs.get_untracked();
        let Some(store) = storage() else { return };
        let result = if runs.is_empty() {
            store.remove_item(STORAGE_KEY)
        } else {
            match ResultsFile::new(runs).to_json() {
                Ok(json) => store.set_item(STORAGE_KEY, &json),
                Err(e) => {
                    self.message.set(Some(e.to_string()));
                    return;
                }
            }
        };
        if result.is_err() {
            self.message.set(Some(
                "The browser's storage is full or unavailable, so these runs will not survive a reload: export them as JSON to keep them.".into(),
            ));
        }
    }

    /// Adds rows and keeps them.
    pub fn add(&self, rows: Vec<PanelRun>) {
        let start = self.runs.get_untracked().len();
        self.runs.update(|r| r.extend(rows));
        // The student's ticks stay; a mix new to the panel gets its first run ticked.
        let runs = self.runs.get_untracked();
        self.chosen.update(|chosen| {
            for i in first_of_each_mix(&runs).into_iter().filter(|&i| i >= start) {
                let label = runs[i].label();
                if !chosen
                    .iter()
                    .any(|&c| runs.get(c).is_some_and(|r| r.label() == label))
                {
                    chosen.push(i);
                }
            }
        });
        self.store();
    }

    /// Puts `run` in place of row `index` (a run evaluated again) and keeps it.
    fn replace(&self, index: usize, run: PanelRun) {
        self.runs.update(|r| {
            if let Some(slot) = r.get_mut(index) {
                *slot = run;
            }
        });
        self.store();
    }

    fn clear(&self) {
        self.runs.set(Vec::new());
        self.chosen.set(Vec::new());
        self.message.set(None);
        self.store();
        // No row is the run on screen's any more.
        ADDED.with(|a| a.set(None));
        spawn_local(models::forget_all());
    }

    /// Models whose files will not come (the worker that was writing them died): not kept.
    fn drop_pending(&self, why: &str) {
        let mut dropped = 0;
        self.runs.update(|runs| {
            for r in runs.iter_mut() {
                if r.model.as_ref().is_some_and(|m| m.bytes.is_none()) {
                    r.model = None;
                    dropped += 1;
                }
            }
        });
        if dropped > 0 {
            self.store();
            self.message.set(Some(format!(
                "{dropped} model{} not kept: {why}. The figures are.",
                if dropped == 1 { " was" } else { "s were" }
            )));
        }
    }

    /// Sets the model of the row that holds `key` (none: that row is gone).
    fn set_model(&self, key: &str, model: Option<KeptModel>) -> Option<PanelRun> {
        let mut found = None;
        self.runs.update(|runs| {
            if let Some(r) = runs
                .iter_mut()
                .find(|r| r.model.as_ref().is_some_and(|m| m.key == key))
            {
                r.model = model;
                found = Some(r.clone());
            }
        });
        self.store();
        found
    }

    /// Asks the worker for the model of row `index` (the run it holds now) to keep it.
    fn keep_model(&self, index: usize) {
        let Some(summary) = self
            .runs
            .get_untracked()
            .get(index)
            .and_then(|r| r.summary.clone())
        else {
            return;
        };
        let key = format!("m{}-{index}", js_sys::Date::now() as u64);
        self.runs.update(|runs| {
            if let Some(r) = runs.get_mut(index) {
                r.model = Some(KeptModel {
                    key: key.clone(),
                    bytes: None,
                });
            }
        });
        self.store();
        super::app::send(&WorkerInput::SaveModel { key, summary });
    }
}

/// The worker's files of a model the panel asked to keep: stored, and the row says so.
pub fn model_files(view: RunView, key: String, files: SavedFiles) {
    let compare = view.compare;
    spawn_local(async move {
        match models::put(&key, &files).await {
            Ok(bytes) => {
                let model = KeptModel {
                    key: key.clone(),
                    bytes: Some(bytes),
                };
                if compare.set_model(&key, Some(model)).is_none() {
                    // The row was cleared meanwhile.
                    models::forget(&key).await;
                }
            }
            Err(why) => model_not_saved(view, key, why),
        }
    });
}

/// A model the panel asked to keep could not be: the row keeps its figures and says why.
pub fn model_not_saved(view: RunView, key: String, why: String) {
    if let Some(row) = view.compare.set_model(&key, None) {
        view.compare.message.set(Some(format!(
            "The model of {} (seed {}) was not kept: {why}. Its figures are.",
            row.label(),
            row.seed
        )));
    }
}

/// Loads a kept model into the worker, as a saved run: it can write in the page again.
fn load_model(view: RunView, key: String) {
    spawn_local(async move {
        match models::get(&key).await {
            Ok(files) => {
                view.status.set("Loading the kept model…".into());
                super::app::send(&WorkerInput::LoadRun(Box::new(files)));
            }
            Err(why) => view
                .compare
                .message
                .set(Some(format!("The kept model cannot be loaded: {why}."))),
        }
    });
}

/// Whether two records are of the same run (a kept model loaded back replays its own record).
fn same_run(a: &RunSummary, b: &RunSummary) -> bool {
    a.mix == b.mix
        && a.seed == b.seed
        && a.steps == b.steps
        && a.tokens == b.tokens
        && a.wall_s.to_bits() == b.wall_s.to_bits()
}

/// The runs ticked for curves and replies by default: the first finished run of each mix.
fn first_of_each_mix(runs: &[PanelRun]) -> Vec<usize> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        if r.summary.is_some() && !seen.contains(&r.label()) {
            seen.push(r.label());
            out.push(i);
        }
    }
    out
}

/// Called when the page's run (tagged `run`) has its final evaluation, or ended without one
/// (diverged; evaluation stopped): the run becomes a row once, and a race moves on.
pub fn run_done(view: RunView, run: u64) {
    let Some(summary) = view.summary.get_untracked() else {
        return;
    };
    let loaded = view.ready.get_untracked().and_then(|r| r.loaded_from);
    let source = match &loaded {
        Some(from) => format!("saved run ({from})"),
        None => "trained here".to_string(),
    };
    let compare = view.compare;
    let summary = with_page_fields(view, summary);
    // A kept model loaded back: its row is already here.
    if loaded.is_some()
        && let Some(index) = compare.runs.get_untracked().iter().position(|r| {
            r.model.is_some() && r.summary.as_deref().is_some_and(|s| same_run(s, &summary))
        })
    {
        ADDED.with(|a| a.set(Some((run, index))));
        return;
    }
    let row = PanelRun::finished(source, summary);
    // The same run again (evaluated after its evaluation was stopped): its row is updated.
    if let Some((added, index)) = ADDED.with(StdCell::get)
        && added == run
    {
        let model = compare
            .runs
            .get_untracked()
            .get(index)
            .and_then(|r| r.model.clone());
        compare.replace(index, PanelRun { model, ..row });
        return;
    }
    let index = compare.runs.get_untracked().len();
    ADDED.with(|a| a.set(Some((run, index))));
    compare.add(vec![row]);
    if compare.keep_models.get_untracked() {
        compare.keep_model(index);
    }
    // Only the race's own run moves the race on (not a saved run loaded meanwhile, nor a mix
    // trained by hand).
    let settings = view.settings.get_untracked();
    let ours = compare.race.get_untracked().is_some_and(|race| {
        race.running() == Some(settings.mix.as_str()) && race.seed == settings.seed
    });
    if ours && loaded.is_none() {
        next_in_race(view, None);
    }
}

/// The page's fingerprint and set-up, where a record lacks them (a loaded older run).
fn with_page_fields(view: RunView, mut summary: RunSummary) -> RunSummary {
    if summary.corpus_fingerprint.is_none()
        && view
            .ready
            .get_untracked()
            .is_some_and(|r| r.loaded_from.is_none())
    {
        summary.corpus_fingerprint = view.fingerprint.get_untracked();
    }
    summary
}

/// Called when the run in progress failed (an error, a crash): a race records it as a failed
/// row and moves on. Returns whether a race took it.
pub fn run_failed(view: RunView, why: &str) -> bool {
    let Some(race) = view.compare.race.get_untracked() else {
        return false;
    };
    let Some(mix) = race.running().map(str::to_string) else {
        return false;
    };
    view.compare
        .add(vec![PanelRun::failed("race", mix, race.seed, why)]);
    next_in_race(view, Some(why));
    true
}

/// Moves the race on after its current run; starts the next one, or ends.
fn next_in_race(view: RunView, failed: Option<&str>) {
    let compare = view.compare;
    let Some(mut race) = compare.race.get_untracked() else {
        return;
    };
    if race.running().is_none() {
        return;
    }
    let next = race.advance(now_s()).map(str::to_string);
    compare.race.set(Some(race.clone()));
    if let Some(why) = failed {
        compare.message.set(Some(format!(
            "A race run failed ({why}); the race goes on."
        )));
    }
    if let Some(mix) = next {
        let mut settings = view.settings.get_untracked();
        settings.mix = mix;
        settings.seed = race.seed;
        apply_settings(view, settings);
    }
}

/// Called on every `Ready`: a race trains its run as soon as it is ready.
pub fn ready(view: RunView) {
    let Some(race) = view.compare.race.get_untracked() else {
        return;
    };
    let fresh = view
        .ready
        .get_untracked()
        .is_some_and(|r| r.loaded_from.is_none());
    if race
        .running()
        .is_some_and(|m| m == view.settings.get_untracked().mix)
        && fresh
    {
        view.running.set(true);
        super::app::send(&crate::protocol::WorkerInput::Train);
    }
}

/// Before a crashed worker is restarted: a race counts the run as failed and points the
/// restart at its next mix.
pub fn crashed(view: RunView, why: &str) {
    if view.summary.get_untracked().is_some() {
        // The run had finished (its evaluation was under way): it is a row without figures.
        run_done(view, super::app::current_run());
    } else {
        run_failed(view, &format!("the training worker crashed: {why}"));
    }
    // The worker that held the weights is gone: nothing it was asked to write will come.
    view.compare
        .drop_pending("the training worker crashed before writing it");
}

/// When the worker will not be restarted: the race stops where it is.
pub fn race_stopped(view: RunView) {
    view.compare.race.update(|r| {
        if let Some(r) = r {
            r.cancelled = true;
        }
    });
}

/// Reads the chosen files into rows, each file on its own: one that does not fit is named
/// with its reason and the others still join.
async fn read_files(compare: CompareView, files: Vec<web_sys::File>) {
    let mut notes = Vec::new();
    let mut added = 0;
    for file in files {
        let name = file.name();
        let rows = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => import(&name, &js_sys::Uint8Array::new(&buffer).to_vec()),
            Err(e) => {
                notes.push(format!("The browser could not read {name}: {e:?}"));
                continue;
            }
        };
        match rows {
            Ok(mut rows) => {
                for r in &mut rows {
                    // Another browser's storage: its models are not here.
                    r.model = None;
                    if r.source == "trained here"
                        || r.source.starts_with("trained here (")
                        || r.source == "race"
                    {
                        r.source = format!("{name}: {}", r.source);
                    }
                }
                added += rows.len();
                compare.add(rows);
            }
            Err(e) => notes.push(e.to_string()),
        }
    }
    let mut text = format!("Added {added} run{}.", if added == 1 { "" } else { "s" });
    for n in notes {
        text.push(' ');
        text.push_str(&n);
    }
    compare.message.set(Some(text));
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map_or_else(Vec::new, |l| {
        (0..l.length()).filter_map(|i| l.get(i)).collect()
    })
}

fn kind_named(name: &str) -> PairKind {
    PairKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .unwrap_or(PairKind::Hard)
}

/// The panel.
#[component]
pub fn ComparePanel() -> impl IntoView {
    let view = expect_context::<RunView>();
    let compare = view.compare;
    let table = Memo::new(move |_| table::build(&compare.runs.get(), compare.sort.get()));
    let scatter = Memo::new(move |_| scatter::build(&compare.runs.get(), compare.scatter.get()));
    let curves = Memo::new(move |_| {
        curves::build(
            &compare.runs.get(),
            &compare.chosen.get(),
            compare.curve_x.get(),
            compare.curve_y.get(),
        )
    });
    let race_mixes = compare.race_mixes;
    // The race's line, refreshed with the run's progress.
    let race_text = move || {
        compare.race.get().map(|race| {
            let budget = view.ready.get().map_or(1, |r| r.budget_tokens).max(1) as f64;
            let within = view.tokens.get() as f64 / budget;
            race.text(now_s(), within)
        })
    };
    let racing = move || compare.race.get().is_some_and(|r| !r.is_over());
    // A race replaces the run on screen: not while one trains or is being evaluated.
    let busy = move || view.running.get() || view.evaluating.get().is_some();
    let start_race = move |_| {
        let mixes = match crate::core::compare::sweep::parse_mixes(&race_mixes.get_untracked()) {
            Ok(m) => m,
            Err(e) => {
                compare
                    .message
                    .set(Some(format!("The race cannot start: {e}")));
                return;
            }
        };
        let settings = view.settings.get_untracked();
        let race = Race::new(mixes, settings.seed, now_s());
        let first = race.running().map(str::to_string);
        compare.race.set(Some(race));
        compare.message.set(None);
        if let Some(mix) = first {
            apply_settings(view, Settings { mix, ..settings });
        }
    };
    let cancel_race = move |_| {
        compare.race.update(|r| {
            if let Some(r) = r {
                r.cancelled = true;
            }
        });
        if view.running.get_untracked() {
            super::app::send(&crate::protocol::WorkerInput::Pause);
        }
    };
    let on_import = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let files = files_of(input.files());
        input.set_value("");
        if !files.is_empty() {
            spawn_local(read_files(compare, files));
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            spawn_local(read_files(compare, files));
        }
    };
    let export_json = move |_| match ResultsFile::for_export(compare.runs.get_untracked()).to_json()
    {
        Ok(json) => download_text(
            &json,
            "application/json",
            "pretrain-playground-results.json",
        ),
        Err(e) => compare.message.set(Some(e.to_string())),
    };
    let export_csv = move |_| {
        download_text(
            &table::csv(&table.get_untracked()),
            "text/csv",
            "pretrain-playground-results.csv",
        )
    };
    let head = move || {
        table.get().columns.into_iter().enumerate().map(|(i, c)| {
            let sorted = move || compare.sort.get().filter(|s| s.column == i).map(|s| if s.descending { " ▼" } else { " ▲" });
            view! {
                <th scope="col" title=c.help.clone() data-col=c.key.clone()>
                    <button class="sort" data-testid=format!("compare-sort-{}", c.key)
                        on:click=move |_| compare.sort.update(|s| {
                            *s = Some(match *s {
                                Some(SortBy { column, descending }) if column == i => SortBy { column, descending: !descending },
                                _ => SortBy::best_first(i),
                            })
                        })>
                        {c.label.clone()}{sorted}
                    </button>
                </th>
            }
        }).collect_view()
    };
    let rows = move || {
        table.get().rows.into_iter().map(|r| {
            let role = match r.role {
                RowRole::Mean => "mean",
                RowRole::Run => "run",
                RowRole::Baseline => "baseline",
            };
            let flagged = !r.flags.is_empty();
            let chosen_box = r.run.map(|i| view! {
                <input type="checkbox" title="draw its learning curve"
                    prop:checked=move || compare.chosen.get().contains(&i)
                    on:change=move |_| compare.chosen.update(|c| if let Some(p) = c.iter().position(|x| *x == i) { c.remove(p); } else { c.push(i); })/>
            });
            view! {
                <tr data-testid="compare-row" data-role=role data-mix=r.mix.clone().unwrap_or_default()
                    data-flagged=flagged.to_string() class=role class:flagged=flagged>
                    <th scope="row">
                        {chosen_box}
                        <span class="row-label">{r.label.clone()}</span>
                        <span class="row-setting">{r.setting.clone()}</span>
                        <span class="row-source">{r.source.clone()}</span>
                        {(!r.flags.is_empty()).then(|| view! {
                            <span class="row-flags" data-testid="compare-flag">{format!("not pooled: {}", r.flags.join("; "))}</span>
                        })}
                        {r.run.map(|i| view! { <ModelControls index=i/> })}
                    </th>
                    {r.cells.into_iter().map(|c| view! {
                        <td class:best=c.best data-best=c.best.to_string()>{c.text}{c.best.then_some(" ★")}</td>
                    }).collect_view()}
                </tr>
            }
        }).collect_view()
    };
    let spec = move || compare.scatter.get();
    view! {
        <section class="panel compare-panel" id="compare" data-testid="compare">
            <h2>"Compare runs"</h2>
            <p class="hint">
                "Every finished, evaluated run lands here: this visit's, earlier visits' (kept in this browser), and files you import. "
                "Runs pool into mean ± sd only when they differ in the seed alone; anything else is shown and flagged, never averaged in."
            </p>
            <ClassSweep/>
            <div class="race">
                <label>"Race these mixes one after another: "
                    <input type="text" data-testid="race-mixes" size="44" prop:value=move || race_mixes.get()
                        on:input=move |ev| race_mixes.set(event_target_value(&ev))/>
                </label>
                <button data-testid="race-start" disabled=move || racing() || busy()
                    title="Pause or let the current run finish first" on:click=start_race>"Start race"</button>
                <button data-testid="race-cancel" disabled=move || !racing() on:click=cancel_race>"Cancel race"</button>
                <p class="race-status" data-testid="race-status">{race_text}</p>
                <p class="hint">"Each run uses the set-up above (size, budget, seed, corpus) and is evaluated when it finishes."</p>
            </div>
            <div class="compare-files" on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop data-testid="compare-drop">
                <button data-testid="compare-export" on:click=export_json>"Export runs (JSON)"</button>
                <label class="file-button">"Import runs or run.json files… "
                    <input type="file" multiple accept=".json,application/json" data-testid="compare-import" on:change=on_import/>
                </label>
                <button data-testid="compare-csv" on:click=export_csv>"Table as CSV"</button>
                <button data-testid="compare-clear" on:click=move |_| compare.clear()>"Clear the panel"</button>
                <span class="hint">"…or drop files here."</span>
                <label class="keep-models" title="Each new run's weights are kept in this browser (about 0.7 MB a fast run, 4.3 MB a default one), so its model can write again after a reload">
                    <input type="checkbox" data-testid="compare-keep-models" prop:checked=move || compare.keep_models.get()
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            compare.keep_models.set(on);
                            if let Some(s) = storage() {
                                let _ = s.set_item(KEEP_MODELS_KEY, if on { "1" } else { "0" });
                            }
                        }/>
                    " Keep each new run's model in this browser"
                </label>
            </div>
            <p class="note" data-testid="compare-message" role="status">{move || compare.message.get()}</p>
            <div class="compare-table-wrap">
                <table class="compare-table" data-testid="compare-table">
                    <thead><tr><th scope="col">"run"</th>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h3>"Generation against pair judgement"</h3>
            <div class="scatter-controls">
                <label>"x: "<select data-testid="compare-x" prop:value=move || if spec().generation == GenAxis::Perplexity { "perplexity" } else { "compliance" } on:change=move |ev| {
                    let v = event_target_value(&ev);
                    compare.scatter.update(|s| s.generation = if v == "perplexity" { GenAxis::Perplexity } else { GenAxis::Compliance });
                }>
                    <option value="compliance">"compliance of replies"</option>
                    <option value="perplexity">"reply perplexity"</option>
                </select></label>
                <label>" y: "<select data-testid="compare-y" prop:value=move || if spec().pair == PairAxis::ZeroShot { "zeroshot" } else { "probe" } on:change=move |ev| {
                    let v = event_target_value(&ev);
                    compare.scatter.update(|s| s.pair = if v == "zeroshot" { PairAxis::ZeroShot } else { PairAxis::Probe });
                }>
                    <option value="probe">"linear probe"</option>
                    <option value="zeroshot">"zero-shot"</option>
                </select></label>
                <label>" negatives: "<select data-testid="compare-kind" prop:value=move || spec().kind.name() on:change=move |ev| {
                    let v = event_target_value(&ev);
                    compare.scatter.update(|s| s.kind = kind_named(&v));
                }>
                    {PairKind::ALL.into_iter().map(|k| view! {
                        <option value=k.name()>{k.name()}</option>
                    }).collect_view()}
                </select></label>
                <button data-testid="compare-scatter-svg" on:click=move |_| download_svg_text(&scatter.get_untracked().svg, "comparison-scatter")>"SVG"</button>
                <button data-testid="compare-scatter-png" on:click=move |_| {
                    let s = scatter.get_untracked();
                    download_png_text(&s.svg, s.width, s.height, "comparison-scatter");
                }>"PNG"</button>
            </div>
            <div class="scatter" id="compare-scatter" data-testid="compare-scatter" inner_html=move || scatter.get().svg></div>
            <ul class="left-out">{move || scatter.get().left_out.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            <h3>"Learning curves of the ticked runs"</h3>
            <div class="scatter-controls">
                <label>"against: "<select data-testid="compare-curve-x" prop:value=move || match compare.curve_x.get() { CurveX::Flops => "flops", CurveX::Seconds => "seconds", CurveX::Tokens => "tokens" } on:change=move |ev| {
                    compare.curve_x.set(match event_target_value(&ev).as_str() { "flops" => CurveX::Flops, "seconds" => CurveX::Seconds, _ => CurveX::Tokens });
                }>
                    <option value="tokens">"tokens of text (equal text)"</option>
                    <option value="flops">"training FLOPs (equal compute)"</option>
                    <option value="seconds">"training time"</option>
                </select></label>
                <label>" showing: "<select data-testid="compare-curve-y" prop:value=move || if compare.curve_y.get() == CurveY::TrainLoss { "train" } else { "gain" } on:change=move |ev| {
                    compare.curve_y.set(if event_target_value(&ev) == "train" { CurveY::TrainLoss } else { CurveY::Gain });
                }>
                    <option value="gain">"gain over word frequencies"</option>
                    <option value="train">"own training loss (not comparable across objectives)"</option>
                </select></label>
                <button on:click=move |_| download_svg_text(&curves.get_untracked().svg, "learning-curves")>"SVG"</button>
            </div>
            <div class="scatter" id="compare-curves" data-testid="compare-curves" inner_html=move || curves.get().svg></div>
            <ul class="left-out">{move || curves.get().left_out.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            <Replies/>
        </section>
    }
}

/// A row's kept model: load it (it writes in the page again) or forget it; or, for the run the
/// worker holds now, keep it.
#[component]
fn ModelControls(index: usize) -> impl IntoView {
    let view = expect_context::<RunView>();
    let compare = view.compare;
    let row = move || compare.runs.with(|r| r.get(index).cloned());
    // The run on screen is this row's, and it has finished: the worker can still write it.
    let holds = move || {
        view.summary.with(Option::is_some)
            && ADDED
                .with(StdCell::get)
                .is_some_and(|(run, i)| i == index && run == super::app::current_run())
    };
    move || {
        let run = row()?;
        run.summary.as_ref()?;
        Some(match run.model {
            Some(KeptModel {
                key,
                bytes: Some(bytes),
            }) => {
                let forget_key = key.clone();
                view! {
                    <span class="row-model" data-testid="compare-model" data-kept="true">
                        {format!("model kept ({:.1} MB) ", bytes as f64 / 1_048_576.0)}
                        <button data-testid="compare-load-model"
                            disabled=move || view.ready.with(Option::is_none) || view.running.get()
                                || view.evaluating.with(Option::is_some)
                                || compare.race.with(|r| r.as_ref().is_some_and(|r| !r.is_over()))
                            title="Loads it as the page's run: it writes again" on:click=move |_| load_model(view, key.clone())>"Load model"</button>
                        <button data-testid="compare-forget-model" on:click=move |_| {
                            let key = forget_key.clone();
                            compare.set_model(&key, None);
                            spawn_local(async move { models::forget(&key).await });
                        }>"Forget model"</button>
                    </span>
                }
                .into_any()
            }
            Some(_) => view! {
                <span class="row-model" data-testid="compare-model" data-kept="pending">"keeping the model…"</span>
            }
            .into_any(),
            None => view! {
                <span class="row-model" data-testid="compare-model" data-kept="false">
                    {move || holds().then(|| view! {
                        <button data-testid="compare-keep-model" on:click=move |_| compare.keep_model(index)>"Keep its model"</button>
                    })}
                </span>
            }
            .into_any(),
        })
    }
}

/// Sample replies of the ticked runs side by side, for the same held-out tickets, with the
/// checker's verdict and reason for each.
#[component]
fn Replies() -> impl IntoView {
    let view = expect_context::<RunView>();
    let compare = view.compare;
    let shown = move || {
        let runs = compare.runs.get();
        compare
            .chosen
            .get()
            .into_iter()
            .filter_map(|i| {
                let run = runs.get(i)?;
                let replies = run.summary.as_deref()?.evaluation.replies.clone()?;
                Some((format!("{} · seed {}", run.label(), run.seed), replies))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <h3>"Sample replies of the ticked runs"</h3>
        <div class="replies-side" data-testid="compare-replies">
            {move || shown().into_iter().map(|(label, report)| view! {
                <div class="replies-run">
                    <h4>{label}</h4>
                    {report.samples.into_iter().map(|s| view! {
                        <div class="reply" data-testid="compare-reply">
                            <p class="ticket">{s.ticket.clone()}</p>
                            <p class="reply-text">{s.reply.clone()}</p>
                            <p class=if s.compliant { "verdict ok" } else { "verdict no" } title=s.explanation.clone()>
                                {if s.compliant { "complies" } else { "does not comply" }}": "{s.reason.clone()}
                            </p>
                        </div>
                    }).collect_view()}
                </div>
            }).collect_view()}
        </div>
    }
}

/// A class sweep's link: the student types their number and trains that cell; the result
/// file of their run is the panel's export.
#[component]
fn ClassSweep() -> impl IntoView {
    let view = expect_context::<RunView>();
    let number = RwSignal::new(
        view.settings
            .get_untracked()
            .student
            .map_or(String::new(), |n| n.to_string()),
    );
    let sweep = move || view.settings.get().sweep;
    let take = move |_| {
        let Ok(n) = number.get_untracked().trim().parse::<u64>() else {
            view.compare.message.set(Some(
                "Type your number in the class: a whole number from 0.".into(),
            ));
            return;
        };
        let mut settings = view.settings.get_untracked();
        let Some(sweep) = settings.sweep.clone() else {
            return;
        };
        let (_, mix, seed) = sweep.cell(n);
        settings.mix = mix.to_string();
        settings.seed = seed;
        settings.student = Some(n);
        apply_settings(view, settings);
    };
    move || {
        sweep().map(|s| {
        let cell = view.settings.get().student.map(|n| {
            let (i, mix, seed) = s.cell(n);
            format!("Your cell: {} of {} — {mix}, seed {seed}. Press Train; when it is evaluated, export your runs and hand the file in.", i + 1, s.cells())
        });
        view! {
            <div class="sweep" data-testid="sweep">
                <p>{format!("This link is a class sweep: {} mixes × {} seeds = {} cells.", s.mixes.len(), s.seeds.len(), s.cells())}</p>
                <label>"Your number: "
                    <input type="number" min="0" data-testid="sweep-number" prop:value=move || number.get()
                        on:input=move |ev| number.set(event_target_value(&ev))/>
                </label>
                <button data-testid="sweep-take" on:click=take>"Take my cell"</button>
                <p data-testid="sweep-cell">{cell}</p>
            </div>
        }
    })
    }
}

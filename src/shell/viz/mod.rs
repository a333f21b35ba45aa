//! The attention panel: for the mix being trained, one example's corruption strip, the mask
//! matrix of every attention it uses, the information-flow graph and the live heads, with
//! lecture controls (play / pause / step / speed, space and arrow keys), a projector view with
//! large type, two objectives side by side, and SVG/PNG downloads for slides.
//!
//! Everything drawn here was computed by the core ([`crate::core::viz`]) from the masks and
//! weights the model applied, and arrives from the worker as plain data; this room only turns
//! it into SVG, canvas and HTML (the TensorFlow Playground's split: the network code knows
//! nothing of the page). The drawn matrix cells carry their state as `data-state`, and the
//! exported trace they were drawn from is kept on `window.__ppVizTraces`, so the browser tests
//! compare the two.

pub(crate) mod export;
mod flow;
mod heat;
mod matrix;
mod strip;

use leptos::leptos_dom::helpers::IntervalHandle;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::core::viz::live::LiveTrace;
use crate::core::viz::preview::{Panel, Preview};
use crate::protocol::{PreviewSlot, WorkerInput};

use super::app::send;
use flow::FlowGraph;
use heat::LiveHeads;
use matrix::MaskMatrixView;
use strip::StripView;

pub use crate::core::viz::preview::COMPARISONS;

/// Animation speeds offered, in frames per second.
const SPEEDS: [(f64, &str); 4] = [
    (0.5, "slow"),
    (1.0, "normal"),
    (2.0, "fast"),
    (4.0, "faster"),
];

/// A hovered (or tapped, or arrow-keyed) matrix row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hover {
    pub slot: PreviewSlot,
    pub panel: usize,
    pub matrix: usize,
    pub row: usize,
}

/// What the attention panel shows, as signals (all `Copy`).
#[derive(Clone, Copy)]
pub struct VizView {
    /// The run's mix, and the two sides of a comparison.
    pub run: RwSignal<Option<Preview>>,
    pub left: RwSignal<Option<Preview>>,
    pub right: RwSignal<Option<Preview>>,
    /// Which of [`COMPARISONS`] is shown (`None`: the run's mix alone).
    pub compare: RwSignal<Option<usize>>,
    /// Which example of the mix's training stream ("new example" adds one).
    pub example: RwSignal<usize>,
    /// The animation's frame: the strip's corruption steps and the flow's layers.
    pub frame: RwSignal<usize>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub hover: RwSignal<Option<Hover>>,
    /// The predicted position the flow graph follows, per slot and panel.
    pub pick: RwSignal<Vec<((PreviewSlot, usize), usize)>>,
    pub heads: RwSignal<Option<LiveTrace>>,
    /// Index into the live trace's layers of the heatmap shown.
    pub heat_layer: RwSignal<usize>,
    pub projector: RwSignal<bool>,
    pub message: RwSignal<Option<String>>,
    /// Whether the live heatmaps are shown (the worker captures only then).
    pub watch: RwSignal<bool>,
}

impl VizView {
    pub fn new() -> Self {
        Self {
            run: RwSignal::new(None),
            left: RwSignal::new(None),
            right: RwSignal::new(None),
            compare: RwSignal::new(None),
            example: RwSignal::new(0),
            frame: RwSignal::new(0),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            hover: RwSignal::new(None),
            pick: RwSignal::new(Vec::new()),
            heads: RwSignal::new(None),
            heat_layer: RwSignal::new(0),
            projector: RwSignal::new(false),
            message: RwSignal::new(None),
            watch: RwSignal::new(true),
        }
    }

    /// Asks the worker for the pictures of the run's mix (and the comparison, if one is shown)
    /// at the current example.
    pub fn request(&self, mix: &str) {
        let example = self.example.get_untracked();
        send(&WorkerInput::Preview {
            slot: PreviewSlot::Run,
            mix: mix.to_string(),
            example,
        });
        if let Some(i) = self.compare.get_untracked() {
            request_comparison(i, example);
        }
    }

    /// A run is ready: draw its mix, and tell the worker whether heads are watched.
    pub fn ready(&self, mix: &str) {
        self.request(mix);
        send(&WorkerInput::WatchHeads {
            on: self.watch.get_untracked(),
        });
    }

    /// A new run: its pictures come with its `Ready`; the old heads are gone.
    pub fn clear_run(&self) {
        self.heads.set(None);
        self.hover.set(None);
    }

    /// Stores a preview the worker drew for `slot`; `example` is the one it was asked for.
    pub fn apply_preview(&self, slot: PreviewSlot, example: usize, preview: Preview) {
        if example != self.example.get_untracked() {
            return;
        }
        publish_traces(slot, &preview);
        self.message.set(None);
        match slot {
            PreviewSlot::Run => self.run.set(Some(preview)),
            PreviewSlot::Left => self.left.set(Some(preview)),
            PreviewSlot::Right => self.right.set(Some(preview)),
        }
    }

    /// The total number of animation frames: the longest strip or flow of what is shown.
    fn frames(&self) -> usize {
        let mut most = 1;
        for p in [self.run, self.left, self.right] {
            p.with(|p| {
                for panel in p.iter().flat_map(|p| p.panels.iter()) {
                    most = most
                        .max(panel.strip.frames.len())
                        .max(panel.flow.output_rows().len());
                }
            });
        }
        most
    }

    /// One frame forward (wrapping to the start), or back.
    pub fn step(&self, forward: bool) {
        let n = self.frames();
        self.frame.update(|f| {
            *f = if forward {
                (*f + 1) % n
            } else {
                f.checked_sub(1).unwrap_or(n - 1)
            }
        });
    }
}

impl Default for VizView {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn request_comparison(i: usize, example: usize) {
    if let Some((_, left, right)) = COMPARISONS.get(i) {
        for (slot, mix) in [(PreviewSlot::Left, left), (PreviewSlot::Right, right)] {
            send(&WorkerInput::Preview {
                slot,
                mix: mix.to_string(),
                example,
            });
        }
    }
}

/// Keeps each slot's exported traces on `window.__ppVizTraces[slot]` (JSON: one trace per
/// panel), the debug hook the browser tests compare the drawn cells with.
fn publish_traces(slot: PreviewSlot, preview: &Preview) {
    let traces: Vec<_> = preview.panels.iter().map(|p| &p.trace).collect();
    let Ok(json) = serde_json::to_string(&traces) else {
        return;
    };
    let window: JsValue = window().into();
    let key = JsValue::from_str("__ppVizTraces");
    let hook = js_sys::Reflect::get(&window, &key)
        .ok()
        .filter(|v| v.is_object())
        .unwrap_or_else(|| {
            let made: JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&window, &key, &made);
            made
        });
    let name = match slot {
        PreviewSlot::Run => "run",
        PreviewSlot::Left => "left",
        PreviewSlot::Right => "right",
    };
    let _ = js_sys::Reflect::set(&hook, &name.into(), &json.into());
}

/// Whether a key press belongs to a form control (which handles its own keys).
fn from_control(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| {
            matches!(
                e.tag_name().as_str(),
                "BUTTON" | "SELECT" | "INPUT" | "TEXTAREA"
            )
        })
}

/// The whole attention panel.
#[component]
pub fn VizPanel() -> impl IntoView {
    let viz = expect_context::<VizView>();
    // Play: one frame every 1/speed seconds while playing.
    let ticker = StoredValue::new_local(None::<IntervalHandle>);
    Effect::new(move |_| {
        let playing = viz.playing.get();
        let speed = viz.speed.get();
        if let Some(old) = ticker.try_update_value(Option::take).flatten() {
            old.clear();
        }
        if playing {
            let every = std::time::Duration::from_millis((1000.0 / speed.max(0.1)) as u64);
            if let Ok(handle) = set_interval_with_handle(move || viz.step(true), every) {
                ticker.set_value(Some(handle));
            }
        }
    });
    let on_key = move |ev: web_sys::KeyboardEvent| {
        if from_control(&ev) {
            return;
        }
        match ev.key().as_str() {
            " " => {
                ev.prevent_default();
                viz.playing.update(|p| *p = !*p);
            }
            "ArrowRight" => {
                ev.prevent_default();
                viz.playing.set(false);
                viz.step(true);
            }
            "ArrowLeft" => {
                ev.prevent_default();
                viz.playing.set(false);
                viz.step(false);
            }
            "Escape" => viz.projector.set(false),
            _ => {}
        }
    };
    let section = NodeRef::<leptos::html::Section>::new();
    // The projector view takes the whole screen where the browser allows it (the large type
    // and wide matrices apply either way); leaving full screen (Esc) leaves the view too.
    let toggle_projector = move |_| {
        let on = !viz.projector.get_untracked();
        viz.projector.set(on);
        if let Some(el) = section.get_untracked() {
            if on {
                let _ = el.request_fullscreen();
            } else if document().fullscreen_element().is_some() {
                document().exit_fullscreen();
            }
            let _ = el.focus();
        }
    };
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let left = Closure::<dyn Fn()>::new(move || {
            if document().fullscreen_element().is_none() && viz.projector.get_untracked() {
                viz.projector.set(false);
            }
        });
        let _ = document()
            .add_event_listener_with_callback("fullscreenchange", left.as_ref().unchecked_ref());
        // The panel lives as long as the page.
        left.forget();
    }
    let new_example = move |_| {
        viz.example.update(|e| *e += 1);
        viz.frame.set(0);
        viz.hover.set(None);
        let mix = viz
            .run
            .with_untracked(|p| p.as_ref().map(|p| p.mix.clone()));
        if let Some(mix) = mix {
            viz.request(&mix);
        }
    };
    let on_compare = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let chosen = value
            .parse::<usize>()
            .ok()
            .filter(|&i| i < COMPARISONS.len());
        viz.compare.set(chosen);
        viz.left.set(None);
        viz.right.set(None);
        viz.hover.set(None);
        if let Some(i) = chosen {
            request_comparison(i, viz.example.get_untracked());
        }
    };
    let on_speed = move |ev: leptos::ev::Event| {
        if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
            viz.speed.set(speed);
        }
    };
    view! {
        <section id="viz" class="panel viz-panel" class:projector=move || viz.projector.get()
            data-testid="viz" tabindex="0" node_ref=section on:keydown=on_key
            aria-label="How the objective shapes attention">
            <header class="viz-head">
                <h2>"What the model sees, and where attention may go"</h2>
                <div class="viz-controls" role="toolbar" aria-label="Lecture controls">
                    <button data-testid="viz-play" disabled=move || viz.playing.get()
                        on:click=move |_| viz.playing.set(true)>"▶ Play"</button>
                    <button data-testid="viz-pause" disabled=move || !viz.playing.get()
                        on:click=move |_| viz.playing.set(false)>"❚❚ Pause"</button>
                    <button data-testid="viz-step" on:click=move |_| { viz.playing.set(false); viz.step(true); }>"Step ▸"</button>
                    <label>"Speed "
                        <select data-testid="viz-speed" on:change=on_speed>
                            {SPEEDS.iter().map(|&(v, name)| view! {
                                <option value=v.to_string() selected=move || viz.speed.get() == v>{name}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button data-testid="viz-new-example" on:click=new_example>"New example"</button>
                    <label>"Compare "
                        <select data-testid="viz-compare" on:change=on_compare>
                            <option value="none">"— the run's objective —"</option>
                            {COMPARISONS.iter().enumerate().map(|(i, (name, _, _))| view! {
                                <option value=i.to_string()>{*name}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button data-testid="viz-projector" aria-pressed=move || viz.projector.get().to_string()
                        on:click=toggle_projector>
                        {move || if viz.projector.get() { "Leave projector view" } else { "Projector view" }}
                    </button>
                </div>
                <p class="viz-hint">"Keys: space plays or pauses, ← → step; on a matrix, ↑ ↓ pick a row. Esc leaves the projector view."</p>
            </header>
            <p class="error" data-testid="viz-message">{move || viz.message.get()}</p>
            {move || match viz.compare.get() {
                None => view! { <Pictures which=PreviewSlot::Run/> }.into_any(),
                Some(i) => view! {
                    <div class="viz-compare" data-testid="viz-side-by-side">
                        <div class="viz-side"><h3>{COMPARISONS.get(i).map(|c| c.1.to_uppercase())}</h3><Pictures which=PreviewSlot::Left/></div>
                        <div class="viz-side"><h3>{COMPARISONS.get(i).map(|c| c.2.to_uppercase())}</h3><Pictures which=PreviewSlot::Right/></div>
                    </div>
                }.into_any(),
            }}
            <LiveHeads/>
        </section>
    }
}

/// One preview's panels (two for a mix that alternates batches).
#[component]
fn Pictures(which: PreviewSlot) -> impl IntoView {
    let viz = expect_context::<VizView>();
    let slot = which;
    let preview = match slot {
        PreviewSlot::Run => viz.run,
        PreviewSlot::Left => viz.left,
        PreviewSlot::Right => viz.right,
    };
    move || match preview.get() {
        None => view! { <p class="muted viz-wait">"Drawing the pictures…"</p> }.into_any(),
        Some(p) => {
            let several = p.panels.len() > 1;
            view! {
                <p class="viz-how" data-testid="viz-how">{format!("{} — {}", p.mix, p.how)}</p>
                {p.panels.into_iter().enumerate().map(|(i, panel)| {
                    view! { <PanelView which=slot index=i panel=panel several=several/> }
                }).collect_view()}
            }
            .into_any()
        }
    }
}

/// One batch kind: its strip, its matrices and its flow graph.
#[component]
fn PanelView(which: PreviewSlot, index: usize, panel: Panel, several: bool) -> impl IntoView {
    let slot = which;
    let panel = std::sync::Arc::new(panel);
    let title = several.then(|| {
        view! { <h3 class="viz-kind">{format!("Batch {}: {}", index + 1, panel.kind.title())}</h3> }
    });
    let matrices = panel
        .matrices
        .iter()
        .enumerate()
        .map(|(m, _)| view! { <MaskMatrixView which=slot panel_index=index matrix=m panel=panel.clone()/> })
        .collect_view();
    view! {
        <article class="viz-batch" data-testid="viz-batch" data-kind=panel.kind.title()>
            {title}
            <StripView which=slot panel_index=index panel=panel.clone()/>
            <div class="viz-row">
                <div class="viz-matrices">{matrices}</div>
                <FlowGraph which=slot panel_index=index panel=panel.clone()/>
            </div>
        </article>
    }
}

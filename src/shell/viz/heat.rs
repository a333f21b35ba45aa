//! Live heatmaps: what each head of one layer of the training model attends to on the run's
//! fixed example, refreshed as the worker captures it, blocked cells hatched over the weights,
//! and each head's summary (entropy, mean distance, shares, and a role once one share passes
//! half: "previous-token head"; [`crate::core::viz::heads`]). Drawn on a canvas from the core's
//! pixels ([`crate::core::viz::raster`]) in one copy: a few thousand cells redrawn every capture
//! would be too many SVG nodes, or canvas calls, for a smooth page.

use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

use crate::core::viz::palette::okabe_ito;
use crate::core::viz::raster::heat_image;
use crate::core::viz::trace::TraceLayer;
use crate::protocol::WorkerInput;

use super::VizView;
use super::export::download_canvas;
use crate::shell::app::send;

/// Draws every head of `layer` side by side: the core's pixels in one copy, then the titles;
/// returns a digest of the weights drawn (the browser tests watch it change as training runs).
fn draw(canvas: &web_sys::HtmlCanvasElement, layer: &TraceLayer, projector: bool) -> f64 {
    let Ok(img) = heat_image(layer, projector) else {
        return 0.0;
    };
    let Ok(Some(ctx)) = canvas.get_context("2d") else {
        return 0.0;
    };
    let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>() else {
        return 0.0;
    };
    canvas.set_width(img.width as u32);
    canvas.set_height(img.height as u32);
    let Ok(data) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&img.rgba),
        img.width as u32,
        img.height as u32,
    ) else {
        return 0.0;
    };
    let _ = ctx.put_image_data(&data, 0.0, 0.0);
    ctx.set_fill_style_str(okabe_ito::BLACK);
    ctx.set_font(&format!("600 {}px system-ui, sans-serif", img.font_px));
    for label in &img.labels {
        let _ = ctx.fill_text(&label.text, label.x.into(), label.y.into());
    }
    img.digest
}

#[component]
pub fn LiveHeads() -> impl IntoView {
    let viz = expect_context::<VizView>();
    let watching = viz.watch;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let digest = RwSignal::new(0.0f64);
    Effect::new(move |_| {
        let projector = viz.projector.get();
        let index = viz.heat_layer.get();
        viz.heads.with(|live| {
            if let (Some(live), Some(c)) = (live, canvas.get())
                && let Some(layer) = live.trace.layers.get(index).or(live.trace.layers.first())
            {
                digest.set(draw(&c, layer, projector));
            }
        });
    });
    let layers = move || {
        viz.heads.with(|live| {
            live.as_ref()
                .map(|l| {
                    l.trace
                        .layers
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (i, format!("layer {} · {}", t.layer + 1, t.stream.title())))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let summary = move || {
        viz.heads.with(|live| {
            let Some(live) = live else { return Vec::new() };
            let index = viz.heat_layer.get();
            let Some(layer) = live.trace.layers.get(index).or(live.trace.layers.first()) else {
                return Vec::new();
            };
            live.heads
                .iter()
                .filter(|h| h.layer == layer.layer && h.stream == layer.stream)
                .cloned()
                .collect()
        })
    };
    let pct = |x: Option<f32>| x.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
    let status = move || {
        viz.heads.with(|live| match live {
            None if watching.get() => "Waiting for the first capture (after the run's next step)…".to_string(),
            None => "Live heatmaps are off.".to_string(),
            Some(l) => format!(
                "After step {}: capturing took {:.0} ms{}; the next capture comes {} step{} later{}.",
                l.step,
                l.capture_ms,
                l.step_ms.map(|s| format!(" against {s:.0} ms a step")).unwrap_or_default(),
                l.every,
                if l.every == 1 { "" } else { "s" },
                l.cost_share().map(|s| format!(" (≈{:.1}% of training time)", s * 100.0)).unwrap_or_default(),
            ),
        })
    };
    let toggle = move |_| {
        let on = !watching.get_untracked();
        watching.set(on);
        send(&WorkerInput::WatchHeads { on });
    };
    view! {
        <section class="viz-heads" data-testid="viz-heads">
            <h3>"What the heads attend to now"</h3>
            <p class="muted">"The training model on one fixed example. Each square is head × query row × key column; darker blue = more of that row's attention (relative to the row's largest); hatched = blocked by the mask."</p>
            <div class="viz-controls">
                <label>"Layer "
                    <select data-testid="viz-heat-layer" on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse::<usize>() { viz.heat_layer.set(i); }
                    }>
                        {move || layers().into_iter().map(|(i, name)| view! {
                            <option value=i.to_string() selected=move || viz.heat_layer.get() == i>{name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button data-testid="viz-heads-live" aria-pressed=move || watching.get().to_string() on:click=toggle>
                    {move || if watching.get() { "Stop live heatmaps" } else { "Show live heatmaps" }}
                </button>
                <button class="small" data-testid="viz-download-heatmap" on:click=move |_| {
                    if let Some(c) = canvas.get_untracked() { download_canvas(&c, "heads"); }
                }>"⤓ PNG"</button>
            </div>
            <p class="muted" data-testid="viz-heads-status">{status}</p>
            <div class="heat-scroll">
                <canvas node_ref=canvas data-testid="viz-heatmap"
                    data-step=move || viz.heads.with(|l| l.as_ref().map_or(String::new(), |l| l.step.to_string()))
                    data-digest=move || format!("{:.6}", digest.get())></canvas>
            </div>
            <table class="head-summary" data-testid="viz-head-summary">
                <thead><tr><th>"head"</th><th>"role"</th><th>"entropy (nats)"</th><th>"mean distance"</th>
                    <th>"previous token"</th><th>"own token"</th><th>"[CLS]"</th><th>"[SEP]"</th></tr></thead>
                <tbody>
                    {move || summary().into_iter().map(|h| view! {
                        <tr data-testid="viz-head-row">
                            <td>{h.head + 1}</td>
                            <td class="role">{h.role.map_or("—", |r| r.title())}</td>
                            <td>{format!("{:.2}", h.entropy)}</td>
                            <td>{h.mean_distance.map_or("–".into(), |d| format!("{d:.1}"))}</td>
                            <td>{pct(h.previous_share)}</td>
                            <td>{pct(h.own_share)}</td>
                            <td>{pct(Some(h.cls_share))}</td>
                            <td>{pct(Some(h.sep_share))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

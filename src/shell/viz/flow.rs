//! The information-flow graph: tokens × layers, each stream in its own column
//! ([`FlowLayout`]). Pick a predicted position (click a node of the output stream); frame by
//! frame the page lights the input tokens that can have reached it after each layer, as the
//! core computed from the masks ([`crate::core::viz::reach::Flow::first_reached`]).

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::viz::layout::FlowLayout;
use crate::core::viz::palette::okabe_ito::{BLACK, ORANGE, VERMILLION, WHITE};
use crate::core::viz::preview::Panel;
use crate::core::viz::reach::{Flow, FlowStream};
use crate::protocol::PreviewSlot;

use super::VizView;
use super::export::DownloadButtons;
use crate::core::viz::svg::short;

const WIDTH: f32 = 430.0;
const HEIGHT: f32 = 300.0;
const PROJECTOR_WIDTH: f32 = 820.0;
const PROJECTOR_HEIGHT: f32 = 520.0;
/// Room above the graph for the column titles.
const TOP: f32 = 28.0;

fn stream_name(s: FlowStream) -> &'static str {
    match s {
        FlowStream::Stack => "layers",
        FlowStream::Encoder => "encoder",
        FlowStream::Decoder => "decoder",
        FlowStream::Content => "content stream",
        FlowStream::Query => "query stream",
    }
}

/// The position the graph follows until a student picks one.
fn first_scored(panel: &Panel) -> usize {
    let tokens = if panel.flow.output == FlowStream::Decoder {
        &panel.strip.written
    } else {
        &panel.strip.seen
    };
    // The scored position nearest the middle: its cone (a causal triangle, a full mix) is
    // wider than the first position's, which reads only itself.
    let middle = tokens.len() / 2;
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.supervised)
        .min_by_key(|(i, _)| i.abs_diff(middle))
        .map_or(0, |(i, _)| i)
}

/// The graph at `level` (an index into the output rows) for output `position`.
fn markup(
    flow: &Flow,
    layout: &FlowLayout,
    position: usize,
    level: usize,
    projector: bool,
) -> String {
    let font = if projector { 18.0 } else { 12.0 };
    let mut s = String::new();
    for c in &layout.columns {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"{font}\" font-weight=\"600\">{}</text>",
            c.x,
            font + 2.0,
            stream_name(c.stream)
        ));
    }
    let first = flow.first_reached(position);
    let outputs = flow.output_rows();
    let level = level.min(outputs.len().saturating_sub(1));
    let target = outputs
        .get(level)
        .and_then(|&row| layout.node(row, position))
        .copied();
    // Edges from each reached input to the picked position at this level.
    if let Some(t) = target {
        for (input, reached) in first.iter().enumerate() {
            if reached.is_some_and(|l| l <= level)
                && let Some(n) = layout.input_node(flow, input)
            {
                s.push_str(&format!(
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{ORANGE}\" stroke-opacity=\"0.45\" stroke-width=\"1.2\"/>",
                    n.x, n.y + TOP, t.x, t.y + TOP
                ));
            }
        }
    }
    // Row labels at the left of each column.
    let mut labelled = Vec::new();
    for node in &layout.nodes {
        if labelled.contains(&node.row) {
            continue;
        }
        labelled.push(node.row);
        let Some(row) = flow.rows.get(node.row) else {
            continue;
        };
        let name = if row.layer == 0 {
            "embeddings".to_string()
        } else {
            format!("layer {}", row.layer)
        };
        let x = layout
            .columns
            .iter()
            .find(|c| c.stream == row.stream)
            .map_or(0.0, |c| c.x);
        s.push_str(&format!(
            "<text class=\"lab\" x=\"{x}\" y=\"{}\" font-size=\"{}\">{name}</text>",
            node.y + TOP - layout.radius - 3.0,
            font * 0.85
        ));
    }
    let r = layout.radius.max(1.5);
    for node in &layout.nodes {
        let is_input = flow
            .rows
            .get(node.row)
            .is_some_and(|row| row.layer == 0 && row.stream != FlowStream::Query);
        let input_index = if flow
            .rows
            .get(node.row)
            .is_some_and(|row| row.stream == FlowStream::Decoder)
        {
            flow.encoder_inputs + node.position
        } else {
            node.position
        };
        let on_path = outputs[..=level.min(outputs.len().saturating_sub(1))].contains(&node.row)
            && node.position == position
            && !outputs.is_empty();
        let (fill, stroke, width, state) = if on_path {
            (VERMILLION, BLACK, 2.0, "target")
        } else if is_input
            && first
                .get(input_index)
                .copied()
                .flatten()
                .is_some_and(|l| l <= level)
        {
            (ORANGE, BLACK, 1.5, "reached")
        } else {
            (WHITE, "#8a93a6", 1.0, "idle")
        };
        s.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\" data-row=\"{}\" data-pos=\"{}\" data-node=\"{state}\"/>",
            node.x,
            node.y + TOP,
            node.row,
            node.position
        ));
    }
    s
}

#[component]
pub fn FlowGraph(which: PreviewSlot, panel_index: usize, panel: Arc<Panel>) -> impl IntoView {
    let viz = expect_context::<VizView>();
    let slot = which;
    let flow = Arc::new(panel.flow.clone());
    let key = (slot, panel_index);
    let default_pick = first_scored(&panel);
    let pick = move || {
        viz.pick
            .get()
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(default_pick, |(_, p)| *p)
    };
    let levels = flow.output_rows().len().max(1);
    let level = move || viz.frame.get().min(levels - 1);
    let size = move || {
        if viz.projector.get() {
            (PROJECTOR_WIDTH, PROJECTOR_HEIGHT)
        } else {
            (WIDTH, HEIGHT)
        }
    };
    let layout = {
        let flow = flow.clone();
        Memo::new(move |_| {
            let (w, h) = size();
            FlowLayout::new(&flow, w, h)
        })
    };
    let cells = {
        let flow = flow.clone();
        move || layout.with(|l| markup(&flow, l, pick(), level(), viz.projector.get()))
    };
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let on_click = {
        let flow = flow.clone();
        move |ev: web_sys::MouseEvent| {
            let Some(el) = svg.get_untracked() else {
                return;
            };
            let el: &web_sys::Element = el.unchecked_ref();
            let rect = el.get_bounding_client_rect();
            let (w, _) = size();
            if rect.width() <= 0.0 {
                return;
            }
            let scale = w as f64 / rect.width();
            let x = ((ev.client_x() as f64 - rect.left()) * scale) as f32;
            let y = ((ev.client_y() as f64 - rect.top()) * scale) as f32 - TOP;
            let outputs = flow.output_rows();
            let hit = layout.with_untracked(|l| {
                l.nodes
                    .iter()
                    .filter(|n| outputs.contains(&n.row))
                    .min_by(|a, b| {
                        let da = (a.x - x).powi(2) + (a.y - y).powi(2);
                        let db = (b.x - x).powi(2) + (b.y - y).powi(2);
                        da.total_cmp(&db)
                    })
                    .map(|n| n.position)
            });
            if let Some(p) = hit {
                viz.pick.update(|v| {
                    v.retain(|(k, _)| *k != key);
                    v.push((key, p));
                });
            }
        }
    };
    let reached = {
        let flow = flow.clone();
        move || {
            let first = flow.first_reached(pick());
            let l = level();
            first.iter().filter(|r| r.is_some_and(|x| x <= l)).count()
        }
    };
    let sentence = {
        let flow = flow.clone();
        let reached = reached.clone();
        move || {
            let p = pick();
            let outputs = flow.output_rows();
            let row = outputs.get(level()).and_then(|&r| flow.rows.get(r));
            let token = if flow.output == FlowStream::Decoder {
                flow.inputs.get(flow.encoder_inputs + p)
            } else {
                flow.inputs.get(p)
            }
            .map(|t| short(&t.text))
            .unwrap_or_default();
            let when = match row {
                Some(r) if r.layer == 0 => "before any attention".to_string(),
                Some(r) => format!(
                    "after {} layer {}",
                    r.via.map(|v| v.title()).unwrap_or("layer"),
                    r.layer
                ),
                None => String::new(),
            };
            format!(
                "{} of {} input tokens can have reached position {p} (“{}”) {when}.",
                reached(),
                flow.inputs.len(),
                token
            )
        }
    };
    let height = move || size().1 + TOP;
    view! {
        <figure class="viz-flow">
            <figcaption><strong>"Information flow"</strong>
                <span class="muted">" — click a node in the output stream to follow that position; step to add layers"</span></figcaption>
            <svg xmlns="http://www.w3.org/2000/svg" node_ref=svg data-testid="viz-flow"
                data-rows=flow.rows.len().to_string() data-inputs=flow.inputs.len().to_string()
                data-pick=move || pick().to_string() data-level=move || level().to_string()
                width=move || size().0.to_string() height=move || height().to_string()
                viewBox=move || format!("0 0 {} {}", size().0, height())
                role="img" aria-label="Which input tokens can have reached the chosen position, layer by layer"
                on:click=on_click>
                <rect width="100%" height="100%" fill="#FFFFFF"/>
                <g inner_html=cells></g>
            </svg>
            <p class="row-sentence" data-testid="viz-flow-reached" data-count=move || reached().to_string()>
                {sentence}
            </p>
            <DownloadButtons svg=svg name="information-flow".to_string()/>
        </figure>
    }
}

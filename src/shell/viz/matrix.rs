//! One attention's mask as an SVG matrix: query rows × key columns, allowed cells solid blue and
//! blocked cells hatched ([`palette::ALLOWED`], [`palette::BLOCKED`]), sized by
//! [`MatrixGeometry::fit`]. The cells are the core's [`MatrixView`], read from the exported
//! trace, drawn as runs of one state along a row ([`MatrixView::runs`]); each run carries
//! `data-r`, `data-c`, `data-len` and `data-state`, which the browser tests expand into cells
//! and compare with that trace. Hover, tap
//! or ↑/↓ a row to read "token i may attend to …"; the keys are outlined on the strip.

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::viz::layout::MatrixGeometry;
use crate::core::viz::palette;
use crate::core::viz::preview::Panel;
use crate::core::viz::svg::matrix_cells;
use crate::protocol::PreviewSlot;

use super::export::{DownloadButtons, next_id};
use super::{Hover, VizView};

/// Widths a matrix is fitted into, in CSS pixels (normal and projector view).
const WIDTH: f32 = 430.0;
const PROJECTOR_WIDTH: f32 = 820.0;

#[component]
pub fn MaskMatrixView(
    which: PreviewSlot,
    panel_index: usize,
    matrix: usize,
    panel: Arc<Panel>,
) -> impl IntoView {
    let viz = expect_context::<VizView>();
    let slot = which;
    let Some(m) = panel.matrices.get(matrix).cloned() else {
        return ().into_any();
    };
    let m = Arc::new(m);
    let hatch = format!("hatch-{}", next_id());
    let (rows, cols) = (m.rows, m.cols);
    let geometry = move || {
        let width = if viz.projector.get() {
            PROJECTOR_WIDTH
        } else {
            WIDTH
        };
        MatrixGeometry::fit(rows, cols, width, viz.projector.get())
    };
    let cells = {
        let (m, hatch) = (m.clone(), hatch.clone());
        move || matrix_cells(&m, &geometry(), &hatch)
    };
    let row_now = move || {
        viz.hover
            .get()
            .filter(|h| h.slot == slot && h.panel == panel_index && h.matrix == matrix)
            .map(|h| h.row)
    };
    let set_row = move |row: usize| {
        viz.hover.set(Some(Hover {
            slot,
            panel: panel_index,
            matrix,
            row,
        }))
    };
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let at = move |ev: &web_sys::MouseEvent| -> Option<usize> {
        let el = svg.get_untracked()?;
        let el: &web_sys::Element = el.unchecked_ref();
        let rect = el.get_bounding_client_rect();
        let g = geometry();
        if rect.width() <= 0.0 {
            return None;
        }
        let scale = g.width as f64 / rect.width();
        let x = (ev.client_x() as f64 - rect.left()) * scale;
        let y = (ev.client_y() as f64 - rect.top()) * scale;
        g.cell_at(x as f32, y as f32).map(|(row, _)| row)
    };
    let on_move = move |ev: web_sys::MouseEvent| {
        if let Some(row) = at(&ev)
            && row_now() != Some(row)
        {
            set_row(row);
        }
    };
    let on_key = {
        let rows = m.rows;
        move |ev: web_sys::KeyboardEvent| {
            let step: isize = match ev.key().as_str() {
                "ArrowDown" => 1,
                "ArrowUp" => -1,
                _ => return,
            };
            ev.prevent_default();
            ev.stop_propagation();
            let now = row_now().map_or(-1, |r| r as isize);
            let next = (now + step).clamp(0, rows.saturating_sub(1) as isize) as usize;
            set_row(next);
        }
    };
    let highlight = move || {
        row_now().map(|row| {
            let g = geometry();
            let r = g.cell_rect(row, 0);
            view! {
                <rect class="row-hl" x=g.gutter - 2.0 y=r.y - 1.0 width=g.cell * g.cols as f32 + 4.0 height=r.height + 2.0
                    fill="none" stroke=palette::HOVER_OUTLINE stroke-width="3"/>
                <rect x=g.gutter - 2.0 y=r.y - 1.0 width=g.cell * g.cols as f32 + 4.0 height=r.height + 2.0
                    fill="none" stroke="#FFFFFF" stroke-width="1" stroke-dasharray="4 3"/>
            }
        })
    };
    let sentence = {
        let m = m.clone();
        move || match row_now() {
            Some(row) => m.row_sentence(row),
            None => {
                "Hover, tap or focus and press ↑ ↓ on a row: which keys may that query read?".into()
            }
        }
    };
    let title = m.title.clone();
    let stream = format!("{:?}", m.stream);
    let file = format!("mask-{}", m.stream.title().replace([' ', '(', ')'], "-"));
    let total = m.rows * m.cols;
    view! {
        <figure class="viz-matrix">
            <figcaption><strong>{title.clone()}</strong>
                <span class="muted">{format!(" — {} of {total} cells blocked", m.blocked_cells)}</span></figcaption>
            <div class="matrix-scroll">
                <svg xmlns="http://www.w3.org/2000/svg" node_ref=svg data-testid="viz-matrix"
                    data-stream=stream data-rows=m.rows.to_string() data-cols=m.cols.to_string()
                    data-blocked=m.blocked_cells.to_string() data-slot=format!("{slot:?}").to_lowercase()
                    data-panel=panel_index.to_string()
                    width=move || geometry().width.to_string() height=move || geometry().height.to_string()
                    viewBox=move || { let g = geometry(); format!("0 0 {} {}", g.width, g.height) }
                    role="img" aria-label=format!("{title}: query rows by key columns") tabindex="0"
                    on:mousemove=on_move on:click=on_move on:keydown=on_key>
                    <rect width="100%" height="100%" fill="#FFFFFF"/>
                    <g inner_html=cells></g>
                    {highlight}
                </svg>
            </div>
            <p class="row-sentence" data-testid="viz-row-sentence">{sentence}</p>
            <ul class="viz-legend" aria-label="Cell legend">
                <li><span class="cell-swatch allowed"></span>{palette::ALLOWED.name}" (solid)"</li>
                <li><span class="cell-swatch blocked"></span>{palette::BLOCKED.name}" (hatched)"</li>
            </ul>
            <DownloadButtons svg=svg name=file/>
        </figure>
    }
    .into_any()
}

//! SVG markup of the mask matrices, written here so the page's matrix view, its downloads and
//! the embeddable widget (`pkg/`, [`crate::core::embed`]) draw the same picture from the same
//! plain data: [`MatrixView`] cells laid out by [`MatrixGeometry`], coloured by [`palette`].

use super::layout::{LABEL_CHARS, MatrixGeometry};
use super::palette;
use super::trace::{CellState, MatrixView};

/// Escapes text for SVG markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A label cut to what the gutter holds.
pub fn short(text: &str) -> String {
    let t: String = text.chars().take(LABEL_CHARS).collect();
    if text.chars().count() > LABEL_CHARS {
        format!("{}…", t.chars().take(LABEL_CHARS - 1).collect::<String>())
    } else {
        t
    }
}

/// The hatch pattern of blocked cells (ids differ per SVG so a downloaded file stands alone).
pub fn hatch_defs(id: &str) -> String {
    format!(
        "<defs><pattern id=\"{id}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{bg}\"/>\
         <line x1=\"1\" y1=\"0\" x2=\"1\" y2=\"6\" stroke=\"{ink}\" stroke-width=\"1.6\"/></pattern></defs>",
        bg = palette::BLOCKED.fill,
        ink = palette::BLOCKED.text,
    )
}

/// The static part of a mask matrix: its token labels, its cells as runs of one state along a
/// row (each with `data-r`, `data-c`, `data-len` and `data-state`, which the browser tests
/// expand into cells and compare with the trace), and the white cell borders. `hatch` is the id
/// of the blocked cells' pattern.
pub fn matrix_cells(m: &MatrixView, g: &MatrixGeometry, hatch: &str) -> String {
    let mut s = hatch_defs(hatch);
    let font = g.text_px;
    for (c, t) in m.col_tokens.iter().enumerate() {
        if !g.labelled(c) {
            continue;
        }
        let r = g.cell_rect(0, c);
        s.push_str(&format!(
            "<text class=\"{cls}\" font-size=\"{font}\" transform=\"translate({x},{y}) rotate(-90)\">{t}</text>",
            cls = if t.padding { "lab pad" } else { "lab" },
            x = r.x + r.width / 2.0 + font * 0.35,
            y = g.gutter - 4.0,
            t = escape(&short(&t.text)),
        ));
    }
    for (row, t) in m.row_tokens.iter().enumerate() {
        if !g.labelled(row) {
            continue;
        }
        let r = g.cell_rect(row, 0);
        s.push_str(&format!(
            "<text class=\"{cls}\" font-size=\"{font}\" x=\"{x}\" y=\"{y}\" text-anchor=\"end\">{t}</text>",
            cls = if t.padding { "lab pad" } else { "lab" },
            x = g.gutter - 4.0,
            y = r.y + r.height / 2.0 + font * 0.35,
            t = escape(&short(&t.text)),
        ));
    }
    let allowed = palette::ALLOWED.fill;
    for run in m.runs() {
        let r = g.cell_rect(run.row, run.col);
        let (fill, state) = match run.state {
            CellState::Allowed => (allowed.to_string(), "allowed"),
            CellState::Blocked => (format!("url(#{hatch})"), "blocked"),
        };
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" data-r=\"{}\" \
             data-c=\"{}\" data-len=\"{}\" data-state=\"{state}\"/>",
            r.x,
            r.y,
            r.width * run.len as f32,
            r.height,
            run.row,
            run.col,
            run.len,
        ));
    }
    // The cell borders: one path of white lines over the runs.
    let (x0, y0) = (g.gutter, g.gutter);
    let (x1, y1) = (x0 + g.cell * m.cols as f32, y0 + g.cell * m.rows as f32);
    let mut grid = String::new();
    for c in 1..m.cols {
        let x = x0 + c as f32 * g.cell;
        grid.push_str(&format!("M{x} {y0}V{y1}"));
    }
    for r in 1..m.rows {
        let y = y0 + r as f32 * g.cell;
        grid.push_str(&format!("M{x0} {y}H{x1}"));
    }
    s.push_str(&format!(
        "<path d=\"{grid}\" stroke=\"#ffffff\" stroke-width=\"0.5\" fill=\"none\" pointer-events=\"none\"/>"
    ));
    s
}

/// A whole mask matrix as a standalone SVG document fitted to `width` pixels: what the page
/// draws (without its hover outline), for a slide or a file. `id` names the hatch pattern and
/// must be unique in the document the SVG is put into.
pub fn matrix_svg(m: &MatrixView, width: f32, projector: bool, id: &str) -> String {
    let g = MatrixGeometry::fit(m.rows, m.cols, width, projector);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{label}\" data-stream=\"{stream:?}\" \
         data-rows=\"{rows}\" data-cols=\"{cols}\" data-blocked=\"{blocked}\">\
         <title>{title}</title><rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>{cells}</svg>",
        w = g.width,
        h = g.height,
        label = escape(&format!("{}: query rows by key columns", m.title)),
        stream = m.stream,
        rows = m.rows,
        cols = m.cols,
        blocked = m.blocked_cells,
        title = escape(&m.title),
        cells = matrix_cells(m, &g, id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viz::Stream;
    use crate::core::viz::TokenLabel;

    fn view(cells: &[u8], rows: usize, cols: usize) -> MatrixView {
        let label = |i: usize| TokenLabel {
            id: i as u32,
            text: format!("<t{i}>"),
            padding: false,
        };
        MatrixView {
            layer: 0,
            stream: Stream::SelfAttention,
            title: "self-attention".into(),
            rows,
            cols,
            cells: cells
                .iter()
                .map(|&c| {
                    if c == 1 {
                        CellState::Allowed
                    } else {
                        CellState::Blocked
                    }
                })
                .collect(),
            blocked_cells: cells.iter().filter(|&&c| c == 0).count(),
            row_tokens: (0..rows).map(label).collect(),
            col_tokens: (0..cols).map(label).collect(),
        }
    }

    /// Expands the runs the SVG draws back into cells.
    fn drawn_cells(svg: &str, rows: usize, cols: usize) -> Vec<Option<bool>> {
        let mut cells = vec![None; rows * cols];
        for part in svg.split("<rect ").skip(1) {
            let attr = |name: &str| -> Option<String> {
                let at = part.find(&format!(" {name}=\""))? + name.len() + 3;
                Some(part[at..].split('"').next()?.to_string())
            };
            let (Some(r), Some(c), Some(len), Some(state)) = (
                attr("data-r"),
                attr("data-c"),
                attr("data-len"),
                attr("data-state"),
            ) else {
                continue;
            };
            let (r, c, len): (usize, usize, usize) =
                (r.parse().unwrap(), c.parse().unwrap(), len.parse().unwrap());
            for k in 0..len {
                assert!(cells[r * cols + c + k].is_none(), "a cell drawn twice");
                cells[r * cols + c + k] = Some(state == "allowed");
            }
        }
        cells
    }

    #[test]
    fn the_svg_draws_every_cell_once_as_the_view_says() {
        // A causal 4 × 4 mask.
        let cells = [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1];
        let m = view(&cells, 4, 4);
        let svg = matrix_svg(&m, 300.0, false, "h1");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("data-blocked=\"6\""));
        assert!(svg.contains("url(#h1)") && svg.contains("<pattern id=\"h1\""));
        let drawn = drawn_cells(&svg, 4, 4);
        let want: Vec<Option<bool>> = cells.iter().map(|&c| Some(c == 1)).collect();
        assert_eq!(drawn, want);
    }

    #[test]
    fn token_text_is_escaped() {
        let m = view(&[1], 1, 1);
        let svg = matrix_svg(&m, 200.0, true, "h");
        assert!(svg.contains("&lt;t0&gt;"));
        assert!(!svg.contains("<t0>"));
    }
}

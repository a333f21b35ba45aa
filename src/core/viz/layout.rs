//! Where the pictures' boxes go, in CSS pixels, so the shell draws rectangles and circles at
//! given coordinates and hit-tests the pointer with the same numbers.
//!
//! - [`MatrixGeometry`]: a mask or heatmap matrix fitted to a width — square cells as large as
//!   fit, never smaller than can be seen and pointed at (the page scrolls instead), a gutter for
//!   the row and column tokens, and which labels fit (every `label_every`-th when cells are
//!   smaller than the text). The projector view uses text of at least 18 px, as the issue asks
//!   of what a lecture hall reads.
//! - [`FlowLayout`]: the information-flow graph as node positions — one column per stream
//!   (encoder | decoder, content | query), the embeddings at the bottom and each layer's row
//!   above the one it reads, as the transformer papers draw their stacks.

use serde::{Deserialize, Serialize};

use super::reach::{Flow, FlowStream};

/// Smallest cell a pointer can land on (ordinary and projector view).
pub const MIN_CELL_PX: f32 = 8.0;
pub const PROJECTOR_MIN_CELL_PX: f32 = 12.0;
/// Largest cell: a short sequence should not fill the screen with four squares.
pub const MAX_CELL_PX: f32 = 48.0;
/// Label text (ordinary and projector view).
pub const TEXT_PX: f32 = 12.0;
pub const PROJECTOR_TEXT_PX: f32 = 18.0;
/// Characters of a token a label shows before it is cut (`␣support` fits).
pub const LABEL_CHARS: usize = 9;

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// A matrix of `rows × cols` square cells with token labels left and on top (the column labels
/// written vertically).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatrixGeometry {
    pub rows: usize,
    pub cols: usize,
    /// Side of a cell.
    pub cell: f32,
    pub text_px: f32,
    /// Width of the row-label gutter, and height of the column-label gutter.
    pub gutter: f32,
    /// The whole picture, gutters included.
    pub width: f32,
    pub height: f32,
    /// Label every `label_every`-th row and column (1: all of them).
    pub label_every: usize,
    /// The smallest readable cell made the matrix wider than asked: the page scrolls it.
    pub overflows: bool,
}

impl MatrixGeometry {
    /// Fits the matrix to `width` pixels.
    pub fn fit(rows: usize, cols: usize, width: f32, projector: bool) -> Self {
        let (text_px, min_cell) = if projector {
            (PROJECTOR_TEXT_PX, PROJECTOR_MIN_CELL_PX)
        } else {
            (TEXT_PX, MIN_CELL_PX)
        };
        // A monospace-ish estimate: a character is about 0.6 em wide.
        let gutter = (0.6 * text_px * LABEL_CHARS as f32).ceil();
        let room = (width - gutter).max(0.0) / cols.max(1) as f32;
        let cell = room.floor().clamp(min_cell, MAX_CELL_PX);
        let total_width = gutter + cell * cols as f32;
        Self {
            rows,
            cols,
            cell,
            text_px,
            gutter,
            width: total_width,
            height: gutter + cell * rows as f32,
            label_every: (text_px / cell).ceil().max(1.0) as usize,
            overflows: total_width > width + 0.5,
        }
    }

    /// The cell of query `row` and key `col`.
    pub fn cell_rect(&self, row: usize, col: usize) -> Rect {
        Rect {
            x: self.gutter + col as f32 * self.cell,
            y: self.gutter + row as f32 * self.cell,
            width: self.cell,
            height: self.cell,
        }
    }

    /// The cell under the point `(x, y)`, if any: what a hover or tap selects.
    pub fn cell_at(&self, x: f32, y: f32) -> Option<(usize, usize)> {
        let (cx, cy) = (x - self.gutter, y - self.gutter);
        if cx < 0.0 || cy < 0.0 || self.cell <= 0.0 {
            return None;
        }
        let (row, col) = ((cy / self.cell) as usize, (cx / self.cell) as usize);
        (row < self.rows && col < self.cols).then_some((row, col))
    }

    /// Whether row (or column) `index` carries a label.
    pub fn labelled(&self, index: usize) -> bool {
        index.is_multiple_of(self.label_every.max(1))
    }
}

/// One node of the flow graph: position `position` of `rows[row]` of the [`Flow`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlowNode {
    pub row: usize,
    pub position: usize,
    pub x: f32,
    pub y: f32,
}

/// One stream's column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlowColumn {
    pub stream: FlowStream,
    pub x: f32,
    pub width: f32,
}

/// The flow graph laid out in a `width × height` box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLayout {
    pub width: f32,
    pub height: f32,
    /// Radius of a node: a third of the smaller spacing, at most 12 px.
    pub radius: f32,
    pub columns: Vec<FlowColumn>,
    /// Every node, row by row.
    pub nodes: Vec<FlowNode>,
}

/// Space between two columns.
const COLUMN_GAP: f32 = 24.0;

impl FlowLayout {
    pub fn new(flow: &Flow, width: f32, height: f32) -> Self {
        let mut streams: Vec<FlowStream> = Vec::new();
        for r in &flow.rows {
            if !streams.contains(&r.stream) {
                streams.push(r.stream);
            }
        }
        let n = streams.len().max(1) as f32;
        let column_width = ((width - COLUMN_GAP * (n - 1.0)) / n).max(0.0);
        let columns: Vec<FlowColumn> = streams
            .iter()
            .enumerate()
            .map(|(i, &stream)| FlowColumn {
                stream,
                x: i as f32 * (column_width + COLUMN_GAP),
                width: column_width,
            })
            .collect();
        let mut nodes = Vec::new();
        let mut radius = 12.0f32;
        for column in &columns {
            let rows: Vec<usize> = (0..flow.rows.len())
                .filter(|&r| flow.rows[r].stream == column.stream)
                .collect();
            let dy = height / rows.len().max(1) as f32;
            for (level, &r) in rows.iter().enumerate() {
                let w = flow.rows[r].width.max(1);
                let dx = column.width / w as f32;
                radius = radius.min(dx.min(dy) / 3.0);
                // The embeddings at the bottom, each later row above.
                let y = height - (level as f32 + 0.5) * dy;
                for position in 0..flow.rows[r].width {
                    nodes.push(FlowNode {
                        row: r,
                        position,
                        x: column.x + (position as f32 + 0.5) * dx,
                        y,
                    });
                }
            }
        }
        Self {
            width,
            height,
            radius: radius.max(0.0),
            columns,
            nodes,
        }
    }

    /// The node of position `position` in `rows[row]`.
    pub fn node(&self, row: usize, position: usize) -> Option<&FlowNode> {
        self.nodes
            .iter()
            .find(|n| n.row == row && n.position == position)
    }

    /// The node of `flow`'s input `input` (an index into [`Flow::inputs`]): the embeddings row
    /// of the stack, encoder or content stream, or an encoder-decoder's decoder embeddings for
    /// the inputs after [`Flow::encoder_inputs`]. XLNet's query stream has no input of its own.
    pub fn input_node(&self, flow: &Flow, input: usize) -> Option<&FlowNode> {
        let (row, position) = if input < flow.encoder_inputs {
            let row = flow
                .rows
                .iter()
                .position(|r| !matches!(r.stream, FlowStream::Decoder | FlowStream::Query))?;
            (row, input)
        } else {
            let row = flow
                .rows
                .iter()
                .position(|r| r.stream == FlowStream::Decoder)?;
            (row, input - flow.encoder_inputs)
        };
        self.node(row, position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viz::reach::FlowRow;

    #[test]
    fn a_matrix_fills_its_width_or_scrolls_at_the_smallest_readable_cell() {
        let g = MatrixGeometry::fit(16, 16, 600.0, false);
        assert_eq!(g.gutter, 65.0, "0.6 × 12 px × 9 characters, rounded up");
        assert_eq!(g.cell, 33.0, "floor((600 − 65) / 16)");
        assert!(!g.overflows && g.width <= 600.0);
        assert_eq!(g.label_every, 1);
        assert_eq!(
            g.cell_rect(2, 3),
            Rect {
                x: 65.0 + 99.0,
                y: 65.0 + 66.0,
                width: 33.0,
                height: 33.0
            }
        );
        assert_eq!(g.cell_at(65.0 + 99.5, 65.0 + 66.5), Some((2, 3)));
        assert_eq!(g.cell_at(10.0, 100.0), None, "the label gutter is no cell");
        assert_eq!(g.cell_at(g.width + 1.0, 100.0), None);

        let dense = MatrixGeometry::fit(64, 64, 400.0, true);
        assert_eq!(dense.text_px, 18.0, "projector text");
        assert_eq!(dense.cell, PROJECTOR_MIN_CELL_PX);
        assert!(dense.overflows && dense.width > 400.0);
        assert_eq!(
            dense.label_every, 2,
            "18 px labels on 12 px cells: every other one"
        );
        assert!(dense.labelled(4) && !dense.labelled(5));

        let tiny = MatrixGeometry::fit(2, 2, 2000.0, false);
        assert_eq!(tiny.cell, MAX_CELL_PX);
        let empty = MatrixGeometry::fit(0, 0, 100.0, false);
        assert_eq!(empty.cell_at(70.0, 70.0), None);
    }

    fn flow_row(stream: FlowStream, layer: usize, width: usize) -> FlowRow {
        FlowRow {
            stream,
            layer,
            via: None,
            width,
            reached: vec![false; width * 6],
        }
    }

    #[test]
    fn flow_nodes_sit_in_their_streams_column_from_the_embeddings_up() {
        let flow = Flow {
            inputs: Vec::new(),
            encoder_inputs: 4,
            rows: vec![
                flow_row(FlowStream::Encoder, 0, 4),
                flow_row(FlowStream::Encoder, 1, 4),
                flow_row(FlowStream::Decoder, 0, 2),
                flow_row(FlowStream::Decoder, 1, 2),
                flow_row(FlowStream::Decoder, 1, 2),
            ],
            output: FlowStream::Decoder,
        };
        let layout = FlowLayout::new(&flow, 424.0, 300.0);
        assert_eq!(layout.columns.len(), 2);
        assert_eq!(layout.columns[1].x, 224.0, "200 px columns, 24 px apart");
        assert_eq!(layout.nodes.len(), 4 + 4 + 2 + 2 + 2);
        let bottom = layout.node(0, 0).expect("node");
        assert_eq!(
            (bottom.x, bottom.y),
            (25.0, 225.0),
            "encoder: 2 rows of 150 px"
        );
        let above = layout.node(1, 0).expect("node");
        assert!(above.y < bottom.y, "a layer is drawn above what it reads");
        let decoder = layout.node(4, 1).expect("node");
        assert_eq!(
            (decoder.x, decoder.y),
            (224.0 + 150.0, 50.0),
            "3 rows of 100 px"
        );
        assert!(layout.radius > 0.0 && layout.radius <= 12.0);
        assert!(layout.node(9, 0).is_none());
        assert_eq!(
            layout.input_node(&flow, 3),
            layout.node(0, 3),
            "an encoder input"
        );
        assert_eq!(
            layout.input_node(&flow, 5),
            layout.node(2, 1),
            "the decoder's second input sits on the decoder's embeddings row"
        );
        assert!(layout.input_node(&flow, 6).is_none(), "no such input");
    }
}

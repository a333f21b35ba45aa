//! The live heatmap as pixels: every head of one layer side by side, a cell per query × key,
//! shaded by the head's weight relative to the row's largest, blocked cells white with a grey
//! diagonal, a black frame per head. The page copies [`HeatImage::rgba`] onto a canvas in one
//! call and writes the [`HeatImage::labels`] over it; drawing the same 16,384 cells of a
//! `default` layer one canvas call at a time kept the main thread busy for tens of
//! milliseconds per capture.
//!
//! Shading by the row's largest weight (not by the raw weight) follows the attention-map
//! figures of Clark et al. 2019 in spirit: a row that spreads its attention over 30 keys would
//! otherwise be invisible next to a head that points at one.

use super::palette::{self, okabe_ito};
use super::trace::TraceLayer;
use crate::core::error::CoreError;

/// Text of the head titles (ordinary and projector view), in CSS pixels.
pub const HEAT_TEXT_PX: f32 = 13.0;
pub const PROJECTOR_HEAT_TEXT_PX: f32 = 18.0;
/// Pixels between two heads' panels.
pub const HEAT_GAP_PX: usize = 18;

/// One text the page writes over the image: `text` with its baseline's left end at `(x, y)`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatLabel {
    pub x: f32,
    pub y: f32,
    pub text: String,
}

/// A heatmap ready to copy onto a canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatImage {
    pub width: usize,
    pub height: usize,
    /// `width × height` pixels, row-major, 4 bytes each (red, green, blue, alpha = 255).
    pub rgba: Vec<u8>,
    pub labels: Vec<HeatLabel>,
    pub font_px: f32,
    /// Side of one cell, and where the panels start below the titles.
    pub cell: usize,
    pub top: usize,
    /// A checksum of the weights drawn (the browser tests watch it change as training runs).
    pub digest: f64,
}

impl HeatImage {
    /// The pixel at `(x, y)` as red, green, blue (black outside).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        if x >= self.width || y >= self.height {
            return [0, 0, 0];
        }
        let i = 4 * (y * self.width + x);
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]]
    }

    /// The top-left pixel of head `head`'s cell for query `row`, key `col`.
    pub fn cell_origin(&self, head: usize, row: usize, col: usize, cols: usize) -> (usize, usize) {
        let panel = self.cell * cols + HEAT_GAP_PX;
        (head * panel + col * self.cell, self.top + row * self.cell)
    }
}

/// The blend of `colour` at opacity `alpha` over white.
fn over_white(colour: [u8; 3], alpha: f32) -> [u8; 3] {
    let a = alpha.clamp(0.0, 1.0);
    colour.map(|c| (255.0 * (1.0 - a) + f32::from(c) * a).round() as u8)
}

/// Draws every head of `layer`; `Err` when the layer carries no weights (capture was off).
pub fn heat_image(layer: &TraceLayer, projector: bool) -> Result<HeatImage, CoreError> {
    let w = layer.weights.as_ref().ok_or_else(|| {
        CoreError::Picture("this layer was captured without its heads' weights".into())
    })?;
    let font_px = if projector {
        PROJECTOR_HEAT_TEXT_PX
    } else {
        HEAT_TEXT_PX
    };
    let room = if projector { 300 } else { 190 };
    let cell = (room / w.cols.max(w.rows).max(1)).clamp(2, 14);
    let (pw, ph) = (cell * w.cols, cell * w.rows);
    let top = font_px as usize + 8;
    let width = (w.heads * (pw + HEAT_GAP_PX)).max(1);
    let height = top + ph;
    let heat = palette::rgb(palette::HEAT)?;
    let blocked = palette::rgb(palette::BLOCKED.fill)?;
    let hatch = palette::rgb(palette::HEAT_HATCH)?;
    let frame = palette::rgb(okabe_ito::BLACK)?;
    let mut rgba = vec![255u8; width * height * 4];
    let mut put = |x: usize, y: usize, c: [u8; 3]| {
        if x < width && y < height {
            let i = 4 * (y * width + x);
            rgba[i..i + 3].copy_from_slice(&c);
        }
    };
    let mut labels = Vec::with_capacity(w.heads);
    let mut digest = 0.0;
    for h in 0..w.heads {
        let x0 = h * (pw + HEAT_GAP_PX);
        labels.push(HeatLabel {
            x: x0 as f32,
            y: font_px,
            text: format!("head {}", h + 1),
        });
        for r in 0..w.rows {
            let row = w.row(h, r);
            let max = row.iter().copied().fold(0.0f32, f32::max).max(1e-6);
            for c in 0..w.cols {
                let v = row.get(c).copied().unwrap_or(0.0);
                digest += f64::from(v) * ((r * w.cols + c) % 13 + 1) as f64;
                let (x, y) = (x0 + c * cell, top + r * cell);
                if layer.mask.is_blocked(r, c) {
                    for dy in 0..cell {
                        for dx in 0..cell {
                            // One diagonal from bottom left to top right, where a cell is
                            // large enough to show it.
                            let on_line = cell >= 4 && dx + dy == cell - 1;
                            put(x + dx, y + dy, if on_line { hatch } else { blocked });
                        }
                    }
                } else {
                    let colour = over_white(heat, v / max);
                    for dy in 0..cell {
                        for dx in 0..cell {
                            put(x + dx, y + dy, colour);
                        }
                    }
                }
            }
        }
        for x in x0..x0 + pw {
            put(x, top, frame);
            put(x, top + ph - 1, frame);
        }
        for y in top..top + ph {
            put(x0, y, frame);
            put(x0 + pw - 1, y, frame);
        }
    }
    Ok(HeatImage {
        width,
        height,
        rgba,
        labels,
        font_px,
        cell,
        top,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viz::Stream;
    use crate::core::viz::trace::{HeadWeights, MaskMatrix};

    /// Two heads over three positions, causal: head 1 puts everything on the first key, head
    /// 2 spreads evenly over what it may read.
    fn layer() -> TraceLayer {
        let (n, heads) = (3, 2);
        let blocked: Vec<bool> = (0..n * n).map(|i| i % n > i / n).collect();
        let mut values = vec![0.0; heads * n * n];
        for r in 0..n {
            values[r * n] = 1.0;
            for c in 0..=r {
                values[(n + r) * n + c] = 1.0 / (r + 1) as f32;
            }
        }
        TraceLayer {
            layer: 0,
            stream: Stream::SelfAttention,
            mask: MaskMatrix {
                rows: n,
                cols: n,
                blocked,
                row_tokens: Vec::new(),
                col_tokens: Vec::new(),
            },
            weights: Some(HeadWeights {
                heads,
                rows: n,
                cols: n,
                values,
            }),
        }
    }

    fn centre(img: &HeatImage, head: usize, row: usize, col: usize) -> [u8; 3] {
        let (x, y) = img.cell_origin(head, row, col, 3);
        img.pixel(x + img.cell / 2, y + img.cell / 2 - 1)
    }

    #[test]
    fn cells_are_shaded_by_weight_and_blocked_cells_hatched() {
        let img = heat_image(&layer(), false).expect("weights");
        assert_eq!(img.rgba.len(), img.width * img.height * 4);
        assert_eq!(img.labels.len(), 2);
        assert_eq!(img.labels[1].text, "head 2");
        let blue = palette::rgb(palette::HEAT).unwrap();
        // Head 1, row 2: all weight on key 0 (full colour), none on key 1 (white).
        assert_eq!(centre(&img, 0, 2, 0), blue);
        assert_eq!(centre(&img, 0, 2, 1), [255, 255, 255]);
        // Head 2, row 2: three equal weights, each the row's largest: full colour.
        assert_eq!(centre(&img, 1, 2, 1), blue);
        // A blocked cell (row 0, key 2): white, with the grey diagonal at its bottom left.
        let (x, y) = img.cell_origin(0, 0, 2, 3);
        assert_eq!(img.pixel(x + 1, y + 1), [255, 255, 255]);
        let hatch = palette::rgb(palette::HEAT_HATCH).unwrap();
        // (The frame is drawn over the cells on the panel's edge; these pixels are inside.)
        assert_eq!(img.pixel(x + 3, y + img.cell - 4), hatch);
        assert_eq!(img.pixel(x + 4, y + img.cell - 4), [255, 255, 255]);
        // Each head is framed in black.
        let (fx, fy) = img.cell_origin(1, 0, 0, 3);
        assert_eq!(img.pixel(fx, fy + 2), [0, 0, 0]);
    }

    #[test]
    fn half_a_weight_is_half_the_colour_and_the_digest_follows_the_weights() {
        let mut l = layer();
        let w = l.weights.as_mut().unwrap();
        // Row 1 of head 1: 0.25 on key 1 against 1.0 on key 0.
        w.values[3 + 1] = 0.25;
        let img = heat_image(&l, true).expect("weights");
        let blue = palette::rgb(palette::HEAT).unwrap();
        let expected = blue.map(|c| (255.0 * 0.75 + f32::from(c) * 0.25).round() as u8);
        assert_eq!(centre(&img, 0, 1, 1), expected);
        assert_eq!(img.font_px, PROJECTOR_HEAT_TEXT_PX);
        let before = heat_image(&layer(), true).unwrap().digest;
        assert_ne!(img.digest, before);
    }

    #[test]
    fn a_layer_without_weights_is_an_error_not_a_blank_picture() {
        let mut l = layer();
        l.weights = None;
        let err = heat_image(&l, false).expect_err("no weights");
        assert!(
            err.to_string().contains("without its heads' weights"),
            "{err}"
        );
    }
}

//! The strip as a picture for slides: the caption, each row's title and its chips wrapped to a
//! width, the pair's verdict, the count of scored positions and a legend, all placed here in
//! CSS pixels so the page only writes the SVG (the same [`ChipLook`]s its HTML chips show).
//! Widths assume a monospace font of about 0.6 em a character, the estimate the matrix
//! gutters use; the SVG names a monospace family so the estimate holds.

use super::look::{ChipLook, StripLine};
use super::{Strip, TokenState};
use crate::core::viz::layout::Rect;
use crate::core::viz::palette;

/// Text size of the picture (ordinary and projector).
pub const STRIP_TEXT_PX: f32 = 14.0;
pub const PROJECTOR_STRIP_TEXT_PX: f32 = 20.0;
const MARGIN: f32 = 12.0;

/// A chip at its place.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedChip {
    pub rect: Rect,
    /// The position in its row (matrix row and column `index` for the model's row).
    pub index: usize,
    pub look: ChipLook,
    /// What the chip says: XLNet's order, the text, and "→ target" once predicted.
    pub label: String,
}

/// One row of the strip: its title, then its chips.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedRow {
    pub line: StripLine,
    pub title: String,
    /// The title's baseline.
    pub title_y: f32,
    pub chips: Vec<PlacedChip>,
}

/// A line of text: `text` with its baseline's left end at `(x, y)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedText {
    pub x: f32,
    pub y: f32,
    pub text: String,
}

/// The whole picture.
#[derive(Debug, Clone, PartialEq)]
pub struct StripPicture {
    pub width: f32,
    pub height: f32,
    pub text_px: f32,
    pub caption: PlacedText,
    pub rows: Vec<PlacedRow>,
    /// The pair's verdict (once shown) and the count of scored positions.
    pub notes: Vec<PlacedText>,
    /// One swatch per state the strip uses, with its name beside it.
    pub legend: Vec<(TokenState, Rect, PlacedText)>,
}

/// `text` broken at spaces into lines of at most `chars` characters (a longer word stays
/// whole on its own line).
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > chars {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// The estimated width of `text` at `px`.
fn text_width(text: &str, px: f32) -> f32 {
    0.6 * px * text.chars().count() as f32
}

impl StripPicture {
    /// `strip` at animation frame `frame`, wrapped to `width` pixels.
    pub fn new(strip: &Strip, frame: usize, width: f32, projector: bool) -> Self {
        let px = if projector {
            PROJECTOR_STRIP_TEXT_PX
        } else {
            STRIP_TEXT_PX
        };
        let frames = strip.frames.len().max(1);
        let frame = frame.min(frames - 1);
        let line_h = px * 1.5;
        let chip_h = px * 1.9;
        let (pad, gap) = (px * 0.4, px * 0.3);
        let mut y = MARGIN + px;
        let caption = PlacedText {
            x: MARGIN,
            y,
            text: strip.caption(frame),
        };
        y += line_h * 0.6;
        let encoder_decoder = strip.encoder_decoder();
        let mut lines = vec![StripLine::Original, StripLine::Seen];
        if encoder_decoder {
            lines.push(StripLine::Written);
        }
        let right = (width - MARGIN).max(MARGIN + 1.0);
        let mut rows = Vec::new();
        for line in lines {
            y += line_h;
            let title_y = y;
            y += px * 0.5;
            let mut x = MARGIN;
            let mut chips = Vec::new();
            for (index, token) in line.tokens(strip).iter().enumerate() {
                let look = token.look(line, frame, &strip.original);
                let mut label = String::new();
                if let Some(o) = look.order {
                    label.push_str(&format!("{o}·"));
                }
                label.push_str(&look.text);
                if let Some(t) = &look.target {
                    label.push_str(&format!(" → {t}"));
                }
                let w = text_width(&label, px) + 2.0 * pad;
                if x > MARGIN && x + w > right {
                    x = MARGIN;
                    y += chip_h + gap;
                }
                chips.push(PlacedChip {
                    rect: Rect {
                        x,
                        y,
                        width: w,
                        height: chip_h,
                    },
                    index,
                    look,
                    label,
                });
                x += w + gap;
            }
            y += chip_h + gap;
            rows.push(PlacedRow {
                line,
                title: line.title(encoder_decoder).to_string(),
                title_y,
                chips,
            });
        }
        let mut notes = Vec::new();
        let chars = ((right - MARGIN) / (0.6 * px)).floor().max(8.0) as usize;
        let mut texts = Vec::new();
        if let Some(pair) = strip.pair.as_ref().filter(|p| frame >= p.predict_frame) {
            texts.push(format!(
                "Segment A, segment B — the pair head answers at [CLS]: {} ({})",
                pair.verdict,
                pair.task.name().to_uppercase()
            ));
        }
        let mut count = format!(
            "{} positions of this sequence are scored by the loss (outlined in vermillion)",
            strip.supervised
        );
        if strip.padding > 0 {
            count.push_str(&format!("; {} padding positions not shown", strip.padding));
        }
        texts.push(count);
        for text in texts {
            for line in wrap(&text, chars) {
                y += line_h;
                notes.push(PlacedText {
                    x: MARGIN,
                    y,
                    text: line,
                });
            }
        }
        y += line_h * 0.6;
        let mut legend = Vec::new();
        let mut x = MARGIN;
        let swatch = px;
        for state in strip.legend_states() {
            let name = palette::token_swatch(state).name.to_string();
            let w = swatch + 6.0 + text_width(&name, px) + 2.0 * gap + px;
            if x > MARGIN && x + w > right {
                x = MARGIN;
                y += line_h;
            }
            legend.push((
                state,
                Rect {
                    x,
                    y: y + (line_h - swatch) / 2.0,
                    width: swatch,
                    height: swatch,
                },
                PlacedText {
                    x: x + swatch + 6.0,
                    y: y + line_h * 0.75,
                    text: name,
                },
            ));
            x += w;
        }
        y += line_h + MARGIN;
        Self {
            width,
            height: y,
            text_px: px,
            caption,
            rows,
            notes,
            legend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viz::strip::{Phase, strip};
    use crate::core::viz::test_support::{Numbers, batches};

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    #[test]
    fn every_token_gets_a_chip_inside_the_width_and_none_overlap() {
        for mix in ["mlm+nsp", "span", "infill", "plm"] {
            let (kind, batch) = batches(mix).remove(0);
            let s = strip(&batch, kind, 0, &Numbers).expect("strip");
            let last = s.frames.len() - 1;
            let pic = StripPicture::new(&s, last, 640.0, false);
            let chips: Vec<&PlacedChip> = pic.rows.iter().flat_map(|r| &r.chips).collect();
            assert_eq!(
                chips.len(),
                s.original.len() + s.seen.len() + s.written.len(),
                "{mix}"
            );
            for (i, a) in chips.iter().enumerate() {
                assert!(
                    a.rect.x >= MARGIN && a.rect.x + a.rect.width <= 640.0 - MARGIN + 0.01,
                    "{mix}: {a:?}"
                );
                assert!(a.rect.y + a.rect.height <= pic.height, "{mix}");
                for b in &chips[i + 1..] {
                    assert!(!overlap(&a.rect, &b.rect), "{mix}: {a:?} and {b:?}");
                }
            }
            // Rows go down the page in order, each title above its chips.
            for w in pic.rows.windows(2) {
                let below = w[1].chips.first().map_or(f32::MAX, |c| c.rect.y);
                assert!(w[0].chips.iter().all(|c| c.rect.y < w[1].title_y), "{mix}");
                assert!(w[1].title_y < below, "{mix}");
            }
            assert!(
                pic.notes
                    .iter()
                    .any(|n| n.text.starts_with(&s.supervised.to_string()))
            );
            for n in &pic.notes {
                let end = n.x + text_width(&n.text, pic.text_px);
                assert!(end <= 640.0 - MARGIN + 0.01, "{mix}: {n:?}");
            }
            assert!(!pic.legend.is_empty(), "{mix}");
        }
    }

    #[test]
    fn long_notes_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("averylongword x", 5), ["averylongword", "x"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn the_picture_shows_the_frame_it_is_asked_for() {
        let (kind, batch) = batches("mlm").remove(0);
        let s = strip(&batch, kind, 0, &Numbers).expect("strip");
        let seen = |pic: &StripPicture| -> Vec<TokenState> {
            pic.rows[1].chips.iter().map(|c| c.look.state).collect()
        };
        // Frame 0 is the original: nothing masked yet.
        assert_eq!(s.frames[0].phase, Phase::Original);
        let first = StripPicture::new(&s, 0, 800.0, false);
        assert!(
            seen(&first)
                .iter()
                .all(|&st| matches!(st, TokenState::Text | TokenState::Special))
        );
        // The last frame: the batch's own states, and the targets written on scored chips.
        let last = StripPicture::new(&s, s.frames.len() - 1, 800.0, true);
        let states: Vec<TokenState> = s.seen.iter().map(|t| t.state).collect();
        assert_eq!(seen(&last), states);
        assert_eq!(last.text_px, PROJECTOR_STRIP_TEXT_PX);
        let scored = last.rows[1]
            .chips
            .iter()
            .filter(|c| c.look.supervised)
            .count();
        assert_eq!(scored, s.seen.iter().filter(|t| t.supervised).count());
        assert!(
            last.rows[1]
                .chips
                .iter()
                .filter(|c| c.look.target.is_some())
                .all(|c| c.label.contains(" → "))
        );
        // A frame past the end is the last one.
        assert_eq!(StripPicture::new(&s, 999, 800.0, true), last);
    }
}

//! The loss chart as plain data: which lines and points it shows, its scale, ticks and
//! geometry. The page only draws what [`layout`] returns (SVG), so what the chart says is
//! tested natively.
//!
//! What it shows, all in nats:
//! - the training loss of the token objective per step, and its validation loss on the
//!   positions the objective hid, with **word frequencies on those same positions** as a dashed
//!   line: the same kind of number beside it ([`crate::core::metrics::UnigramBaseline`]);
//! - for NSP/SOP, the pair head's loss as its own curve (training per step, validation dots),
//!   with chance, ln 2, dotted. A mix's summed loss would put two unlike numbers on one line.
//!
//! Any value is drawable: non-finite values are skipped, the scale ignores outliers beyond
//! what the baseline and the latest points need, and ticks are few "nice" numbers (1, 2, 5 ×
//! 10ⁿ), at most [`MAX_TICKS`], whatever the range.

use serde::{Deserialize, Serialize};

/// Drawing area, in SVG units.
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 260.0;
pub const LEFT: f64 = 48.0;
pub const RIGHT: f64 = 12.0;
pub const TOP: f64 = 12.0;
pub const BOTTOM: f64 = 34.0;
/// Most points drawn per training line; longer curves are thinned evenly.
pub const MAX_POINTS: usize = 600;
/// Most y ticks.
pub const MAX_TICKS: usize = 8;

/// What the chart is drawn from: `(step, loss)` points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartData {
    pub train_tokens: Vec<(usize, f32)>,
    pub train_pairs: Vec<(usize, f32)>,
    pub val_tokens: Vec<(usize, f32)>,
    pub val_pairs: Vec<(usize, f32)>,
    /// Word frequencies on the validation positions (absent without a token objective).
    pub baseline: Option<f64>,
    /// Whether the run has a pair objective (then chance, ln 2, is drawn).
    pub pairs: bool,
    pub planned_steps: usize,
}

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub y: f64,
    pub label: String,
}

/// Everything the page draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartLayout {
    pub max_step: usize,
    pub lo: f64,
    pub hi: f64,
    /// `(y, label)` of each tick.
    pub ticks: Vec<(f64, String)>,
    /// SVG `points` of the token and pair training lines.
    pub train_tokens: String,
    pub train_pairs: String,
    /// `(x, y)` of the validation dots.
    pub val_tokens: Vec<(f64, f64)>,
    pub val_pairs: Vec<(f64, f64)>,
    pub baseline: Option<Reference>,
    pub chance: Option<Reference>,
}

/// Maps steps and losses to the drawing area.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub max_step: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Scale {
    pub fn x(&self, step: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (step / self.max_step.max(1.0)).clamp(0.0, 1.0)
    }

    /// A loss's height, clamped into the plot so an outlier sits on its edge.
    pub fn y(&self, loss: f64) -> f64 {
        let span = (self.hi - self.lo).max(1e-6);
        let t = ((loss - self.lo) / span).clamp(0.0, 1.0);
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - t)
    }
}

fn finite(points: &[(usize, f32)]) -> impl Iterator<Item = f64> + '_ {
    points
        .iter()
        .map(|(_, l)| f64::from(*l))
        .filter(|v| v.is_finite())
}

/// The y range: everything validation and the references need, and the training lines
/// without their first steps' spike (the first tenth of each, which starts far above where it
/// ends), but never narrower than half a nat.
fn y_range(data: &ChartData) -> (f64, f64) {
    let tail = |points: &[(usize, f32)]| -> Vec<(usize, f32)> {
        let skip = points.len() / 10;
        points[skip..].to_vec()
    };
    let chance = data.pairs.then_some(std::f64::consts::LN_2);
    let mut values: Vec<f64> = finite(&data.val_tokens)
        .chain(finite(&data.val_pairs))
        .chain(finite(&tail(&data.train_tokens)))
        .chain(finite(&tail(&data.train_pairs)))
        .chain(data.baseline.filter(|b| b.is_finite()))
        .chain(chance)
        .collect();
    if values.is_empty() {
        values.extend(finite(&data.train_tokens).chain(finite(&data.train_pairs)));
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 8.0);
    }
    let lo = lo.max(0.0);
    let hi = hi.max(lo + 0.5);
    let pad = (hi - lo) * 0.05;
    ((lo - pad).max(0.0), hi + pad)
}

/// At most [`MAX_TICKS`] ticks on 1, 2 or 5 × 10ⁿ inside `lo..=hi`, for any finite range.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let span = hi - lo;
    let raw = span / (MAX_TICKS - 1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= (MAX_TICKS - 1) as f64)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil();
    (0..MAX_TICKS)
        .map(|i| (first + i as f64) * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .collect()
}

fn tick_label(v: f64, step: f64) -> String {
    let digits = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{v:.digits$}")
}

fn polyline(points: &[(usize, f32)], s: Scale) -> String {
    let points: Vec<&(usize, f32)> = points.iter().filter(|(_, l)| l.is_finite()).collect();
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let mut out = String::with_capacity(points.len() / stride * 14);
    for (i, (step, loss)) in points.iter().enumerate() {
        if i % stride == 0 || i + 1 == points.len() {
            out.push_str(&format!(
                "{:.1},{:.1} ",
                s.x(*step as f64),
                s.y(f64::from(*loss))
            ));
        }
    }
    out
}

/// Lays the chart out.
pub fn layout(data: &ChartData) -> ChartLayout {
    let last = [
        &data.train_tokens,
        &data.train_pairs,
        &data.val_tokens,
        &data.val_pairs,
    ]
    .iter()
    .filter_map(|v| v.last().map(|p| p.0))
    .max()
    .unwrap_or(0);
    let (lo, hi) = y_range(data);
    let s = Scale {
        max_step: data.planned_steps.max(last).max(1) as f64,
        lo,
        hi,
    };
    let tick_values = ticks(lo, hi);
    let step = match tick_values.as_slice() {
        [a, b, ..] => b - a,
        _ => 1.0,
    };
    let dots = |points: &[(usize, f32)]| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter(|(_, l)| l.is_finite())
            .map(|(st, l)| (s.x(*st as f64), s.y(f64::from(*l))))
            .collect()
    };
    ChartLayout {
        max_step: s.max_step as usize,
        lo,
        hi,
        ticks: tick_values
            .iter()
            .map(|&v| (s.y(v), tick_label(v, step)))
            .collect(),
        train_tokens: polyline(&data.train_tokens, s),
        train_pairs: polyline(&data.train_pairs, s),
        val_tokens: dots(&data.val_tokens),
        val_pairs: dots(&data.val_pairs),
        baseline: data.baseline.filter(|b| b.is_finite()).map(|b| Reference {
            y: s.y(b),
            label: format!("word frequencies, same positions {b:.2}"),
        }),
        chance: data.pairs.then(|| Reference {
            y: s.y(std::f64::consts::LN_2),
            label: "pair chance (ln 2)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_few_and_nice_for_any_range() {
        for (lo, hi) in [
            (0.0, 8.0),
            (5.5, 5.8),
            (0.0, 7.4e8),
            (0.0, 1e17),
            (1e-9, 2e-9),
            (3.0, 3.0 + 1e-12),
        ] {
            let t = ticks(lo, hi);
            assert!(t.len() <= MAX_TICKS, "{lo}..{hi}: {t:?}");
            assert!(
                t.iter()
                    .all(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9 * hi.abs().max(1.0))
            );
        }
        assert_eq!(ticks(0.0, 8.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert!(ticks(f64::NAN, 1.0).is_empty());
        assert!(ticks(2.0, 1.0).is_empty());
    }

    #[test]
    fn any_value_lays_out_without_panicking_and_stays_in_the_plot() {
        let data = ChartData {
            train_tokens: vec![(1, f32::NAN), (2, f32::INFINITY), (3, 7.4e8), (4, 5.0)],
            train_pairs: vec![(1, 0.7), (2, f32::NEG_INFINITY)],
            val_tokens: vec![(0, 7.6), (4, 5.1)],
            val_pairs: vec![(4, 0.69)],
            baseline: Some(5.7),
            pairs: true,
            planned_steps: 10,
        };
        let l = layout(&data);
        assert!(l.ticks.len() <= MAX_TICKS);
        for (x, y) in l.val_tokens.iter().chain(&l.val_pairs) {
            assert!((LEFT..=WIDTH).contains(x) && (TOP..=HEIGHT).contains(y));
        }
        assert!(l.baseline.is_some() && l.chance.is_some());
        assert!(!l.train_tokens.contains("NaN") && !l.train_tokens.contains("inf"));
        let empty = layout(&ChartData::default());
        assert_eq!((empty.lo, empty.hi), (0.0, 8.0));
    }

    #[test]
    fn the_baseline_sits_where_its_value_is() {
        let data = ChartData {
            val_tokens: vec![(10, 5.0)],
            baseline: Some(5.5),
            planned_steps: 10,
            ..ChartData::default()
        };
        let l = layout(&data);
        let s = Scale {
            max_step: 10.0,
            lo: l.lo,
            hi: l.hi,
        };
        let b = l.baseline.expect("baseline");
        assert!((b.y - s.y(5.5)).abs() < 1e-9);
        assert!(
            l.val_tokens[0].1 > b.y,
            "a loss below the baseline is drawn lower"
        );
        assert!(l.chance.is_none());
    }

    /// A pair-only mix has no word-frequency baseline (NaN, `null` in a saved run): nothing is
    /// drawn for it, and the scale is the pair curve's.
    #[test]
    fn a_baseline_that_is_not_a_number_is_not_drawn() {
        for baseline in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let data = ChartData {
                val_pairs: vec![(10, 0.6)],
                baseline: Some(baseline),
                pairs: true,
                planned_steps: 10,
                ..ChartData::default()
            };
            let l = layout(&data);
            assert!(l.baseline.is_none(), "{baseline}");
            assert!(
                l.lo.is_finite() && l.hi < 2.0,
                "{baseline}: {}..{}",
                l.lo,
                l.hi
            );
        }
    }
}

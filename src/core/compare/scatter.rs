//! The trade-off picture: generation quality (x) against pair-judgement accuracy (y), one
//! point per mix — the mean of its pooled seeds, with error bars of ± one standard deviation
//! over seeds (or ± one standard error of the single run's measurement, drawn dashed) — the
//! untrained twins' accuracy and chance as reference lines, the best model-free reply writer
//! as a reference on the compliance axis, and the frontier of mixes no other beats on both
//! axes. Both axes read "better →/↑": the perplexity axis is logarithmic and reversed.
//! Pseudo-perplexity never shares the perplexity axis: a masked LM without a conditional
//! perplexity is listed as left out, with the reason. Laid out here and written as SVG; the
//! page shows that SVG and downloads it.

use serde::{Deserialize, Serialize};

use crate::core::viz::palette::SERIES;

use super::PanelRun;
use super::pool::flags;
use super::stat::Stat;
use crate::core::corpus::PairKind;
use crate::core::summary::RunSummary;

/// The x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenAxis {
    /// Compliance of greedy replies at the common bound (higher is better).
    Compliance,
    /// Conditional perplexity of held-out replies (lower is better; log scale, reversed).
    Perplexity,
}

/// The y axis's reading of pair judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairAxis {
    /// The linear probe on frozen features.
    Probe,
    /// The pair head or the likelihood, without fitting.
    ZeroShot,
}

/// What the picture plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScatterSpec {
    pub generation: GenAxis,
    pub pair: PairAxis,
    pub kind: PairKind,
}

impl Default for ScatterSpec {
    fn default() -> Self {
        Self {
            generation: GenAxis::Compliance,
            pair: PairAxis::Probe,
            kind: PairKind::Hard,
        }
    }
}

/// One mix on the picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub mix: String,
    /// Pooled runs behind it.
    pub n: usize,
    pub x: f64,
    pub y: f64,
    /// Half-widths of the error bars (sd over seeds, or the single run's standard error).
    pub x_err: f64,
    pub y_err: f64,
    /// The mean accuracy of the same runs' untrained twins (probe axis only): what the
    /// architecture gets before pre-training, which differs by architecture.
    pub twin: Option<f64>,
    /// Where it is drawn, in pixels.
    pub cx: f64,
    pub cy: f64,
    /// No other mix is at least as good on both axes and better on one.
    pub frontier: bool,
}

/// The laid-out picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scatter {
    pub width: f64,
    pub height: f64,
    pub points: Vec<Point>,
    /// Mixes without a figure on one of the axes, and why.
    pub left_out: Vec<String>,
    pub svg: String,
}

const W: f64 = 720.0;
const H: f64 = 460.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 72.0;

/// Escapes text for SVG.
pub(crate) fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn gen_value(s: &RunSummary, axis: GenAxis) -> (Option<f64>, Option<f64>) {
    let e = &s.evaluation;
    match axis {
        GenAxis::Compliance => (e.compliance_common, e.compliance_common_se),
        GenAxis::Perplexity => (e.gen_ppl, e.gen_ppl_se),
    }
}

fn pair_value(s: &RunSummary, spec: ScatterSpec) -> (Option<f64>, Option<f64>) {
    let e = &s.evaluation;
    match spec.pair {
        PairAxis::Probe => (e.probe_acc.get(spec.kind), e.probe_acc_se.get(spec.kind)),
        PairAxis::ZeroShot => (
            e.zeroshot_acc.get(spec.kind),
            e.zeroshot_acc_se.get(spec.kind),
        ),
    }
}

/// Ticks of a linear axis over `[lo, hi]`: about five, at 1, 2 or 5 × 10^k steps.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(mag * 10.0);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// A figure and its standard error, if recorded.
type Figure = (f64, Option<f64>);

/// Ticks of a log axis over `[10^x0, 10^x1]`: 1, 2 and 5 × 10^k over whole exponents (a
/// bounded number of them), or plain steps where the range is too narrow to hold two.
fn log_ticks(x0: f64, x1: f64) -> Vec<f64> {
    let (lo, hi) = (10f64.powf(x0), 10f64.powf(x1));
    let mut t = Vec::new();
    let first = x0.floor().clamp(-1.0, 12.0) as i32;
    let last = x1.ceil().clamp(-1.0, 12.0) as i32;
    for e in first..=last {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(e);
            if v >= lo && v <= hi {
                t.push(v);
            }
        }
    }
    if t.len() < 2 && lo.is_finite() && hi.is_finite() {
        t = linear_ticks(lo, hi);
    }
    t
}

/// Where each point's label goes (its baseline y): just above the point, moved down below the
/// label before it wherever two points stand close enough for their labels to overlap.
fn label_positions(points: &[Point]) -> Vec<f64> {
    const LINE: f64 = 17.0;
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].cy.total_cmp(&points[b].cy));
    let mut y = vec![0.0; points.len()];
    let mut placed: Vec<usize> = Vec::new();
    for &i in &order {
        let mut at = points[i].cy - 10.0;
        // Down past every nearby label it meets; `at` only grows, so this ends.
        while let Some(&j) = placed.iter().find(|&&j| {
            (points[j].cx - points[i].cx).abs() < 140.0 && (at - y[j]).abs() < LINE - 1e-9
        }) {
            at = y[j] + LINE;
        }
        y[i] = at;
        placed.push(i);
    }
    y
}

/// Lays out the points of `runs` under `spec` and writes the SVG.
pub fn build(runs: &[PanelRun], spec: ScatterSpec) -> Scatter {
    let flags = flags(runs);
    let mut mixes: Vec<(String, Vec<&RunSummary>)> = Vec::new();
    for (run, f) in runs.iter().zip(&flags) {
        let Some(s) = run.summary.as_deref().filter(|_| f.is_empty()) else {
            continue;
        };
        let label = run.label();
        match mixes.iter_mut().find(|(l, _)| *l == label) {
            Some((_, m)) => m.push(s),
            None => mixes.push((label, vec![s])),
        }
    }
    let mut points = Vec::new();
    let mut left_out = Vec::new();
    for (mix, members) in &mixes {
        // Only runs with both figures make the point, so both bars rest on the same runs.
        let both: Vec<(Figure, Figure, &RunSummary)> = members
            .iter()
            .filter_map(
                |s| match (gen_value(s, spec.generation), pair_value(s, spec)) {
                    ((Some(x), xe), (Some(y), ye)) => Some(((x, xe), (y, ye), *s)),
                    _ => None,
                },
            )
            .collect();
        let stat = |vs: Vec<(f64, Option<f64>)>| {
            let s = Stat::of(&vs.iter().map(|v| v.0).collect::<Vec<_>>())?;
            let err = if s.n > 1 {
                s.sd
            } else {
                vs[0].1.filter(|e| e.is_finite()).unwrap_or(0.0)
            };
            Some((s, err))
        };
        let xs = stat(both.iter().map(|b| b.0).collect());
        let ys = stat(both.iter().map(|b| b.1).collect());
        if let (Some((x, xe)), Some((y, ye))) = (xs, ys) {
            // The same network before pre-training, through the same probe, on these runs.
            let twin = match spec.pair {
                PairAxis::Probe => Stat::of(
                    &both
                        .iter()
                        .filter_map(|b| b.2.evaluation.random_init_acc.get(spec.kind))
                        .collect::<Vec<_>>(),
                )
                .map(|t| t.mean),
                PairAxis::ZeroShot => None,
            };
            points.push(Point {
                mix: mix.clone(),
                n: x.n,
                x: x.mean,
                y: y.mean,
                x_err: xe,
                y_err: ye,
                twin,
                cx: 0.0,
                cy: 0.0,
                frontier: false,
            });
            continue;
        }
        let has_gen = members
            .iter()
            .any(|s| gen_value(s, spec.generation).0.is_some());
        left_out.push(if !has_gen {
            match spec.generation {
                GenAxis::Perplexity if members.iter().any(|s| s.evaluation.gen_pppl.is_some()) => format!(
                    "{mix}: no conditional perplexity — a masked LM's pseudo-perplexity is a different number and never shares this axis"
                ),
                GenAxis::Perplexity => format!("{mix}: no conditional perplexity (not evaluated, or it cannot write left to right)"),
                GenAxis::Compliance => format!("{mix}: no compliance figure (not evaluated, or no tickets on this corpus)"),
            }
        } else {
            match spec.pair {
                PairAxis::ZeroShot => format!("{mix}: no pair head to read zero-shot (only NSP/SOP mixes have one)"),
                PairAxis::Probe => format!("{mix}: no probe accuracy on {} pairs (not evaluated)", spec.kind.name()),
            }
        });
    }
    // The frontier: no other point at least as good on both axes and better on one.
    let better_x = |a: f64, b: f64| match spec.generation {
        GenAxis::Compliance => a > b,
        GenAxis::Perplexity => a < b,
    };
    for i in 0..points.len() {
        let (xi, yi) = (points[i].x, points[i].y);
        let dominated = points.iter().enumerate().any(|(j, p)| {
            j != i
                && (better_x(p.x, xi) || p.x == xi)
                && p.y >= yi
                && (better_x(p.x, xi) || p.y > yi)
        });
        points[i].frontier = !dominated;
    }
    // Reference figures.
    let pooled = || {
        runs.iter()
            .zip(&flags)
            .filter(|(_, f)| f.is_empty())
            .filter_map(|(r, _)| r.summary.as_deref())
    };
    let writer = match spec.generation {
        GenAxis::Compliance => pooled()
            .flat_map(|s| {
                s.evaluation
                    .reply_baselines
                    .iter()
                    .filter(move |b| b.cap.is_some() && b.cap == s.evaluation.compliance_common_cap)
            })
            .map(|b| (b.writer.clone(), b.greedy.compliance))
            .filter(|(_, v)| v.is_finite())
            .fold(None, |best: Option<(String, f64)>, (w, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((w, v)),
            }),
        GenAxis::Perplexity => None,
    };
    // The best word-only pair judge on the chosen kind: what a probe on words alone reaches,
    // fitted on the same labelled pairs and scored on the same held-out ones as the runs'
    // probes (the best of three judges, picked on those held-out pairs: a generous bar). Only
    // on the probe axis: zero-shot readings fit nothing on labels, so it is not their bar.
    let judge = (spec.pair == PairAxis::Probe)
        .then(|| pooled())
        .into_iter()
        .flatten()
        .flat_map(|s| s.evaluation.pair_baselines.iter())
        .filter_map(|b| Some((b.name.clone(), b.acc.get(spec.kind)?)))
        .filter(|(_, v)| v.is_finite())
        .fold(None, |best: Option<(String, f64)>, (w, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((w, v)),
        });
    // Axis ranges, error bars and references included.
    let mut xr: Vec<f64> = points
        .iter()
        .flat_map(|p| [p.x - p.x_err, p.x + p.x_err])
        .collect();
    let mut yr: Vec<f64> = points
        .iter()
        .flat_map(|p| [p.y - p.y_err, p.y + p.y_err])
        .collect();
    yr.push(0.5);
    yr.extend(judge.as_ref().map(|j| j.1));
    yr.extend(points.iter().filter_map(|p| p.twin));
    xr.extend(writer.as_ref().map(|w| w.1));
    let log = spec.generation == GenAxis::Perplexity;
    let xt = |v: f64| if log { v.max(1.0).log10() } else { v };
    let (mut x0, mut x1) = xr
        .iter()
        .map(|v| xt(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !x0.is_finite() {
        (x0, x1) = if log { (1.0, 3.0) } else { (0.0, 1.0) };
    }
    if !log {
        // Compliance starts at zero: "no reply complies" is the floor.
        x0 = 0.0;
        x1 = x1.clamp(0.05, 1.0).max(x0 + 0.05);
    } else {
        let pad = ((x1 - x0) * 0.1).max(0.05);
        (x0, x1) = ((x0 - pad).max(0.0), x1 + pad);
    }
    let (mut y0, mut y1) = yr
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    y0 = ((y0 - 0.02) * 20.0).floor() / 20.0;
    y1 = (((y1 + 0.02) * 20.0).ceil() / 20.0).min(1.0);
    y0 = y0.clamp(0.0, 0.5);
    let px = |v: f64| {
        let f = (xt(v) - x0) / (x1 - x0).max(1e-9);
        // Perplexity: lower is better, so it is drawn right.
        let f = if log { 1.0 - f } else { f };
        LEFT + f * (W - LEFT - RIGHT)
    };
    let py = |v: f64| TOP + (1.0 - (v - y0) / (y1 - y0).max(1e-9)) * (H - TOP - BOTTOM);
    for p in &mut points {
        p.cx = px(p.x);
        p.cy = py(p.y);
    }
    let svg = svg(
        spec,
        &points,
        &left_out,
        (x0, x1),
        (y0, y1),
        log,
        &px,
        &py,
        writer,
        judge,
    );
    Scatter {
        width: W,
        height: total_height(&left_out),
        points,
        left_out,
        svg,
    }
}

/// Characters of 14 px text that fit the picture's width beside its margin.
const WRAP_CHARS: usize = 88;

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The picture's height: the plot, two legend lines, and the lines saying what is left out.
fn total_height(left_out: &[String]) -> f64 {
    let lines: usize = left_out
        .iter()
        .map(|l| wrap(&format!("Not shown: {l}"), WRAP_CHARS).len())
        .sum();
    H + 48.0 + 20.0 * lines as f64
}

fn axis_pair_name(axis: PairAxis) -> &'static str {
    match axis {
        PairAxis::Probe => "probe",
        PairAxis::ZeroShot => "zero-shot",
    }
}

#[allow(clippy::too_many_arguments)]
fn svg(
    spec: ScatterSpec,
    points: &[Point],
    left_out: &[String],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    log: bool,
    px: &dyn Fn(f64) -> f64,
    py: &dyn Fn(f64) -> f64,
    writer: Option<(String, f64)>,
    judge: Option<(String, f64)>,
) -> String {
    use std::fmt::Write;
    let total = total_height(left_out);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {total}" width="{W}" height="{total}" font-family="system-ui, sans-serif" font-size="15" data-testid="compare-scatter-svg" role="img" aria-label="generation quality against pair accuracy, one point per mix">"#
    );
    s.push_str(r##"<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>"##);
    let (left, right, top, bottom) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    // Grid and ticks.
    for t in linear_ticks(y0, y1) {
        let y = py(t);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{right}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
            left - 8.0,
            y + 5.0,
            t * 100.0
        );
    }
    let xticks: Vec<f64> = if log {
        log_ticks(x0, x1)
    } else {
        linear_ticks(x0, x1)
    };
    for t in xticks {
        let x = px(t);
        let label = if log {
            format!("{t}")
        } else {
            format!("{:.0}%", t * 100.0)
        };
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{bottom}" stroke="#e3e3e3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            bottom + 20.0
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{:.1}" height="{:.1}" fill="none" stroke="#555"/>"##,
        right - left,
        bottom - top
    );
    let xlabel = match spec.generation {
        GenAxis::Compliance => "replies that comply, at the common bound — better →",
        GenAxis::Perplexity => "reply perplexity (log scale, lower is better) — better →",
    };
    let ylabel = format!(
        "{} accuracy, {} negatives — better ↑",
        axis_pair_name(spec.pair),
        spec.kind.name()
    );
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="600">{}</text>"#,
        (left + right) / 2.0,
        H - 16.0,
        xml(xlabel)
    );
    let _ = write!(
        s,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle" font-weight="600">{}</text>"#,
        (top + bottom) / 2.0,
        xml(&ylabel)
    );
    // References.
    let hline = |s: &mut String, v: f64, dash: &str, label: &str, id: &str| {
        if v >= y0 && v <= y1 {
            let y = py(v);
            let _ = write!(
                s,
                r##"<g data-testid="{id}"><line x1="{left}" x2="{right}" y1="{y:.1}" y2="{y:.1}" stroke="#444" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text></g>"##,
                right - 6.0,
                y - 6.0,
                xml(label)
            );
        }
    };
    hline(&mut s, 0.5, "2 4", "chance", "compare-chance");
    if let Some((name, v)) = &judge {
        hline(
            &mut s,
            *v,
            "8 4",
            &format!("best word-only judge ({name}, no model)"),
            "compare-judge",
        );
    }
    if let Some((w, v)) = &writer {
        let x = px(*v);
        let _ = write!(
            s,
            r##"<g data-testid="compare-writer"><line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{bottom}" stroke="#444" stroke-dasharray="8 4"/><text x="{:.1}" y="{:.1}" fill="#444" text-anchor="{}">{}</text></g>"##,
            // On the right half the label reads leftwards, inside the plot.
            if x > (left + right) / 2.0 {
                x - 6.0
            } else {
                x + 6.0
            },
            top + 18.0,
            if x > (left + right) / 2.0 {
                "end"
            } else {
                "start"
            },
            xml(&format!("{w} (no model)"))
        );
    }
    // The frontier, left to right.
    let mut front: Vec<&Point> = points.iter().filter(|p| p.frontier).collect();
    front.sort_by(|a, b| a.cx.total_cmp(&b.cx));
    if front.len() > 1 {
        let path: Vec<String> = front
            .iter()
            .map(|p| format!("{:.1},{:.1}", p.cx, p.cy))
            .collect();
        let _ = write!(
            s,
            r##"<polyline data-testid="compare-frontier" points="{}" fill="none" stroke="#999" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    // Points with error bars and labels; labels of points close together are moved apart.
    let label_y = label_positions(points);
    for (i, p) in points.iter().enumerate() {
        let colour = SERIES[i % SERIES.len()];
        let dash = if p.n > 1 {
            ""
        } else {
            r#" stroke-dasharray="3 3""#
        };
        // Bars stop at the plot's edges.
        let (xa, xb) = (
            px(p.x - p.x_err).clamp(left, right),
            px(p.x + p.x_err).clamp(left, right),
        );
        let (ya, yb) = (
            py(p.y - p.y_err).clamp(top, bottom),
            py(p.y + p.y_err).clamp(top, bottom),
        );
        // Its untrained twin: the same architecture before pre-training, a hollow marker.
        if let Some(t) = p.twin {
            let ty = py(t).clamp(top, bottom);
            let _ = write!(
                s,
                r##"<g data-testid="compare-twin" data-mix="{}" data-y="{t}"><title>{}</title><line x1="{cx:.1}" x2="{cx:.1}" y1="{ty:.1}" y2="{cy:.1}" stroke="{colour}" stroke-dasharray="1 3"/><circle cx="{cx:.1}" cy="{ty:.1}" r="5" fill="#fff" stroke="{colour}" stroke-width="2"/></g>"##,
                xml(&p.mix),
                xml(&format!("{}: its untrained twin, {:.1}%", p.mix, t * 100.0)),
                cx = p.cx,
                cy = p.cy,
            );
        }
        let _ = write!(
            s,
            r##"<g data-testid="compare-point" data-mix="{}" data-n="{}" data-x="{}" data-y="{}" data-frontier="{}"><title>{}</title><line x1="{xa:.1}" x2="{xb:.1}" y1="{cy:.1}" y2="{cy:.1}" stroke="{colour}" stroke-width="2"{dash}/><line x1="{cx:.1}" x2="{cx:.1}" y1="{ya:.1}" y2="{yb:.1}" stroke="{colour}" stroke-width="2"{dash}/><circle cx="{cx:.1}" cy="{cy:.1}" r="7" fill="{colour}" stroke="#fff" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="{colour}" font-weight="600">{}</text></g>"##,
            xml(&p.mix),
            p.n,
            p.x,
            p.y,
            p.frontier,
            xml(&format!(
                "{}: {} run{}; error bars {}",
                p.mix,
                p.n,
                if p.n == 1 { "" } else { "s" },
                if p.n > 1 {
                    "± sd over seeds"
                } else {
                    "± standard error of the one run"
                }
            )),
            p.cx + 10.0,
            label_y[i],
            xml(&p.mix),
            cx = p.cx,
            cy = p.cy,
        );
    }
    if points.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">No evaluated run has both figures yet.</text>"##,
            (left + right) / 2.0,
            (top + bottom) / 2.0
        );
    }
    // The legend, and what is not on the picture.
    let mut y = H + 18.0;
    let _ = write!(
        s,
        r##"<text x="{left}" y="{y:.1}" font-size="14" fill="#333">Bars: solid ± sd over seeds; dashed ± the standard error of a single run.</text>"##
    );
    if spec.pair == PairAxis::Probe {
        y += 20.0;
        let _ = write!(
            s,
            r##"<text x="{left}" y="{y:.1}" font-size="14" fill="#333">○ on a point's dotted line: the same network before pre-training, through the same probe.</text>"##
        );
    }
    for line in left_out
        .iter()
        .flat_map(|l| wrap(&format!("Not shown: {l}"), WRAP_CHARS))
    {
        y += 20.0;
        let _ = write!(
            s,
            r##"<text x="{left}" y="{y:.1}" font-size="14" fill="#555">{}</text>"##,
            xml(&line)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn a_point_per_mix_with_sd_error_bars_and_the_frontier() {
        let runs = vec![
            run("gpt", 0, 0.10, 0.70),
            run("gpt", 1, 0.20, 0.80),
            run("bert", 0, 0.00, 0.90),
            run("t5", 0, 0.05, 0.60),
        ];
        let spec = ScatterSpec {
            kind: PairKind::Random,
            ..ScatterSpec::default()
        };
        let sc = build(&runs, spec);
        assert_eq!(sc.points.len(), 3);
        let gpt = &sc.points[0];
        assert_eq!((gpt.mix.as_str(), gpt.n), ("gpt (clm)", 2));
        assert!((gpt.x - 0.15).abs() < 1e-12 && (gpt.y - 0.75).abs() < 1e-12);
        assert!(
            (gpt.x_err - 0.0707).abs() < 1e-3,
            "sd over two seeds: {}",
            gpt.x_err
        );
        // A single run's error bar is its own standard error.
        assert!((sc.points[1].y_err - 0.02).abs() < 1e-12);
        let front: Vec<&str> = sc
            .points
            .iter()
            .filter(|p| p.frontier)
            .map(|p| p.mix.as_str())
            .collect();
        assert_eq!(
            front,
            ["gpt (clm)", "bert (mlm+nsp)"],
            "t5 is beaten by gpt on both axes"
        );
        // Better is up and right; every point inside the plot.
        assert!(sc.points[1].cy < gpt.cy && gpt.cx > sc.points[1].cx);
        for p in &sc.points {
            assert!(
                p.cx >= LEFT && p.cx <= W - RIGHT && p.cy >= TOP && p.cy <= H - BOTTOM,
                "{p:?}"
            );
        }
        assert_eq!(sc.svg.matches(r#"data-testid="compare-point""#).count(), 3);
        assert!(
            sc.svg.contains("compare-frontier")
                && sc.svg.contains("compare-twin")
                && sc.svg.contains("compare-chance")
        );
    }

    #[test]
    fn pseudo_perplexity_never_shares_the_perplexity_axis() {
        let mut bert = run("bert", 0, 0.0, 0.9);
        if let Some(s) = bert.summary.as_deref_mut() {
            s.evaluation.gen_ppl = None;
            s.evaluation.gen_pppl = Some(12.0);
        }
        let mut gpt = run("gpt", 0, 0.1, 0.7);
        if let Some(s) = gpt.summary.as_deref_mut() {
            s.evaluation.gen_ppl = Some(40.0);
        }
        let mut t5 = run("t5", 0, 0.1, 0.6);
        if let Some(s) = t5.summary.as_deref_mut() {
            s.evaluation.gen_ppl = Some(20.0);
        }
        let sc = build(
            &[bert, gpt, t5],
            ScatterSpec {
                generation: GenAxis::Perplexity,
                ..ScatterSpec::default()
            },
        );
        assert_eq!(
            sc.points.iter().map(|p| p.mix.as_str()).collect::<Vec<_>>(),
            ["gpt (clm)", "t5 (span)"]
        );
        assert!(
            sc.left_out[0].starts_with("bert (mlm+nsp): no conditional perplexity"),
            "{:?}",
            sc.left_out
        );
        // Lower perplexity is drawn to the right.
        assert!(sc.points[1].cx > sc.points[0].cx);
    }

    #[test]
    fn log_ticks_are_bounded_and_a_narrow_range_still_gets_labels() {
        let narrow = log_ticks(25f64.log10(), 40f64.log10());
        assert!(
            narrow.len() >= 2 && narrow.iter().all(|t| (25.0..=40.0).contains(t)),
            "{narrow:?}"
        );
        assert_eq!(
            log_ticks(0.0, 2.0),
            [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert!(log_ticks(0.0, 400.0).len() < 60, "an absurd range ends");
        // Each point's untrained twin is its own marker.
        let sc = build(
            &[run("gpt", 0, 0.1, 0.7), run("bert", 0, 0.0, 0.9)],
            ScatterSpec {
                kind: PairKind::Random,
                ..ScatterSpec::default()
            },
        );
        assert_eq!(sc.points[0].twin, Some(0.6));
        assert_eq!(sc.svg.matches(r#"data-testid="compare-twin""#).count(), 2);
    }

    #[test]
    fn labels_of_points_close_together_do_not_overlap() {
        let point = |cx: f64, cy: f64| Point {
            mix: String::new(),
            n: 1,
            x: 0.0,
            y: 0.0,
            x_err: 0.0,
            y_err: 0.0,
            twin: None,
            cx,
            cy,
            frontier: false,
        };
        let points = [
            point(100.0, 200.0),
            point(100.0, 202.0),
            point(101.0, 199.0),
            point(600.0, 200.0),
        ];
        let y = label_positions(&points);
        for a in 0..3 {
            for b in 0..3 {
                if a != b {
                    assert!((y[a] - y[b]).abs() >= 17.0 - 1e-9, "{y:?}");
                }
            }
        }
        assert_eq!(y[3], 190.0, "a point far away keeps its place");
    }

    #[test]
    fn flagged_runs_make_no_point_and_an_empty_panel_says_so() {
        let mut other = run("gpt", 0, 0.1, 0.7);
        if let Some(s) = other.summary.as_deref_mut() {
            s.corpus_fingerprint = Some("elsewhere".into());
        }
        let sc = build(
            &[run("bert", 0, 0.0, 0.9), run("bert", 1, 0.0, 0.9), other],
            ScatterSpec::default(),
        );
        assert_eq!(sc.points.len(), 1);
        let empty = build(&[], ScatterSpec::default());
        assert!(empty.points.is_empty() && empty.svg.contains("No evaluated run"));
        assert_eq!(xml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}

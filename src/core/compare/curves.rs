//! Learning curves of chosen runs, overlaid against original-text tokens, training FLOPs or
//! training time — so "equal text" and "equal compute" can both be seen (Clark et al. 2020,
//! ELECTRA, Figure 3, plots GLUE against pre-training FLOPs for the same reason). Losses of
//! different objectives are different numbers, so the shared y axis is each run's gain over
//! knowing only word frequencies on the positions it is scored on (its validation loss on the
//! corrupted positions against the unigram baseline of those positions, in nats per token);
//! a run's own training loss is offered too, labelled as not comparable across objectives.
//! Time is the run's training time spread evenly over its steps (the record keeps the total).

use serde::{Deserialize, Serialize};

use crate::core::viz::palette::SERIES;

use super::PanelRun;
use super::scatter::xml;
use crate::core::summary::RunSummary;

/// The x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveX {
    Tokens,
    Flops,
    Seconds,
}

/// The y axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveY {
    /// Word-frequency baseline minus validation loss on the corrupted positions (higher is
    /// better), at each evaluation.
    Gain,
    /// The run's own training loss at every step.
    TrainLoss,
}

/// One run's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// The drawn picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    pub series: Vec<Series>,
    /// Runs with no point on this y axis, and why.
    pub left_out: Vec<String>,
    pub svg: String,
}

fn x_of(s: &RunSummary, step: usize, tokens: u64, axis: CurveX) -> f64 {
    match axis {
        CurveX::Tokens => tokens as f64,
        CurveX::Flops => step as f64 * s.flops_per_step,
        CurveX::Seconds => step as f64 * s.train_s / s.steps.max(1) as f64,
    }
}

/// The series of `runs[i]` for each chosen `i`.
pub fn series(
    runs: &[PanelRun],
    chosen: &[usize],
    x: CurveX,
    y: CurveY,
) -> (Vec<Series>, Vec<String>) {
    let mut out = Vec::new();
    let mut left_out = Vec::new();
    for &i in chosen {
        let Some(run) = runs.get(i) else { continue };
        let label = format!("{} · seed {}", run.label(), run.seed);
        let Some(s) = run.summary.as_deref() else {
            left_out.push(format!("{label}: failed, no curve"));
            continue;
        };
        let points: Vec<(f64, f64)> = s
            .curve
            .iter()
            .filter_map(|p| {
                let v = match y {
                    CurveY::Gain => match (p.val_loss_corrupted, p.val_baseline) {
                        (Some(l), Some(b)) => Some(f64::from(b) - f64::from(l)),
                        _ => None,
                    },
                    CurveY::TrainLoss => p.train_token_loss.or(Some(p.train_loss)).map(f64::from),
                };
                v.filter(|v| v.is_finite())
                    .map(|v| (x_of(s, p.step, p.tokens, x), v))
                    .filter(|(x, _)| x.is_finite())
            })
            .collect();
        if points.is_empty() {
            left_out.push(format!(
                "{label}: no token loss to compare (a pair objective alone)"
            ));
        } else {
            out.push(Series { label, points });
        }
    }
    (out, left_out)
}

const W: f64 = 720.0;
const H: f64 = 400.0;

/// Lays the chosen runs' curves out and writes the SVG.
pub fn build(runs: &[PanelRun], chosen: &[usize], x: CurveX, y: CurveY) -> Curves {
    use std::fmt::Write;
    let (series, left_out) = series(runs, chosen, x, y);
    let (l, r, t, b) = (84.0, W - 180.0, 24.0, H - 60.0);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = all().fold((0.0f64, f64::NEG_INFINITY), |(a, c), p| {
        (a.min(p.0), c.max(p.0))
    });
    let (y0, y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), p| {
        (a.min(p.1), c.max(p.1))
    });
    let (y0, y1) = if y0.is_finite() {
        (y0.min(0.0), y1.max(y0 + 0.1))
    } else {
        (0.0, 1.0)
    };
    let x1 = if x1.is_finite() && x1 > x0 {
        x1
    } else {
        x0 + 1.0
    };
    let px = |v: f64| l + (v - x0) / (x1 - x0) * (r - l);
    let py = |v: f64| t + (1.0 - (v - y0) / (y1 - y0)) * (b - t);
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="system-ui, sans-serif" font-size="15" data-testid="compare-curves-svg"><rect width="100%" height="100%" fill="#fff"/><rect x="{l}" y="{t}" width="{:.1}" height="{:.1}" fill="none" stroke="#555"/>"##,
        r - l,
        b - t
    );
    if series.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">Tick runs in the table to draw their curves.</text></svg>"##,
            (l + r) / 2.0,
            (t + b) / 2.0
        );
        return Curves {
            series,
            left_out,
            svg: s,
        };
    }
    for i in 0..=4 {
        let v = y0 + (y1 - y0) * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{r}" y1="{0:.1}" y2="{0:.1}" stroke="#e3e3e3"/><text x="{1:.1}" y="{2:.1}" text-anchor="end">{v:.2}</text>"##,
            py(v),
            l - 8.0,
            py(v) + 5.0
        );
        let xv = x0 + (x1 - x0) * f64::from(i) / 4.0;
        let label = match x {
            CurveX::Tokens => format!("{:.0}k", xv / 1e3),
            CurveX::Flops => format!("{:.1e}", xv),
            CurveX::Seconds => format!("{xv:.0} s"),
        };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            px(xv),
            b + 20.0
        );
    }
    if y0 < 0.0 && y1 > 0.0 && y == CurveY::Gain {
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{r}" y1="{0:.1}" y2="{0:.1}" stroke="#444" stroke-dasharray="2 4"/><text x="{1:.1}" y="{2:.1}" text-anchor="end" fill="#444">word frequencies</text>"##,
            py(0.0),
            r - 6.0,
            py(0.0) - 6.0
        );
    }
    for (i, se) in series.iter().enumerate() {
        let c = SERIES[i % SERIES.len()];
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.0), py(p.1)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline data-testid="compare-curve" data-label="{0}" points="{1}" fill="none" stroke="{c}" stroke-width="2"/><text x="{2:.1}" y="{3:.1}" fill="{c}">{0}</text>"#,
            xml(&se.label),
            pts.join(" "),
            r + 8.0,
            t + 18.0 + 20.0 * i as f64
        );
    }
    let xl = match x {
        CurveX::Tokens => "original-text tokens",
        CurveX::Flops => "training FLOPs (padding included)",
        CurveX::Seconds => "training seconds (spread evenly over steps)",
    };
    let yl = match y {
        CurveY::Gain => "nats/token below word frequencies",
        CurveY::TrainLoss => "training loss (each objective's own)",
    };
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="600">{xl}</text><text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle" font-weight="600">{yl}</text></svg>"#,
        (l + r) / 2.0,
        H - 14.0,
        (t + b) / 2.0
    );
    Curves {
        series,
        left_out,
        svg: s,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn curves_follow_the_chosen_axis_and_pair_only_runs_are_left_out() {
        let mut nsp = run("nsp", 0, 0.0, 0.6);
        if let Some(s) = nsp.summary.as_deref_mut() {
            for p in &mut s.curve {
                p.val_loss_corrupted = None;
            }
        }
        let runs = vec![run("gpt", 0, 0.1, 0.7), nsp];
        let c = build(&runs, &[0, 1], CurveX::Tokens, CurveY::Gain);
        assert_eq!(c.series.len(), 1);
        assert_eq!(c.series[0].points, [(20000.0, 5.0 - 4.1f32 as f64)]);
        assert!(c.left_out[0].starts_with("nsp · seed 0"));
        let flops = series(&runs, &[0], CurveX::Flops, CurveY::TrainLoss).0;
        assert_eq!(flops[0].points, [(1e9, 6.0), (1e10, 4.0)]);
        let secs = series(&runs, &[0], CurveX::Seconds, CurveY::TrainLoss).0;
        assert_eq!(secs[0].points[1].0, 10.0);
        assert_eq!(c.svg.matches("compare-curve\"").count(), 1);
        let empty = build(&runs, &[], CurveX::Tokens, CurveY::Gain);
        assert!(empty.svg.contains("Tick runs") && empty.svg.ends_with("</svg>"));
    }
}

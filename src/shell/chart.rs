//! The live loss curve: training loss per step, validation loss at each evaluation, and the
//! unigram entropy — what knowing only word frequencies achieves — as a dashed baseline.
//! Plain SVG; the geometry is a pure function so it is cheap to redraw every step.

use leptos::prelude::*;

use super::app::RunView;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;
/// Most points drawn for the training curve; longer curves are thinned evenly.
const MAX_POINTS: usize = 600;

/// Maps steps and losses to pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    max_step: f64,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn x(&self, step: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (step / self.max_step.max(1.0))
    }
    fn y(&self, loss: f64) -> f64 {
        let span = (self.hi - self.lo).max(1e-6);
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (loss - self.lo) / span)
    }
}

fn scale(
    train: &[(usize, f32)],
    val: &[(usize, f32)],
    baseline: Option<f64>,
    planned: usize,
) -> Scale {
    let values = train
        .iter()
        .chain(val)
        .map(|(_, l)| f64::from(*l))
        .chain(baseline)
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(hi - 0.5).max(0.0), hi + 0.1)
    } else {
        (0.0, 8.0)
    };
    let last = train
        .last()
        .map_or(0, |p| p.0)
        .max(val.last().map_or(0, |p| p.0));
    Scale {
        max_step: planned.max(last).max(1) as f64,
        lo: (lo * 2.0).floor() / 2.0,
        hi: (hi * 2.0).ceil() / 2.0,
    }
}

fn polyline(points: &[(usize, f32)], s: Scale) -> String {
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

fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    let step = [0.25, 0.5, 1.0, 2.0, 5.0]
        .into_iter()
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + 1e-9 {
        out.push(v);
        v += step;
    }
    out
}

#[component]
pub fn LossChart() -> impl IntoView {
    let view = expect_context::<RunView>();
    let geometry = Memo::new(move |_| {
        let train = view.train_curve.get();
        let val = view.val_curve.get();
        let ready = view.ready.get();
        let baseline = ready.as_ref().map(|r| r.unigram_entropy);
        let s = scale(
            &train,
            &val,
            baseline,
            ready.as_ref().map_or(0, |r| r.planned_steps),
        );
        (s, polyline(&train, s), val, baseline)
    });
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="loss curve" data-testid="loss-chart">
                {move || {
                    let (s, _, _, _) = geometry.get();
                    ticks(s.lo, s.hi).into_iter().map(|t| view! {
                        <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=s.y(t) y2=s.y(t)/>
                        <text class="tick" x=LEFT - 6.0 y=s.y(t) + 4.0 text-anchor="end">{format!("{t:.1}")}</text>
                    }).collect_view()
                }}
                <text class="axis" x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">"optimizer step"</text>
                <text class="tick" x=LEFT y=HEIGHT - BOTTOM + 16.0 text-anchor="start">"0"</text>
                <text class="tick" x=WIDTH - RIGHT y=HEIGHT - BOTTOM + 16.0 text-anchor="end">
                    {move || format!("{:.0}", geometry.get().0.max_step)}
                </text>
                {move || geometry.get().3.map(|b| {
                    let s = geometry.get().0;
                    view! {
                        <line class="baseline" x1=LEFT x2=WIDTH - RIGHT y1=s.y(b) y2=s.y(b)/>
                        <text class="baseline-label" x=WIDTH - RIGHT - 4.0 y=s.y(b) - 5.0 text-anchor="end">
                            {format!("word-frequency baseline {b:.2}")}
                        </text>
                    }
                })}
                <polyline class="train-line" points=move || geometry.get().1/>
                {move || {
                    let (s, _, val, _) = geometry.get();
                    val.into_iter().map(|(step, loss)| view! {
                        <circle class="val-dot" cx=s.x(step as f64) cy=s.y(f64::from(loss)) r="3.5"/>
                    }).collect_view()
                }}
            </svg>
            <figcaption>
                <span class="key train-key">"training loss"</span>
                <span class="key val-key">"validation loss"</span>
                <span class="key base-key">"unigram entropy (nats/token)"</span>
            </figcaption>
        </figure>
    }
}

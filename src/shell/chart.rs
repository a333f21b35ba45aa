//! The live loss curve, drawn from [`crate::core::chart::layout`]: the token objective's
//! training loss per step, its validation loss on the positions it hid with word frequencies on
//! those positions dashed, and for NSP/SOP the pair head's loss with chance (ln 2) dotted.
//! Plain SVG; everything it shows is computed (and tested) in the core.

use leptos::prelude::*;

use super::app::RunView;
use crate::core::chart::{BOTTOM, ChartData, HEIGHT, LEFT, RIGHT, WIDTH, layout};

#[component]
pub fn LossChart() -> impl IntoView {
    let view = expect_context::<RunView>();
    let geometry = Memo::new(move |_| {
        let ready = view.ready.get();
        layout(&ChartData {
            train_tokens: view.train_curve.get(),
            train_pairs: view.train_pair_curve.get(),
            val_tokens: view.val_curve.get(),
            val_pairs: view.val_pair_curve.get(),
            baseline: view.val_baseline.get(),
            pairs: !view.train_pair_curve.get().is_empty() || !view.val_pair_curve.get().is_empty(),
            planned_steps: ready.as_ref().map_or(0, |r| r.planned_steps),
        })
    });
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label="loss curve" data-testid="loss-chart">
                {move || geometry.get().ticks.into_iter().map(|(y, label)| view! {
                    <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y/>
                    <text class="tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                }).collect_view()}
                <text class="axis" x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">"optimizer step"</text>
                <text class="tick" x=LEFT y=HEIGHT - BOTTOM + 16.0 text-anchor="start">"0"</text>
                <text class="tick" x=WIDTH - RIGHT y=HEIGHT - BOTTOM + 16.0 text-anchor="end">
                    {move || geometry.get().max_step.to_string()}
                </text>
                {move || geometry.get().baseline.map(|b| view! {
                    <line class="baseline" data-testid="chart-baseline" x1=LEFT x2=WIDTH - RIGHT y1=b.y y2=b.y/>
                    <text class="baseline-label" x=WIDTH - RIGHT - 4.0 y=b.y - 5.0 text-anchor="end">{b.label}</text>
                })}
                {move || geometry.get().chance.map(|c| view! {
                    <line class="chance" x1=LEFT x2=WIDTH - RIGHT y1=c.y y2=c.y/>
                    <text class="baseline-label" x=LEFT + 4.0 y=c.y - 5.0 text-anchor="start">{c.label}</text>
                })}
                <polyline class="train-line" points=move || geometry.get().train_tokens/>
                <polyline class="pair-line" points=move || geometry.get().train_pairs/>
                {move || geometry.get().val_tokens.into_iter().map(|(x, y)| view! {
                    <circle class="val-dot" cx=x cy=y r="3.5"/>
                }).collect_view()}
                {move || geometry.get().val_pairs.into_iter().map(|(x, y)| view! {
                    <rect class="pair-dot" x=x - 3.5 y=y - 3.5 width="7" height="7"/>
                }).collect_view()}
            </svg>
            <figcaption>
                <span class="key train-key">"training loss (tokens)"</span>
                <span class="key val-key">"validation, the positions the objective hid"</span>
                <span class="key base-key">"word frequencies on the same positions"</span>
                {move || (!geometry.get().train_pairs.is_empty() || !geometry.get().val_pairs.is_empty()).then(|| view! {
                    <span class="key pair-key">"pair head loss (line: training, squares: validation; dotted: chance)"</span>
                })}
            </figcaption>
        </figure>
    }
}

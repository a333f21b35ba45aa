//! Lecture mode: the tour of the lab's questions ([`crate::core::compare::tour`]) on a full
//! screen overlay in large type. Each step sets up its race in the comparison panel, or opens
//! the view it points at; arrow keys and Page Up / Page Down move through it, Escape closes.

use leptos::prelude::*;

use crate::core::compare::tour::{Look, PAPERS_MD, TOUR, papers_section};
use crate::core::viz::preview::COMPARISONS;

use super::app::RunView;

fn scroll_to(id: &str) {
    if let Some(el) = document().get_element_by_id(id) {
        el.scroll_into_view();
    }
}

/// Sends the page to what step `i` points at: its race in the box, its figure on screen.
fn show(view: RunView, i: usize) {
    let Some(step) = TOUR.get(i) else { return };
    let compare = view.compare;
    if !step.race.is_empty() {
        compare.race_mixes.set(step.race.join(","));
    }
    compare.tour.set(None);
    match step.look {
        Look::Scatter { spec } => {
            compare.scatter.set(spec);
            scroll_to("compare-scatter");
        }
        Look::Column { key } => {
            let column = crate::core::compare::table::COLUMNS
                .iter()
                .position(|c| c.key == key);
            compare
                .sort
                .set(column.map(|column| crate::core::compare::table::SortBy {
                    column,
                    descending: true,
                }));
            scroll_to("compare");
        }
        Look::Curves { x } => {
            compare.curve_x.set(x);
            scroll_to("compare-curves");
        }
        Look::SideBySide { pair } => {
            let viz = view.viz;
            viz.compare.set(Some(pair));
            viz.left.set(None);
            viz.right.set(None);
            super::viz::request_comparison(pair, viz.example.get_untracked());
            scroll_to("viz");
        }
    }
}

/// The "Lecture mode" button and the tour.
#[component]
pub fn Tour() -> impl IntoView {
    let view = expect_context::<RunView>();
    let tour = view.compare.tour;
    let last = TOUR.len() - 1;
    let go = move |delta: isize| {
        tour.update(|t| {
            if let Some(i) = t {
                *i = i.saturating_add_signed(delta).min(last);
            }
        })
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        // Not Space: it presses the focused button.
        "ArrowRight" | "PageDown" => {
            ev.prevent_default();
            go(1);
        }
        "ArrowLeft" | "PageUp" => {
            ev.prevent_default();
            go(-1);
        }
        "Escape" => tour.set(None),
        _ => {}
    };
    let dialog = NodeRef::<leptos::html::Section>::new();
    // Focus the tour when it opens, so the keys reach it.
    Effect::new(move |_| {
        if tour.get().is_some()
            && let Some(el) = dialog.get()
        {
            let _ = el.focus();
        }
    });
    let body = move || {
        tour.get().and_then(|i| TOUR.get(i).map(|step| (i, step))).map(|(i, step)| {
            let look = match step.look {
                Look::Scatter { .. } => "Show the scatter".to_string(),
                Look::Column { key } => format!("Show the table by {key}"),
                Look::Curves { .. } => "Show the learning curves".to_string(),
                Look::SideBySide { pair } => format!("Show {} side by side", COMPARISONS.get(pair).map_or("", |c| c.0)),
            };
            view! {
                <p class="tour-count">{format!("Step {} of {}", i + 1, TOUR.len())}</p>
                <h2 data-testid="tour-title">{step.title}</h2>
                <p class="tour-question">{step.question}</p>
                <p>{step.explanation}</p>
                <ul class="tour-cites">
                    {step.cites.iter().map(|c| {
                        let source = papers_section(PAPERS_MD, c.section)
                            .and_then(|s| s.lines().next())
                            .map(|h| h.trim_start_matches("## ").split_once(" — ").map_or(h, |(_, t)| t).to_string())
                            .unwrap_or_default();
                        view! { <li><strong>{source}</strong>": "{c.claim}</li> }
                    }).collect_view()}
                </ul>
                <p class="tour-lab"><strong>"In this lab: "</strong>{step.lab_figure}</p>
                <p class="tour-note"><strong>"Lecturer: "</strong>{step.lecturer_note}</p>
                <p class="tour-exercise" data-testid="tour-exercise"><strong>"Exercise: "</strong>{step.exercise}</p>
                <div class="tour-actions">
                    {(!step.race.is_empty()).then(|| view! {
                        <button class="primary" data-testid="tour-setup" on:click=move |_| {
                            show(view, i);
                        }>{format!("Set up the race: {}", step.race.join(", "))}</button>
                    })}
                    <button data-testid="tour-show" on:click=move |_| show(view, i)>{look}</button>
                </div>
            }
        })
    };
    view! {
        <button class="tour-open" data-testid="tour-open" on:click=move |_| tour.set(Some(0))>"Lecture mode"</button>
        <Show when=move || tour.get().is_some()>
            <section class="tour" data-testid="tour" role="dialog" aria-label="lecture tour" tabindex="-1"
                node_ref=dialog on:keydown=on_key data-step=move || tour.get().map_or(0, |i| i + 1)>
                <div class="tour-card">
                    {body}
                    <div class="tour-nav">
                        <button data-testid="tour-prev" disabled=move || tour.get() == Some(0) on:click=move |_| go(-1)>"← Previous"</button>
                        <button data-testid="tour-next" disabled=move || tour.get() == Some(last) on:click=move |_| go(1)>"Next →"</button>
                        <button data-testid="tour-close" on:click=move |_| tour.set(None)>"Close (Esc)"</button>
                    </div>
                </div>
            </section>
        </Show>
    }
}

//! The evaluation panel: what a run is judged on — generation (conditional perplexity or
//! pseudo-perplexity of held-out replies, with each protocol and its caveats) and pair
//! judgement per negative kind (the linear probe beside its untrained twin, and the pair
//! head's zero-shot reading). A finished run is evaluated at once; a paused one on request.
//! The rows come from the core ([`crate::core::eval::view`]); this file only draws them.

use leptos::prelude::*;

use crate::core::eval::run::RunEvaluation;
use crate::protocol::WorkerInput;

use super::app::{RunView, send};

/// An evaluation on screen: what it measured, at which step, and whether the run had ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalShown {
    pub evaluation: RunEvaluation,
    pub step: usize,
    pub last: bool,
}

#[component]
pub fn EvaluationPanel() -> impl IntoView {
    let view = expect_context::<RunView>();
    let evaluating = move || view.evaluating.get().is_some();
    let can_evaluate = move || {
        view.ready.get().is_some()
            && !view.running.get()
            && view.step.get() > 0
            && !evaluating()
            && view.ready.get().is_some_and(|r| r.loaded_from.is_none())
    };
    let progress = move || {
        view.evaluating.get().map(|(done, total, what)| {
            view! {
                <p class="eval-progress" data-testid="eval-progress">
                    {format!("Evaluating ({} of {total}): {what}…", done + 1)}
                    " "
                    <button data-testid="eval-cancel"
                        on:click=move |_| { send(&WorkerInput::CancelEvaluation); }>
                        "Cancel"
                    </button>
                </p>
            }
        })
    };
    let message = move || {
        view.eval_message
            .get()
            .map(|m| view! { <p class="note" data-testid="eval-message">{m}</p> })
    };
    let shown = move || {
        view.evaluation.get().map(|shown| {
            let v = shown.evaluation.view();
            let when = if shown.last {
                format!("after the run (step {})", shown.step)
            } else {
                format!("mid-run, at step {}", shown.step)
            };
            view! {
                <div data-testid="eval-results">
                    <p class="note" data-testid="eval-when">{when}</p>
                    <h3>"Generation: held-out replies"</h3>
                    <dl class="facts">
                        {v.generation.into_iter().map(|g| view! {
                            <dt>{g.label}</dt>
                            <dd>
                                <span data-testid=g.id>{g.value}</span>
                                {g.notes.into_iter().map(|n| view! {
                                    <span class="eval-note">{n}</span>
                                }).collect_view()}
                            </dd>
                        }).collect_view()}
                    </dl>
                    <h3>"Pair judgement: is B the right follow-up to A?"</h3>
                    <table class="eval-pairs">
                        <thead><tr><th></th><th>"random"</th><th>"hard"</th><th>"swapped"</th></tr></thead>
                        <tbody>
                            {v.pairs.into_iter().map(|row| {
                                let id = row.id;
                                view! {
                                    <tr>
                                        <th>{row.label}</th>
                                        {row.cells.into_iter().map(|c| {
                                            let testid = format!("{id}-{}", c.kind.name());
                                            let flagged = c.flag.is_some();
                                            view! {
                                                <td data-testid=testid class:flagged=flagged>
                                                    {c.text}
                                                    {c.flag.map(|f| view! { <span class="eval-flag">{f}</span> })}
                                                </td>
                                            }
                                        }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="note" data-testid="eval-sizes">{v.sizes}</p>
                    <p class="note">
                        "The papers fine-tune; the lab freezes the network and fits only a linear \
                         probe, so these figures measure what pre-training put in the features."
                    </p>
                </div>
            }
        })
    };
    move || {
        view.ready.get().map(|_| {
            view! {
                <div class="evaluation" data-testid="evaluation">
                    <h2>"Evaluation"</h2>
                    <button data-testid="eval-run" disabled=move || !can_evaluate()
                        on:click=move |_| {
                            view.eval_message.set(None);
                            view.evaluating.set(Some((0, 1, "starting".into())));
                            send(&WorkerInput::Evaluate);
                        }>
                        "Evaluate now"
                    </button>
                    {progress}
                    {message}
                    {shown}
                </div>
            }
        })
    }
}

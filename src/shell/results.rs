//! The results of a finished (or loaded) run, read from its [`RunSummary`]: the validation
//! loss against the word-frequency baseline, each objective's part, the loss on corrupted
//! positions only, the pair head's accuracy, and what each step supervised and cost. The
//! summary itself can be downloaded as `run.json`, the same record the CLI writes.

use leptos::prelude::*;

use crate::core::summary::RunSummary;

use super::app::RunView;

thread_local! {
    /// The object URL of the summary on screen, revoked when another replaces it.
    static HREF: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// `run.json` as a link to a `Blob` in the page (nothing leaves it). Not a `data:` URL:
/// Chromium caps those at 2 MB, and a long run's curve can be larger.
fn download_href(summary: &RunSummary) -> String {
    let json = serde_json::to_string_pretty(summary).unwrap_or_default();
    let href = web_sys::Blob::new_with_str_sequence(&js_sys::Array::of1(&json.into()))
        .and_then(|blob| web_sys::Url::create_object_url_with_blob(&blob))
        .unwrap_or_default();
    HREF.with(|h| {
        if let Some(old) = h.borrow_mut().replace(href.clone()) {
            let _ = web_sys::Url::revoke_object_url(&old);
        }
    });
    href
}

/// `v` to three decimals, or `–` where it was not measured (NaN: a pair-only run has no token
/// loss) or diverged.
fn nats(v: impl Into<f64>) -> String {
    let v = v.into();
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "–".into()
    }
}

fn rows(summary: &RunSummary) -> Vec<(&'static str, &'static str, String)> {
    let mut rows = vec![(
        "validation loss",
        "result-val-loss",
        format!(
            "{} → {} nats/token",
            nats(summary.initial_val_loss),
            nats(summary.final_val_loss)
        ),
    )];
    if summary.val_loss_components.len() > 1 {
        let parts: Vec<String> = summary
            .val_loss_components
            .iter()
            .map(|(name, loss)| format!("{name} {}", nats(*loss)))
            .collect();
        rows.push(("per objective", "result-components", parts.join(" · ")));
    }
    if let (Some(loss), Some(unigram)) = (
        summary.val_loss_corrupted,
        summary.unigram_entropy_corrupted,
    ) {
        let margin = unigram - f64::from(loss);
        let se = summary.unigram_margin_se.map_or(f64::NAN, f64::from);
        let verdict = if margin > 2.0 * se {
            format!(
                "{margin:.3} below word frequencies, more than twice its standard error ({})",
                nats(se)
            )
        } else if margin > 0.0 {
            format!(
                "{margin:.3} below word frequencies, within noise (standard error {})",
                nats(se)
            )
        } else {
            format!("not below word frequencies ({:.3} above)", -margin)
        };
        rows.push((
            "positions the objective hid",
            "result-corrupted",
            format!(
                "{loss:.3} ± {} nats/token on {} validation positions; word frequencies on the same \
                 positions {unigram:.3}: {verdict}",
                nats(summary.val_loss_corrupted_se.unwrap_or(f32::NAN)),
                summary.eval_positions.unwrap_or(0)
            ),
        ));
    }
    if let Some(accuracy) = summary.val_pair_accuracy {
        rows.push((
            "pair accuracy",
            "result-pair-accuracy",
            format!(
                "{:.1}% ± {} on {} held-out pairs (chance 50%)",
                f64::from(accuracy) * 100.0,
                summary
                    .val_pair_accuracy_se
                    .filter(|se| se.is_finite())
                    .map_or("–".into(), |se| format!("{:.1}", se * 100.0)),
                summary.eval_pairs.unwrap_or(0)
            ),
        ));
    }
    rows.push((
        "each step",
        "result-per-step",
        format!(
            "{} sequences · {:.0} supervised tokens · {:.2} GFLOP · {:.1}% padding",
            summary.batch_size,
            summary.supervised_tokens_per_step,
            summary.flops_per_step / 1e9,
            summary.padding_share * 100.0
        ),
    ));
    if let (Some(lr), Some(schedule)) = (summary.peak_lr, summary.schedule) {
        rows.push((
            "rate",
            "result-recipe",
            format!("peak {lr:e}, {} schedule", schedule.name()),
        ));
    }
    rows.push((
        "trained",
        "result-trained",
        format!(
            "{} tokens in {} steps · {:.1} s of training on {}",
            summary.tokens, summary.steps, summary.train_s, summary.backend_label
        ),
    ));
    rows
}

/// The results table, shown once a run has a summary.
#[component]
pub fn Results() -> impl IntoView {
    let view = expect_context::<RunView>();
    move || {
        view.summary.get().map(|summary| {
            let href = download_href(&summary);
            let file = format!(
                "run-{}.json",
                summary.preset.as_deref().unwrap_or(&summary.mix)
            );
            view! {
                <div class="results" data-testid="run-results">
                    <h2>"Results"</h2>
                    <dl class="facts">
                        {rows(&summary).into_iter().map(|(label, id, value)| view! {
                            <dt>{label}</dt><dd data-testid=id>{value}</dd>
                        }).collect_view()}
                    </dl>
                    <a class="download" data-testid="download-summary" href=href download=file>
                        "Download the run summary (run.json)"
                    </a>
                </div>
            }
        })
    }
}

//! The corpus panel: what the run trains on (statistics, sample documents, one example of each
//! pair kind, the fingerprint), a tokenizer view that splits a typed sentence, and the way to
//! bring your own text — pasted or uploaded, checked by the worker, never sent anywhere.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;

use crate::core::corpus::custom::{self, MAX_BYTES};
use crate::core::corpus::{CorpusInput, Document, EvalPair, Genre, PairKind};
use crate::protocol::WorkerInput;

use super::app::{RunView, send};

fn genre_label(genre: Genre) -> &'static str {
    match genre {
        Genre::Ticket => "ticket",
        Genre::Resolution => "resolution",
        Genre::Article => "help article",
        Genre::Question => "FAQ question",
        Genre::Answer => "answer",
        Genre::Text => "your text",
    }
}

fn kind_label(kind: PairKind) -> &'static str {
    match kind {
        PairKind::Random => "random: B from an unrelated document",
        PairKind::Hard => "hard: same topic, wrong match",
        PairKind::Swapped => "swapped: the right texts in the wrong order",
    }
}

/// Longest own text the box shows, in bytes. A longer paste is held beside the box instead:
/// Chromium lays out a textarea's whole text again whenever the page around it changes, and
/// megabytes of short lines (a million of them) made every training step's redraw take a
/// second or more, so Pause and the tokenizer view stopped answering.
const SHOWN_MAX_BYTES: usize = 100_000;

/// `4.8 MB`, `120 KB`.
fn size_label(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.0} KB", bytes as f64 / 1e3)
    }
}

/// Offers `input` to the worker; the answer is `CorpusAccepted` or `CorpusRejected`.
fn offer(view: RunView, input: CorpusInput) {
    view.corpus_message.set(None);
    view.pending_corpus.set(Some(input.clone()));
    send(&WorkerInput::UseCorpus(input));
}

/// Reads an uploaded file, checks that it is UTF-8 text of an acceptable size, and offers it.
async fn read_upload(view: RunView, file: web_sys::File) {
    let name = file.name();
    if file.size() > MAX_BYTES as f64 {
        view.corpus_message.set(Some(
            custom::CustomTextError::TooLarge {
                bytes: file.size() as usize,
                cap: MAX_BYTES,
            }
            .to_string(),
        ));
        return;
    }
    let bytes = match JsFuture::from(file.array_buffer()).await {
        Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
        Err(e) => {
            view.corpus_message
                .set(Some(format!("The browser could not read {name}: {e:?}")));
            return;
        }
    };
    match custom::decode(&bytes) {
        Ok(text) => offer(view, CorpusInput::Custom { name, text }),
        Err(e) => view.corpus_message.set(Some(e.to_string())),
    }
}

#[component]
pub fn CorpusPanel() -> impl IntoView {
    let view = expect_context::<RunView>();
    let pasted = RwSignal::new(String::new());
    // A text too long to show: its size and line count, computed once per change.
    let held = Memo::new(move |_| {
        pasted.with(|t| (t.len() > SHOWN_MAX_BYTES).then(|| (t.len(), t.lines().count())))
    });
    // A large paste goes straight to `pasted` and never into the box.
    let on_paste = move |ev: web_sys::ClipboardEvent| {
        let text = ev
            .clipboard_data()
            .and_then(|data| data.get_data("text/plain").ok())
            .unwrap_or_default();
        if text.len() > SHOWN_MAX_BYTES {
            ev.prevent_default();
            pasted.set(text);
        }
    };
    let typed = RwSignal::new(String::from("Hi Maria, your refund is on its way 🚀"));
    let on_file = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            wasm_bindgen_futures::spawn_local(read_upload(view, file));
        }
    };
    let tokenize = move || {
        send(&WorkerInput::Tokenize {
            text: typed.get_untracked(),
        });
    };
    // Split the example sentence as soon as a tokenizer exists.
    Effect::new(move |_| {
        if view.ready.get().is_some() {
            tokenize();
        }
    });
    let is_custom = move || matches!(view.settings.get().corpus, CorpusInput::Custom { .. });
    view! {
        <section id="corpus" class="panel corpus-panel">
            <h2>"Corpus"</h2>
            <p class="corpus-source" data-testid="corpus-source">
                {move || view.corpus.get().map_or("Building the corpus…".to_string(), |c| format!("Training on {}.", c.description))}
            </p>
            <div class="corpus-grid">
                <CorpusStatsView/>
                <TextSplitting/>
                <AuditView/>
                <SampleDocuments/>
                <PairExamples/>
            </div>
            <div class="corpus-tools">
                <div class="own-text">
                    <h3>"Use your own text"</h3>
                    <p class="hint">
                        "Paste or upload plain UTF-8 text (any language, up to 5 MB). It is split into sentences and documents (blank lines separate documents), into train / validation / test, and into the same pair sets. It never leaves this page."
                    </p>
                    <textarea data-testid="corpus-text" rows="5"
                        placeholder="Paste a few paragraphs here…"
                        prop:value=move || if held.get().is_some() { String::new() } else { pasted.get() }
                        on:paste=on_paste
                        on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
                    {move || held.get().map(|(bytes, lines)| view! {
                        <p class="held-text" data-testid="corpus-held">
                            {format!("Holding {} of pasted text ({lines} lines), too long to show in the box without slowing the page. ", size_label(bytes))}
                            <button data-testid="corpus-clear" on:click=move |_| pasted.set(String::new())>"Clear"</button>
                        </p>
                    })}
                    <div class="own-text-actions">
                        <button data-testid="corpus-use"
                            disabled=move || pasted.with(|t| t.trim().is_empty())
                            on:click=move |_| offer(view, CorpusInput::Custom {
                                name: "pasted text".into(),
                                text: pasted.get_untracked(),
                            })>"Use this text"</button>
                        <label class="file-button">"Upload a .txt file"
                            <input type="file" accept=".txt,text/plain" data-testid="corpus-file" on:change=on_file/>
                        </label>
                        <button data-testid="corpus-builtin" disabled=move || !is_custom()
                            on:click=move |_| offer(view, CorpusInput::Support)>
                            "Back to the support-desk corpus"</button>
                    </div>
                    <p class="error" data-testid="corpus-message" role="alert">{move || view.corpus_message.get()}</p>
                </div>
                <div class="tokenizer-view">
                    <h3>"Tokenizer"</h3>
                    <p class="hint">"Byte-level BPE trained on this corpus's training split. Type to see how text splits into tokens (␣ is a space; ⟨…⟩ are bytes of a character split across tokens)."</p>
                    <input type="text" data-testid="tokenizer-input"
                        prop:value=move || typed.get()
                        on:input=move |ev| { typed.set(event_target_value(&ev)); tokenize(); }/>
                    <div class="token-chips" data-testid="tokenizer-output">
                        {move || view.token_view.get().map(|(_, pieces)| {
                            let count = pieces.len();
                            view! {
                                <span class="token-count">{format!("{count} tokens")}</span>
                                {pieces.into_iter().map(|p| view! {
                                    <span class="chip" title=format!("id {}", p.id)>{p.text}</span>
                                }).collect_view()}
                            }
                        })}
                    </div>
                </div>
            </div>
            <p class="fingerprint">"Fingerprint (SHA-256 of corpus, pair sets and vocabulary): "
                <code data-testid="corpus-fingerprint">{move || view.fingerprint.get().unwrap_or_else(|| "computing…".into())}</code>
            </p>
        </section>
    }
}

/// How a student's text was cut into sentences: the rules, what they did to its line breaks,
/// and its first sentences as split.
#[component]
fn TextSplitting() -> impl IntoView {
    let view = expect_context::<RunView>();
    move || {
        view.corpus.get().and_then(|c| c.splitting).map(|sp| {
            let r = sp.report;
            let width = r.wrap_width.map_or_else(
                || "not hard-wrapped".to_string(),
                |w| format!("hard-wrapped at about {w} characters"),
            );
            view! {
                <details class="text-splitting" data-testid="text-splitting" open>
                    <summary>"How your text was split into sentences"</summary>
                    <p class="hint">{sp.rules}</p>
                    <p data-testid="splitting-report">{format!(
                        "Your text is {width}: {} line breaks joined inside paragraphs; {} kept for lists, headings and rules; {} code lines kept as they are; {} kept after short lines.",
                        r.joined, r.kept_structure, r.kept_code, r.kept_short
                    )}</p>
                    <ol class="split-sentences" data-testid="split-sentences">
                        {sp.first_sentences.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                    </ol>
                </details>
            }
        })
    }
}

/// The shortcut audit: can a classifier predict a labelled set's label from features the
/// pipeline makes (artifact) or from the text's surface, without reading for coherence?
#[component]
fn AuditView() -> impl IntoView {
    let view = expect_context::<RunView>();
    move || {
        view.audit.get().map(|(lines, done)| {
            view! {
                <details class="audit" data-testid="corpus-audit">
                    <summary>{if done { "Shortcut audit" } else { "Shortcut audit (running…)" }}</summary>
                    <p class="hint">{format!(
                        "Each labelled set is read by two logistic regressions trained on its own kind of items and scored on held-out ones. \
                         Artifact: features the pipeline makes (token forms, whitespace, padding, truncation) — must stay at chance, at most {:.2}. \
                         Surface: the text's own first and last words, lengths, punctuation, greetings — a baseline a trained model has to beat.",
                        crate::core::audit::ARTIFACT_LIMIT
                    )}</p>
                    <table data-testid="audit-table">
                        <thead><tr><th>"split"</th><th>"set"</th><th>"artifact"</th><th>"surface"</th><th>"held out"</th></tr></thead>
                        <tbody>
                            {lines.into_iter().map(|l| {
                                let ok = l.passes();
                                view! {
                                    <tr class:audit-fail=!ok>
                                        <td>{l.split.clone()}</td><td>{l.set.clone()}</td>
                                        <td>{format!("{:.3}{}", l.artifact, if ok { "" } else { " ✗" })}</td>
                                        <td>{format!("{:.3}", l.surface)}</td>
                                        <td>{l.held_out}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            }
        })
    }
}

#[component]
fn CorpusStatsView() -> impl IntoView {
    let view = expect_context::<RunView>();
    move || {
        view.corpus.get().map(|c| {
            let s = c.stats;
            let timing = c.timings.map(|t| {
                format!(
                    "Built in {:.0} ms; tokenizer trained and text tokenized in {:.1} s.",
                    t.corpus_ms,
                    t.tokenizer_ms / 1000.0
                )
            });
            let genres = s
                .genres
                .iter()
                .map(|(g, n)| format!("{n} {}", genre_label(*g)))
                .collect::<Vec<_>>()
                .join(" · ");
            view! {
                <div class="corpus-stats" data-testid="corpus-stats">
                    <h3>"What is in it"</h3>
                    <dl class="facts">
                        <dt>"documents"</dt><dd data-testid="corpus-documents">{s.documents}</dd>
                        <dt>"sentences"</dt><dd data-testid="corpus-sentences">{s.sentences}</dd>
                        <dt>"tokens"</dt><dd data-testid="corpus-tokens">{s.tokens}</dd>
                        <dt>"vocabulary"</dt><dd data-testid="corpus-vocabulary">{s.vocab_size}</dd>
                        <dt>"genres"</dt><dd>{genres}</dd>
                    </dl>
                    <table class="splits">
                        <thead><tr><th>"split"</th><th>"documents"</th><th>"sentences"</th><th>"tokens"</th></tr></thead>
                        <tbody>
                            {s.splits.into_iter().map(|sp| view! {
                                <tr><td>{sp.split.name()}</td><td>{sp.documents}</td><td>{sp.sentences}</td><td>{sp.tokens}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="hint" data-testid="corpus-timing">{timing}</p>
                    <p class="hint">{format!(
                        "Evaluation: {} balanced pair sets (split × kind), {} pairs each in validation.",
                        s.pair_sets.len(),
                        s.pair_sets.iter().find(|p| p.split == crate::core::corpus::Split::Validation).map_or(0, |p| p.positives + p.negatives)
                    )}</p>
                </div>
            }
        })
    }
}

fn document_view(doc: Document) -> impl IntoView {
    let case = doc.case.clone().map(|c| {
        format!(
            "{} · {} → policy {}: {}",
            c.product,
            c.circumstance.name().replace('_', " "),
            c.policy.title(),
            c.action.name()
        )
    });
    view! {
        <article class="sample-doc">
            <p class="doc-meta">{doc.id.clone()}{case.map(|c| format!(" · {c}"))}</p>
            {doc.parts.into_iter().enumerate().map(|(i, part)| view! {
                {(i > 0).then(|| view! { <span class="sep">"[SEP]"</span> })}
                <p class="doc-part"><span class="genre">{genre_label(part.genre)}</span>{part.text()}</p>
            }).collect_view()}
        </article>
    }
}

#[component]
fn SampleDocuments() -> impl IntoView {
    let view = expect_context::<RunView>();
    view! {
        <div class="corpus-samples" data-testid="corpus-samples">
            <h3>"Sample training documents"</h3>
            {move || view.corpus.get().map(|c| c.samples.into_iter().map(document_view).collect_view())}
        </div>
    }
}

fn pair_view(pair: EvalPair) -> impl IntoView {
    let verdict = if pair.label == 1 {
        "belongs (1)"
    } else {
        "does not (0)"
    };
    view! {
        <div class="pair" class:positive=pair.label == 1>
            <p class="pair-head"><span class="kind">{kind_label(pair.kind)}</span>" · "{verdict}</p>
            <p class="pair-text"><b>"A "</b>{pair.a}</p>
            <p class="pair-text"><b>"B "</b>{pair.b}</p>
        </div>
    }
}

#[component]
fn PairExamples() -> impl IntoView {
    let view = expect_context::<RunView>();
    view! {
        <div class="corpus-pairs" data-testid="corpus-pairs">
            <h3>"Reranker pairs: does B follow A?"</h3>
            {move || view.corpus.get().map(|c| c.pair_examples.into_iter().map(pair_view).collect_view())}
        </div>
    }
}

//! Choosing what the model learns: a preset (BERT, RoBERTa, ALBERT, GPT, T5, BART, XLNet) or
//! a primary objective with an optional auxiliary one and its weight, and each objective's
//! knobs with the papers' defaults. A choice is checked against the pairings the lab can
//! train before the current run is touched; an accepted one starts a fresh run and is written
//! into the URL so a lecturer can share it.

use leptos::prelude::*;

use crate::core::config::{ModelSize, ObjectiveKnobs};
use crate::core::mix::{AUX_WEIGHT_RANGE, Objective, ObjectiveMix, PRESETS};
use crate::core::objective::spec::Knob;
use crate::core::plan::{pairings, plan};
use crate::protocol::{Settings, WorkerInput};

use super::app::{RunView, send};

fn objective(name: &str) -> Option<Objective> {
    Objective::ALL.into_iter().find(|o| o.name() == name)
}

/// The mix the fields describe, in canonical form (the preset's name when one is chosen).
fn mix_text(preset: &str, primary: &str, aux: &str, weight: &str) -> Result<String, String> {
    if !preset.is_empty() {
        return Ok(preset.to_string());
    }
    let primary = objective(primary).ok_or("choose a primary objective")?;
    let auxiliary = objective(aux);
    let (low, high) = AUX_WEIGHT_RANGE;
    let aux_weight = if auxiliary.is_some() {
        weight
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|w| w.is_finite() && (low..=high).contains(w))
            .ok_or_else(|| {
                format!(
                    "the auxiliary weight must be a number from {low} to {high}, got `{weight}`"
                )
            })?
    } else {
        1.0
    };
    Ok(ObjectiveMix {
        primary,
        auxiliary,
        aux_weight,
    }
    .canonical())
}

/// Sends the page to `settings`: a fresh run, and the URL that reproduces it.
pub(crate) fn apply_settings(view: RunView, settings: Settings) {
    view.settings.set(settings.clone());
    view.url_notes.set(Vec::new());
    view.clear_run();
    view.error.set(None);
    view.status
        .set(format!("Preparing a fresh run of {}…", settings.mix));
    send(&WorkerInput::Prepare(settings.clone()));
    let url = format!(
        "{}{}",
        window().location().pathname().unwrap_or_default(),
        settings.to_query()
    );
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[component]
pub fn ObjectivePicker() -> impl IntoView {
    let view = expect_context::<RunView>();
    let initial = view.settings.get_untracked();
    let (initial_mix, initial_preset) =
        ObjectiveMix::parse(&initial.mix).unwrap_or((ObjectiveMix::single(Objective::Clm), None));
    let preset = RwSignal::new(initial_preset.unwrap_or("").to_string());
    let primary = RwSignal::new(initial_mix.primary.name().to_string());
    let aux = RwSignal::new(initial_mix.auxiliary.map_or("", |a| a.name()).to_string());
    let weight = RwSignal::new(initial_mix.aux_weight.to_string());
    let knobs = RwSignal::new(initial.knobs);
    let message = RwSignal::new(None::<String>);
    // The fields follow the page's set-up when something other than this picker changes it
    // (a saved run loaded): one state, drawn one way.
    Effect::new(move |_| {
        let settings = view.settings.get();
        if let Ok((mix, name)) = ObjectiveMix::parse(&settings.mix) {
            preset.set(name.unwrap_or("").to_string());
            primary.set(mix.primary.name().to_string());
            aux.set(mix.auxiliary.map_or("", |a| a.name()).to_string());
            weight.set(mix.aux_weight.to_string());
        }
        knobs.set(settings.knobs);
    });
    // Knob fields holding a value that is out of range: the choice cannot be used until fixed.
    let knob_errors = RwSignal::new(std::collections::BTreeMap::<&'static str, String>::new());

    let on_preset = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Ok((mix, _)) = ObjectiveMix::parse(&name) {
            primary.set(mix.primary.name().to_string());
            aux.set(mix.auxiliary.map_or("", |a| a.name()).to_string());
            weight.set(mix.aux_weight.to_string());
        }
        preset.set(name);
    };
    let uses = move |o: Objective| {
        objective(&primary.get()) == Some(o) || objective(&aux.get()) == Some(o)
    };
    let submit = move |_| {
        message.set(None);
        let in_use = |key: &str| {
            Objective::ALL.into_iter().any(|o| {
                (objective(&primary.get_untracked()) == Some(o)
                    || objective(&aux.get_untracked()) == Some(o))
                    && o.spec().knobs.iter().any(|k| k.key == key)
            })
        };
        let blocking = knob_errors
            .get_untracked()
            .into_iter()
            .find(|(key, _)| in_use(key))
            .map(|(_, e)| e);
        if let Some(error) = blocking {
            message.set(Some(error));
            return;
        }
        let result = mix_text(
            &preset.get_untracked(),
            &primary.get_untracked(),
            &aux.get_untracked(),
            &weight.get_untracked(),
        )
        .and_then(|text| {
            let (mix, _) = ObjectiveMix::parse(&text).map_err(|e| e.to_string())?;
            plan(&mix).map_err(|e| e.to_string())?;
            let seq_len = view
                .ready
                .get_untracked()
                .map_or(64, |r| r.size.model().max_seq_len);
            let k: ObjectiveKnobs = knobs.get_untracked();
            k.validate(seq_len).map_err(|e| e.to_string())?;
            Ok(text)
        });
        match result {
            Ok(text) => apply_settings(
                view,
                Settings {
                    mix: text,
                    knobs: knobs.get_untracked(),
                    ..view.settings.get_untracked()
                },
            ),
            Err(e) => message.set(Some(e)),
        }
    };
    let knob = move |knob: &'static Knob| {
        let id = format!("knob-{}", knob.key.replace('_', "-"));
        let hint = format!("{}: {} ({})", knob.help, knob.range_text(), knob.paper);
        view! {
            <label class="knob" title=hint>{knob.label}
                <input type="number" step="any" data-testid=id
                    prop:value=move || knobs.get().get(knob).to_string()
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        let mut next = knobs.get_untracked();
                        match next.set_text(knob.key, &text) {
                            Ok(()) => {
                                message.set(None);
                                knob_errors.update(|e| { e.remove(knob.key); });
                                knobs.set(next);
                            }
                            Err(e) => {
                                message.set(Some(e.to_string()));
                                knob_errors.update(|errors| { errors.insert(knob.key, e.to_string()); });
                            }
                        }
                    }/>
            </label>
        }
    };
    let objective_options = move |with_none: bool| {
        let none = with_none.then(|| view! { <option value="">"none"</option> });
        view! {
            {none}
            {Objective::ALL.into_iter().map(|o| view! { <option value=o.name()>{o.name()}</option> }).collect_view()}
        }
    };
    view! {
        <details class="objective-picker" open>
            <summary>"Objective"</summary>
            <label class="field">"Preset"
                <select data-testid="mix-preset" prop:value=move || preset.get() on:change=on_preset>
                    <option value="">"custom mix"</option>
                    {PRESETS.iter().map(|(name, mix)| view! {
                        <option value=*name>{format!("{name} ({mix})")}</option>
                    }).collect_view()}
                </select>
            </label>
            <div class="mix-row">
                <label class="field">"Primary"
                    <select data-testid="mix-primary" prop:value=move || primary.get()
                        on:change=move |ev| { primary.set(event_target_value(&ev)); preset.set(String::new()); }>
                        {objective_options(false)}
                    </select>
                </label>
                <label class="field">"Auxiliary"
                    <select data-testid="mix-aux" prop:value=move || aux.get()
                        on:change=move |ev| { aux.set(event_target_value(&ev)); preset.set(String::new()); }>
                        {objective_options(true)}
                    </select>
                </label>
                <label class="field">"Weight"
                    <input type="number" step="any" min="0" data-testid="mix-weight"
                        disabled=move || aux.get().is_empty()
                        prop:value=move || weight.get()
                        on:change=move |ev| { weight.set(event_target_value(&ev)); preset.set(String::new()); }/>
                </label>
            </div>
            <div class="knobs">
                {move || Objective::ALL
                    .into_iter()
                    .filter(|&o| uses(o))
                    .flat_map(|o| o.spec().knobs.iter())
                    .map(knob)
                    .collect_view()}
            </div>
            <button data-testid="mix-apply" on:click=submit>"Use this objective"</button>
            <p class="error" data-testid="mix-message" role="alert">{move || message.get()}</p>
            <details class="pairings">
                <summary>"Which pairings train, and how"</summary>
                <table>
                    <thead><tr><th>"mix"</th><th>"network"</th><th>"how"</th></tr></thead>
                    <tbody>
                        {pairings().into_iter().map(|p| view! {
                            <tr><td>{p.mixes}</td><td>{p.network}</td><td>{p.how}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="hint">"Any other pairing is refused with its reason."</p>
            </details>
            <details class="recipes" data-testid="recipes">
                <summary>"The rate each objective trains at"</summary>
                <table>
                    <thead><tr><th>"objective"</th><th>"size"</th><th>"peak rate"</th><th>"sequences/step"</th><th>"schedule"</th></tr></thead>
                    <tbody>
                        {Objective::ALL.into_iter().flat_map(|o| ModelSize::ALL.map(move |size| (o, size))).map(|(o, size)| {
                            let r = o.spec().recipes.for_size(size);
                            view! {
                                <tr><td>{o.name()}</td><td>{size.name()}</td><td>{format!("{:e}", r.peak_lr)}</td>
                                    <td>{r.batch_size}</td><td>{r.schedule.name()}</td></tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="hint">"Chosen per family by a rate sweep at the lecture budget (BENCHMARKS.md). A mix with NSP or SOP trains at that objective's rate, which shapes its batches; otherwise at its primary's."</p>
            </details>
        </details>
    }
}

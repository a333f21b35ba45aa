//! Choosing what the model learns: a preset (BERT, RoBERTa, ALBERT, GPT, T5, BART, XLNet) or
//! a primary objective with an optional auxiliary one and its weight, and each objective's
//! knobs with the papers' defaults. A choice is checked against the pairings the lab can
//! train before the current run is touched; an accepted one starts a fresh run and is written
//! into the URL so a lecturer can share it.

use leptos::prelude::*;

use crate::core::config::ObjectiveKnobs;
use crate::core::mix::{Objective, ObjectiveMix, PRESETS};
use crate::core::plan::{PAIRINGS, plan};
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
    let aux_weight = if auxiliary.is_some() {
        weight
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|w| w.is_finite() && *w > 0.0)
            .ok_or_else(|| {
                format!("the auxiliary weight must be a number above 0, got `{weight}`")
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
fn apply(view: RunView, settings: Settings) {
    view.settings.set(settings.clone());
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
            Ok(text) => apply(
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
    let knob = move |id: &'static str,
                     label: &'static str,
                     get: fn(&ObjectiveKnobs) -> f64,
                     set: fn(&mut ObjectiveKnobs, f64)| {
        view! {
            <label class="knob">{label}
                <input type="number" step="any" data-testid=id
                    prop:value=move || get(&knobs.get()).to_string()
                    on:change=move |ev| {
                        match event_target_value(&ev).trim().parse::<f64>() {
                            Ok(v) if v.is_finite() => knobs.update(|k| set(k, v)),
                            _ => message.set(Some(format!("{label} must be a number"))),
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
                {move || uses(Objective::Mlm).then(|| knob("knob-mask-rate", "MLM mask rate", |k| k.mlm.mask_rate, |k, v| k.mlm.mask_rate = v))}
                {move || uses(Objective::Span).then(|| view! {
                    {knob("knob-noise-density", "T5 noise density", |k| k.span.noise_density, |k, v| k.span.noise_density = v)}
                    {knob("knob-mean-span", "T5 mean span", |k| k.span.mean_span, |k, v| k.span.mean_span = v)}
                })}
                {move || uses(Objective::Infill).then(|| view! {
                    {knob("knob-mask-ratio", "BART mask ratio", |k| k.infill.mask_ratio, |k, v| k.infill.mask_ratio = v)}
                    {knob("knob-poisson-lambda", "BART span λ", |k| k.infill.poisson_lambda, |k, v| k.infill.poisson_lambda = v)}
                })}
                {move || uses(Objective::Plm).then(|| knob("knob-plm-k", "XLNet K", |k| k.plm.k as f64, |k, v| k.plm.k = v.max(0.0).round() as usize))}
            </div>
            <button data-testid="mix-apply" on:click=submit>"Use this objective"</button>
            <p class="error" data-testid="mix-message" role="alert">{move || message.get()}</p>
            <details class="pairings">
                <summary>"Which pairings train, and how"</summary>
                <table>
                    <thead><tr><th>"mix"</th><th>"network"</th><th>"how"</th></tr></thead>
                    <tbody>
                        {PAIRINGS.iter().map(|(mix, net, how)| view! {
                            <tr><td>{*mix}</td><td>{*net}</td><td>{*how}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="hint">"Any other pairing is refused with its reason."</p>
            </details>
        </details>
    }
}

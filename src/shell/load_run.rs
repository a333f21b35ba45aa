//! Loading a saved run into the page: the student picks the files `train --save DIR` wrote,
//! the page reads them (they never leave the browser) and hands them to the worker, which
//! rebuilds the network on its device or says why it cannot.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::HtmlInputElement;

use crate::core::saved::{CONFIG_FILE, MODEL_FILE, SUMMARY_FILE, SavedFiles, TOKENIZER_FILE};
use crate::protocol::WorkerInput;

use super::app::{RunView, send};

/// Larger selections are not a saved run of this lab (a `default` run is about 4.5 MB).
const MAX_TOTAL_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// Reads the chosen files and offers them to the worker; the answer is `Ready` (with
/// `loaded_from`) or `RunRejected`.
async fn read_run(view: RunView, files: Vec<web_sys::File>) {
    let total: f64 = files.iter().map(|f| f.size()).sum();
    if total > MAX_TOTAL_BYTES {
        view.load_message.set(Some(format!(
            "These files are {:.0} MB together; a saved run of this lab is a few MB. Choose the \
             four files of one saved run's folder.",
            total / 1_048_576.0
        )));
        return;
    }
    let mut named = Vec::with_capacity(files.len());
    for file in files {
        let name = file.name();
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => named.push((name, js_sys::Uint8Array::new(&buffer).to_vec())),
            Err(e) => {
                view.load_message
                    .set(Some(format!("The browser could not read {name}: {e:?}")));
                return;
            }
        }
    }
    match SavedFiles::from_named(named) {
        Ok(files) => {
            view.load_message.set(None);
            view.status.set("Loading the saved run…".into());
            send(&WorkerInput::LoadRun(Box::new(files)));
        }
        Err(e) => view.load_message.set(Some(e.to_string())),
    }
}

/// The "load a saved run" control.
#[component]
pub fn LoadRun() -> impl IntoView {
    let view = expect_context::<RunView>();
    let on_change = move |event: leptos::ev::Event| {
        let Some(input) = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        // Choosing the same files again must fire `change` again.
        input.set_value("");
        if !files.is_empty() {
            spawn_local(read_run(view, files));
        }
    };
    view! {
        <details class="load-run" open=move || view.load_message.get().is_some()>
            <summary>"Load a saved run"</summary>
            <p class="hint">
                "Look at a run trained elsewhere, e.g. natively with "
                <code>"pretrain-playground train --save DIR"</code>
                {format!(": choose the four files in DIR ({MODEL_FILE}, {TOKENIZER_FILE}, {CONFIG_FILE}, {SUMMARY_FILE}). They stay in your browser.")}
            </p>
            <input type="file" multiple accept=".bpk,.json" data-testid="load-run" on:change=on_change/>
            <p class="error" data-testid="load-message" role="alert">{move || view.load_message.get()}</p>
        </details>
    }
}

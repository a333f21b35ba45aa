//! The shell room (wasm only): the Leptos page ([`app`]), the training worker ([`worker`]) and
//! WebGPU set-up ([`gpu`]). It drives the core and draws the plain data the core returns.

pub mod app;
pub mod chart;
pub mod compare_panel;
pub mod corpus_panel;
pub mod evaluation;
pub mod gpu;
pub mod load_run;
pub mod models;
pub mod objective_picker;
pub mod results;
pub mod tour;
pub mod viz;
pub mod worker;

/// Runs the module's static constructors, once; each wasm entry point (`app`, `worker`,
/// `worker_cpu`) calls it first thing in `main`.
///
/// Why it is needed: cubecl registers its IR dialects through `inventory`, i.e. static
/// constructors. When nothing in a module calls `__wasm_call_ctors`, wasm-ld links a bin as a
/// "command" and wraps every export so that it re-runs all constructors first: every call from
/// JavaScript into the module (a worker message, a resolved promise, each value serde-wasm-bindgen
/// reads) then paid for them. In the test build (whose page links cubecl) that was a third of
/// the page's time while training, and made decoding a corpus view take over a second. Naming
/// the function here tells wasm-ld the module runs its constructors itself, so it adds no
/// wrappers (lld's `Writer::createCommandExportWrappers`).
pub fn run_static_constructors() {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: called once, at the start of `main`, before any code that relies on a
    // constructor's registration has run; the linker always defines this function.
    unsafe { __wasm_call_ctors() }
}

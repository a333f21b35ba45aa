//! Fuzz harnesses: each takes arbitrary bytes, builds a structured input from them through
//! [`arbitrary::Unstructured`] (own text, a URL query, saved-run files, a worker message) and
//! drives the code a student's input reaches. A harness returns normally for every input the
//! code accepts or refuses with a typed error; a panic, or an input that takes longer than the
//! driver's per-input limit, is a finding.
//!
//! The same harnesses run two ways (the cargo-fuzz / libFuzzer convention of one function per
//! target over a byte slice):
//! - under `cargo test`, at a CI size, fed seeded pseudo-random bytes by [`drive`]
//!   (`tests/integration/fuzz.rs`; `PP_FUZZ_ITERS` and `PP_FUZZ_SECONDS` make a run longer);
//! - under libFuzzer, coverage-guided, where the machine has a nightly toolchain (opt-in,
//!   outside CI): `fuzz/` is a cargo-fuzz-style crate of its own (own workspace and lock
//!   file) whose targets are one line each, `fuzz_target!(|data| run_target("own_text", data))`;
//!   `scripts/fuzz.sh TARGET [RUNS] [SECONDS]` builds and runs one, instrumenting only this
//!   crate (burn and tokenizers build as usual).

use arbitrary::Unstructured;

mod messages;
mod own_text;
mod url;

/// One fuzz target: a name and the function the bytes go through.
#[derive(Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&mut Unstructured<'_>) -> arbitrary::Result<()>,
}

/// Every harness the project has, by name. (Harnesses that drive the async core block on it,
/// which only a native build can.)
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "url",
            run: url::run,
        },
        Target {
            name: "messages",
            run: messages::run,
        },
        Target {
            name: "own_text",
            run: own_text::run,
        },
        #[cfg(not(target_arch = "wasm32"))]
        saved_run::TARGET,
    ]
}

/// Runs the target named `name` on `data` (the entry point for a coverage-guided fuzzer).
/// Running out of bytes is not a finding: the fuzzer simply tries longer inputs.
pub fn run_target(name: &str, data: &[u8]) {
    if let Some(target) = targets().into_iter().find(|t| t.name == name) {
        let _ = (target.run)(&mut Unstructured::new(data));
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod drive;
#[cfg(not(target_arch = "wasm32"))]
mod saved_run;
#[cfg(not(target_arch = "wasm32"))]
pub use drive::{DriveReport, Finding, drive};

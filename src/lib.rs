//! Pretraining Playground: watch a tiny transformer pre-train in the browser and compare
//! pre-training objectives.
//!
//! Two rooms: [`core`] (corpus, tokenizer, objectives, masks, model, training, metrics — plain
//! Rust on any burn device, tested natively) and `shell` (the Leptos page and the Web Worker,
//! wasm only), which drives the core and draws the plain data it returns. [`protocol`] is the
//! serde contract between the page and the worker; `cli` is the native command line.

pub mod core;
pub mod fuzz;
pub mod protocol;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
pub mod shell;

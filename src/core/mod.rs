//! The core room: everything that decides what the model learns — text, tokenizer,
//! objectives, masks, model, training loop, metrics, the run summary. Plain Rust on any burn
//! `Device` (CPU or WebGPU); no `web-sys`, no `leptos`; tested natively with `cargo test`.
//! The shell drives it and draws the plain data it returns, never tensors.

pub mod audit;
pub mod backend;
pub mod bench;
pub mod chart;
pub mod compare;
pub mod config;
pub mod corpus;
pub mod data;
pub mod embed;
pub mod error;
pub mod eval;
pub mod exec;
pub mod generate;
pub mod json_float;
pub mod masks;
pub mod metrics;
pub mod mix;
pub mod model;
pub mod objective;
pub mod plan;
pub mod rng;
pub mod saved;
pub mod summary;
pub mod tokenizer;
pub mod train;
pub mod viz;

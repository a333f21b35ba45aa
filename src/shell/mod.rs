//! The shell room (wasm only): the Leptos page ([`app`]), the training worker ([`worker`]) and
//! WebGPU set-up ([`gpu`]). It drives the core and draws the plain data the core returns.

pub mod app;
pub mod chart;
pub mod corpus_panel;
pub mod gpu;
pub mod load_run;
pub mod objective_picker;
pub mod results;
pub mod worker;

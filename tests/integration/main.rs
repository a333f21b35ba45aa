//! The native integration tests, as one test binary: every module here links burn, and one
//! link instead of nine saves minutes on a cold CI machine. Each module is one subject.

mod compare;
mod compliance_fixtures;
mod core_training;
mod corpus_world;
mod custom_text;
mod evaluation;
mod fuzz;
mod model_architectures;
mod objective_properties;
mod objective_traces;
mod objectives_training;
mod saved_runs;
mod shortcut_audit;
mod support;

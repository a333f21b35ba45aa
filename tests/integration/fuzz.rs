//! Every fuzz harness (src/fuzz) at a CI size: seeded inputs, a per-input time limit, no panic
//! and no hang allowed. `PP_FUZZ_ITERS=100000 PP_FUZZ_SECONDS=1200 cargo test fuzz_` runs long.

use std::time::Duration;

use pretrain_playground::fuzz::{Target, drive, targets};

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs one target at the CI size (or the size the environment asks for).
pub fn run(name: &str, inputs: u64, max_len: usize, limit_s: u64) {
    let target: Target = targets()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target `{name}`"));
    let inputs = env_or("PP_FUZZ_ITERS", inputs) as usize;
    let budget = Duration::from_secs(env_or("PP_FUZZ_SECONDS", 60));
    match drive(
        target,
        env_or("PP_FUZZ_SEED", 1),
        inputs,
        max_len,
        Duration::from_secs(limit_s),
        budget,
    ) {
        Ok(report) => eprintln!(
            "fuzz {}: {} inputs in {:.1} s, slowest {:.3} s",
            report.target, report.inputs, report.seconds, report.slowest_s
        ),
        Err(finding) => panic!("{finding}"),
    }
}

#[test]
fn fuzz_url() {
    run("url", 10_000, 512, 5);
}

#[test]
fn fuzz_messages() {
    run("messages", 10_000, 512, 5);
}

#[test]
fn fuzz_own_text() {
    run("own_text", 1_000, 4_096, 20);
}

/// Saved-run files mutated from a valid run: refused or loaded, never a panic or a hang.
#[test]
fn fuzz_saved_run() {
    run("saved_run", 2_000, 4_096, 30);
}

//! Feeds a harness seeded pseudo-random inputs with a per-input time limit (native only).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;

use super::Target;
use crate::core::rng::Rng;

/// What a run of [`drive`] did.
#[derive(Debug, Clone)]
pub struct DriveReport {
    pub target: &'static str,
    pub inputs: usize,
    pub seconds: f64,
    /// The slowest single input, in seconds.
    pub slowest_s: f64,
}

/// An input that panicked or ran past the time limit, kept so it can be replayed.
#[derive(Debug, Clone)]
pub struct Finding {
    pub target: &'static str,
    pub seed: u64,
    pub index: usize,
    pub what: String,
    pub input: Vec<u8>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fuzz target `{}` (seed {}, input {}): {} — input bytes: {:?}",
            self.target,
            self.seed,
            self.index,
            self.what,
            String::from_utf8_lossy(&self.input)
        )
    }
}

/// One pseudo-random input: mostly short (where the edge cases are), sometimes long.
fn input(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    let cap = match rng.below(10) {
        0 => max_len,
        1..=3 => max_len / 8,
        _ => 256,
    }
    .max(1);
    let len = rng.below(cap + 1);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Runs `target` on `inputs` seeded inputs of at most `max_len` bytes, each on its own thread
/// with `limit` to finish; stops at the first finding, or when `budget` has passed.
pub fn drive(
    target: Target,
    seed: u64,
    inputs: usize,
    max_len: usize,
    limit: Duration,
    budget: Duration,
) -> Result<DriveReport, Finding> {
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut slowest = 0.0f64;
    let mut done = 0;
    for index in 0..inputs {
        if started.elapsed() > budget {
            break;
        }
        let bytes = input(&mut rng, max_len);
        let finding = |what: String| Finding {
            target: target.name,
            seed,
            index,
            what,
            input: bytes.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let data = bytes.clone();
        let run = target.run;
        let one = Instant::now();
        let handle = std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| {
                let _ = run(&mut Unstructured::new(&data));
            });
            let _ = tx.send(outcome.is_ok());
        });
        match rx.recv_timeout(limit) {
            Ok(true) => {
                let _ = handle.join();
            }
            Ok(false) => return Err(finding("panicked".into())),
            Err(_) => {
                return Err(finding(format!(
                    "ran past the {:.1} s limit per input",
                    limit.as_secs_f64()
                )));
            }
        }
        slowest = slowest.max(one.elapsed().as_secs_f64());
        done += 1;
    }
    Ok(DriveReport {
        target: target.name,
        inputs: done,
        seconds: started.elapsed().as_secs_f64(),
        slowest_s: slowest,
    })
}

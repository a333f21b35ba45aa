//! The contract between the page and the training worker: two serde enums, as in candle's
//! wasm examples. Plain data only — the page never holds a tensor. Compiled on every target so
//! the contract is tested natively.

use serde::{Deserialize, Serialize};

use crate::core::audit::AuditLine;
use crate::core::bench::StepTiming;
use crate::core::config::{
    LECTURE_BUDGET_TOKENS, MAX_BUDGET_TOKENS, ModelSize, ObjectiveKnobs, Schedule,
};
use crate::core::corpus::CorpusInput;
use crate::core::corpus::view::CorpusView;
use crate::core::error::CoreError;
use crate::core::mix::ObjectiveMix;
use crate::core::objective::spec::find_knob;
use crate::core::saved::SavedFiles;
use crate::core::summary::{BackendKind, TrainEvent};
use crate::core::tokenizer::TokenPiece;

/// Which device the page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendRequest {
    /// WebGPU when the browser grants an adapter, else the CPU.
    #[default]
    Auto,
    /// The CPU, whatever the browser offers.
    Cpu,
}

/// The run the page wants; parsed from the URL so a lecturer can share an exact setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `None`: `default` on a hardware GPU adapter, `fast` otherwise.
    pub size: Option<ModelSize>,
    pub backend: BackendRequest,
    /// Canonical mix or preset name.
    pub mix: String,
    pub seed: u64,
    pub corpus_seed: u64,
    pub budget_tokens: u64,
    /// The support-desk corpus (URL state) or a student's own text (page only: text never
    /// leaves the page, so it is not put in the URL).
    #[serde(default)]
    pub corpus: CorpusInput,
    /// The objectives' knobs (URL: each knob's key, e.g. `mask_rate`, `plm_k`; see
    /// [`crate::core::objective::spec::all_knobs`]).
    #[serde(default)]
    pub knobs: ObjectiveKnobs,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            size: None,
            backend: BackendRequest::Auto,
            mix: "clm".into(),
            seed: 0,
            corpus_seed: 1,
            budget_tokens: LECTURE_BUDGET_TOKENS,
            corpus: CorpusInput::Support,
            knobs: ObjectiveKnobs::default(),
        }
    }
}

impl Settings {
    /// Reads settings from a URL query (`?size=fast&seed=3&backend=cpu&mix=clm&budget=20000`).
    /// Unknown keys are ignored (other tools may add their own); a known key with a bad value
    /// is an error that names it, and the caller keeps the defaults.
    pub fn from_query(query: &str) -> Result<Self, CoreError> {
        let mut settings = Self::default();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = |v: &str| {
                v.parse::<u64>().map_err(|_| {
                    CoreError::Config(format!(
                        "URL parameter `{key}` must be a whole number, got `{v}`"
                    ))
                })
            };
            match key {
                "size" => settings.size = Some(value.parse()?),
                "backend" => {
                    settings.backend = match value {
                        "auto" => BackendRequest::Auto,
                        "cpu" => BackendRequest::Cpu,
                        other => {
                            return Err(CoreError::Config(format!(
                                "URL parameter `backend` must be auto or cpu, got `{other}`"
                            )));
                        }
                    }
                }
                "mix" => {
                    ObjectiveMix::parse(value)?;
                    settings.mix = value.to_string();
                }
                knob if find_knob(knob).is_some() => settings.knobs.set_text(knob, value)?,
                "seed" => settings.seed = number(value)?,
                "corpus_seed" => settings.corpus_seed = number(value)?,
                "budget" => {
                    settings.budget_tokens = number(value)?;
                    if settings.budget_tokens == 0 || settings.budget_tokens > MAX_BUDGET_TOKENS {
                        return Err(CoreError::Config(format!(
                            "URL parameter `budget` must be between 1 and {MAX_BUDGET_TOKENS}"
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(settings)
    }

    /// The URL query that reproduces these settings (defaults left out; a student's own text
    /// never goes into the URL).
    pub fn to_query(&self) -> String {
        let defaults = Settings::default();
        let mut parts: Vec<String> = Vec::new();
        if let Some(size) = self.size {
            parts.push(format!("size={size}"));
        }
        if self.backend == BackendRequest::Cpu {
            parts.push("backend=cpu".into());
        }
        if self.mix != defaults.mix {
            parts.push(format!("mix={}", self.mix));
        }
        for (key, value) in self.knobs.changed() {
            parts.push(format!("{key}={value}"));
        }
        for (key, value, default) in [
            ("seed", self.seed, defaults.seed),
            ("corpus_seed", self.corpus_seed, defaults.corpus_seed),
            ("budget", self.budget_tokens, defaults.budget_tokens),
        ] {
            if value != default {
                parts.push(format!("{key}={value}"));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerInput {
    /// Pick the device, build corpus, tokenizer and model; answered by `Ready`.
    Prepare(Settings),
    /// Start or resume training.
    Train,
    /// Stop after the current step; `Train` resumes.
    Pause,
    /// Drop the run and prepare a fresh one with the same settings.
    Reset,
    /// Train on this corpus from now on. It is checked first: if it cannot be used the worker
    /// answers `CorpusRejected` and keeps the current corpus and run untouched.
    UseCorpus(CorpusInput),
    /// Split `text` into tokens with the run's tokenizer (the page's tokenizer view).
    Tokenize { text: String },
    /// Replace the current run with a saved one (`train --save DIR`, or a later issue's
    /// export). Checked first: if it cannot be loaded the worker answers `RunRejected` and
    /// the current run is untouched. `Reset` returns to a fresh run of the page's settings.
    LoadRun(Box<SavedFiles>),
    /// Time the training step on this worker's device (`pretrain-playground bench --browser`
    /// sends it to a worker of its own). Answered by `BenchResult`, or `Error` if the device
    /// or the step fails.
    Bench(BenchRequest),
}

/// What `Bench` times: the same causal-LM step as the native bench
/// ([`crate::core::bench::time_training_step`]) at one of the lab's sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRequest {
    pub backend: BackendRequest,
    pub size: ModelSize,
    /// Untimed steps first (kernel compilation, allocation).
    pub warmup: usize,
    pub steps: usize,
    /// Keep attention weights for the trace, as the visualisations do.
    #[serde(default)]
    pub capture: bool,
}

/// The device a run got, and why it is not WebGPU when it is not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: BackendKind,
    /// What the page shows, e.g. `WebGPU: SwiftShader (software)` or
    /// `CPU (WebGPU unavailable: no adapter)`.
    pub label: String,
    /// Present when WebGPU was wanted but could not be used.
    pub fallback_reason: Option<String>,
    /// True for a software adapter (SwiftShader) or the CPU.
    pub software: bool,
}

/// A prepared run, ready to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyInfo {
    pub backend: BackendInfo,
    /// What the run trains on, in words.
    pub corpus: String,
    /// The network the mix trains (decoder, encoder, encoder-decoder, two-stream) and how.
    pub architecture: String,
    pub plan: String,
    /// Whether the network writes text left to right (only then are samples drawn).
    pub generates: bool,
    pub size: ModelSize,
    pub mix: String,
    pub params: usize,
    pub budget_tokens: u64,
    pub planned_steps: usize,
    /// Word frequencies on the positions the token loss scores (NaN without a token objective).
    pub unigram_entropy: f64,
    /// The recipe the run trains at.
    #[serde(default)]
    pub peak_lr: f64,
    #[serde(default)]
    pub batch_size: usize,
    #[serde(default)]
    pub schedule: Option<Schedule>,
    pub seed: u64,
    pub corpus_seed: u64,
    /// Set for a saved run loaded into the page: where it was trained (its backend label).
    /// Such a run is finished; it can be looked at, sampled and reset, not trained further.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_from: Option<String>,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerOutput {
    /// The worker's code is loaded and listening; the page may now send `Prepare`.
    Loaded,
    /// Progress while preparing ("training the tokenizer…").
    Status {
        text: String,
    },
    Ready(ReadyInfo),
    /// The corpus the next run trains on (sent while preparing, before `Ready`).
    Corpus(Box<CorpusView>),
    /// The SHA-256 fingerprint of the corpus, pair sets and vocabulary (computed after `Ready`).
    Fingerprint {
        value: String,
    },
    /// The shortcut audit of the corpus's labelled sets so far (sent as each set is done,
    /// after the fingerprint); `done` on the last.
    Audit {
        lines: Vec<AuditLine>,
        done: bool,
    },
    /// A new corpus was accepted: the current run is dropped and a new one is being prepared.
    CorpusAccepted {
        description: String,
    },
    /// A corpus could not be used; nothing changed.
    CorpusRejected {
        message: String,
    },
    /// A saved run could not be loaded; nothing changed.
    RunRejected {
        message: String,
    },
    /// The answer to `Tokenize`.
    Tokens {
        text: String,
        pieces: Vec<TokenPiece>,
    },
    Event(TrainEvent),
    /// The size of the worker's wasm memory, sent when it grows (wasm memory never shrinks, so
    /// the latest value is the peak so far).
    Memory {
        wasm_bytes: u64,
    },
    /// The answer to `Bench`.
    BenchResult {
        timing: StepTiming,
        backend: BackendInfo,
        wasm_bytes: u64,
    },
    Paused {
        step: usize,
    },
    /// Something failed; the message is for the student. `fatal` means the worker cannot go on
    /// with this backend and the page should fall back to the CPU.
    Error {
        message: String,
        fatal: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_settings_parse_and_bad_values_are_named() {
        let s = Settings::from_query("?size=fast&backend=cpu&seed=7&budget=2000&mix=gpt&other=1")
            .expect("parse");
        assert_eq!(s.size, Some(ModelSize::Fast));
        assert_eq!(s.backend, BackendRequest::Cpu);
        assert_eq!((s.seed, s.budget_tokens, s.mix.as_str()), (7, 2000, "gpt"));
        assert_eq!(
            Settings::from_query("").expect("empty"),
            Settings::default()
        );
        let knobs =
            Settings::from_query("mix=t5&noise_density=0.25&mean_span=2&plm_k=4").expect("knobs");
        assert_eq!(
            knobs.knobs.changed().collect::<Vec<_>>(),
            [("mean_span", 2.0), ("noise_density", 0.25), ("plm_k", 4.0)]
        );
        assert_eq!(
            Settings::from_query(&knobs.to_query()).expect("round trip"),
            knobs
        );
        assert_eq!(Settings::default().to_query(), "");
        for bad in [
            "size=huge",
            "seed=-1",
            "backend=tpu",
            "budget=0",
            "mix=nope",
            "mask_rate=lots",
            "mean_span=NaN",
            "plm_k=2.5",
            "budget=1000000000000000",
        ] {
            assert!(Settings::from_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_round_trip_through_json() {
        let inputs = [
            WorkerInput::Prepare(Settings::default()),
            WorkerInput::Train,
            WorkerInput::Pause,
            WorkerInput::Reset,
            WorkerInput::UseCorpus(CorpusInput::Custom {
                name: "notes.txt".into(),
                text: "Hello. 世界 🚀".into(),
            }),
            WorkerInput::Tokenize {
                text: "the kettle".into(),
            },
            WorkerInput::LoadRun(Box::new(SavedFiles {
                model: vec![0, 1, 255, 7],
                tokenizer_json: "{}".into(),
                config_json: "{\"mix\":\"gpt\"}".into(),
                summary_json: "{}".into(),
            })),
            WorkerInput::Bench(BenchRequest {
                backend: BackendRequest::Cpu,
                size: ModelSize::Fast,
                warmup: 1,
                steps: 2,
                capture: false,
            }),
        ];
        for input in inputs {
            let text = serde_json::to_string(&input).expect("ser");
            assert_eq!(
                serde_json::from_str::<WorkerInput>(&text).expect("de"),
                input
            );
        }
        let out = WorkerOutput::Event(TrainEvent::Eval {
            step: 3,
            tokens: 768,
            val_loss: 2.5,
            val_loss_corrupted: None,
            val_baseline: None,
            val_pair_loss: Some(0.6),
            val_pair_accuracy: Some(0.75),
        });
        let text = serde_json::to_string(&out).expect("ser");
        assert!(
            text.contains("\"type\":\"event\"") && text.contains("\"kind\":\"eval\""),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<WorkerOutput>(&text).expect("de"),
            out
        );
    }
}

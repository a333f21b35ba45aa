//! The contract between the page and the training worker: two serde enums, as in candle's
//! wasm examples. Plain data only — the page never holds a tensor. Compiled on every target so
//! the contract is tested natively.

use serde::{Deserialize, Serialize};

use crate::core::config::{LECTURE_BUDGET_TOKENS, ModelSize};
use crate::core::corpus::CorpusInput;
use crate::core::corpus::view::CorpusView;
use crate::core::error::CoreError;
use crate::core::mix::ObjectiveMix;
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
                "seed" => settings.seed = number(value)?,
                "corpus_seed" => settings.corpus_seed = number(value)?,
                "budget" => {
                    settings.budget_tokens = number(value)?;
                    if settings.budget_tokens == 0 {
                        return Err(CoreError::Config(
                            "URL parameter `budget` must be at least 1".into(),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(settings)
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
    pub unigram_entropy: f64,
    pub seed: u64,
    pub corpus_seed: u64,
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
    /// A new corpus was accepted: the current run is dropped and a new one is being prepared.
    CorpusAccepted {
        description: String,
    },
    /// A corpus could not be used; nothing changed.
    CorpusRejected {
        message: String,
    },
    /// The answer to `Tokenize`.
    Tokens {
        text: String,
        pieces: Vec<TokenPiece>,
    },
    Event(TrainEvent),
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
        for bad in [
            "size=huge",
            "seed=-1",
            "backend=tpu",
            "budget=0",
            "mix=nope",
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

//! The contract between the page and the training worker: two serde enums, as in candle's
//! wasm examples. Plain data only — the page never holds a tensor. Compiled on every target so
//! the contract is tested natively.

use serde::{Deserialize, Serialize};

use crate::core::audit::AuditLine;
use crate::core::bench::StepTiming;
use crate::core::compare::sweep::{Sweep, parse_mixes, parse_seeds};
use crate::core::config::{
    LECTURE_BUDGET_TOKENS, MAX_BUDGET_TOKENS, ModelSize, ObjectiveKnobs, RunConfig, Schedule,
};
use crate::core::corpus::CorpusInput;
use crate::core::corpus::view::CorpusView;
use crate::core::error::CoreError;
use crate::core::eval::run::{EvalSizes, RunEvaluation};
use crate::core::mix::ObjectiveMix;
use crate::core::objective::spec::find_knob;
use crate::core::plan::plan;
use crate::core::saved::SavedFiles;
use crate::core::summary::{BackendKind, RunSummary, TrainEvent};
use crate::core::tokenizer::TokenPiece;
use crate::core::viz::live::LiveTrace;
use crate::core::viz::preview::Preview;

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
    /// How much held-out data the page's evaluation reads (URL `eval=quick`).
    #[serde(default)]
    pub eval: EvalSet,
    /// A class sweep the link hands out (`mixes=gpt,bert&seeds=3`, the CLI's words), and the
    /// student's number in it (`student=5`): the run is then that number's cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<u64>,
    /// The part of the page the link opens at (`view=compare`, `viz`, `corpus`), or the
    /// lecture tour (`view=tour`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// The link's set-up trained on a student's own text (`corpus=custom`), which a link cannot
    /// carry: the page asks for it.
    #[serde(default)]
    pub custom_corpus_asked: bool,
    /// Workers a CPU step is shared over (URL `workers=N`, 1 to 16): the training worker and
    /// N − 1 helpers, each computing gradients of part of the batch. `None`: as many as
    /// `navigator.hardwareConcurrency` says, at most [`AUTO_WORKERS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
}

/// The most workers the page starts on its own (more cores than this gain little at the lab's
/// batch sizes; `workers=N` asks for up to 16).
pub const AUTO_WORKERS: usize = 8;

/// The parts of the page a link can open at.
pub const VIEWS: [&str; 4] = ["compare", "viz", "corpus", "tour"];

/// The page's evaluation sets: the standard ones, or quick ones for a slow device (a software
/// WebGPU adapter, an old laptop), whose wider error bars the panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSet {
    #[default]
    Standard,
    Quick,
}

impl EvalSet {
    pub fn sizes(self) -> EvalSizes {
        match self {
            EvalSet::Standard => EvalSizes::PAGE,
            EvalSet::Quick => EvalSizes::QUICK,
        }
    }
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
            eval: EvalSet::Standard,
            sweep: None,
            student: None,
            view: None,
            custom_corpus_asked: false,
            workers: None,
        }
    }
}

/// A URL parameter the page could not use: its key, what it said and why. The page keeps the
/// default for that key (and every good key as given) and shows the note until the student
/// dismisses it or changes the set-up, so a lecturer's link is never silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlNote {
    pub key: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for UrlNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}={}` was ignored: {}",
            self.key, self.value, self.reason
        )
    }
}

/// Longest query read (a link on a slide is a few hundred bytes; the rest is ignored).
const MAX_QUERY_BYTES: usize = 4_096;

/// Percent-decodes one key or value of a query. A literal `+` stays a `+` (the canonical mix
/// `mlm+sop`, pasted by hand), as `%2B` does.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a `%` must be followed by two hex digits")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "it does not decode to text (UTF-8)".to_string())
}

impl Settings {
    /// Reads settings from a URL query (`?size=fast&seed=3&backend=cpu&mix=clm&budget=20000`),
    /// percent-decoded. Never fails: each key that cannot be used keeps its default and gets a
    /// [`UrlNote`] saying why, and every other key is used as given. Unknown keys are ignored
    /// without a note (other tools may add their own). Settings that each parse but cannot
    /// train together (an unsupported pairing, knobs that do not fit the sequence length) fall
    /// back key by key — knobs first, then the mix, then the budget — each with its note.
    pub fn from_query(query: &str) -> (Self, Vec<UrlNote>) {
        let mut settings = Self::default();
        let mut notes = Vec::new();
        let mut query = query.trim_start_matches('?');
        if query.len() > MAX_QUERY_BYTES {
            let mut cut = MAX_QUERY_BYTES;
            while !query.is_char_boundary(cut) {
                cut -= 1;
            }
            notes.push(UrlNote {
                key: "(query)".into(),
                value: format!("{} bytes", query.len()),
                reason: format!("only the first {MAX_QUERY_BYTES} bytes of a link are read"),
            });
            query = query.get(..cut).unwrap_or_default();
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_decode(raw_key).and_then(|k| Ok((k, percent_decode(raw_value)?)));
            let (key, value) = match decoded {
                Ok(kv) => kv,
                Err(reason) => {
                    notes.push(UrlNote {
                        key: raw_key.to_string(),
                        value: raw_value.to_string(),
                        reason,
                    });
                    continue;
                }
            };
            if let Err(reason) = settings.set_from_url(&key, &value) {
                notes.push(UrlNote { key, value, reason });
            }
        }
        settings.settle_sweep(&mut notes);
        settings.fall_back_until_trainable(&mut notes);
        (settings, notes)
    }

    /// Checks the sweep the keys named (mixes given, not too many cells) and, with a student
    /// number, makes the run that number's cell.
    fn settle_sweep(&mut self, notes: &mut Vec<UrlNote>) {
        if let Some(sweep) = self.sweep.take() {
            match Sweep::new(sweep.mixes.clone(), sweep.seeds.clone()) {
                Ok(sweep) => self.sweep = Some(sweep),
                Err(reason) => notes.push(UrlNote {
                    key: if sweep.mixes.is_empty() {
                        "seeds"
                    } else {
                        "mixes"
                    }
                    .into(),
                    value: sweep.query(),
                    reason: if sweep.mixes.is_empty() {
                        "`seeds` needs `mixes` beside it, e.g. mixes=gpt,bert&seeds=3".into()
                    } else {
                        reason
                    },
                }),
            }
        }
        if let Some(number) = self.student {
            match &self.sweep {
                Some(sweep) => {
                    let (_, mix, seed) = sweep.cell(number);
                    self.mix = mix.to_string();
                    self.seed = seed;
                }
                None => {
                    self.student = None;
                    notes.push(UrlNote {
                        key: "student".into(),
                        value: number.to_string(),
                        reason:
                            "a student number needs a sweep (`mixes=…&seeds=…`) to pick a cell from"
                                .into(),
                    });
                }
            }
        }
    }

    /// Applies one URL key; `Err` says why the value cannot be used (the setting is unchanged).
    fn set_from_url(&mut self, key: &str, value: &str) -> Result<(), String> {
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("`{key}` must be a whole number from 0 to {}", u64::MAX))
        };
        match key {
            "size" => self.size = Some(value.parse().map_err(|e: CoreError| e.to_string())?),
            "backend" => {
                self.backend = match value {
                    "auto" => BackendRequest::Auto,
                    "cpu" => BackendRequest::Cpu,
                    _ => return Err("`backend` must be auto or cpu".into()),
                }
            }
            "mix" => {
                ObjectiveMix::parse(value).map_err(|e| e.to_string())?;
                self.mix = value.to_string();
            }
            knob if find_knob(knob).is_some() => self
                .knobs
                .set_text(knob, value)
                .map_err(|e| e.to_string())?,
            "seed" => self.seed = number(value)?,
            "corpus_seed" => self.corpus_seed = number(value)?,
            "budget" => {
                let budget = value
                    .parse::<u64>()
                    .ok()
                    .filter(|b| (1..=MAX_BUDGET_TOKENS).contains(b));
                self.budget_tokens = budget.ok_or_else(|| {
                    format!(
                        "`budget` must be a whole number of tokens from 1 to {MAX_BUDGET_TOKENS}"
                    )
                })?;
            }
            "mixes" => {
                let mixes = parse_mixes(value)?;
                let seeds = self.sweep.take().map_or_else(|| vec![0], |s| s.seeds);
                self.sweep = Some(Sweep { mixes, seeds });
            }
            "seeds" => {
                let seeds = parse_seeds(value)?;
                let mixes = self.sweep.take().map_or_else(Vec::new, |s| s.mixes);
                self.sweep = Some(Sweep { mixes, seeds });
            }
            "student" => self.student = Some(number(value)?),
            "view" => {
                if !VIEWS.contains(&value) {
                    return Err(format!("`view` must be one of {}", VIEWS.join(", ")));
                }
                self.view = Some(value.to_string());
            }
            "corpus" => match value {
                "support" => self.custom_corpus_asked = false,
                "custom" => self.custom_corpus_asked = true,
                _ => return Err("`corpus` must be support or custom".into()),
            },
            "workers" => {
                let max = crate::core::train::shards::MAX_SHARDS;
                match value.parse::<usize>() {
                    Ok(n) if (1..=max).contains(&n) => self.workers = Some(n),
                    _ => return Err(format!("`workers` must be a whole number from 1 to {max}")),
                }
            }
            "eval" => {
                self.eval = match value {
                    "standard" => EvalSet::Standard,
                    "quick" => EvalSet::Quick,
                    _ => return Err("`eval` must be standard or quick".into()),
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a run of these settings can be built: the checks the worker makes before it
    /// builds a trainer (the pairing is supported; the run config, knobs included, is valid at
    /// each size the run may get), made when the settings are read.
    pub fn check_trainable(&self) -> Result<(), CoreError> {
        let (mix, _) = ObjectiveMix::parse(&self.mix)?;
        let plan = plan(&mix)?;
        let sizes = match self.size {
            Some(size) => vec![size],
            None => ModelSize::ALL.to_vec(),
        };
        for size in sizes {
            let mut config = RunConfig::for_plan(size, &plan);
            config.budget_tokens = self.budget_tokens;
            config.seed = self.seed;
            config.corpus_seed = self.corpus_seed;
            config.knobs = self.knobs.clone();
            config.validate()?;
        }
        Ok(())
    }

    /// Drops what keeps these settings from training — the fewest of the knobs, the mix and
    /// the budget, in that order of preference — with a note for each key dropped. The
    /// defaults always train, so the page always gets a run.
    fn fall_back_until_trainable(&mut self, notes: &mut Vec<UrlNote>) {
        let Err(why) = self.check_trainable() else {
            return;
        };
        let defaults = Self::default();
        type Reset = fn(&mut Settings, &Settings) -> Vec<(String, String)>;
        let resets: [Reset; 3] = [
            |s, d| {
                let dropped = s
                    .knobs
                    .changed()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                s.knobs = d.knobs.clone();
                dropped
            },
            |s, d| vec![("mix".into(), std::mem::replace(&mut s.mix, d.mix.clone()))],
            |s, d| {
                let old = std::mem::replace(&mut s.budget_tokens, d.budget_tokens);
                vec![("budget".into(), old.to_string())]
            },
        ];
        // One of them, then two, then all three.
        for subset in [0b001u8, 0b010, 0b100, 0b011, 0b101, 0b110, 0b111] {
            let mut candidate = self.clone();
            let mut dropped = Vec::new();
            for (bit, reset) in resets.iter().enumerate() {
                if subset & (1 << bit) != 0 {
                    let before = candidate.clone();
                    let keys = reset(&mut candidate, &defaults);
                    if candidate != before {
                        dropped.extend(keys);
                    }
                }
            }
            if !dropped.is_empty() && candidate.check_trainable().is_ok() {
                *self = candidate;
                notes.extend(dropped.into_iter().map(|(key, value)| UrlNote {
                    key,
                    value,
                    reason: format!("{why} (using the default instead)"),
                }));
                return;
            }
        }
        notes.push(UrlNote {
            key: "(all)".into(),
            value: String::new(),
            reason: format!("{why} (using the default set-up instead)"),
        });
        *self = Self {
            backend: self.backend,
            ..defaults
        };
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
        if self.eval == EvalSet::Quick {
            parts.push("eval=quick".into());
        }
        if let Some(n) = self.workers {
            parts.push(format!("workers={n}"));
        }
        if matches!(self.corpus, CorpusInput::Custom { .. }) || self.custom_corpus_asked {
            parts.push("corpus=custom".into());
        }
        if let Some(sweep) = &self.sweep {
            parts.push(sweep.query());
            if let Some(n) = self.student {
                parts.push(format!("student={n}"));
            }
        }
        if let Some(view) = &self.view {
            parts.push(format!("view={view}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// The training worker → a helper worker: compute one shard of step `step` on `weights`
/// ([`crate::core::train::shards`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRequest {
    pub step: u64,
    /// The network to build (once; kept while these stay the same).
    pub plan: crate::core::plan::Plan,
    pub model: crate::core::config::ModelConfig,
    /// Every float weight, little-endian f32 in the network's visiting order.
    #[serde(with = "serde_bytes")]
    pub weights: Vec<u8>,
    pub job: crate::core::train::shards::ShardJob,
}

/// A helper's shard: its gradient (little-endian f32, [`crate::core::train::shards::ShardGrads`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardReply {
    pub step: u64,
    pub present: Vec<bool>,
    #[serde(with = "serde_bytes")]
    pub values: Vec<u8>,
    pub parts: [f32; 3],
}

/// `values` as little-endian bytes, the form shard messages carry.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian bytes back to `f32`s; `None` when the length is not a multiple of 4.
pub fn bytes_f32(bytes: &[u8]) -> Option<Vec<f32>> {
    bytes.len().is_multiple_of(4).then(|| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerInput {
    /// Pick the device, build corpus, tokenizer and model; answered by `Ready`.
    Prepare(Settings),
    /// Start or resume training.
    Train,
    /// To a helper worker: compute a shard of a data-parallel step.
    Shard(Box<ShardRequest>),
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
    /// Evaluate the run as it stands (a paused run mid-way; a finished one is evaluated
    /// without asking). Answered by `Evaluating` progress, then `Evaluated` or
    /// `EvaluationStopped`.
    Evaluate,
    /// Stop the evaluation in progress (at its next stage); answered by `EvaluationStopped`.
    CancelEvaluation,
    /// The pictures of example `example` of `mix`'s training stream, before any training
    /// (strip, mask matrices, information flow), for the visualisation's `slot`. Answered by
    /// `Preview`, or `PreviewFailed` with the reason. Works while the run trains.
    Preview {
        slot: PreviewSlot,
        mix: String,
        example: usize,
    },
    /// Whether the page shows live heatmaps: the training loop captures the model's attention
    /// on a fixed example (within 5% of step time) only while they are watched.
    WatchHeads { on: bool },
    /// The current run's model (a finished or loaded run) as the four files of a saved run,
    /// `summary` (the page's row of it, evaluation included) as its `run.json`, for the page to
    /// keep in the browser under `key`. Answered, untagged, by `ModelFiles` or
    /// `ModelNotSaved`: the page may have moved on to the next run of a race meanwhile.
    SaveModel {
        key: String,
        summary: Box<RunSummary>,
    },
}

/// Which picture a `Preview` is for: the run's own mix, or one side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewSlot {
    Run,
    Left,
    Right,
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
    /// Workers a CPU step is shared over (the data-parallel fallback); 1 when absent.
    #[serde(default = "one_worker")]
    pub workers: usize,
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
    /// The objectives' knobs the run trains with.
    #[serde(default)]
    pub knobs: ObjectiveKnobs,
    /// Set for a saved run loaded into the page: where it was trained (its backend label).
    /// Such a run is finished; it can be looked at, sampled and reset, not trained further.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_from: Option<String>,
    /// Workers each CPU step is shared over (1: the training worker alone).
    #[serde(default = "one_worker")]
    pub workers: usize,
}

fn one_worker() -> usize {
    1
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
    /// The files `SaveModel` asked for.
    ModelFiles {
        key: String,
        files: Box<SavedFiles>,
    },
    /// Why `SaveModel` could not be answered.
    ModelNotSaved {
        key: String,
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
        /// Why the worker paused on its own (a helper worker stopped); `None` when asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A helper worker's shard of a data-parallel step (helper → the training worker).
    ShardDone(Box<ShardReply>),
    /// A helper worker could not compute its shard.
    ShardFailed {
        step: u64,
        message: String,
    },
    /// The evaluation is at stage `done` of `total`, doing `what`.
    Evaluating {
        done: usize,
        total: usize,
        what: String,
    },
    /// The run's evaluation at step `step`; `last` when the run had used its budget (the
    /// page then records it in the run summary).
    Evaluated {
        evaluation: Box<RunEvaluation>,
        step: usize,
        last: bool,
    },
    /// The evaluation stopped early: cancelled, or failed (the message says which).
    EvaluationStopped {
        message: String,
    },
    /// Something failed; the message is for the student. `fatal` means the worker cannot go on
    /// with this backend and the page should fall back to the CPU.
    Error {
        message: String,
        fatal: bool,
    },
    /// The answer to `Preview` (the pictures travel as one string of JSON, which the page
    /// parses far faster than the same data as JavaScript objects).
    Preview {
        slot: PreviewSlot,
        example: usize,
        #[serde(with = "crate::core::viz::packed::json_text")]
        preview: Box<Preview>,
    },
    /// A `Preview` could not be drawn (a mix the lab cannot train, no corpus yet).
    PreviewFailed {
        slot: PreviewSlot,
        message: String,
    },
    /// A live capture of the training model's attention on the fixed example (as one string
    /// of JSON, like `Preview`).
    Heads {
        #[serde(with = "crate::core::viz::packed::json_text")]
        live: Box<LiveTrace>,
    },
    /// The worker's code panicked (a bug): the worker is dead. Sent by the panic hook, so the
    /// page can restart a worker with the same set-up and say what happened.
    Crashed {
        message: String,
    },
}

/// Which run a message is about. Every message carries, beside its own fields, a `run` number
/// the page chose: `Prepare` and `Reset` start run `run`; `UseCorpus` and `LoadRun` are offers
/// that become run `run` if accepted (an offer older than the worker's current run when it is
/// answered is superseded and refused); the worker tags everything it sends with the run it
/// concerns. A message without a number (the bench harness, the loader's own errors) concerns
/// whatever is current. This is the page's half: what it shows, and what it drops — a step,
/// sample or summary of a run that was reset or replaced, an answer to a superseded offer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunTags {
    current: u64,
    last: u64,
    /// Offers sent and not yet answered.
    offers: std::collections::BTreeSet<u64>,
}

impl RunTags {
    /// The run the page shows now.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// A new run starts now (`Prepare`, `Reset`): its number.
    pub fn start(&mut self) -> u64 {
        self.last += 1;
        self.current = self.last;
        self.current
    }

    /// A number for an offer (`UseCorpus`, `LoadRun`), which becomes the current run only
    /// when the worker accepts it.
    pub fn offer(&mut self) -> u64 {
        self.last += 1;
        self.offers.insert(self.last);
        self.last
    }

    /// Whether any offer is still unanswered.
    pub fn offer_pending(&self) -> bool {
        !self.offers.is_empty()
    }

    /// Whether the page applies `output`, tagged `run` by the worker; updates the current run
    /// when an offer was accepted.
    pub fn admit(&mut self, run: Option<u64>, output: &WorkerOutput) -> bool {
        let Some(run) = run else { return true };
        match output {
            WorkerOutput::Loaded
            | WorkerOutput::Memory { .. }
            | WorkerOutput::BenchResult { .. }
            | WorkerOutput::Tokens { .. }
            | WorkerOutput::ModelFiles { .. }
            | WorkerOutput::ModelNotSaved { .. }
            | WorkerOutput::Crashed { .. } => true,
            WorkerOutput::CorpusAccepted { .. } => self.accept(run),
            WorkerOutput::Ready(info) if info.loaded_from.is_some() && run != self.current => {
                self.accept(run)
            }
            WorkerOutput::CorpusRejected { .. } | WorkerOutput::RunRejected { .. } => {
                self.offers.remove(&run)
            }
            _ => run == self.current,
        }
    }

    fn accept(&mut self, run: u64) -> bool {
        if self.offers.contains(&run) && run > self.current {
            self.current = run;
            self.offers.retain(|&o| o > run);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_clean(query: &str) -> Settings {
        let (settings, notes) = Settings::from_query(query);
        assert!(notes.is_empty(), "{query}: {notes:?}");
        settings
    }

    fn noted_keys(query: &str) -> (Settings, Vec<String>) {
        let (settings, notes) = Settings::from_query(query);
        (settings, notes.into_iter().map(|n| n.key).collect())
    }

    #[test]
    fn url_settings_parse_and_round_trip() {
        let s = parse_clean("?size=fast&backend=cpu&seed=7&budget=2000&mix=gpt&other=1");
        assert_eq!(s.size, Some(ModelSize::Fast));
        assert_eq!(s.backend, BackendRequest::Cpu);
        assert_eq!((s.seed, s.budget_tokens, s.mix.as_str()), (7, 2000, "gpt"));
        assert_eq!(parse_clean(""), Settings::default());
        let knobs = parse_clean("mix=t5&noise_density=0.25&mean_span=2&plm_k=4");
        assert_eq!(
            knobs.knobs.changed().collect::<Vec<_>>(),
            [("mean_span", 2.0), ("noise_density", 0.25), ("plm_k", 4.0)]
        );
        assert_eq!(parse_clean(&knobs.to_query()), knobs);
        assert_eq!(Settings::default().to_query(), "");
        let weighted = parse_clean("mix=mlm+sop@0.5&seed=3");
        assert_eq!(parse_clean(&weighted.to_query()), weighted);
        let quick = parse_clean("eval=quick&mix=gpt");
        assert_eq!(quick.eval, EvalSet::Quick);
        assert_eq!(quick.eval.sizes(), EvalSizes::QUICK);
        assert_eq!(parse_clean(&quick.to_query()), quick);
        let shared = parse_clean("workers=4&size=default&backend=cpu");
        assert_eq!(shared.workers, Some(4));
        assert_eq!(parse_clean(&shared.to_query()), shared);
    }

    #[test]
    fn shard_messages_carry_f32s_as_bytes() {
        let values = [0.0f32, -1.5, f32::MIN_POSITIVE, 3.25e7];
        assert_eq!(bytes_f32(&f32_bytes(&values)).as_deref(), Some(&values[..]));
        assert_eq!(bytes_f32(&[1, 2, 3]), None, "not a whole number of floats");
    }

    #[test]
    fn a_bad_url_key_keeps_its_default_and_every_good_key() {
        for bad in [
            "size=huge",
            "seed=-1",
            "backend=tpu",
            "budget=0",
            "mix=nope",
            "mix=",
            "mask_rate=lots",
            "mean_span=NaN",
            "plm_k=2.5",
            "plm_k=5000000000",
            "budget=1000000000000000",
            "mix=mlm+sop@1e9",
            "seed=%ZZ",
            "seed=%FF",
            "workers=0",
            "workers=17",
            "workers=two",
        ] {
            let query = format!("seed=5&{bad}&corpus_seed=9&size=fast");
            let (settings, notes) = Settings::from_query(&query);
            assert_eq!(notes.len(), 1, "{bad}: {notes:?}");
            let key = bad.split('=').next().unwrap_or_default();
            assert!(
                notes.iter().all(|n| n.key == key && !n.reason.is_empty()),
                "{bad}: {notes:?}"
            );
            assert_eq!(
                (settings.corpus_seed, settings.size),
                (9, Some(ModelSize::Fast)),
                "{bad}"
            );
            assert!(settings.check_trainable().is_ok(), "{bad}");
            if key != "seed" {
                assert_eq!(settings.seed, 5, "{bad}");
            }
        }
    }

    #[test]
    fn a_class_sweep_link_gives_each_student_a_cell_and_round_trips() {
        let s = parse_clean("mixes=gpt,mlm%2Bsop@0.5,roberta&seeds=2&size=fast&student=4");
        let sweep = s.sweep.clone().expect("sweep");
        assert_eq!(sweep.mixes, ["gpt", "mlm+sop@0.5", "roberta"]);
        assert_eq!(sweep.seeds, [0, 1]);
        // Cell 4 of 6: the second mix's second seed.
        assert_eq!((s.mix.as_str(), s.seed), ("mlm+sop@0.5", 1));
        assert_eq!(parse_clean(&s.to_query()), s);
        // A literal `+` reads as `+` in a sweep too, and the keys come in any order.
        let plus = parse_clean("seeds=3&mixes=mlm+sop,gpt&view=compare");
        assert_eq!(
            plus.sweep.as_ref().map(|s| s.mixes.clone()),
            Some(vec!["mlm+sop".to_string(), "gpt".to_string()])
        );
        assert_eq!(plus.view.as_deref(), Some("compare"));
        assert_eq!(parse_clean(&plus.to_query()), plus);
        let custom = parse_clean("corpus=custom&mix=gpt");
        assert!(custom.custom_corpus_asked);
        assert_eq!(parse_clean(&custom.to_query()), custom);
        for bad in [
            "seeds=3",
            "student=2",
            "mixes=gpt,nope",
            "mixes=gpt&seeds=0",
            "view=lab",
            "corpus=web",
        ] {
            let (s, notes) = Settings::from_query(bad);
            assert!(!notes.is_empty(), "{bad}");
            assert_eq!(s.mix, "clm", "{bad}");
        }
    }

    #[test]
    fn url_mixes_are_percent_decoded_and_a_literal_plus_is_a_plus() {
        for query in [
            "mix=mlm%2Bsop",
            "mix=mlm+sop",
            "mix=mlm%2bsop",
            "%6Dix=mlm+sop",
        ] {
            assert_eq!(parse_clean(query).mix, "mlm+sop", "{query}");
        }
        assert_eq!(parse_clean("mix=mlm%2Bsop%400.5").mix, "mlm+sop@0.5");
    }

    #[test]
    fn url_settings_that_parse_but_cannot_train_fall_back_with_a_note() {
        // An unsupported pairing: the mix falls back, the knobs that fit are kept.
        let (s, keys) = noted_keys("mix=nsp+sop&mask_rate=0.2&seed=4");
        assert_eq!(keys, ["mix"]);
        assert_eq!((s.mix.as_str(), s.seed), ("clm", 4));
        assert_eq!(s.knobs.changed().collect::<Vec<_>>(), [("mask_rate", 0.2)]);
        // Knobs that are each in range but do not work together are dropped, the mix kept.
        let (s, keys) = noted_keys("mix=t5&noise_density=0.5&mean_span=1&size=fast");
        assert!(
            !keys.is_empty() && keys.iter().all(|k| k != "mix"),
            "{keys:?}"
        );
        assert_eq!(s.mix, "t5");
        assert!(s.check_trainable().is_ok());
    }

    #[test]
    fn every_query_gives_settings_that_train() {
        let mut rng = crate::core::rng::Rng::new(11);
        let pieces = [
            "mix=",
            "bert",
            "mlm+sop@",
            "0.5",
            "%2B",
            "%",
            "&",
            "=",
            "size=",
            "fast",
            "budget=",
            "7",
            "plm_k=",
            "mask_rate=",
            "0.9",
            "-",
            "seed=",
            "é",
            "+",
            "@",
            "clm+plm",
        ];
        for _ in 0..500 {
            let query: String = (0..rng.below(12))
                .filter_map(|_| pieces.get(rng.below(pieces.len())).copied())
                .collect();
            let (settings, _) = Settings::from_query(&query);
            assert!(settings.check_trainable().is_ok(), "{query}");
        }
    }

    fn step(step: usize) -> WorkerOutput {
        WorkerOutput::Paused { step, reason: None }
    }

    fn ready(loaded: bool) -> WorkerOutput {
        let settings = Settings::default();
        WorkerOutput::Ready(ReadyInfo {
            workers: 1,
            backend: BackendInfo {
                kind: BackendKind::Cpu,
                label: "CPU".into(),
                fallback_reason: None,
                software: true,
            },
            corpus: String::new(),
            architecture: String::new(),
            plan: String::new(),
            generates: true,
            size: ModelSize::Fast,
            mix: settings.mix,
            params: 1,
            budget_tokens: 1,
            planned_steps: 1,
            unigram_entropy: 1.0,
            peak_lr: 1e-3,
            batch_size: 1,
            schedule: None,
            seed: 0,
            corpus_seed: 1,
            knobs: ObjectiveKnobs::default(),
            loaded_from: loaded.then(|| "CPU".into()),
        })
    }

    #[test]
    fn results_of_a_replaced_run_are_dropped() {
        let mut tags = RunTags::default();
        let first = tags.start();
        assert!(tags.admit(Some(first), &step(1)));
        // Reset mid-step: the old run's step, arriving late, is not drawn on the new one.
        let second = tags.start();
        assert!(!tags.admit(Some(first), &step(2)));
        assert!(tags.admit(Some(second), &step(1)));
        // Untagged messages (the loader's own errors) and run-independent ones always apply.
        assert!(tags.admit(None, &step(3)));
        assert!(tags.admit(Some(first), &WorkerOutput::Loaded));
    }

    #[test]
    fn corpus_and_load_answers_are_matched_to_their_offer() {
        let accepted = || WorkerOutput::CorpusAccepted {
            description: String::new(),
        };
        let rejected = || WorkerOutput::CorpusRejected {
            message: String::new(),
        };
        let mut tags = RunTags::default();
        let run = tags.start();
        // Two offers in flight: the first is accepted, then the second is refused.
        let a = tags.offer();
        let b = tags.offer();
        assert!(tags.offer_pending());
        assert!(tags.admit(Some(a), &accepted()));
        assert_eq!(tags.current(), a);
        assert!(!tags.admit(Some(run), &step(9)), "the replaced run's step");
        assert!(tags.admit(Some(b), &rejected()));
        assert!(!tags.offer_pending());
        assert_eq!(tags.current(), a, "a refused offer leaves the run alone");
        // An answer nobody is waiting for (a duplicate) changes nothing.
        assert!(!tags.admit(Some(b), &rejected()));
        assert!(!tags.admit(Some(b), &accepted()));
        // A saved run offered, then a new set-up chosen before it loaded: its Ready is dropped.
        let load = tags.offer();
        let newer = tags.start();
        assert!(!tags.admit(Some(load), &ready(true)));
        assert_eq!(tags.current(), newer);
        // A saved run that loads becomes the current run.
        let load = tags.offer();
        assert!(tags.admit(Some(load), &ready(true)));
        assert_eq!(tags.current(), load);
        assert!(tags.admit(Some(load), &ready(false)));
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
                workers: 2,
            }),
            WorkerInput::Preview {
                slot: PreviewSlot::Left,
                mix: "mlm+sop@0.5".into(),
                example: 3,
            },
            WorkerInput::WatchHeads { on: true },
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

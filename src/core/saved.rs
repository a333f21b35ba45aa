//! A trained run as files: the network's weights (a burnpack record), the tokenizer
//! (`tokenizer.json`), what was trained (`config.json`: run config, mix, plan) and the run
//! summary (`run.json`). Saved natively with `train --save DIR`; loaded back into a network
//! that gives the same outputs, natively now and in the page once it imports runs.

use serde::{Deserialize, Serialize};

use super::backend::Backend;
use super::config::RunConfig;
use super::data::SUPPORT_PROMPT;
use super::error::CoreError;
use super::generate::write_continuation;
use super::mix::ObjectiveMix;
use super::model::network::Network;
use super::plan::{Plan, plan};
use super::summary::{RunSummary, TrainEvent};
use super::tokenizer::LabTokenizer;
use super::train::Trainer;
use burn::module::Module;
use burn::tensor::{Bytes, Device};

/// What `config.json` holds: enough to rebuild the network before its weights are loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedConfig {
    pub config: RunConfig,
    /// Canonical mix (or the preset's name).
    pub mix: String,
    pub plan: Plan,
    pub vocab_size: usize,
    /// What the run trained on, in words (e.g. `the support-desk corpus, seed 1`).
    #[serde(default)]
    pub corpus: String,
    /// The prompt its samples continue.
    #[serde(default)]
    pub sample_prompt: String,
}

impl SavedConfig {
    /// What a saved run needs to rebuild `trainer`'s network.
    pub fn of(trainer: &Trainer) -> Self {
        let (mix, preset) = trainer.mix();
        let dataset = trainer.dataset();
        Self {
            config: trainer.config().clone(),
            mix: preset.map_or_else(|| mix.canonical(), str::to_string),
            plan: trainer.plan().clone(),
            vocab_size: trainer.config().size.model().vocab_size,
            corpus: dataset.corpus.describe(),
            sample_prompt: dataset.sample_prompt(),
        }
    }
}

/// The four files of a saved run, as bytes and text. Serialisable so the page can hand them
/// to the worker (the record travels as a byte array, not a list of numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFiles {
    #[serde(with = "serde_bytes")]
    pub model: Vec<u8>,
    pub tokenizer_json: String,
    pub config_json: String,
    pub summary_json: String,
}

/// File names inside a saved run's directory.
pub const MODEL_FILE: &str = "model.bpk";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const CONFIG_FILE: &str = "config.json";
pub const SUMMARY_FILE: &str = "run.json";

impl SavedFiles {
    /// Picks the four files out of whatever a student chose (by name, ignoring folders; the
    /// record may have any name ending in `.bpk`). Missing files and text that is not UTF-8 are
    /// typed errors that name the file.
    pub fn from_named(files: Vec<(String, Vec<u8>)>) -> Result<Self, CoreError> {
        let mut model = None;
        let mut texts: [Option<Vec<u8>>; 3] = [None, None, None];
        let names = [TOKENIZER_FILE, CONFIG_FILE, SUMMARY_FILE];
        for (name, bytes) in files {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
            if base.ends_with(".bpk") {
                model = Some(bytes);
            } else if let Some(i) = names.iter().position(|n| *n == base) {
                texts[i] = Some(bytes);
            }
        }
        let missing: Vec<&str> = std::iter::once(MODEL_FILE)
            .filter(|_| model.is_none())
            .chain(
                names
                    .iter()
                    .zip(&texts)
                    .filter(|(_, t)| t.is_none())
                    .map(|(n, _)| *n),
            )
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::SavedRun(format!(
                "choose all four files of the saved run's folder ({MODEL_FILE}, {TOKENIZER_FILE}, \
                 {CONFIG_FILE}, {SUMMARY_FILE}); missing: {}",
                missing.join(", ")
            )));
        }
        let [tokenizer, config, summary] = texts.map(Option::unwrap_or_default);
        let text = |name: &str, bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| {
                CoreError::SavedRun(format!("{name} is not UTF-8 text; is it the right file?"))
            })
        };
        Ok(Self {
            model: model.unwrap_or_default(),
            tokenizer_json: text(TOKENIZER_FILE, tokenizer)?,
            config_json: text(CONFIG_FILE, config)?,
            summary_json: text(SUMMARY_FILE, summary)?,
        })
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CoreError::Config(format!("could not serialise the saved run: {e}")))
}

/// Serialises a network and what it needs. The weights are read synchronously, so call this
/// natively or on the CPU backend.
pub fn save(
    network: &Network,
    saved: &SavedConfig,
    tokenizer: &LabTokenizer,
    summary: &RunSummary,
) -> Result<SavedFiles, CoreError> {
    let record = match network.valid() {
        Network::Stack(m) => m.into_record(),
        Network::EncoderDecoder(m) => m.into_record(),
    };
    let bytes = record
        .into_bytes()
        .map_err(|e| CoreError::Config(format!("could not write the model record: {e}")))?;
    Ok(SavedFiles {
        model: bytes.to_vec(),
        tokenizer_json: tokenizer.to_json()?,
        config_json: json(saved)?,
        summary_json: json(summary)?,
    })
}

/// A saved run read back: the network with its trained weights, the tokenizer, the config and
/// the summary.
pub struct LoadedRun {
    pub network: Network,
    pub tokenizer: LabTokenizer,
    pub saved: SavedConfig,
    pub summary: RunSummary,
}

impl LoadedRun {
    /// Whether the network writes text left to right (a decoder trained with CLM).
    pub fn generates(&self) -> bool {
        self.saved.plan.generates()
    }

    /// A continuation of the run's sample prompt, drawn as the run's last live sample was
    /// (same seed stream), or `None` when the network does not generate.
    pub async fn sample(&self, backend: &Backend) -> Result<Option<TrainEvent>, CoreError> {
        let Network::Stack(model) = &self.network else {
            return Ok(None);
        };
        if !self.generates() {
            return Ok(None);
        }
        let prompt = if self.saved.sample_prompt.is_empty() {
            SUPPORT_PROMPT.to_string()
        } else {
            self.saved.sample_prompt.clone()
        };
        let step = self.summary.steps;
        let text = write_continuation(
            model,
            &self.tokenizer,
            &prompt,
            self.saved.config.seed ^ ((step as u64) << 20),
            self.saved.config.sample_tokens,
            backend,
        )
        .await?;
        Ok(Some(TrainEvent::Sample { step, prompt, text }))
    }
}

/// Rebuilds a saved run on `device`. Every file is checked: a record from another architecture
/// or size, or a tokenizer whose vocabulary does not fit, is a typed error.
pub fn load(files: &SavedFiles, device: &Device) -> Result<LoadedRun, CoreError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        CoreError::SavedRun(format!("{what} cannot be read ({e}); save the run again"))
    };
    let saved: SavedConfig =
        serde_json::from_str(&files.config_json).map_err(|e| bad(CONFIG_FILE, &e))?;
    let summary: RunSummary =
        serde_json::from_str(&files.summary_json).map_err(|e| bad(SUMMARY_FILE, &e))?;
    let tokenizer = LabTokenizer::from_json(&files.tokenizer_json)?;
    saved.config.validate().map_err(|e| {
        CoreError::SavedRun(format!(
            "{CONFIG_FILE} holds a setting this version refuses: {e}"
        ))
    })?;
    let (mix, _) = ObjectiveMix::parse(&saved.mix)?;
    let expected = plan(&mix)?;
    // The network and its batches must match; the wording of `how` may have changed since.
    if (expected.architecture, &expected.batches) != (saved.plan.architecture, &saved.plan.batches)
    {
        return Err(CoreError::SavedRun(format!(
            "{CONFIG_FILE} describes the mix `{}` with another plan than this version trains; \
             train and save it again with this version",
            saved.mix
        )));
    }
    let model_config = saved.config.size.model();
    if tokenizer.vocab_size() > model_config.vocab_size {
        return Err(CoreError::SavedRun(format!(
            "the saved tokenizer has {} entries; the {} model holds {}",
            tokenizer.vocab_size(),
            saved.config.size,
            model_config.vocab_size
        )));
    }
    let record = burn::store::ModuleRecord::from_bytes(Bytes::from_bytes_vec(files.model.clone()))
        .map_err(|e| bad(MODEL_FILE, &e))?;
    let network = match Network::init(
        expected.architecture,
        expected.extras(),
        &model_config,
        saved.config.seed,
        device,
    ) {
        Network::Stack(m) => {
            Network::Stack(m.try_load_record(record).map_err(|e| bad(MODEL_FILE, &e))?)
        }
        Network::EncoderDecoder(m) => {
            Network::EncoderDecoder(m.try_load_record(record).map_err(|e| bad(MODEL_FILE, &e))?)
        }
    };
    Ok(LoadedRun {
        network,
        tokenizer,
        saved,
        summary,
    })
}

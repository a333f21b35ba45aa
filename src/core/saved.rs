//! A trained run as files: the network's weights (a burnpack record), the tokenizer
//! (`tokenizer.json`), what was trained (`config.json`: run config, mix, plan) and the run
//! summary (`run.json`). Saved natively with `train --save DIR`; loaded back into a network
//! that gives the same outputs, natively now and in the page once it imports runs.

use serde::{Deserialize, Serialize};

use super::config::RunConfig;
use super::error::CoreError;
use super::mix::ObjectiveMix;
use super::plan::{Plan, plan};
use super::summary::RunSummary;
use super::tokenizer::LabTokenizer;
use super::train::network::Network;
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
}

/// The four files of a saved run, as bytes and text.
#[derive(Debug, Clone)]
pub struct SavedFiles {
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

/// Rebuilds a saved run on `device`. Every file is checked: a record from another architecture
/// or size, or a tokenizer whose vocabulary does not fit, is a typed error.
pub fn load(files: &SavedFiles, device: &Device) -> Result<LoadedRun, CoreError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        CoreError::Config(format!("the saved run's {what} cannot be read: {e}"))
    };
    let saved: SavedConfig =
        serde_json::from_str(&files.config_json).map_err(|e| bad(CONFIG_FILE, &e))?;
    let summary: RunSummary =
        serde_json::from_str(&files.summary_json).map_err(|e| bad(SUMMARY_FILE, &e))?;
    let tokenizer = LabTokenizer::from_json(&files.tokenizer_json)?;
    let (mix, _) = ObjectiveMix::parse(&saved.mix)?;
    let expected = plan(&mix)?;
    if expected != saved.plan {
        return Err(CoreError::Config(format!(
            "{CONFIG_FILE} describes the mix `{}` with another plan than this version trains",
            saved.mix
        )));
    }
    let model_config = saved.config.size.model();
    if tokenizer.vocab_size() > model_config.vocab_size {
        return Err(CoreError::Config(format!(
            "the saved tokenizer has {} entries; the {} model holds {}",
            tokenizer.vocab_size(),
            saved.config.size,
            model_config.vocab_size
        )));
    }
    let record = burn::store::ModuleRecord::from_bytes(Bytes::from_bytes_vec(files.model.clone()))
        .map_err(|e| bad(MODEL_FILE, &e))?;
    let network = match Network::init(&expected, &model_config, saved.config.seed, device) {
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

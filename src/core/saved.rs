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
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Bool, Bytes, DType, Device, Int, Shape, Tensor};
use std::collections::BTreeMap;

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

/// [`save`] for a network on any device: its weights are first read back asynchronously (a
/// synchronous read deadlocks WebGPU in the page) into a copy on the CPU device, which [`save`]
/// then serialises. What the page's "keep models in this browser" stores.
pub async fn save_async(
    network: &Network,
    saved: &SavedConfig,
    tokenizer: &LabTokenizer,
    summary: &RunSummary,
) -> Result<SavedFiles, CoreError> {
    let cpu = to_cpu(network).await?;
    save(&cpu, saved, tokenizer, summary)
}

/// Every float tensor of a module, flattened, in traversal order; int and bool parameters
/// counted (the lab's networks have none, and [`to_cpu`] refuses a module that has).
#[derive(Default)]
pub(crate) struct Weights {
    pub(crate) tensors: Vec<Tensor<1>>,
    pub(crate) others: usize,
}

impl ModuleVisitor for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.tensors.push(param.val().flatten::<1>(0, D - 1));
    }

    fn visit_int<const D: usize>(&mut self, _param: &Param<Tensor<D, Int>>) {
        self.others += 1;
    }

    fn visit_bool<const D: usize>(&mut self, _param: &Param<Tensor<D, Bool>>) {
        self.others += 1;
    }
}

/// Puts read-back weights, in the order [`Weights`] took them, onto `device`.
struct Place {
    data: std::vec::IntoIter<burn::tensor::TensorData>,
    device: Device,
    missing: bool,
}

impl burn::module::ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(data) = self.data.next() else {
            self.missing = true;
            return param;
        };
        let shape = param.lazy_shape();
        let device = self.device.clone();
        param.map(move |_| Tensor::<1>::from_data(data, &device).reshape(shape))
    }
}

/// A copy of `network` (without autodiff) on the CPU device, its weights read back with
/// asynchronous reads.
pub async fn to_cpu(network: &Network) -> Result<Network, CoreError> {
    let network = network.valid();
    let label = format!("{:?}", network.device());
    let mut weights = Weights::default();
    match &network {
        Network::Stack(m) => m.visit(&mut weights),
        Network::EncoderDecoder(m) => m.visit(&mut weights),
    }
    if weights.others > 0 {
        return Err(CoreError::Config(
            "this network holds integer or boolean parameters, which cannot be copied".into(),
        ));
    }
    let mut data = Vec::with_capacity(weights.tensors.len());
    for t in weights.tensors {
        data.push(
            t.into_data_async()
                .await
                .map_err(|e| CoreError::read(&label, e))?,
        );
    }
    let count = data.len();
    let mut place = Place {
        data: data.into_iter(),
        device: Backend::cpu().device,
        missing: false,
    };
    let copy = match network {
        Network::Stack(m) => Network::Stack(m.map(&mut place)),
        Network::EncoderDecoder(m) => Network::EncoderDecoder(m.map(&mut place)),
    };
    if place.missing || place.data.next().is_some() {
        return Err(CoreError::Config(format!(
            "the network's {count} weight tensors did not map back onto it in order"
        )));
    }
    Ok(copy)
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

/// Rebuilds a saved run on `device`. Every file is checked before it is used, and each
/// refusal names the file and what to do: a config this version would not train (a sample
/// longer than allowed, an unknown size), a tokenizer of another kind or whose ids reach past
/// the model's embeddings, a run summary of another run, a record whose tensors are not the
/// ones the config describes.
pub fn load(files: &SavedFiles, device: &Device) -> Result<LoadedRun, CoreError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        CoreError::SavedRun(format!("{what} cannot be read ({e}); save the run again"))
    };
    let saved: SavedConfig =
        serde_json::from_str(&files.config_json).map_err(|e| bad(CONFIG_FILE, &e))?;
    let summary: RunSummary =
        serde_json::from_str(&files.summary_json).map_err(|e| bad(SUMMARY_FILE, &e))?;
    let tokenizer = LabTokenizer::from_json(&files.tokenizer_json).map_err(|e| match e {
        CoreError::Tokenizer(message) => CoreError::SavedRun(message),
        other => other,
    })?;
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
    if saved.vocab_size != model_config.vocab_size {
        return Err(CoreError::SavedRun(format!(
            "{CONFIG_FILE} gives a vocabulary of {} for the {} model, which has {}; choose the \
             {CONFIG_FILE} saved with the run",
            saved.vocab_size, saved.config.size, model_config.vocab_size
        )));
    }
    if tokenizer.vocab_size() > model_config.vocab_size {
        return Err(CoreError::SavedRun(format!(
            "{TOKENIZER_FILE} has ids up to {}, past the {} embeddings of the {} model in \
             {CONFIG_FILE}; choose the {TOKENIZER_FILE} saved with the run",
            tokenizer.vocab_size() - 1,
            model_config.vocab_size,
            saved.config.size
        )));
    }
    if (summary.size, summary.mix.as_str()) != (saved.config.size, mix.canonical().as_str()) {
        return Err(CoreError::SavedRun(format!(
            "{SUMMARY_FILE} records a `{}` run of `{}`, {CONFIG_FILE} a `{}` run of `{}`; choose \
             the four files of one saved run",
            summary.size,
            summary.mix,
            saved.config.size,
            mix.canonical()
        )));
    }
    let network = Network::init(
        expected.architecture,
        expected.extras(),
        &model_config,
        saved.config.seed,
        device,
    );
    check_record(&files.model, &network, &saved.config)?;
    let record = burn::store::ModuleRecord::from_bytes(Bytes::from_bytes_vec(files.model.clone()))
        .map_err(|e| bad(MODEL_FILE, &e))?;
    let network = match network {
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

/// A tensor's shape and element type.
type TensorKind = (Vec<usize>, DType);

/// The tensors a module's record holds, by record path (what burn's loader matches them by).
#[derive(Default)]
struct Expected {
    path: Vec<String>,
    tensors: BTreeMap<String, TensorKind>,
}

impl Expected {
    fn add(&mut self, shape: Shape, dtype: DType) {
        self.tensors
            .insert(self.path.join("."), (shape.as_slice().to_vec(), dtype));
    }
}

impl ModuleVisitor for Expected {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.add(param.lazy_shape(), param.val().dtype());
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        self.add(param.lazy_shape(), param.val().dtype());
    }

    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
        self.add(param.lazy_shape(), param.val().dtype());
    }
}

/// Reads `model.bpk`'s table of tensors and checks it against the network `config.json`
/// describes, before burn's loader sees the bytes: every tensor there, none besides, each of
/// the shape and type the network holds (the pack checks that each tensor's bytes fill its
/// shape). A record of another size or architecture is refused with what differs.
fn check_record(bytes: &[u8], network: &Network, config: &RunConfig) -> Result<(), CoreError> {
    let mismatch = |what: String| {
        CoreError::SavedRun(format!(
            "{MODEL_FILE} does not hold the `{}` network {CONFIG_FILE} describes ({what}); choose \
             the {MODEL_FILE} saved with the run",
            config.size
        ))
    };
    let mut expected = Expected::default();
    match network {
        Network::Stack(m) => m.visit(&mut expected),
        Network::EncoderDecoder(m) => m.visit(&mut expected),
    }
    let mut expected = expected.tensors;
    let tensors = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .and_then(burn_pack::Reader::into_tensors)
        .map_err(|e| {
            CoreError::SavedRun(format!(
                "{MODEL_FILE} cannot be read ({e}); save the run again"
            ))
        })?;
    for tensor in &tensors {
        let Some((shape, dtype)) = expected.remove(&tensor.name) else {
            return Err(mismatch(format!(
                "it has a tensor `{}` the network has not",
                tensor.name
            )));
        };
        let found = tensor.shape.as_slice();
        if found != shape.as_slice() || tensor.dtype != dtype {
            return Err(mismatch(format!(
                "`{}` is {:?} {found:?}, the network's is {dtype:?} {shape:?}",
                tensor.name, tensor.dtype
            )));
        }
    }
    if let Some(name) = expected.keys().next() {
        return Err(mismatch(format!("it has no tensor `{name}`")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;
    use crate::core::exec::run_ready;
    use crate::core::mix::Objective;

    fn record_bytes(network: &Network) -> Vec<u8> {
        let record = match network.valid() {
            Network::Stack(m) => m.into_record(),
            Network::EncoderDecoder(m) => m.into_record(),
        };
        record.into_bytes().expect("record").to_vec()
    }

    #[test]
    fn the_cpu_copy_holds_the_same_weights_in_the_same_record() {
        for objective in [Objective::Clm, Objective::Span, Objective::Plm] {
            let plan = plan(&ObjectiveMix::single(objective)).expect("plan");
            let network = Network::init(
                plan.architecture,
                plan.extras(),
                &ModelSize::Fast.model(),
                7,
                &Backend::cpu().device,
            );
            let copy = run_ready(to_cpu(&network)).expect("copy");
            assert_eq!(copy.num_params(), network.num_params());
            assert_eq!(record_bytes(&copy), record_bytes(&network), "{objective:?}");
        }
    }
}

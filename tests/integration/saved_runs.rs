//! A trained run saved to files and loaded back gives the same outputs, for every
//! architecture; damaged files are typed errors.

use std::sync::OnceLock;

use burn::tensor::{Bytes, DType, Device};
use pretrain_playground::core::backend::Backend;
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::error::CoreError;
use pretrain_playground::core::exec::{SystemClock, block_on};
use pretrain_playground::core::generate::write_continuation;
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::network::{BatchTensors, Network};
use pretrain_playground::core::saved;
use pretrain_playground::core::summary::{RunStatus, RunSummary, StepReport, TrainEvent};
use pretrain_playground::core::train::{Trainer, first_batches};

fn logits(network: &Network, batch: &BatchTensors) -> Vec<f32> {
    block_on(network.forward(batch, false).logits.into_data_async())
        .expect("read")
        .try_into_vec::<f32>()
        .expect("f32")
}

#[test]
fn a_saved_run_loads_back_with_the_same_outputs() {
    let size = ModelSize::Fast;
    let dataset = Dataset::support(1, size.model().vocab_size).expect("dataset");
    let device = Device::flex();
    for preset in ["gpt", "bert", "t5", "xlnet"] {
        let (mix, name) = ObjectiveMix::parse(preset).expect("mix");
        let plan = pretrain_playground::core::plan::plan(&mix).expect("plan");
        let mut config = RunConfig::for_plan(size, &plan);
        config.budget_tokens = 3_000;
        let (mut trainer, _) = block_on(Trainer::start(
            dataset.clone(),
            config,
            mix,
            name.map(String::from),
            Backend::cpu(),
            Box::new(SystemClock::default()),
        ))
        .expect("start");
        let summary = loop {
            let events = block_on(trainer.advance()).expect("advance");
            if let Some(TrainEvent::Finished(s)) = events.into_iter().last() {
                break s;
            }
        };
        let live = block_on(trainer.sample()).expect("sample");
        let network = trainer.network().expect("network");
        let files = saved::save(
            network,
            &saved::SavedConfig::of(&trainer),
            trainer.tokenizer(),
            &summary,
        )
        .expect("save");
        // The files as the page receives them: picked by name out of a student's selection,
        // and sent to the worker through serde.
        let chosen = vec![
            (
                "run/config.json".to_string(),
                files.config_json.clone().into_bytes(),
            ),
            ("notes.txt".to_string(), b"ignored".to_vec()),
            (format!("{preset}.bpk"), files.model.clone()),
            (
                "tokenizer.json".to_string(),
                files.tokenizer_json.clone().into_bytes(),
            ),
            (
                "run.json".to_string(),
                files.summary_json.clone().into_bytes(),
            ),
        ];
        let picked = saved::SavedFiles::from_named(chosen).expect("pick");
        assert_eq!(picked, files);
        let loaded = saved::load(&picked, &device).expect("load");
        assert_eq!(loaded.summary, *summary);
        assert_eq!(
            loaded.saved.corpus,
            "the support-desk corpus (corpus seed 1)"
        );
        // A loaded decoder writes what the trained one writes at the end of its run.
        assert_eq!(loaded.generates(), preset == "gpt");
        let backend = Backend::cpu();
        let again = block_on(loaded.sample(&backend)).expect("sample");
        assert_eq!(again, live, "{preset}");
        assert_eq!(loaded.saved.mix, preset);
        assert_eq!(
            loaded.tokenizer.encode("Hi Maria").expect("encode"),
            trainer.tokenizer().encode("Hi Maria").expect("encode")
        );
        // Any batch the plan draws: the two networks agree on it.
        let mut probe_config = RunConfig::new(size);
        probe_config.batch_size = 2;
        let probe = first_batches(&dataset, &probe_config, &mix)
            .expect("batch")
            .remove(0)
            .1;
        let tensors = probe.to_tensors(&device);
        assert_eq!(
            logits(&network.valid(), &tensors),
            logits(&loaded.network, &tensors),
            "{preset}"
        );
        // A damaged record is a typed error, not a panic.
        let mut damaged = files.clone();
        damaged.model.truncate(damaged.model.len() / 2);
        assert!(saved::load(&damaged, &device).is_err(), "{preset}");
        let mut foreign = files.clone();
        foreign.config_json = foreign
            .config_json
            .replace(&format!("\"mix\": \"{preset}\""), "\"mix\": \"clm+span\"");
        assert!(saved::load(&foreign, &device).is_err(), "{preset}");
    }
}

#[test]
fn a_partial_or_wrong_selection_of_files_says_what_is_missing() {
    let missing = saved::SavedFiles::from_named(vec![
        ("model.bpk".into(), vec![1, 2, 3]),
        ("run.json".into(), b"{}".to_vec()),
    ])
    .expect_err("two files are missing");
    let message = missing.to_string();
    assert!(
        message.contains("tokenizer.json") && message.contains("config.json"),
        "{message}"
    );
    assert!(!message.contains("missing: model.bpk"), "{message}");
    let binary = saved::SavedFiles::from_named(vec![
        ("model.bpk".into(), vec![1, 2, 3]),
        ("tokenizer.json".into(), vec![0xff, 0xfe, 0x00]),
        ("config.json".into(), b"{}".to_vec()),
        ("run.json".into(), b"{}".to_vec()),
    ])
    .expect_err("not UTF-8");
    assert!(binary.to_string().contains("tokenizer.json"), "{binary}");
    // Four files with the right names but the wrong content: a typed error, not a panic.
    let garbage = saved::SavedFiles::from_named(vec![
        ("model.bpk".into(), vec![1, 2, 3]),
        ("tokenizer.json".into(), b"{}".to_vec()),
        ("config.json".into(), b"{}".to_vec()),
        ("run.json".into(), b"{}".to_vec()),
    ])
    .expect("picked");
    let error = saved::load(&garbage, &Device::flex())
        .err()
        .expect("garbage is refused");
    assert!(error.to_string().contains("cannot be loaded"), "{error}");
}

/// The support corpus at the fast size, built once for the tests below.
fn fast_dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET
        .get_or_init(|| Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset"))
}

/// A trainer for `mix` at the fast size on `budget` tokens, with one evaluation at the end.
fn trainer(mix: &str, budget: u64) -> Trainer {
    let (mix, name) = ObjectiveMix::parse(mix).expect("mix");
    let plan = pretrain_playground::core::plan::plan(&mix).expect("plan");
    let mut config = RunConfig::for_plan(ModelSize::Fast, &plan);
    config.budget_tokens = budget;
    config.evaluations = 1;
    config.sample_tokens = 4;
    Trainer::new(
        fast_dataset().clone(),
        config,
        mix,
        name.map(String::from),
        Backend::cpu(),
        Box::new(SystemClock::default()),
    )
    .expect("trainer")
}

/// Trains `mix` to the end of a small budget and saves it.
fn trained_and_saved(mix: &str, budget: u64) -> (RunSummary, saved::SavedFiles) {
    let mut trainer = trainer(mix, budget);
    let summary = loop {
        let events = block_on(trainer.advance()).expect("advance");
        if let Some(TrainEvent::Finished(s)) = events.into_iter().last() {
            break *s;
        }
    };
    let files = save(&trainer, &summary);
    (summary, files)
}

fn save(trainer: &Trainer, summary: &RunSummary) -> saved::SavedFiles {
    saved::save(
        trainer.network().expect("network"),
        &saved::SavedConfig::of(trainer),
        trainer.tokenizer(),
        summary,
    )
    .expect("save")
}

/// A record read back writes the same JSON (NaN compares unequal to itself, JSON does not).
fn same_record<T: serde::Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_value(a).expect("a") == serde_json::to_value(b).expect("b")
}

/// A pair-only run has no token loss (NaN baselines, written `null`) and a diverged run NaN
/// or infinite losses; each is a valid run, so its files load back with the same record, and
/// the record's events cross JSON too.
#[test]
fn every_valid_run_survives_save_and_load() {
    let device = Device::flex();
    let mut runs = Vec::new();
    for mix in ["nsp", "sop"] {
        let (summary, files) = trained_and_saved(mix, 1_500);
        assert!(summary.unigram_entropy.is_nan(), "{mix} has no token loss");
        runs.push((mix, summary, files));
    }
    // A diverged run: every float the record holds not finite, as a NaN loss leaves them.
    let (_, sop, _) = &runs[1];
    let mut diverged = sop.clone();
    diverged.status = RunStatus::Diverged;
    diverged.diverged_at_step = Some(diverged.steps);
    diverged.final_val_loss = f32::NAN;
    diverged.initial_val_loss = f32::INFINITY;
    diverged.wall_s = f64::INFINITY;
    diverged.padding_share = f64::NAN;
    diverged.peak_lr = Some(f64::NEG_INFINITY);
    diverged.val_pair_loss = Some(f32::NAN);
    diverged.val_pair_accuracy_se = Some(f32::NAN);
    diverged
        .val_loss_components
        .insert("sop".to_string(), f32::NAN);
    for point in &mut diverged.curve {
        point.train_loss = f32::NAN;
        point.train_pair_loss = Some(f32::INFINITY);
        point.val_pair_loss = point.val_pair_loss.map(|_| f32::NAN);
    }
    let sop_trainer = trainer("sop", 1_500);
    let files = save(&sop_trainer, &diverged);
    runs.push(("diverged sop", diverged, files));
    for (what, summary, files) in &runs {
        let loaded = saved::load(files, &device).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(same_record(&loaded.summary, summary), "{what}");
        let event = TrainEvent::Finished(Box::new(summary.clone()));
        let json = serde_json::to_string(&event).expect("event");
        let back: TrainEvent =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(same_record(&back, &event), "{what}");
    }
    let step = TrainEvent::Step(StepReport {
        step: 3,
        tokens: 30,
        budget_tokens: 100,
        loss: f32::NAN,
        token_loss: Some(f32::INFINITY),
        pair_loss: None,
        lr: f64::NAN,
        supervised_tokens: 0,
        tokens_per_s: f64::INFINITY,
        elapsed_s: 0.0,
        eta_s: f64::INFINITY,
    });
    let json = serde_json::to_string(&step).expect("step");
    let back: TrainEvent = serde_json::from_str(&json).expect("a diverging step reads back");
    assert!(same_record(&back, &step));
}

/// An untrained decoder's four files: cheap, and valid.
fn untrained_decoder() -> saved::SavedFiles {
    let mut trainer = trainer("gpt", 3_000);
    let summary = trainer.cancel();
    save(&trainer, &summary)
}

/// Rewrites one value of a JSON file (`pointer` as RFC 6901), or removes it with `None`.
fn edit(json: &str, pointer: &str, value: Option<serde_json::Value>) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(json).expect("json");
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let object = doc
        .pointer_mut(parent)
        .and_then(serde_json::Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"));
    match value {
        Some(v) => object.insert(key.to_string(), v),
        None => object.remove(key),
    };
    serde_json::to_string(&doc).expect("write")
}

/// The same record with every float tensor stored as f64: the right shapes, the wrong type.
fn as_f64_record(model: &[u8]) -> Vec<u8> {
    let tensors = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(model.to_vec()))
        .and_then(burn_pack::Reader::into_tensors)
        .expect("record");
    let widened = tensors
        .into_iter()
        .map(|t| {
            let (name, _, shape, id, bytes) = t.into_parts().expect("parts");
            let wide: Vec<u8> = bytes
                .chunks_exact(4)
                .flat_map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes())
                .collect();
            burn_pack::Tensor::new(name, DType::F64, shape, id, Bytes::from_bytes_vec(wide))
        })
        .collect();
    burn_pack::Writer::new(widened)
        .into_bytes()
        .expect("write")
        .to_vec()
}

/// Files a student did not save (edited, mixed from two runs, or made up) are refused before
/// anything uses them, each with the file at fault named; nothing panics or hangs.
#[test]
fn crafted_saved_runs_are_refused_with_a_reason() {
    use serde_json::json;
    let device = Device::flex();
    let valid = untrained_decoder();
    saved::load(&valid, &device).expect("the untouched files load");
    let tokenizer = |pointer: &str, value: Option<serde_json::Value>| saved::SavedFiles {
        tokenizer_json: edit(&valid.tokenizer_json, pointer, value),
        ..valid.clone()
    };
    let config = |edits: &[(&str, serde_json::Value)]| saved::SavedFiles {
        config_json: edits
            .iter()
            .fold(valid.config_json.clone(), |json, (pointer, value)| {
                edit(&json, pointer, Some(value.clone()))
            }),
        ..valid.clone()
    };
    // The vocabulary's last token moved to an id far past the embedding table.
    let vocab: serde_json::Value = serde_json::from_str(&valid.tokenizer_json).expect("json");
    let (token, _) = vocab["model"]["vocab"]
        .as_object()
        .and_then(|v| v.iter().max_by_key(|(_, id)| id.as_u64()))
        .expect("a vocabulary");
    let sparse = tokenizer(&format!("/model/vocab/{token}"), Some(json!(5000)));
    // The longest token gone, so the merge that makes it makes nothing (`tokenizers` indexed
    // past a buffer there), and the file cut off inside its decoder (where it panicked).
    let (longest, _) = vocab["model"]["vocab"]
        .as_object()
        .and_then(|v| v.iter().max_by_key(|(token, _)| token.len()))
        .expect("a vocabulary");
    let unmade = tokenizer(&format!("/model/vocab/{longest}"), None);
    let decoder = valid.tokenizer_json.find("\"decoder\"").expect("a decoder");
    let cut = saved::SavedFiles {
        tokenizer_json: valid.tokenizer_json[..decoder + 30].to_string(),
        ..valid.clone()
    };
    let cases: [(&str, saved::SavedFiles, &[&str]); 12] = [
        (
            "an unbounded sample",
            config(&[("/config/sample_tokens", json!(1_000_000_000u64))]),
            &["config.json"],
        ),
        (
            "a missing learning rate",
            config(&[("/config/peak_lr", serde_json::Value::Null)]),
            &["config.json"],
        ),
        (
            "a vocabulary the model has not",
            config(&[("/vocab_size", json!(5))]),
            &["config.json"],
        ),
        (
            "another size than the weights",
            saved::SavedFiles {
                summary_json: edit(&valid.summary_json, "/size", Some(json!("default"))),
                ..config(&[
                    ("/config/size", json!("default")),
                    ("/vocab_size", json!(2048)),
                ])
            },
            &["model.bpk", "config.json"],
        ),
        ("sparse tokenizer ids", sparse, &["tokenizer.json"]),
        (
            "a foreign normalizer",
            tokenizer("/normalizer", Some(json!({"type": "Lowercase"}))),
            &["tokenizer.json"],
        ),
        (
            "a foreign pre-tokenizer",
            tokenizer("/pre_tokenizer", Some(json!({"type": "Whitespace"}))),
            &["tokenizer.json"],
        ),
        ("a merge that makes no token", unmade, &["tokenizer.json"]),
        ("a file cut in its decoder", cut, &["tokenizer.json"]),
        (
            "a random (dropout) BPE",
            tokenizer("/model/dropout", Some(json!(0.5))),
            &["tokenizer.json"],
        ),
        (
            "the summary of another run",
            saved::SavedFiles {
                summary_json: edit(&valid.summary_json, "/size", Some(json!("default"))),
                ..valid.clone()
            },
            &["run.json"],
        ),
        (
            "weights of another type",
            saved::SavedFiles {
                model: as_f64_record(&valid.model),
                ..valid.clone()
            },
            &["model.bpk", "config.json"],
        ),
    ];
    for (what, files, named) in cases {
        let error = saved::load(&files, &device)
            .err()
            .unwrap_or_else(|| panic!("{what} is refused"));
        let message = error.to_string();
        assert!(
            matches!(error, CoreError::SavedRun(_)) && named.iter().all(|f| message.contains(f)),
            "{what}: {message}"
        );
    }
}

/// A prompt that encodes to no ids at all starts where every document starts (after an
/// [EOS]) instead of reading before the start of the sequence.
#[test]
fn an_empty_prompt_still_generates_or_is_refused() {
    let files = untrained_decoder();
    let loaded = saved::load(&files, &Device::flex()).expect("load");
    let Network::Stack(model) = &loaded.network else {
        panic!("a decoder is one stack");
    };
    assert!(loaded.tokenizer.encode("").expect("encode").is_empty());
    let backend = Backend::cpu();
    for max_tokens in [0, 3] {
        let text = block_on(write_continuation(
            model,
            &loaded.tokenizer,
            "",
            7,
            max_tokens,
            &backend,
        ))
        .expect("an empty prompt is continued");
        assert!(max_tokens > 0 || text.is_empty());
    }
}

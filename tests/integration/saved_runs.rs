//! A trained run saved to files and loaded back gives the same outputs, for every
//! architecture; damaged files are typed errors.

use std::sync::OnceLock;

use burn::tensor::Device;
use pretrain_playground::core::backend::Backend;
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{SystemClock, block_on};
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

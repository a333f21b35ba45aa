//! A trained run saved to files and loaded back gives the same outputs, for every
//! architecture; damaged files are typed errors.

use burn::tensor::Device;
use pretrain_playground::core::backend::Backend;
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{SystemClock, block_on};
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::network::{BatchTensors, Network};
use pretrain_playground::core::saved;
use pretrain_playground::core::summary::TrainEvent;
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

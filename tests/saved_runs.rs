//! A trained run saved to files and loaded back gives the same outputs, for every
//! architecture; damaged files are typed errors.

use burn::tensor::Device;
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{SystemClock, block_on};
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::objective::clm::clm_eval_batches;
use pretrain_playground::core::saved;
use pretrain_playground::core::summary::TrainEvent;
use pretrain_playground::core::train::network::Network;
use pretrain_playground::core::train::{Backend, Trainer};

fn logits(
    network: &Network,
    batch: &pretrain_playground::core::objective::BatchTensors,
) -> Vec<f32> {
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
        let mut config = RunConfig::new(size);
        config.budget_tokens = 3_000;
        let (mix, name) = ObjectiveMix::parse(preset).expect("mix");
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
        let network = trainer.network().expect("network");
        let files = saved::save(
            network,
            &trainer.saved_config(),
            trainer.tokenizer(),
            &summary,
        )
        .expect("save");
        let loaded = saved::load(&files, &device).expect("load");
        assert_eq!(loaded.summary, *summary);
        assert_eq!(loaded.saved.mix, preset);
        assert_eq!(
            loaded.tokenizer.encode("Hi Maria").expect("encode"),
            trainer.tokenizer().encode("Hi Maria").expect("encode")
        );
        // Any batch the plan draws: the two networks agree on it.
        let specials = trainer.tokenizer().specials();
        let probe = if preset == "gpt" {
            clm_eval_batches(&dataset.validation, 2, 32, 1, specials)
                .expect("batch")
                .remove(0)
        } else {
            continue_with_plan_batch(preset, &dataset)
        };
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

/// One validation batch of the preset's first batch kind.
fn continue_with_plan_batch(
    preset: &str,
    dataset: &Dataset,
) -> pretrain_playground::core::objective::Batch {
    use pretrain_playground::core::objective::{coherence, mlm, plm, span};
    let specials = dataset.tokenizer.specials();
    let vocab = ModelSize::Fast.model().vocab_size;
    match preset {
        "bert" => coherence::pair_eval_batches(
            coherence::PairTask::Nsp,
            &dataset.validation_segments,
            coherence::PairTokens::Mlm(mlm::MlmConfig::default()),
            2,
            32,
            1,
            specials,
            vocab,
            1,
        )
        .expect("pairs")
        .remove(0),
        "t5" => span::span_eval_batches(
            &dataset.validation,
            span::SpanConfig::default(),
            2,
            32,
            1,
            specials,
            1,
        )
        .expect("span")
        .remove(0),
        _ => plm::plm_eval_batches(
            &dataset.validation,
            plm::PlmConfig::default(),
            2,
            32,
            1,
            specials,
            1,
        )
        .expect("plm")
        .remove(0),
    }
}

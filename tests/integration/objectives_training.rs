//! Every preset trains natively on the support-desk corpus: a short `fast` run's validation
//! loss falls well below where it started (by at least 0.75 nats), and the summary carries each objective's own loss.

use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{SystemClock, block_on};
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::summary::{RunStatus, RunSummary, TrainEvent};
use pretrain_playground::core::train::{Backend, Trainer};

fn run(mix: &str, budget: u64, dataset: &Dataset) -> RunSummary {
    let size = ModelSize::Fast;
    let mut config = RunConfig::new(size);
    config.budget_tokens = budget;
    config.seed = 3;
    config.eval_every_steps = 1_000;
    let (mix, preset) = ObjectiveMix::parse(mix).expect("mix");
    let (mut trainer, _) = block_on(Trainer::start(
        dataset.clone(),
        config,
        mix,
        preset.map(String::from),
        Backend::cpu(),
        Box::new(SystemClock::default()),
    ))
    .unwrap_or_else(|e| panic!("{mix}: {e}"));
    loop {
        for event in block_on(trainer.advance()).expect("advance") {
            if let TrainEvent::Finished(summary) = event {
                return *summary;
            }
        }
    }
}

#[test]
fn every_preset_learns_in_a_short_fast_run() {
    let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
    for preset in ["gpt", "roberta", "bert", "albert", "t5", "bart", "xlnet"] {
        let s = run(preset, 60_000, &dataset);
        assert_eq!(s.status, RunStatus::Finished, "{preset}");
        // At 60k tokens (~240 `fast` steps) every family is at least 0.75 nats below where it
        // started (measured: 1.0 for XLNet and RoBERTa up to 3.2 for T5).
        assert!(
            s.final_val_loss < s.initial_val_loss - 0.75,
            "{preset}: validation loss {} → {}",
            s.initial_val_loss,
            s.final_val_loss
        );
        let (mix, _) = ObjectiveMix::parse(preset).expect("mix");
        for objective in std::iter::once(mix.primary).chain(mix.auxiliary) {
            assert!(
                s.val_loss_components.contains_key(objective.name()),
                "{preset}: no component for {}: {:?}",
                objective.name(),
                s.val_loss_components
            );
        }
        assert!(s.val_loss_corrupted.is_some(), "{preset}");
        assert!(
            s.supervised_tokens_per_step > 0.0 && s.flops_per_step > 0.0,
            "{preset}"
        );
        eprintln!(
            "{preset:8} {:>10} val {:.3} → {:.3} · components {:?} · corrupted {:?} (unigram {:?}) · pairs {:?} · {:.0} supervised/step",
            s.architecture.as_deref().unwrap_or("?"),
            s.initial_val_loss,
            s.final_val_loss,
            s.val_loss_components,
            s.val_loss_corrupted,
            s.unigram_entropy_corrupted,
            s.val_pair_accuracy,
            s.supervised_tokens_per_step
        );
    }
}

#[test]
fn sentence_pair_objectives_alone_train_the_pair_head() {
    let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
    for mix in ["nsp", "sop", "clm+sop", "span+nsp"] {
        let s = run(mix, 8_000, &dataset);
        assert_eq!(s.status, RunStatus::Finished, "{mix}");
        assert!(s.val_pair_accuracy.is_some(), "{mix}");
        assert!(s.final_val_loss.is_finite(), "{mix}");
    }
}

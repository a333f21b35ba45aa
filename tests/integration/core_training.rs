//! Native tests of the core's behaviour: the causal mask really hides the future, attention
//! puts no weight on blocked cells, and a short CPU run learns more than word frequencies.

use burn::module::Module;
use burn::tensor::Device;
use pretrain_playground::core::backend::Backend;
use pretrain_playground::core::config::Schedule;
use pretrain_playground::core::config::{ModelSize, RunConfig};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{SystemClock, block_on};
use pretrain_playground::core::masks::AttentionMask;
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::{Extras, Transformer};
use pretrain_playground::core::summary::{RunStatus, TrainEvent};
use pretrain_playground::core::train::{Trainer, learning_rate};

use crate::support::{ids, small_config};

fn logits(model: &Transformer, tokens: &[i64], device: &Device) -> Vec<f32> {
    let mask = AttentionMask::causal(1, tokens.len()).to_tensor(device);
    let out = model.forward(ids(tokens, device), &mask, false);
    block_on(out.logits.into_data_async())
        .expect("read")
        .try_into_vec::<f32>()
        .expect("f32")
}

#[test]
fn causal_prediction_of_token_t_ignores_token_t_and_later() {
    let device = Device::flex();
    let config = small_config(12);
    let model = Transformer::init(&config, Extras::default(), 11, &device);
    let base: Vec<i64> = vec![5, 9, 13, 20, 33, 41, 2, 7, 50, 61];
    let reference = logits(&model, &base, &device);
    let v = config.vocab_size;
    for t in 1..base.len() {
        // Change token t and everything after it.
        let mut changed = base.clone();
        for (i, x) in changed.iter_mut().enumerate().skip(t) {
            *x = (*x + 17 + i as i64) % v as i64;
        }
        let out = logits(&model, &changed, &device);
        // Positions 0..t predict tokens 1..=t: none of them may move.
        for pos in 0..t {
            for k in 0..v {
                let (a, b) = (reference[pos * v + k], out[pos * v + k]);
                assert!(
                    (a - b).abs() < 1e-5,
                    "position {pos} moved when token {t} changed: {a} vs {b}"
                );
            }
        }
        // And the change is visible at position t itself (the model is not constant).
        let moved = (0..v).any(|k| (reference[t * v + k] - out[t * v + k]).abs() > 1e-6);
        assert!(
            moved,
            "changing token {t} should change the prediction made at position {t}"
        );
    }
}

#[test]
fn attention_puts_no_weight_on_blocked_cells_and_returns_the_mask() {
    let device = Device::flex();
    let config = small_config(12);
    let model = Transformer::init(&config, Extras::default(), 3, &device);
    let tokens: Vec<i64> = (0..12).map(|i| (i * 5 + 1) % 64).collect();
    let plain = AttentionMask::causal(1, tokens.len());
    let out = model.forward(ids(&tokens, &device), &plain.to_tensor(&device), true);
    assert_eq!(out.attention.layers.len(), config.n_layers);
    for layer in out.attention.layers {
        let [b, h, s, _] = layer.weights.dims();
        let weights: Vec<f32> = block_on(layer.weights.into_data_async())
            .expect("read")
            .try_into_vec()
            .expect("f32");
        let applied: Vec<bool> = block_on(layer.mask.into_data_async())
            .expect("read")
            .try_into_vec()
            .expect("bool");
        assert_eq!(
            applied, plain.blocked,
            "the trace carries the mask that was applied"
        );
        for bh in 0..b * h {
            for q in 0..s {
                let row = &weights[(bh * s + q) * s..(bh * s + q + 1) * s];
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
                for (k, w) in row.iter().enumerate() {
                    if plain.is_blocked(0, q, k) {
                        assert!(*w < 1e-6, "blocked cell ({q},{k}) has weight {w}");
                    }
                }
            }
        }
    }
}

#[test]
fn parameter_counts_match_the_reference_layout() {
    let device = Device::flex();
    for size in ModelSize::ALL {
        let config = size.model();
        let model = Transformer::init(&config, Extras::default(), 0, &device);
        assert_eq!(model.num_params(), config.decoder_params(), "{size}");
    }
}

#[test]
fn same_seed_same_initial_weights() {
    let device = Device::flex();
    let config = small_config(12);
    let tokens = [1i64, 2, 3, 4];
    let a = logits(
        &Transformer::init(&config, Extras::default(), 5, &device),
        &tokens,
        &device,
    );
    let b = logits(
        &Transformer::init(&config, Extras::default(), 5, &device),
        &tokens,
        &device,
    );
    let c = logits(
        &Transformer::init(&config, Extras::default(), 6, &device),
        &tokens,
        &device,
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn learning_rate_warms_up_then_decays() {
    let peak = 1e-3;
    let cosine = |s| learning_rate(s, 100, 10, peak, Schedule::Cosine);
    assert!((cosine(1) - 1e-4).abs() < 1e-12);
    assert!((cosine(10) - peak).abs() < 1e-12);
    assert!(cosine(55) < peak);
    assert!((cosine(100) - 0.1 * peak).abs() < 1e-12);
    assert!((cosine(500) - 0.1 * peak).abs() < 1e-12);
}

/// A short CPU run of the `fast` size: the validation loss ends below the unigram entropy,
/// the summary is complete, and the budget counts original tokens only.
#[test]
fn short_fast_run_beats_the_unigram_baseline() {
    let size = ModelSize::Fast;
    let mut config = RunConfig::new(size);
    config.budget_tokens = 100_000;
    config.seed = 1;
    let dataset = Dataset::support(config.corpus_seed, size.model().vocab_size).expect("dataset");
    let (mix, preset) = ObjectiveMix::parse("gpt").expect("mix");
    let (mut trainer, first) = block_on(Trainer::start(
        dataset,
        config.clone(),
        mix,
        preset.map(String::from),
        Backend::cpu(),
        Box::new(SystemClock::default()),
    ))
    .expect("start");
    assert!(matches!(first[0], TrainEvent::Eval { step: 0, .. }));
    assert!(matches!(first[1], TrainEvent::Sample { .. }));
    let mut summary = None;
    let mut steps = 0;
    while summary.is_none() {
        for event in block_on(trainer.advance()).expect("advance") {
            match event {
                TrainEvent::Step(report) => {
                    steps += 1;
                    assert!(report.loss.is_finite());
                    assert!(report.supervised_tokens > 0);
                }
                TrainEvent::Finished(s) => summary = Some(*s),
                _ => {}
            }
        }
        assert!(steps < 10_000, "the run must stop on its budget");
    }
    let s = summary.expect("summary");
    assert_eq!(s.status, RunStatus::Finished);
    assert_eq!(s.mix, "clm");
    assert_eq!(s.preset.as_deref(), Some("gpt"));
    assert_eq!(s.params, size.model().decoder_params());
    assert!(s.tokens >= config.budget_tokens);
    assert!(
        s.tokens < config.budget_tokens + s.tokens_per_step as u64,
        "stops on the first step past the budget"
    );
    assert!(s.tokens <= (s.steps * s.tokens_per_step) as u64);
    assert_eq!(s.curve.len(), s.steps);
    assert!(s.train_s > 0.0 && s.wall_s >= s.train_s);
    let loss = s.val_loss_corrupted.expect("a token loss");
    let margin = s.unigram_entropy - f64::from(loss);
    assert!(
        margin > 2.0 * f64::from(s.unigram_margin_se.expect("a standard error")),
        "validation loss {loss} should beat word frequencies on the same positions {} by \
         more than noise",
        s.unigram_entropy
    );
    assert!(s.eval_positions.expect("positions") >= 6_000);
    assert!(s.final_val_loss < s.initial_val_loss);
    let json = serde_json::to_string(&s).expect("json");
    assert!(json.contains("\"schema_version\":3") && json.contains("\"status\":\"finished\""));
}

#[test]
fn pairings_without_a_plan_are_refused_before_training() {
    let size = ModelSize::Fast;
    let dataset = Dataset::support(1, size.model().vocab_size).expect("dataset");
    // Parses, but a causal decoder and an encoder-decoder are two networks.
    let (mix, _) = ObjectiveMix::parse("clm+span").expect("mix");
    let result = block_on(Trainer::start(
        dataset,
        RunConfig::new(size),
        mix,
        None,
        Backend::cpu(),
        Box::new(SystemClock::default()),
    ));
    let Err(err) = result else {
        panic!("clm+span has no plan")
    };
    assert!(err.to_string().contains("cannot be trained"), "{err}");
}

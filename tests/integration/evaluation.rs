//! The run evaluation end to end on untrained networks of every architecture: each mix is
//! scored under its own protocol (or says it cannot generate), the probe and its untrained twin
//! run on every negative kind, the pair head reads pairs zero-shot where one exists, and the
//! pair features do not depend on the padding a batch adds.

use std::sync::OnceLock;

use pretrain_playground::core::config::ModelSize;
use pretrain_playground::core::corpus::{PairKind, PairSource, Split};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::eval::features::{ProbeFormat, pair_features};
use pretrain_playground::core::eval::pair_input::EncodedPair;
use pretrain_playground::core::eval::run::{EvalSizes, RunToEvaluate, evaluate_run};
use pretrain_playground::core::exec::{NoYield, block_on};
use pretrain_playground::core::mix::ObjectiveMix;
use pretrain_playground::core::model::network::Network;
use pretrain_playground::core::plan::plan;

/// The embedded corpus at the `fast` vocabulary, built once for both tests.
fn dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET
        .get_or_init(|| Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset"))
}

#[test]
fn every_mix_is_evaluated_under_its_own_protocol() {
    let dataset = dataset();
    let config = ModelSize::Fast.model();
    let device = burn::tensor::Device::flex();
    let sizes = EvalSizes {
        gen_examples: 4,
        probe_fit: 20,
        probe_test: 20,
        replies: 2,
        likelihood_pairs: 20,
    };
    let vocab = config.vocab_size as f64;
    for name in [
        "gpt", "roberta", "bert", "albert", "t5", "bart", "xlnet", "nsp",
    ] {
        let (mix, _) = ObjectiveMix::parse(name).expect("mix");
        let plan = plan(&mix).expect("plan");
        let network = Network::init(plan.architecture, plan.extras(), &config, 7, &device);
        let run = RunToEvaluate {
            network: &network,
            plan: &plan,
            model_config: &config,
            seed: 7,
            dataset,
        };
        let e = block_on(evaluate_run(run, sizes, "CPU", &mut NoYield)).expect(name);
        match name {
            "nsp" => {
                assert!(e.gen_ppl.is_none() && e.gen_pppl.is_none(), "{name}");
                assert!(
                    e.gen_note
                        .as_deref()
                        .is_some_and(|n| n.starts_with("cannot generate"))
                );
            }
            "roberta" | "bert" | "albert" => {
                assert!(
                    e.gen_ppl.is_none(),
                    "{name}: a pseudo-perplexity is not a perplexity"
                );
                assert!(e.gen_pppl.is_some(), "{name}");
            }
            _ => {
                let ppl = e.gen_ppl.expect(name);
                // An untrained network spreads its probability nearly evenly over the vocabulary.
                assert!(ppl > 0.5 * vocab && ppl < 2.0 * vocab, "{name}: {ppl}");
                assert!(e.gen_ppl_protocol.is_some());
            }
        }
        if name != "nsp" {
            let replies = e.replies.as_ref().expect(name);
            assert_eq!(replies.greedy.replies, 2, "{name}");
            assert_eq!(e.compliance, Some(replies.greedy.compliance), "{name}");
            // Every writer is also judged at the common bound, half the window at `fast`.
            assert_eq!(e.compliance_common_cap, Some(16), "{name}");
            let common = replies.common.as_ref().expect(name);
            assert_eq!(
                e.compliance_common,
                Some(common.greedy.compliance),
                "{name}"
            );
            assert!(e.compliance_common_se.is_some_and(f64::is_finite), "{name}");
            // The baselines at the writer's bound, then at the common bound where it is shorter
            // (gpt's window slides to 96 tokens).
            let writers: Vec<(&str, Option<usize>)> = e
                .reply_baselines
                .iter()
                .map(|b| (b.writer.as_str(), b.cap))
                .collect();
            let mut expected = vec![
                ("majority-action", replies.cap),
                ("retrieve-nearest", replies.cap),
            ];
            if name == "gpt" {
                assert_eq!(replies.cap, Some(96));
                expected.extend([
                    ("majority-action", Some(16)),
                    ("retrieve-nearest", Some(16)),
                ]);
            } else {
                assert_eq!(replies.cap, Some(16), "{name}");
                assert_eq!(
                    common.greedy, replies.greedy,
                    "{name}: its own bound is common"
                );
            }
            assert_eq!(writers, expected, "{name}");
        }
        for g in &e.gen_scores {
            assert_eq!(g.examples, 4, "{name}");
            assert!(g.perplexity_se.is_finite(), "{name}");
        }
        for kind in PairKind::ALL {
            let acc = e.probe_acc.get(kind).expect("probe");
            assert!((0.0..=1.0).contains(&acc), "{name} {kind:?}");
            assert_eq!(e.probe_n.get(kind), Some(20.0), "{name}");
            // The network is untrained and its twin has the same seed: the same features,
            // the same probe, the same figure.
            assert_eq!(e.random_init_acc.get(kind), Some(acc), "{name} {kind:?}");
            // ... pair by pair: no discordant pair, no difference.
            let paired = e.probe_vs_twin.get(kind).expect("paired");
            assert_eq!(
                (paired.n, paired.first_right_only, paired.second_right_only),
                (20, 0, 0),
                "{name} {kind:?}"
            );
        }
        // Every run that scores tokens also reads pairs zero-shot by likelihood; every B of the
        // support-desk pairs has tokens to score, so none is left out.
        assert_eq!(
            e.zeroshot_likelihood_acc.get(PairKind::Hard).is_some(),
            name != "nsp",
            "{name}"
        );
        if name != "nsp" {
            for kind in PairKind::ALL {
                assert_eq!(e.zeroshot_likelihood_dropped.get(kind), Some(0.0), "{name}");
            }
        }
        let has_head = matches!(name, "bert" | "albert" | "nsp");
        assert_eq!(e.zeroshot_method.is_some(), has_head, "{name}");
        assert_eq!(
            e.zeroshot_acc.get(PairKind::Swapped).is_some(),
            has_head,
            "{name}"
        );
        assert_eq!(
            e.probe_pooling.as_deref(),
            Some(match name {
                "gpt" | "xlnet" => "last‖mean",
                "roberta" => "mean‖last",
                "t5" | "bart" => "encoder-mean‖decoder-last",
                _ => "cls‖mean",
            }),
            "{name}"
        );
    }
}

#[test]
fn pair_features_do_not_depend_on_the_padding_of_their_batch() {
    let dataset = dataset();
    let config = ModelSize::Fast.model();
    let device = burn::tensor::Device::flex();
    let specials = dataset.tokenizer.specials();
    let set = dataset
        .corpus
        .pair_set(Split::Validation, PairKind::Hard)
        .expect("hard pairs");
    let encode = |t: &str| dataset.tokenizer.encode(t).expect("encode");
    let short = EncodedPair {
        a: encode("Thank you."),
        b: encode("You are welcome."),
        source: PairSource::Consecutive,
        label: 1,
    };
    let long = EncodedPair {
        a: encode(&set.pairs[0].a),
        b: encode(&set.pairs[0].b),
        source: set.pairs[0].source,
        label: set.pairs[0].label,
    };
    for name in ["gpt", "roberta", "bert", "t5", "xlnet"] {
        let (mix, _) = ObjectiveMix::parse(name).expect("mix");
        let plan = plan(&mix).expect("plan");
        let network = Network::init(plan.architecture, plan.extras(), &config, 3, &device);
        let format = ProbeFormat::of(&plan);
        let features = |pairs: &[EncodedPair]| {
            block_on(pair_features(
                &network,
                &format,
                pairs,
                config.max_seq_len,
                specials,
                "CPU",
                &mut NoYield,
            ))
            .expect(name)
        };
        let alone = features(std::slice::from_ref(&short));
        let padded = features(&[short.clone(), long.clone()]);
        assert_eq!(alone.rows[0].len(), 2 * config.d_model, "{name}");
        for (a, b) in alone.rows[0].iter().zip(&padded.rows[0]) {
            assert!(
                (a - b).abs() < 1e-4,
                "{name}: padding changed a feature {a} → {b}"
            );
        }
        if let (Some(a), Some(b)) = (&alone.head, &padded.head) {
            assert!(
                (a[0] - b[0]).abs() < 1e-5,
                "{name}: padding changed the head"
            );
        }
    }
}

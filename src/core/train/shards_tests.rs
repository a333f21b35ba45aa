use super::*;
use crate::core::backend::Backend;
use crate::core::config::{ModelSize, RunConfig};
use crate::core::data::Dataset;
use crate::core::exec::{SystemClock, block_on};
use crate::core::mix::ObjectiveMix;
use crate::core::plan::plan;
use crate::core::summary::{RunSummary, TrainEvent};
use crate::core::train::{Trainer, first_batches};

fn dataset() -> Dataset {
    Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset")
}

fn config(batch_size: usize) -> RunConfig {
    let mut config = RunConfig::new(ModelSize::Fast);
    config.batch_size = batch_size;
    config.budget_tokens = 2_000;
    config.evaluations = 2;
    config.sample_every_s = 1.0e6;
    config
}

/// One field of a batch as numbers.
type Field = dyn Fn(&Batch) -> Vec<f32>;

#[test]
fn rows_are_cut_evenly_and_cover_the_batch_once() {
    assert_eq!(shard_rows(8, 2), [0..4, 4..8]);
    assert_eq!(shard_rows(7, 3), [0..2, 2..4, 4..7]);
    assert_eq!(
        shard_rows(2, 5),
        [0..1, 1..2],
        "never more shards than rows"
    );
    assert_eq!(shard_rows(4, 0), vec![0..4], "never none");
    for b in 1..20 {
        for k in 1..9 {
            let rows = shard_rows(b, k);
            assert_eq!(rows.first().map(|r| r.start), Some(0));
            assert_eq!(rows.last().map(|r| r.end), Some(b));
            assert!(rows.windows(2).all(|w| w[0].end == w[1].start));
            let sizes: Vec<usize> = rows.iter().map(|r| r.len()).collect();
            let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
            assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{b} {k}");
        }
    }
}

/// Every objective's batch cut into shards: each field is the whole batch's rows, and the
/// shards' supervised positions add up to the batch's.
#[test]
fn a_batch_of_every_objective_cuts_into_shards_that_add_back_up() {
    let data = dataset();
    for mix in ["clm", "mlm+nsp", "mlm+sop", "span", "infill", "plm"] {
        let (mix, _) = ObjectiveMix::parse(mix).expect("mix");
        for (kind, batch) in first_batches(&data, &config(6), &mix).expect("batches") {
            let cut: Vec<Batch> = shard_rows(batch.batch_size, 4)
                .into_iter()
                .map(|r| batch.rows(r))
                .collect();
            let cat = |f: &Field| -> Vec<f32> { cut.iter().flat_map(f).collect() };
            let whole = |f: &Field| f(&batch);
            let fields: [&Field; 9] = [
                &|b| b.inputs.iter().map(|&x| x as f32).collect(),
                &|b| b.targets.iter().map(|&x| x as f32).collect(),
                &|b| b.loss_weights.clone(),
                &|b| b.corrupted.clone(),
                &|b| b.mask.blocked.iter().map(|&x| x as u8 as f32).collect(),
                &|b| b.segments.iter().flatten().map(|&x| x as f32).collect(),
                &|b| {
                    b.decoder
                        .iter()
                        .flat_map(|d| {
                            d.inputs.iter().map(|&x| x as f32).chain(
                                d.self_mask
                                    .blocked
                                    .iter()
                                    .chain(&d.cross_mask.blocked)
                                    .map(|&x| x as u8 as f32),
                            )
                        })
                        .collect()
                },
                &|b| {
                    b.query
                        .iter()
                        .flat_map(|q| {
                            q.row_valid
                                .iter()
                                .copied()
                                .chain(q.mask.blocked.iter().map(|&x| x as u8 as f32))
                        })
                        .collect()
                },
                &|b| {
                    b.pairs
                        .iter()
                        .flat_map(|p| p.heads.iter().chain(&p.labels).map(|&x| x as f32))
                        .collect()
                },
            ];
            for (i, field) in fields.iter().enumerate() {
                let (mut a, mut w) = (cat(field), whole(field));
                // Fields made of two parts per shard (decoder, query, pairs) interleave
                // differently; compare them as multisets of values.
                if i >= 6 {
                    a.sort_by(f32::total_cmp);
                    w.sort_by(f32::total_cmp);
                }
                assert_eq!(a, w, "{kind:?} field {i}");
            }
            assert_eq!(
                cut.iter().map(|b| b.supervised_tokens).sum::<usize>(),
                batch.supervised_tokens,
                "{kind:?}"
            );
            assert!(
                cut.iter()
                    .all(|b| b.original_tokens == batch.original_tokens)
            );
        }
    }
}

fn network(mix: &ObjectiveMix) -> Network {
    let plan = plan(mix).expect("plan");
    Network::init(
        plan.architecture,
        plan.extras(),
        &ModelSize::Fast.model(),
        3,
        &Backend::cpu().device.autodiff(),
    )
}

fn scales_of(batch: &Batch, kind: crate::core::plan::BatchKind, mix: &ObjectiveMix) -> LossScales {
    LossScales {
        tokens: kind.tokens.map(|o| {
            (
                1.0 / batch.supervised_tokens.max(1) as f64,
                mix.weight_of(o),
            )
        }),
        pairs: kind
            .pairs
            .map(|o| (1.0 / batch.batch_size as f64, mix.weight_of(o))),
    }
}

/// The gradient sum of 2 and 4 shards is the whole batch's gradient, up to float rounding:
/// the test of the gradient sum the page's helpers rely on, for every architecture.
#[test]
fn summed_shard_gradients_are_the_whole_batchs_gradient() {
    let data = dataset();
    for text in ["clm", "mlm+sop@0.5", "span", "infill", "plm"] {
        let (mix, _) = ObjectiveMix::parse(text).expect("mix");
        let model = network(&mix);
        for (kind, batch) in first_batches(&data, &config(8), &mix).expect("batches") {
            let scales = scales_of(&batch, kind, &mix);
            let whole = sum_shards(
                shard_jobs(&batch, 1, scales)
                    .iter()
                    .map(|job| block_on(shard_gradients(&model, job, "cpu")).expect("grads"))
                    .collect(),
            )
            .expect("one");
            let norm = whole.values.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!(norm > 0.0, "{text}");
            for k in [2, 4] {
                let jobs = shard_jobs(&batch, k, scales);
                let parts: Vec<ShardGrads> = jobs
                    .iter()
                    .map(|job| block_on(shard_gradients(&model, job, "cpu")).expect("grads"))
                    .collect();
                let sum = sum_shards(parts).expect("sum");
                assert_eq!(sum.present, whole.present, "{text}");
                let diff = sum
                    .values
                    .iter()
                    .zip(&whole.values)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt();
                assert!(
                    diff <= 1e-5 * norm,
                    "{text} {k} shards: |Δ| {diff} against |g| {norm}"
                );
                assert!(
                    (sum.parts[0] - whole.parts[0]).abs() <= 1e-5 * whole.parts[0].abs(),
                    "{text}: loss {} vs {}",
                    sum.parts[0],
                    whole.parts[0]
                );
            }
        }
    }
}

#[test]
fn weights_read_back_load_into_a_fresh_network_of_the_same_plan() {
    let (mix, _) = ObjectiveMix::parse("mlm+nsp").expect("mix");
    let trained = network(&mix);
    let weights = block_on(read_weights(&trained, "cpu")).expect("read");
    assert_eq!(weights.len(), trained.num_params());
    let fresh = Network::init(
        plan(&mix).expect("plan").architecture,
        plan(&mix).expect("plan").extras(),
        &ModelSize::Fast.model(),
        99,
        &Backend::cpu().device.autodiff(),
    );
    assert_ne!(
        block_on(read_weights(&fresh, "cpu")).expect("read"),
        weights
    );
    let loaded = load_weights(fresh, &weights).expect("load");
    assert_eq!(
        block_on(read_weights(&loaded, "cpu")).expect("read"),
        weights
    );
    let (other, _) = ObjectiveMix::parse("span").expect("mix");
    assert!(
        load_weights(network(&other), &weights).is_err(),
        "another shape"
    );
    assert!(
        load_weights(network(&mix), &weights[1..]).is_err(),
        "too few"
    );
}

fn trainer(mix: &str, shards: usize, executor: Executor) -> Trainer {
    let (mix, _) = ObjectiveMix::parse(mix).expect("mix");
    let mut t = Trainer::new(
        dataset(),
        config(8),
        mix,
        None,
        Backend::cpu(),
        Box::new(SystemClock::default()),
    )
    .expect("trainer");
    t.set_parallel(shards, executor).expect("parallel");
    t
}

fn finish(t: &mut Trainer) -> RunSummary {
    loop {
        for event in block_on(t.advance()).expect("step") {
            if let TrainEvent::Finished(s) = event {
                let mut s = *s;
                s.wall_s = 0.0;
                s.train_s = 0.0;
                return s;
            }
        }
    }
}

fn losses(s: &RunSummary) -> Vec<f32> {
    s.curve.iter().map(|p| p.train_loss).collect()
}

/// The loss curve with 2 and 4 shards is the one-shard curve within a stated tolerance
/// (relative 1e-3 of each step's loss over a whole short run: the shards group float sums
/// differently, and a step's rounding feeds every later step); with a given shard count a run
/// is bit-identical run to run, on threads or not.
#[test]
fn sharded_runs_follow_the_one_shard_curve_and_repeat_bit_for_bit() {
    for mix in ["clm", "mlm+sop"] {
        let one = finish(&mut trainer(mix, 1, Executor::Local));
        let two_local = finish(&mut trainer(mix, 2, Executor::Local));
        #[cfg(not(target_arch = "wasm32"))]
        {
            let two_threads = finish(&mut trainer(mix, 2, Executor::Threads));
            assert_eq!(
                two_threads, two_local,
                "{mix}: threads or not, the same run"
            );
            let again = finish(&mut trainer(mix, 2, Executor::Threads));
            assert_eq!(again, two_threads, "{mix}: run to run");
        }
        let four = finish(&mut trainer(mix, 4, Executor::Local));
        assert_eq!(one.shards, Some(1));
        assert_eq!(four.shards, Some(4));
        assert_eq!(one.steps, four.steps);
        for other in [&two_local, &four] {
            for (a, b) in losses(&one).iter().zip(losses(other)) {
                assert!((a - b).abs() <= 1e-3 * a.abs(), "{mix}: {a} vs {b}");
            }
            let (a, b) = (one.final_val_loss, other.final_val_loss);
            assert!((a - b).abs() <= 1e-3 * a.abs(), "{mix}: val {a} vs {b}");
        }
    }
}

/// Helpers that compute shards right here (as a page's workers would, on the weights they are
/// sent), the second one failing on every other step.
struct FakeHelpers {
    network: Network,
    count: usize,
    pending: Vec<Result<ShardGrads, String>>,
    calls: usize,
}

impl ShardHelpers for FakeHelpers {
    fn count(&self) -> usize {
        self.count
    }

    fn send(&mut self, weights: &[f32], jobs: &[ShardJob]) -> Result<(), String> {
        self.calls += 1;
        let network = load_weights(self.network.clone(), weights).map_err(|e| e.to_string())?;
        self.pending = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| {
                if i == 1 && self.calls.is_multiple_of(2) {
                    Err("helper 2 stopped".into())
                } else {
                    block_on(shard_gradients(&network, job, "cpu")).map_err(|e| e.to_string())
                }
            })
            .collect();
        Ok(())
    }

    fn receive(&mut self) -> Received<'_> {
        let results = std::mem::take(&mut self.pending);
        Box::pin(async move { results })
    }
}

#[test]
fn a_step_whose_helper_fails_is_finished_here_and_the_run_is_unchanged() {
    let (mix, _) = ObjectiveMix::parse("clm").expect("mix");
    let helpers = FakeHelpers {
        network: network(&mix),
        count: 2,
        pending: Vec::new(),
        calls: 0,
    };
    let mut t = trainer("clm", 3, Executor::Helpers(Box::new(helpers)));
    block_on(t.advance()).expect("first step");
    assert!(t.take_helper_failures().is_empty());
    block_on(t.advance()).expect("second step");
    assert_eq!(t.take_helper_failures(), ["helper 2 stopped"]);
    let with_helpers = finish(&mut t);
    let here = finish(&mut trainer("clm", 3, Executor::Local));
    assert_eq!(
        with_helpers, here,
        "helpers, failing or not, change nothing"
    );
}

#[test]
fn shard_counts_outside_the_batch_are_refused() {
    let mut t = trainer("clm", 1, Executor::Local);
    assert!(t.set_parallel(0, Executor::Local).is_err());
    assert!(t.set_parallel(9, Executor::Local).is_err(), "batch of 8");
    assert!(t.set_parallel(MAX_SHARDS + 1, Executor::Local).is_err());
    assert!(t.set_parallel(8, Executor::Local).is_ok());
}

use std::sync::OnceLock;

use super::decode::{is_stop, step_rows};
use super::*;
use crate::core::backend::Backend;
use crate::core::config::ModelSize;
use crate::core::eval::baselines::replies::compliance_rate;
use crate::core::exec::{NoYield, block_on};
use crate::core::mix::ObjectiveMix;
use crate::core::objective::scoring::Decoding;
use crate::core::plan::plan;
use crate::core::tokenizer::SpecialIds;
use crate::core::tokenizer::special_names;

/// The standard support-desk corpus (corpus seed 1) with the `fast` vocabulary, built once.
fn dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET
        .get_or_init(|| Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset"))
}

fn token_objectives() -> Vec<Objective> {
    Objective::ALL
        .into_iter()
        .filter(|o| o.spec().tokens().is_some())
        .collect()
}

/// An untrained network of `size` for `objective` alone.
fn untrained(objective: Objective, size: ModelSize, seed: u64) -> Network {
    let plan = plan(&ObjectiveMix::single(objective)).expect("plan");
    let device = Backend::cpu().device;
    Network::init(
        plan.architecture,
        plan.extras(),
        &size.model(),
        seed,
        &device,
    )
}

fn decoding_of(objective: Objective) -> Decoding {
    objective
        .spec()
        .tokens()
        .expect("token objective")
        .scoring
        .decoding
}

#[test]
fn every_token_objective_names_its_own_decoding() {
    let decodings: Vec<(Objective, Decoding)> = token_objectives()
        .into_iter()
        .map(|o| (o, decoding_of(o)))
        .collect();
    assert_eq!(
        decodings,
        [
            (Objective::Mlm, Decoding::MaskFilling),
            (Objective::Clm, Decoding::LeftToRight),
            (Objective::Span, Decoding::Sentinel),
            (Objective::Infill, Decoding::Reconstruct),
            (Objective::Plm, Decoding::NaturalOrder),
        ]
    );
    // Every reply ends at [EOS] or [SEP]; a T5 span also at a sentinel; nothing else stops one.
    let s = SpecialIds::fixed();
    for (_, decoding) in decodings {
        assert!(is_stop(decoding, s, s.eos) && is_stop(decoding, s, s.sep));
        assert!(!is_stop(decoding, s, s.mask) && !is_stop(decoding, s, 300));
        let sentinel = is_stop(decoding, s, s.first_sentinel + 1);
        assert_eq!(sentinel, decoding == Decoding::Sentinel, "{decoding:?}");
    }
}

#[test]
fn the_context_is_cut_from_the_front_to_leave_room_for_the_reply() {
    let d = dataset();
    let s = d.tokenizer.specials();
    let ticket = test_tickets(d, 1).expect("tickets").remove(0).text;
    let whole = reply_context(d, &ticket, 1000).expect("context");
    assert_eq!(whole.first(), Some(&s.eos));
    assert_eq!(whole.last(), Some(&s.sep));
    let cut = reply_context(d, &ticket, 32).expect("context");
    assert_eq!(cut.len(), whole.len().min(32 - 1 - reply_cap(32)));
    assert!(whole.ends_with(&cut));
}

/// What each decoding step shows the model: never a token of the reply at or after the
/// position it predicts, and exactly the context and the reply so far before it.
#[test]
fn a_decoding_step_never_reads_the_future() {
    let s = SpecialIds::fixed();
    let contexts: [&[u32]; 2] = [&[s.eos, 100, 101, 102, s.sep], &[110, s.sep]];
    let written: [&[u32]; 2] = [&[200, 201], &[]];
    let rows: Vec<(&[u32], &[u32])> = contexts.into_iter().zip(written).collect();
    let cap = 4;
    for decoding in token_objectives().into_iter().map(decoding_of) {
        let step = step_rows(decoding, &rows, cap, s).expect("rows");
        let b = &step.batch;
        let (n, t) = (b.seq_len, b.target_len);
        assert_eq!(b.batch_size, 2);
        for (row, (c, w)) in rows.iter().enumerate() {
            let known: Vec<u32> = [*c, *w].concat();
            let input = &b.inputs[row * n..(row + 1) * n];
            let p = step.read_at[row] - row * t;
            match decoding {
                Decoding::LeftToRight => {
                    // The row is the context and the reply so far, read at its last token,
                    // which sees nothing after it.
                    assert_eq!(&input[..known.len()], known.as_slice());
                    assert!(input[known.len()..].iter().all(|&id| id == s.pad));
                    assert_eq!(p, known.len() - 1);
                    assert!((p + 1..n).all(|k| b.mask.is_blocked(row, p, k)));
                }
                Decoding::MaskFilling => {
                    // A fixed canvas of `cap` reply positions: the predicted one and every one
                    // after it hold [MASK].
                    assert_eq!(&input[..known.len()], known.as_slice());
                    assert_eq!(p, known.len());
                    let canvas = c.len() + cap;
                    assert!(input[p..canvas].iter().all(|&id| id == s.mask));
                    assert!(input[canvas..].iter().all(|&id| id == s.pad));
                }
                Decoding::Sentinel | Decoding::Reconstruct => {
                    let d = b.decoder.as_ref().expect("decoder side");
                    let opener = if decoding == Decoding::Sentinel {
                        s.first_sentinel
                    } else {
                        s.mask
                    };
                    // The encoder reads the context and one [SPAN0] / [MASK], no reply token.
                    let encoder = [*c, &[opener]].concat();
                    assert_eq!(&input[..encoder.len()], encoder.as_slice());
                    assert!(input[encoder.len()..].iter().all(|&id| id == s.pad));
                    // The decoder reads [BOS], the forced prefix ([SPAN0], or for BART the
                    // context itself), then the reply so far, and predicts from its last one.
                    let prefix: Vec<u32> = if decoding == Decoding::Sentinel {
                        vec![s.first_sentinel]
                    } else {
                        c.to_vec()
                    };
                    let decoder = [&[s.bos], prefix.as_slice(), *w].concat();
                    let inputs = &d.inputs[row * t..(row + 1) * t];
                    assert_eq!(&inputs[..decoder.len()], decoder.as_slice());
                    assert_eq!(p, decoder.len() - 1);
                    assert!((p + 1..t).all(|k| d.self_mask.is_blocked(row, p, k)));
                    if decoding == Decoding::Reconstruct {
                        assert_eq!(
                            &inputs[1..1 + c.len()],
                            *c,
                            "the forced prefix is the context"
                        );
                    }
                }
                Decoding::NaturalOrder => {
                    // The query stream at the new position reads the context and the reply so
                    // far, never its own position or anything after it.
                    let q = b.query.as_ref().expect("query stream");
                    assert_eq!(p, known.len());
                    assert_eq!(&input[..known.len()], known.as_slice());
                    assert!((0..p).all(|k| !q.mask.is_blocked(row, p, k)));
                    assert!((p..n).all(|k| q.mask.is_blocked(row, p, k)));
                    assert!(q.row_valid[row * n + p] > 0.0);
                }
            }
        }
    }
}

/// XLNet's new position holds a placeholder: what it is never changes the prediction there.
#[test]
fn the_natural_order_prediction_ignores_the_placeholder() {
    let network = untrained(Objective::Plm, ModelSize::Fast, 3);
    let s = SpecialIds::fixed();
    let (context, written) = ([s.eos, 100, 101, s.sep], [200, 201]);
    let rows: Vec<(&[u32], &[u32])> = vec![(&context, &written)];
    let step = step_rows(Decoding::NaturalOrder, &rows, 8, s).expect("rows");
    let read = step.read_at[0];
    let logits_with = |placeholder: u32| -> Vec<f32> {
        let mut batch = step.batch.clone();
        batch.inputs[read] = placeholder;
        let device = network.device();
        let logits = network.forward(&batch.to_tensors(&device), false).logits; // [1, t, v]
        let [_, t, v] = logits.dims();
        let row: Vec<f32> = block_on(logits.reshape([t, v]).narrow(0, read, 1).into_data_async())
            .expect("read")
            .try_into_vec::<f32>()
            .expect("f32");
        row
    };
    let masked = logits_with(s.mask);
    let other = logits_with(300);
    let gap = masked
        .iter()
        .zip(&other)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(gap < 1e-5, "the query stream read its own content: {gap}");
}

#[test]
fn every_token_objective_writes_replies_untrained() {
    let d = dataset();
    let s = d.tokenizer.specials();
    let seq_len = ModelSize::Fast.model().max_seq_len;
    let cap = reply_cap(seq_len);
    let label = Backend::cpu().label;
    let names = special_names();
    let contexts: Vec<Vec<u32>> = test_tickets(d, 4)
        .expect("tickets")
        .iter()
        .map(|t| reply_context(d, &t.text, seq_len).expect("context"))
        .collect();
    for objective in token_objectives() {
        let network = untrained(objective, ModelSize::Fast, 5);
        let decoding = decoding_of(objective);
        let write = |seed| {
            block_on(write_replies(
                &network,
                objective,
                d,
                4,
                seq_len,
                seed,
                &label,
                &mut NoYield,
            ))
            .expect("replies")
        };
        let report = write(7);
        assert_eq!(
            report,
            write(7),
            "{objective}: the same seed, the same replies"
        );
        assert_eq!(report.writer, objective.name());
        assert_eq!(report.decoding, decoding.name());
        assert_eq!(report.greedy.replies, 4);
        assert_eq!(report.sampled.as_ref().map(|s| s.replies), Some(4));
        assert_eq!(report.samples.len(), SAMPLES_KEPT);
        for reply in &report.samples {
            assert!(
                names
                    .iter()
                    .all(|name| !reply.reply.contains(name.as_str())),
                "{objective}: {:?}",
                reply.reply
            );
        }
        for pick in [Pick::Greedy, Pick::Sampled { seed: 7 }] {
            let decode = || {
                block_on(decode_replies(
                    &network,
                    decoding,
                    &contexts,
                    cap,
                    pick,
                    s,
                    &label,
                    &mut NoYield,
                ))
                .expect("decode")
            };
            let ids = decode();
            assert_eq!(ids, decode(), "{objective} {pick:?} is deterministic");
            assert_eq!(ids.len(), contexts.len());
            for reply in &ids {
                assert!(reply.len() <= cap, "{objective}: {} tokens", reply.len());
                assert!(
                    reply.iter().all(|&id| !s.is_special(id)),
                    "{objective}: {reply:?}"
                );
            }
        }
    }
}

#[test]
fn a_pair_objective_or_a_too_long_sequence_writes_nothing() {
    let d = dataset();
    let network = untrained(Objective::Clm, ModelSize::Fast, 1);
    let label = Backend::cpu().label;
    let run = |objective, seq_len| {
        block_on(write_replies(
            &network,
            objective,
            d,
            1,
            seq_len,
            1,
            &label,
            &mut NoYield,
        ))
    };
    assert!(matches!(run(Objective::Nsp, 32), Err(CoreError::Config(_))));
    assert!(matches!(run(Objective::Clm, 64), Err(CoreError::Config(_))));
    assert!(run(Objective::Clm, 32).is_ok());
}

/// On every test ticket the baselines here score what [`compliance_rate`] reports for them
/// (corpus seed 1: majority-action ≈ 0.726, retrieve-nearest ≈ 0.918).
#[test]
fn the_reply_baselines_match_the_baselines_compliance_rates() {
    let d = dataset();
    let reports = baseline_replies(d, usize::MAX, None).expect("baselines");
    let test: Vec<&Document> = d.corpus.split(Split::Test).collect();
    let majority = MajorityAction::fit(&d.corpus).expect("majority");
    let nearest = RetrieveNearest::fit(&d.corpus).expect("nearest");
    let expected = [
        (
            "majority-action",
            compliance_rate(test.iter().copied(), |doc| majority.reply(doc)),
            0.726,
        ),
        (
            "retrieve-nearest",
            compliance_rate(test.iter().copied(), |doc| nearest.reply(doc)),
            0.918,
        ),
    ];
    assert_eq!(reports.len(), expected.len());
    for (report, (writer, rate, about)) in reports.iter().zip(expected) {
        let rate = rate.expect("scored");
        let g = &report.greedy;
        println!(
            "{writer}: {:.3} ± {:.3} over {}, distinct-2 {:?}, repetition {:?}",
            g.compliance, g.compliance_se, g.replies, g.distinct2, g.repetition
        );
        assert_eq!(report.writer, writer);
        assert_eq!(g.replies, rate.scored);
        assert!((g.compliance - rate.rate).abs() < 1e-12, "{writer}");
        assert!((g.compliance_se - rate.rate_se).abs() < 1e-12, "{writer}");
        assert!(
            (g.compliance - about).abs() < 0.005,
            "{writer}: {}",
            g.compliance
        );
        assert!(g.distinct2.is_some_and(|x| x > 0.0 && x <= 1.0));
        assert!(g.repetition.is_some_and(|x| (0.0..1.0).contains(&x)));
        assert_eq!(report.sampled, None);
    }
}

/// How long 32 replies (greedy and sampled) take per objective on the CPU, untrained.
#[test]
#[ignore = "timing: cargo test --lib core::eval::replies -- --ignored --nocapture"]
fn time_thirty_two_replies_per_objective() {
    let label = Backend::cpu().label;
    for size in [ModelSize::Fast, ModelSize::Default] {
        let d = Dataset::support(1, size.model().vocab_size).expect("dataset");
        let seq_len = size.model().max_seq_len;
        for objective in token_objectives() {
            let network = untrained(objective, size, 1);
            let start = std::time::Instant::now();
            let report = block_on(write_replies(
                &network,
                objective,
                &d,
                32,
                seq_len,
                1,
                &label,
                &mut NoYield,
            ))
            .expect("replies");
            println!(
                "{} {objective}: 32 greedy + 32 sampled replies in {:.2} s (greedy compliance {:.2})",
                size.name(),
                start.elapsed().as_secs_f64(),
                report.greedy.compliance
            );
        }
    }
}

#[test]
fn a_left_to_right_writer_slides_its_window_and_the_others_do_not() {
    use super::decode::slide;
    let context: Vec<u32> = (100..120).collect();
    let short: Vec<u32> = (200..210).collect();
    let long: Vec<u32> = (200..240).collect();
    let left = Decoding::LeftToRight;
    assert_eq!(
        slide(left, &context, &short, 32),
        (&context[..], &short[..])
    );
    let (c, w) = slide(left, &context, &long[..20], 32);
    assert_eq!(
        (c, w),
        (&context[8..], &long[..20]),
        "the ticket's start leaves first"
    );
    let (c, w) = slide(left, &context, &long, 32);
    assert!(c.is_empty());
    assert_eq!(w, &long[8..]);
    for other in [
        Decoding::MaskFilling,
        Decoding::Sentinel,
        Decoding::Reconstruct,
    ] {
        assert_eq!(slide(other, &context, &long, 32), (&context[..], &long[..]));
    }
    assert_eq!(
        left.reply_cap(32),
        crate::core::objective::scoring::LONG_REPLY_TOKENS
    );
    assert_eq!(Decoding::Sentinel.reply_cap(32), 16);
}

#[test]
fn every_writer_is_also_scored_at_the_common_bound() {
    let d = dataset();
    let s = d.tokenizer.specials();
    let seq_len = ModelSize::Fast.model().max_seq_len;
    let common = Decoding::common_reply_cap(seq_len);
    assert_eq!(common, 16);
    let label = Backend::cpu().label;
    let tickets = test_tickets(d, 6).expect("tickets");
    let contexts: Vec<Vec<u32>> = tickets
        .iter()
        .map(|t| reply_context(d, &t.text, seq_len).expect("context"))
        .collect();
    for objective in token_objectives() {
        let network = untrained(objective, ModelSize::Fast, 3);
        let report = block_on(write_replies(
            &network,
            objective,
            d,
            6,
            seq_len,
            1,
            &label,
            &mut NoYield,
        ))
        .expect("replies");
        let bound = report.common.as_ref().expect("a common-bound score");
        assert_eq!(bound.cap, common, "{objective}");
        if report.cap == Some(common) {
            assert_eq!(bound.greedy, report.greedy, "{objective}: its own bound");
            continue;
        }
        // The sliding writer: its replies cut to the common bound are what it writes when
        // bounded there.
        assert_eq!(decoding_of(objective), Decoding::LeftToRight);
        let ids = block_on(decode_replies(
            &network,
            Decoding::LeftToRight,
            &contexts,
            common,
            Pick::Greedy,
            s,
            &label,
            &mut NoYield,
        ))
        .expect("decode");
        let replies = judge(&tickets, reply_texts(d, &ids).expect("texts"));
        assert_eq!(
            bound.greedy,
            ReplySetScore::of(&replies, &ids),
            "{objective}"
        );
    }
}

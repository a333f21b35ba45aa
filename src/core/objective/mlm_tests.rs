//! Tests of masked-LM masking and batching.

use super::*;
use crate::core::objective::spec::BatchSource;
use crate::core::objective::test_support::{SPECIALS, eval_of, shape_with, window_batcher};
use crate::core::objective::windows::{WindowBatcher, cycled};

/// MLM's training batcher with these knobs, as the trainer builds it.
fn mlm_batcher(
    stream: Vec<u32>,
    config: MlmConfig,
    batch_size: usize,
    seq_len: usize,
    _specials: SpecialIds,
    vocab: usize,
    rng: Rng,
) -> Result<WindowBatcher, CoreError> {
    let shape = shape_with(config.knobs()?, batch_size, seq_len, vocab);
    window_batcher(&SPEC, &stream, shape, rng)
}

const VOCAB: usize = 300;

/// `[CLS] text [SEP] text [SEP] [PAD]…` with a sentinel in the middle: specials all over.
fn mixed_sequence(rng: &mut Rng) -> Vec<u32> {
    let mut seq = vec![2];
    seq.extend((0..20).map(|_| 23 + rng.below(VOCAB - 23) as u32));
    seq.push(3);
    seq.push(9); // a span sentinel
    seq.extend((0..17).map(|_| 23 + rng.below(VOCAB - 23) as u32));
    seq.push(3);
    seq.extend([0; 12]);
    seq
}

#[test]
fn selection_never_touches_specials_or_padding() {
    let mut data = Rng::new(11);
    let mut rng = Rng::new(12);
    for _ in 0..500 {
        let seq = mixed_sequence(&mut data);
        let out = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask");
        for (i, &id) in seq.iter().enumerate() {
            if SPECIALS.is_special(id) {
                assert!(!out.selected[i], "special {id} selected at {i}");
                assert_eq!(out.corruption[i], Corruption::None);
                assert_eq!(out.inputs[i], id, "special {id} changed at {i}");
            }
        }
        // 37 ordinary tokens → round(5.55) = 6 selected.
        assert_eq!(out.supervised(), 6);
    }
}

#[test]
fn inputs_match_the_original_except_where_selected() {
    let mut data = Rng::new(21);
    let mut rng = Rng::new(22);
    for _ in 0..500 {
        let seq = mixed_sequence(&mut data);
        let out = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask");
        assert_eq!(out.targets, seq);
        assert_eq!(out.inputs.len(), seq.len());
        for (i, &original) in seq.iter().enumerate() {
            assert_eq!(out.selected[i], out.corruption[i] != Corruption::None);
            match out.corruption[i] {
                Corruption::None | Corruption::Kept => assert_eq!(out.inputs[i], original),
                Corruption::Mask => assert_eq!(out.inputs[i], SPECIALS.mask),
                Corruption::Random => {
                    assert!(!SPECIALS.is_special(out.inputs[i]))
                }
            }
        }
        let corrupted = out.corrupted();
        assert!(corrupted.iter().all(|&i| out.corruption[i].is_corrupted()));
        assert_eq!(
            corrupted.len(),
            out.corruption.iter().filter(|c| c.is_corrupted()).count()
        );
    }
}

#[test]
fn random_replacements_are_ordinary_in_range_and_cover_the_range() {
    let config = MlmConfig {
        mask_rate: 1.0,
        mask_token: 0.0,
        random_token: 1.0,
    };
    let vocab = 40; // ordinary ids 23..40
    let seq: Vec<u32> = (0..64).map(|i| 23 + (i % 17)).collect();
    let mut seen = [false; 40];
    let mut rng = Rng::new(5);
    for _ in 0..100 {
        let out = mask(&seq, &config, SPECIALS, vocab, &mut rng).expect("mask");
        for (i, &id) in out.inputs.iter().enumerate() {
            assert_eq!(out.corruption[i], Corruption::Random);
            assert!((23..40).contains(&id), "random replacement {id}");
            seen[id as usize] = true;
        }
    }
    assert!(seen[23..].iter().all(|&s| s), "every ordinary id is drawn");
    assert!(seen[..23].iter().all(|&s| !s), "no special is ever drawn");
}

#[test]
fn selection_count_is_the_rounded_rate_and_at_least_one() {
    let mut rng = Rng::new(7);
    for (eligible, expected) in [(1, 1), (2, 1), (3, 1), (4, 1), (10, 2), (100, 15), (7, 1)] {
        let mut seq: Vec<u32> = (0..eligible).map(|i| 30 + i as u32).collect();
        seq.extend([3, 0, 0]);
        let out = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask");
        assert_eq!(out.supervised(), expected, "{eligible} eligible");
    }
    let half = MlmConfig {
        mask_rate: 0.5,
        ..MlmConfig::default()
    };
    let seq: Vec<u32> = (0..9).map(|i| 30 + i).collect();
    let out = mask(&seq, &half, SPECIALS, VOCAB, &mut rng).expect("mask");
    assert_eq!(out.supervised(), 5, "round(4.5) rounds half away from zero");
}

#[test]
fn every_eligible_position_is_selected_at_the_mask_rate() {
    // 100 eligible positions among specials; over 4000 draws each should be chosen ~15%
    // of the time (σ ≈ 0.0056, so ±0.03 is over 5σ).
    let mut seq = vec![2u32];
    for i in 0..100 {
        seq.push(23 + (i * 37 % 250));
        if i % 10 == 9 {
            seq.push(3);
        }
    }
    seq.extend([0; 10]);
    let mut hits = vec![0usize; seq.len()];
    let draws = 4000;
    let mut rng = Rng::new(99);
    let mut total = 0;
    for _ in 0..draws {
        let out = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask");
        for (i, &s) in out.selected.iter().enumerate() {
            hits[i] += usize::from(s);
        }
        total += out.supervised();
    }
    assert_eq!(total, 15 * draws, "exactly 15% of eligible per sequence");
    for (i, &id) in seq.iter().enumerate() {
        let rate = hits[i] as f64 / draws as f64;
        if SPECIALS.is_special(id) {
            assert_eq!(hits[i], 0);
        } else {
            assert!(
                (rate - 0.15).abs() < 0.03,
                "position {i} selected at {rate}"
            );
        }
    }
}

#[test]
fn the_80_10_10_split_passes_a_chi_square_test() {
    let mut rng = Rng::new(2019);
    let mut data = Rng::new(3);
    let mut counts = [0f64; 3]; // mask, random, kept
    for _ in 0..2000 {
        let seq: Vec<u32> = (0..100)
            .map(|_| 23 + data.below(VOCAB - 23) as u32)
            .collect();
        let out = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask");
        for c in &out.corruption {
            match c {
                Corruption::Mask => counts[0] += 1.0,
                Corruption::Random => counts[1] += 1.0,
                Corruption::Kept => counts[2] += 1.0,
                Corruption::None => {}
            }
        }
    }
    let n: f64 = counts.iter().sum();
    assert_eq!(n, 30_000.0);
    let expected = [0.8 * n, 0.1 * n, 0.1 * n];
    let chi2: f64 = counts
        .iter()
        .zip(expected)
        .map(|(o, e)| (o - e).powi(2) / e)
        .sum();
    // Critical value of χ² with 2 degrees of freedom at p = 0.001.
    assert!(chi2 < 13.82, "χ² = {chi2} for counts {counts:?}");

    // The same test rejects a wrong split (70/15/15), so it has teeth.
    let wrong = [0.7 * n, 0.15 * n, 0.15 * n];
    let chi2_wrong: f64 = counts
        .iter()
        .zip(wrong)
        .map(|(o, e)| (o - e).powi(2) / e)
        .sum();
    assert!(chi2_wrong > 13.82, "χ² against 70/15/15 = {chi2_wrong}");
}

#[test]
fn same_seed_same_masking_other_seed_other_masking() {
    let seq: Vec<u32> = (0..200).map(|i| 23 + (i * 13 % 270)).collect();
    let run = |seed| {
        let mut rng = Rng::new(seed);
        mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng).expect("mask")
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4).selected, run(5).selected);
}

#[test]
fn nothing_to_predict_is_a_typed_error() {
    let mut rng = Rng::new(1);
    for seq in [vec![], vec![2, 3, 0, 0], vec![4, 7, 22]] {
        let err = mask(&seq, &MlmConfig::default(), SPECIALS, VOCAB, &mut rng);
        match err {
            Err(CoreError::Corpus(msg)) => assert!(msg.contains("nothing to predict"), "{msg}"),
            other => panic!("expected a corpus error, got {other:?}"),
        }
    }
    let err = mask(&[30, 31], &MlmConfig::default(), SPECIALS, 23, &mut rng);
    assert!(matches!(err, Err(CoreError::Config(_))), "{err:?}");
}

#[test]
fn config_validation_names_the_knob() {
    assert_eq!(MlmConfig::default().validate(), Ok(()));
    let base = MlmConfig::default();
    let cases = [
        (
            MlmConfig {
                mask_rate: 0.0,
                ..base
            },
            "mask_rate",
        ),
        (
            MlmConfig {
                mask_rate: 1.5,
                ..base
            },
            "mask_rate",
        ),
        (
            MlmConfig {
                mask_rate: f64::NAN,
                ..base
            },
            "mask_rate",
        ),
        (
            MlmConfig {
                mask_token: -0.1,
                ..base
            },
            "mask_token",
        ),
        (
            MlmConfig {
                random_token: f64::NAN,
                ..base
            },
            "random_token",
        ),
        (
            MlmConfig {
                mask_token: 0.95,
                ..base
            },
            "random_token",
        ),
    ];
    for (config, knob) in cases {
        match config.validate() {
            Err(CoreError::Knob(e)) => assert!(e.to_string().contains(knob), "{e}"),
            other => panic!("{config:?} gave {other:?}"),
        }
        let err = mask(&[30, 31], &config, SPECIALS, VOCAB, &mut Rng::new(1));
        assert!(matches!(err, Err(CoreError::Knob(_))));
    }
    let edge = MlmConfig {
        mask_rate: 1.0,
        mask_token: 0.0,
        random_token: 0.0,
    };
    assert_eq!(edge.validate(), Ok(()), "all kept is allowed");
}

#[test]
fn corruption_serialises_in_snake_case() {
    let json = serde_json::to_string(&[Corruption::None, Corruption::Kept]).expect("json");
    assert_eq!(json, r#"["none","kept"]"#);
    let config: MlmConfig =
        serde_json::from_str(r#"{"mask_rate":0.15,"mask_token":0.8,"random_token":0.1}"#)
            .expect("config");
    assert_eq!(config, MlmConfig::default());
}

// ---- Batching ---------------------------------------------------------------------------

/// Text ids counting up from 100 with an `[EOS]` (6) after every seventh, so windows hold
/// separators and every ordinary id says where in the stream it came from.
fn separated_stream(len: usize) -> Vec<u32> {
    (0..len)
        .map(|i| if i % 8 == 7 { 6 } else { 100 + i as u32 })
        .collect()
}

/// Checks every property a masked-LM batch must have; `stream` is what the windows come from.
fn assert_mlm_batch(batch: &Batch, stream: &[u32], batch_size: usize, seq_len: usize) {
    let n = batch_size * seq_len;
    assert_eq!((batch.batch_size, batch.seq_len), (batch_size, seq_len));
    assert_eq!(batch.target_len, seq_len);
    for len in [
        batch.inputs.len(),
        batch.targets.len(),
        batch.loss_weights.len(),
        batch.corrupted.len(),
    ] {
        assert_eq!(len, n);
    }
    assert_eq!(
        (
            batch.mask.batch_size,
            batch.mask.seq_len,
            batch.mask.blocked.len()
        ),
        (batch_size, seq_len, n * seq_len)
    );
    assert_eq!(batch.mask.empty_rows(), 0);
    assert!(
        batch.mask.blocked.iter().all(|&b| !b),
        "full windows: nothing blocked"
    );
    assert!(batch.segments.is_none() && batch.decoder.is_none());
    assert!(batch.query.is_none() && batch.pairs.is_none());

    let s = SPECIALS;
    let mut original = 0;
    let mut supervised = 0;
    for row in 0..batch_size {
        let range = row * seq_len..(row + 1) * seq_len;
        let targets = &batch.targets[range.clone()];
        let inputs = &batch.inputs[range.clone()];
        // Targets are an unchanged contiguous window of the stream.
        let found = stream.windows(seq_len).any(|w| w == targets);
        assert!(
            found,
            "row {row} is not a window of the stream: {targets:?}"
        );
        let eligible = targets.iter().filter(|&&id| !s.is_special(id)).count();
        original += eligible;
        let mut selected = 0;
        for i in range.clone() {
            let (input, target) = (batch.inputs[i], batch.targets[i]);
            let (weight, corrupted) = (batch.loss_weights[i], batch.corrupted[i]);
            assert!(weight == 0.0 || weight == 1.0);
            assert!(corrupted == 0.0 || corrupted == 1.0);
            assert!(corrupted <= weight, "corrupted ⊆ weighted at {i}");
            if s.is_special(target) {
                assert_eq!(weight, 0.0, "special {target} selected at {i}");
                assert_eq!(input, target, "special {target} changed at {i}");
            }
            if weight == 0.0 || corrupted == 0.0 {
                assert_eq!(input, target, "unselected or kept position changed at {i}");
            } else {
                assert!(
                    input == s.mask || !s.is_special(input),
                    "a corrupted input is [MASK] or an ordinary token: {input}"
                );
            }
            selected += usize::from(weight == 1.0);
        }
        // BERT's count: round(15% of the eligible), at least one.
        let expected = ((0.15 * eligible as f64).round() as usize).max(1);
        assert_eq!(selected, expected, "row {row}: {inputs:?}");
        supervised += selected;
    }
    assert_eq!(batch.original_tokens, original);
    assert_eq!(batch.supervised_tokens, supervised);
}

#[test]
fn mlm_batches_have_every_field_in_shape_and_mask_only_text() {
    let stream = separated_stream(3000);
    let mut batcher = mlm_batcher(
        stream.clone(),
        MlmConfig::default(),
        4,
        16,
        SPECIALS,
        VOCAB,
        Rng::new(1),
    )
    .expect("batcher");
    let mut corrupted = 0.0;
    for _ in 0..100 {
        let batch = batcher.next_batch().expect("batch");
        assert_mlm_batch(&batch, &stream, 4, 16);
        corrupted += batch.corrupted.iter().sum::<f32>();
    }
    // Over 100 batches of 4 × 2 selections, ~90% are [MASK] or random.
    assert!(corrupted > 600.0 && corrupted < 800.0, "{corrupted}");
}

#[test]
fn mlm_epochs_visit_each_window_once() {
    // 10 windows of 16; batches of 2 draw 4 distinct windows before an epoch can end.
    let stream: Vec<u32> = (100..260).collect();
    let mut batcher = mlm_batcher(
        stream.clone(),
        MlmConfig::default(),
        2,
        16,
        SPECIALS,
        VOCAB,
        Rng::new(7),
    )
    .expect("batcher");
    let mut firsts = Vec::new();
    for _ in 0..4 {
        let batch = batcher.next_batch().expect("batch");
        firsts.extend(batch.targets.chunks(16).map(|row| row[0]));
    }
    let offset = (firsts[0] - 100) % 16;
    assert!(
        firsts.iter().all(|&f| (f - 100) % 16 == offset),
        "one offset per epoch"
    );
    let mut unique = firsts.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        firsts.len(),
        "a window repeated within an epoch"
    );
}

#[test]
fn mlm_same_seed_same_batches_other_seed_other_batches() {
    let stream = separated_stream(2000);
    let draw = |seed| {
        let mut b = mlm_batcher(
            stream.clone(),
            MlmConfig::default(),
            4,
            16,
            SPECIALS,
            VOCAB,
            Rng::new(seed),
        )
        .expect("batcher");
        (0..20)
            .map(|_| b.next_batch().expect("batch"))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}

#[test]
fn mlm_masks_a_window_afresh_each_time_it_is_drawn() {
    // Two windows only: the same window comes back often, and its mask should not.
    let stream: Vec<u32> = (100..132).collect();
    let mut batcher = mlm_batcher(
        stream,
        MlmConfig::default(),
        1,
        16,
        SPECIALS,
        VOCAB,
        Rng::new(2),
    )
    .expect("batcher");
    let mut draws: std::collections::HashMap<Vec<u32>, Vec<Vec<u32>>> = Default::default();
    for _ in 0..400 {
        let batch = batcher.next_batch().expect("batch");
        draws.entry(batch.targets).or_default().push(batch.inputs);
    }
    let mut checked = 0;
    for inputs in draws.values().filter(|inputs| inputs.len() >= 8) {
        let mut distinct = inputs.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() * 2 > inputs.len(),
            "{} masks in {} draws",
            distinct.len(),
            inputs.len()
        );
        checked += 1;
    }
    assert!(checked > 0, "some window came back often enough to compare");
}

#[test]
fn mlm_short_text_is_cycled_and_impossible_inputs_are_typed_errors() {
    let short: Vec<u32> = vec![100, 101, 102, 6, 103];
    let mut batcher = mlm_batcher(
        short.clone(),
        MlmConfig::default(),
        4,
        16,
        SPECIALS,
        VOCAB,
        Rng::new(1),
    )
    .expect("a short text is cycled");
    let cycled_stream = cycled(&short, 64);
    for _ in 0..10 {
        assert_mlm_batch(&batcher.next_batch().expect("batch"), &cycled_stream, 4, 16);
    }
    // Batch size one: the cycled text still leaves a window at any offset.
    let mut one = mlm_batcher(
        short.clone(),
        MlmConfig::default(),
        1,
        16,
        SPECIALS,
        VOCAB,
        Rng::new(1),
    )
    .expect("batcher");
    for _ in 0..20 {
        assert_eq!(one.next_batch().expect("batch").inputs.len(), 16);
    }

    let new = |stream: Vec<u32>, config, batch_size, seq_len, vocab| {
        mlm_batcher(
            stream,
            config,
            batch_size,
            seq_len,
            SPECIALS,
            vocab,
            Rng::new(1),
        )
        .map(|_| ())
    };
    let base = MlmConfig::default();
    for (stream, expect_corpus) in [(vec![], true), (vec![2, 3, 0, 6], true)] {
        let err = new(stream, base, 4, 16, VOCAB);
        assert_eq!(
            matches!(err, Err(CoreError::Corpus(_))),
            expect_corpus,
            "{err:?}"
        );
    }
    let bad = MlmConfig {
        mask_rate: 0.0,
        ..base
    };
    assert!(matches!(
        new(short.clone(), bad, 4, 16, VOCAB),
        Err(CoreError::Knob(_))
    ));
    assert!(matches!(
        new(short.clone(), base, 4, 16, 23),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        new(short.clone(), base, 0, 16, VOCAB),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        new(short, base, 4, 0, VOCAB),
        Err(CoreError::Config(_))
    ));
}

#[test]
fn mlm_eval_batches_sample_the_whole_stream_with_a_fixed_mask() {
    let stream = separated_stream(1000); // 62 windows of 16
    let knobs = MlmConfig::default().knobs().expect("knobs");
    let eval = |seed, wanted| {
        eval_of(
            &SPEC,
            &stream,
            shape_with(knobs.clone(), 4, 16, VOCAB),
            wanted,
            seed,
        )
        .expect("eval")
    };
    let first = eval(9, 40);
    let scored: f32 = first.iter().flat_map(|b| &b.corrupted).sum();
    assert!(
        scored >= 40.0,
        "batches until 40 positions are scored: {scored}"
    );
    assert_eq!(
        first,
        eval(9, 40),
        "every evaluation scores the same positions"
    );
    assert_ne!(first, eval(10, 40), "the seed decides windows and mask");
    let all = eval(9, usize::MAX);
    assert_eq!(
        all.len(),
        15,
        "every whole batch of windows when more is asked for"
    );
    let mut starts = Vec::new();
    for batch in &all {
        assert_mlm_batch(batch, &stream, 4, 16);
        for row in batch.targets.chunks(16) {
            let start = stream
                .windows(16)
                .position(|w| w == row)
                .expect("a window of the stream");
            assert_eq!(start % 16, 0, "non-overlapping windows");
            starts.push(start);
        }
    }
    assert!(
        starts.windows(2).any(|w| w[1] < w[0]),
        "windows come from across the stream in a shuffled order"
    );
    assert!(
        starts.iter().any(|&s| s >= 800),
        "the end of the stream is read too"
    );
}

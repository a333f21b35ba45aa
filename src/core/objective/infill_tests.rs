use super::*;
use crate::core::objective::spec::BatchSource;
use crate::core::objective::test_support::*;
use crate::core::objective::windows::WindowBatcher;

/// BART's training batcher with these knobs, as the trainer builds it.
fn infill_batcher(
    stream: Vec<u32>,
    config: InfillConfig,
    batch_size: usize,
    seq_len: usize,
    _specials: SpecialIds,
    rng: Rng,
) -> Result<WindowBatcher, CoreError> {
    let shape = shape_with(config.knobs()?, batch_size, seq_len, 2048);
    window_batcher(&SPEC, &stream, shape, rng)
}

/// BART's validation batches: `rows` windows a batch, until `min_scored` hidden tokens.
fn infill_eval(
    stream: &[u32],
    config: InfillConfig,
    rows: usize,
    seq_len: usize,
    min_scored: usize,
    seed: u64,
) -> Result<Vec<Batch>, CoreError> {
    let shape = shape_with(config.knobs()?, rows, seq_len, 2048);
    eval_of(&SPEC, stream, shape, min_scored, seed)
}

/// `n` ordinary (non-special) token ids.
fn text(n: usize, rng: &mut Rng) -> Vec<u32> {
    (0..n).map(|_| 23 + rng.below(2000) as u32).collect()
}

const MASK: u32 = 4;

/// Observed counts of span lengths 0, 1, …, 7, ≥ 8 against Poisson(λ): Pearson's χ².
fn chi_squared_poisson(lengths: &[usize], lambda: f64) -> f64 {
    let mut observed = [0usize; 9];
    for &len in lengths {
        observed[len.min(8)] += 1;
    }
    let total = lengths.len() as f64;
    let mut pmf = (-lambda).exp();
    let mut tail = 1.0;
    (0..9)
        .map(|bin| {
            let p = if bin < 8 { pmf } else { tail };
            tail -= pmf;
            pmf *= lambda / (bin + 1) as f64;
            let expected = total * p;
            (observed[bin] as f64 - expected).powi(2) / expected
        })
        .sum()
}

/// χ² critical value at p = 0.001 for 8 degrees of freedom (9 bins, λ fixed, not fitted).
const CHI2_8_DF_P001: f64 = 26.124;

#[test]
fn filling_each_mask_with_its_span_gives_the_original() {
    let configs = [
        InfillConfig::default(),
        InfillConfig {
            mask_ratio: 0.5,
            poisson_lambda: 2.0,
        },
        InfillConfig {
            mask_ratio: 0.15,
            poisson_lambda: 8.0,
        },
    ];
    let mut lengths = Rng::new(42);
    for config in configs {
        for seed in 0..300 {
            let mut rng = Rng::new(seed);
            let n = 4 + lengths.below(600);
            let tokens = text(n, &mut rng);
            let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("corrupt");
            assert_eq!(out.target, tokens);
            assert_eq!(
                fill(&out.input, &out.span_tokens(), SPECIALS).expect("fill"),
                tokens,
                "n {n} seed {seed} {config:?}"
            );
            let masks: Vec<usize> = (0..out.input.len())
                .filter(|&i| out.input[i] == MASK)
                .collect();
            assert_eq!(masks.len(), out.spans.len());
            assert_eq!(
                out.masked_tokens(),
                (n as f64 * config.mask_ratio).round() as usize
            );
            assert_eq!(out.input.len(), n - out.masked_tokens() + out.spans.len());
            // Spans are in order, kept apart by visible text, and the k-th [MASK] sits
            // where the k-th span was.
            let mut hidden_before = 0;
            for (k, &(start, len)) in out.spans.iter().enumerate() {
                assert!(start + len <= n);
                if let Some(&(next, _)) = out.spans.get(k + 1) {
                    assert!(next > start + len, "spans touch: {:?}", out.spans);
                }
                assert_eq!(masks[k], start - hidden_before + k);
                hidden_before += len;
            }
        }
    }
}

#[test]
fn inputs_hold_no_special_but_mask() {
    let mut rng = Rng::new(8);
    for n in [2, 5, 64, 512] {
        let tokens = text(n, &mut rng);
        let out = corrupt(&tokens, &InfillConfig::default(), SPECIALS, &mut rng).expect("ok");
        assert!(
            out.input
                .iter()
                .all(|&id| id == MASK || !SPECIALS.is_special(id))
        );
    }
}

#[test]
fn the_poisson_sampler_fits_its_distribution() {
    let mut rng = Rng::new(3);
    for lambda in [3.0, 1.0, 5.5] {
        let draws: Vec<usize> = (0..100_000).map(|_| poisson(lambda, &mut rng)).collect();
        let mean = draws.iter().sum::<usize>() as f64 / draws.len() as f64;
        let var = draws
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / draws.len() as f64;
        assert!((mean - lambda).abs() < 0.03 * lambda, "mean {mean}");
        assert!((var - lambda).abs() < 0.05 * lambda, "variance {var}");
        let chi2 = chi_squared_poisson(&draws, lambda);
        assert!(chi2 < CHI2_8_DF_P001, "λ {lambda}: χ² {chi2}");
    }
}

#[test]
fn span_lengths_fit_poisson_3_and_about_5_percent_are_empty() {
    // 200 sequences of 512 give about 10,000 spans. One span per sequence is trimmed to
    // land on the budget; that bias shows only in samples ~20× larger than this one.
    let mut rng = Rng::new(17);
    let mut lengths = Vec::new();
    for _ in 0..200 {
        let tokens = text(512, &mut rng);
        let out = corrupt(&tokens, &InfillConfig::default(), SPECIALS, &mut rng).expect("ok");
        lengths.extend(out.spans.iter().map(|&(_, len)| len));
    }
    assert!(lengths.len() > 9_000, "{} spans", lengths.len());
    let chi2 = chi_squared_poisson(&lengths, 3.0);
    assert!(
        chi2 < CHI2_8_DF_P001,
        "χ² {chi2} over {} spans",
        lengths.len()
    );
    let empty = lengths.iter().filter(|&&l| l == 0).count() as f64 / lengths.len() as f64;
    assert!(
        (empty - (-3.0f64).exp()).abs() < 0.01,
        "empty fraction {empty}"
    );
}

#[test]
fn masked_fraction_is_the_ratio_per_sequence_and_on_average() {
    let mut rng = Rng::new(23);
    let config = InfillConfig::default();
    for _ in 0..50 {
        let tokens = text(512, &mut rng);
        let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("ok");
        let fraction = out.masked_tokens() as f64 / 512.0;
        assert!((fraction - 0.3).abs() <= 0.02, "fraction {fraction}");
    }
    let mut fractions = Vec::new();
    for _ in 0..500 {
        let n = 20 + rng.below(493);
        let tokens = text(n, &mut rng);
        let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("ok");
        fractions.push(out.masked_tokens() as f64 / n as f64);
    }
    let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
    assert!((mean - 0.3).abs() <= 0.02, "mean fraction {mean}");
}

#[test]
fn same_seed_same_corruption_other_seed_other() {
    let tokens = text(256, &mut Rng::new(0));
    let draw = |seed| {
        corrupt(
            &tokens,
            &InfillConfig::default(),
            SPECIALS,
            &mut Rng::new(seed),
        )
        .expect("ok")
    };
    assert_eq!(draw(5), draw(5));
    assert_ne!(draw(5).spans, draw(6).spans);
}

#[test]
fn bad_lengths_settings_and_texts_are_typed_errors() {
    let mut rng = Rng::new(4);
    let config = InfillConfig::default();
    for n in [0, 1] {
        let tokens = text(n, &mut rng);
        assert!(matches!(
            corrupt(&tokens, &config, SPECIALS, &mut rng),
            Err(CoreError::Config(_))
        ));
    }
    let all_hidden = InfillConfig {
        mask_ratio: 0.9,
        ..config
    };
    assert!(matches!(
        corrupt(&text(4, &mut rng), &all_hidden, SPECIALS, &mut rng),
        Err(CoreError::Config(_))
    ));
    for (mask_ratio, poisson_lambda) in [(0.0, 3.0), (1.0, 3.0), (0.3, 0.0), (0.3, f64::NAN)] {
        let bad = InfillConfig {
            mask_ratio,
            poisson_lambda,
        };
        assert!(matches!(bad.validate(), Err(CoreError::Knob(_))));
    }
    assert!(matches!(
        corrupt(&[100, MASK, 101, 102], &config, SPECIALS, &mut rng),
        Err(CoreError::Corpus(_))
    ));
    // Nearly every span empty: they cannot all be kept apart in 10 tokens.
    let tiny_spans = InfillConfig {
        mask_ratio: 0.3,
        poisson_lambda: 0.01,
    };
    match corrupt(&text(10, &mut rng), &tiny_spans, SPECIALS, &mut rng) {
        Err(CoreError::Config(message)) => {
            assert!(message.contains("poisson_lambda"), "{message}");
            assert!(message.contains("mask_ratio"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn fill_refuses_a_wrong_number_of_spans() {
    let input = [100, MASK, 101, MASK];
    assert_eq!(
        fill(&input, &[vec![7u32, 8], vec![]], SPECIALS),
        Ok(vec![100, 7, 8, 101])
    );
    assert!(matches!(
        fill(&input, &[vec![7u32]], SPECIALS),
        Err(CoreError::Corpus(_))
    ));
}

#[test]
fn config_defaults_are_the_paper_and_round_trip_through_serde() {
    let config: InfillConfig = serde_json::from_str("{}").expect("defaults");
    assert_eq!(config, InfillConfig::default());
    assert_eq!((config.mask_ratio, config.poisson_lambda), (0.3, 3.0));
    let custom = InfillConfig {
        mask_ratio: 0.4,
        poisson_lambda: 2.5,
    };
    let json = serde_json::to_string(&custom).expect("serialise");
    assert_eq!(
        serde_json::from_str::<InfillConfig>(&json).expect("parse"),
        custom
    );
}

// ── The batcher ──────────────────────────────────────────────────────────────────────────────

const BOS: u32 = 5;

/// mask_ratio, poisson_lambda, batch_size, seq_len: the paper's, short sequences, and settings
/// with many empty spans, whose inputs can outgrow their windows.
const SETTINGS: [(f64, f64, usize, usize); 6] = [
    (0.3, 3.0, 4, 64),
    (0.3, 3.0, 3, 8),
    (0.3, 1.0, 4, 64),
    (0.3, 0.5, 4, 32),
    (0.5, 1.0, 2, 16),
    (0.15, 8.0, 2, 128),
];

fn settings() -> impl Iterator<Item = (InfillConfig, usize, usize)> {
    SETTINGS.iter().map(|&(mask_ratio, poisson_lambda, b, s)| {
        let config = InfillConfig {
            mask_ratio,
            poisson_lambda,
        };
        (config, b, s)
    })
}

fn batcher(
    stream: Vec<u32>,
    config: InfillConfig,
    batch_size: usize,
    seq_len: usize,
    seed: u64,
) -> WindowBatcher {
    infill_batcher(
        stream,
        config,
        batch_size,
        seq_len,
        SPECIALS,
        Rng::new(seed),
    )
    .expect("batcher")
}

#[test]
fn window_length_is_seq_len_at_the_paper_settings_and_shorter_with_many_empty_spans() {
    let paper = InfillConfig::default();
    for seq_len in [16, 32, 64, 128, 256] {
        assert_eq!(infill_window_len(seq_len, &paper), Ok(seq_len));
    }
    let empty_spans = InfillConfig {
        mask_ratio: 0.3,
        poisson_lambda: 0.5,
    };
    let w = infill_window_len(64, &empty_spans).expect("fits");
    assert!(w < 64 && w > 32, "window {w}");
    // At that length a first draw rarely overflows: the redraws are a safety net.
    for (config, _, s) in settings() {
        let w = infill_window_len(s, &config).expect("fits");
        let mut rng = Rng::new(12);
        let draws = 4000;
        let over = (0..draws)
            .filter(|_| {
                let tokens = text(w, &mut rng);
                let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("corrupt");
                out.input.len() > s
            })
            .count();
        assert!(
            over * 100 < draws,
            "{config:?} {s}: {over} of {draws} overflow"
        );
    }
}

#[test]
fn batches_fill_every_field_to_its_length_and_no_row_is_empty() {
    for (config, b, s) in settings() {
        let mut batcher = batcher(packed_stream(4000, 1), config, b, s, 1);
        let w = batcher.window_len();
        assert_eq!(Ok(w), infill_window_len(s, &config));
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            assert_eq!(
                (batch.batch_size, batch.seq_len, batch.target_len),
                (b, s, w)
            );
            assert_encoder_decoder_shapes(&batch);
        }
    }
}

#[test]
fn decoder_writes_the_original_window_after_bos_and_scores_all_of_it() {
    // Directly: the targets are the windows given.
    let mut rng = Rng::new(2);
    let windows: Vec<Vec<u32>> = (0..5).map(|_| packed_stream(64, rng.next_u64())).collect();
    let batch =
        infill_batch(&windows, &InfillConfig::default(), 64, SPECIALS, &mut rng).expect("batch");
    assert_eq!(batch.targets, windows.concat());
    let original: usize = windows
        .iter()
        .flatten()
        .filter(|&&id| !SPECIALS.is_special(id))
        .count();
    assert_eq!(batch.original_tokens, original);
    // Windows of different lengths: the shorter targets are padded and the padding not scored.
    let windows: Vec<Vec<u32>> = [64, 20, 41]
        .iter()
        .map(|&n| packed_stream(n, rng.next_u64()))
        .collect();
    let batch =
        infill_batch(&windows, &InfillConfig::default(), 64, SPECIALS, &mut rng).expect("batch");
    for (i, window) in windows.iter().enumerate() {
        for p in 0..64 {
            let weight = batch.loss_weights[i * 64 + p];
            assert_eq!(weight, if p < window.len() { 1.0 } else { 0.0 });
        }
    }
    assert_eq!(batch.supervised_tokens, 64 + 20 + 41);

    // Through the batcher: each target is a contiguous piece of the stream.
    for (config, b, s) in settings() {
        let mut batcher = batcher(counting_stream(5000), config, b, s, 3);
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            let t = batch.target_len;
            let decoder = batch.decoder.as_ref().expect("decoder");
            for i in 0..b {
                let target = row(&batch.targets, t, i);
                assert!(target.windows(2).all(|w| w[1] == w[0] + 1), "{target:?}");
                let inputs = row(&decoder.inputs, t, i);
                assert_eq!(inputs[0], BOS);
                assert_eq!(&inputs[1..], &target[..t - 1]);
            }
            assert!(batch.loss_weights.iter().all(|&w| w == 1.0));
            assert_eq!(batch.supervised_tokens, b * t);
            assert_eq!(batch.original_tokens, b * t);
        }
    }
}

#[test]
fn the_encoder_input_always_fits_seq_len() {
    // Many seeds through settings whose inputs outgrow their windows now and then: no batch
    // fails and every input fits.
    let mut longer_than_window = 0;
    for (config, b, s) in settings() {
        let w = infill_window_len(s, &config).expect("fits");
        for seed in 0..40 {
            let mut batcher = batcher(packed_stream(3000, seed), config, b, s, seed);
            for _ in 0..5 {
                let batch = batcher.next_batch().expect("every window fits");
                for i in 0..b {
                    let input = unpadded(row(&batch.inputs, s, i));
                    let masks = input.iter().filter(|&&id| id == MASK).count();
                    let hidden = (w as f64 * config.mask_ratio).round() as usize;
                    assert_eq!(input.len(), w - hidden + masks);
                    longer_than_window += usize::from(input.len() > w);
                }
            }
        }
    }
    assert!(
        longer_than_window > 0,
        "some inputs are longer than their window"
    );
    // A window too long for its input is refused rather than cut.
    let long = [vec![100; 40], vec![101; 40]];
    let err = infill_batch(
        &long,
        &InfillConfig::default(),
        32,
        SPECIALS,
        &mut Rng::new(1),
    );
    assert!(matches!(err, Err(CoreError::Config(_))), "{err:?}");
}

#[test]
fn corrupted_positions_are_exactly_the_masked_tokens() {
    for (config, b, s) in settings() {
        let mut batcher = batcher(packed_stream(3000, 4), config, b, s, 4);
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            let t = batch.target_len;
            let hidden = (t as f64 * config.mask_ratio).round() as usize;
            for i in 0..b {
                let target = row(&batch.targets, t, i);
                let corrupted = row(&batch.corrupted, t, i);
                assert_eq!(corrupted.iter().filter(|&&c| c == 1.0).count(), hidden);
                assert!(corrupted.iter().all(|&c| c == 0.0 || c == 1.0));
                // What the encoder sees besides [MASK] is exactly the uncorrupted target, in
                // order, and every run of corrupted tokens sits behind a [MASK] of its own.
                let input = unpadded(row(&batch.inputs, s, i));
                let visible: Vec<u32> = input.iter().copied().filter(|&id| id != MASK).collect();
                let kept: Vec<u32> = (0..t)
                    .filter(|&p| corrupted[p] == 0.0)
                    .map(|p| target[p])
                    .collect();
                assert_eq!(visible, kept);
                let runs = (0..t)
                    .filter(|&p| corrupted[p] == 1.0 && (p == 0 || corrupted[p - 1] == 0.0))
                    .count();
                let masks = input.iter().filter(|&&id| id == MASK).count();
                assert!(masks >= runs, "{masks} masks for {runs} spans");
            }
        }
    }
}

#[test]
fn padded_encoder_positions_are_blocked_as_keys_everywhere() {
    let batch = batcher(packed_stream(3000, 5), InfillConfig::default(), 4, 64, 5)
        .next_batch()
        .expect("batch");
    let (b, s, t) = (batch.batch_size, batch.seq_len, batch.target_len);
    let cross = &batch.decoder.as_ref().expect("decoder").cross_mask;
    let mut padded = 0;
    for i in 0..b {
        for k in 0..s {
            let pad = batch.inputs[i * s + k] == PAD;
            padded += usize::from(pad);
            for q in 0..t {
                assert_eq!(cross.is_blocked(i, q, k), pad, "row {i} query {q} key {k}");
            }
            for q in (0..s).filter(|&q| batch.inputs[i * s + q] != PAD) {
                assert_eq!(batch.mask.is_blocked(i, q, k), pad);
            }
        }
    }
    assert!(
        padded > 0,
        "19 of 64 tokens hidden in a few spans leave padding"
    );
}

#[test]
fn same_seed_same_batches_other_seed_other() {
    let draw = |seed| {
        let mut b = batcher(packed_stream(3000, 0), InfillConfig::default(), 4, 32, seed);
        (0..30)
            .map(|_| b.next_batch().expect("batch"))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}

#[test]
fn eval_batches_are_the_same_on_every_call_and_sample_the_whole_stream() {
    let stream = counting_stream(1000);
    let config = InfillConfig::default();
    let eval = |seed, wanted| infill_eval(&stream, config, 4, 32, wanted, seed).expect("eval");
    let first = eval(9, 60);
    assert_eq!(first, eval(9, 60));
    assert_ne!(first, eval(10, 60), "the seed decides windows and spans");
    let all = eval(9, usize::MAX);
    assert_eq!(all.len(), 1000 / 32 / 4);
    let mut starts = Vec::new();
    for batch in &all {
        assert_encoder_decoder_shapes(batch);
        for window in batch.targets.chunks(32) {
            assert!(
                window.windows(2).all(|w| w[1] == w[0] + 1),
                "a contiguous window"
            );
            assert_eq!((window[0] - 100) % 32, 0, "non-overlapping windows");
            starts.push(window[0]);
        }
    }
    assert!(starts.windows(2).any(|w| w[1] < w[0]), "a shuffled order");
    let short = infill_eval(&[100, 101, 102], config, 2, 16, 3, 9);
    assert_eq!(short.expect("cycled").len(), 1);
}

#[test]
fn unusable_settings_and_texts_are_refused_up_front() {
    let new = |stream: Vec<u32>, config, b, s| {
        infill_batcher(stream, config, b, s, SPECIALS, Rng::new(1)).map(|_| ())
    };
    let eval = |stream: &[u32], config, b, s, _max: usize| {
        infill_eval(stream, config, b, s, 1, 1).map(|_| ())
    };
    let config = InfillConfig::default();
    let text = counting_stream(2000);
    // Far more (mostly empty) spans than visible text can keep apart.
    let tiny_spans = InfillConfig {
        mask_ratio: 0.3,
        poisson_lambda: 0.2,
    };
    for err in [
        new(text.clone(), tiny_spans, 4, 64),
        eval(&text, tiny_spans, 4, 64, 2),
    ] {
        match err {
            Err(CoreError::Config(m)) => assert!(m.contains("poisson_lambda"), "{m}"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
    assert!(matches!(
        new(text.clone(), config, 4, 2),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        new(text.clone(), config, 0, 64),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        eval(&text, config, 0, 64, 1),
        Err(CoreError::Config(_))
    ));
    let mut with_mask = text.clone();
    with_mask[300] = MASK;
    assert!(matches!(
        new(with_mask.clone(), config, 4, 64),
        Err(CoreError::Corpus(_))
    ));
    assert!(matches!(
        eval(&with_mask, config, 4, 64, 2),
        Err(CoreError::Corpus(_))
    ));
    assert!(matches!(
        new(vec![], config, 4, 64),
        Err(CoreError::Corpus(_))
    ));
    assert!(matches!(
        eval(&[], config, 4, 64, 2),
        Err(CoreError::Corpus(_))
    ));
}

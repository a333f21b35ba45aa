use super::*;
use crate::core::objective::spec::BatchSource;
use crate::core::objective::test_support::*;
use crate::core::objective::windows::WindowBatcher;

/// T5's training batcher with these knobs, as the trainer builds it.
fn span_batcher(
    stream: Vec<u32>,
    config: SpanConfig,
    batch_size: usize,
    seq_len: usize,
    _specials: SpecialIds,
    rng: Rng,
) -> Result<WindowBatcher, CoreError> {
    let shape = shape_with(config.knobs()?, batch_size, seq_len, 2048);
    window_batcher(&SPEC, &stream, shape, rng)
}

/// T5's validation batches: `rows` windows a batch, until `min_scored` span tokens.
fn span_eval(
    stream: &[u32],
    config: SpanConfig,
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

#[test]
fn input_and_target_reconstruct_the_original() {
    let configs = [
        SpanConfig::default(),
        SpanConfig {
            noise_density: 0.5,
            mean_span: 1.0,
        },
        SpanConfig {
            noise_density: 0.9,
            mean_span: 10.0,
        },
    ];
    let mut lengths = Rng::new(99);
    for config in configs {
        for seed in 0..300 {
            let mut rng = Rng::new(seed);
            let mut n = 2 + lengths.below(300);
            while config.check_seq_len(n).is_err() {
                n /= 2;
            }
            let tokens = text(n, &mut rng);
            let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("corrupt");
            assert_eq!(
                reconstruct(&out.input, &out.target, SPECIALS).expect("reconstruct"),
                tokens,
                "n {n} seed {seed} {config:?}"
            );
            // The record agrees with the target, and spans never touch.
            let mut from_record = Vec::new();
            let mut end = 0;
            for (k, &(start, len)) in out.spans.iter().enumerate() {
                assert!(len >= 1 && start > end, "spans are separated by kept text");
                from_record.push(sentinel_id(SPECIALS, k));
                from_record.extend_from_slice(&tokens[start..start + len]);
                end = start + len;
            }
            from_record.push(sentinel_id(SPECIALS, out.spans.len()));
            assert_eq!(from_record, out.target);
            assert_eq!(end, n, "T5's interleaving ends inside a span");
        }
    }
}

#[test]
fn sentinels_are_numbered_in_order_and_the_rest_is_text() {
    let mut rng = Rng::new(5);
    for n in [2, 3, 10, 64, 200, 310] {
        let tokens = text(n, &mut rng);
        let out = corrupt(&tokens, &SpanConfig::default(), SPECIALS, &mut rng).expect("ok");
        let k = out.spans.len();
        let in_input: Vec<usize> = out
            .input
            .iter()
            .filter_map(|&id| sentinel_index(SPECIALS, id))
            .collect();
        assert_eq!(in_input, (0..k).collect::<Vec<_>>());
        let in_target: Vec<usize> = out
            .target
            .iter()
            .filter_map(|&id| sentinel_index(SPECIALS, id))
            .collect();
        assert_eq!(in_target, (0..=k).collect::<Vec<_>>());
        assert_eq!(out.target.last(), Some(&sentinel_id(SPECIALS, k)));
        assert_eq!(out.target.first(), Some(&sentinel_id(SPECIALS, 0)));
        for &id in out.input.iter().chain(&out.target) {
            assert!(sentinel_index(SPECIALS, id).is_some() || !SPECIALS.is_special(id));
        }
        let hidden: usize = out.spans.iter().map(|s| s.1).sum();
        assert_eq!(out.input.len(), n - hidden + k);
        assert_eq!(out.target.len(), hidden + k + 1);
    }
}

#[test]
fn noise_fraction_and_mean_span_match_the_settings() {
    let mut rng = Rng::new(11);
    // Lengths up to the longest each setting's 16 sentinels allow.
    for (config, shortest, longest) in [
        (SpanConfig::default(), 60, 310),
        (
            SpanConfig {
                noise_density: 0.3,
                mean_span: 2.0,
            },
            30,
            100,
        ),
    ] {
        assert!(config.check_seq_len(longest).is_ok());
        let (mut hidden, mut total, mut spans) = (0, 0, 0);
        let mut first_span_lengths = Vec::new();
        for _ in 0..2000 {
            let n = shortest + rng.below(longest - shortest + 1);
            let tokens = text(n, &mut rng);
            let out = corrupt(&tokens, &config, SPECIALS, &mut rng).expect("ok");
            hidden += out.spans.iter().map(|s| s.1).sum::<usize>();
            spans += out.spans.len();
            total += n;
            first_span_lengths.push(out.spans[0].1);
        }
        let density = hidden as f64 / total as f64;
        let mean_span = hidden as f64 / spans as f64;
        assert!(
            (density - config.noise_density).abs() < 0.005,
            "density {density}"
        );
        assert!(
            (mean_span - config.mean_span).abs() < 0.1 * config.mean_span,
            "mean span {mean_span}"
        );
        // Span lengths vary around the mean (a random split, not fixed-length pieces).
        let first_mean =
            first_span_lengths.iter().sum::<usize>() as f64 / first_span_lengths.len() as f64;
        assert!(
            (first_mean - config.mean_span).abs() < 0.15 * config.mean_span,
            "first span mean {first_mean}"
        );
        assert!(first_span_lengths.contains(&1));
        assert!(
            first_span_lengths
                .iter()
                .any(|&l| l as f64 > 2.0 * config.mean_span)
        );
    }
}

#[test]
fn running_out_of_sentinels_is_a_typed_error_that_says_what_to_change() {
    let config = SpanConfig::default();
    assert_eq!(max_sentinels_needed(64, &config), 4);
    assert_eq!(max_sentinels_needed(310, &config), 16);
    assert_eq!(max_sentinels_needed(311, &config), 17);
    assert!(config.check_seq_len(310).is_ok());
    let mut rng = Rng::new(1);
    let tokens = text(512, &mut rng);
    match corrupt(&tokens, &config, SPECIALS, &mut rng) {
        Err(CoreError::Config(message)) => {
            for part in [
                "512-token",
                "needs 27 sentinels",
                "has 16",
                "noise_density",
                "mean_span",
                "seq_len",
            ] {
                assert!(message.contains(part), "{message}");
            }
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let longer_spans = SpanConfig {
        mean_span: 10.0,
        ..config
    };
    assert!(corrupt(&tokens, &longer_spans, SPECIALS, &mut rng).is_ok());
}

#[test]
fn degenerate_inputs_and_settings_are_refused() {
    let mut rng = Rng::new(2);
    let config = SpanConfig::default();
    for n in [0, 1] {
        let tokens = text(n, &mut rng);
        assert!(matches!(
            corrupt(&tokens, &config, SPECIALS, &mut rng),
            Err(CoreError::Config(_))
        ));
    }
    let out = corrupt(&[100, 101], &config, SPECIALS, &mut rng).expect("two tokens");
    assert_eq!(out.input, vec![100, 7]);
    assert_eq!(out.target, vec![7, 101, 8]);
    for (noise_density, mean_span) in [(0.0, 3.0), (1.0, 3.0), (f64::NAN, 3.0), (0.15, 0.5)] {
        let bad = SpanConfig {
            noise_density,
            mean_span,
        };
        assert!(matches!(bad.validate(), Err(CoreError::Knob(_))));
    }
    let with_sentinel = [100, 101, 9, 102];
    assert!(matches!(
        corrupt(&with_sentinel, &config, SPECIALS, &mut rng),
        Err(CoreError::Corpus(_))
    ));
}

#[test]
fn malformed_pairs_do_not_reconstruct() {
    let s = |k| sentinel_id(SPECIALS, k);
    assert_eq!(
        reconstruct(&[100, s(0), 102], &[s(0), 101, s(1)], SPECIALS),
        Ok(vec![100, 101, 102])
    );
    for (input, target) in [
        (vec![100, s(0)], vec![101, s(0), s(1)]), // target does not open
        (vec![100, s(0)], vec![s(0), 101]),       // not closed
        (vec![100, s(1)], vec![s(0), 101, s(1)]), // wrong sentinel in input
        (vec![100], vec![s(0), 101, s(1)]),       // span never used
        (vec![100, s(0)], vec![s(0), 101, s(2)]), // skipped number
        (vec![s(0), s(0)], vec![s(0), 101, s(1)]), // used twice
    ] {
        assert!(
            matches!(
                reconstruct(&input, &target, SPECIALS),
                Err(CoreError::Corpus(_))
            ),
            "{input:?} {target:?}"
        );
    }
}

#[test]
fn same_seed_same_corruption_other_seed_other() {
    let tokens = text(200, &mut Rng::new(0));
    let draw = |seed| {
        corrupt(
            &tokens,
            &SpanConfig::default(),
            SPECIALS,
            &mut Rng::new(seed),
        )
        .expect("ok")
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3).spans, draw(4).spans);
}

#[test]
fn config_defaults_are_the_paper_and_round_trip_through_serde() {
    let config: SpanConfig = serde_json::from_str("{}").expect("defaults");
    assert_eq!(config, SpanConfig::default());
    assert_eq!((config.noise_density, config.mean_span), (0.15, 3.0));
    let custom = SpanConfig {
        noise_density: 0.25,
        mean_span: 5.0,
    };
    let json = serde_json::to_string(&custom).expect("serialise");
    assert_eq!(
        serde_json::from_str::<SpanConfig>(&json).expect("parse"),
        custom
    );
}

// ── The batcher ──────────────────────────────────────────────────────────────────────────────

const BOS: u32 = 5;

fn is_sentinel(id: u32) -> bool {
    sentinel_index(SPECIALS, id).is_some()
}

fn batcher(config: SpanConfig, batch_size: usize, seq_len: usize, seed: u64) -> WindowBatcher {
    span_batcher(
        packed_stream(4000, seed),
        config,
        batch_size,
        seq_len,
        SPECIALS,
        Rng::new(seed),
    )
    .expect("batcher")
}

const SETTINGS: [(f64, f64, usize, usize); 5] = [
    // noise_density, mean_span, batch_size, seq_len
    (0.15, 3.0, 4, 64),
    (0.5, 2.0, 3, 16),
    (0.3, 2.0, 5, 8),
    (0.15, 3.0, 2, 3),
    (0.15, 3.0, 2, 310),
];

fn settings() -> impl Iterator<Item = (SpanConfig, usize, usize)> {
    SETTINGS.iter().map(|&(noise_density, mean_span, b, s)| {
        let config = SpanConfig {
            noise_density,
            mean_span,
        };
        (config, b, s)
    })
}

#[test]
fn batches_fill_every_field_to_its_length_and_no_row_is_empty() {
    for (config, batch_size, seq_len) in settings() {
        let mut batcher = batcher(config, batch_size, seq_len, 1);
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            assert_eq!((batch.batch_size, batch.seq_len), (batch_size, seq_len));
            assert_encoder_decoder_shapes(&batch);
            // Every window has seq_len tokens, so every target has T5's length for it.
            let Plan { noise, spans } = plan(seq_len, &config);
            assert_eq!(batch.target_len, noise + spans + 1, "{config:?} {seq_len}");
        }
    }
}

#[test]
fn decoder_inputs_are_the_targets_shifted_right_after_bos() {
    for (config, b, s) in settings() {
        let batch = batcher(config, b, s, 2).next_batch().expect("batch");
        let decoder = batch.decoder.as_ref().expect("decoder");
        let t = batch.target_len;
        for i in 0..b {
            let inputs = row(&decoder.inputs, t, i);
            assert_eq!(inputs[0], BOS);
            assert_eq!(&inputs[1..], &row(&batch.targets, t, i)[..t - 1]);
        }
    }
}

#[test]
fn padding_is_never_weighted_and_sentinels_are_never_corrupted() {
    for (config, b, s) in settings() {
        let mut batcher = batcher(config, b, s, 3);
        for _ in 0..5 {
            let batch = batcher.next_batch().expect("batch");
            for (p, &target) in batch.targets.iter().enumerate() {
                let (weight, corrupted) = (batch.loss_weights[p], batch.corrupted[p]);
                assert_eq!(
                    weight,
                    if target == PAD { 0.0 } else { 1.0 },
                    "weight at {p}"
                );
                let span_token = target != PAD && !is_sentinel(target);
                assert_eq!(
                    corrupted,
                    if span_token { 1.0 } else { 0.0 },
                    "corrupted at {p}"
                );
            }
            let weighted = batch.loss_weights.iter().filter(|&&w| w > 0.0).count();
            assert_eq!(batch.supervised_tokens, weighted);
            let hidden = batch.corrupted.iter().filter(|&&c| c > 0.0).count();
            assert_eq!(hidden, b * plan(s, &config).noise);
        }
    }
    // Windows of different lengths give targets of different lengths: the shorter ones are
    // padded, and neither the padding nor the decoder's attention to it counts.
    let mut rng = Rng::new(8);
    let windows: Vec<Vec<u32>> = [64, 20, 41, 3]
        .iter()
        .map(|&n| packed_stream(n, rng.next_u64()))
        .collect();
    let batch =
        span_batch(&windows, &SpanConfig::default(), 64, SPECIALS, &mut rng).expect("batch");
    let t = batch.target_len;
    let self_mask = &batch.decoder.as_ref().expect("decoder").self_mask;
    let mut padded = 0;
    for (i, window) in windows.iter().enumerate() {
        let target_len = plan(window.len(), &SpanConfig::default());
        let real = target_len.noise + target_len.spans + 1;
        for p in 0..t {
            let (weight, corrupted) = (batch.loss_weights[i * t + p], batch.corrupted[i * t + p]);
            if p < real {
                assert_eq!(weight, 1.0);
            } else {
                assert_eq!(
                    (batch.targets[i * t + p], weight, corrupted),
                    (PAD, 0.0, 0.0)
                );
                padded += 1;
                for q in 0..real {
                    assert!(
                        self_mask.is_blocked(i, q, p),
                        "a real position reads padding"
                    );
                }
            }
        }
    }
    assert!(padded > 0);
    assert_eq!(batch.supervised_tokens, windows.len() * t - padded);
    assert_eq!(self_mask.empty_rows(), 0);
}

#[test]
fn input_and_target_rebuild_each_window() {
    // Directly: the windows given come back.
    let mut rng = Rng::new(4);
    let windows: Vec<Vec<u32>> = (0..6).map(|_| packed_stream(64, rng.next_u64())).collect();
    let batch =
        span_batch(&windows, &SpanConfig::default(), 64, SPECIALS, &mut rng).expect("batch");
    let t = batch.target_len;
    for (i, window) in windows.iter().enumerate() {
        let input = unpadded(row(&batch.inputs, 64, i));
        let target = unpadded(row(&batch.targets, t, i));
        assert_eq!(
            reconstruct(input, target, SPECIALS).expect("rebuild"),
            *window
        );
    }
    let original: usize = windows
        .iter()
        .flatten()
        .filter(|&&id| !SPECIALS.is_special(id))
        .count();
    assert_eq!(batch.original_tokens, original);

    // Through the batcher: each rebuilt window is a contiguous piece of the stream.
    for (config, b, s) in settings() {
        let stream = counting_stream(5000);
        let mut batcher =
            span_batcher(stream, config, b, s, SPECIALS, Rng::new(5)).expect("batcher");
        for _ in 0..10 {
            let batch = batcher.next_batch().expect("batch");
            let t = batch.target_len;
            for i in 0..b {
                let input = unpadded(row(&batch.inputs, s, i));
                let target = unpadded(row(&batch.targets, t, i));
                let window = reconstruct(input, target, SPECIALS).expect("rebuild");
                assert_eq!(window.len(), s);
                assert!(window.windows(2).all(|w| w[1] == w[0] + 1), "{window:?}");
                assert!(window[0] >= 100 && window[s - 1] < 5100);
            }
            assert_eq!(batch.original_tokens, b * s);
        }
    }
}

#[test]
fn padded_encoder_positions_are_blocked_as_keys_everywhere() {
    let batch = batcher(SpanConfig::default(), 4, 64, 6)
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
    // 64 tokens, 10 hidden in 3 spans: the input has 57 tokens, 7 padding.
    assert_eq!(padded, b * 7);
}

#[test]
fn same_seed_same_batches_other_seed_other() {
    let draw = |seed| {
        let mut b = span_batcher(
            packed_stream(3000, 0),
            SpanConfig::default(),
            4,
            32,
            SPECIALS,
            Rng::new(seed),
        )
        .expect("batcher");
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
    let eval = |seed, wanted| {
        span_eval(&stream, SpanConfig::default(), 4, 32, wanted, seed).expect("eval")
    };
    let first = eval(9, 50);
    assert_eq!(first, eval(9, 50));
    assert_ne!(first, eval(10, 50), "the seed decides windows and spans");
    let scored: f32 = first.iter().flat_map(|b| &b.corrupted).sum();
    assert!(scored >= 50.0, "{scored}");
    let all = eval(9, usize::MAX);
    assert_eq!(
        all.len(),
        1000 / 32 / 4,
        "only as many whole batches as the text holds"
    );
    let mut starts = Vec::new();
    for batch in &all {
        assert_encoder_decoder_shapes(batch);
        for i in 0..4 {
            let input = unpadded(row(&batch.inputs, 32, i));
            let target = unpadded(row(&batch.targets, batch.target_len, i));
            let window = reconstruct(input, target, SPECIALS).expect("rebuild");
            assert!(
                window.windows(2).all(|w| w[1] == w[0] + 1),
                "a contiguous window"
            );
            assert_eq!((window[0] - 100) % 32, 0, "non-overlapping windows");
            starts.push(window[0]);
        }
    }
    assert!(starts.windows(2).any(|w| w[1] < w[0]), "a shuffled order");
    // A short text is cycled to one batch.
    let short = span_eval(&[100, 101, 102], SpanConfig::default(), 2, 8, 3, 9);
    assert_eq!(short.expect("cycled").len(), 1);
    // Sentinels are markers: the corrupted positions are the hidden text only.
    for batch in &first {
        for (t, c) in batch.targets.iter().zip(&batch.corrupted) {
            if *c > 0.0 {
                assert!(!is_sentinel(*t));
            }
        }
    }
}

#[test]
fn a_text_shorter_than_a_batch_is_cycled() {
    let mut batcher = span_batcher(
        counting_stream(5),
        SpanConfig::default(),
        4,
        8,
        SPECIALS,
        Rng::new(1),
    )
    .expect("batcher");
    for _ in 0..5 {
        assert_encoder_decoder_shapes(&batcher.next_batch().expect("batch"));
    }
}

#[test]
fn settings_that_cannot_fit_and_unusable_texts_are_refused_up_front() {
    let new = |stream: Vec<u32>, config, b, s| {
        span_batcher(stream, config, b, s, SPECIALS, Rng::new(1)).map(|_| ())
    };
    let eval = |stream: &[u32], config, b, s, _max: usize| {
        span_eval(stream, config, b, s, 1, 1).map(|_| ())
    };
    let config = SpanConfig::default();
    let text = counting_stream(2000);
    // Too many sentinels: the message names the knobs.
    for err in [
        new(text.clone(), config, 4, 512),
        eval(&text, config, 4, 512, 2),
    ] {
        match err {
            Err(CoreError::Knob(e)) => {
                let m = e.to_string();
                assert!(
                    m.contains("sentinels") && m.contains("noise_density"),
                    "{m}"
                )
            }
            other => panic!("expected a knob error, got {other:?}"),
        }
    }
    // A target longer than the decoder: 9 hidden + 2 sentinels for 10 positions.
    let dense = SpanConfig {
        noise_density: 0.9,
        mean_span: 10.0,
    };
    assert!(dense.check_seq_len(10).is_ok());
    for err in [
        new(text.clone(), dense, 4, 10),
        eval(&text, dense, 4, 10, 2),
    ] {
        assert!(
            matches!(&err, Err(CoreError::Knob(e)) if e.to_string().contains("target of 11")),
            "{err:?}"
        );
    }
    assert!(
        new(text.clone(), dense, 4, 100).is_ok(),
        "90 hidden + 10 sentinels fit 100"
    );
    // A sentinel in the text, an empty text: corpus errors.
    let mut with_sentinel = text.clone();
    with_sentinel[700] = 7 + 3;
    assert!(matches!(
        new(with_sentinel.clone(), config, 4, 64),
        Err(CoreError::Corpus(m)) if m.contains("[SPAN3]")
    ));
    assert!(matches!(
        eval(&with_sentinel, config, 4, 64, 2),
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
    // Degenerate shapes.
    assert!(matches!(
        new(text.clone(), config, 0, 64),
        Err(CoreError::Config(_))
    ));
    assert!(matches!(
        new(text.clone(), config, 4, 1),
        Err(CoreError::Knob(_))
    ));
    assert!(matches!(
        eval(&text, config, 0, 64, 1),
        Err(CoreError::Config(_))
    ));
}

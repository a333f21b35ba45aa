use super::*;
use crate::core::objective::span::{Seq2SeqExample, seq2seq_batch};
use crate::core::objective::test_support::{packed_stream, shape};
use crate::core::objective::{mlm, plm, span};
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;
use crate::core::viz::test_support::{Numbers, batches};

const SPECIALS: SpecialIds = SpecialIds::fixed();

fn kind(tokens: Option<Objective>, pairs: Option<Objective>) -> BatchKind {
    BatchKind { tokens, pairs }
}

fn windows(count: usize, len: usize, seed: u64) -> Vec<Vec<u32>> {
    packed_stream(count * len, seed)
        .chunks(len)
        .map(<[u32]>::to_vec)
        .collect()
}

fn ids(tokens: &[StripToken]) -> Vec<u32> {
    tokens.iter().map(|t| t.id).collect()
}

/// Every frame a token names exists and belongs to the right phase.
fn assert_frames(strip: &Strip) {
    for token in strip
        .original
        .iter()
        .chain(&strip.seen)
        .chain(&strip.written)
    {
        if let Some(f) = token.corrupt_frame {
            assert_eq!(strip.frames[f].phase, Phase::Corrupt, "{token:?}");
        }
        if let Some(f) = token.predict_frame {
            assert_eq!(strip.frames[f].phase, Phase::Predict, "{token:?}");
        }
    }
    assert_eq!(strip.frames[0].phase, Phase::Original);
    let phases: Vec<Phase> = strip.frames.iter().map(|f| f.phase).collect();
    let mut sorted = phases.clone();
    sorted.sort_by_key(|p| *p as u8);
    assert_eq!(
        phases, sorted,
        "original, then corruption, then predictions"
    );
}

#[test]
fn mlm_shows_masked_random_and_kept_tokens_from_the_batch() {
    let mut rng = Rng::new(3);
    let batch = mlm::windows_batch(&windows(8, 64, 5), &shape(8, 64), &mut rng).expect("batch");
    let mut states = Vec::new();
    for example in 0..8 {
        let strip =
            strip(&batch, kind(Some(Objective::Mlm), None), example, &Numbers).expect("strip");
        let row = example * 64..(example + 1) * 64;
        assert_eq!(ids(&strip.original), batch.targets[row.clone()]);
        assert_eq!(ids(&strip.seen), batch.inputs[row.clone()]);
        assert_eq!(
            strip.supervised,
            batch.loss_weights[row.clone()]
                .iter()
                .filter(|&&w| w > 0.0)
                .count()
        );
        for (i, token) in strip.seen.iter().enumerate() {
            let original = batch.targets[row.start + i];
            match token.state {
                TokenState::Masked => assert_eq!(token.id, SPECIALS.mask),
                TokenState::Random => assert_eq!(batch.corrupted[row.start + i], 1.0),
                TokenState::KeptScored => {
                    assert_eq!(token.id, original);
                    assert_eq!(batch.corrupted[row.start + i], 0.0);
                }
                TokenState::Text | TokenState::Special => assert!(!token.supervised),
                other => panic!("MLM shows no {other:?}"),
            }
            assert_eq!(token.supervised, batch.loss_weights[row.start + i] > 0.0);
            if token.supervised {
                assert_eq!(token.target.as_ref().map(|t| t.id), Some(original));
                assert!(strip.original[i].supervised);
            }
            states.push(token.state);
        }
        assert_frames(&strip);
    }
    for state in [
        TokenState::Masked,
        TokenState::Random,
        TokenState::KeptScored,
    ] {
        assert!(states.contains(&state), "no {state:?} in 8 windows");
    }
}

#[test]
fn clm_targets_are_the_next_tokens_of_the_original() {
    let (k, batch) = batches("clm").remove(0);
    let strip = strip(&batch, k, 0, &Numbers).expect("strip");
    assert_eq!(strip.original.len(), strip.seen.len() + 1);
    assert_eq!(strip.supervised, batch.seq_len);
    for (i, token) in strip.seen.iter().enumerate() {
        assert_eq!(
            token.target.as_ref().map(|t| t.id),
            Some(strip.original[i + 1].id)
        );
        assert_eq!(token.state, untouched(token.id));
    }
    assert!(!strip.original[0].supervised && strip.original[1].supervised);
    assert_frames(&strip);
}

/// What a token the objective left alone shows.
fn untouched(id: u32) -> TokenState {
    if SPECIALS.is_special(id) {
        TokenState::Special
    } else {
        TokenState::Text
    }
}

#[test]
fn t5_sentinels_stand_for_the_dropped_spans_the_decoder_restores() {
    let ws = windows(4, 64, 9);
    let batch = span::windows_batch(&ws, &shape(4, 64), &mut Rng::new(4)).expect("batch");
    for (example, window) in ws.iter().enumerate() {
        let strip =
            strip(&batch, kind(Some(Objective::Span), None), example, &Numbers).expect("strip");
        assert_eq!(&ids(&strip.original), window, "the original is the window");
        let dropped = strip
            .original
            .iter()
            .filter(|t| t.state == TokenState::Dropped)
            .count();
        assert_eq!(dropped, 10, "round(64 × 0.15)");
        let sentinels: Vec<&StripToken> = strip
            .seen
            .iter()
            .filter(|t| t.state == TokenState::Sentinel)
            .collect();
        assert_eq!(sentinels.len(), 3, "round(10 / 3) spans");
        for (k, s) in sentinels.iter().enumerate() {
            assert_eq!(s.span, Some(k));
            assert!(!s.source.is_empty());
            for &p in &s.source {
                assert_eq!(strip.original[p].state, TokenState::Dropped);
                assert_eq!(strip.original[p].span, Some(k));
            }
        }
        // The decoder's row: sentinels and the span tokens, each pointing at its original.
        assert_eq!(strip.written.len(), dropped + 4);
        assert_eq!(strip.supervised, strip.written.len());
        for w in strip
            .written
            .iter()
            .filter(|w| w.state == TokenState::Restored)
        {
            assert_eq!(w.source.len(), 1);
            assert_eq!(strip.original[w.source[0]].id, w.id);
            assert_eq!(strip.original[w.source[0]].span, w.span);
        }
        assert_eq!(strip.padding, 64 - strip.seen.len());
        assert_frames(&strip);
        assert_eq!(
            strip
                .frames
                .iter()
                .filter(|f| f.phase == Phase::Corrupt)
                .count(),
            3,
            "a frame per span"
        );
    }
}

/// `[100 .. 106)`: span (1, 1) hidden and an empty span before position 4.
fn bart_example() -> Batch {
    let m = SPECIALS.mask;
    let example = Seq2SeqExample {
        input: vec![100, m, 102, 103, m, 104, 105],
        target: (100..106).collect(),
        corrupted: vec![false, true, false, false, false, false],
    };
    seq2seq_batch(&[example], 8, SPECIALS, 6).expect("batch")
}

#[test]
fn bart_gives_each_span_one_mask_and_shows_an_empty_span() {
    let batch = bart_example();
    let strip = strip(&batch, kind(Some(Objective::Infill), None), 0, &Numbers).expect("strip");
    let masks: Vec<&StripToken> = strip
        .seen
        .iter()
        .filter(|t| t.state == TokenState::SpanMask)
        .collect();
    assert_eq!(masks.len(), 2);
    assert_eq!((masks[0].span, masks[0].source.clone()), (Some(0), vec![1]));
    assert_eq!((masks[1].span, masks[1].source.clone()), (Some(1), vec![]));
    assert!(
        strip.frames[2].caption.contains("empty span"),
        "{:?}",
        strip.frames
    );
    assert_eq!(strip.original[1].state, TokenState::Dropped);
    assert_eq!(strip.written[1].state, TokenState::Restored);
    assert_eq!(strip.written[2].state, TokenState::Text);
    assert_eq!(ids(&strip.written), (100..106).collect::<Vec<_>>());
    assert_eq!(strip.supervised, 6);
    assert_eq!(strip.padding, 1);
    assert_frames(&strip);

    // A target that does not match its input cannot be read back.
    let mut broken = batch.clone();
    broken.targets[2] = 999;
    let err = strip_of(&broken).expect_err("mismatch");
    assert!(err.to_string().contains("disagree"), "{err}");
}

fn strip_of(batch: &Batch) -> Result<Strip, CoreError> {
    strip(batch, kind(Some(Objective::Infill), None), 0, &Numbers)
}

#[test]
fn bart_strips_from_the_dataset_account_for_every_token() {
    let (k, batch) = batches("infill").remove(0);
    for example in 0..batch.batch_size {
        let strip = strip(&batch, k, example, &Numbers).expect("strip");
        assert_eq!(ids(&strip.original), ids(&strip.written));
        let covered: usize = strip.seen.iter().map(|t| t.source.len()).sum();
        assert_eq!(
            covered,
            strip.original.len(),
            "every original token is shown or hidden"
        );
        for t in strip
            .seen
            .iter()
            .filter(|t| t.state == TokenState::SpanMask)
        {
            assert!(
                t.source
                    .iter()
                    .all(|&p| strip.original[p].state == TokenState::Dropped)
            );
        }
        assert_frames(&strip);
    }
}

#[test]
fn xlnet_numbers_targets_in_the_order_drawn_and_shares_one_context_rank() {
    let ws = windows(4, 32, 2);
    let shape = shape(4, 32);
    let batch = plm::windows_batch(&ws, &shape, &mut Rng::new(6)).expect("batch");
    // The same draws again, to know each order independently of the masks.
    let mut replay = Rng::new(6);
    for (example, window) in ws.iter().enumerate() {
        let drawn = plm::plm_example(window, &plm::PlmConfig::default(), SPECIALS, &mut replay);
        let strip =
            strip(&batch, kind(Some(Objective::Plm), None), example, &Numbers).expect("strip");
        assert_eq!(
            ids(&strip.seen),
            *window,
            "XLNet's input is the text itself"
        );
        let in_order: Vec<usize> = drawn
            .order
            .iter()
            .copied()
            .filter(|&p| drawn.predicted[p])
            .collect();
        for (k, &p) in in_order.iter().enumerate() {
            assert_eq!(strip.seen[p].state, TokenState::Target);
            assert_eq!(
                strip.seen[p].prediction_order,
                Some(k + 1),
                "example {example}"
            );
            assert_eq!(strip.seen[p].target.as_ref().map(|t| t.id), Some(window[p]));
        }
        for (p, token) in strip.seen.iter().enumerate() {
            match token.state {
                TokenState::Context => {
                    assert!(!drawn.predicted[p] && token.prediction_order.is_none())
                }
                TokenState::Special => assert!(SPECIALS.is_special(token.id)),
                TokenState::Target => {}
                other => panic!("XLNet shows no {other:?}"),
            }
        }
        assert_eq!(strip.supervised, in_order.len());
        assert_eq!(
            strip
                .frames
                .iter()
                .filter(|f| f.phase == Phase::Predict)
                .count(),
            in_order.len(),
            "one frame per target, in order"
        );
        assert_frames(&strip);
    }
    let mut no_query = batch.clone();
    no_query.query = None;
    assert!(strip(&no_query, kind(Some(Objective::Plm), None), 0, &Numbers).is_err());
}

#[test]
fn sentence_pairs_show_segments_and_the_label() {
    for mix in ["nsp", "sop", "mlm+nsp", "clm+sop", "plm+nsp"] {
        let (k, batch) = batches(mix).remove(0);
        for example in 0..batch.batch_size {
            let strip = strip(&batch, k, example, &Numbers).expect(mix);
            let pair = strip.pair.as_ref().expect("a pair");
            let labels = &batch.pairs.as_ref().expect("pairs").labels;
            assert_eq!(pair.label, labels[example], "{mix}");
            assert_eq!(pair.task, k.pairs.expect("pair task"));
            let first_sep = strip
                .seen
                .iter()
                .position(|t| t.id == SPECIALS.sep)
                .expect("a [SEP]");
            for (i, t) in strip.seen.iter().enumerate() {
                // A up to the first [SEP], B after it (a trailing [CLS] follows B).
                assert_eq!(
                    t.segment,
                    Some(u32::from(i > first_sep)),
                    "{mix}: position {i}"
                );
            }
            assert_eq!(strip.seen[pair.head].id, SPECIALS.cls, "{mix}");
            assert!(pair.verdict.contains(&format!("label {}", pair.label)));
            assert_eq!(strip.frames[pair.pack_frame].phase, Phase::Corrupt);
            assert_eq!(pair.predict_frame, strip.frames.len() - 1);
            if k.tokens.is_none() {
                assert_eq!(strip.supervised, 0, "{mix}: the pair head alone");
            }
            assert_frames(&strip);
        }
    }
}

#[test]
fn every_presets_strips_are_built_and_an_example_past_the_batch_is_refused() {
    for mix in [
        "bert", "roberta", "albert", "gpt", "t5", "bart", "xlnet", "span+sop",
    ] {
        for (k, batch) in batches(mix) {
            for example in 0..batch.batch_size {
                let strip = strip(&batch, k, example, &Numbers).expect(mix);
                assert_eq!(strip.seen.len() + strip.padding, batch.seq_len);
                assert_frames(&strip);
            }
            let err = strip(&batch, k, batch.batch_size, &Numbers).expect_err("past the end");
            assert!(matches!(err, CoreError::Picture(_)), "{err}");
        }
    }
}

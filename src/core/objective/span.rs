//! Span corruption, T5's denoising objective (Raffel et al. 2020, §3.1.4; the "replace corrupted
//! spans" row of Table 5), as pure functions on token ids: the encoder-decoder batcher builds
//! tensors from what [`corrupt`] returns.
//!
//! Some tokens of a sequence are hidden in contiguous spans. The encoder sees the sequence with
//! each hidden span replaced by one sentinel, `[SPAN0]`, `[SPAN1]`, … in order; the decoder must
//! write out only what was hidden, each span after its sentinel, closed by one more sentinel:
//!
//! ```text
//! original  Thank you for inviting me to your party last week .
//! input     Thank you [SPAN0] me to your party [SPAN1] week .
//! target    [SPAN0] for inviting [SPAN1] last [SPAN2]
//! ```
//!
//! (The example is the paper's Figure 2. Here, as in T5's `random_spans_noise_mask`, the
//! sequence always ends inside a hidden span.) The target is much shorter than the input, which
//! is why T5 found span corruption as good as BERT-style denoising and cheaper (Table 5).
//!
//! How the spans are drawn follows `random_spans_noise_mask` in the T5 codebase: the counts are
//! fixed by the length, only the positions are random. For `n` tokens, `round(n ×
//! noise_density)` (kept in `1..=n−1`) are hidden, in `round(hidden / mean_span)` spans (at
//! least 1). The hidden tokens are split at random into that many non-empty spans, the kept
//! tokens likewise, and the two lists are interleaved starting with kept text. Rounding is
//! half-to-even, as `tf.round` does.
//!
//! The knobs and why their defaults:
//! - `noise_density` (0.15): the fraction hidden. T5 Table 6 tried 10/15/25/50% (GLUE 82.82 /
//!   83.28 / 83.00 / 81.27): 15%, BERT's rate, was best, and only 50% clearly hurt.
//! - `mean_span` (3.0): the average span length. Table 7 tried 2/3/5/10 (SuperGLUE 72.20 / 72.53 /
//!   72.23 / 70.44): 3 was best by a little; longer spans mean fewer sentinels and shorter
//!   targets.
//!
//! The lab's tokenizer reserves [`SPAN_SENTINELS`] sentinels and a sequence needs one per span
//! plus the closing one, so long sequences at the defaults run out (64 tokens need 4; more than
//! 310 need 17). [`max_sentinels_needed`] and [`SpanConfig::check_seq_len`] check a setting
//! before training starts.

use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::rng::Rng;
use crate::core::tokenizer::{SPAN_SENTINELS, SpecialIds};

/// How much of a sequence span corruption hides, and in how long pieces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpanConfig {
    /// Fraction of the tokens hidden from the encoder, in (0, 1). Paper: 0.15.
    pub noise_density: f64,
    /// Mean length of a hidden span in tokens, at least 1. Paper: 3.0.
    pub mean_span: f64,
}

impl Default for SpanConfig {
    fn default() -> Self {
        Self {
            noise_density: 0.15,
            mean_span: 3.0,
        }
    }
}

impl SpanConfig {
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.noise_density.is_finite() && self.noise_density > 0.0 && self.noise_density < 1.0)
        {
            return Err(CoreError::Config(format!(
                "span corruption: noise_density {} must be above 0 and below 1 (the paper uses 0.15)",
                self.noise_density
            )));
        }
        if !(self.mean_span.is_finite() && self.mean_span >= 1.0) {
            return Err(CoreError::Config(format!(
                "span corruption: mean_span {} must be at least 1 token (the paper uses 3)",
                self.mean_span
            )));
        }
        Ok(())
    }

    /// Checks the settings and that every sequence of up to `seq_len` tokens can be corrupted:
    /// at least 2 tokens, and no more sentinels than the tokenizer has.
    pub fn check_seq_len(&self, seq_len: usize) -> Result<(), CoreError> {
        self.validate()?;
        if seq_len < 2 {
            return Err(CoreError::Config(format!(
                "span corruption needs sequences of at least 2 tokens (one to hide, one to see); got {seq_len}"
            )));
        }
        let needed = max_sentinels_needed(seq_len, self);
        if needed > SPAN_SENTINELS {
            return Err(CoreError::Config(format!(
                "span corruption of a {seq_len}-token sequence with noise_density {} and mean_span {} \
                 needs {needed} sentinels; the tokenizer has {SPAN_SENTINELS}: lower noise_density \
                 or raise mean_span, or shorten seq_len",
                self.noise_density, self.mean_span
            )));
        }
        Ok(())
    }
}

/// One corrupted sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanCorruption {
    /// What the encoder sees: the kept tokens, each hidden span replaced by its sentinel.
    pub input: Vec<u32>,
    /// What the decoder writes: each span's sentinel and tokens, then the closing sentinel.
    pub target: Vec<u32>,
    /// The hidden spans as `(start, len)` in the original, in order.
    pub spans: Vec<(usize, usize)>,
}

/// The sentinels corrupting a sequence of `seq_len` tokens (or any shorter one) takes: one per
/// span plus the closing one. Compare with [`SPAN_SENTINELS`]. Returns 0 below 2 tokens, which
/// cannot be corrupted at all.
pub fn max_sentinels_needed(seq_len: usize, config: &SpanConfig) -> usize {
    (2..=seq_len)
        .map(|n| plan(n, config).spans + 1)
        .max()
        .unwrap_or(0)
}

/// Hides random spans of `tokens` (see the module doc). The tokens must not contain sentinels.
pub fn corrupt(
    tokens: &[u32],
    config: &SpanConfig,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<SpanCorruption, CoreError> {
    let n = tokens.len();
    config.check_seq_len(n)?;
    if let Some((pos, index)) = tokens
        .iter()
        .enumerate()
        .find_map(|(pos, &id)| sentinel_index(specials, id).map(|k| (pos, k)))
    {
        return Err(CoreError::Corpus(format!(
            "span corruption: the sequence already holds [SPAN{index}] at position {pos}; \
             sentinels are markers, so the text must not contain them"
        )));
    }
    let Plan { noise, spans } = plan(n, config);
    let hidden_lengths = random_segmentation(noise, spans, rng);
    let kept_lengths = random_segmentation(n - noise, spans, rng);

    let mut input = Vec::with_capacity(n - noise + spans);
    let mut target = Vec::with_capacity(noise + spans + 1);
    let mut hidden = Vec::with_capacity(spans);
    let mut pos = 0;
    for (k, (&kept, &len)) in kept_lengths.iter().zip(&hidden_lengths).enumerate() {
        input.extend_from_slice(&tokens[pos..pos + kept]);
        pos += kept;
        let sentinel = sentinel_id(specials, k);
        input.push(sentinel);
        target.push(sentinel);
        target.extend_from_slice(&tokens[pos..pos + len]);
        hidden.push((pos, len));
        pos += len;
    }
    target.push(sentinel_id(specials, spans));
    Ok(SpanCorruption {
        input,
        target,
        spans: hidden,
    })
}

/// The original sequence from an input and its target: each sentinel in the input is replaced
/// by the tokens that follow the same sentinel in the target. Refuses pairs that [`corrupt`]
/// could not have produced (sentinels out of order, missing, or unclosed).
pub fn reconstruct(
    input: &[u32],
    target: &[u32],
    specials: SpecialIds,
) -> Result<Vec<u32>, CoreError> {
    let malformed = |why: String| CoreError::Corpus(format!("cannot reconstruct the text: {why}"));
    // One entry per sentinel of the target; the last one is the closing sentinel's, empty.
    let mut pieces: Vec<Vec<u32>> = Vec::new();
    for &id in target {
        match sentinel_index(specials, id) {
            Some(k) if k == pieces.len() => pieces.push(Vec::new()),
            Some(k) => {
                return Err(malformed(format!(
                    "the target holds [SPAN{k}] where [SPAN{}] was due",
                    pieces.len()
                )));
            }
            None => match pieces.last_mut() {
                Some(piece) => piece.push(id),
                None => return Err(malformed("the target must start with [SPAN0]".into())),
            },
        }
    }
    match pieces.pop() {
        Some(closing) if closing.is_empty() => {}
        _ => {
            return Err(malformed(
                "the target must end with a closing sentinel".into(),
            ));
        }
    }
    let mut original = Vec::with_capacity(input.len() + pieces.iter().map(Vec::len).sum::<usize>());
    let mut used = 0;
    for &id in input {
        match sentinel_index(specials, id) {
            Some(k) if k == used && k < pieces.len() => {
                original.extend_from_slice(&pieces[k]);
                used += 1;
            }
            Some(k) => {
                return Err(malformed(format!(
                    "the input holds [SPAN{k}] where [SPAN{used}] was due ({} spans in the target)",
                    pieces.len()
                )));
            }
            None => original.push(id),
        }
    }
    if used != pieces.len() {
        return Err(malformed(format!(
            "the target has {} spans but the input only {used} sentinels",
            pieces.len()
        )));
    }
    Ok(original)
}

/// How many tokens are hidden, in how many spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    noise: usize,
    spans: usize,
}

/// T5's counts for an `n`-token sequence (`n ≥ 2`, a validated config).
fn plan(n: usize, config: &SpanConfig) -> Plan {
    let noise = ((n as f64 * config.noise_density).round_ties_even() as usize).clamp(1, n - 1);
    let spans = ((noise as f64 / config.mean_span).round_ties_even() as usize).max(1);
    // Each hidden span needs kept text before it (T5's interleaving starts with kept text), so
    // a very dense setting on a short sequence gets fewer, longer spans rather than none.
    let spans = spans.min(noise).min(n - noise);
    Plan { noise, spans }
}

/// A uniformly random split of `items` things into `segments` non-empty runs (T5's
/// `_random_segmentation`): shuffle `segments − 1` run starts among the `items − 1` gaps.
/// Needs `1 ≤ segments ≤ items`.
fn random_segmentation(items: usize, segments: usize, rng: &mut Rng) -> Vec<usize> {
    let mut starts_run = vec![false; items.saturating_sub(1)];
    for flag in starts_run.iter_mut().take(segments.saturating_sub(1)) {
        *flag = true;
    }
    rng.shuffle(&mut starts_run);
    let mut lengths = Vec::with_capacity(segments);
    let mut current = 1;
    for starts in starts_run {
        if starts {
            lengths.push(current);
            current = 1;
        } else {
            current += 1;
        }
    }
    lengths.push(current);
    lengths
}

fn sentinel_id(specials: SpecialIds, k: usize) -> u32 {
    specials.first_sentinel + k as u32
}

fn sentinel_index(specials: SpecialIds, id: u32) -> Option<usize> {
    let k = id.checked_sub(specials.first_sentinel)? as usize;
    (k < SPAN_SENTINELS).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specials() -> SpecialIds {
        SpecialIds {
            pad: 0,
            unk: 1,
            cls: 2,
            sep: 3,
            mask: 4,
            bos: 5,
            eos: 6,
            first_sentinel: 7,
        }
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
                let out = corrupt(&tokens, &config, specials(), &mut rng).expect("corrupt");
                assert_eq!(
                    reconstruct(&out.input, &out.target, specials()).expect("reconstruct"),
                    tokens,
                    "n {n} seed {seed} {config:?}"
                );
                // The record agrees with the target, and spans never touch.
                let mut from_record = Vec::new();
                let mut end = 0;
                for (k, &(start, len)) in out.spans.iter().enumerate() {
                    assert!(len >= 1 && start > end, "spans are separated by kept text");
                    from_record.push(sentinel_id(specials(), k));
                    from_record.extend_from_slice(&tokens[start..start + len]);
                    end = start + len;
                }
                from_record.push(sentinel_id(specials(), out.spans.len()));
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
            let out = corrupt(&tokens, &SpanConfig::default(), specials(), &mut rng).expect("ok");
            let k = out.spans.len();
            let in_input: Vec<usize> = out
                .input
                .iter()
                .filter_map(|&id| sentinel_index(specials(), id))
                .collect();
            assert_eq!(in_input, (0..k).collect::<Vec<_>>());
            let in_target: Vec<usize> = out
                .target
                .iter()
                .filter_map(|&id| sentinel_index(specials(), id))
                .collect();
            assert_eq!(in_target, (0..=k).collect::<Vec<_>>());
            assert_eq!(out.target.last(), Some(&sentinel_id(specials(), k)));
            assert_eq!(out.target.first(), Some(&sentinel_id(specials(), 0)));
            for &id in out.input.iter().chain(&out.target) {
                assert!(sentinel_index(specials(), id).is_some() || !specials().is_special(id));
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
                let out = corrupt(&tokens, &config, specials(), &mut rng).expect("ok");
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
        match corrupt(&tokens, &config, specials(), &mut rng) {
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
        assert!(corrupt(&tokens, &longer_spans, specials(), &mut rng).is_ok());
    }

    #[test]
    fn degenerate_inputs_and_settings_are_refused() {
        let mut rng = Rng::new(2);
        let config = SpanConfig::default();
        for n in [0, 1] {
            let tokens = text(n, &mut rng);
            assert!(matches!(
                corrupt(&tokens, &config, specials(), &mut rng),
                Err(CoreError::Config(_))
            ));
        }
        let out = corrupt(&[100, 101], &config, specials(), &mut rng).expect("two tokens");
        assert_eq!(out.input, vec![100, 7]);
        assert_eq!(out.target, vec![7, 101, 8]);
        for (noise_density, mean_span) in [(0.0, 3.0), (1.0, 3.0), (f64::NAN, 3.0), (0.15, 0.5)] {
            let bad = SpanConfig {
                noise_density,
                mean_span,
            };
            assert!(matches!(bad.validate(), Err(CoreError::Config(_))));
        }
        let with_sentinel = [100, 101, 9, 102];
        assert!(matches!(
            corrupt(&with_sentinel, &config, specials(), &mut rng),
            Err(CoreError::Corpus(_))
        ));
    }

    #[test]
    fn malformed_pairs_do_not_reconstruct() {
        let s = |k| sentinel_id(specials(), k);
        assert_eq!(
            reconstruct(&[100, s(0), 102], &[s(0), 101, s(1)], specials()),
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
                    reconstruct(&input, &target, specials()),
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
                specials(),
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
}

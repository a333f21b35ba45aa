//! Text infilling, BART's denoising objective (Lewis et al. 2020, §2.2; fairseq's
//! `denoising_dataset` with `mask_length = span-poisson`, `replace_length = 1`), as pure
//! functions on token ids: the encoder-decoder batcher builds tensors from what [`corrupt`]
//! returns.
//!
//! Spans of text are hidden, their lengths drawn from a Poisson distribution, and each span —
//! however long, even empty — is replaced by a single `[MASK]`. The encoder sees the corrupted
//! text; the decoder writes out the whole original:
//!
//! ```text
//! original  Thank you for inviting me to your party last week .
//! input     Thank you [MASK] me to your party [MASK] last [MASK] .
//! target    Thank you for inviting me to your party last week .
//! ```
//!
//! (The second `[MASK]` hides nothing: a zero-length span.) Because one `[MASK]` can stand for
//! zero, one or many tokens, the model must also work out how many tokens are missing (§2.2) —
//! unlike BERT, whose every `[MASK]` is exactly one token. Text infilling was the most
//! consistently strong noising in BART's Table 1 (SQuAD 90.8, MNLI 84.0, and the lowest
//! perplexity on XSum, ConvAI2 and CNN/DM).
//!
//! How a sequence of `n` tokens is corrupted: `round(mask_ratio × n)` tokens are hidden (at
//! least one, and at least one left visible). Span lengths are drawn from Poisson(λ) until they
//! add up to that budget, the last one trimmed to land on it exactly (as fairseq does);
//! zero-length draws are kept, each inserting a `[MASK]` where nothing was removed. The spans are
//! then placed, in a random order, uniformly at random with at least one visible token between
//! neighbours, so every span — empty ones too — gets its own `[MASK]` and the record of what each
//! mask hides is exact. (fairseq instead starts each span at an independent random word and lets
//! spans overlap or merge; the lab keeps them apart so the page can show exactly what every
//! `[MASK]` stands for.)
//!
//! The knobs and why their defaults:
//! - `mask_ratio` (0.3): the fraction of tokens hidden. BART's large-scale run masks 30% of the
//!   tokens of each document (§5.1), twice BERT's 15%.
//! - `poisson_lambda` (3.0): the mean span length, λ = 3 in §2.2. About e^−3 ≈ 5% of the spans are
//!   empty.

use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// Longest mean span the lab accepts: longer than its longest sequences, and the Poisson
/// sampler's cost grows with λ.
const MAX_LAMBDA: f64 = 64.0;

/// Span lengths are redrawn this many times when they cannot be kept apart before giving up,
/// so an unlucky draw on a short sequence does not stop a run.
const PLACEMENT_ATTEMPTS: usize = 16;

/// How much of a sequence text infilling hides, and in how long spans.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InfillConfig {
    /// Fraction of the tokens hidden, in (0, 1). Paper: 0.3.
    pub mask_ratio: f64,
    /// Mean span length λ of the Poisson distribution span lengths are drawn from, in (0, 64].
    /// Paper: 3.0.
    pub poisson_lambda: f64,
}

impl Default for InfillConfig {
    fn default() -> Self {
        Self {
            mask_ratio: 0.3,
            poisson_lambda: 3.0,
        }
    }
}

impl InfillConfig {
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.mask_ratio.is_finite() && self.mask_ratio > 0.0 && self.mask_ratio < 1.0) {
            return Err(CoreError::Config(format!(
                "text infilling: mask_ratio {} must be above 0 and below 1 (the paper uses 0.3)",
                self.mask_ratio
            )));
        }
        if !(self.poisson_lambda.is_finite()
            && self.poisson_lambda > 0.0
            && self.poisson_lambda <= MAX_LAMBDA)
        {
            return Err(CoreError::Config(format!(
                "text infilling: poisson_lambda {} must be above 0 and at most {MAX_LAMBDA} \
                 (the paper uses 3)",
                self.poisson_lambda
            )));
        }
        Ok(())
    }
}

/// One corrupted sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Infilling {
    /// What the encoder sees: the original with each span replaced by one `[MASK]`.
    pub input: Vec<u32>,
    /// What the decoder writes: the whole original.
    pub target: Vec<u32>,
    /// The hidden spans as `(start, len)` in the original, in order; `len` may be 0 (the
    /// `[MASK]` was inserted before `start`, or at the end when `start` is the length). The
    /// k-th span is the k-th `[MASK]` of `input`.
    pub spans: Vec<(usize, usize)>,
}

impl Infilling {
    /// Tokens hidden (the sum of the span lengths).
    pub fn masked_tokens(&self) -> usize {
        self.spans.iter().map(|&(_, len)| len).sum()
    }

    /// What each `[MASK]` hides, in order, read from `target` (empty for a zero-length span, and
    /// for a span that lies outside a hand-edited `target`).
    pub fn span_tokens(&self) -> Vec<&[u32]> {
        self.spans
            .iter()
            .map(|&(start, len)| self.target.get(start..start + len).unwrap_or(&[]))
            .collect()
    }
}

/// Hides random spans of `tokens` (see the module doc). The tokens must not contain `[MASK]`.
/// When the drawn spans cannot be kept apart (many empty spans in a short sequence) the lengths
/// are drawn again, up to 16 times, before a [`CoreError::Config`] says what to change.
pub fn corrupt(
    tokens: &[u32],
    config: &InfillConfig,
    specials: SpecialIds,
    rng: &mut Rng,
) -> Result<Infilling, CoreError> {
    config.validate()?;
    let n = tokens.len();
    let masked = (n as f64 * config.mask_ratio).round() as usize;
    if masked == 0 || masked >= n {
        return Err(CoreError::Config(format!(
            "text infilling with mask_ratio {} would hide {masked} of a {n}-token sequence; it \
             needs at least one token to hide and one to keep: use longer sequences or a \
             different mask_ratio",
            config.mask_ratio
        )));
    }
    if let Some(pos) = tokens.iter().position(|&id| id == specials.mask) {
        return Err(CoreError::Corpus(format!(
            "text infilling: the sequence already holds [MASK] at position {pos}; [MASK] is the \
             marker, so the text must not contain it"
        )));
    }
    let visible = n - masked;
    // Neighbouring spans need a visible token between them: at most `visible + 1` spans fit.
    let max_spans = visible + 1;
    let mut lengths = None;
    for _ in 0..PLACEMENT_ATTEMPTS {
        lengths = draw_lengths(masked, max_spans, config.poisson_lambda, rng);
        if lengths.is_some() {
            break;
        }
    }
    let Some(mut lengths) = lengths else {
        return Err(CoreError::Config(format!(
            "text infilling could not place its spans in a {n}-token sequence: hiding {masked} \
             tokens with poisson_lambda {} kept taking more than {max_spans} spans (many of them \
             empty), and spans must be kept apart by the {visible} visible tokens; lower \
             mask_ratio, raise poisson_lambda, or use longer sequences",
            config.poisson_lambda
        )));
    };
    // The trimmed last draw would otherwise always be the last span of the sequence.
    rng.shuffle(&mut lengths);

    // Stars and bars: `visible − (k − 1)` free visible tokens and k spans in a uniformly random
    // order; span i starts after the free tokens before its bar, the one separator each earlier
    // span needs, and the earlier spans themselves, which comes to `bar_i + earlier lengths`.
    let k = lengths.len();
    let bars = choose_sorted(max_spans, k, rng);
    let mut spans = Vec::with_capacity(k);
    let mut earlier = 0;
    for (&bar, &len) in bars.iter().zip(&lengths) {
        spans.push((bar + earlier, len));
        earlier += len;
    }

    let mut input = Vec::with_capacity(visible + k);
    let mut pos = 0;
    for &(start, len) in &spans {
        input.extend_from_slice(&tokens[pos..start]);
        input.push(specials.mask);
        pos = start + len;
    }
    input.extend_from_slice(&tokens[pos..]);
    Ok(Infilling {
        input,
        target: tokens.to_vec(),
        spans,
    })
}

/// The text with the k-th `[MASK]` of `input` replaced by `span_tokens[k]` (possibly empty):
/// the original, given the spans a corruption recorded ([`Infilling::span_tokens`]) or a
/// prediction of them. Refuses a count of spans that differs from the count of masks.
pub fn fill<S: AsRef<[u32]>>(
    input: &[u32],
    span_tokens: &[S],
    specials: SpecialIds,
) -> Result<Vec<u32>, CoreError> {
    let masks = input.iter().filter(|&&id| id == specials.mask).count();
    if masks != span_tokens.len() {
        return Err(CoreError::Corpus(format!(
            "cannot fill the text: it has {masks} [MASK]s but {} spans were given",
            span_tokens.len()
        )));
    }
    let mut spans = span_tokens.iter();
    let mut filled = Vec::with_capacity(input.len());
    for &id in input {
        if id != specials.mask {
            filled.push(id);
        } else if let Some(span) = spans.next() {
            filled.extend_from_slice(span.as_ref());
        }
    }
    Ok(filled)
}

/// Span lengths drawn from Poisson(λ) until they sum to `masked`, the last trimmed to land on
/// it; `None` when that takes more than `max_spans` spans.
fn draw_lengths(masked: usize, max_spans: usize, lambda: f64, rng: &mut Rng) -> Option<Vec<usize>> {
    let mut lengths = Vec::new();
    let mut sum = 0;
    while sum < masked {
        if lengths.len() == max_spans {
            return None;
        }
        let len = poisson(lambda, rng).min(masked - sum);
        lengths.push(len);
        sum += len;
    }
    Some(lengths)
}

/// One Poisson(λ) draw by Knuth's multiplication method: multiply uniforms until the product
/// falls below e^−λ; the number of factors before that is the draw. Exact, and O(λ) per draw,
/// which is cheap for the small λ used here.
fn poisson(lambda: f64, rng: &mut Rng) -> usize {
    let threshold = (-lambda).exp();
    let mut product = rng.next_f64();
    let mut count = 0;
    while product > threshold {
        product *= rng.next_f64();
        count += 1;
    }
    count
}

/// `k` distinct values of `0..m`, uniformly at random, ascending (`k ≤ m`).
fn choose_sorted(m: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..m).collect();
    for i in 0..k.min(m) {
        let j = i + rng.below(m - i);
        slots.swap(i, j);
    }
    slots.truncate(k);
    slots.sort_unstable();
    slots
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
                let out = corrupt(&tokens, &config, specials(), &mut rng).expect("corrupt");
                assert_eq!(out.target, tokens);
                assert_eq!(
                    fill(&out.input, &out.span_tokens(), specials()).expect("fill"),
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
            let out = corrupt(&tokens, &InfillConfig::default(), specials(), &mut rng).expect("ok");
            assert!(
                out.input
                    .iter()
                    .all(|&id| id == MASK || !specials().is_special(id))
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
            let out = corrupt(&tokens, &InfillConfig::default(), specials(), &mut rng).expect("ok");
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
            let out = corrupt(&tokens, &config, specials(), &mut rng).expect("ok");
            let fraction = out.masked_tokens() as f64 / 512.0;
            assert!((fraction - 0.3).abs() <= 0.02, "fraction {fraction}");
        }
        let mut fractions = Vec::new();
        for _ in 0..500 {
            let n = 20 + rng.below(493);
            let tokens = text(n, &mut rng);
            let out = corrupt(&tokens, &config, specials(), &mut rng).expect("ok");
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
                specials(),
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
                corrupt(&tokens, &config, specials(), &mut rng),
                Err(CoreError::Config(_))
            ));
        }
        let all_hidden = InfillConfig {
            mask_ratio: 0.9,
            ..config
        };
        assert!(matches!(
            corrupt(&text(4, &mut rng), &all_hidden, specials(), &mut rng),
            Err(CoreError::Config(_))
        ));
        for (mask_ratio, poisson_lambda) in [(0.0, 3.0), (1.0, 3.0), (0.3, 0.0), (0.3, f64::NAN)] {
            let bad = InfillConfig {
                mask_ratio,
                poisson_lambda,
            };
            assert!(matches!(bad.validate(), Err(CoreError::Config(_))));
        }
        assert!(matches!(
            corrupt(&[100, MASK, 101, 102], &config, specials(), &mut rng),
            Err(CoreError::Corpus(_))
        ));
        // Nearly every span empty: they cannot all be kept apart in 10 tokens.
        let tiny_spans = InfillConfig {
            mask_ratio: 0.3,
            poisson_lambda: 0.01,
        };
        match corrupt(&text(10, &mut rng), &tiny_spans, specials(), &mut rng) {
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
            fill(&input, &[vec![7u32, 8], vec![]], specials()),
            Ok(vec![100, 7, 8, 101])
        );
        assert!(matches!(
            fill(&input, &[vec![7u32]], specials()),
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
}

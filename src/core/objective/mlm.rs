//! Masked language modelling (BERT; Devlin et al. 2019, §3.1 "Task #1: Masked LM", and
//! Appendix A.1): a bidirectional encoder sees the whole sequence with some tokens hidden and
//! predicts the original token at every selected position. This file is the data side only — a
//! pure function from token ids to corrupted inputs, targets and which positions are scored;
//! the batcher turns it into tensors and the model never learns which objective it serves.
//!
//! The procedure, and why:
//!
//! - **Which positions.** Only ordinary tokens are candidates: padding, `[CLS]`, `[SEP]`, the
//!   span sentinels and every other special are never selected, because predicting structure
//!   the batcher itself inserted teaches nothing (BERT's `create_pretraining_data.py` likewise
//!   skips `[CLS]`/`[SEP]`).
//! - **How many.** Exactly `round(mask_rate × eligible)` positions, at least one, chosen
//!   uniformly without replacement — BERT's reference code does the same (`num_to_predict =
//!   max(1, round(len × masked_lm_prob))` over shuffled candidates) rather than an independent
//!   coin per token, so every sequence carries the same share of supervision. That share is
//!   small: MLM learns from only ~15% of positions (the cost ELECTRA, Clark et al. 2020, points
//!   out), which [`MlmMasked::supervised`] makes countable.
//! - **What replaces them (80/10/10).** `[MASK]` never appears at fine-tuning time, so BERT
//!   does not always show it: of the selected positions, 80% become `[MASK]`, 10% a random
//!   token and 10% stay unchanged, each decided by an independent draw per position. The model
//!   therefore cannot trust any input token to be the answer, nor assume an unmasked token is
//!   right (§3.1; the ablation of these rates is Appendix C.2, Table 8).
//! - **Random tokens are ordinary tokens.** BERT draws from the whole vocabulary; here a random
//!   replacement is uniform over the ordinary ids `23..vocab_size` only, because a random
//!   `[SEP]` or `[MASK]` would fake structure (a segment boundary, a mask that is not counted
//!   as one). As in BERT, the draw may by chance equal the original token; it is still labelled
//!   [`Corruption::Random`], because that is the procedure the model was trained under.
//!
//! `val_loss_corrupted` scores the positions whose input no longer shows the answer
//! ([`MlmMasked::corrupted`]: `[MASK]` or random); the full MLM loss scores every selected one.

use serde::{Deserialize, Serialize};

use crate::core::error::CoreError;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// The three knobs of BERT's masking procedure (defaults: the paper's 15%, 80/10/10).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MlmConfig {
    /// Share of eligible (non-special) positions selected for prediction, in (0, 1].
    pub mask_rate: f64,
    /// Of the selected positions, the share replaced by `[MASK]`.
    pub mask_token: f64,
    /// Of the selected positions, the share replaced by a random ordinary token. The rest,
    /// `1 − mask_token − random_token`, are kept unchanged (but still predicted).
    pub random_token: f64,
}

impl Default for MlmConfig {
    fn default() -> Self {
        Self {
            mask_rate: 0.15,
            mask_token: 0.8,
            random_token: 0.1,
        }
    }
}

impl MlmConfig {
    /// Checks the knobs: `mask_rate` in (0, 1], both fractions ≥ 0, their sum ≤ 1.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.mask_rate > 0.0 && self.mask_rate <= 1.0) {
            return Err(CoreError::Config(format!(
                "mlm mask_rate is {}; it must be above 0 and at most 1 (BERT uses 0.15)",
                self.mask_rate
            )));
        }
        for (name, value, paper) in [
            ("mask_token", self.mask_token, 0.8),
            ("random_token", self.random_token, 0.1),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(CoreError::Config(format!(
                    "mlm {name} is {value}; it is a share of the selected positions, between 0 \
                     and 1 (BERT uses {paper})"
                )));
            }
        }
        let sum = self.mask_token + self.random_token;
        if sum > 1.0 + 1e-9 {
            return Err(CoreError::Config(format!(
                "mlm mask_token + random_token is {sum}; together they must be at most 1 (the \
                 rest of the selected positions stay unchanged; BERT uses 0.8 + 0.1)"
            )));
        }
        Ok(())
    }
}

/// What happened to one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// Not selected: not scored.
    None,
    /// Selected and replaced by `[MASK]`.
    Mask,
    /// Selected and replaced by a random ordinary token.
    Random,
    /// Selected but left as it was (still scored).
    Kept,
}

impl Corruption {
    /// Whether the input at this position no longer shows the answer (`[MASK]` or random).
    pub fn is_corrupted(self) -> bool {
        matches!(self, Self::Mask | Self::Random)
    }
}

/// One masked sequence. All vectors have the length of the original token sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlmMasked {
    /// What the model sees.
    pub inputs: Vec<u32>,
    /// The original id at every position (scored only where `selected`).
    pub targets: Vec<u32>,
    /// Positions the loss scores.
    pub selected: Vec<bool>,
    /// What was done at each position.
    pub corruption: Vec<Corruption>,
}

impl MlmMasked {
    /// Number of positions the loss scores.
    pub fn supervised(&self) -> usize {
        self.selected.iter().filter(|&&s| s).count()
    }

    /// Positions whose input was replaced (`[MASK]` or random), in order.
    pub fn corrupted(&self) -> Vec<usize> {
        self.corruption
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_corrupted())
            .map(|(i, _)| i)
            .collect()
    }
}

/// Applies BERT's masking to one sequence (see the module doc for the procedure).
///
/// Errors: an invalid `config` or a `vocab_size` with no ordinary ids ([`CoreError::Config`]);
/// a sequence with no ordinary token at all ([`CoreError::Corpus`]), which leaves nothing to
/// predict.
pub fn mask(
    tokens: &[u32],
    config: &MlmConfig,
    specials: SpecialIds,
    vocab_size: usize,
    rng: &mut Rng,
) -> Result<MlmMasked, CoreError> {
    config.validate()?;
    let first_ordinary = SpecialIds::count_fixed();
    if vocab_size <= first_ordinary {
        return Err(CoreError::Config(format!(
            "a vocabulary of {vocab_size} has no ordinary tokens for masked LM's random \
             replacements; ids below {first_ordinary} are special, so use a larger vocabulary"
        )));
    }
    let mut eligible: Vec<usize> = (0..tokens.len())
        .filter(|&i| !specials.is_special(tokens[i]))
        .collect();
    if eligible.is_empty() {
        return Err(CoreError::Corpus(format!(
            "a sequence of {} tokens holds only padding and special tokens, which leaves nothing \
             to predict for masked LM; give it a sequence with some text in it",
            tokens.len()
        )));
    }
    let count =
        ((config.mask_rate * eligible.len() as f64).round() as usize).clamp(1, eligible.len());

    // Partial Fisher–Yates: the first `count` entries become a uniform sample without
    // replacement.
    for i in 0..count {
        let j = i + rng.below(eligible.len() - i);
        eligible.swap(i, j);
    }
    let mut chosen = eligible[..count].to_vec();
    chosen.sort_unstable(); // category draws go left to right, whatever the shuffle did

    let mut inputs = tokens.to_vec();
    let mut selected = vec![false; tokens.len()];
    let mut corruption = vec![Corruption::None; tokens.len()];
    let ordinary = vocab_size - first_ordinary;
    for &pos in &chosen {
        selected[pos] = true;
        let u = rng.next_f64();
        corruption[pos] = if u < config.mask_token {
            inputs[pos] = specials.mask;
            Corruption::Mask
        } else if u < config.mask_token + config.random_token {
            inputs[pos] = (first_ordinary + rng.below(ordinary)) as u32;
            Corruption::Random
        } else {
            Corruption::Kept
        };
    }
    Ok(MlmMasked {
        inputs,
        targets: tokens.to_vec(),
        selected,
        corruption,
    })
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
            let out = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask");
            for (i, &id) in seq.iter().enumerate() {
                if specials().is_special(id) {
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
            let out = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask");
            assert_eq!(out.targets, seq);
            assert_eq!(out.inputs.len(), seq.len());
            for (i, &original) in seq.iter().enumerate() {
                assert_eq!(out.selected[i], out.corruption[i] != Corruption::None);
                match out.corruption[i] {
                    Corruption::None | Corruption::Kept => assert_eq!(out.inputs[i], original),
                    Corruption::Mask => assert_eq!(out.inputs[i], specials().mask),
                    Corruption::Random => {
                        assert!(!specials().is_special(out.inputs[i]))
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
            let out = mask(&seq, &config, specials(), vocab, &mut rng).expect("mask");
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
            let out = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask");
            assert_eq!(out.supervised(), expected, "{eligible} eligible");
        }
        let half = MlmConfig {
            mask_rate: 0.5,
            ..MlmConfig::default()
        };
        let seq: Vec<u32> = (0..9).map(|i| 30 + i).collect();
        let out = mask(&seq, &half, specials(), VOCAB, &mut rng).expect("mask");
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
            let out = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask");
            for (i, &s) in out.selected.iter().enumerate() {
                hits[i] += usize::from(s);
            }
            total += out.supervised();
        }
        assert_eq!(total, 15 * draws, "exactly 15% of eligible per sequence");
        for (i, &id) in seq.iter().enumerate() {
            let rate = hits[i] as f64 / draws as f64;
            if specials().is_special(id) {
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
            let out = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask");
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
            mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng).expect("mask")
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4).selected, run(5).selected);
    }

    #[test]
    fn nothing_to_predict_is_a_typed_error() {
        let mut rng = Rng::new(1);
        for seq in [vec![], vec![2, 3, 0, 0], vec![4, 7, 22]] {
            let err = mask(&seq, &MlmConfig::default(), specials(), VOCAB, &mut rng);
            match err {
                Err(CoreError::Corpus(msg)) => assert!(msg.contains("nothing to predict"), "{msg}"),
                other => panic!("expected a corpus error, got {other:?}"),
            }
        }
        let err = mask(&[30, 31], &MlmConfig::default(), specials(), 23, &mut rng);
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
                "mask_token + random_token",
            ),
        ];
        for (config, knob) in cases {
            match config.validate() {
                Err(CoreError::Config(msg)) => assert!(msg.contains(knob), "{msg}"),
                other => panic!("{config:?} gave {other:?}"),
            }
            let err = mask(&[30, 31], &config, specials(), VOCAB, &mut Rng::new(1));
            assert!(matches!(err, Err(CoreError::Config(_))));
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
}

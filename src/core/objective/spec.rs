//! What an objective is to the rest of the lab, in one value per objective
//! ([`ObjectiveSpec`]): its name and family, the network it trains, its knobs (range, default
//! and the paper each comes from), how its batches are made, which ids it can be asked to
//! predict (what its word-frequency baseline counts), and the rate and batch it trains at.
//! Each objective fills one spec in its own file; [`super::Objective::spec`] is the table.
//! Plan, trainer, URL, CLI and picker read the specs and never match on objectives, so adding
//! one is a file plus a table row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Batch;
use super::coherence::PairLayout;
use crate::core::config::Recipes;
use crate::core::error::CoreError;
use crate::core::model::Architecture;
use crate::core::rng::Rng;
use crate::core::tokenizer::SpecialIds;

/// The five families the lab compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// BERT, RoBERTa: predict hidden tokens from both sides.
    MaskedLm,
    /// BERT NSP, ALBERT SOP: judge whether B follows A.
    Coherence,
    /// GPT: predict the next token from the left.
    CausalLm,
    /// T5, BART: an encoder reads corrupted text, a decoder restores it.
    Denoising,
    /// XLNet: predict tokens in a random factorisation order.
    PermutedLm,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::MaskedLm => "masked LM",
            Family::Coherence => "sentence-pair coherence",
            Family::CausalLm => "causal LM",
            Family::Denoising => "encoder-decoder denoising",
            Family::PermutedLm => "permuted LM",
        }
    }
}

/// Which ids an objective can be asked to predict at the positions it scores: the support of
/// its word-frequency baseline ([`crate::core::metrics::UnigramBaseline`]). A baseline that
/// spreads probability over ids the objective never predicts is not the same kind of number as
/// the model's loss beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSupport {
    /// Ordinary text tokens only (MLM and PLM never predict a special).
    Text,
    /// Text plus the separators the packed stream holds, `[SEP]` and `[EOS]` (CLM predicts
    /// where a part and a document end; T5 and BART restore them when a span covers them).
    TextAndSeparators,
}

impl TargetSupport {
    /// Whether `id` can be a target.
    pub fn contains(self, id: u32, specials: SpecialIds) -> bool {
        if !specials.is_special(id) {
            return true;
        }
        self == TargetSupport::TextAndSeparators && (id == specials.sep || id == specials.eos)
    }
}

/// What an objective does in a run: predict tokens on a network, or judge sentence pairs.
#[derive(Clone, Copy)]
pub enum Role {
    Tokens(TokenRole),
    Pairs(PairRole),
}

/// A token-level objective: the network it needs and how its batches are made.
#[derive(Clone, Copy)]
pub struct TokenRole {
    pub architecture: Architecture,
    /// How a sentence-pair objective (NSP, SOP) joins it in one run.
    pub with_pairs: WithPairs,
    /// Tokens of the packed stream per sequence (CLM needs one more for the shifted target,
    /// BART's window is shorter so that `[MASK]`s for empty spans still fit).
    pub window_len: fn(&BatchShape) -> Result<usize, CoreError>,
    /// Turns windows of the packed stream into a batch (drawing corruptions from `rng`).
    pub windows_batch: WindowsBatch,
    /// Checks, before any batch is drawn, that the objective can train on this packed stream
    /// with this shape (a text holding `[MASK]` cannot be infilled, for instance).
    pub check: fn(&[u32], &BatchShape) -> Result<(), CoreError>,
    /// How the evaluation scores a continuation given its context under this objective.
    pub scoring: super::scoring::Scoring,
}

/// Turns windows of the packed stream into a batch, drawing corruptions from the generator.
pub type WindowsBatch = fn(&[Vec<u32>], &BatchShape, &mut Rng) -> Result<Batch, CoreError>;

/// How a token objective trains together with a sentence-pair objective.
#[derive(Clone, Copy)]
pub enum WithPairs {
    /// One batch: the token objective on the packed pair, the pair head on `[CLS]`.
    SameBatch {
        layout: PairLayout,
        /// The token side of packed, labelled pairs (padding and masks included).
        rows: PairRows,
        how: &'static str,
    },
    /// Alternate batches: a token batch, then a pair batch through the encoder alone.
    Alternate { how: &'static str },
}

/// Builds a batch from packed pairs (unpadded) and their labels: padding, masks and the token
/// objective's side.
pub type PairRows =
    fn(&[super::coherence::PackedPair], &[u8], &BatchShape, &mut Rng) -> Result<Batch, CoreError>;

/// A sentence-pair objective: which negatives it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairRole {
    pub task: super::coherence::PairTask,
}

/// The shape of a run's batches and the knobs that corrupt them: what a batcher keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchShape {
    pub knobs: ObjectiveKnobs,
    pub batch_size: usize,
    pub seq_len: usize,
    pub vocab_size: usize,
    pub specials: SpecialIds,
}

/// A source of training batches: the trainer asks for the next one, and clones it to look
/// ahead (how much text a step takes, for the schedule's length).
pub trait BatchSource {
    fn next_batch(&mut self) -> Result<Batch, CoreError>;
    fn boxed_clone(&self) -> Box<dyn BatchSource>;
}

/// One objective, described completely.
#[derive(Clone, Copy)]
pub struct ObjectiveSpec {
    /// The name used in the page, the URL, the CLI and JSON (`mlm`).
    pub name: &'static str,
    /// What students read (`masked LM`).
    pub title: &'static str,
    pub family: Family,
    /// The paper and section it follows.
    pub paper: &'static str,
    /// How it is trained, in one line for the page.
    pub how: &'static str,
    pub role: Role,
    pub knobs: &'static [Knob],
    /// Checks combinations of knobs a single range cannot (T5's sentinels must fit the
    /// sequence, for instance), after every knob passed its own range.
    pub check_knobs: fn(&ObjectiveKnobs, usize) -> Result<(), KnobError>,
    pub support: TargetSupport,
    /// The rate, batch and schedule this objective trains at, per model size: the rate sweep's
    /// choice (BENCHMARKS.md, "Each family at its best rate"). A mix trains at the recipe of
    /// the objective that shapes its batches (see [`crate::core::plan::Plan::recipe_objective`]).
    pub recipes: Recipes,
}

impl ObjectiveSpec {
    /// The token role, if this is a token-level objective.
    pub fn tokens(&self) -> Option<&TokenRole> {
        match &self.role {
            Role::Tokens(t) => Some(t),
            Role::Pairs(_) => None,
        }
    }

    /// The pair role, if this is a sentence-pair objective.
    pub fn pairs(&self) -> Option<&PairRole> {
        match &self.role {
            Role::Pairs(p) => Some(p),
            Role::Tokens(_) => None,
        }
    }

    /// Checks every knob of this objective against its range, then their combination.
    pub fn validate(&self, knobs: &ObjectiveKnobs, seq_len: usize) -> Result<(), KnobError> {
        for knob in self.knobs {
            knob.check(knobs.get(knob))?;
        }
        (self.check_knobs)(knobs, seq_len)
    }
}

/// No combination to check.
pub fn no_combination(_: &ObjectiveKnobs, _: usize) -> Result<(), KnobError> {
    Ok(())
}

// ── Knobs ─────────────────────────────────────────────────────────────────────────────────────

/// One knob of an objective: a number with a range and a paper default, and the names it goes
/// by in the URL and JSON (`key`), on the command line (`flag`) and on the page (`label`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knob {
    pub key: &'static str,
    pub flag: &'static str,
    pub label: &'static str,
    /// One line for `--help` and the page's hint.
    pub help: &'static str,
    pub default: f64,
    /// Smallest allowed value, and whether it is allowed itself.
    pub min: (f64, bool),
    /// Largest allowed value, and whether it is allowed itself.
    pub max: (f64, bool),
    /// Only whole numbers (XLNet's K).
    pub whole: bool,
    /// Where the default comes from, for error messages ("BERT uses 0.15").
    pub paper: &'static str,
}

impl Knob {
    /// The range in words: "above 0 and at most 1".
    pub fn range_text(&self) -> String {
        let (lo, lo_in) = self.min;
        let (hi, hi_in) = self.max;
        let low = if lo_in {
            format!("at least {lo}")
        } else {
            format!("above {lo}")
        };
        if hi.is_infinite() {
            return low;
        }
        let high = if hi_in {
            format!("at most {hi}")
        } else {
            format!("below {hi}")
        };
        format!("{low} and {high}")
    }

    /// Checks `value` against this knob's range.
    pub fn check(&self, value: f64) -> Result<(), KnobError> {
        let (lo, lo_in) = self.min;
        let (hi, hi_in) = self.max;
        let above = if lo_in { value >= lo } else { value > lo };
        let below = if hi_in { value <= hi } else { value < hi };
        if !(value.is_finite() && above && below) {
            return Err(KnobError::OutOfRange {
                key: self.key,
                label: self.label,
                value,
                range: self.range_text(),
                paper: self.paper,
            });
        }
        if self.whole && value.fract() != 0.0 {
            return Err(KnobError::NotWhole {
                key: self.key,
                label: self.label,
                value,
                paper: self.paper,
            });
        }
        Ok(())
    }
}

/// A knob that cannot be used as given; each says which knob and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnobError {
    #[error("{label} (`{key}`) is {value}; it must be {range} ({paper})")]
    OutOfRange {
        key: &'static str,
        label: &'static str,
        value: f64,
        range: String,
        paper: &'static str,
    },
    #[error("{label} (`{key}`) is {value}; it must be a whole number ({paper})")]
    NotWhole {
        key: &'static str,
        label: &'static str,
        value: f64,
        paper: &'static str,
    },
    #[error("`{text}` is not a number for {label} (`{key}`)")]
    NotANumber {
        key: &'static str,
        label: &'static str,
        text: String,
    },
    #[error("unknown knob `{key}`; the knobs are {known}")]
    Unknown { key: String, known: String },
    /// Knobs that are each in range but do not work together (or with the sequence length).
    #[error("{objective}: {message}")]
    Combination {
        objective: &'static str,
        message: String,
    },
}

/// The knobs of every objective, by key; a knob not set has its paper default. Setting a knob
/// to its default removes it, so two equal setups compare equal and the URL stays short.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct ObjectiveKnobs(BTreeMap<String, f64>);

impl ObjectiveKnobs {
    /// The value of `knob` (its default when not set).
    pub fn get(&self, knob: &Knob) -> f64 {
        self.0.get(knob.key).copied().unwrap_or(knob.default)
    }

    /// Sets `knob` after checking its range.
    pub fn set(&mut self, knob: &Knob, value: f64) -> Result<(), KnobError> {
        knob.check(value)?;
        if value == knob.default {
            self.0.remove(knob.key);
        } else {
            self.0.insert(knob.key.to_string(), value);
        }
        Ok(())
    }

    /// Sets the knob named `key` (URL and JSON key) from text.
    pub fn set_text(&mut self, key: &str, text: &str) -> Result<(), KnobError> {
        let knob = find_knob(key).ok_or_else(|| unknown(key))?;
        let value = text
            .trim()
            .parse::<f64>()
            .map_err(|_| KnobError::NotANumber {
                key: knob.key,
                label: knob.label,
                text: text.to_string(),
            })?;
        self.set(knob, value)
    }

    /// The knobs set to something other than their default, by key.
    pub fn changed(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, &v)| (k.as_str(), v))
    }

    /// Checks every knob of every objective (each range, then each objective's combination)
    /// for sequences of `seq_len`.
    pub fn validate(&self, seq_len: usize) -> Result<(), KnobError> {
        for (key, _) in self.changed() {
            if find_knob(key).is_none() {
                return Err(unknown(key));
            }
        }
        for objective in super::Objective::ALL {
            objective.spec().validate(self, seq_len)?;
        }
        Ok(())
    }
}

fn unknown(key: &str) -> KnobError {
    KnobError::Unknown {
        key: key.to_string(),
        known: all_knobs().map(|k| k.key).collect::<Vec<_>>().join(", "),
    }
}

/// Every knob of every objective, in table order.
pub fn all_knobs() -> impl Iterator<Item = &'static Knob> {
    super::Objective::ALL
        .into_iter()
        .flat_map(|o| o.spec().knobs.iter())
}

/// The knob named `key`.
pub fn find_knob(key: &str) -> Option<&'static Knob> {
    all_knobs().find(|k| k.key == key)
}

/// Reads both the flat form (`{"mask_rate": 0.2}`) and the nested form saved runs of schema 1
/// wrote (`{"mlm": {"mask_rate": 0.2, …}, "plm": {"k": 6}}`).
impl<'de> Deserialize<'de> for ObjectiveKnobs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let serde_json::Value::Object(map) = value else {
            return Err(serde::de::Error::custom("knobs must be an object"));
        };
        let mut knobs = ObjectiveKnobs::default();
        for (key, value) in map {
            match value {
                serde_json::Value::Number(n) => {
                    let v = n.as_f64().unwrap_or(f64::NAN);
                    let knob =
                        find_knob(&key).ok_or_else(|| serde::de::Error::custom(unknown(&key)))?;
                    knobs.set(knob, v).map_err(serde::de::Error::custom)?;
                }
                // Schema 1: one object per objective; `plm.k` is today's `plm_k`.
                serde_json::Value::Object(inner) => {
                    for (name, v) in inner {
                        let flat = if key == "plm" && name == "k" {
                            "plm_k".to_string()
                        } else {
                            name
                        };
                        // MLM's 80/10/10 split was stored too; it is not a knob.
                        let (Some(knob), Some(v)) = (find_knob(&flat), v.as_f64()) else {
                            continue;
                        };
                        knobs.set(knob, v).map_err(serde::de::Error::custom)?;
                    }
                }
                _ => {
                    return Err(serde::de::Error::custom(format!(
                        "knob `{key}` is not a number"
                    )));
                }
            }
        }
        Ok(knobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::objective::Objective;

    #[test]
    fn knobs_round_trip_and_default_values_are_not_stored() {
        let mut knobs = ObjectiveKnobs::default();
        let rate = find_knob("mask_rate").expect("mask_rate");
        knobs.set(rate, 0.2).expect("in range");
        knobs.set_text("plm_k", "4").expect("whole");
        assert_eq!(knobs.get(rate), 0.2);
        let json = serde_json::to_string(&knobs).expect("json");
        assert_eq!(json, r#"{"mask_rate":0.2,"plm_k":4.0}"#);
        assert_eq!(
            serde_json::from_str::<ObjectiveKnobs>(&json).expect("back"),
            knobs
        );
        knobs.set(rate, rate.default).expect("default");
        assert_eq!(knobs.changed().count(), 1, "a default is not stored");
    }

    #[test]
    fn schema_one_nested_knobs_still_load() {
        let legacy = r#"{"mlm":{"mask_rate":0.2,"mask_token":0.8,"random_token":0.1},
            "span":{"noise_density":0.15,"mean_span":3.0},
            "infill":{"mask_ratio":0.3,"poisson_lambda":3.0},"plm":{"k":4}}"#;
        let knobs: ObjectiveKnobs = serde_json::from_str(legacy).expect("legacy");
        assert_eq!(
            knobs.changed().collect::<Vec<_>>(),
            [("mask_rate", 0.2), ("plm_k", 4.0)]
        );
    }

    #[test]
    fn every_knob_error_names_the_knob_and_its_range() {
        let mut knobs = ObjectiveKnobs::default();
        for (key, text) in [
            ("mask_rate", "0"),
            ("mask_rate", "1.5"),
            ("plm_k", "2.5"),
            ("plm_k", "0"),
            ("noise_density", "lots"),
            ("mean_span", "NaN"),
            ("poisson_lambda", "-1"),
        ] {
            let err = knobs.set_text(key, text).expect_err(key);
            assert!(err.to_string().contains(key), "{err}");
        }
        assert!(matches!(
            knobs.set_text("temperature", "1"),
            Err(KnobError::Unknown { .. })
        ));
        // Each in range, together impossible: more sentinels than the tokenizer has.
        knobs.set_text("noise_density", "0.9").expect("in range");
        knobs.set_text("mean_span", "1").expect("in range");
        assert!(matches!(
            knobs.validate(64),
            Err(KnobError::Combination {
                objective: "span",
                ..
            })
        ));
    }

    #[test]
    fn every_objective_has_a_unique_name_and_unique_knob_keys_and_flags() {
        let names: Vec<&str> = Objective::ALL.iter().map(|o| o.spec().name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        let keys: Vec<&str> = all_knobs().map(|k| k.key).collect();
        let flags: Vec<&str> = all_knobs().map(|k| k.flag).collect();
        for list in [keys, flags] {
            let mut sorted = list.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "{list:?}");
        }
        for knob in all_knobs() {
            assert!(
                knob.check(knob.default).is_ok(),
                "{} default in range",
                knob.key
            );
            assert_eq!(knob.flag, format!("--{}", knob.key.replace('_', "-")));
        }
    }
}

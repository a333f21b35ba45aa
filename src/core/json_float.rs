//! Floats in JSON records that may not be numbers. JSON has no NaN or infinity, so serde_json
//! writes them as `null`, and a plain `f32`/`f64` field refuses `null` when read back: a
//! pair-only run (no token loss, so no word-frequency baseline) or a diverged run (NaN losses)
//! would write a `run.json` that nothing can load. Every float field of a record that is
//! saved or exported reads `null` back as NaN with one of these (`#[serde(deserialize_with =
//! "...")]`); an infinity comes back as NaN too, which every reader already treats as "not a
//! number".
//!
//! A field that is `None` is left out when written (`skip_serializing_if`), so a `null` in an
//! optional field was always a value that was not finite: [`some_nan_if_null`] gives it back as
//! `Some(NaN)`, and the record writes the same JSON again.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `f32` and `f64`: the floats a record holds.
pub trait Float: Copy {
    const NAN: Self;
}

impl Float for f32 {
    const NAN: Self = f32::NAN;
}

impl Float for f64 {
    const NAN: Self = f64::NAN;
}

/// A float field: a number, or `null` for a value that was not finite.
pub fn nan_if_null<'de, D, F>(deserializer: D) -> Result<F, D::Error>
where
    D: Deserializer<'de>,
    F: Float + Deserialize<'de>,
{
    Ok(Option::<F>::deserialize(deserializer)?.unwrap_or(F::NAN))
}

/// An optional float field (with `#[serde(default)]`): absent is `None`, `null` is `Some(NaN)`.
pub fn some_nan_if_null<'de, D, F>(deserializer: D) -> Result<Option<F>, D::Error>
where
    D: Deserializer<'de>,
    F: Float + Deserialize<'de>,
{
    nan_if_null(deserializer).map(Some)
}

/// A map of floats by name, any of which may be `null`.
pub fn nan_if_null_values<'de, D, F>(deserializer: D) -> Result<BTreeMap<String, F>, D::Error>
where
    D: Deserializer<'de>,
    F: Float + Deserialize<'de>,
{
    Ok(BTreeMap::<String, Option<F>>::deserialize(deserializer)?
        .into_iter()
        .map(|(name, value)| (name, value.unwrap_or(F::NAN)))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Record {
        #[serde(deserialize_with = "super::nan_if_null")]
        plain: f64,
        #[serde(default, deserialize_with = "super::nan_if_null")]
        defaulted: f32,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "super::some_nan_if_null"
        )]
        optional: Option<f32>,
        #[serde(default, deserialize_with = "super::nan_if_null_values")]
        named: std::collections::BTreeMap<String, f32>,
    }

    #[test]
    fn non_finite_values_come_back_as_nan_and_absent_ones_as_before() {
        let record = Record {
            plain: f64::INFINITY,
            defaulted: f32::NAN,
            optional: Some(f32::NEG_INFINITY),
            named: [("mlm".to_string(), f32::NAN), ("nsp".to_string(), 0.5)].into(),
        };
        let json = serde_json::to_string(&record).expect("write");
        let back: Record = serde_json::from_str(&json).expect("read");
        assert!(back.plain.is_nan() && back.defaulted.is_nan());
        assert!(back.optional.is_some_and(f32::is_nan));
        assert!(back.named["mlm"].is_nan() && back.named["nsp"] == 0.5);
        assert_eq!(serde_json::to_string(&back).expect("again"), json);
        // An older record without the optional fields still reads.
        let old: Record = serde_json::from_str(r#"{"plain": 1.5}"#).expect("old");
        assert_eq!((old.plain, old.defaulted, old.optional), (1.5, 0.0, None));
        assert!(old.named.is_empty());
    }
}

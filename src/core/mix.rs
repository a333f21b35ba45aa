//! Objective mixes, written one canonical way everywhere (page, URL, CLI, JSON):
//! `primary[+aux[@weight]]`, `@weight` omitted when it is 1 (e.g. `clm`, `mlm+sop@0.5`).
//! A preset names a published model's recipe and expands to its mix.

use serde::{Deserialize, Serialize};

use super::error::CoreError;
use super::objective::spec::Role;

pub use super::objective::Objective;

/// The auxiliary weight's range: below 0.01 the auxiliary loss is noise in the sum; above 10 it
/// drowns the primary and the chart's scale.
pub const AUX_WEIGHT_RANGE: (f32, f32) = (0.01, 10.0);

/// Preset name → canonical mix.
pub const PRESETS: [(&str, &str); 7] = [
    ("bert", "mlm+nsp"),
    ("roberta", "mlm"),
    ("albert", "mlm+sop"),
    ("gpt", "clm"),
    ("t5", "span"),
    ("bart", "infill"),
    ("xlnet", "plm"),
];

/// A primary objective and an optional auxiliary one: loss = primary + weight · auxiliary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveMix {
    pub primary: Objective,
    pub auxiliary: Option<Objective>,
    pub aux_weight: f32,
}

impl ObjectiveMix {
    pub fn single(primary: Objective) -> Self {
        Self {
            primary,
            auxiliary: None,
            aux_weight: 1.0,
        }
    }

    /// Parses a canonical mix (`mlm+sop@0.5`) or a preset name (`albert`). Returns the mix and
    /// the preset it came from, if any.
    pub fn parse(text: &str) -> Result<(Self, Option<&'static str>), CoreError> {
        let text = text.trim();
        if let Some((name, mix)) = PRESETS.iter().find(|(p, _)| *p == text) {
            return Ok((Self::parse_mix(mix)?, Some(*name)));
        }
        Ok((Self::parse_mix(text)?, None))
    }

    fn parse_mix(text: &str) -> Result<Self, CoreError> {
        let syntax = |reason: String| CoreError::MixSyntax {
            text: text.to_string(),
            reason,
        };
        let (primary, rest) = match text.split_once('+') {
            Some((p, rest)) => (p, Some(rest)),
            None => (text, None),
        };
        let primary = Objective::parse(primary)?;
        let Some(rest) = rest else {
            return Ok(Self::single(primary));
        };
        let (aux, weight) = match rest.split_once('@') {
            Some((a, w)) => {
                let weight: f32 = w.parse().map_err(|_| {
                    syntax(format!(
                        "the auxiliary weight `{w}` is not a number (write e.g. `mlm+sop@0.5`)"
                    ))
                })?;
                (a, weight)
            }
            None => (rest, 1.0),
        };
        let (low, high) = AUX_WEIGHT_RANGE;
        if !(weight.is_finite() && (low..=high).contains(&weight)) {
            return Err(syntax(format!(
                "the auxiliary weight {weight} must be between {low} and {high}"
            )));
        }
        let auxiliary = Objective::parse(aux)?;
        if auxiliary == primary {
            return Err(syntax(format!(
                "`{}` cannot be its own auxiliary",
                primary.name()
            )));
        }
        Ok(Self {
            primary,
            auxiliary: Some(auxiliary),
            aux_weight: weight,
        })
    }

    /// The objectives of this mix, primary first.
    pub fn objectives(&self) -> impl Iterator<Item = Objective> {
        std::iter::once(self.primary).chain(self.auxiliary)
    }

    /// The weight of `objective` in the loss: 1 for the primary, `aux_weight` for the
    /// auxiliary, 0 for an objective not in the mix.
    pub fn weight_of(&self, objective: Objective) -> f64 {
        if objective == self.primary {
            1.0
        } else if Some(objective) == self.auxiliary {
            f64::from(self.aux_weight)
        } else {
            0.0
        }
    }

    /// The canonical text of this mix.
    pub fn canonical(&self) -> String {
        match self.auxiliary {
            None => self.primary.name().to_string(),
            Some(aux) if self.aux_weight == 1.0 => {
                format!("{}+{}", self.primary.name(), aux.name())
            }
            Some(aux) => format!("{}+{}@{}", self.primary.name(), aux.name(), self.aux_weight),
        }
    }

    /// How much of a student's own text the mix needs: sentence-pair objectives (NSP, SOP)
    /// need enough consecutive sentences to pre-train on.
    pub fn corpus_needs(&self) -> crate::core::corpus::custom::Needs {
        use crate::core::corpus::custom::Needs;
        let pairs = self
            .objectives()
            .any(|o| matches!(o.spec().role, Role::Pairs(_)));
        if pairs { Needs::PAIRS } else { Needs::TOKENS }
    }
}

impl std::fmt::Display for ObjectiveMix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_round_trips() {
        for text in ["clm", "mlm+sop@0.5", "mlm+nsp", "span+clm@0.25"] {
            let (mix, preset) = ObjectiveMix::parse(text).expect(text);
            assert_eq!(mix.canonical(), text);
            assert_eq!(preset, None);
        }
        assert_eq!(
            ObjectiveMix::parse("mlm+sop@1").expect("@1").0.canonical(),
            "mlm+sop"
        );
    }

    #[test]
    fn presets_expand_and_are_recorded() {
        let (mix, preset) = ObjectiveMix::parse("albert").expect("albert");
        assert_eq!(mix.canonical(), "mlm+sop");
        assert_eq!(preset, Some("albert"));
    }

    #[test]
    fn bad_mixes_are_typed_errors() {
        for bad in ["", "mlmm", "mlm+"] {
            assert!(
                matches!(
                    ObjectiveMix::parse(bad),
                    Err(CoreError::UnknownObjective { .. })
                ),
                "{bad}"
            );
        }
        for bad in [
            "mlm+sop@x",
            "mlm+sop@-1",
            "clm+clm",
            "mlm+sop@0",
            "mlm+sop@1e9",
            "mlm+sop@inf",
            "mlm+sop@0.001",
        ] {
            assert!(
                matches!(ObjectiveMix::parse(bad), Err(CoreError::MixSyntax { .. })),
                "{bad}"
            );
        }
        assert!(ObjectiveMix::parse("mlm+sop@10").is_ok());
        assert!(ObjectiveMix::parse("mlm+sop@0.01").is_ok());
    }
}

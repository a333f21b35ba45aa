//! Objective mixes, written one canonical way everywhere (page, URL, CLI, JSON):
//! `primary[+aux[@weight]]`, `@weight` omitted when it is 1 (e.g. `clm`, `mlm+sop@0.5`).
//! A preset names a published model's recipe and expands to its mix.

use serde::{Deserialize, Serialize};

use super::error::CoreError;

/// The pre-training objectives the lab knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    Mlm,
    Nsp,
    Sop,
    Clm,
    Span,
    Infill,
    Plm,
}

impl Objective {
    pub const ALL: [Objective; 7] = [
        Objective::Mlm,
        Objective::Nsp,
        Objective::Sop,
        Objective::Clm,
        Objective::Span,
        Objective::Infill,
        Objective::Plm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Objective::Mlm => "mlm",
            Objective::Nsp => "nsp",
            Objective::Sop => "sop",
            Objective::Clm => "clm",
            Objective::Span => "span",
            Objective::Infill => "infill",
            Objective::Plm => "plm",
        }
    }

    fn parse(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| {
                CoreError::Config(format!(
                    "unknown objective `{s}`; objectives are {} and presets are {}",
                    Self::ALL.map(|o| o.name()).join(" "),
                    PRESETS.map(|(p, _)| p).join(" ")
                ))
            })
    }
}

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
                    CoreError::Config(format!(
                        "auxiliary weight `{w}` is not a number (write e.g. `mlm+sop@0.5`)"
                    ))
                })?;
                (a, weight)
            }
            None => (rest, 1.0),
        };
        if !(weight.is_finite() && weight > 0.0) {
            return Err(CoreError::Config(format!(
                "auxiliary weight {weight} must be a positive number"
            )));
        }
        let auxiliary = Objective::parse(aux)?;
        if auxiliary == primary {
            return Err(CoreError::Config(format!(
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
        let pairs = [Some(self.primary), self.auxiliary]
            .into_iter()
            .flatten()
            .any(|o| matches!(o, Objective::Nsp | Objective::Sop));
        if pairs { Needs::PAIRS } else { Needs::TOKENS }
    }

    /// Refuses mixes the lab cannot train, saying why (see [`crate::core::plan`]).
    pub fn ensure_trainable(&self) -> Result<(), CoreError> {
        crate::core::plan::plan(self).map(|_| ())
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
        for bad in ["", "mlmm", "mlm+", "mlm+sop@x", "mlm+sop@-1", "clm+clm"] {
            assert!(
                matches!(ObjectiveMix::parse(bad), Err(CoreError::Config(_))),
                "{bad}"
            );
        }
        let (gpt, _) = ObjectiveMix::parse("gpt").expect("gpt");
        assert!(gpt.ensure_trainable().is_ok());
        let (bert, _) = ObjectiveMix::parse("bert").expect("bert");
        assert!(bert.ensure_trainable().is_ok());
        let (odd, _) = ObjectiveMix::parse("clm+span").expect("parses");
        assert!(
            odd.ensure_trainable().is_err(),
            "parses, but no plan trains it"
        );
    }
}

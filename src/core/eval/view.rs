//! What the page's evaluation panel shows, as plain rows computed here (the shell only draws
//! them): generation figures with their protocols and caveats, and pair judgement per negative
//! kind — the trained probe, its untrained twin and the zero-shot reading — each cell marked
//! when the trained probe is not clearly above its twin: by the exact one-sided McNemar test at
//! 2.5% on the pairs only one of the two gets right (both are scored on the same pairs,
//! [`PairedDifference::clearly_above`]), or, for a record made before the pairs were compared
//! one by one, by more than twice the unpaired standard error.

use serde::{Deserialize, Serialize};

use super::probe::PairedDifference;
use super::run::{PerKind, RunEvaluation};
use crate::core::corpus::PairKind;
use crate::core::objective::scoring::ScoreKind;

/// One line of the generation half.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenLine {
    /// `data-testid` of the value.
    pub id: String,
    pub label: String,
    pub value: String,
    /// How it was scored, and where the protocol strays from pre-training.
    pub notes: Vec<String>,
}

/// One cell of the pair table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairCell {
    pub kind: PairKind,
    pub text: String,
    /// Set when the figure does not support a claim (`not above the untrained twin`).
    pub flag: Option<String>,
}

/// One row of the pair table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairLine {
    /// `data-testid` prefix of the row's cells (`eval-probe`, `eval-twin`, `eval-zeroshot`).
    pub id: String,
    pub label: String,
    pub cells: Vec<PairCell>,
}

/// The panel's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalView {
    pub generation: Vec<GenLine>,
    pub pairs: Vec<PairLine>,
    /// What the figures rest on.
    pub sizes: String,
}

fn percent(acc: Option<f64>, se: Option<f64>, auc: Option<f64>) -> String {
    match (acc, se, auc) {
        (Some(a), Some(s), Some(u)) => format!("{:.1}% ± {:.1} (AUC {u:.2})", a * 100.0, s * 100.0),
        (Some(a), _, _) => format!("{:.1}%", a * 100.0),
        _ => "–".into(),
    }
}

/// Whether `a ± sa` is above `b ± sb` by more than twice the standard error of the difference,
/// the two taken as independent: the fallback for records without [`PairedDifference`]s.
fn clearly_above(a: f64, sa: f64, b: f64, sb: f64) -> bool {
    a - b > 2.0 * (sa * sa + sb * sb).sqrt()
}

/// What a row's cells are compared with: the untrained twin's accuracies and their standard
/// errors, and the pair-by-pair comparison where the record has it.
struct Versus<'a> {
    acc: &'a PerKind,
    se: &'a PerKind,
    paired: &'a PerKind<PairedDifference>,
}

fn line(
    id: &str,
    label: String,
    acc: &PerKind,
    se: &PerKind,
    auc: &PerKind,
    versus: Option<Versus>,
) -> Option<PairLine> {
    if acc.is_empty() {
        return None;
    }
    let cells = PairKind::ALL
        .into_iter()
        .map(|kind| {
            let flag = versus.as_ref().and_then(|twin| {
                let above = match twin.paired.get(kind) {
                    Some(paired) => paired.clearly_above(),
                    None => clearly_above(
                        acc.get(kind)?,
                        se.get(kind)?,
                        twin.acc.get(kind)?,
                        twin.se.get(kind)?,
                    ),
                };
                (!above).then(|| "not above its untrained twin".to_string())
            });
            PairCell {
                kind,
                text: percent(acc.get(kind), se.get(kind), auc.get(kind)),
                flag,
            }
        })
        .collect();
    Some(PairLine {
        id: id.to_string(),
        label,
        cells,
    })
}

impl RunEvaluation {
    /// Whether anything was measured.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_none()
    }

    /// The rows of the page's evaluation panel.
    pub fn view(&self) -> EvalView {
        let mut generation = Vec::new();
        for g in &self.gen_scores {
            let (id, label) = match g.kind {
                ScoreKind::Perplexity => ("eval-gen-ppl", "conditional perplexity"),
                ScoreKind::PseudoPerplexity => ("eval-gen-pppl", "pseudo-perplexity"),
            };
            let mut notes = vec![format!("{}: {}", g.objective, g.protocol)];
            if g.kind == ScoreKind::PseudoPerplexity {
                notes.push(
                    "not a perplexity: each token is scored with the rest of the reply visible \
                     on both sides, so it comes out far lower; never compare it with a \
                     conditional perplexity"
                        .into(),
                );
            }
            notes.extend(g.caveat.iter().map(|c| format!("caveat: {c}")));
            generation.push(GenLine {
                id: id.into(),
                label: label.into(),
                value: format!(
                    "{:.2} ± {:.2} on {} tokens of {} held-out replies",
                    g.perplexity, g.perplexity_se, g.tokens, g.examples
                ),
                notes,
            });
        }
        if let Some(r) = &self.replies {
            let pct = |v: f64| format!("{:.1}%", v * 100.0);
            // The reply baselines scored at one bound, a note each.
            let baseline_notes = |cap: Option<usize>| {
                self.reply_baselines
                    .iter()
                    .filter(move |b| b.cap == cap)
                    .map(move |b| {
                        format!(
                            "baseline {}: {} ± {:.1}",
                            b.writer,
                            pct(b.greedy.compliance),
                            b.greedy.compliance_se * 100.0
                        )
                    })
            };
            let mut value = format!(
                "{} ± {:.1} of {} greedy replies",
                pct(r.greedy.compliance),
                r.greedy.compliance_se * 100.0,
                r.greedy.replies
            );
            if let Some(sampled) = &r.sampled {
                value.push_str(&format!("; {} sampled", pct(sampled.compliance)));
            }
            let mut notes = vec![format!("{}: {}", r.writer, r.how)];
            if let Some(cap) = r.cap {
                notes.push(format!(
                    "replies of at most {cap} tokens; compare compliance only between writers \
                     with the same bound (the baselines below are cut to it)"
                ));
            }
            if let (Some(d), Some(rep)) = (r.greedy.distinct2, r.greedy.repetition) {
                notes.push(format!("distinct-2 {d:.2}, repetition {rep:.2}"));
            }
            notes.extend(baseline_notes(r.cap));
            generation.push(GenLine {
                id: "eval-compliance".into(),
                label: "compliance".into(),
                value,
                notes,
            });
            if let (Some(c), Some(se), Some(cap)) = (
                self.compliance_common,
                self.compliance_common_se,
                self.compliance_common_cap,
            ) {
                let mut notes = vec![format!(
                    "the same greedy replies cut to their first {cap} tokens, the shortest bound \
                     any writer has at this size: this figure compares across objectives"
                )];
                notes.extend(baseline_notes(Some(cap)));
                generation.push(GenLine {
                    id: "eval-compliance-common".into(),
                    label: format!("compliance, first {cap} tokens"),
                    value: format!("{} ± {:.1}", pct(c), se * 100.0),
                    notes,
                });
            }
            for (i, sample) in r.samples.iter().enumerate() {
                generation.push(GenLine {
                    id: format!("eval-sample-{i}"),
                    label: format!("reply {}", i + 1),
                    value: sample.reply.clone(),
                    notes: vec![
                        format!("ticket: {}", sample.ticket),
                        format!(
                            "{}: {}",
                            if sample.compliant {
                                "complies"
                            } else {
                                sample.reason.as_str()
                            },
                            sample.explanation
                        ),
                    ],
                });
            }
        }
        if let Some(note) = &self.gen_note {
            generation.push(GenLine {
                id: "eval-gen-note".into(),
                label: "generation".into(),
                value: note.clone(),
                notes: Vec::new(),
            });
        }
        let pooling = self.probe_pooling.as_deref().unwrap_or("?");
        let dropped: f64 = PairKind::ALL
            .into_iter()
            .filter_map(|k| self.zeroshot_likelihood_dropped.get(k))
            .sum();
        let dropped = if dropped > 0.0 {
            format!("; {dropped} pairs whose B kept no token to score were left out")
        } else {
            String::new()
        };
        let pairs = [
            line(
                "eval-probe",
                format!("linear probe ({pooling})"),
                &self.probe_acc,
                &self.probe_acc_se,
                &self.probe_auc,
                Some(Versus {
                    acc: &self.random_init_acc,
                    se: &self.random_init_acc_se,
                    paired: &self.probe_vs_twin,
                }),
            ),
            line(
                "eval-twin",
                "untrained twin, same probe".into(),
                &self.random_init_acc,
                &self.random_init_acc_se,
                &self.random_init_auc,
                None,
            ),
            line(
                "eval-zeroshot",
                format!(
                    "zero-shot ({})",
                    self.zeroshot_method.as_deref().unwrap_or("?")
                ),
                &self.zeroshot_acc,
                &self.zeroshot_acc_se,
                &self.zeroshot_auc,
                None,
            ),
            line(
                "eval-likelihood",
                format!(
                    "zero-shot ({}){dropped}",
                    self.zeroshot_likelihood_method.as_deref().unwrap_or("?")
                ),
                &self.zeroshot_likelihood_acc,
                &self.zeroshot_likelihood_acc_se,
                &self.zeroshot_likelihood_auc,
                None,
            ),
        ]
        .into_iter()
        .flatten()
        // What a probe on words or surface alone reaches on the same pairs: the bar for the
        // linear probe above (fitted on the same labelled pairs, scored on the same held-out
        // ones).
        .chain(self.pair_baselines.iter().filter_map(|b| {
            line(
                &format!("eval-judge-{}", b.name),
                format!("no model: {} ({})", b.name, b.features),
                &b.acc,
                &b.acc_se,
                &b.auc,
                None,
            )
        }))
        .collect();
        let sizes = self.sizes.map_or(String::new(), |s| {
            format!(
                "Perplexity: the first {} held-out tickets; replies: the first {}. Pairs: the \
                 probe is fitted on {} labelled validation pairs per kind and scored on {} \
                 held-out test pairs per kind (half positive: chance is 50%); zero-shot by \
                 likelihood on at most {} of each.",
                s.gen_examples, s.replies, s.probe_fit, s.probe_test, s.likelihood_pairs
            ) + &self
                .eval_s
                .map_or(String::new(), |t| format!(" The evaluation took {t:.1} s."))
        });
        EvalView {
            generation,
            pairs,
            sizes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(r: f64, h: f64, s: f64) -> PerKind {
        PerKind {
            random: Some(r),
            hard: Some(h),
            swapped: Some(s),
        }
    }

    #[test]
    fn a_probe_not_clearly_above_its_twin_is_flagged() {
        let e = RunEvaluation {
            gen_note: Some("cannot generate".into()),
            probe_pooling: Some("cls‖mean".into()),
            probe_acc: kinds(0.80, 0.55, 0.70),
            probe_acc_se: kinds(0.02, 0.02, 0.02),
            probe_auc: kinds(0.9, 0.6, 0.8),
            random_init_acc: kinds(0.52, 0.53, 0.66),
            random_init_acc_se: kinds(0.02, 0.02, 0.02),
            random_init_auc: kinds(0.5, 0.5, 0.7),
            ..RunEvaluation::default()
        };
        let view = e.view();
        assert_eq!(view.generation.len(), 1);
        assert_eq!(view.generation[0].id, "eval-gen-note");
        let probe = &view.pairs[0];
        assert_eq!(probe.id, "eval-probe");
        assert_eq!(probe.cells[0].text, "80.0% ± 2.0 (AUC 0.90)");
        // 0.80 − 0.52 is far above 2·√(2·0.02²) ≈ 0.057; 0.55 − 0.53 and 0.70 − 0.66 are not.
        let flags: Vec<bool> = probe.cells.iter().map(|c| c.flag.is_some()).collect();
        assert_eq!(flags, [false, true, true]);
        assert_eq!(view.pairs.len(), 2, "no zero-shot row without a pair head");
        assert!(view.pairs[1].cells.iter().all(|c| c.flag.is_none()));

        // A record made before the pairs were compared one by one reads the same.
        let mut json = serde_json::to_value(&e).expect("json");
        assert!(json.get("probe_vs_twin").is_none());
        json["probe_acc"]["hard"] = serde_json::json!(0.55);
        let old: RunEvaluation = serde_json::from_value(json).expect("an older record loads");
        assert!(old.probe_vs_twin.is_empty());
        assert_eq!(old.view().pairs[0], view.pairs[0]);
    }

    #[test]
    fn the_twin_flag_reads_the_pairs_both_probes_judged() {
        // 400 held-out pairs of each kind; the same accuracies as above, now compared pair by
        // pair: (only the trained probe right, only the twin right).
        let paired = |first: usize, second: usize| {
            let mut a = vec![true; 400];
            let mut b = vec![true; 400];
            a[..second].iter_mut().for_each(|x| *x = false);
            b[second..second + first]
                .iter_mut()
                .for_each(|x| *x = false);
            PairedDifference::of(&a, &b).expect("same pairs")
        };
        let e = RunEvaluation {
            probe_pooling: Some("last‖mean".into()),
            probe_acc: kinds(0.80, 0.55, 0.70),
            probe_acc_se: kinds(0.02, 0.02, 0.02),
            probe_auc: kinds(0.9, 0.6, 0.8),
            random_init_acc: kinds(0.52, 0.53, 0.66),
            random_init_acc_se: kinds(0.02, 0.02, 0.02),
            random_init_auc: kinds(0.5, 0.5, 0.7),
            probe_vs_twin: PerKind {
                random: Some(paired(120, 8)),
                // +0.02: 10 pairs against 2, paired SE ≈ 0.0086, so clearly above; unpaired
                // (SE ≈ 0.028) it was flagged.
                hard: Some(paired(10, 2)),
                // +0.04: 60 pairs against 44, paired SE ≈ 0.025: not clearly above.
                swapped: Some(paired(60, 44)),
            },
            ..RunEvaluation::default()
        };
        assert!((e.probe_vs_twin.hard.expect("hard").difference - 0.02).abs() < 1e-12);
        let view = e.view();
        let flags: Vec<bool> = view.pairs[0]
            .cells
            .iter()
            .map(|c| c.flag.is_some())
            .collect();
        assert_eq!(flags, [false, false, true]);
    }

    #[test]
    fn every_writer_has_a_compliance_line_at_the_common_bound() {
        use crate::core::eval::replies::{BoundScore, RepliesReport, ReplySetScore};
        let set = |compliance: f64| ReplySetScore {
            compliance,
            compliance_se: 0.05,
            distinct2: None,
            repetition: None,
            replies: 64,
        };
        let report = |writer: &str, cap: usize, compliance: f64| RepliesReport {
            writer: writer.into(),
            decoding: "copy".into(),
            how: String::new(),
            greedy: set(compliance),
            sampled: None,
            seed: None,
            cap: Some(cap),
            samples: Vec::new(),
            common: None,
        };
        let e = RunEvaluation {
            compliance: Some(0.25),
            compliance_se: Some(0.05),
            compliance_common: Some(0.0),
            compliance_common_se: Some(0.0),
            compliance_common_cap: Some(16),
            replies: Some(RepliesReport {
                common: Some(BoundScore {
                    cap: 16,
                    greedy: set(0.0),
                }),
                ..report("clm", 96, 0.25)
            }),
            reply_baselines: vec![
                report("majority-action", 96, 0.75),
                report("majority-action", 16, 0.156),
            ],
            ..RunEvaluation::default()
        };
        let view = e.view();
        let line = |id: &str| {
            view.generation
                .iter()
                .find(|g| g.id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        assert_eq!(
            line("eval-compliance").value,
            "25.0% ± 5.0 of 64 greedy replies"
        );
        assert!(
            line("eval-compliance")
                .notes
                .iter()
                .any(|n| n.contains("75.0%"))
        );
        assert!(
            !line("eval-compliance")
                .notes
                .iter()
                .any(|n| n.contains("15.6%"))
        );
        let common = line("eval-compliance-common");
        assert_eq!(common.label, "compliance, first 16 tokens");
        assert_eq!(common.value, "0.0% ± 0.0");
        assert!(
            common
                .notes
                .iter()
                .any(|n| n.contains("majority-action: 15.6%"))
        );
    }
}

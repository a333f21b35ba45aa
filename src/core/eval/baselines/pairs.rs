//! The model-free pair judges beside a run, on exactly the pairs its probe reads: the balanced
//! subsets of the validation split (fitting) and the test split (scoring) of each negative
//! kind ([`balanced`], the run's [`EvalSizes`]), each pair cut to the tokens a model of the
//! run's sequence length reads of it ([`as_read`]: A's end and B's start). Reading the whole of
//! A and B would let a bag of words see text no model was shown.
//!
//! - `bow` and `bow-ordered` ([`pair_baselines_cooperatively`]): a TF-IDF vocabulary of the
//!   training split and a logistic probe.
//! - `surface` ([`surface_baseline`]): the shortcut audit's surface classifier.
//!
//! What words or surface alone reach is the bar a model's probe or pair head has to clear: the
//! panel and the CLI's comparison show them as reference rows.

use serde::{Deserialize, Serialize};

use super::bow::{BowVectorizer, MAX_TERMS, PairFeatures, pair_baselines_cooperatively};
use super::surface::surface_baseline;
use crate::core::corpus::{EvalPair, PairKind, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::eval::pair_input::as_read;
use crate::core::eval::probe::ProbeScore;
use crate::core::eval::run::{EvalSizes, PerKind, balanced, insert};
use crate::core::exec::Checkpoint;

/// The held-out pairs' fitting and scoring subsets of one kind, each pair cut to what a model
/// reads of it.
pub type PairSplits = (PairKind, Vec<EvalPair>, Vec<EvalPair>);

/// The subsets of every kind the corpus has, cut to `seq_len` positions.
pub fn pair_splits(
    dataset: &Dataset,
    seq_len: usize,
    sizes: &EvalSizes,
) -> Result<Vec<PairSplits>, CoreError> {
    let corpus = &dataset.corpus;
    let read = |pairs: Vec<&EvalPair>| -> Result<Vec<EvalPair>, CoreError> {
        pairs
            .into_iter()
            .map(|p| as_read(&dataset.tokenizer, p, seq_len))
            .collect()
    };
    let mut out = Vec::new();
    for kind in PairKind::ALL {
        let (Some(fit_set), Some(test_set)) = (
            corpus.pair_set(Split::Validation, kind),
            corpus.pair_set(Split::Test, kind),
        ) else {
            continue;
        };
        out.push((
            kind,
            read(balanced(&fit_set.pairs, sizes.probe_fit))?,
            read(balanced(&test_set.pairs, sizes.probe_test))?,
        ));
    }
    Ok(out)
}

/// One model-free judge's figures per negative kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairBaselineReport {
    /// `bow`, `bow-ordered` or `surface`.
    pub name: String,
    /// What it reads of a pair, in a line.
    pub features: String,
    /// How it was fitted and scored.
    pub method: String,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub acc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub acc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub auc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub auc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub n: PerKind,
    /// Labelled pairs it was fitted on, per kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_pairs: Option<usize>,
    /// Why a kind could not be scored (the others still are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PairBaselineReport {
    fn new(name: &str, features: &str, method: String) -> Self {
        Self {
            name: name.into(),
            features: features.into(),
            method,
            acc: PerKind::default(),
            acc_se: PerKind::default(),
            auc: PerKind::default(),
            auc_se: PerKind::default(),
            n: PerKind::default(),
            fit_pairs: None,
            error: None,
        }
    }

    /// The judges' place when their pairs could not be read at all.
    pub fn failed(why: &str) -> Self {
        let mut report = Self::new("word-only judges", "", String::new());
        report.error = Some(why.to_string());
        report
    }

    fn insert(&mut self, kind: PairKind, fit_pairs: usize, score: &ProbeScore) {
        self.fit_pairs = Some(fit_pairs);
        let slots = [
            &mut self.acc,
            &mut self.acc_se,
            &mut self.auc,
            &mut self.auc_se,
            &mut self.n,
        ];
        insert(slots, kind, score);
    }

    fn fail(&mut self, kind: PairKind, why: impl std::fmt::Display) {
        self.error
            .get_or_insert_with(|| format!("{}: {why}", kind.name()));
    }

    /// The score of `kind`, as the probe wrote it.
    pub fn score(&self, kind: PairKind) -> Option<ProbeScore> {
        Some(ProbeScore {
            accuracy: self.acc.get(kind)?,
            accuracy_se: self.acc_se.get(kind)?,
            auc: self.auc.get(kind)?,
            auc_se: self.auc_se.get(kind)?,
            n: self.n.get(kind)? as usize,
        })
    }
}

/// The `bow`, `bow-ordered` and `surface` reports on the pairs a run of `seq_len` positions
/// reads under `sizes`, awaiting `cp` through the fits. A judge that cannot be fitted for a
/// kind says why in its `error`; one whose pairs cannot be read at all is an error.
pub async fn pair_baseline_reports(
    dataset: &Dataset,
    seq_len: usize,
    sizes: &EvalSizes,
    cp: &mut impl Checkpoint,
) -> Result<Vec<PairBaselineReport>, CoreError> {
    let splits = pair_splits(dataset, seq_len, sizes)?;
    let reads = format!(
        "each pair cut to the tokens a model of {seq_len} positions reads of it (A's end, B's start)"
    );
    let mut reports: Vec<PairBaselineReport> = PairFeatures::ALL
        .iter()
        .map(|f| {
            PairBaselineReport::new(
                f.name(),
                match f {
                    PairFeatures::Bow => "TF-IDF: absolute difference ‖ product (order-blind)",
                    PairFeatures::BowOrdered => "TF-IDF: A ‖ B",
                },
                format!(
                    "bag of words: TF-IDF of the training split's {MAX_TERMS} most frequent \
                     words, logistic probe fitted on validation pairs, scored on test pairs; \
                     {reads}"
                ),
            )
        })
        .collect();
    match BowVectorizer::for_split(&dataset.corpus, Split::Train, MAX_TERMS) {
        Ok(vectorizer) => {
            for (kind, fit, held) in &splits {
                match pair_baselines_cooperatively(&vectorizer, fit, held, cp).await {
                    Ok(lines) => {
                        for line in lines {
                            if let Some(r) =
                                reports.iter_mut().find(|r| r.name == line.features.name())
                            {
                                r.insert(*kind, fit.len(), &line.score);
                            }
                        }
                    }
                    Err(e) => reports.iter_mut().for_each(|r| r.fail(*kind, &e)),
                }
            }
        }
        Err(e) => {
            for r in &mut reports {
                r.error = Some(e.to_string());
            }
        }
    }
    let mut surface = PairBaselineReport::new(
        "surface",
        "surface: first and last words, lengths, punctuation, greetings, person, digits",
        format!(
            "the shortcut audit's surface classifier (corpus --audit), fitted on validation \
             pairs, scored on test pairs; {reads}"
        ),
    );
    for (kind, fit, held) in &splits {
        cp.checkpoint().await;
        match surface_baseline(fit, held) {
            Ok(score) => surface.insert(*kind, fit.len(), &score),
            Err(e) => surface.fail(*kind, e),
        }
    }
    reports.push(surface);
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;
    use crate::core::exec::{NoYield, run_ready};

    #[test]
    fn every_judge_scores_every_kind_on_the_probes_pairs() {
        let model = ModelSize::Fast.model();
        let dataset = Dataset::support(1, model.vocab_size).expect("dataset");
        let sizes = EvalSizes::PAGE;
        let started = std::time::Instant::now();
        let reports = run_ready(pair_baseline_reports(
            &dataset,
            model.max_seq_len,
            &sizes,
            &mut NoYield,
        ))
        .expect("reports");
        eprintln!("pair baselines: {:.2} s", started.elapsed().as_secs_f64());
        let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["bow", "bow-ordered", "surface"]);
        for r in &reports {
            assert_eq!(r.error, None, "{}", r.name);
            assert_eq!(r.fit_pairs, Some(sizes.probe_fit), "{}", r.name);
            for kind in PairKind::ALL {
                let score = r.score(kind).expect("scored");
                assert_eq!(score.n, sizes.probe_test, "{} {kind:?}", r.name);
                assert!((0.0..=1.0).contains(&score.accuracy));
            }
        }
        // Order-blind words cannot tell a swapped pair from the right one on whole texts; on
        // the cut a model reads they may (see the bow module), but never perfectly.
        let bow = reports[0].score(PairKind::Swapped).expect("bow swapped");
        assert!(bow.accuracy < 0.95, "{bow:?}");
    }

    /// The pair baselines read what a `fast` model reads: 32 positions of each pair at most,
    /// A's end and B's start, and less than the whole texts wherever those do not fit.
    #[test]
    fn the_pair_baselines_read_the_spans_a_model_reads() {
        let model = ModelSize::Fast.model();
        let dataset = Dataset::support(1, model.vocab_size).expect("dataset");
        let splits = pair_splits(&dataset, model.max_seq_len, &EvalSizes::CLI).expect("splits");
        assert_eq!(splits.len(), PairKind::ALL.len());
        let tokens = |text: &str| dataset.tokenizer.encode(text).expect("encode").len();
        let mut cut = 0;
        for (kind, fit, held) in &splits {
            assert_eq!((fit.len(), held.len()), (200, 400), "{kind:?}");
            let originals = balanced(
                &dataset
                    .corpus
                    .pair_set(Split::Test, *kind)
                    .expect("set")
                    .pairs,
                400,
            );
            for (read, whole) in held.iter().zip(originals) {
                assert_eq!((read.label, read.source), (whole.label, whole.source));
                assert!(whole.a.ends_with(read.a.as_str()), "{read:?}");
                assert!(whole.b.starts_with(read.b.as_str()), "{read:?}");
                // Re-encoding the text of a cut may split the cut word differently.
                assert!(tokens(&read.a) + tokens(&read.b) <= 32 + 2, "{read:?}");
                cut += usize::from(read.a != whole.a || read.b != whole.b);
            }
        }
        // Ticket→resolution and FAQ pairs never fit whole.
        assert!(cut > 300, "{cut} pairs cut");
    }
}

//! One run's evaluation, end to end: generation (each token objective's conditional perplexity
//! or pseudo-perplexity on held-out replies), pair judgement (a linear probe on frozen
//! features, per negative kind, and the pair head's zero-shot verdict where one was trained),
//! and the same probe on the architecture's untrained twin, so "did pre-training teach the
//! probe anything?" is answered beside every figure. The result is plain data that the run
//! summary carries ([`RunEvaluation`]).
//!
//! The probe is fitted on a balanced subset of the validation split's pair set of each kind and
//! scored on a balanced subset of the test split's (the sets are directed and balanced, so
//! chance is 50%; see [`crate::core::corpus::PairSet`]). Sizes differ between the CLI and the
//! page ([`EvalSizes`]) and are recorded with every figure's standard error.

use serde::{Deserialize, Serialize};

use super::baselines::pairs::{PairBaselineReport, pair_baseline_reports};
use super::features::{PairFeatures, ProbeFormat, pair_features};
use super::generation::{self, ContinuationScore};
use super::likelihood::{LikelihoodReader, scored, trained_on_segment_pairs};
use super::pair_input::{EncodedPair, encode_pairs};
use super::probe::{DenseLogistic, PairedDifference, ProbeScore, best_threshold, correct};
use super::replies::{RepliesReport, baseline_replies, write_replies};
use crate::core::config::ModelConfig;
use crate::core::corpus::{CorpusSource, EvalPair, PairKind, PairSource, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::model::network::Network;
use crate::core::objective::scoring::ScoreKind;
use crate::core::plan::Plan;

/// What drives a long evaluation: where it lets others run (the [`Checkpoint`]), where it
/// reports progress, and whether it should stop. Cancellation is checked between stages (one
/// protocol's scoring, one kind's probe on one network), a few seconds apart at most.
pub trait EvalControl: Checkpoint {
    /// Stage `done` of `total` is starting; `what` says what it does.
    fn progress(&mut self, done: usize, total: usize, what: &str);
    /// Whether the evaluation should stop (it then returns [`CoreError::Cancelled`]).
    fn cancelled(&self) -> bool;
}

/// Natively: never yields, reports nothing, is never cancelled.
impl EvalControl for crate::core::exec::NoYield {
    fn progress(&mut self, _: usize, _: usize, _: &str) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// L2 strength of the probe's logistic regression on standardized features.
pub const PROBE_L2: f64 = 1e-2;

/// How much held-out data an evaluation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalSizes {
    /// Held-out replies scored for `gen_ppl` / `gen_pppl`.
    pub gen_examples: usize,
    /// Labelled pairs per negative kind the probe is fitted on (half positive).
    pub probe_fit: usize,
    /// Held-out pairs per negative kind the probe is scored on (half positive).
    pub probe_test: usize,
    /// Held-out tickets each model writes a reply to (greedy and sampled).
    #[serde(default)]
    pub replies: usize,
    /// At most this many of the probe's fitting and held-out pairs per kind are also scored by
    /// likelihood (a masked LM's pseudo-log-likelihood costs a pass per token of B, twice).
    #[serde(default)]
    pub likelihood_pairs: usize,
}

impl EvalSizes {
    /// The native CLI's sets.
    pub const CLI: EvalSizes = EvalSizes {
        gen_examples: 200,
        probe_fit: 200,
        probe_test: 400,
        replies: 64,
        likelihood_pairs: 400,
    };
    /// The page's smaller sets, so evaluation on the CPU fallback stays short.
    pub const PAGE: EvalSizes = EvalSizes {
        gen_examples: 64,
        probe_fit: 200,
        probe_test: 200,
        replies: 32,
        // A masked LM's pseudo-log-likelihood is most of the page's evaluation time: 100
        // pairs per kind took 36 s on the CPU fallback at `fast`, over the 30 s target.
        likelihood_pairs: 50,
    };
    /// The page's quick sets (`eval=quick`), for a slow device: wide error bars, said on
    /// screen.
    pub const QUICK: EvalSizes = EvalSizes {
        gen_examples: 16,
        probe_fit: 40,
        probe_test: 40,
        replies: 4,
        // The likelihood reading was half of the quick evaluation's time on a software WebGPU
        // adapter (72 of 147 s at 40 pairs per kind, BART at `fast`).
        likelihood_pairs: 24,
    };
}

/// A figure per negative kind of the pair sets (a number, unless said otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct PerKind<T = f64> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swapped: Option<T>,
}

impl<T> Default for PerKind<T> {
    fn default() -> Self {
        Self {
            random: None,
            hard: None,
            swapped: None,
        }
    }
}

impl<T: Copy> PerKind<T> {
    pub fn get(&self, kind: PairKind) -> Option<T> {
        match kind {
            PairKind::Random => self.random,
            PairKind::Hard => self.hard,
            PairKind::Swapped => self.swapped,
        }
    }

    fn set(&mut self, kind: PairKind, value: T) {
        let slot = match kind {
            PairKind::Random => &mut self.random,
            PairKind::Hard => &mut self.hard,
            PairKind::Swapped => &mut self.swapped,
        };
        *slot = Some(value);
    }

    pub fn is_empty(&self) -> bool {
        self.random.is_none() && self.hard.is_none() && self.swapped.is_none()
    }
}

/// Puts one score into accuracy, its SE, AUC, its SE and the count, in that order.
pub(crate) fn insert(slots: [&mut PerKind; 5], kind: PairKind, score: &ProbeScore) {
    let values = [
        score.accuracy,
        score.accuracy_se,
        score.auc,
        score.auc_se,
        score.n as f64,
    ];
    for (slot, value) in slots.into_iter().zip(values) {
        slot.set(kind, value);
    }
}

/// What a run's evaluation measured: the fields the run summary adds (schema 3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunEvaluation {
    /// Conditional perplexity of held-out replies (null where the run cannot generate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_ppl: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_ppl_se: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_ppl_protocol: Option<String>,
    /// Masked LM's pseudo-perplexity: never ranked against `gen_ppl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_pppl: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_pppl_se: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_pppl_protocol: Option<String>,
    /// Every protocol's full score (objective, caveat, sizes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gen_scores: Vec<ContinuationScore>,
    /// Why there is no generation figure ("cannot generate": a result, not an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_note: Option<String>,
    /// Share of the greedy replies to held-out tickets that the compliance checker accepts
    /// (null on a student's own text, which has no tickets, and for a run that cannot
    /// generate), with distinct-2 and repetition of the same replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_se: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<f64>,
    /// The same greedy replies cut to the common bound, `compliance_common_cap` tokens: the
    /// shortest bound any writer has at this model size (half the window at the sizes the lab
    /// trains; a left-to-right writer slides its window to longer replies, so its `compliance`
    /// is not the same kind of number as another writer's, while this is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_common: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_common_se: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_common_cap: Option<usize>,
    /// The replies in full: greedy and sampled figures, the decoding, two sample replies with
    /// their verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<RepliesReport>,
    /// The model-free writers on the same tickets, through the same checker: cut to the
    /// writer's bound, and also to the common bound where that is shorter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_baselines: Vec<RepliesReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_pooling: Option<String>,
    /// Linear probe on the trained network's frozen features: held-out accuracy and AUC per
    /// negative kind, their standard errors, and the held-out pairs behind them.
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_acc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_acc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_auc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_auc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_n: PerKind,
    /// Labelled pairs the probe was fitted on, per kind (half positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_fit_pairs: Option<usize>,
    /// The same probe on the untrained network of the same architecture and seed: a trained
    /// run that does not beat it has learned nothing the probe can use.
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub random_init_acc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub random_init_acc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub random_init_auc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub random_init_auc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub random_init_n: PerKind,
    /// The trained probe against its untrained twin on the same held-out pairs, pair by pair:
    /// how many only the trained probe gets right (`first_right_only`), how many only the twin
    /// (`second_right_only`), and the difference of the accuracies with its paired standard
    /// error. Absent in records made before it was kept (the view then falls back to the
    /// unpaired error).
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub probe_vs_twin: PerKind<PairedDifference>,
    /// How the zero-shot figures were read (the pair head's argmax, for NSP/SOP runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeroshot_method: Option<String>,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_acc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_acc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_auc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_auc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_n: PerKind,
    /// Zero-shot by likelihood: `log p(B | A) − log p(B)` under the run's own protocol
    /// (pseudo-log-likelihood for masked LM), thresholded where it best separates the probe's
    /// labelled pairs; AUC needs no threshold. Every run that scores tokens has it, so `bert`
    /// and `albert` have both readings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeroshot_likelihood_method: Option<String>,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_acc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_acc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_auc: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_auc_se: PerKind,
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_n: PerKind,
    /// Pairs left out of the likelihood reading, fitting and held-out together, because their
    /// B had no token to score (such a pair is not judged, rather than scored 0).
    #[serde(default, skip_serializing_if = "PerKind::is_empty")]
    pub zeroshot_likelihood_dropped: PerKind,
    /// The model-free pair judges (`bow`, `bow-ordered`, `surface`) on the pairs this run's
    /// probe read, cut as this network reads them: the bar its pair figures have to clear.
    /// Absent in records made before they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pair_baselines: Vec<PairBaselineReport>,
    /// Seconds the evaluation took (set by whoever timed it: the CLI, the worker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_s: Option<f64>,
    /// The sizes this evaluation read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<EvalSizes>,
}

/// A balanced subset of `pairs`, `n / 2` positives and `n / 2` negatives, balanced within each
/// source too: a negative counts only beside a positive of its own source (a ticket and its
/// resolution, a question and its answer, two sentences side by side). Sources are joined
/// differently ([`super::pair_input::PairJoin`]) and read differently, so a subset whose
/// positives held more of one source than its negatives would hand a probe the label through
/// the source alone. The full sets are balanced per source; a plain prefix of each label is
/// not (up to 15 points apart in the evaluation's subsets). Couples are taken in the set's
/// order, so the subsets of a larger `n` contain those of a smaller one. The model-free
/// baselines that stand beside a run read the same pairs.
pub fn balanced(pairs: &[EvalPair], n: usize) -> Vec<&EvalPair> {
    use std::collections::BTreeMap;
    let half = n / 2;
    // For each source, its positives and negatives in order, as set positions.
    let mut by_source: BTreeMap<PairSource, [Vec<usize>; 2]> = BTreeMap::new();
    for (i, p) in pairs.iter().enumerate() {
        by_source.entry(p.source).or_default()[usize::from(p.label == 1)].push(i);
    }
    // The k-th positive of a source with its k-th negative, ordered by where the couple
    // completes in the set.
    let mut couples: Vec<(usize, usize, usize)> = by_source
        .values()
        .flat_map(|[neg, pos]| {
            pos.iter()
                .zip(neg)
                .map(|(&p, &q)| (p.max(q), p, q))
                .collect::<Vec<_>>()
        })
        .collect();
    couples.sort_unstable();
    couples.truncate(half);
    // Positives first, then negatives. A batch then holds one label, and its padded width
    // can differ by label; padding is masked everywhere (tested: features do not change with
    // padding), so that changes nothing but float rounding.
    let mut out: Vec<&EvalPair> = couples.iter().map(|&(_, p, _)| &pairs[p]).collect();
    out.extend(couples.iter().map(|&(_, _, q)| &pairs[q]));
    out
}

/// Fits the probe on `fit` features and scores it on `test`; also whether it got each test
/// pair right.
async fn probe_score(
    fit: &PairFeatures,
    fit_labels: &[u8],
    test: &PairFeatures,
    test_labels: &[u8],
    cp: &mut impl Checkpoint,
) -> Result<(Option<ProbeScore>, Vec<bool>), CoreError> {
    let model = DenseLogistic::fit_cooperatively(&fit.rows, fit_labels, PROBE_L2, cp)
        .await
        .map_err(|e| CoreError::Config(format!("the linear probe could not be fitted: {e}")))?;
    let scores: Vec<f64> = test.rows.iter().map(|r| model.predict_proba(r)).collect();
    Ok((
        ProbeScore::from_scores(&scores, test_labels, 0.5),
        correct(&scores, test_labels, 0.5),
    ))
}

/// Starts stage `stage` of `total` unless the evaluation was cancelled.
fn begin(
    cp: &mut impl EvalControl,
    stage: &mut usize,
    total: usize,
    what: &str,
) -> Result<(), CoreError> {
    if cp.cancelled() {
        return Err(CoreError::Cancelled);
    }
    cp.progress(*stage, total, what);
    *stage += 1;
    Ok(())
}

/// A trained network and what it was trained with: what [`evaluate_run`] reads.
#[derive(Clone, Copy)]
pub struct RunToEvaluate<'a> {
    pub network: &'a Network,
    pub plan: &'a Plan,
    pub model_config: &'a ModelConfig,
    /// The run's seed: the untrained twin is initialised from it.
    pub seed: u64,
    pub dataset: &'a Dataset,
}

/// Evaluates a run: generation, probe, zero-shot, and the probe on the untrained twin.
/// Returns [`CoreError::Cancelled`] when `cp` says so between stages.
pub async fn evaluate_run(
    run: RunToEvaluate<'_>,
    sizes: EvalSizes,
    backend_label: &str,
    cp: &mut impl EvalControl,
) -> Result<RunEvaluation, CoreError> {
    let RunToEvaluate {
        network,
        plan,
        model_config,
        seed,
        dataset,
    } = run;
    let specials = dataset.tokenizer.specials();
    let seq_len = model_config.max_seq_len;
    let mut out = RunEvaluation {
        sizes: Some(sizes),
        ..RunEvaluation::default()
    };
    let objectives = generation::scoring_objectives(plan);
    let tickets = matches!(dataset.corpus.source, CorpusSource::Support { .. });
    let writes = tickets && !objectives.is_empty() && sizes.replies > 0;
    let likelihood = objectives.first().copied();
    let total = objectives.len()
        + usize::from(writes)
        + (2 + usize::from(likelihood.is_some())) * PairKind::ALL.len()
        + 1;
    let mut stage = 0;

    // Generation.
    if objectives.is_empty() {
        out.gen_note =
            Some("cannot generate: a pair objective alone trains no token predictions".to_string());
    } else {
        let (source, examples) =
            generation::examples(dataset, Split::Test, seq_len, sizes.gen_examples)?;
        for objective in objectives {
            begin(
                cp,
                &mut stage,
                total,
                &format!("scoring held-out replies ({objective})"),
            )?;
            let score = generation::score(
                network,
                objective,
                &examples,
                source,
                specials,
                backend_label,
                cp,
            )
            .await?;
            match score.kind {
                ScoreKind::Perplexity if out.gen_ppl.is_none() => {
                    out.gen_ppl = Some(score.perplexity);
                    out.gen_ppl_se = Some(score.perplexity_se);
                    out.gen_ppl_protocol = Some(format!("{}: {}", objective, score.protocol));
                }
                ScoreKind::PseudoPerplexity if out.gen_pppl.is_none() => {
                    out.gen_pppl = Some(score.perplexity);
                    out.gen_pppl_se = Some(score.perplexity_se);
                    out.gen_pppl_protocol = Some(format!("{}: {}", objective, score.protocol));
                }
                _ => {}
            }
            out.gen_scores.push(score);
        }
        // Replies: the objective that gives the perplexity writes them (else the first).
        let writer = out
            .gen_scores
            .iter()
            .find(|g| g.kind == ScoreKind::Perplexity)
            .or(out.gen_scores.first())
            .map(|g| g.objective);
        if let (true, Some(writer)) = (writes, writer) {
            begin(
                cp,
                &mut stage,
                total,
                &format!("writing replies to held-out tickets ({writer})"),
            )?;
            let report = write_replies(
                network,
                writer,
                dataset,
                sizes.replies,
                seq_len,
                seed,
                backend_label,
                cp,
            )
            .await?;
            out.compliance = Some(report.greedy.compliance);
            out.compliance_se = Some(report.greedy.compliance_se);
            out.distinct2 = report.greedy.distinct2;
            out.repetition = report.greedy.repetition;
            if let Some(common) = &report.common {
                out.compliance_common = Some(common.greedy.compliance);
                out.compliance_common_se = Some(common.greedy.compliance_se);
                out.compliance_common_cap = Some(common.cap);
            }
            // The baselines at the writer's bound, and at the common bound where it is shorter.
            let mut caps = vec![report.cap];
            if let Some(common) = &report.common
                && !caps.contains(&Some(common.cap))
            {
                caps.push(Some(common.cap));
            }
            for cap in caps {
                out.reply_baselines
                    .extend(baseline_replies(dataset, sizes.replies, cap)?);
            }
            out.replies = Some(report);
        }
        if out.gen_ppl.is_none() {
            out.gen_note = Some(
                "no conditional perplexity: masked LM is scored by pseudo-perplexity only \
                 (gen_pppl), which is not the same kind of number"
                    .to_string(),
            );
        }
    }

    // Pair judgement.
    let format = ProbeFormat::of(plan);
    let tokenizer = &dataset.tokenizer;
    out.probe_pooling = Some(format.pooling.name().to_string());
    let twin = Network::init(
        plan.architecture,
        plan.extras(),
        model_config,
        seed,
        &network.device(),
    );
    for kind in PairKind::ALL {
        let (Some(fit_set), Some(test_set)) = (
            dataset.corpus.pair_set(Split::Validation, kind),
            dataset.corpus.pair_set(Split::Test, kind),
        ) else {
            continue;
        };
        let fit_pairs = encode_pairs(tokenizer, &balanced(&fit_set.pairs, sizes.probe_fit))?;
        let test_pairs = encode_pairs(tokenizer, &balanced(&test_set.pairs, sizes.probe_test))?;
        let labels = |pairs: &[EncodedPair]| -> Vec<u8> { pairs.iter().map(|p| p.label).collect() };
        let (fit_labels, test_labels) = (labels(&fit_pairs), labels(&test_pairs));
        // A small text may leave a kind without pairs of both labels: nothing to probe there.
        let both = |labels: &[u8]| labels.contains(&0) && labels.contains(&1);
        if !both(&fit_labels) || !both(&test_labels) {
            continue;
        }
        out.probe_fit_pairs = Some(fit_labels.len());
        if let Some(objective) = likelihood {
            begin(
                cp,
                &mut stage,
                total,
                &format!("scoring {} pairs by likelihood ({objective})", kind.name()),
            )?;
            let reader = LikelihoodReader {
                network,
                objective,
                seq_len,
                specials,
                backend_label,
                segment_pairs: trained_on_segment_pairs(plan, objective),
            };
            // Balanced prefixes again, so a smaller likelihood set keeps both labels.
            let lik_fit = encode_pairs(
                tokenizer,
                &balanced(&fit_set.pairs, sizes.probe_fit.min(sizes.likelihood_pairs)),
            )?;
            let lik_test = encode_pairs(
                tokenizer,
                &balanced(
                    &test_set.pairs,
                    sizes.probe_test.min(sizes.likelihood_pairs),
                ),
            )?;
            let fit_scores = reader.pmi(&lik_fit, cp).await?;
            let test_scores = reader.pmi(&lik_test, cp).await?;
            let (fit_scores, lik_fit_labels, fit_dropped) = scored(&fit_scores, &labels(&lik_fit));
            let (test_scores, lik_test_labels, test_dropped) =
                scored(&test_scores, &labels(&lik_test));
            out.zeroshot_likelihood_dropped
                .set(kind, (fit_dropped + test_dropped) as f64);
            let score = best_threshold(&fit_scores, &lik_fit_labels)
                .and_then(|t| ProbeScore::from_scores(&test_scores, &lik_test_labels, t));
            if let Some(score) = score {
                let o = &mut out;
                o.zeroshot_likelihood_method = Some(format!(
                    "likelihood: log p(B | A) − log p(B), {}",
                    match objective.spec().tokens().map(|r| r.scoring.kind) {
                        Some(ScoreKind::PseudoPerplexity) => "pseudo-log-likelihood (mlm)".into(),
                        _ => format!("{objective} protocol"),
                    }
                ));
                let slots = [
                    &mut o.zeroshot_likelihood_acc,
                    &mut o.zeroshot_likelihood_acc_se,
                    &mut o.zeroshot_likelihood_auc,
                    &mut o.zeroshot_likelihood_auc_se,
                    &mut o.zeroshot_likelihood_n,
                ];
                insert(slots, kind, &score);
            }
        }
        let mut right: Vec<Vec<bool>> = Vec::with_capacity(2);
        for (net, trained) in [(network, true), (&twin, false)] {
            let whose = if trained { "trained" } else { "untrained twin" };
            begin(
                cp,
                &mut stage,
                total,
                &format!("probing {} pairs ({whose})", kind.name()),
            )?;
            let fit = pair_features(
                net,
                &format,
                &fit_pairs,
                seq_len,
                specials,
                backend_label,
                cp,
            )
            .await?;
            let test = pair_features(
                net,
                &format,
                &test_pairs,
                seq_len,
                specials,
                backend_label,
                cp,
            )
            .await?;
            let (score, correct) = probe_score(&fit, &fit_labels, &test, &test_labels, cp).await?;
            right.push(correct);
            if let Some(score) = score {
                let o = &mut out;
                let slots = if trained {
                    [
                        &mut o.probe_acc,
                        &mut o.probe_acc_se,
                        &mut o.probe_auc,
                        &mut o.probe_auc_se,
                        &mut o.probe_n,
                    ]
                } else {
                    [
                        &mut o.random_init_acc,
                        &mut o.random_init_acc_se,
                        &mut o.random_init_auc,
                        &mut o.random_init_auc_se,
                        &mut o.random_init_n,
                    ]
                };
                insert(slots, kind, &score);
            }
            if let (true, Some(head)) = (trained, &test.head) {
                out.zeroshot_method = Some("pair head (argmax)".to_string());
                if let Some(score) = ProbeScore::from_scores(head, &test_labels, 0.5) {
                    let o = &mut out;
                    let slots = [
                        &mut o.zeroshot_acc,
                        &mut o.zeroshot_acc_se,
                        &mut o.zeroshot_auc,
                        &mut o.zeroshot_auc_se,
                        &mut o.zeroshot_n,
                    ];
                    insert(slots, kind, &score);
                }
            }
        }
        if let [trained, twin] = right.as_slice()
            && let Some(paired) = PairedDifference::of(trained, twin)
        {
            out.probe_vs_twin.set(kind, paired);
        }
    }
    // What words and surface alone reach on the same pairs, each cut to this network's window
    // as a plain stack joins a pair (a pair-head or encoder-decoder format reads a token or
    // two less, so the judges see at most that much more than such a model). A judge that
    // cannot be computed is said in its place; the model's figures stand.
    begin(cp, &mut stage, total, "fitting the word-only pair judges")?;
    out.pair_baselines = match pair_baseline_reports(dataset, seq_len, &sizes, cp).await {
        Ok(reports) => reports,
        Err(e) => vec![PairBaselineReport::failed(&e.to_string())],
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;
    use std::collections::BTreeMap;

    /// Per source: (positives, negatives).
    fn shares(pairs: &[&EvalPair]) -> BTreeMap<PairSource, (usize, usize)> {
        let mut out = BTreeMap::new();
        for p in pairs {
            let e: &mut (usize, usize) = out.entry(p.source).or_default();
            if p.label == 1 {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        out
    }

    #[test]
    fn balanced_subsets_hold_each_source_as_often_among_negatives_as_among_positives() {
        let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
        let corpus = &dataset.corpus;
        for split in [Split::Validation, Split::Test] {
            for kind in PairKind::ALL {
                let set = corpus.pair_set(split, kind).expect("set");
                let mut previous: Vec<&EvalPair> = Vec::new();
                for n in [20, 40, 50, 200, 400] {
                    let subset = balanced(&set.pairs, n);
                    assert_eq!(subset.len(), n, "{split:?} {kind:?} {n}");
                    for (source, (pos, neg)) in shares(&subset) {
                        assert_eq!(pos, neg, "{split:?} {kind:?} n={n} {source:?}");
                    }
                    assert!(
                        previous.iter().all(|p| subset.contains(p)),
                        "a larger subset contains the smaller one"
                    );
                    previous = subset;
                }
            }
        }
        // The plain prefix of each label was not balanced by source: what this guards against.
        let set = corpus.pair_set(Split::Test, PairKind::Hard).expect("set");
        let prefix: Vec<&EvalPair> = set
            .pairs
            .iter()
            .filter(|p| p.label == 1)
            .take(200)
            .chain(set.pairs.iter().filter(|p| p.label == 0).take(200))
            .collect();
        assert!(shares(&prefix).values().any(|(p, n)| p != n));
    }
}

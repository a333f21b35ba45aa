//! Generation quality as a number: the conditional perplexity of a held-out ticket's correct
//! resolution given the ticket (`gen_ppl`), each model scored under its own objective's
//! protocol ([`crate::core::objective::scoring`]) on exactly the same resolution tokens, and
//! masked LM's pseudo-perplexity (`gen_pppl`, Salazar et al. 2020) beside it, never pooled
//! with it. A mix with no token objective (NSP or SOP alone) cannot generate: that is a result,
//! reported as such. On a student's own text there are no tickets, so the same protocols score
//! a held-out document's second half given its first.
//!
//! Standard errors treat each example (a reply) as the unit: the tokens of one reply are not
//! independent, so the ratio estimator's cluster variance is used, not the per-token one.

use serde::{Deserialize, Serialize};

use crate::core::corpus::{CorpusSource, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::mix::Objective;
use crate::core::model::network::{Network, position_nll};
use crate::core::objective::scoring::{ScoreKind, ScoringExample};
use crate::core::plan::Plan;

/// Scoring rows per forward pass.
const ROWS_PER_BATCH: usize = 32;

/// Where the examples of [`examples`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExampleSource {
    /// A support ticket's resolution given the ticket.
    TicketResolution,
    /// A held-out document's second half given its first (a student's text).
    NextSegment,
}

/// The first `limit` held-out examples of `split`, cut to `seq_len` positions
/// ([`ScoringExample::fitted`]). Tickets for the support desk: the context is the ticket as
/// the packed stream holds it (`[EOS] ticket [SEP]`), the continuation its resolution. A
/// student's text: each document of two or more sentences split at its middle sentence.
pub fn examples(
    dataset: &Dataset,
    split: Split,
    seq_len: usize,
    limit: usize,
) -> Result<(ExampleSource, Vec<ScoringExample>), CoreError> {
    let specials = dataset.tokenizer.specials();
    let mut out = Vec::new();
    let source = match dataset.corpus.source {
        CorpusSource::Support { .. } => {
            for doc in dataset.corpus.split(split) {
                if out.len() >= limit {
                    break;
                }
                let (Some(_), [ticket, resolution, ..]) = (&doc.case, doc.parts.as_slice()) else {
                    continue;
                };
                let mut context = vec![specials.eos];
                context.extend(dataset.tokenizer.encode(&ticket.text())?);
                context.push(specials.sep);
                let continuation = dataset.tokenizer.encode(&resolution.text())?;
                out.extend(ScoringExample::fitted(&context, &continuation, seq_len));
            }
            ExampleSource::TicketResolution
        }
        CorpusSource::Custom { .. } => {
            let index = Split::ALL.iter().position(|&s| s == split).unwrap_or(0);
            for doc in dataset.documents[index].iter() {
                if out.len() >= limit {
                    break;
                }
                if doc.sentences.len() < 2 {
                    continue;
                }
                let middle = doc.sentences.len() / 2;
                let mut context = vec![specials.eos];
                context.extend(doc.sentences[..middle].concat());
                let continuation = doc.sentences[middle..].concat();
                out.extend(ScoringExample::fitted(&context, &continuation, seq_len));
            }
            ExampleSource::NextSegment
        }
    };
    Ok((source, out))
}

/// Per-example sums of negative log-likelihood (nats) and scored tokens, pooled into a
/// perplexity with a cluster standard error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NllByExample {
    pub sums: Vec<f64>,
    pub tokens: Vec<usize>,
}

impl NllByExample {
    /// Mean NLL per token over all examples (Σ nll / Σ tokens).
    pub fn mean(&self) -> Option<f64> {
        let n: usize = self.tokens.iter().sum();
        (n > 0).then(|| self.sums.iter().sum::<f64>() / n as f64)
    }

    /// Standard error of [`Self::mean`] with the example as the unit (the ratio estimator's
    /// linearised variance).
    pub fn standard_error(&self) -> Option<f64> {
        let k = self.sums.len();
        let mean = self.mean()?;
        if k < 2 {
            return None;
        }
        let n_bar = self.tokens.iter().sum::<usize>() as f64 / k as f64;
        let ss: f64 = self
            .sums
            .iter()
            .zip(&self.tokens)
            .map(|(&s, &n)| ((s - mean * n as f64) / n_bar).powi(2))
            .sum();
        Some((ss / (k as f64 * (k - 1) as f64)).sqrt())
    }
}

/// One objective's score of the held-out continuations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuationScore {
    pub objective: Objective,
    pub kind: ScoreKind,
    pub protocol: String,
    /// Where the protocol asks the model for something its pre-training never showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// exp(mean NLL per scored token).
    pub perplexity: f64,
    /// Its standard error by the delta method (perplexity × SE of the mean NLL).
    pub perplexity_se: f64,
    pub mean_nll: f64,
    pub examples: usize,
    pub tokens: usize,
    pub source: ExampleSource,
}

/// The token objectives of a plan in the order they are drawn, each once: whose protocols
/// score the run.
pub fn scoring_objectives(plan: &Plan) -> Vec<Objective> {
    let mut out: Vec<Objective> = Vec::new();
    for o in plan.batches.iter().filter_map(|k| k.tokens) {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// Scores `examples` with `network` under `objective`'s protocol, awaiting `cp` after every
/// batch. Every number is read back asynchronously.
pub async fn score(
    network: &Network,
    objective: Objective,
    examples: &[ScoringExample],
    source: ExampleSource,
    specials: crate::core::tokenizer::SpecialIds,
    backend_label: &str,
    cp: &mut impl Checkpoint,
) -> Result<ContinuationScore, CoreError> {
    let nll = example_nll(network, objective, examples, specials, backend_label, cp).await?;
    let Some(role) = objective.spec().tokens() else {
        return Err(CoreError::Config(format!(
            "{objective} judges sentence pairs and cannot score a continuation"
        )));
    };
    let scoring = role.scoring;
    let mean = nll
        .mean()
        .ok_or_else(|| CoreError::Corpus("no held-out example was long enough to score".into()))?;
    let perplexity = mean.exp();
    Ok(ContinuationScore {
        objective,
        kind: scoring.kind,
        protocol: scoring.protocol.to_string(),
        caveat: scoring.caveat.map(str::to_string),
        perplexity,
        perplexity_se: perplexity * nll.standard_error().unwrap_or(f64::NAN),
        mean_nll: mean,
        examples: nll.sums.len(),
        tokens: nll.tokens.iter().sum(),
        source,
    })
}

/// Each example's summed negative log-likelihood of its continuation (nats) and the tokens
/// scored, under `objective`'s protocol (a pseudo-log-likelihood for masked LM). Awaits `cp`
/// after every batch; every number is read back asynchronously.
pub async fn example_nll(
    network: &Network,
    objective: Objective,
    examples: &[ScoringExample],
    specials: crate::core::tokenizer::SpecialIds,
    backend_label: &str,
    cp: &mut impl Checkpoint,
) -> Result<NllByExample, CoreError> {
    let Some(role) = objective.spec().tokens() else {
        return Err(CoreError::Config(format!(
            "{objective} judges sentence pairs and cannot score a continuation"
        )));
    };
    let scoring = role.scoring;
    let model = network.valid();
    let mut nll = NllByExample::default();
    let mut start = 0;
    while start < examples.len() {
        // As many examples as fit in one batch of rows (at least one).
        let mut end = start;
        let mut rows = 0;
        while end < examples.len()
            && (end == start || rows + (scoring.rows_per_example)(&examples[end]) <= ROWS_PER_BATCH)
        {
            rows += (scoring.rows_per_example)(&examples[end]);
            end += 1;
        }
        let chunk = &examples[start..end];
        let batch = (scoring.rows)(chunk, specials)?;
        let tensors = batch.to_tensors(&model.device());
        let output = model.forward(&tensors, false);
        let picked = position_nll(output.logits, tensors.targets.clone()); // [b*t, 1]
        let values: Vec<f32> = picked
            .into_data_async()
            .await
            .map_err(|e| CoreError::read(backend_label, e))?
            .try_into_vec::<f32>()
            .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))?;
        // Rows belong to examples in order, `rows_per_example` each.
        let t = batch.target_len;
        let mut row = 0;
        for e in chunk {
            let (mut sum, mut count) = (0.0f64, 0usize);
            for _ in 0..(scoring.rows_per_example)(e) {
                let span = row * t..(row + 1) * t;
                for (&w, &v) in batch.loss_weights[span.clone()].iter().zip(&values[span]) {
                    if w > 0.0 {
                        sum += f64::from(v);
                        count += 1;
                    }
                }
                row += 1;
            }
            nll.sums.push(sum);
            nll.tokens.push(count);
        }
        start = end;
        cp.checkpoint().await;
    }
    Ok(nll)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perplexity_of_a_known_distribution() {
        // A model that spreads its probability evenly over 4 ids: every token costs ln 4.
        let nll = NllByExample {
            sums: vec![3.0 * 4f64.ln(), 5.0 * 4f64.ln()],
            tokens: vec![3, 5],
        };
        let mean = nll.mean().expect("mean");
        assert!((mean.exp() - 4.0).abs() < 1e-12);
        assert!(
            nll.standard_error().expect("se") < 1e-12,
            "no spread between replies"
        );
        // Two replies at ln 2 and ln 8 per token, equal lengths: the mean is ln 4.
        let nll = NllByExample {
            sums: vec![2.0 * 2f64.ln(), 2.0 * 8f64.ln()],
            tokens: vec![2, 2],
        };
        assert!((nll.mean().expect("mean").exp() - 4.0).abs() < 1e-12);
        // Linearised variance: residuals ±ln 2 · 2 / 2, so SE = sqrt(2 ln²2 / 2) = ln 2.
        assert!((nll.standard_error().expect("se") - 2f64.ln()).abs() < 1e-12);
        assert_eq!(NllByExample::default().mean(), None);
    }
}

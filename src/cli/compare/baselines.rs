//! The comparison's model-free rows, computed on the same data the runs were evaluated on:
//! the corpus of the plan, tokenized as a run of its size tokenizes it.
//!
//! - `bow`, `bow-ordered` and `surface` ([`pair_baseline_reports`], the same judges every
//!   run's evaluation keeps beside its own figures): fitted on the validation split's pair set
//!   of each kind and scored on the test split's — the balanced subsets of the grid's sizes
//!   ([`Grid::eval_sizes`]) that a run's probe reads.
//! - `unigram` ([`reply_unigram`]): the held-out replies of `gen_ppl`
//!   ([`generation::examples`]) under the training split's add-one word frequencies.
//!
//! The pair baselines read of each pair exactly the tokens a model of the comparison's size
//! reads: A's end and B's start. Reading the whole of A and B would let a bag of words see
//! text no model was shown.

use std::sync::Arc;

use super::Grid;
use super::rows::{CompareRow, RowKind};
use crate::core::corpus::custom::Needs;
use crate::core::corpus::{PairKind, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::eval::baselines::pairs::{PairBaselineReport, pair_baseline_reports};
use crate::core::eval::baselines::unigram::reply_unigram;
use crate::core::eval::generation::{self, ExampleSource};
use crate::core::exec::{NoYield, run_ready};

const NAMES: [&str; 4] = ["bow", "bow-ordered", "surface", "unigram"];

/// The `bow`, `bow-ordered`, `surface` and `unigram` rows; a baseline that cannot be computed
/// is a row with `error` set.
pub fn model_free_rows(grid: &Grid) -> Vec<CompareRow> {
    let dataset = grid.corpus_input().and_then(|input| {
        let corpus = input.build(grid.corpus_seed, Needs::TOKENS)?;
        Dataset::new(Arc::new(corpus), grid.size.model().vocab_size)
    });
    let dataset = match dataset {
        Ok(d) => d,
        Err(e) => {
            return NAMES
                .iter()
                .map(|name| {
                    let mut row = CompareRow::empty(RowKind::Baseline, *name, grid);
                    row.error = Some(format!("the corpus could not be built: {e}"));
                    row
                })
                .collect();
        }
    };
    let seq_len = grid.size.model().max_seq_len;
    let mut rows: Vec<CompareRow> = match run_ready(pair_baseline_reports(
        &dataset,
        seq_len,
        &grid.eval_sizes(),
        &mut NoYield,
    )) {
        Ok(reports) => reports.iter().map(|r| pair_row(grid, r)).collect(),
        Err(e) => NAMES[..3]
            .iter()
            .map(|name| {
                let mut row = CompareRow::empty(RowKind::Baseline, *name, grid);
                row.error = Some(format!("the pairs could not be read: {e}"));
                row
            })
            .collect(),
    };
    rows.push(unigram_row(grid, &dataset));
    rows
}

/// A model-free pair judge's row ([`pair_baseline_reports`]).
fn pair_row(grid: &Grid, report: &PairBaselineReport) -> CompareRow {
    let mut row = CompareRow::empty(RowKind::Baseline, &report.name, grid);
    row.probe_pooling = Some(report.features.clone());
    row.method = Some(report.method.clone());
    row.error = report.error.clone();
    for kind in PairKind::ALL {
        if let Some(score) = report.score(kind) {
            row.probe_fit_pairs = report.fit_pairs;
            row.insert_probe(kind, &score);
        }
    }
    row
}

fn unigram_row(grid: &Grid, dataset: &Dataset) -> CompareRow {
    let mut row = CompareRow::empty(RowKind::Baseline, "unigram", grid);
    let model = grid.size.model();
    let scored: Result<_, CoreError> = generation::examples(
        dataset,
        Split::Test,
        model.max_seq_len,
        grid.eval_sizes().gen_examples,
    )
    .map(|(source, examples)| {
        let score = reply_unigram(
            &dataset.train,
            model.vocab_size,
            dataset.tokenizer.specials(),
            &examples,
        );
        (source, score)
    });
    match scored {
        Ok((source, Some(score))) => {
            let what = match source {
                ExampleSource::TicketResolution => "the resolution's tokens",
                ExampleSource::NextSegment => "the second half's tokens",
            };
            row.gen_ppl = Some(score.perplexity);
            row.gen_ppl_se = Some(score.perplexity_se);
            row.gen_ppl_protocol = Some(format!(
                "unigram: the training split's add-one word frequencies over text ids, no \
                 context; {what} scored"
            ));
            row.gen_examples = Some(score.examples);
            row.gen_tokens = Some(score.tokens);
            row.method = Some(
                "word frequencies: the held-out replies gen_ppl scores, under the training \
                 split's add-one unigram distribution"
                    .into(),
            );
        }
        Ok((_, None)) => row.error = Some("no held-out example to score".into()),
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

//! The comparison's model-free rows, computed on the same data the runs were evaluated on:
//! the corpus of the plan, tokenized as a run of its size tokenizes it.
//!
//! - `bow` and `bow-ordered` ([`pair_baselines`]): a TF-IDF vocabulary of the training split,
//!   a logistic probe fitted on the validation split's pair set of each kind and scored on the
//!   test split's — the balanced prefixes of [`EvalSizes::CLI`] that a run's probe reads.
//! - `unigram` ([`reply_unigram`]): the held-out replies of `gen_ppl`
//!   ([`generation::examples`]) under the training split's add-one word frequencies.
//!
//! The `surface` baseline of the issue (an artifact/surface classifier per pair set) is not a
//! row here: `corpus --audit` reports it.

use std::sync::Arc;

use super::Grid;
use super::rows::{CompareRow, RowKind};
use crate::core::corpus::custom::Needs;
use crate::core::corpus::{EvalPair, PairKind, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::eval::baselines::bow::{BowVectorizer, MAX_TERMS, PairFeatures, pair_baselines};
use crate::core::eval::baselines::unigram::reply_unigram;
use crate::core::eval::generation::{self, ExampleSource};
use crate::core::eval::run::{EvalSizes, balanced};

const NAMES: [&str; 3] = ["bow", "bow-ordered", "unigram"];

/// The `bow`, `bow-ordered` and `unigram` rows; a baseline that cannot be computed is a row
/// with `error` set.
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
    let mut rows = bow_rows(grid, &dataset);
    rows.push(unigram_row(grid, &dataset));
    rows
}

fn bow_rows(grid: &Grid, dataset: &Dataset) -> Vec<CompareRow> {
    let sizes = EvalSizes::CLI;
    let mut rows: Vec<CompareRow> = PairFeatures::ALL
        .iter()
        .map(|f| {
            let mut row = CompareRow::empty(RowKind::Baseline, f.name(), grid);
            row.probe_pooling = Some(
                match f {
                    PairFeatures::Bow => "TF-IDF: absolute difference ‖ product (order-blind)",
                    PairFeatures::BowOrdered => "TF-IDF: A ‖ B",
                }
                .to_string(),
            );
            row.method = Some(format!(
                "bag of words: TF-IDF of the training split's {MAX_TERMS} most frequent words, \
                 logistic probe fitted on validation pairs, scored on test pairs"
            ));
            row
        })
        .collect();
    let corpus = &dataset.corpus;
    let vectorizer = match BowVectorizer::for_split(corpus, Split::Train, MAX_TERMS) {
        Ok(v) => v,
        Err(e) => {
            for row in &mut rows {
                row.error = Some(e.to_string());
            }
            return rows;
        }
    };
    for kind in PairKind::ALL {
        let (Some(fit_set), Some(test_set)) = (
            corpus.pair_set(Split::Validation, kind),
            corpus.pair_set(Split::Test, kind),
        ) else {
            continue;
        };
        let owned = |pairs: Vec<&EvalPair>| pairs.into_iter().cloned().collect::<Vec<_>>();
        let fit = owned(balanced(&fit_set.pairs, sizes.probe_fit));
        let held = owned(balanced(&test_set.pairs, sizes.probe_test));
        match pair_baselines(&vectorizer, &fit, &held) {
            Ok(lines) => {
                for line in lines {
                    if let Some(row) = rows.iter_mut().find(|r| r.name == line.features.name()) {
                        row.probe_fit_pairs = Some(fit.len());
                        row.insert_probe(kind, &line.score);
                    }
                }
            }
            Err(e) => {
                for row in &mut rows {
                    row.error
                        .get_or_insert_with(|| format!("{}: {e}", kind.name()));
                }
            }
        }
    }
    rows
}

fn unigram_row(grid: &Grid, dataset: &Dataset) -> CompareRow {
    let mut row = CompareRow::empty(RowKind::Baseline, "unigram", grid);
    let model = grid.size.model();
    let scored: Result<_, CoreError> = generation::examples(
        dataset,
        Split::Test,
        model.max_seq_len,
        EvalSizes::CLI.gen_examples,
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

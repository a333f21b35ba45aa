//! The comparison's model-free rows, computed on the same data the runs were evaluated on:
//! the corpus of the plan, tokenized as a run of its size tokenizes it.
//!
//! - `bow` and `bow-ordered` ([`pair_baselines`]): a TF-IDF vocabulary of the training split,
//!   a logistic probe fitted on the validation split's pair set of each kind and scored on the
//!   test split's — the balanced subsets of the grid's sizes ([`Grid::eval_sizes`]) that a run's probe reads.
//! - `surface` ([`surface_baseline`]): the shortcut audit's surface classifier on the same
//!   pairs, fitted and scored the same way.
//! - `unigram` ([`reply_unigram`]): the held-out replies of `gen_ppl`
//!   ([`generation::examples`]) under the training split's add-one word frequencies.
//!
//! The pair baselines read of each pair exactly the tokens a model of the comparison's size
//! reads: A's end and B's start, joined and cut as a plain stack's probe cuts them
//! ([`as_read`]). Reading the whole of A and B would let a bag of words see text no model
//! was shown.

use std::sync::Arc;

use super::Grid;
use super::rows::{CompareRow, RowKind};
use crate::core::corpus::custom::Needs;
use crate::core::corpus::{EvalPair, PairKind, Split};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::eval::baselines::bow::{BowVectorizer, MAX_TERMS, PairFeatures, pair_baselines};
use crate::core::eval::baselines::surface::surface_baseline;
use crate::core::eval::baselines::unigram::reply_unigram;
use crate::core::eval::generation::{self, ExampleSource};
use crate::core::eval::pair_input::as_read;
use crate::core::eval::run::balanced;

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
    let mut rows = match pair_splits(grid, &dataset) {
        Ok(splits) => {
            let mut rows = bow_rows(grid, &dataset, &splits);
            rows.push(surface_row(grid, &splits));
            rows
        }
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

/// The held-out pairs' fitting and scoring prefixes of one kind, each pair cut to what a model
/// of the grid's size reads of it.
type PairSplits = (PairKind, Vec<EvalPair>, Vec<EvalPair>);

fn pair_splits(grid: &Grid, dataset: &Dataset) -> Result<Vec<PairSplits>, CoreError> {
    let sizes = grid.eval_sizes();
    let seq_len = grid.size.model().max_seq_len;
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

/// What every pair baseline row says it read.
fn reads(grid: &Grid) -> String {
    format!(
        "each pair cut to the tokens a model of {} positions reads of it (A's end, B's start)",
        grid.size.model().max_seq_len
    )
}

fn bow_rows(grid: &Grid, dataset: &Dataset, splits: &[PairSplits]) -> Vec<CompareRow> {
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
                 logistic probe fitted on validation pairs, scored on test pairs; {}",
                reads(grid)
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
    for (kind, fit, held) in splits {
        let kind = *kind;
        match pair_baselines(&vectorizer, fit, held) {
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

fn surface_row(grid: &Grid, splits: &[PairSplits]) -> CompareRow {
    let mut row = CompareRow::empty(RowKind::Baseline, "surface", grid);
    row.probe_pooling = Some(
        "surface: first and last words, lengths, punctuation, greetings, person, digits".into(),
    );
    row.method = Some(format!(
        "the shortcut audit's surface classifier (corpus --audit), fitted on validation pairs, \
         scored on test pairs; {}",
        reads(grid)
    ));
    for (kind, fit, held) in splits {
        match surface_baseline(fit, held) {
            Ok(score) => {
                row.probe_fit_pairs = Some(fit.len());
                row.insert_probe(*kind, &score);
            }
            Err(e) => {
                row.error
                    .get_or_insert_with(|| format!("{}: {e}", kind.name()));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;

    /// The pair baselines read what a `fast` model reads: 32 positions of each pair at most,
    /// A's end and B's start, and less than the whole texts wherever those do not fit.
    #[test]
    fn the_pair_baselines_read_the_spans_a_model_reads() {
        let grid = Grid::fast_gpt();
        let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
        let splits = pair_splits(&grid, &dataset).expect("splits");
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

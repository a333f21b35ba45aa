//! What the page's corpus panel shows, as plain data the worker sends: the statistics, a few
//! training documents, one positive and one negative example of every pair kind, and (later,
//! because it costs a pass over every byte) the fingerprint.

use serde::{Deserialize, Serialize};

use super::custom::lines::LineReport;
use super::export::CorpusStats;
use super::{Corpus, Document, EvalPair, Genre, PairKind, PairSource, Split};

/// The length (A + B, in bytes) the panel's pair examples are chosen closest to.
const EXAMPLE_CHARS: usize = 150;

/// How long the worker took to build the corpus and to tokenize it (train the tokenizer and
/// pack every split), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CorpusTimings {
    pub corpus_ms: f64,
    pub tokenizer_ms: f64,
}

/// The corpus panel's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusView {
    /// "the support-desk corpus (corpus seed 1)" or "notes.txt (12,345 bytes)".
    pub description: String,
    pub stats: CorpusStats,
    /// A few training documents, one per genre where there are several genres.
    pub samples: Vec<Document>,
    /// For each kind, one positive and one negative validation pair.
    pub pair_examples: Vec<EvalPair>,
    /// Filled in by the worker, which has a clock.
    pub timings: Option<CorpusTimings>,
    /// For a student's text: how its line breaks were read, the rules, and its first
    /// sentences as split.
    #[serde(default)]
    pub splitting: Option<Splitting>,
}

/// How a student's text was cut into sentences, for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Splitting {
    pub report: LineReport,
    pub rules: String,
    /// The first sentences of the first training documents, one per entry.
    pub first_sentences: Vec<String>,
}

/// Sentences the panel shows as split.
const SPLIT_EXAMPLES: usize = 12;

impl CorpusView {
    pub fn new(corpus: &Corpus, description: String, stats: CorpusStats) -> Self {
        let mut samples: Vec<Document> = Vec::new();
        for genre in Genre::ALL {
            if let Some(doc) = corpus.split(Split::Train).find(|d| d.genre() == genre) {
                samples.push(doc.clone());
            }
        }
        if samples.len() < 2 {
            // A student's text has one genre: show its first few documents.
            samples = corpus.split(Split::Train).take(3).cloned().collect();
        }
        let mut pair_examples: Vec<EvalPair> = Vec::new();
        for kind in PairKind::ALL {
            let Some(set) = corpus.pair_set(Split::Validation, kind) else {
                continue;
            };
            // Each kind shown on the source that explains it best: a short FAQ pair for
            // random, a ticket and a same-topic resolution for hard, two sentences of one
            // writer for swapped (any source where the corpus has no such pair).
            let preferred = match kind {
                PairKind::Random => PairSource::QuestionAnswer,
                PairKind::Hard => PairSource::TicketResolution,
                PairKind::Swapped => PairSource::Consecutive,
            };
            for label in [1u8, 0] {
                // Prefer the preferred source and texts not shown yet; settle for less (a
                // student's text may repeat sentences).
                let pick = |source: Option<PairSource>, fresh: bool| {
                    set.pairs
                        .iter()
                        .filter(|p| p.label == label)
                        .filter(|p| source.is_none_or(|s| p.source == s))
                        .filter(|p| {
                            !fresh || !pair_examples.iter().any(|q| q.a == p.a || q.b == p.b)
                        })
                        // Long enough to say something, short enough to read at a glance.
                        .min_by_key(|p| (p.a.len() + p.b.len()).abs_diff(EXAMPLE_CHARS))
                };
                let chosen = pick(Some(preferred), true)
                    .or_else(|| pick(None, true))
                    .or_else(|| pick(None, false));
                if let Some(pair) = chosen {
                    pair_examples.push(pair.clone());
                }
            }
        }
        let splitting = corpus.line_report.clone().map(|report| Splitting {
            report,
            rules: LineReport::RULES.to_string(),
            first_sentences: corpus
                .documents
                .iter()
                .flat_map(|d| d.parts.iter())
                .flat_map(|p| p.sentences.iter())
                .take(SPLIT_EXAMPLES)
                .cloned()
                .collect(),
        });
        Self {
            description,
            stats,
            samples,
            pair_examples,
            timings: None,
            splitting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::corpus::support::{SupportSize, generate};

    #[test]
    fn the_panel_shows_every_genre_and_a_positive_and_negative_of_every_kind() {
        let corpus = generate(
            1,
            SupportSize {
                tickets: 1200,
                articles: 40,
                faqs: 120,
            },
        );
        let stats = crate::core::corpus::export::CorpusStats::new(&corpus, 1024, [0; 3]);
        let view = CorpusView::new(&corpus, "test".into(), stats);
        let genres: Vec<Genre> = view.samples.iter().map(|d| d.genre()).collect();
        assert_eq!(genres, vec![Genre::Ticket, Genre::Article, Genre::Question]);
        assert_eq!(view.pair_examples.len(), 6);
        for kind in PairKind::ALL {
            let labels: Vec<u8> = view
                .pair_examples
                .iter()
                .filter(|p| p.kind == kind)
                .map(|p| p.label)
                .collect();
            assert_eq!(labels, vec![1, 0], "{kind:?}");
        }
        let hard = view.pair_examples.iter().find(|p| p.kind == PairKind::Hard);
        assert_eq!(hard.map(|p| p.source), Some(PairSource::TicketResolution));
    }

    #[test]
    fn a_repetitive_text_still_shows_every_kind() {
        // Like the end-to-end test's text: two of every three lines repeat.
        let text: String = (0..14)
            .map(|i| {
                format!(
                    "Keeper {i} counted ships. She wrote each name.\nThe wind turned north. She drank her tea.\n灯台は静かだった。\n{}",
                    if i % 3 == 2 { "\n" } else { "" }
                )
            })
            .collect();
        let corpus = crate::core::corpus::custom::build(
            &text,
            "refrain.txt",
            1,
            crate::core::corpus::custom::Needs::TOKENS,
        )
        .expect("valid text");
        let stats = crate::core::corpus::export::CorpusStats::new(&corpus, 600, [0; 3]);
        let view = CorpusView::new(&corpus, "test".into(), stats);
        assert_eq!(view.pair_examples.len(), 6);
        assert_eq!(view.samples.len(), 3);
        let splitting = view
            .splitting
            .expect("a student's text says how it was split");
        assert!(
            splitting
                .first_sentences
                .iter()
                .any(|s| s == "She wrote each name.")
        );
    }
}

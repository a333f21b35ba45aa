//! What the page's corpus panel shows, as plain data the worker sends: the statistics, a few
//! training documents, one positive and one negative example of every pair kind, and (later,
//! because it costs a pass over every byte) the fingerprint.

use serde::{Deserialize, Serialize};

use super::export::CorpusStats;
use super::{Corpus, Document, EvalPair, Genre, PairKind, Split};

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
}

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
        let mut pair_examples = Vec::new();
        for kind in PairKind::ALL {
            if let Some(set) = corpus.pair_set(Split::Validation, kind) {
                for label in [1u8, 0] {
                    // Prefer a short pair so the panel stays readable.
                    if let Some(pair) = set
                        .pairs
                        .iter()
                        .filter(|p| p.label == label)
                        .min_by_key(|p| (p.a.len() + p.b.len()).abs_diff(160))
                    {
                        pair_examples.push(pair.clone());
                    }
                }
            }
        }
        Self {
            description,
            stats,
            samples,
            pair_examples,
        }
    }
}

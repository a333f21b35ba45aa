//! The corpus as files, its statistics and its fingerprint.
//!
//! `pretrain-playground corpus --corpus-seed S --out DIR` writes the documents of each split,
//! one balanced pair file per split × kind, the NSP/SOP segment pairs and the tokenizer as
//! JSON Lines / JSON — no timestamps, fields in a fixed order — so the same seed gives the same
//! bytes on every machine. The **fingerprint** is the SHA-256 of exactly those bytes (the
//! tokenizer's included) and is what a native test and the page both compute and compare
//! against [`FINGERPRINT_SEED_1`]: same seed, same corpus, same pairs, same vocabulary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Corpus, CorpusSource, Genre, PairKind, PairSource, Split};
use crate::core::error::CoreError;
use crate::core::tokenizer::LabTokenizer;

/// The fingerprint of the support-desk corpus for corpus seed 1 with the `default` size's
/// vocabulary (2048). Recompute with `pretrain-playground corpus --corpus-seed 1` after any
/// intended change to the corpus, the pairs or the tokenizer.
pub const FINGERPRINT_SEED_1: &str =
    "d9940830a817ab988203f297f92d8547d5b90f48dbe9545c48bf5d74802f4ef6";

/// One file of the export: its path relative to the output directory and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub path: String,
    pub contents: String,
}

fn jsonl<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<String, CoreError> {
    let mut out = String::new();
    for item in items {
        let line = serde_json::to_string(&item)
            .map_err(|e| CoreError::Corpus(format!("could not serialise the corpus: {e}")))?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// The files the fingerprint covers, in a fixed order.
pub fn files(corpus: &Corpus, tokenizer: &LabTokenizer) -> Result<Vec<ExportFile>, CoreError> {
    let mut out = Vec::new();
    for split in Split::ALL {
        out.push(ExportFile {
            path: format!("{split}.jsonl"),
            contents: jsonl(corpus.split(split))?,
        });
    }
    for set in &corpus.pair_sets {
        out.push(ExportFile {
            path: format!("pairs/{}.{}.jsonl", set.split, set.kind.name()),
            contents: jsonl(&set.pairs)?,
        });
    }
    out.push(ExportFile {
        path: "segment_pairs.train.jsonl".into(),
        contents: jsonl(&corpus.segment_pairs)?,
    });
    out.push(ExportFile {
        path: "tokenizer.json".into(),
        contents: tokenizer.to_json()?,
    });
    Ok(out)
}

/// SHA-256 (hex) over every exported file's path and contents.
pub fn fingerprint(files: &[ExportFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.path.as_bytes());
        hasher.update([0u8]);
        hasher.update((file.contents.len() as u64).to_le_bytes());
        hasher.update(file.contents.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counts for one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitStats {
    pub split: Split,
    pub documents: usize,
    pub sentences: usize,
    /// Tokens of original text (no specials).
    pub tokens: usize,
}

/// Counts for one evaluation pair set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairSetStats {
    pub split: Split,
    pub kind: PairKind,
    pub positives: usize,
    pub negatives: usize,
    /// Pairs by where their positive comes from.
    pub sources: BTreeMap<PairSource, usize>,
    /// Consecutive-sentence pairs by genre (one genre, one writer).
    pub within_genre: BTreeMap<Genre, usize>,
}

/// What the corpus panel and the CLI show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub source: CorpusSource,
    pub documents: usize,
    pub sentences: usize,
    pub tokens: usize,
    pub vocab_size: usize,
    pub splits: Vec<SplitStats>,
    /// Documents by genre of their first part.
    pub genres: BTreeMap<Genre, usize>,
    pub pair_sets: Vec<PairSetStats>,
    pub segment_pairs: usize,
}

impl CorpusStats {
    /// `split_tokens`: original-text tokens per split, in [`Split::ALL`] order (the dataset
    /// counts them while it tokenizes).
    pub fn new(corpus: &Corpus, vocab_size: usize, split_tokens: [usize; 3]) -> Self {
        let mut splits = Vec::new();
        for (split, tokens) in Split::ALL.into_iter().zip(split_tokens) {
            let mut stats = SplitStats {
                split,
                documents: 0,
                sentences: 0,
                tokens,
            };
            for doc in corpus.split(split) {
                stats.documents += 1;
                stats.sentences += doc.sentence_count();
            }
            splits.push(stats);
        }
        let mut genres = BTreeMap::new();
        for doc in &corpus.documents {
            *genres.entry(doc.genre()).or_insert(0) += 1;
        }
        let pair_sets = corpus
            .pair_sets
            .iter()
            .map(|set| {
                let mut sources = BTreeMap::new();
                let mut within_genre = BTreeMap::new();
                for pair in &set.pairs {
                    *sources.entry(pair.source).or_insert(0) += 1;
                    if pair.source == PairSource::Consecutive {
                        *within_genre.entry(pair.genre).or_insert(0) += 1;
                    }
                }
                PairSetStats {
                    split: set.split,
                    kind: set.kind,
                    positives: set.positives(),
                    negatives: set.negatives(),
                    sources,
                    within_genre,
                }
            })
            .collect();
        Self {
            source: corpus.source.clone(),
            documents: corpus.documents.len(),
            sentences: corpus.sentence_count(),
            tokens: splits.iter().map(|s| s.tokens).sum(),
            vocab_size,
            splits,
            genres,
            pair_sets,
            segment_pairs: corpus.segment_pairs.len(),
        }
    }
}

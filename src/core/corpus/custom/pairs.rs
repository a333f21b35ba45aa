//! Splits, evaluation pair sets and segment pairs over the documents of a student's text.
//!
//! A positive is two consecutive sentences of one document. A random negative takes B from
//! another document of the same split; a hard negative takes a non-adjacent sentence of the
//! same document, or, where the document is too short, the sentence of another document most
//! like the true B by TF-IDF ([`super::tfidf`]); a swapped negative is (B, A). Sentences are
//! interned, so "is this negative really a positive somewhere in the text?" is one lookup.
//! Which documents go to which split is the search in [`splits`].

mod splits;

use std::collections::{HashMap, HashSet};

use super::tfidf::TfIdf;
use super::{EVAL_PAIR_CAP, TRAIN_PAIR_CAP};
use crate::core::corpus::{EvalPair, Genre, PairKind, PairSet, PairSource, SegmentPair, Split};
use crate::core::exec::Checkpoint;
use crate::core::rng::{Rng, Stream};

/// Random draws per random negative before its positive is given up as a source.
const RANDOM_TRIES: usize = 8;
/// Positives tried as negative sources beyond the number wanted, before a set is given up.
const EXTRA_SOURCES: usize = 2_000;

/// Splits, pair sets and segment pairs over fixed documents. Sentences are interned so that
/// "is this negative really a positive somewhere?" is one hash lookup.
pub(super) struct PairBuilder<'a> {
    docs: &'a [Vec<String>],
    names: &'a [String],
    /// Interned id of every sentence, per document (equal text, equal id).
    ids: Vec<Vec<u32>>,
    /// Every (A, B) that occurs as consecutive sentences anywhere in the text.
    positives: HashSet<(u32, u32)>,
    distinct: usize,
    corpus_seed: u64,
}

/// Sentences interned between two checkpoints.
const INTERN_CHUNK: usize = 20_000;

/// One candidate positive: document index and index of its first sentence.
pub(super) type Source = (usize, usize);

impl<'a> PairBuilder<'a> {
    /// Interns the sentences of `docs`, awaiting `cp` after every [`INTERN_CHUNK`] of them.
    pub(super) async fn new(
        docs: &'a [Vec<String>],
        names: &'a [String],
        corpus_seed: u64,
        cp: &mut impl Checkpoint,
    ) -> Self {
        let mut intern: HashMap<&str, u32> = HashMap::new();
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(docs.len());
        let mut since = 0usize;
        for doc in docs {
            ids.push(
                doc.iter()
                    .map(|s| {
                        let next = intern.len() as u32;
                        *intern.entry(s.as_str()).or_insert(next)
                    })
                    .collect(),
            );
            since += doc.len();
            if since >= INTERN_CHUNK {
                since = 0;
                cp.checkpoint().await;
            }
        }
        cp.checkpoint().await;
        // Documents are in text order, so this includes the pairs that straddle two documents
        // cut from one paragraph: those are consecutive in the text too.
        let flat: Vec<u32> = ids.iter().flatten().copied().collect();
        let positives = flat
            .windows(2)
            .filter_map(|w| match w {
                &[a, b] => Some((a, b)),
                _ => None,
            })
            .collect();
        Self {
            docs,
            names,
            ids,
            positives,
            distinct: intern.len(),
            corpus_seed,
        }
    }

    /// An independent generator for one decision (the splits on the corpus stream, each pair
    /// set on the pairs stream), so that how much one draws never shifts another.
    fn rng(&self, stream: Stream, tag: u64) -> Rng {
        let base = Rng::for_stream(self.corpus_seed, stream).next_u64();
        Rng::new(Rng::new(base ^ tag.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64())
    }

    fn id(&self, (doc, sentence): Source) -> Option<u32> {
        self.ids.get(doc)?.get(sentence).copied()
    }

    fn text(&self, (doc, sentence): Source) -> &'a str {
        self.docs
            .get(doc)
            .and_then(|d| d.get(sentence))
            .map_or("", String::as_str)
    }

    /// A label-0 pair (A, B) is fair iff the texts differ and B never follows A in the text.
    fn fair_negative(&self, a: Source, b: Source) -> bool {
        match (self.id(a), self.id(b)) {
            (Some(a), Some(b)) => a != b && !self.positives.contains(&(a, b)),
            _ => false,
        }
    }

    /// One balanced pair set for `split` × `kind` from the documents `members` (empty if no
    /// fair negative of this kind exists among them).
    fn pair_set(&self, split: Split, kind: PairKind, members: &[usize]) -> PairSet {
        let mut rng = self.rng(Stream::Pairs, 3 * split as u64 + kind as u64);
        let mut sources: Vec<Source> = members
            .iter()
            .flat_map(|&d| {
                let len = self.docs.get(d).map_or(0, Vec::len);
                (0..len.saturating_sub(1)).map(move |i| (d, i))
            })
            .collect();
        rng.shuffle(&mut sources);
        let cap = match split {
            Split::Train => TRAIN_PAIR_CAP,
            Split::Validation | Split::Test => EVAL_PAIR_CAP,
        };
        let want = (cap / 2).min((sources.len() / 2).max(1));
        // Negatives come from the second half of the shuffled positives first and label-1
        // items from the first half, so the two labels share no pair where there are enough.
        let half = sources.len() / 2;
        let neg_order = (half..sources.len()).chain(0..half);
        let mut used = vec![false; sources.len()];
        let mut negatives = Vec::with_capacity(want);
        let mut tfidf: Option<TfIdf> = None;
        for (tries, index) in neg_order.enumerate() {
            if negatives.len() >= want || tries >= want + EXTRA_SOURCES {
                break;
            }
            let Some(&source) = sources.get(index) else {
                continue;
            };
            let negative = match kind {
                PairKind::Random => self.random_negative(source, members, &mut rng),
                PairKind::Hard => self.hard_negative(source, members, &mut tfidf, &mut rng),
                PairKind::Swapped => self.swapped_negative(source),
            };
            if let Some(pair) = negative {
                negatives.push(pair);
                if let Some(flag) = used.get_mut(index) {
                    *flag = true;
                }
            }
        }
        let unused = (0..sources.len()).filter(|&i| !used.get(i).copied().unwrap_or(true));
        let reused = (0..sources.len()).filter(|&i| used.get(i).copied().unwrap_or(false));
        let mut pairs: Vec<EvalPair> = unused
            .chain(reused)
            .filter_map(|i| sources.get(i))
            .take(negatives.len())
            .map(|&(d, i)| self.eval_pair(kind, 1, (d, i), (d, i + 1)))
            .collect();
        pairs.truncate(negatives.len());
        negatives.truncate(pairs.len());
        pairs.extend(negatives);
        rng.shuffle(&mut pairs);
        PairSet { split, kind, pairs }
    }

    fn eval_pair(&self, kind: PairKind, label: u8, a: Source, b: Source) -> EvalPair {
        EvalPair {
            kind,
            label,
            a: self.text(a).to_string(),
            b: self.text(b).to_string(),
            source: PairSource::Consecutive,
            genre: Genre::Text,
            doc: self.names.get(a.0).cloned().unwrap_or_default(),
        }
    }

    /// B is a random sentence of another document of the split.
    fn random_negative(&self, a: Source, members: &[usize], rng: &mut Rng) -> Option<EvalPair> {
        for _ in 0..RANDOM_TRIES {
            let &doc = members.get(rng.below(members.len()))?;
            if doc == a.0 {
                continue;
            }
            let b = (doc, rng.below(self.docs.get(doc).map_or(0, Vec::len)));
            if self.fair_negative(a, b) {
                return Some(self.eval_pair(PairKind::Random, 0, a, b));
            }
        }
        None
    }

    /// B is a sentence of the same document at least two away from A (same topic, wrong
    /// place); if there is none, the sentence of another document most like the true B.
    fn hard_negative(
        &self,
        a: Source,
        members: &[usize],
        tfidf: &mut Option<TfIdf>,
        rng: &mut Rng,
    ) -> Option<EvalPair> {
        let (doc, i) = a;
        let len = self.docs.get(doc).map_or(0, Vec::len);
        let mut near: Vec<usize> = (0..len).filter(|&j| j.abs_diff(i) >= 2).collect();
        rng.shuffle(&mut near);
        if let Some(j) = near.into_iter().find(|&j| self.fair_negative(a, (doc, j))) {
            return Some(self.eval_pair(PairKind::Hard, 0, a, (doc, j)));
        }
        let index = tfidf.get_or_insert_with(|| TfIdf::new(self.docs, members));
        let b = index.most_similar(self.text((doc, i + 1)), |b| {
            b.0 != doc && self.fair_negative(a, b)
        })?;
        Some(self.eval_pair(PairKind::Hard, 0, a, b))
    }

    /// (B, A): the right two sentences in the wrong order.
    fn swapped_negative(&self, (doc, i): Source) -> Option<EvalPair> {
        let (a, b) = ((doc, i + 1), (doc, i));
        self.fair_negative(a, b)
            .then(|| self.eval_pair(PairKind::Swapped, 0, a, b))
    }

    pub(super) fn segment_pairs(&self, splits: &[Split]) -> Vec<SegmentPair> {
        self.docs
            .iter()
            .zip(self.names)
            .zip(splits)
            .filter(|&(_, &split)| split == Split::Train)
            .flat_map(|((doc, name), _)| {
                doc.windows(2).map(move |w| SegmentPair {
                    doc: name.clone(),
                    genre: Genre::Text,
                    a: w.first().cloned().unwrap_or_default(),
                    b: w.last().cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

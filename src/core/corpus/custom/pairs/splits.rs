//! The split search: which documents go to train, validation and test so that every split
//! gets a pair set of every negative kind, in bounded time whatever the text.
//!
//! The draw is about 80/10/10 by document. A split that cannot get a pair set of some kind is
//! given documents that could help it; the search is bounded (a text with no fair negative of
//! some kind anywhere is refused before it starts, rounds and rebuilt sentences are capped),
//! because the page runs it in its worker, where a long search freezes Pause, Reset and the
//! tokenizer view.

use std::collections::HashMap;

use super::PairBuilder;
use crate::core::corpus::custom::{CustomTextError, MIN_SPLIT_DOCS};
use crate::core::corpus::{PairKind, PairSet, Split};
use crate::core::exec::Checkpoint;
use crate::core::rng::Stream;

/// Rounds of the split search that move a single document.
const SINGLE_MOVES: usize = 8;
/// Rounds of the split search in all (later rounds move 2, 4, 8… documents at once), so that
/// a text whose fair negatives are too rare to reach every split is refused in bounded time.
const MAX_SPLIT_ROUNDS: usize = 20;
/// The split search stops once it has rebuilt the pair sets of this many times the text's
/// sentences (plus [`SEARCH_SLACK`]): each round costs about the size of the splits it changed.
const SEARCH_REBUILDS: usize = 4;
const SEARCH_SLACK: usize = 200_000;

impl PairBuilder<'_> {
    /// Draws the splits (about 80/10/10 by document, at least [`MIN_SPLIT_DOCS`] each), then
    /// moves documents to any split that cannot get a pair set of every kind.
    ///
    /// The work is bounded whatever the text: a text with no fair negative of some kind
    /// anywhere is refused before any split is tried ([`Self::hopeless_kind`]); a split's pair
    /// sets are rebuilt only when its documents change, and only up to the first split that
    /// fails; documents move one at a time for the first [`SINGLE_MOVES`] rounds (what almost
    /// every text that needs a move needs), then in batches that double, for at most
    /// [`MAX_SPLIT_ROUNDS`] rounds in all.
    ///
    /// `cp` is awaited between every two pair sets and every two rounds.
    pub(in crate::core::corpus::custom) async fn assign_splits(
        &self,
        cp: &mut impl Checkpoint,
    ) -> Result<(Vec<Split>, Vec<PairSet>), CustomTextError> {
        let n = self.docs.len();
        let mut order: Vec<usize> = (0..n).collect();
        self.rng(Stream::Corpus, 0).shuffle(&mut order);
        let eval = n.div_ceil(10).max(MIN_SPLIT_DOCS);
        let mut splits = vec![Split::Train; n];
        for (rank, &doc) in order.iter().enumerate() {
            if let Some(slot) = splits.get_mut(doc) {
                *slot = match rank {
                    r if r < eval => Split::Validation,
                    r if r < 2 * eval => Split::Test,
                    _ => Split::Train,
                };
            }
        }
        let refuse = |(split, kind): (Split, PairKind)| CustomTextError::TooRepetitive {
            split,
            kind,
            distinct: self.distinct,
            sentences: self.docs.iter().map(Vec::len).sum(),
        };
        cp.checkpoint().await;
        if let Some(kind) = self.hopeless_kind() {
            return Err(refuse((Split::Train, kind)));
        }
        cp.checkpoint().await;
        // Each split's pair sets, in [`PairKind::ALL`] order, while its documents are unchanged.
        let mut built: [Option<Vec<PairSet>>; 3] = [None, None, None];
        let mut last_failure = (Split::Validation, PairKind::Random);
        // Sentences whose pair sets may still be rebuilt: a few times the text (so a long text
        // gets few rounds, each of which rebuilds most of it) and plenty for a short one.
        let total: usize = self.docs.iter().map(Vec::len).sum();
        let mut budget = SEARCH_REBUILDS * total + SEARCH_SLACK;
        // Each move gives a failing split documents; 2n moves without success means the
        // documents only shuttle between failing splits.
        for round in 0..=(2 * n).min(MAX_SPLIT_ROUNDS) {
            let Some((split, kind)) = self.first_failure(&splits, &mut built, cp).await else {
                return Ok((splits, built.into_iter().flatten().flatten().collect()));
            };
            last_failure = (split, kind);
            let batch = match round.checked_sub(SINGLE_MOVES) {
                None => 1,
                Some(k) => 1usize << (k + 1).min(20),
            };
            let Some(donor) = self.move_documents(&mut splits, split, kind, batch) else {
                return Err(refuse(last_failure));
            };
            for changed in [split, donor] {
                if let Some(slot) = built.get_mut(changed as usize) {
                    *slot = None;
                }
            }
            let rebuilt: usize = (0..n)
                .filter(|&d| splits.get(d).is_some_and(|&s| s == split || s == donor))
                .map(|d| self.docs.get(d).map_or(0, Vec::len))
                .sum();
            cp.checkpoint().await;
            budget = match budget.checked_sub(rebuilt) {
                Some(left) => left,
                None => return Err(refuse(last_failure)),
            };
        }
        Err(refuse(last_failure))
    }

    /// The first negative kind (in [`PairKind::ALL`] order) of which the whole text has no
    /// fair pair at all, whatever the splits: then no split search can help, and the text is
    /// refused at once (megabytes of two alternating lines, one sentence over and over). Random
    /// and hard negatives need a sentence A (that has a next sentence) and some other sentence
    /// that never follows A; a swapped negative needs consecutive A, B where A never follows B.
    fn hopeless_kind(&self) -> Option<PairKind> {
        let mut successors: HashMap<u32, usize> = HashMap::new();
        for &(a, b) in &self.positives {
            if a != b {
                *successors.entry(a).or_default() += 1;
            }
        }
        let crossable = self.ids.iter().any(|doc| {
            doc.iter()
                .take(doc.len().saturating_sub(1))
                .any(|a| successors.get(a).copied().unwrap_or(0) + 1 < self.distinct)
        });
        if !crossable {
            return Some(PairKind::Random);
        }
        let swappable = self.ids.iter().any(|doc| {
            doc.windows(2).any(|w| match w {
                &[a, b] => a != b && !self.positives.contains(&(b, a)),
                _ => false,
            })
        });
        (!swappable).then_some(PairKind::Swapped)
    }

    /// Builds the pair sets of every split not yet `built`, in [`Split::ALL`] order, and
    /// returns the first split × kind with no pair (later splits are left for the next round).
    async fn first_failure(
        &self,
        splits: &[Split],
        built: &mut [Option<Vec<PairSet>>; 3],
        cp: &mut impl Checkpoint,
    ) -> Option<(Split, PairKind)> {
        for split in Split::ALL {
            let slot = built.get_mut(split as usize)?;
            if slot.is_none() {
                let members: Vec<usize> = (0..splits.len())
                    .filter(|&d| splits.get(d) == Some(&split))
                    .collect();
                let mut sets = Vec::with_capacity(PairKind::ALL.len());
                for kind in PairKind::ALL {
                    cp.checkpoint().await;
                    sets.push(self.pair_set(split, kind, &members));
                }
                *slot = Some(sets);
            }
            let sets = slot.as_deref().unwrap_or_default();
            if let Some(set) = sets.iter().find(|set| set.pairs.is_empty()) {
                return Some((split, set.kind));
            }
        }
        None
    }

    /// Moves up to `batch` documents to the split `to`, which has no pair set of `kind`, and
    /// returns the split that gave them (`None` if no split can spare one that helps: then no
    /// move can give `to` a fair negative it lacks). The donor is the
    /// split with the most documents that could help (then the largest); it gives those first,
    /// longest first. A document helps a swapped set if it has two consecutive sentences that
    /// never occur the other way round, a random or hard set if it has a sentence `to` lacks.
    fn move_documents(
        &self,
        splits: &mut [Split],
        to: Split,
        kind: PairKind,
        batch: usize,
    ) -> Option<Split> {
        // Which interned sentences `to` already has.
        let mut present = vec![false; self.distinct];
        for (doc, _) in self
            .ids
            .iter()
            .zip(splits.iter())
            .filter(|&(_, &s)| s == to)
        {
            for &id in doc {
                if let Some(flag) = present.get_mut(id as usize) {
                    *flag = true;
                }
            }
        }
        let helps = |d: usize| {
            let doc = self.ids.get(d).map_or(&[][..], Vec::as_slice);
            match kind {
                PairKind::Swapped => doc.windows(2).any(|w| match w {
                    &[a, b] => a != b && !self.positives.contains(&(b, a)),
                    _ => false,
                }),
                PairKind::Random | PairKind::Hard => doc
                    .iter()
                    .any(|&id| !present.get(id as usize).copied().unwrap_or(true)),
            }
        };
        let helpful: Vec<bool> = (0..splits.len())
            .map(|d| splits.get(d) != Some(&to) && helps(d))
            .collect();
        let count = |s: Split, only_helpful: bool| {
            (0..splits.len())
                .filter(|&d| {
                    splits.get(d) == Some(&s) && (!only_helpful || helpful.get(d) == Some(&true))
                })
                .count()
        };
        // A split that cannot spare a document, or has none that helps, is no donor.
        let donor = Split::ALL
            .into_iter()
            .filter(|&s| s != to && count(s, false) > MIN_SPLIT_DOCS && count(s, true) > 0)
            .max_by_key(|&s| (count(s, true), count(s, false), s == Split::Train))?;
        let mut candidates: Vec<usize> = (0..splits.len())
            .filter(|&d| splits.get(d) == Some(&donor))
            .collect();
        candidates.sort_by_key(|&d| {
            (
                std::cmp::Reverse(helpful.get(d).copied().unwrap_or(false)),
                std::cmp::Reverse(self.docs.get(d).map_or(0, Vec::len)),
                d,
            )
        });
        let spare = count(donor, false).saturating_sub(MIN_SPLIT_DOCS);
        for d in candidates.into_iter().take(batch.min(spare)) {
            if let Some(slot) = splits.get_mut(d) {
                *slot = to;
            }
        }
        Some(donor)
    }
}

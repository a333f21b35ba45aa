//! The directed evaluation pair sets of the support-desk corpus (the reranker task): label 1
//! iff B is the right resolution / answer / next sentence for A, in that order.
//!
//! Every set holds one negative kind and as many positives as negatives, so chance is 50% for
//! each kind, and the positive and negative items are made from different source pairs so no
//! item can be solved by spotting its twin. Sources: a ticket and its resolution, an FAQ
//! question and its answer, and two consecutive sentences inside one part (one genre, one
//! writer) — the last are 55% of every set, so at least half of each swapped set is a pair
//! whose order the writer's voice cannot give away.
//!
//! Negatives, per source:
//! - **random**: B from a document about another policy;
//! - **hard**: same topic, wrong match — another resolution for the same product and issue
//!   type (half the time one that takes a different action, else another customer's), another
//!   answer about the same policy, or a non-adjacent sentence of the same part; topic alone
//!   cannot decide it (the idea of ALBERT's SOP, Lan et al. 2020, applied to evaluation);
//! - **swapped**: (B, A).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::policy::Issue;
use super::{Document, EvalPair, Genre, PairKind, PairSet, PairSource, Split};
use crate::core::rng::{Rng, Stream};

/// Items per set (positives + negatives) in each split: enough held-out pairs per kind that an
/// accuracy's standard error is about 1.5 points and the shortcut audit scores 1,000 of them.
pub fn set_size(split: Split) -> usize {
    match split {
        Split::Train => 2000,
        Split::Validation | Split::Test => 1000,
    }
}

/// Share of consecutive-sentence sources in every set.
const CONSECUTIVE_SHARE: f64 = 0.55;
/// Share of FAQ sources among the rest (the others are ticket → resolution).
const FAQ_SHARE_OF_REST: f64 = 0.2;

#[derive(Debug, Clone, Copy)]
enum Source {
    TicketResolution(usize),
    QuestionAnswer(usize),
    /// Document, part, sentence index `i` (the pair is sentences `i`, `i + 1`).
    Consecutive(usize, usize, usize),
}

/// The documents of one split and the lookups the negatives need.
struct SplitIndex<'a> {
    docs: &'a [Document],
    members: Vec<usize>,
    tickets: Vec<usize>,
    faqs: Vec<usize>,
    consecutive: Vec<(usize, usize, usize)>,
    by_issue_product: HashMap<(Issue, &'a str), Vec<usize>>,
    /// Every true (A, B) pair of the whole corpus, hashed: a negative must not be one of them
    /// (formulaic sentences — "Kind regards, Sam." — follow many others).
    known: &'a HashSet<u64>,
}

fn pair_hash(a: &str, b: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (a, b).hash(&mut h);
    h.finish()
}

/// Hashes of every positive pair the corpus contains, in any split.
fn known_pairs(docs: &[Document]) -> HashSet<u64> {
    let mut known = HashSet::new();
    for doc in docs {
        for part in &doc.parts {
            for w in part.sentences.windows(2) {
                known.insert(pair_hash(&w[0], &w[1]));
            }
        }
        if let [first, second] = doc.parts.as_slice() {
            known.insert(pair_hash(&first.text(), &second.text()));
        }
    }
    known
}

impl<'a> SplitIndex<'a> {
    fn new(docs: &'a [Document], split: Split, known: &'a HashSet<u64>) -> Self {
        let mut index = Self {
            docs,
            known,
            members: Vec::new(),
            tickets: Vec::new(),
            faqs: Vec::new(),
            consecutive: Vec::new(),
            by_issue_product: HashMap::new(),
        };
        for (d, doc) in docs.iter().enumerate().filter(|(_, d)| d.split == split) {
            index.members.push(d);
            match (doc.parts.as_slice(), &doc.case) {
                ([t, r], Some(case))
                    if t.genre == Genre::Ticket && r.genre == Genre::Resolution =>
                {
                    index.tickets.push(d);
                    index
                        .by_issue_product
                        .entry((case.issue, case.product.as_str()))
                        .or_default()
                        .push(d);
                }
                ([q, a], _) if q.genre == Genre::Question && a.genre == Genre::Answer => {
                    index.faqs.push(d)
                }
                _ => {}
            }
            for (p, part) in doc.parts.iter().enumerate() {
                for i in 0..part.sentences.len().saturating_sub(1) {
                    index.consecutive.push((d, p, i));
                }
            }
        }
        index
    }

    fn texts(&self, source: Source) -> (String, String, Genre, usize) {
        match source {
            Source::TicketResolution(d) | Source::QuestionAnswer(d) => {
                let parts = &self.docs[d].parts;
                (parts[0].text(), parts[1].text(), parts[0].genre, d)
            }
            Source::Consecutive(d, p, i) => {
                let part = &self.docs[d].parts[p];
                (
                    part.sentences[i].clone(),
                    part.sentences[i + 1].clone(),
                    part.genre,
                    d,
                )
            }
        }
    }

    fn pick(&self, rng: &mut Rng, from: &[usize], ok: impl Fn(usize) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = from.iter().copied().filter(|&d| ok(d)).collect();
        (!candidates.is_empty()).then(|| candidates[rng.below(candidates.len())])
    }

    /// A sentence of genre `genre` from document `d` (any part of that genre).
    fn sentence_of(
        &self,
        rng: &mut Rng,
        d: usize,
        genre: Genre,
        at: Option<usize>,
    ) -> Option<String> {
        let parts: Vec<_> = self.docs[d]
            .parts
            .iter()
            .filter(|p| p.genre == genre && !p.sentences.is_empty())
            .collect();
        let part = parts.get(rng.below(parts.len()))?;
        let i = match at {
            Some(i) => i.min(part.sentences.len() - 1),
            None => rng.below(part.sentences.len()),
        };
        part.sentences.get(i).cloned()
    }

    fn random_b(&self, rng: &mut Rng, source: Source, true_b: &str) -> Option<String> {
        let (d0, genre) = match source {
            Source::TicketResolution(d) => (d, Genre::Resolution),
            Source::QuestionAnswer(d) => (d, Genre::Answer),
            Source::Consecutive(d, p, _) => (d, self.docs[d].parts[p].genre),
        };
        let policy = self.docs[d0].policy;
        let unrelated = |d: usize| d != d0 && (policy.is_none() || self.docs[d].policy != policy);
        let pool = match source {
            Source::TicketResolution(_) => &self.tickets,
            Source::QuestionAnswer(_) => &self.faqs,
            Source::Consecutive(..) => &self.members,
        };
        for _ in 0..8 {
            let d = self.pick(rng, pool, |d| {
                unrelated(d) && self.docs[d].parts.iter().any(|p| p.genre == genre)
            })?;
            let b = match source {
                Source::Consecutive(..) => self.sentence_of(rng, d, genre, None)?,
                _ => self.docs[d].parts.get(1)?.text(),
            };
            if b != true_b {
                return Some(b);
            }
        }
        None
    }

    fn hard_b(&self, rng: &mut Rng, source: Source, true_b: &str) -> Option<String> {
        let differs = |b: &String| b != true_b;
        match source {
            Source::TicketResolution(d0) => {
                let case = self.docs[d0].case.as_ref()?;
                let same = self
                    .by_issue_product
                    .get(&(case.issue, case.product.as_str()))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let other_action = |d: usize| {
                    self.docs[d]
                        .case
                        .as_ref()
                        .is_some_and(|c| c.action != case.action)
                };
                let chosen = if rng.below(2) == 0 {
                    self.pick(rng, same, |d| d != d0 && other_action(d))
                } else {
                    None
                }
                .or_else(|| self.pick(rng, same, |d| d != d0))
                .or_else(|| {
                    self.pick(rng, &self.tickets, |d| {
                        d != d0
                            && self.docs[d]
                                .case
                                .as_ref()
                                .is_some_and(|c| c.issue == case.issue)
                    })
                })?;
                self.docs[chosen]
                    .parts
                    .get(1)
                    .map(|p| p.text())
                    .filter(differs)
            }
            Source::QuestionAnswer(d0) => {
                let policy = self.docs[d0].policy;
                let chosen = self.pick(rng, &self.faqs, |d| {
                    d != d0
                        && self.docs[d].policy == policy
                        && self.docs[d]
                            .parts
                            .get(1)
                            .is_some_and(|p| p.text() != true_b)
                })?;
                self.docs[chosen].parts.get(1).map(|p| p.text())
            }
            Source::Consecutive(d0, p, i) => {
                let part = &self.docs[d0].parts[p];
                let far: Vec<usize> = (0..part.sentences.len())
                    .filter(|&j| j.abs_diff(i) >= 2 && part.sentences[j] != true_b)
                    .collect();
                if !far.is_empty() {
                    return Some(part.sentences[far[rng.below(far.len())]].clone());
                }
                // A short part: the sentence in the same slot of another document on the
                // same policy, in the same genre.
                let policy = self.docs[d0].policy;
                for _ in 0..8 {
                    let d = self.pick(rng, &self.members, |d| {
                        d != d0
                            && self.docs[d].policy == policy
                            && self.docs[d].parts.iter().any(|q| q.genre == part.genre)
                    })?;
                    if let Some(b) = self.sentence_of(rng, d, part.genre, Some(i + 1))
                        && b != true_b
                    {
                        return Some(b);
                    }
                }
                None
            }
        }
    }
}

fn source_kind(source: Source) -> PairSource {
    match source {
        Source::TicketResolution(_) => PairSource::TicketResolution,
        Source::QuestionAnswer(_) => PairSource::QuestionAnswer,
        Source::Consecutive(..) => PairSource::Consecutive,
    }
}

/// Draws `count` sources with the set's composition.
fn draw_sources(index: &SplitIndex, count: usize, rng: &mut Rng) -> Vec<Source> {
    let take = |items: Vec<Source>, n: usize, rng: &mut Rng| {
        let mut items = items;
        rng.shuffle(&mut items);
        items.truncate(n);
        items
    };
    let n_consecutive = (count as f64 * CONSECUTIVE_SHARE).ceil() as usize;
    let rest = count.saturating_sub(n_consecutive);
    let n_faq = (rest as f64 * FAQ_SHARE_OF_REST).round() as usize;
    let n_tickets = rest - n_faq;
    let mut sources = take(
        index
            .consecutive
            .iter()
            .map(|&(d, p, i)| Source::Consecutive(d, p, i))
            .collect(),
        n_consecutive,
        rng,
    );
    sources.extend(take(
        index
            .tickets
            .iter()
            .map(|&d| Source::TicketResolution(d))
            .collect(),
        n_tickets,
        rng,
    ));
    sources.extend(take(
        index
            .faqs
            .iter()
            .map(|&d| Source::QuestionAnswer(d))
            .collect(),
        n_faq,
        rng,
    ));
    rng.shuffle(&mut sources);
    sources
}

fn build_set(index: &SplitIndex, split: Split, kind: PairKind, rng: &mut Rng) -> PairSet {
    let half = set_size(split) / 2;
    // Positives and negatives from different sources, with a reserve for negatives that
    // cannot be made (a hard negative needs a same-topic neighbour).
    let sources = draw_sources(index, 2 * half + half / 2, rng);
    let (pos_sources, neg_sources) = sources.split_at(half.min(sources.len()));
    let item = |source: Source, label: u8, a: String, b: String, genre: Genre, d: usize| EvalPair {
        kind,
        label,
        a,
        b,
        source: source_kind(source),
        genre,
        doc: index.docs[d].id.clone(),
    };
    let mut positives: Vec<EvalPair> = pos_sources
        .iter()
        .map(|&s| {
            let (a, b, genre, d) = index.texts(s);
            item(s, 1, a, b, genre, d)
        })
        .collect();
    let mut negatives = Vec::with_capacity(half);
    for &s in neg_sources {
        if negatives.len() == positives.len() {
            break;
        }
        let (a, b, genre, d) = index.texts(s);
        let negative = match kind {
            PairKind::Random => index.random_b(rng, s, &b).map(|nb| (a, nb)),
            PairKind::Hard => index.hard_b(rng, s, &b).map(|nb| (a, nb)),
            PairKind::Swapped => (a != b).then_some((b, a)),
        };
        if let Some((na, nb)) = negative
            && na != nb
            && !index.known.contains(&pair_hash(&na, &nb))
        {
            negatives.push(item(s, 0, na, nb, genre, d));
        }
    }
    positives.truncate(negatives.len());
    let mut pairs = positives;
    pairs.extend(negatives);
    rng.shuffle(&mut pairs);
    PairSet { split, kind, pairs }
}

/// One balanced set per split × kind, each from its split's documents only.
pub fn support_pair_sets(documents: &[Document], corpus_seed: u64) -> Vec<PairSet> {
    let mut sets = Vec::new();
    let known = known_pairs(documents);
    for (s, split) in Split::ALL.into_iter().enumerate() {
        let index = SplitIndex::new(documents, split, &known);
        for (k, kind) in PairKind::ALL.into_iter().enumerate() {
            let salt = (s * PairKind::ALL.len() + k + 1) as u64;
            let mut rng = Rng::for_stream(
                corpus_seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                Stream::Pairs,
            );
            sets.push(build_set(&index, split, kind, &mut rng));
        }
    }
    sets
}

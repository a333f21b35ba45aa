//! The data world: the text a run pre-trains on and the pair sets it is judged on.
//!
//! Two sources feed one shape. The default is the embedded **support-desk corpus**
//! ([`support`]): a fictional shop with written policies, customer tickets and the resolutions
//! that apply those policies, policy articles and FAQ pairs — generated deterministically from
//! the corpus seed. The other is **your own text** ([`custom`]), pasted or uploaded in the page
//! or given to the CLI with `--corpus FILE`. Both become a [`Corpus`]: documents made of parts
//! (a ticket, its resolution, an article…), each part a list of sentences, assigned to the
//! train / validation / test splits, plus
//! - the directed **evaluation pair sets** of the reranker task ([`PairSet`]): label 1 iff B is
//!   the right resolution / answer / next segment for A, in that order; one balanced set per
//!   split × negative kind (random, hard, swapped), so chance is 50% for every kind;
//! - the **consecutive-segment pairs** that NSP and SOP pre-train on ([`SegmentPair`]).
//!
//! The policy table lives in [`policy`], the compliance checker that later scores generated
//! replies in [`compliance`], the JSON Lines export and the corpus fingerprint in [`export`].

pub mod compliance;
pub mod custom;
pub mod export;
pub mod pairs;
pub mod policy;
pub mod support;
pub mod view;

use serde::{Deserialize, Serialize};

use policy::{Action, Circumstance, Issue, Policy};

use crate::core::error::CoreError;
use crate::core::exec::{Checkpoint, NoYield, run_ready};

/// What a run trains on, as the page, the CLI and the worker protocol name it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorpusInput {
    /// The embedded support-desk corpus (the corpus seed picks which).
    #[default]
    Support,
    /// A student's own text: a file name (or `pasted text`) and the text itself.
    Custom { name: String, text: String },
}

impl CorpusInput {
    /// Builds the corpus; a student's text is checked against what `needs` asks for.
    pub fn build(&self, corpus_seed: u64, needs: custom::Needs) -> Result<Corpus, CoreError> {
        run_ready(self.build_cooperatively(corpus_seed, needs, &mut NoYield))
    }

    /// [`Self::build`], awaiting `cp` between short stretches of work (see
    /// [`custom::build_cooperatively`]). Same result.
    pub async fn build_cooperatively(
        &self,
        corpus_seed: u64,
        needs: custom::Needs,
        cp: &mut impl Checkpoint,
    ) -> Result<Corpus, CoreError> {
        match self {
            CorpusInput::Support => Ok(support::standard(corpus_seed)),
            CorpusInput::Custom { name, text } => {
                Ok(custom::build_cooperatively(text, name, corpus_seed, needs, cp).await?)
            }
        }
    }

    /// A short description for the page and the terminal.
    pub fn describe(&self, corpus_seed: u64) -> String {
        match self {
            CorpusInput::Support => format!("the support-desk corpus (corpus seed {corpus_seed})"),
            CorpusInput::Custom { name, text } => format!("{name} ({} bytes)", text.len()),
        }
    }
}

/// Which split a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of writing a part is. A swapped pair inside one part keeps one genre, so the
/// writer's voice cannot give its order away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Genre {
    /// A customer's message to support.
    Ticket,
    /// Support's reply to a ticket, applying the policy.
    Resolution,
    /// A help-centre article explaining one policy.
    Article,
    /// An FAQ question.
    Question,
    /// The FAQ answer to the question before it.
    Answer,
    /// Text a student brought.
    Text,
}

impl Genre {
    pub const ALL: [Genre; 6] = [
        Genre::Ticket,
        Genre::Resolution,
        Genre::Article,
        Genre::Question,
        Genre::Answer,
        Genre::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Genre::Ticket => "ticket",
            Genre::Resolution => "resolution",
            Genre::Article => "article",
            Genre::Question => "question",
            Genre::Answer => "answer",
            Genre::Text => "text",
        }
    }
}

/// One part of a document: a run of sentences in one genre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub genre: Genre,
    pub sentences: Vec<String>,
}

impl Part {
    pub fn new(genre: Genre, sentences: Vec<String>) -> Self {
        Self { genre, sentences }
    }

    /// The part as running text (sentences joined by one space).
    pub fn text(&self) -> String {
        self.sentences.join(" ")
    }
}

/// The facts behind a support ticket: what it is about and what the policy requires. Only
/// the support-desk corpus has them; the compliance checker and the hard negatives use them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCase {
    /// Product id from the catalogue (e.g. `kettle`).
    pub product: String,
    pub issue: Issue,
    pub circumstance: Circumstance,
    pub policy: Policy,
    /// The action the policy requires for this issue and circumstance.
    pub action: Action,
    /// The customer's name as written in the ticket.
    pub customer: String,
    /// The order number as written in the ticket (digits only).
    pub order: String,
}

/// One document: a ticket with its resolution (two parts, in that order), an article, an FAQ
/// question with its answer, or a stretch of a student's own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id within the corpus, e.g. `ticket-00042`.
    pub id: String,
    pub split: Split,
    pub parts: Vec<Part>,
    /// The policy a support-desk document is about (tickets, articles, FAQ entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Present for tickets of the support-desk corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<TicketCase>,
}

impl Document {
    /// The genre of the document as a whole: that of its first part.
    pub fn genre(&self) -> Genre {
        self.parts.first().map_or(Genre::Text, |p| p.genre)
    }

    pub fn sentence_count(&self) -> usize {
        self.parts.iter().map(|p| p.sentences.len()).sum()
    }
}

/// The negative kinds of the reranker evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairKind {
    /// B comes from an unrelated document.
    Random,
    /// Same topic, wrong match: for tickets, same product and issue type but the wrong action
    /// or another customer's resolution; for running text, a non-adjacent segment of the same
    /// document or the most similar segment of another. Topic alone cannot decide it.
    Hard,
    /// (B, A): the right two texts in the wrong order.
    Swapped,
}

impl PairKind {
    pub const ALL: [PairKind; 3] = [PairKind::Random, PairKind::Hard, PairKind::Swapped];

    pub fn name(self) -> &'static str {
        match self {
            PairKind::Random => "random",
            PairKind::Hard => "hard",
            PairKind::Swapped => "swapped",
        }
    }
}

/// Where the two texts of a positive pair come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// A ticket and its resolution.
    TicketResolution,
    /// An FAQ question and its answer.
    QuestionAnswer,
    /// Two consecutive segments inside one part (one genre, one writer).
    Consecutive,
}

/// One directed evaluation pair: is B the right follow-up to A, in that order?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalPair {
    pub kind: PairKind,
    /// 1 iff B is the right resolution / answer / next segment for A, in that order.
    pub label: u8,
    pub a: String,
    pub b: String,
    /// Where the positive this pair was made from comes from.
    pub source: PairSource,
    /// Genre of the part(s) the texts come from; for `consecutive` both texts share it.
    pub genre: Genre,
    /// Document the A text comes from.
    pub doc: String,
}

/// One balanced evaluation set: as many positives as negatives, all of one negative kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSet {
    pub split: Split,
    pub kind: PairKind,
    pub pairs: Vec<EvalPair>,
}

impl PairSet {
    pub fn positives(&self) -> usize {
        self.pairs.iter().filter(|p| p.label == 1).count()
    }

    pub fn negatives(&self) -> usize {
        self.pairs.iter().filter(|p| p.label == 0).count()
    }

    pub fn is_balanced(&self) -> bool {
        !self.pairs.is_empty() && self.positives() == self.negatives()
    }

    /// Pairs whose texts are consecutive segments inside one part of one genre.
    pub fn within_genre(&self) -> usize {
        self.pairs
            .iter()
            .filter(|p| p.source == PairSource::Consecutive)
            .count()
    }
}

/// Two consecutive segments of one training document — what NSP and SOP pre-train on (the
/// objectives make their own negatives from these with the run seed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPair {
    pub doc: String,
    pub genre: Genre,
    pub a: String,
    pub b: String,
}

/// Where a corpus came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorpusSource {
    /// The embedded support-desk corpus for this corpus seed.
    Support { corpus_seed: u64 },
    /// A student's text (name of the file, or `pasted text`), split with this corpus seed.
    Custom {
        name: String,
        bytes: usize,
        corpus_seed: u64,
    },
}

/// A corpus ready for tokenization, pre-training and pair evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Corpus {
    pub source: CorpusSource,
    pub documents: Vec<Document>,
    pub pair_sets: Vec<PairSet>,
    /// Consecutive-segment pairs of the training split.
    pub segment_pairs: Vec<SegmentPair>,
    /// For a student's text: what happened to its line breaks (how it was split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_report: Option<custom::lines::LineReport>,
}

impl Corpus {
    /// Where the corpus came from, in the words [`CorpusInput::describe`] uses.
    pub fn describe(&self) -> String {
        match &self.source {
            CorpusSource::Support { corpus_seed } => CorpusInput::Support.describe(*corpus_seed),
            CorpusSource::Custom { name, bytes, .. } => format!("{name} ({bytes} bytes)"),
        }
    }

    pub fn split(&self, split: Split) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(move |d| d.split == split)
    }

    pub fn pair_set(&self, split: Split, kind: PairKind) -> Option<&PairSet> {
        self.pair_sets
            .iter()
            .find(|s| s.split == split && s.kind == kind)
    }

    pub fn sentence_count(&self) -> usize {
        self.documents.iter().map(Document::sentence_count).sum()
    }
}

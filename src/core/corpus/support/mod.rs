//! The embedded support-desk corpus: Brightwater Goods, a fictional shop, its written policies
//! ([`super::policy`]), and the text its support desk produces — tickets with their
//! resolutions, help-centre articles, FAQ entries — generated deterministically from the corpus
//! seed in a few tens of milliseconds, so the page builds it on the spot.
//!
//! **Held-out combinations.** A ticket is an instance of a (product, circumstance) combination
//! (the circumstance fixes the issue, so this is product × issue × circumstance). For every
//! circumstance, about a tenth of the products it applies to are reserved for validation and
//! another tenth for test; tickets of those combinations appear only there. So validation and
//! test ask for the policy applied to combinations training never showed — a model that
//! memorised (product, issue) → action templates fails there, one that learned the rule does not.
//! Articles and FAQ entries, which are about policies rather than combinations, are split
//! 80/10/10 at random.

mod catalogue;
mod kb;
mod tickets;

use std::collections::{HashMap, HashSet};

use super::pairs::support_pair_sets;
use super::policy::{Circumstance, Issue};
use super::{Corpus, CorpusSource, Document, Genre, Part, SegmentPair, Split, TicketCase};
use crate::core::rng::{Rng, Stream};
use catalogue::{CUSTOMERS, PRODUCTS, Product, ProductKind, pick};

pub use catalogue::PRODUCTS as CATALOGUE;

/// How much text to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportSize {
    pub tickets: usize,
    pub articles: usize,
    pub faqs: usize,
}

impl SupportSize {
    /// The lab's corpus: ~37k sentences, ~0.45M words; the lecture budget sees the training
    /// split about once.
    pub const STANDARD: Self = Self {
        tickets: 5000,
        articles: 240,
        faqs: 600,
    };
}

/// Whether a ticket about `c` can be about `product`.
pub fn applies(product: &Product, c: Circumstance) -> bool {
    match (c.issue(), product.kind) {
        (Issue::Security | Issue::Billing, _) => true,
        (Issue::Subscription, kind) => kind == ProductKind::Subscription,
        (Issue::Safety, ProductKind::Physical { electric }) => electric,
        (_, kind) => kind != ProductKind::Subscription,
    }
}

/// Which split each (product id, circumstance) combination belongs to.
pub fn combination_splits(corpus_seed: u64) -> HashMap<(&'static str, Circumstance), Split> {
    let mut rng = Rng::for_stream(corpus_seed, Stream::Corpus);
    let mut splits = HashMap::new();
    for issue in Issue::ALL {
        for &c in issue.circumstances() {
            let mut products: Vec<&'static str> = PRODUCTS
                .iter()
                .filter(|p| applies(p, c))
                .map(|p| p.id)
                .collect();
            rng.shuffle(&mut products);
            let held = (products.len() / 10).max(1);
            for (i, id) in products.into_iter().enumerate() {
                let split = if i < held {
                    Split::Test
                } else if i < 2 * held {
                    Split::Validation
                } else {
                    Split::Train
                };
                splits.insert((id, c), split);
            }
        }
    }
    splits
}

fn random_split(rng: &mut Rng) -> Split {
    match rng.below(10) {
        0 => Split::Test,
        1 => Split::Validation,
        _ => Split::Train,
    }
}

/// Generates the documents (all splits) for `corpus_seed`.
pub fn documents(corpus_seed: u64, size: SupportSize) -> Vec<Document> {
    let splits = combination_splits(corpus_seed);
    let mut rng = Rng::for_stream(corpus_seed.wrapping_add(1), Stream::Corpus);
    let mut orders = HashSet::new();
    let mut docs = Vec::with_capacity(size.tickets + size.articles + size.faqs);
    for i in 0..size.tickets {
        let issue = pick(&mut rng, &Issue::ALL);
        let c = pick(&mut rng, issue.circumstances());
        let candidates: Vec<&Product> = PRODUCTS.iter().filter(|p| applies(p, c)).collect();
        let product = pick(&mut rng, &candidates);
        let customer = pick(&mut rng, CUSTOMERS);
        let order = loop {
            let n = 10_000 + rng.below(90_000);
            if orders.insert(n) {
                break n.to_string();
            }
        };
        let rendered = tickets::write(product, c, customer, &order, &mut rng);
        docs.push(Document {
            id: format!("ticket-{i:05}"),
            split: splits
                .get(&(product.id, c))
                .copied()
                .unwrap_or(Split::Train),
            parts: vec![
                Part::new(Genre::Ticket, rendered.ticket),
                Part::new(Genre::Resolution, rendered.resolution),
            ],
            policy: Some(issue.policy()),
            case: Some(TicketCase {
                product: product.id.to_string(),
                issue,
                circumstance: c,
                policy: issue.policy(),
                action: c.action(),
                customer: customer.to_string(),
                order,
            }),
        });
    }
    for i in 0..size.articles {
        let policy = super::policy::Policy::ALL[i % super::policy::Policy::ALL.len()];
        docs.push(Document {
            id: format!("article-{i:04}"),
            split: random_split(&mut rng),
            parts: vec![Part::new(Genre::Article, kb::article(policy, &mut rng))],
            policy: Some(policy),
            case: None,
        });
    }
    for i in 0..size.faqs {
        let c = kb::faq_circumstance(&mut rng);
        let (question, answer) = kb::faq(c, &mut rng);
        docs.push(Document {
            id: format!("faq-{i:04}"),
            split: random_split(&mut rng),
            parts: vec![
                Part::new(Genre::Question, question),
                Part::new(Genre::Answer, answer),
            ],
            policy: Some(c.issue().policy()),
            case: None,
        });
    }
    docs
}

/// Consecutive sentences inside one part of each training document.
pub fn segment_pairs(documents: &[Document]) -> Vec<SegmentPair> {
    let mut pairs = Vec::new();
    for doc in documents.iter().filter(|d| d.split == Split::Train) {
        for part in &doc.parts {
            for w in part.sentences.windows(2) {
                pairs.push(SegmentPair {
                    doc: doc.id.clone(),
                    genre: part.genre,
                    a: w[0].clone(),
                    b: w[1].clone(),
                });
            }
        }
    }
    pairs
}

/// The whole support-desk corpus for `corpus_seed`: documents, evaluation pair sets and the
/// NSP/SOP segment pairs.
pub fn generate(corpus_seed: u64, size: SupportSize) -> Corpus {
    let documents = documents(corpus_seed, size);
    let pair_sets = support_pair_sets(&documents, corpus_seed);
    let segment_pairs = segment_pairs(&documents);
    Corpus {
        source: CorpusSource::Support { corpus_seed },
        documents,
        pair_sets,
        segment_pairs,
        line_report: None,
    }
}

/// The standard corpus of the lab for `corpus_seed`.
pub fn standard(corpus_seed: u64) -> Corpus {
    generate(corpus_seed, SupportSize::STANDARD)
}

#[cfg(test)]
mod tests;

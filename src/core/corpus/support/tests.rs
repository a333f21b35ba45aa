use std::collections::HashSet;

use super::*;
use crate::core::corpus::{PairKind, PairSource};

fn small(seed: u64) -> Corpus {
    generate(
        seed,
        SupportSize {
            tickets: 1500,
            articles: 60,
            faqs: 150,
        },
    )
}

#[test]
fn same_seed_same_corpus_other_seed_other_corpus() {
    let a = small(1);
    assert_eq!(a, small(1));
    assert_ne!(a.documents, small(2).documents);
}

#[test]
fn standard_corpus_has_tens_of_thousands_of_sentences_and_no_template_leftovers() {
    let corpus = standard(1);
    let sentences = corpus.sentence_count();
    assert!(sentences >= 30_000, "{sentences} sentences");
    for doc in &corpus.documents {
        for part in &doc.parts {
            assert!(!part.sentences.is_empty(), "{}", doc.id);
            for s in &part.sentences {
                assert!(!s.contains('{') && !s.contains('}'), "{}: {s}", doc.id);
                assert!(!s.trim().is_empty() && s.trim() == s, "{}: {s:?}", doc.id);
            }
        }
    }
    let distinct: HashSet<String> = corpus
        .documents
        .iter()
        .filter(|d| d.case.is_some())
        .map(|d| d.parts[0].text())
        .collect();
    let tickets = corpus.documents.iter().filter(|d| d.case.is_some()).count();
    assert_eq!(
        distinct.len(),
        tickets,
        "every ticket is worded differently"
    );
}

#[test]
fn splits_share_no_ticket_instance_and_held_out_combinations_never_train() {
    let corpus = standard(1);
    let mut seen_text: HashMap<String, Split> = HashMap::new();
    let mut seen_order: HashMap<String, Split> = HashMap::new();
    let mut train_combos = HashSet::new();
    let mut held_combos: HashMap<Split, HashSet<(String, Circumstance)>> = HashMap::new();
    for doc in &corpus.documents {
        let Some(case) = &doc.case else { continue };
        for (key, map) in [
            (doc.parts[0].text(), &mut seen_text),
            (case.order.clone(), &mut seen_order),
        ] {
            if let Some(other) = map.insert(key.clone(), doc.split) {
                assert_eq!(other, doc.split, "ticket instance {key} is in two splits");
            }
        }
        let combo = (case.product.clone(), case.circumstance);
        match doc.split {
            Split::Train => {
                train_combos.insert(combo);
            }
            split => {
                held_combos.entry(split).or_default().insert(combo);
            }
        }
    }
    for split in [Split::Validation, Split::Test] {
        let held = &held_combos[&split];
        assert!(
            held.is_disjoint(&train_combos),
            "{split} combination seen in training"
        );
        // Every circumstance is asked about in every held-out split.
        let circumstances: HashSet<_> = held.iter().map(|(_, c)| *c).collect();
        assert_eq!(circumstances.len(), 24, "{split}");
    }
    assert!(held_combos[&Split::Validation].is_disjoint(&held_combos[&Split::Test]));
}

#[test]
fn splits_have_the_expected_shares() {
    let corpus = standard(3);
    let count = |s| corpus.split(s).count() as f64 / corpus.documents.len() as f64;
    assert!(count(Split::Train) > 0.7, "{}", count(Split::Train));
    for s in [Split::Validation, Split::Test] {
        assert!((0.05..0.2).contains(&count(s)), "{s}: {}", count(s));
    }
}

#[test]
fn pair_sets_are_balanced_per_kind_and_mostly_within_one_genre() {
    let corpus = standard(1);
    assert_eq!(corpus.pair_sets.len(), 9);
    for set in &corpus.pair_sets {
        assert!(set.is_balanced(), "{} {:?}", set.split, set.kind);
        assert_eq!(
            set.pairs.len(),
            crate::core::corpus::pairs::set_size(set.split)
        );
        assert!(
            2 * set.within_genre() >= set.pairs.len(),
            "{} {:?}: {} of {} within one genre",
            set.split,
            set.kind,
            set.within_genre(),
            set.pairs.len()
        );
        for pair in &set.pairs {
            assert_eq!(pair.kind, set.kind);
            if pair.label == 0 {
                assert_ne!(pair.a, pair.b);
            }
        }
        // Every pair comes from its own split.
        let ids: HashSet<&str> = corpus.split(set.split).map(|d| d.id.as_str()).collect();
        assert!(set.pairs.iter().all(|p| ids.contains(p.doc.as_str())));
    }
}

#[test]
fn negatives_are_of_their_kind() {
    let corpus = standard(2);
    let positives: HashSet<(String, String)> = corpus
        .pair_sets
        .iter()
        .flat_map(|s| s.pairs.iter())
        .filter(|p| p.label == 1)
        .map(|p| (p.a.clone(), p.b.clone()))
        .collect();
    let resolutions: HashMap<String, &Document> = corpus
        .documents
        .iter()
        .filter(|d| d.case.is_some())
        .map(|d| (d.parts[1].text(), d))
        .collect();
    let tickets: HashMap<String, &Document> = corpus
        .documents
        .iter()
        .filter(|d| d.case.is_some())
        .map(|d| (d.parts[0].text(), d))
        .collect();
    for set in &corpus.pair_sets {
        for pair in set.pairs.iter().filter(|p| p.label == 0) {
            assert!(!positives.contains(&(pair.a.clone(), pair.b.clone())));
            if set.kind == PairKind::Hard && pair.source == PairSource::TicketResolution {
                let t = tickets[&pair.a].case.as_ref().expect("case");
                let r = resolutions[&pair.b].case.as_ref().expect("case");
                assert_eq!(t.issue, r.issue, "hard negatives stay on topic");
                assert_ne!(t.order, r.order);
            }
            if set.kind == PairKind::Random && pair.source == PairSource::TicketResolution {
                let t = tickets[&pair.a].case.as_ref().expect("case");
                let r = resolutions[&pair.b].case.as_ref().expect("case");
                assert_ne!(t.policy, r.policy, "random negatives are off topic");
            }
        }
    }
}

#[test]
fn resolutions_name_the_customer_and_segment_pairs_come_from_training() {
    let corpus = small(4);
    for doc in corpus.documents.iter().filter(|d| d.case.is_some()) {
        let case = doc.case.as_ref().expect("case");
        assert!(
            doc.parts[1].sentences[0].contains(&case.customer),
            "{}",
            doc.id
        );
        assert!(doc.parts[0].text().contains(&case.order), "{}", doc.id);
    }
    let train: HashSet<&str> = corpus.split(Split::Train).map(|d| d.id.as_str()).collect();
    assert!(!corpus.segment_pairs.is_empty());
    assert!(
        corpus
            .segment_pairs
            .iter()
            .all(|p| train.contains(p.doc.as_str()))
    );
}

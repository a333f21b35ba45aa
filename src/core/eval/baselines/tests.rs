use super::bow::*;
use super::replies::*;
use super::surface::surface_baseline;
use crate::core::corpus::policy::{Circumstance, Issue};
use crate::core::corpus::{
    Corpus, CorpusSource, Document, EvalPair, Genre, PairKind, PairSource, Part, Split, TicketCase,
    support,
};

fn ticket(id: &str, split: Split, c: Circumstance, ticket: &str, resolution: &str) -> Document {
    let issue = c.issue();
    Document {
        id: id.to_string(),
        split,
        parts: vec![
            Part::new(Genre::Ticket, vec![ticket.to_string()]),
            Part::new(Genre::Resolution, vec![resolution.to_string()]),
        ],
        policy: Some(issue.policy()),
        case: Some(TicketCase {
            product: "kettle".to_string(),
            issue,
            circumstance: c,
            policy: issue.policy(),
            action: c.action(),
            customer: "Sam".to_string(),
            order: "12345".to_string(),
        }),
    }
}

fn corpus(documents: Vec<Document>) -> Corpus {
    Corpus {
        source: CorpusSource::Support { corpus_seed: 0 },
        documents,
        pair_sets: Vec::new(),
        segment_pairs: Vec::new(),
        line_report: None,
    }
}

fn pair(a: &str, b: &str, label: u8) -> EvalPair {
    EvalPair {
        kind: PairKind::Swapped,
        label,
        a: a.to_string(),
        b: b.to_string(),
        source: PairSource::QuestionAnswer,
        genre: Genre::Question,
        doc: "faq-0000".to_string(),
    }
}

#[test]
fn words_are_lowercase_runs_of_letters_and_digits() {
    let w: Vec<String> = words("Hi Sam, it's order #123!").collect();
    assert_eq!(w, ["hi", "sam", "it", "s", "order", "123"]);
    assert_eq!(words("…!?").count(), 0);
}

#[test]
fn the_vectorizer_keeps_the_most_frequent_terms_with_smoothed_idf() {
    // Occurrences: a 4, b 1, c 1, d 1; with three terms kept, d (last alphabetically) goes.
    let v = BowVectorizer::fit(["a b", "a c", "A a d"], 3).expect("fits");
    assert_eq!(v.terms(), ["a", "b", "c"]);
    // a is in all 3 texts: idf ln(4/4) + 1 = 1; b in one: ln(4/2) + 1.
    let idf_b = 2.0f64.ln() + 1.0;
    let norm = (1.0 + idf_b * idf_b).sqrt();
    let sparse = v.sparse("b, A!");
    assert_eq!(sparse.len(), 2);
    assert!((sparse[0].1 - 1.0 / norm).abs() < 1e-12 && sparse[0].0 == 0);
    assert!((sparse[1].1 - idf_b / norm).abs() < 1e-12 && sparse[1].0 == 1);
    // Counts multiply: "a a" is still the unit vector along a.
    assert_eq!(v.dense("a a"), vec![1.0, 0.0, 0.0]);
    assert_eq!(v.sparse("d zzz"), vec![]);
    assert_eq!(v.dense(""), vec![0.0; 3]);
    assert!(BowVectorizer::fit(["", "?!"], 10).is_err());
}

#[test]
fn pair_rows_are_symmetric_for_bow_and_ordered_for_bow_ordered() {
    let (a, b) = ([1.0, 0.0, 2.0], [0.0, 3.0, 2.0]);
    assert_eq!(
        PairFeatures::Bow.row(&a, &b),
        vec![1.0, 3.0, 0.0, 0.0, 0.0, 4.0]
    );
    assert_eq!(PairFeatures::Bow.row(&a, &b), PairFeatures::Bow.row(&b, &a));
    assert_eq!(
        PairFeatures::BowOrdered.row(&a, &b),
        vec![1.0, 0.0, 2.0, 0.0, 3.0, 2.0]
    );
    assert_eq!(PairFeatures::BowOrdered.name(), "bow-ordered");
    assert_eq!(
        serde_json::to_string(&PairFeatures::BowOrdered).expect("json"),
        "\"bow-ordered\""
    );
}

#[test]
fn only_the_ordered_probe_can_tell_a_swapped_pair() {
    // Questions start with "where"/"when", answers with "it"/"we": order is in the words.
    let questions = [
        "where is my parcel",
        "when does it ship",
        "where is the lamp",
    ];
    let answers = [
        "it left the depot",
        "we ship on monday",
        "it is in the post",
    ];
    let mut fit = Vec::new();
    for round in 0..4 {
        for (k, (q, a)) in questions.iter().zip(answers).enumerate() {
            if (k + round) % 2 == 0 {
                fit.push(pair(q, a, 1));
            } else {
                fit.push(pair(a, q, 0));
            }
        }
    }
    let held = vec![
        pair("where is my kettle", "it is on its way", 1),
        pair("we refunded you", "when is my refund", 0),
    ];
    let texts: Vec<&str> = questions.iter().chain(&answers).copied().collect();
    let v = BowVectorizer::fit(texts, MAX_TERMS).expect("fits");
    let lines = pair_baselines(&v, &fit, &held).expect("scores");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].features, PairFeatures::Bow);
    assert_eq!(lines[1].features, PairFeatures::BowOrdered);
    assert_eq!(lines[1].score.accuracy, 1.0);
    assert_eq!(lines[1].score.auc, 1.0);
    // The symmetric probe gives a pair and its swap the same score: AUC ½ on a swapped set
    // built from one pair both ways.
    let both = vec![
        pair("where is my parcel", "it left the depot", 1),
        pair("it left the depot", "where is my parcel", 0),
    ];
    let lines = pair_baselines(&v, &fit, &both).expect("scores");
    assert_eq!(lines[0].score.auc, 0.5);
    assert_eq!(lines[1].score.auc, 1.0);
    // Held-out pairs of one label cannot be scored.
    let one_label = vec![pair("where is my parcel", "it left the depot", 1)];
    assert!(pair_baselines(&v, &fit, &one_label).is_err());
}

#[test]
fn the_majority_baseline_takes_the_issues_most_required_action() {
    use Circumstance::*;
    let docs = vec![
        ticket(
            "t0",
            Split::Train,
            WithinWindow,
            "I want to return it.",
            "Refund, b.",
        ),
        ticket(
            "t1",
            Split::Train,
            WithinWindow,
            "Return please.",
            "Refund, a.",
        ),
        ticket(
            "t2",
            Split::Train,
            AfterWindow,
            "Return after 60 days.",
            "A decline.",
        ),
        ticket(
            "t3",
            Split::Train,
            AfterWindow,
            "Return, late.",
            "A decline.",
        ),
        ticket(
            "t4",
            Split::Train,
            AfterWindow,
            "Late return again.",
            "Another decline.",
        ),
        ticket(
            "t5",
            Split::Test,
            WithinWindow,
            "Can I return this?",
            "Refund.",
        ),
        ticket("t6", Split::Test, ChargedTwice, "Charged twice!", "Refund."),
    ];
    let majority = MajorityAction::fit(&corpus(docs.clone())).expect("fits");
    // Returns: decline (3) beats refund (2); among declines "A decline." occurs twice.
    assert_eq!(
        majority.action(Issue::Return),
        crate::core::corpus::policy::Action::Decline
    );
    assert_eq!(majority.reply(&docs[5]), Some("A decline."));
    // Billing has no training ticket: the choice over all training tickets.
    assert_eq!(majority.reply(&docs[6]), Some("A decline."));
    // Equal counts: the first action in order (refund), then the alphabetically first text.
    let tie = MajorityAction::fit(&corpus(docs[..3].to_vec())).expect("fits");
    assert_eq!(tie.reply(&docs[5]), Some("Refund, a."));
    let article = Document {
        id: "article-0000".to_string(),
        split: Split::Test,
        parts: vec![Part::new(Genre::Article, vec!["Returns.".to_string()])],
        policy: None,
        case: None,
    };
    assert_eq!(majority.reply(&article), None);
    assert!(MajorityAction::fit(&corpus(vec![article])).is_err());
}

#[test]
fn retrieval_answers_with_the_nearest_training_tickets_resolution() {
    use Circumstance::*;
    let docs = vec![
        ticket(
            "t0",
            Split::Train,
            InWarranty,
            "My kettle leaks from the base.",
            "Kettle.",
        ),
        ticket(
            "t1",
            Split::Train,
            TrackingStalled,
            "The lamp parcel is stuck.",
            "Lamp.",
        ),
        ticket(
            "t2",
            Split::Test,
            InWarranty,
            "The base of my kettle leaks.",
            "True.",
        ),
        ticket(
            "t3",
            Split::Test,
            TrackingStalled,
            "Parcel stuck, lamp missing.",
            "True.",
        ),
        ticket("t4", Split::Test, TrackingStalled, "Zzz qqq.", "True."),
    ];
    let nearest = RetrieveNearest::fit(&corpus(docs.clone())).expect("fits");
    assert_eq!(nearest.reply(&docs[2]), Some("Kettle."));
    assert_eq!(nearest.reply(&docs[3]), Some("Lamp."));
    // No shared word: the first training ticket.
    assert_eq!(nearest.reply(&docs[4]), Some("Kettle."));
}

#[test]
fn replies_are_scored_by_the_compliance_checker() {
    let doc = ticket(
        "t0",
        Split::Test,
        Circumstance::WithinWindow,
        "Hi, I bought a kettle 10 days ago and would like to return it. Sam",
        "",
    );
    let case = doc.case.as_ref().expect("a ticket");
    let ticket_text = doc.parts[0].text();
    let yes = "Hi Sam, you are within the 30-day window, so we have issued a full refund.";
    let no = "Hi Sam, unfortunately we cannot offer a refund for this order.";
    assert!(score_reply(case, &ticket_text, yes).compliant);
    assert!(!score_reply(case, &ticket_text, no).compliant);
    let rate = compliance_rate([&doc, &doc], |d| Some(if d.id == "t0" { yes } else { no }))
        .expect("scored");
    assert_eq!(
        (rate.compliant, rate.scored, rate.rate, rate.rate_se),
        (2, 2, 1.0, 0.0)
    );
    assert_eq!(compliance_rate([&doc], |_| None), None);
}

/// The figures the baselines reach on the standard support-desk corpus (corpus seed 1).
#[test]
fn baselines_on_the_support_desk_corpus() {
    let start = std::time::Instant::now();
    let corpus = support::standard(1);
    let built = start.elapsed().as_secs_f64();
    let test: Vec<&Document> = corpus.split(Split::Test).collect();

    let majority = MajorityAction::fit(&corpus).expect("majority");
    let nearest = RetrieveNearest::fit(&corpus).expect("nearest");
    let true_texts: std::collections::HashMap<&str, String> = test
        .iter()
        .filter_map(|d| Some((d.id.as_str(), d.parts.get(1)?.text())))
        .collect();
    let oracle = compliance_rate(test.iter().copied(), |d| {
        true_texts.get(d.id.as_str()).map(String::as_str)
    })
    .expect("test tickets");
    let by_majority = compliance_rate(test.iter().copied(), |d| majority.reply(d)).expect("scored");
    let by_nearest = compliance_rate(test.iter().copied(), |d| nearest.reply(d)).expect("scored");
    let replies_done = start.elapsed().as_secs_f64();
    for (name, r) in [
        ("true resolution", &oracle),
        ("majority-action", &by_majority),
        ("retrieve-nearest", &by_nearest),
    ] {
        println!(
            "reply baseline {name}: {}/{} compliant = {:.3} ± {:.3}",
            r.compliant, r.scored, r.rate, r.rate_se
        );
        assert!((0.0..=1.0).contains(&r.rate) && r.rate.is_finite());
        assert_eq!(r.scored, by_majority.scored);
    }
    assert!(
        oracle.rate > 0.95,
        "the checker accepts the corpus's own resolutions"
    );

    let vectorizer =
        BowVectorizer::for_split(&corpus, Split::Train, MAX_TERMS).expect("vectorizer");
    assert_eq!(vectorizer.dims(), MAX_TERMS);
    for kind in PairKind::ALL {
        let fit = corpus
            .pair_set(Split::Validation, kind)
            .expect("validation set");
        let held = corpus.pair_set(Split::Test, kind).expect("test set");
        let lines = pair_baselines(&vectorizer, &fit.pairs, &held.pairs).expect("scores");
        for line in &lines {
            let s = &line.score;
            println!(
                "pair baseline {} {}: accuracy {:.3} ± {:.3}, AUC {:.3} ± {:.3} (fit {}, held out {})",
                line.features.name(),
                kind.name(),
                s.accuracy,
                s.accuracy_se,
                s.auc,
                s.auc_se,
                fit.pairs.len(),
                s.n
            );
            assert!((0.0..=1.0).contains(&s.accuracy) && (0.0..=1.0).contains(&s.auc));
            if kind == PairKind::Swapped && line.features == PairFeatures::Bow {
                assert!(
                    (0.40..=0.60).contains(&s.accuracy),
                    "symmetric features cannot see order: {}",
                    s.accuracy
                );
            }
        }
    }
    println!(
        "corpus built in {built:.2} s, replies scored by {replies_done:.2} s, all done in {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn the_surface_baseline_reads_what_the_surface_gives_away() {
    // Label 1 exactly when B opens with a greeting: the surface gives it away.
    let topics = ["parcel", "kettle", "refund", "lamp", "charge", "order"];
    let make = |round: usize| -> Vec<EvalPair> {
        topics
            .iter()
            .enumerate()
            .map(|(k, topic)| {
                let label = ((k + round) % 2) as u8;
                let b = if label == 1 {
                    format!("Hi Sam, about the {topic}.")
                } else {
                    format!("The {topic} is on its way.")
                };
                pair(&format!("My {topic} question."), &b, label)
            })
            .collect()
    };
    let fit: Vec<EvalPair> = (0..6).flat_map(make).collect();
    let held: Vec<EvalPair> = (6..8).flat_map(make).collect();
    let score = surface_baseline(&fit, &held).expect("scored");
    assert_eq!((score.accuracy, score.auc, score.n), (1.0, 1.0, held.len()));
    let ones: Vec<EvalPair> = fit.iter().filter(|p| p.label == 1).cloned().collect();
    assert_eq!(
        surface_baseline(&ones, &held),
        Err(crate::core::eval::probe::EvalError::Empty),
        "a fit needs both labels"
    );
}

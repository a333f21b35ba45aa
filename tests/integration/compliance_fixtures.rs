//! The compliance checker against hand-written fixtures (`tests/fixtures/compliance.jsonl`):
//! every fixture gets its expected verdict, every category is well covered, and swapping the
//! names, order numbers and dates in a fixture never changes its verdict — not even for names
//! that are English words (`May`, `Will`, `Hope`) or dates written another way.

use pretrain_playground::core::corpus::{compliance, policy};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    id: String,
    category: String,
    policy: policy::Policy,
    required: policy::Action,
    ticket: String,
    reply: String,
    expected: Expected,
    #[serde(default)]
    entities: Entities,
}

#[derive(Debug, Deserialize)]
struct Expected {
    compliant: bool,
    reason: compliance::Reason,
}

#[derive(Debug, Default, Deserialize)]
struct Entities {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    orders: Vec<String>,
    #[serde(default)]
    dates: Vec<String>,
}

fn fixtures() -> Vec<Fixture> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compliance.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{path}:{}: not a fixture: {e}", n + 1))
        })
        .collect()
}

fn verdict(f: &Fixture, ticket: &str, reply: &str) -> compliance::Verdict {
    compliance::check(f.policy, f.required, ticket, reply)
}

#[test]
fn every_fixture_gets_its_expected_verdict() {
    let fixtures = fixtures();
    let mismatches: Vec<String> = fixtures
        .iter()
        .filter_map(|f| {
            let v = verdict(f, &f.ticket, &f.reply);
            (v.compliant != f.expected.compliant || v.reason != f.expected.reason).then(|| {
                format!(
                    "{} ({} {} under {}): expected {} got {}\n    reply: {}\n    why:   {}",
                    f.id,
                    f.category,
                    f.required.name(),
                    f.policy.name(),
                    f.expected.reason.name(),
                    v.reason.name(),
                    f.reply,
                    v.explanation
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} fixtures got another verdict:\n{}",
        mismatches.len(),
        fixtures.len(),
        mismatches.join("\n")
    );
}

#[test]
fn every_category_has_at_least_ten_fixtures() {
    let fixtures = fixtures();
    for category in [
        "compliant",
        "paraphrased",
        "negated",
        "hedged",
        "wrong_policy",
        "contradictory",
    ] {
        let n = fixtures.iter().filter(|f| f.category == category).count();
        assert!(n >= 10, "only {n} fixtures in category {category}");
    }
}

const NAMES: &[&str] = &[
    "May", "Will", "Grant", "Hope", "Faith", "Chance", "Case", "Sue", "Jordan",
];
const ORDERS: &[&str] = &["10293", "5550001", "90210", "314159", "7720"];
const DATES: &[&str] = &[
    "May 3",
    "12 March",
    "2026-05-01",
    "June 30",
    "Aug. 9",
    "1 August 2025",
];

/// Replaces every whole-word occurrence of each needle, in one pass (longest needle first), so
/// that a replacement is never replaced again.
fn swap(text: &str, pairs: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(n, _)| !n.is_empty())
        .collect();
    pairs.sort_by_key(|(needle, _)| std::cmp::Reverse(needle.len()));
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < text.len() {
        let rest = &text[i..];
        if boundary(text[..i].chars().next_back()) {
            for &(needle, replacement) in &pairs {
                if rest.starts_with(needle) && boundary(rest[needle.len()..].chars().next()) {
                    out.push_str(replacement);
                    i += needle.len();
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[test]
fn swapping_names_orders_and_dates_keeps_every_verdict() {
    let fixtures = fixtures();
    let rounds = NAMES.len().max(ORDERS.len()).max(DATES.len());
    let mut failures = Vec::new();
    for f in &fixtures {
        let original = verdict(f, &f.ticket, &f.reply);
        for round in 0..rounds {
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            for (j, name) in f.entities.names.iter().enumerate() {
                pairs.push((name, NAMES[(round + j) % NAMES.len()]));
            }
            for (j, order) in f.entities.orders.iter().enumerate() {
                pairs.push((order, ORDERS[(round + j) % ORDERS.len()]));
            }
            for (j, date) in f.entities.dates.iter().enumerate() {
                pairs.push((date, DATES[(round + j) % DATES.len()]));
            }
            let ticket = swap(&f.ticket, &pairs);
            let reply = swap(&f.reply, &pairs);
            let swapped = verdict(f, &ticket, &reply);
            if swapped.reason != original.reason || swapped.compliant != original.compliant {
                failures.push(format!(
                    "{}: {} became {}\n    reply:   {}\n    swapped: {}\n    why:     {}",
                    f.id,
                    original.reason.name(),
                    swapped.reason.name(),
                    f.reply,
                    reply,
                    swapped.explanation
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} swaps changed a verdict:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn swap_replaces_whole_words_once() {
    let pairs = [("Al", "May"), ("May", "Will"), ("48213", "7")];
    assert_eq!(
        swap("Al also ordered #48213 in May.", &pairs),
        "May also ordered #7 in Will."
    );
}

#[test]
fn fixture_replies_appear_in_no_corpus_for_seeds_1_to_10() {
    use pretrain_playground::core::corpus::support;
    let fixtures = fixtures();
    for seed in 1..=10 {
        let corpus = support::standard(seed);
        let texts: Vec<String> = corpus
            .documents
            .iter()
            .flat_map(|d| d.parts.iter().map(|p| p.text()))
            .collect();
        for f in &fixtures {
            assert!(
                texts.iter().all(|t| !t.contains(f.reply.as_str())),
                "fixture {} appears in the corpus of seed {seed}",
                f.id
            );
        }
    }
}

#[test]
fn every_generated_resolution_complies_with_its_policy() {
    use pretrain_playground::core::corpus::support;
    // The generator and the checker are independent readings of one policy table: every
    // resolution the corpus contains must take the action its ticket requires.
    let corpus = support::standard(1);
    let mut failures = Vec::new();
    for doc in &corpus.documents {
        let Some(case) = &doc.case else { continue };
        let v = compliance::check(
            case.policy,
            case.action,
            &doc.parts[0].text(),
            &doc.parts[1].text(),
        );
        if !v.compliant {
            failures.push(format!(
                "{} ({:?}, requires {:?}): {:?} — {}\n  {}",
                doc.id,
                case.circumstance,
                case.action,
                v.reason,
                v.explanation,
                doc.parts[1].text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the generated resolutions fail the checker:\n{}",
        failures.len(),
        failures
            .iter()
            .take(400)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

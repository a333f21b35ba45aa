//! The built-in English text the skeleton trains on: short, coherent stories about people in a
//! small town, generated deterministically from the corpus seed. It is small (a few hundred
//! thousand words, built in milliseconds in the page) and has structure beyond word frequencies
//! — agreement of pronouns with names, verbs with objects, a place that recurs within a story —
//! so a model that learns anything measurable beats the unigram baseline. The support-desk
//! corpus of the "data world" issue replaces it as the default.

use super::rng::{Rng, Stream};

/// One document: a short story of several sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub text: String,
}

/// The built-in text, split into training and validation documents by story.
#[derive(Debug, Clone)]
pub struct BuiltinText {
    pub train: Vec<Document>,
    pub validation: Vec<Document>,
}

const PEOPLE: &[(&str, Pronouns)] = &[
    ("Anna", SHE),
    ("Ben", HE),
    ("Clara", SHE),
    ("David", HE),
    ("Elena", SHE),
    ("Felix", HE),
    ("Grace", SHE),
    ("Hugo", HE),
    ("Iris", SHE),
    ("Jonas", HE),
    ("Kira", SHE),
    ("Leo", HE),
    ("Maya", SHE),
    ("Noah", HE),
    ("Olga", SHE),
    ("Peter", HE),
    ("Rosa", SHE),
    ("Samuel", HE),
    ("Tara", SHE),
    ("Victor", HE),
];
const PLACES: &[&str] = &[
    "the market",
    "the harbour",
    "the library",
    "the old mill",
    "the station",
    "the garden",
    "the bakery",
    "the school",
    "the bridge",
    "the museum",
    "the hospital",
    "the farm",
    "the river",
    "the square",
    "the workshop",
    "the post office",
];
const THINGS: &[&str] = &[
    "a letter",
    "a red umbrella",
    "a basket of apples",
    "a map",
    "a lantern",
    "an old key",
    "a broken clock",
    "a blue bicycle",
    "a loaf of bread",
    "a small box",
    "a warm coat",
    "a wooden chair",
    "a bag of coins",
    "a paper kite",
    "a bottle of milk",
    "a green notebook",
];
const TIMES: &[&str] = &["morning", "afternoon", "evening", "night"];
const WEATHER: &[(&str, &str)] = &[
    ("cold", "wore a thick scarf"),
    ("warm", "walked slowly in the sun"),
    ("rainy", "stayed under the roof for a while"),
    ("windy", "held the door with both hands"),
    ("quiet", "listened to the birds"),
    ("foggy", "could hardly see the road"),
];
const ACTIONS: &[&str] = &[
    "repaired",
    "painted",
    "cleaned",
    "sold",
    "carried home",
    "wrapped",
    "hid",
    "measured",
];
const FEELINGS: &[&str] = &["happy", "tired", "surprised", "proud", "worried", "calm"];

#[derive(Debug, Clone, Copy)]
struct Pronouns {
    subject: &'static str,
    object: &'static str,
    possessive: &'static str,
}
const SHE: Pronouns = Pronouns {
    subject: "she",
    object: "her",
    possessive: "her",
};
const HE: Pronouns = Pronouns {
    subject: "he",
    object: "him",
    possessive: "his",
};

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    // The tables above are non-empty constants.
    &items[rng.below(items.len())]
}

/// One story: a person goes somewhere, finds something, gives it to someone, and so on.
fn story(rng: &mut Rng) -> String {
    let (name, p) = *pick(rng, PEOPLE);
    let (mut friend, mut q) = *pick(rng, PEOPLE);
    while friend == name {
        (friend, q) = *pick(rng, PEOPLE);
    }
    let place = *pick(rng, PLACES);
    let other_place = *pick(rng, PLACES);
    let thing = *pick(rng, THINGS);
    let other_thing = *pick(rng, THINGS);
    let (weather, reaction) = *pick(rng, WEATHER);
    let mut sentences = vec![
        format!("{name} walked to {place} in the {}.", pick(rng, TIMES)),
        format!("The weather was {weather}, so {} {reaction}.", p.subject),
        format!("At {place} {} found {thing}.", p.subject),
    ];
    let extra = rng.below(4);
    if extra >= 1 {
        sentences.push(format!(
            "{} gave it to {friend}, who thanked {} with a smile.",
            capitalise(p.subject),
            p.object
        ));
    }
    if extra >= 2 {
        sentences.push(format!(
            "Later {friend} went to {other_place} and {} {other_thing}.",
            pick(rng, ACTIONS)
        ));
    }
    if extra >= 3 {
        sentences.push(format!(
            "{} told {} friends about {thing} and felt {}.",
            capitalise(q.subject),
            q.possessive,
            pick(rng, FEELINGS)
        ));
    }
    sentences.push(format!(
        "In the end {name} went home and {} was {}.",
        p.subject,
        pick(rng, FEELINGS)
    ));
    sentences.join(" ")
}

impl BuiltinText {
    /// Generates `documents` stories from the corpus seed; every 20th story goes to validation.
    pub fn generate(corpus_seed: u64, documents: usize) -> Self {
        let mut rng = Rng::for_stream(corpus_seed, Stream::Corpus);
        let mut train = Vec::with_capacity(documents);
        let mut validation = Vec::with_capacity(documents / 20 + 1);
        for i in 0..documents {
            let doc = Document {
                text: story(&mut rng),
            };
            if i % 20 == 19 {
                validation.push(doc);
            } else {
                train.push(doc);
            }
        }
        Self { train, validation }
    }

    /// The size the lab uses: enough text that the lecture budget sees most stories once.
    pub fn standard(corpus_seed: u64) -> Self {
        Self::generate(corpus_seed, 6000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_corpus_seed_same_text_and_seeds_differ() {
        let a = BuiltinText::generate(1, 50);
        let b = BuiltinText::generate(1, 50);
        let c = BuiltinText::generate(2, 50);
        assert_eq!(a.train, b.train);
        assert_ne!(a.train, c.train);
        assert_eq!(a.validation.len(), 2);
    }

    #[test]
    fn pronouns_agree_with_the_name() {
        let text = BuiltinText::generate(3, 200);
        for doc in &text.train {
            if doc.text.starts_with("Anna ") {
                assert!(!doc.text.contains("so he "), "{}", doc.text);
            }
        }
    }
}

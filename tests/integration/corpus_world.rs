//! The data world end to end: the committed fingerprint, the CLI-visible counts, training on
//! the support-desk corpus and on a student's own text.

use std::sync::Arc;

use pretrain_playground::core::config::ModelSize;
use pretrain_playground::core::corpus::export::{self, FINGERPRINT_SEED_1};
use pretrain_playground::core::corpus::{CorpusInput, PairKind, Split, custom};
use pretrain_playground::core::data::Dataset;

#[test]
fn fingerprint_of_corpus_seed_1_matches_the_committed_constant() {
    let dataset =
        Dataset::support(1, ModelSize::Default.model().vocab_size).expect("support dataset");
    let files = export::files(&dataset.corpus, &dataset.tokenizer).expect("export");
    let value = export::fingerprint(&files);
    assert_eq!(
        value, FINGERPRINT_SEED_1,
        "the corpus, its pair sets or the vocabulary changed; if intended, update FINGERPRINT_SEED_1"
    );
    // Another seed, another fingerprint.
    let other = Dataset::support(2, ModelSize::Default.model().vocab_size).expect("seed 2");
    let other_files = export::files(&other.corpus, &other.tokenizer).expect("export");
    assert_ne!(export::fingerprint(&other_files), value);
}

#[test]
fn export_has_one_balanced_file_per_split_and_kind_and_no_timestamps() {
    let dataset = Dataset::support(3, ModelSize::Fast.model().vocab_size).expect("dataset");
    let files = export::files(&dataset.corpus, &dataset.tokenizer).expect("export");
    for split in Split::ALL {
        for kind in PairKind::ALL {
            let path = format!("pairs/{}.{}.jsonl", split.name(), kind.name());
            let file = files.iter().find(|f| f.path == path).expect(&path);
            let labels: Vec<u64> = file
                .contents
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                    assert_eq!(v["kind"], kind.name());
                    v["label"].as_u64().expect("label")
                })
                .collect();
            let ones = labels.iter().filter(|&&l| l == 1).count();
            assert!(
                ones > 0 && 2 * ones == labels.len(),
                "{path} is not balanced"
            );
        }
    }
    let again = Dataset::support(3, ModelSize::Fast.model().vocab_size).expect("dataset");
    assert_eq!(
        export::files(&again.corpus, &again.tokenizer).expect("export"),
        files,
        "same seed, same bytes"
    );
}

#[test]
fn documents_pack_as_parts_separated_by_sep_and_closed_by_eos() {
    let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
    let specials = dataset.tokenizer.specials();
    let docs = dataset.corpus.split(Split::Train).count();
    let eos = dataset.train.iter().filter(|&&t| t == specials.eos).count();
    assert_eq!(eos, docs);
    let two_part = dataset
        .corpus
        .split(Split::Train)
        .filter(|d| d.parts.len() == 2)
        .count();
    let sep = dataset.train.iter().filter(|&&t| t == specials.sep).count();
    assert_eq!(sep, two_part);
    assert_eq!(
        dataset.original_tokens[0],
        dataset.train.len() - eos - sep,
        "original tokens exclude the specials"
    );
    let stats = dataset.stats();
    assert_eq!(stats.splits[0].tokens, dataset.original_tokens[0]);
    assert!(stats.sentences > 30_000);
}

#[test]
fn a_students_text_builds_a_dataset_and_bad_text_is_a_typed_error() {
    let text: String = (0..60)
        .map(|i| {
            let para = if i % 6 == 5 { "\n\n" } else { " " };
            format!("Die Katze Nummer {i} schläft auf dem Sofa, und 猫 {i} träumt 🐈.{para}")
        })
        .collect();
    let input = CorpusInput::Custom {
        name: "katzen.txt".into(),
        text,
    };
    let corpus = input.build(7, custom::Needs::PAIRS).expect("valid text");
    let dataset = Dataset::new(Arc::new(corpus), 600).expect("dataset");
    assert!(dataset.sample_prompt().starts_with("Die Katze"));
    // Sentence-by-sentence encoding equals encoding each part, in any script.
    let specials = dataset.tokenizer.specials();
    let mut expected = Vec::new();
    for doc in dataset.corpus.split(Split::Train) {
        for part in &doc.parts {
            expected.extend(dataset.tokenizer.encode(&part.text()).expect("encode"));
        }
        expected.push(specials.eos);
    }
    assert_eq!(dataset.train, expected);
    assert!(!dataset.validation.is_empty() && !dataset.test.is_empty());
    let bad = CorpusInput::Custom {
        name: "empty.txt".into(),
        text: "   \n".into(),
    };
    let err = bad
        .build(7, custom::Needs::TOKENS)
        .expect_err("empty is refused");
    assert!(err.to_string().starts_with("Your text is empty"), "{err}");
}

#[test]
fn the_shortest_accepted_text_trains_on_the_default_size() {
    use pretrain_playground::core::backend::Backend;
    use pretrain_playground::core::config::RunConfig;
    use pretrain_playground::core::exec::{SystemClock, block_on};
    use pretrain_playground::core::mix::ObjectiveMix;
    use pretrain_playground::core::summary::TrainEvent;
    use pretrain_playground::core::train::Trainer;
    // 20 sentences is the floor; one `default` batch (32 × 64 tokens) is far more text.
    let text: String = (0..20)
        .map(|i| {
            format!(
                "Sentence number {i} is short.{}",
                if i % 4 == 3 { "\n\n" } else { " " }
            )
        })
        .collect();
    let corpus = CorpusInput::Custom {
        name: "tiny.txt".into(),
        text,
    }
    .build(1, custom::Needs::TOKENS)
    .expect("the floor is accepted");
    let size = ModelSize::Default;
    let dataset = Dataset::new(Arc::new(corpus), size.model().vocab_size).expect("dataset");
    let mut config = RunConfig::new(size);
    config.budget_tokens = 4_000;
    let (mix, _) = ObjectiveMix::parse("clm").expect("mix");
    let (mut trainer, _) = block_on(Trainer::start(
        dataset,
        config,
        mix,
        None,
        Backend::cpu(),
        Box::new(SystemClock::default()),
    ))
    .expect("a short text is cycled to fill a batch");
    let events = block_on(trainer.advance()).expect("one step");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, TrainEvent::Step(r) if r.loss.is_finite()))
    );
}

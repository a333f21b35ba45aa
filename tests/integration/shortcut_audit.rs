//! The shortcut audit on the sets the lab builds: on the support-desk corpus (corpus seeds 1–3)
//! and on a multi-script text of a student's, no artifact classifier predicts any labelled
//! set's label beyond 0.55, each scored on at least 1,000 held-out items; and the audit does
//! catch an artifact when one is planted. Also: a hard-wrapped text splits into whole
//! sentences.

use std::sync::Arc;

use pretrain_playground::core::audit::{self, ARTIFACT_LIMIT, MIN_HELD_OUT};
use pretrain_playground::core::config::ModelSize;
use pretrain_playground::core::corpus::CorpusInput;
use pretrain_playground::core::corpus::custom::{self, Needs};
use pretrain_playground::core::data::Dataset;
use pretrain_playground::core::exec::{NoYield, run_ready};
use pretrain_playground::core::rng::Rng;

fn assert_at_chance(dataset: &Dataset, what: &str) {
    let lines = audit::audit(dataset, &ModelSize::ALL).expect("audit");
    assert!(
        lines.len() >= 10,
        "{what}: NSP and SOP at both sizes and the evaluation sets: {lines:#?}"
    );
    for line in &lines {
        eprintln!("{what}: {}", line.line());
        assert!(
            line.artifact <= ARTIFACT_LIMIT,
            "{what}: the pipeline gives the label away: {}",
            line.line()
        );
        assert!(line.held_out >= MIN_HELD_OUT, "{what}: {}", line.line());
    }
}

#[test]
fn no_artifact_predicts_a_label_on_the_support_desk_corpus() {
    for seed in 1..=3 {
        let dataset =
            Dataset::support(seed, ModelSize::Default.model().vocab_size).expect("dataset");
        assert_at_chance(&dataset, &format!("support-desk corpus, seed {seed}"));
    }
}

/// A student's text in six scripts, deterministic: paragraphs of four to eight sentences,
/// each script with its own words and punctuation.
fn multi_script_text(paragraphs: usize) -> String {
    const SUBJECTS: [[&str; 6]; 6] = [
        [
            "The keeper",
            "A fisher",
            "The baker",
            "My sister",
            "The old clerk",
            "A traveller",
        ],
        [
            "Der Wärter",
            "Eine Fischerin",
            "Der Bäcker",
            "Meine Schwester",
            "Der alte Schreiber",
            "Ein Reisender",
        ],
        [
            "Смотритель",
            "Рыбачка",
            "Пекарь",
            "Моя сестра",
            "Старый писарь",
            "Путник",
        ],
        [
            "Ο φύλακας",
            "Μια ψαρού",
            "Ο φούρναρης",
            "Η αδελφή μου",
            "Ο γέρος γραφέας",
            "Ένας ταξιδιώτης",
        ],
        [
            "灯台守は",
            "漁師は",
            "パン屋は",
            "姉は",
            "年老いた書記は",
            "旅人は",
        ],
        [
            "الحارس",
            "الصيادة",
            "الخباز",
            "أختي",
            "الكاتب العجوز",
            "المسافر",
        ],
    ];
    const VERBS: [[&str; 6]; 6] = [
        [
            "counted the ships",
            "mended a net",
            "baked dark bread",
            "wrote a long letter",
            "sorted the mail",
            "crossed the bridge",
        ],
        [
            "zählte die Schiffe",
            "flickte ein Netz",
            "backte dunkles Brot",
            "schrieb einen langen Brief",
            "sortierte die Post",
            "überquerte die Brücke",
        ],
        [
            "считал корабли",
            "чинила сеть",
            "пёк тёмный хлеб",
            "писала длинное письмо",
            "разбирал почту",
            "перешёл мост",
        ],
        [
            "μέτρησε τα πλοία",
            "έραψε ένα δίχτυ",
            "έψησε μαύρο ψωμί",
            "έγραψε ένα μακρύ γράμμα",
            "τακτοποίησε το ταχυδρομείο",
            "διέσχισε τη γέφυρα",
        ],
        [
            "船を数えた",
            "網を繕った",
            "黒いパンを焼いた",
            "長い手紙を書いた",
            "郵便を仕分けた",
            "橋を渡った",
        ],
        [
            "عدّ السفن",
            "أصلحت الشبكة",
            "خبز خبزاً أسمر",
            "كتبت رسالة طويلة",
            "رتّب البريد",
            "عبر الجسر",
        ],
    ];
    const ENDS: [&str; 6] = [".", ".", ".", ".", "。", "."];
    const TIMES: [&str; 8] = [
        "at dawn",
        "in March",
        "on day 3",
        "after the storm",
        "by lamplight",
        "at noon",
        "in winter",
        "on Sunday",
    ];
    let mut rng = Rng::new(5);
    let mut text = String::new();
    for p in 0..paragraphs {
        let script = rng.below(6);
        let n = 4 + rng.below(5);
        for k in 0..n {
            let subject = SUBJECTS[script][rng.below(6)];
            let verb = VERBS[script][rng.below(6)];
            let time = TIMES[rng.below(8)];
            let sentence = if script == 4 {
                format!("{subject}{verb}（{p}-{k}）{}", ENDS[script])
            } else {
                format!("{subject} {verb} {time}, {p}-{k}{}", ENDS[script])
            };
            text.push_str(&sentence);
            text.push(if script == 4 { '\n' } else { ' ' });
        }
        text.push_str("\n\n");
    }
    text
}

#[test]
fn no_artifact_predicts_a_label_on_a_multi_script_text() {
    let text = multi_script_text(1_200);
    let corpus = CorpusInput::Custom {
        name: "scripts.txt".into(),
        text,
    }
    .build(1, Needs::PAIRS)
    .expect("a valid text");
    let dataset =
        Dataset::new(Arc::new(corpus), ModelSize::Default.model().vocab_size).expect("dataset");
    assert_at_chance(&dataset, "multi-script text");
}

#[test]
fn a_hard_wrapped_text_splits_into_whole_sentences() {
    let text = include_str!("../fixtures/hard_wrapped.txt");
    let (paragraphs, report) = custom::paragraphs_with_report(text);
    let sentences: Vec<&str> = paragraphs.iter().flatten().map(String::as_str).collect();
    for whole in [
        "Caring for the Brightwater Kettle",
        "Occasionally C programmers will encounter a fragment of code like this, and wonder what it does.",
        "The kettle manual is no different: most of it is plain prose wrapped at seventy-odd columns, the way plain-text files have been written for decades.",
        "A reader sees paragraphs; a naive splitter sees a new sentence at every line end.",
        "- Unplug the kettle and let it cool down completely, which takes about twenty minutes after a full boil.",
        "- Never put the base in water or any other liquid.",
        "1. Mix one part vinegar with two parts water.",
        "The firmware reads the temperature sensor in a loop that looks roughly like this::",
        "while reading < target {",
        "The kettle hums,",
        "the water sings,",
        "Kind regards,",
    ] {
        assert!(
            sentences.contains(&whole),
            "missing `{whole}` in {sentences:#?}"
        );
    }
    assert!(
        !sentences
            .iter()
            .any(|s| s.starts_with("programmers") || s.starts_with("wonder")),
        "a line end inside a sentence is not a sentence end: {sentences:#?}"
    );
    assert!(report.joined >= 8 && report.kept_code >= 3, "{report:?}");
    assert!(
        report.wrap_width.is_some_and(|w| (70..=80).contains(&w)),
        "{report:?}"
    );
}

#[test]
fn the_audit_catches_a_planted_artifact() {
    use pretrain_playground::core::objective::coherence::{PairTask, epoch_items};
    let dataset = Dataset::support(1, ModelSize::Fast.model().vocab_size).expect("dataset");
    let [train, validation, _] = &dataset.documents;
    let seq_len = ModelSize::Fast.model().max_seq_len;
    // The leak the lab once had: a negative's B starts with a form no positive B has (here its
    // first token cut off, so it starts inside a word).
    let plant = |items: Vec<_>| -> Vec<_> {
        items
            .into_iter()
            .map(
                |mut item: pretrain_playground::core::objective::coherence::PairItem| {
                    if item.label == 0 && item.b.len() > 1 {
                        item.b.remove(0);
                    }
                    item
                },
            )
            .collect()
    };
    let whole_epoch = |docs, seed| {
        run_ready(epoch_items(
            PairTask::Sop,
            docs,
            seq_len - 3,
            usize::MAX,
            &mut Rng::new(seed),
            &mut NoYield,
        ))
        .0
    };
    let fit = whole_epoch(train, 1);
    let held = whole_epoch(validation, 2);
    let clean = audit::score_items("sop", &fit, &held, seq_len, &dataset.tokenizer).expect("audit");
    assert!(clean.passes(), "{}", clean.line());
    let leaky = audit::score_items(
        "sop",
        &plant(fit),
        &plant(held),
        seq_len,
        &dataset.tokenizer,
    )
    .expect("audit");
    assert!(
        !leaky.passes(),
        "the audit must see the planted form: {}",
        leaky.line()
    );
}

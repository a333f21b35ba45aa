//! Lecture mode: a guided tour through the lab's questions — which objective for generation,
//! which for pair judgement, what an auxiliary adds, what each trades away. Each step names a
//! race to run (or a view to open), explains the trade-off citing the paper and table behind
//! it (the project's notes of them, `docs/papers.md`), points at the lab's own figure for it
//! (`RESULTS.md` and the live panel), and gives the lecturer a note and the students an
//! exercise. Native tests hold every quoted figure to those two documents.

use serde::Serialize;

use super::curves::CurveX;
use super::scatter::{GenAxis, PairAxis, ScatterSpec};
use crate::core::corpus::PairKind;

/// Where a step sends the eye.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Look {
    /// The comparison scatter on these axes.
    Scatter { spec: ScatterSpec },
    /// The comparison table sorted by this column (a key of [`super::table::COLUMNS`]).
    Column { key: &'static str },
    /// The learning curves against this axis.
    Curves { x: CurveX },
    /// The attention views' side-by-side pair, an index of
    /// [`crate::core::viz::preview::COMPARISONS`].
    SideBySide { pair: usize },
}

/// Figures quoted from one section of `docs/papers.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cite {
    /// The section's id (`## albert-t5 — …`).
    pub section: &'static str,
    /// What the step says the paper shows.
    pub claim: &'static str,
    /// The figures the claim quotes, each as the section writes it.
    pub figures: &'static [&'static str],
}

/// One step of the tour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TourStep {
    pub title: &'static str,
    pub question: &'static str,
    /// The mixes to race for this step (empty: a view to open, no training).
    pub race: &'static [&'static str],
    pub look: Look,
    pub explanation: &'static str,
    pub cites: &'static [Cite],
    /// The lab's own figure: where in `RESULTS.md` (or the panel) to read it.
    pub lab_figure: &'static str,
    /// Figures `lab_figure` quotes, each as `RESULTS.md` writes it.
    pub lab_numbers: &'static [&'static str],
    pub lecturer_note: &'static str,
    pub exercise: &'static str,
}

/// The tour, in teaching order.
pub const TOUR: [TourStep; 7] = [
    TourStep {
        title: "What each objective is shown and asked",
        question: "Before any training: what does a masked LM see that a left-to-right model does not, and what does each have to predict?",
        race: &[],
        look: Look::SideBySide { pair: 0 },
        explanation: "A masked LM reads the whole sequence at once and predicts the 15% it hid; a causal LM reads only what came before and predicts every next token. The attention mask alone makes the difference: the same Transformer becomes one or the other.",
        cites: &[Cite {
            section: "unilm",
            claim: "UniLM runs unidirectional, bidirectional and sequence-to-sequence prediction in one shared Transformer, switched by the self-attention mask alone.",
            figures: &[],
        }],
        lab_figure: "The attention views, MLM vs CLM side by side: the full matrix against the triangle, and the information-flow graph reaching every position against only the past.",
        lab_numbers: &[],
        lecturer_note: "Step through the strip with the arrow keys; hover a matrix row and read \"token i may attend to …\" aloud. Ask which model could write a reply.",
        exercise: "Pick a position in the flow graph of each side. After one layer, how many input tokens can have reached it in each model?",
    },
    TourStep {
        title: "How many tokens each step teaches",
        question: "On the same text, which objective gets the most learning signal per step?",
        race: &["gpt", "roberta", "t5"],
        look: Look::Column {
            key: "supervised_per_step",
        },
        explanation: "A causal LM is scored on every position; a masked LM only on the positions it corrupted, about 15%; T5's span corruption on the dropped spans, written compactly by the decoder. Equal text is not equal learning signal.",
        cites: &[Cite {
            section: "electra",
            claim: "ELECTRA's motivation: masked LM learns from only about 15% of the tokens of each sequence.",
            figures: &["15%"],
        }],
        lab_figure: "The panel's \"supervised/step\" column, and the learning curves against tokens and against FLOPs.",
        lab_numbers: &[],
        lecturer_note: "Sort the table by supervised/step, then switch the curves from tokens to FLOPs: the ranking of the curves can change when compute, not text, is equal.",
        exercise: "From the column, how many times more positions does gpt supervise per step than roberta? Does its curve fall that many times faster?",
    },
    TourStep {
        title: "Which objective for writing replies?",
        question: "For the customer-support reply writer, which pre-training works best?",
        race: &["gpt", "t5", "bart"],
        look: Look::Scatter {
            spec: ScatterSpec {
                generation: GenAxis::Perplexity,
                pair: PairAxis::Probe,
                kind: PairKind::Hard,
            },
        },
        explanation: "Writing left to right is what a causal LM practises on every token. Encoder-decoder denoisers write too, conditioned on their input; BART found text infilling best on conditioned generation and the plain LM best on loosely conditioned text.",
        cites: &[
            Cite {
                section: "bart-t1",
                claim: "In BART's comparison the language model has the lowest perplexity on ELI5 (21.40 against text infilling's 24.26), while infilling wins the conditioned XSum, ConvAI2 and CNN/DM (6.61, 11.05, 5.83).",
                figures: &["21.40", "24.26", "6.61", "11.05", "5.83"],
            },
            Cite {
                section: "wang-2022",
                claim: "Causal decoders trained autoregressively generalise best zero-shot after unsupervised pre-training alone.",
                figures: &[],
            },
        ],
        lab_figure: "RESULTS.md, \"The table\": gpt's reply perplexity 1.7 against bart's 2.4 at fast, 500k tokens — the lab reverses BART's infilling finding (ordering (e)), for a protocol reason it names: one [MASK] stands for the whole reply. Compliance is scored on the first 16 tokens, which hold a greeting and a name, not yet the action.",
        lab_numbers: &["1.7 ± 0.0", "2.4 ± 0.5", "2.41", "1.72"],
        lecturer_note: "Perplexity here is conditional: the reply given its ticket. Masked LMs have only a pseudo-perplexity, a different number, so they are listed beside the scatter, never on its axis.",
        exercise: "Read the sample replies of the three runs side by side. Which complies with the policy, and why does the checker say the others do not?",
    },
    TourStep {
        title: "Which objective for judging pairs?",
        question: "For the reranker that decides whether two texts belong together, does bidirectional reading help?",
        race: &["gpt", "roberta", "bert"],
        look: Look::Scatter {
            spec: ScatterSpec {
                generation: GenAxis::Compliance,
                pair: PairAxis::Probe,
                kind: PairKind::Hard,
            },
        },
        explanation: "Judging a pair means comparing its two halves, and a left-to-right model's first half never sees the second. BERT's ablation isolates exactly that: the same model without NSP, with and without the causal mask.",
        cites: &[
            Cite {
                section: "bert-t5",
                claim: "Without NSP, making BERT left-to-right drops MRPC from 86.5 to 77.5 and SQuAD from 87.9 to 77.8.",
                figures: &["86.5", "77.5", "87.9", "77.8"],
            },
            Cite {
                section: "t5-t2",
                claim: "At equal parameters and objective, a causal mask over the input costs T5 about 7 GLUE points (81.82 against 74.70).",
                figures: &["81.82", "74.70"],
            },
        ],
        lab_figure: "RESULTS.md, ordering (b): the like-for-like pair, roberta (masked LM, no NSP) against gpt, reads 54.9 against 56.4 on hard pairs — not resolved, the point estimate leaning the other way, and neither clearly above its untrained twin. A frozen probe at 168k parameters reads little of hard pairs; the papers fine-tune.",
        lab_numbers: &["54.9 vs 56.4"],
        lecturer_note: "The probe is fitted on frozen features; the untrained twin is the same network before pre-training. A gap to the twin, not the raw accuracy, is what pre-training put in.",
        exercise: "Switch the scatter's negatives from hard to random to swapped. Which mix moves most, and what does a swapped pair test that a random one does not?",
    },
    TourStep {
        title: "What an auxiliary adds: NSP against SOP",
        question: "Does a sentence-pair objective teach coherence, or just topic?",
        race: &["roberta", "bert", "albert"],
        look: Look::Scatter {
            spec: ScatterSpec {
                generation: GenAxis::Compliance,
                pair: PairAxis::ZeroShot,
                kind: PairKind::Swapped,
            },
        },
        explanation: "NSP's negatives come from another document, so topic alone tells them apart. SOP's negatives are the same two segments swapped: only order, i.e. coherence, decides. On order-swapped pairs an NSP head is at chance.",
        cites: &[
            Cite {
                section: "albert-t5",
                claim: "ALBERT's NSP model scores 52.0 on the SOP task, near chance; its SOP model scores 86.5 there and still 78.9 on NSP.",
                figures: &["52.0", "86.5", "78.9"],
            },
            Cite {
                section: "roberta-t2",
                claim: "RoBERTa found NSP can be dropped when inputs are long contiguous text (doc-sentences 84.7 MNLI-m against 84.0 with NSP).",
                figures: &["84.7", "84.0"],
            },
        ],
        lab_figure: "RESULTS.md, \"The table\": the pair head on swapped pairs, albert 85.8 against bert 52.3.",
        lab_numbers: &["85.8 ± 4.1", "52.3 ± 1.7"],
        lecturer_note: "This is the lab's clearest reproduction of a published ordering: ask the room to predict it before the race finishes.",
        exercise: "Open the NSP vs SOP side-by-side strips. Write down the surface cue that separates an NSP negative from a positive.",
    },
    TourStep {
        title: "Corruption artifacts against realistic inputs",
        question: "What does the model lose when it trains on [MASK] tokens it will never see in use?",
        race: &["bert", "t5", "bart"],
        look: Look::SideBySide { pair: 2 },
        explanation: "BERT's inputs carry [MASK] tokens that never occur at use; T5 replaces each dropped span by one sentinel and asks the decoder for the spans; BART puts one [MASK] per span and asks for the whole text. T5 found span corruption as good as BERT-style masking, and cheaper because its targets are short.",
        cites: &[
            Cite {
                section: "t5-t5",
                claim: "T5's denoising variants land close together on GLUE: BERT-style 82.96, replace corrupted spans 83.28, drop corrupted tokens 84.44.",
                figures: &["82.96", "83.28", "84.44"],
            },
            Cite {
                section: "t5-t6-7",
                claim: "Corruption rates from 10% to 25% are within a point; only 50% clearly hurts (GLUE 81.27).",
                figures: &["81.27"],
            },
        ],
        lab_figure: "The attention views, T5 vs BART side by side: sentinels against one mask per span, and the decoder's cross-attention to the encoder.",
        lab_numbers: &[],
        lecturer_note: "Change the noise density knob in the picker and press New example: the strip and the supervised count follow the knob.",
        exercise: "Count the target tokens T5's decoder writes and BART's decoder writes for the same example. Which costs more per step?",
    },
    TourStep {
        title: "Permutation against left to right",
        question: "XLNet predicts tokens in a random order but never sees the token it predicts. Does that combine the best of both?",
        race: &["gpt", "xlnet"],
        look: Look::SideBySide { pair: 3 },
        explanation: "The permuted LM sees context on both sides, like a masked LM, yet has no [MASK] in its input, thanks to the two-stream attention whose query stream never sees its own token. XLNet reported gains over BERT on pair tasks; BART found the permuted LM behind the plain LM at generation.",
        cites: &[
            Cite {
                section: "xlnet-t6",
                claim: "XLNet-base (K = 6) reaches 85.63 MNLI-m against BERT's 84.34.",
                figures: &["85.63", "84.34"],
            },
            Cite {
                section: "bart-t1",
                claim: "BART's permuted LM has higher perplexity than the plain LM on every column (ELI5 24.03 against 21.40).",
                figures: &["24.03", "21.40"],
            },
        ],
        lab_figure: "RESULTS.md, ordering (a): xlnet's reply perplexity 67.0 against gpt's 1.72 at fast — with the caveat that XLNet is scored in natural order, an order it saw only by chance in pre-training.",
        lab_numbers: &["67.0 ± 9.7", "1.72 vs"],
        lecturer_note: "In the query-stream matrix, point at the diagonal: the blocked cell is the whole trick.",
        exercise: "In the flow graph of the query stream, pick a target. Which positions can reach it, and why never itself?",
    },
];

/// Whether `figure` appears in `text` as a number of its own (not inside a longer one).
pub fn quotes(text: &str, figure: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find(figure) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        let after = text[at + figure.len()..].chars().next();
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '.');
        // A trailing full stop ends a sentence, not a number.
        let after_ok = !digit(after)
            || (after == Some('.')
                && !text[at + figure.len() + 1..].starts_with(|c: char| c.is_ascii_digit()));
        if !digit(before) && after_ok {
            return true;
        }
        from = at + figure.len();
    }
    false
}

/// The text of section `id` of `docs/papers.md`.
pub fn papers_section<'a>(papers: &'a str, id: &str) -> Option<&'a str> {
    let head = format!("## {id} — ");
    let start = papers.find(&head)?;
    let rest = &papers[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    Some(&rest[..end])
}

/// The project's notes of the papers, as the page shows them.
pub const PAPERS_MD: &str = include_str!("../../../docs/papers.md");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::compare::table::COLUMNS;
    use crate::core::mix::ObjectiveMix;
    use crate::core::viz::preview::COMPARISONS;

    #[test]
    fn every_figure_a_step_quotes_is_in_the_papers_notes_and_results() {
        let results = include_str!("../../../RESULTS.md");
        for step in &TOUR {
            assert!(!step.cites.is_empty(), "{}: cites nothing", step.title);
            for cite in step.cites {
                let section = papers_section(PAPERS_MD, cite.section).unwrap_or_else(|| {
                    panic!(
                        "{}: no section `{}` in docs/papers.md",
                        step.title, cite.section
                    )
                });
                for f in cite.figures {
                    assert!(
                        quotes(section, f),
                        "{}: `{f}` is not in section {}",
                        step.title,
                        cite.section
                    );
                    assert!(
                        quotes(cite.claim, f),
                        "{}: the claim does not say `{f}`",
                        step.title
                    );
                }
            }
            for n in step.lab_numbers {
                assert!(
                    results.contains(n),
                    "{}: RESULTS.md does not say `{n}`",
                    step.title
                );
            }
        }
    }

    #[test]
    fn every_step_races_mixes_the_lab_trains_and_looks_at_a_view_that_exists() {
        for step in &TOUR {
            for mix in step.race {
                let (mix, _) = ObjectiveMix::parse(mix).expect("a mix");
                crate::core::plan::plan(&mix).expect("a mix the lab trains");
            }
            match step.look {
                Look::Column { key } => assert!(COLUMNS.iter().any(|c| c.key == key), "{key}"),
                Look::SideBySide { pair } => assert!(pair < COMPARISONS.len()),
                Look::Scatter { .. } | Look::Curves { .. } => {}
            }
            for text in [
                step.question,
                step.explanation,
                step.lecturer_note,
                step.exercise,
            ] {
                assert!(
                    text.len() > 20 && text.len() < 600,
                    "{}: {text}",
                    step.title
                );
            }
        }
    }

    #[test]
    fn the_papers_notes_agree_with_the_reference_notes_where_they_exist() {
        let reference =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/PAPERS.md");
        let Ok(reference) = std::fs::read_to_string(&reference) else {
            eprintln!("no ../shared/PAPERS.md here: the comparison is made where it exists");
            return;
        };
        // Every decimal figure of our notes appears in the reference notes.
        let mut checked = 0;
        for word in PAPERS_MD.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
            let word = word.trim_matches('.');
            if word.contains('.') && word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                assert!(
                    quotes(&reference, word),
                    "docs/papers.md says {word}, the reference notes do not"
                );
                checked += 1;
            }
        }
        assert!(checked > 80, "only {checked} figures compared");
    }

    #[test]
    fn quoting_matches_whole_numbers_only() {
        assert!(quotes("MRPC 86.5 vs 77.5.", "77.5"));
        assert!(!quotes("186.5", "86.5"));
        assert!(!quotes("86.54", "86.5"));
        assert!(
            papers_section(PAPERS_MD, "albert-t5")
                .is_some_and(|s| s.contains("86.5") && !s.contains("Table 6"))
        );
    }
}

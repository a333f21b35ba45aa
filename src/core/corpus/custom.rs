//! Bring your own text: turns plain text a student pasted, uploaded or gave to the CLI
//! (`--corpus FILE`) into a [`Corpus`] that every pre-training objective and the pair
//! evaluation can use, or into a [`CustomTextError`] that says what to change.
//!
//! - **Decoding** ([`decode`]) checks the size cap first, then refuses UTF-16, NUL bytes and
//!   text that is mostly control characters (binary files), then invalid UTF-8 (saying at
//!   which byte and line). A UTF-8 byte-order mark is dropped.
//! - **Sentences** ([`paragraphs`]): a sentence ends at a terminator of any script (`. ! ? …`,
//!   `。！？`, `।`, `۔ ؟`, `։`, `።`…) together with the closing quotes and brackets after it,
//!   and at every line break, so poems, lists and one-sentence-per-line text keep their lines.
//!   The Latin full stop is the ambiguous one: it ends a sentence only before whitespace (not in
//!   `3.5` or `example.com`), not before a lowercase word (`e.g. this`), and not after a known
//!   abbreviation, an initial, a dotted acronym (`U.S.`) or a list number. Text without any
//!   terminator (Thai, emoji, headings) is one sentence per line. A sentence over
//!   [`MAX_SENTENCE_CHARS`] is cut at whitespace, or between characters where a script has none
//!   (never inside an emoji sequence or before a combining mark), so every segment fits a
//!   model's context.
//! - **Documents** are paragraphs (blank-line separated); a one-sentence paragraph (a heading)
//!   joins the next, long paragraphs are cut into documents of about eight sentences, and a
//!   text with too few paragraphs for three splits is cut into documents of about four (or
//!   two) sentences instead. Splits are drawn by document from the corpus seed (the corpus
//!   stream; pair sets use the pairs stream), about 80/10/10, with at least two documents
//!   each, so every split can have random negatives.
//! - **Pairs** follow the support-desk corpus (Devlin et al. 2019 NSP; Lan et al. 2020 SOP):
//!   a positive is two consecutive sentences of one document. A random negative takes B from
//!   another document of the same split; a hard negative takes a non-adjacent sentence of the
//!   same document (same topic, wrong place), or, where the document is too short, the
//!   sentence of another document most similar to the true B by TF-IDF cosine (words for
//!   scripts written with spaces, character bigrams for CJK and Thai), so topic alone cannot
//!   decide; a swapped negative is (B, A). A negative is never a pair that occurs as
//!   consecutive sentences anywhere in the text, so repeated sentences cannot make a negative
//!   that is really a positive. Label-1 and label-0 items use different positives where there
//!   are enough. If a split cannot get a pair set of every kind, documents that can help move
//!   to it from the split with the most of them; only text too repetitive for any fair
//!   negative is refused, at once where the whole text has none of some kind, and after a
//!   bounded search otherwise, so even megabytes of repeats are answered in seconds.
//!
//! Layout: this file holds the limits, the errors, decoding and documents; `sentences` the
//! splitter, `pairs` the pair sets (and `pairs::splits` the split search), `tfidf` the
//! similarity behind hard negatives.

pub mod lines;
mod pairs;
mod sentences;
mod tfidf;

use super::{Corpus, CorpusSource, Document, Genre, PairKind, Part, Split};
use crate::core::exec::{Checkpoint, NoYield, run_ready};
use pairs::PairBuilder;
use sentences::lines;
pub use sentences::{paragraphs, paragraphs_with_report};

/// Largest text accepted, in bytes (5 MB: a few novels, far more than a tiny model needs).
pub const MAX_BYTES: usize = 5_000_000;
/// Longest line accepted, in characters; a longer line is almost always a file without line
/// breaks (minified data, a single-line export) rather than prose.
pub const MAX_LINE_CHARS: usize = 20_000;
/// Longest sentence kept in one piece, in characters; longer ones are cut.
pub const MAX_SENTENCE_CHARS: usize = 400;
/// At most this many pairs in each training pair set (half positives).
pub const TRAIN_PAIR_CAP: usize = 2_000;
/// At most this many pairs in each validation or test pair set (half positives).
pub const EVAL_PAIR_CAP: usize = 1_000;

/// A paragraph with more sentences than this is cut into documents of [`DOC_SENTENCES`].
const LONG_PARAGRAPH: usize = 12;
const DOC_SENTENCES: usize = 8;
/// Document size when paragraphs give too few documents for three splits.
const SHORT_DOC_SENTENCES: usize = 4;
/// Each split gets at least this many documents, so random negatives have another document.
const MIN_SPLIT_DOCS: usize = 2;
const MIN_DOCS: usize = 3 * MIN_SPLIT_DOCS;
/// A file whose characters are more than 1 in this many control characters is binary.
const BINARY_CONTROL_RATIO: usize = 20;
/// …and has at least this many (a stray bell or form feed in a short note is not binary).
const BINARY_MIN_CONTROL: usize = 4;

/// How much text the chosen objectives need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Fewest sentences accepted. Values below [`Needs::TOKENS`] are raised to it: three
    /// splits of balanced pair sets of every kind need that much in any case.
    pub min_sentences: usize,
}

impl Needs {
    /// Token-level objectives only (causal LM, masked LM, span corruption…). Also the floor:
    /// 20 sentences always make at least six documents of two or more sentences, two per
    /// split, so every split gets pair sets of every kind (unless the text is all repeats).
    pub const TOKENS: Needs = Needs { min_sentences: 20 };
    /// Sentence-pair objectives (NSP, SOP): enough consecutive pairs to pre-train on.
    pub const PAIRS: Needs = Needs { min_sentences: 40 };

    /// The stricter of two needs (for a mix of objectives).
    pub fn max(self, other: Needs) -> Needs {
        Needs {
            min_sentences: self.min_sentences.max(other.min_sentences),
        }
    }

    fn effective(self) -> usize {
        self.min_sentences.max(Self::TOKENS.min_sentences)
    }
}

/// Why a text cannot be used; each message tells the student what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CustomTextError {
    #[error(
        "Your text is empty (or only spaces and blank lines). Paste or upload some plain text: \
         a few paragraphs of prose work well."
    )]
    Empty,
    #[error(
        "Your text is {bytes} bytes (about {} MB); the limit is {} MB. Use a shorter excerpt: \
         a few chapters are plenty for a tiny model.",
        megabytes(*.bytes),
        megabytes(*.cap)
    )]
    TooLarge { bytes: usize, cap: usize },
    #[error(
        "This file is saved as UTF-16, not UTF-8. Open it in a text editor, save it as UTF-8 \
         plain text and try again."
    )]
    Utf16,
    #[error(
        "Your file is not valid UTF-8: the bytes at offset {byte_offset} (line {line}) are not \
         UTF-8 text. It is probably saved in another encoding (such as Latin-1 or \
         Windows-1252); open it in a text editor, save it as UTF-8 and try again."
    )]
    NotUtf8 { byte_offset: usize, line: usize },
    #[error(
        "Your file contains a NUL byte at offset {byte_offset} (line {line}), so it looks like a \
         binary file (a PDF, a Word document, an image…) or UTF-16 text, not plain text. Export \
         or save it as plain UTF-8 text (.txt) and try again."
    )]
    NulByte { byte_offset: usize, line: usize },
    #[error(
        "{control_chars} of the {chars} characters in your file are control characters, so it \
         looks like a binary file rather than plain text. Export or save it as plain UTF-8 text \
         (.txt) and try again."
    )]
    Binary { control_chars: usize, chars: usize },
    #[error(
        "Line {line} of your text is {chars} characters long; the limit is {cap} characters per \
         line. It needs line breaks: put each paragraph (or each sentence) on its own line and \
         try again."
    )]
    LineTooLong {
        line: usize,
        chars: usize,
        cap: usize,
    },
    #[error(
        "Your text has no words, only punctuation, symbols or invisible characters. Paste some \
         sentences of ordinary text."
    )]
    NoWords,
    #[error("{}", too_few_message(*.found, *.needed))]
    TooFewSentences { found: usize, needed: usize },
    #[error(
        "Your text repeats the same sentences so much that no fair {} test pairs can be made \
         for the {split} split ({distinct} different sentences among {sentences}). Paste text \
         with more varied sentences.",
        .kind.name()
    )]
    TooRepetitive {
        split: Split,
        kind: PairKind,
        distinct: usize,
        sentences: usize,
    },
}

fn megabytes(bytes: usize) -> String {
    if bytes.is_multiple_of(1_000_000) {
        format!("{}", bytes / 1_000_000)
    } else {
        format!("{:.1}", bytes as f64 / 1e6)
    }
}

fn too_few_message(found: usize, needed: usize) -> String {
    let sentences = if found == 1 { "sentence" } else { "sentences" };
    let hint = if needed > Needs::TOKENS.min_sentences {
        format!(
            ", or choose only token-level objectives, which need {}",
            Needs::TOKENS.min_sentences
        )
    } else {
        String::new()
    };
    format!(
        "Your text has {found} {sentences}; the objectives you chose need at least {needed}. \
         Paste more text (a few paragraphs of prose work well){hint}."
    )
}

/// Decodes an uploaded file: size cap, then UTF-16, NUL bytes, UTF-8 validity and the share of
/// control characters. A UTF-8 byte-order mark is dropped.
pub fn decode(bytes: &[u8]) -> Result<String, CustomTextError> {
    if bytes.len() > MAX_BYTES {
        return Err(CustomTextError::TooLarge {
            bytes: bytes.len(),
            cap: MAX_BYTES,
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(CustomTextError::Utf16);
    }
    let line_at = |offset: usize| {
        1 + bytes
            .get(..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
    };
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(CustomTextError::NulByte {
            byte_offset: offset,
            line: line_at(offset),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| CustomTextError::NotUtf8 {
        byte_offset: e.valid_up_to(),
        line: line_at(e.valid_up_to()),
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    check_plain_text(text)?;
    Ok(text.to_string())
}

/// Refuses text that is not plain text: a NUL character, or control characters (other than
/// tab and line breaks) making up more than one character in [`BINARY_CONTROL_RATIO`] (and at
/// least [`BINARY_MIN_CONTROL`]). An upload gets this check from [`decode`]; pasted text,
/// which arrives as a string, from [`build`], so both ways in refuse the same text.
pub fn check_plain_text(text: &str) -> Result<(), CustomTextError> {
    if let Some(offset) = text.find('\0') {
        return Err(CustomTextError::NulByte {
            byte_offset: offset,
            line: 1 + text
                .get(..offset)
                .map_or(0, |before| before.matches('\n').count()),
        });
    }
    let (mut chars, mut control_chars) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            control_chars += 1;
        }
    }
    if control_chars >= BINARY_MIN_CONTROL && control_chars * BINARY_CONTROL_RATIO > chars {
        return Err(CustomTextError::Binary {
            control_chars,
            chars,
        });
    }
    Ok(())
}

/// Decodes and builds in one step (the CLI's `--corpus FILE` and an upload in the page).
pub fn build_from_bytes(
    bytes: &[u8],
    name: &str,
    corpus_seed: u64,
    needs: Needs,
) -> Result<Corpus, CustomTextError> {
    build(&decode(bytes)?, name, corpus_seed, needs)
}

/// Builds a corpus from a student's text: documents, splits, segment pairs and one balanced
/// pair set per split × negative kind, all decided by `corpus_seed`. Text that did not come
/// through [`decode`] (pasted text) gets the same size and binary checks here.
pub fn build(
    text: &str,
    name: &str,
    corpus_seed: u64,
    needs: Needs,
) -> Result<Corpus, CustomTextError> {
    run_ready(build_cooperatively(
        text,
        name,
        corpus_seed,
        needs,
        &mut NoYield,
    ))
}

/// [`build`], awaiting `cp` between short stretches of work (a chunk of lines split into
/// sentences, a batch of documents interned, one pair set of the split search), so the page's
/// worker can answer Pause and the tokenizer view while it builds megabytes. Same result.
pub async fn build_cooperatively(
    text: &str,
    name: &str,
    corpus_seed: u64,
    needs: Needs,
    cp: &mut impl Checkpoint,
) -> Result<Corpus, CustomTextError> {
    if text.len() > MAX_BYTES {
        return Err(CustomTextError::TooLarge {
            bytes: text.len(),
            cap: MAX_BYTES,
        });
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    check_plain_text(text)?;
    if text.trim().is_empty() {
        return Err(CustomTextError::Empty);
    }
    for (index, line) in lines(text).enumerate() {
        // A line of at most MAX_LINE_CHARS bytes cannot have more characters: skip the count.
        if line.len() > MAX_LINE_CHARS {
            let chars = line.chars().count();
            if chars > MAX_LINE_CHARS {
                return Err(CustomTextError::LineTooLong {
                    line: index + 1,
                    chars,
                    cap: MAX_LINE_CHARS,
                });
            }
        }
    }
    cp.checkpoint().await;
    let (paragraphs, line_report) = sentences::paragraphs_cooperatively(text, cp).await;
    let found: usize = paragraphs.iter().map(Vec::len).sum();
    if found == 0 {
        return Err(CustomTextError::NoWords);
    }
    let needed = needs.effective();
    if found < needed {
        return Err(CustomTextError::TooFewSentences { found, needed });
    }
    let docs = documents(paragraphs);
    if docs.len() < MIN_DOCS {
        // Unreachable with `needed` ≥ 20 (see `documents`), but never panic on it.
        return Err(CustomTextError::TooFewSentences { found, needed });
    }
    let names: Vec<String> = (0..docs.len()).map(|i| format!("text-{i:05}")).collect();
    cp.checkpoint().await;
    let pairs = PairBuilder::new(&docs, &names, corpus_seed, cp).await;
    let (splits, pair_sets) = pairs.assign_splits(cp).await?;
    cp.checkpoint().await;
    let segment_pairs = pairs.segment_pairs(&splits);
    cp.checkpoint().await;
    let documents = docs
        .into_iter()
        .zip(names)
        .zip(splits)
        .map(|((sentences, id), split)| Document {
            id,
            split,
            parts: vec![Part::new(Genre::Text, sentences)],
            case: None,
            policy: None,
        })
        .collect();
    Ok(Corpus {
        source: CorpusSource::Custom {
            name: name.to_string(),
            bytes: text.len(),
            corpus_seed,
        },
        documents,
        pair_sets,
        segment_pairs,
        line_report: Some(line_report),
    })
}

/// Paragraphs → documents: one-sentence paragraphs join the next; long paragraphs are cut into
/// documents of about [`DOC_SENTENCES`]; if that gives fewer than [`MIN_DOCS`], every
/// paragraph is cut into documents of about [`SHORT_DOC_SENTENCES`], then of two or three.
/// Every document then has at least two sentences (one consecutive pair), and with at least
/// 20 sentences the last tier gives at least 7 documents (⌊n/2⌋ ≥ n/3 for n ≥ 2).
fn documents(paragraphs: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut merged: Vec<Vec<String>> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        pending.extend(paragraph);
        if pending.len() >= 2 {
            merged.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        match merged.last_mut() {
            Some(last) => last.extend(pending),
            None => merged.push(pending),
        }
    }
    let tiers: [fn(usize) -> usize; 3] = [
        |n| {
            if n > LONG_PARAGRAPH {
                n.div_ceil(DOC_SENTENCES)
            } else {
                1
            }
        },
        |n| n.div_ceil(SHORT_DOC_SENTENCES),
        |n| (n / 2).max(1),
    ];
    // The first tier that gives enough documents (or the last); counted before cutting.
    let count = |pieces: fn(usize) -> usize| merged.iter().map(|p| pieces(p.len())).sum::<usize>();
    let pieces = tiers
        .into_iter()
        .find(|&pieces| count(pieces) >= MIN_DOCS)
        .unwrap_or(tiers[2]);
    merged
        .into_iter()
        .flat_map(|paragraph| {
            let n = paragraph.len();
            chunk(paragraph, pieces(n))
        })
        .collect()
}

/// Cuts `sentences` into `pieces` runs of near-equal length, in order.
fn chunk(sentences: Vec<String>, pieces: usize) -> Vec<Vec<String>> {
    let pieces = pieces.clamp(1, sentences.len().max(1));
    let (base, extra) = (sentences.len() / pieces, sentences.len() % pieces);
    let mut rest = sentences.into_iter();
    (0..pieces)
        .map(|p| rest.by_ref().take(base + usize::from(p < extra)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::core::corpus::{PairSet, PairSource};

    const NOUNS: &[&str] = &["fox", "river", "lamp", "garden", "letter", "train", "bread"];
    const PLACES: &[&str] = &["harbour", "market", "library", "station", "bridge"];

    /// `n` distinct English sentences, `per_paragraph` to a paragraph.
    fn prose(n: usize, per_paragraph: usize) -> String {
        let mut text = String::new();
        for i in 0..n {
            let noun = NOUNS[i % NOUNS.len()];
            let place = PLACES[i % PLACES.len()];
            text.push_str(&format!("Story {i} tells of the {noun} near the {place}."));
            text.push_str(if (i + 1) % per_paragraph == 0 {
                "\n\n"
            } else {
                " "
            });
        }
        text
    }

    /// Consecutive sentences within one document (what a label-1 pair is).
    fn positives(corpus: &Corpus) -> HashSet<(&str, &str)> {
        corpus
            .documents
            .iter()
            .flat_map(|d| d.parts.iter())
            .flat_map(|p| p.sentences.windows(2))
            .map(|w| (w[0].as_str(), w[1].as_str()))
            .collect()
    }

    /// Consecutive sentences anywhere in the text (what a label-0 pair must never be).
    fn adjacent(corpus: &Corpus) -> HashSet<(&str, &str)> {
        let all: Vec<&str> = corpus
            .documents
            .iter()
            .flat_map(|d| d.parts.iter())
            .flat_map(|p| p.sentences.iter().map(String::as_str))
            .collect();
        all.windows(2).map(|w| (w[0], w[1])).collect()
    }

    #[test]
    fn decode_errors_say_where() {
        assert_eq!(
            decode(&vec![b'a'; MAX_BYTES + 1]),
            Err(CustomTextError::TooLarge {
                bytes: MAX_BYTES + 1,
                cap: MAX_BYTES
            })
        );
        assert_eq!(
            decode(b"ab\ncd\xFFef"),
            Err(CustomTextError::NotUtf8 {
                byte_offset: 5,
                line: 2
            })
        );
        assert_eq!(
            decode(b"one\ntwo\nth\0ree"),
            Err(CustomTextError::NulByte {
                byte_offset: 10,
                line: 3
            })
        );
        assert_eq!(decode(b"\xFF\xFEh\0i\0"), Err(CustomTextError::Utf16));
        assert_eq!(
            decode(b"ab\x01\x02\x03\x04cd"),
            Err(CustomTextError::Binary {
                control_chars: 4,
                chars: 8
            })
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBFHello.\tA\x0Cpage.\r\n").as_deref(),
            Ok("Hello.\tA\x0Cpage.\r\n")
        );
    }

    #[test]
    fn pasted_text_gets_the_binary_check_an_upload_gets() {
        let nul = "one\ntwo\nth\0ree";
        let binary = "ab\u{1}\u{2}\u{3}\u{4}cd";
        for (text, refusal) in [
            (
                nul,
                CustomTextError::NulByte {
                    byte_offset: 10,
                    line: 3,
                },
            ),
            (
                binary,
                CustomTextError::Binary {
                    control_chars: 4,
                    chars: 8,
                },
            ),
        ] {
            assert_eq!(decode(text.as_bytes()), Err(refusal.clone()));
            assert_eq!(
                build(text, "pasted text", 1, Needs::TOKENS),
                Err(refusal.clone())
            );
            assert_eq!(check_plain_text(text), Err(refusal));
        }
    }

    #[test]
    fn build_errors_tell_the_student_what_to_do() {
        let build = |text: &str, needs| build(text, "t.txt", 1, needs);
        assert_eq!(build("", Needs::TOKENS), Err(CustomTextError::Empty));
        assert_eq!(
            build(" \n\t\r\n\u{3000}", Needs::TOKENS),
            Err(CustomTextError::Empty)
        );
        assert_eq!(
            build("... !!! ???\n---", Needs::TOKENS),
            Err(CustomTextError::NoWords)
        );
        let long_line = format!("a.\nb.\n{}\n", "x".repeat(MAX_LINE_CHARS + 1));
        assert_eq!(
            build(&long_line, Needs::TOKENS),
            Err(CustomTextError::LineTooLong {
                line: 3,
                chars: MAX_LINE_CHARS + 1,
                cap: MAX_LINE_CHARS
            })
        );
        assert_eq!(
            build(&"a".repeat(MAX_BYTES + 1), Needs::TOKENS),
            Err(CustomTextError::TooLarge {
                bytes: MAX_BYTES + 1,
                cap: MAX_BYTES
            })
        );
        let few = build(&prose(7, 3), Needs::PAIRS);
        assert_eq!(
            few,
            Err(CustomTextError::TooFewSentences {
                found: 7,
                needed: 40
            })
        );
        let message = few.unwrap_err().to_string();
        assert!(
            message.starts_with(
                "Your text has 7 sentences; the objectives you chose need at least 40."
            )
        );
        assert!(message.contains("token-level objectives, which need 20"));
        // A need below the floor is raised to it.
        assert_eq!(
            build(&prose(19, 5), Needs { min_sentences: 3 }),
            Err(CustomTextError::TooFewSentences {
                found: 19,
                needed: 20
            })
        );
        let same = "The same sentence again. ".repeat(60);
        assert!(matches!(
            build(&same, Needs::PAIRS),
            Err(CustomTextError::TooRepetitive { distinct: 1, .. })
        ));
        let too_large = CustomTextError::TooLarge {
            bytes: 6_200_000,
            cap: MAX_BYTES,
        };
        assert!(
            too_large
                .to_string()
                .contains("(about 6.2 MB); the limit is 5 MB.")
        );
        let line = CustomTextError::LineTooLong {
            line: 3,
            chars: 25_000,
            cap: MAX_LINE_CHARS,
        };
        assert!(line.to_string().contains("Line 3") && line.to_string().contains("line breaks"));
        let core: crate::core::error::CoreError = CustomTextError::Empty.into();
        assert!(core.to_string().starts_with("Your text is empty"), "{core}");
    }

    #[test]
    fn documents_follow_paragraphs_and_fall_back_to_chunks() {
        let paragraph = |n: usize, tag: &str| -> Vec<String> {
            (0..n).map(|i| format!("{tag} {i}.")).collect()
        };
        // A one-sentence heading joins the next paragraph; 30 sentences become 8/8/7/7.
        let mut paragraphs = vec![paragraph(1, "heading"), paragraph(5, "intro")];
        paragraphs.extend((0..4).map(|k| paragraph(3, &format!("p{k}"))));
        paragraphs.push(paragraph(30, "long"));
        let sizes: Vec<usize> = documents(paragraphs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [6, 3, 3, 3, 3, 8, 8, 7, 7]);
        // One paragraph of 20 sentences: chunks of four give only five documents, so pairs.
        let sizes: Vec<usize> = documents(vec![paragraph(20, "s")])
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [2; 10]);
    }

    #[test]
    fn corpus_has_balanced_fair_pair_sets_in_every_split() {
        let corpus = build(&prose(200, 6), "stories.txt", 7, Needs::PAIRS).unwrap();
        assert_eq!(
            corpus.source,
            CorpusSource::Custom {
                name: "stories.txt".into(),
                bytes: prose(200, 6).len(),
                corpus_seed: 7
            }
        );
        assert_eq!(corpus.sentence_count(), 200);
        assert_eq!(corpus.documents.len(), 34);
        assert_eq!(corpus.documents[12].id, "text-00012");
        let counts: Vec<usize> = Split::ALL
            .iter()
            .map(|&s| corpus.split(s).count())
            .collect();
        assert_eq!(counts, [26, 4, 4]);
        let (positives, adjacent) = (positives(&corpus), adjacent(&corpus));
        for split in Split::ALL {
            let docs: HashSet<&str> = corpus.split(split).map(|d| d.id.as_str()).collect();
            for kind in PairKind::ALL {
                let set = corpus.pair_set(split, kind).unwrap();
                assert!(set.is_balanced(), "{split} {kind:?}");
                for pair in &set.pairs {
                    assert!(docs.contains(pair.doc.as_str()));
                    assert_eq!(
                        (pair.kind, pair.genre, pair.source),
                        (kind, Genre::Text, PairSource::Consecutive)
                    );
                    let ab = (pair.a.as_str(), pair.b.as_str());
                    let expected = if pair.label == 1 {
                        &positives
                    } else {
                        &adjacent
                    };
                    assert_eq!(expected.contains(&ab), pair.label == 1, "{pair:?}");
                }
            }
        }
        // 200 sentences in 34 documents: 166 consecutive pairs in all, those of train here.
        let train_pairs: usize = corpus
            .split(Split::Train)
            .map(|d| d.sentence_count() - 1)
            .sum();
        assert_eq!(corpus.segment_pairs.len(), train_pairs);
        let train_set = corpus.pair_set(Split::Train, PairKind::Swapped).unwrap();
        assert_eq!(train_set.pairs.len(), 2 * (train_pairs / 2));
    }

    #[test]
    fn hard_negatives_come_from_the_same_document_when_it_is_long_enough() {
        let corpus = build(&prose(120, 6), "t", 3, Needs::PAIRS).unwrap();
        let doc_of: std::collections::HashMap<&str, &str> = corpus
            .documents
            .iter()
            .flat_map(|d| {
                d.parts[0]
                    .sentences
                    .iter()
                    .map(move |s| (s.as_str(), d.id.as_str()))
            })
            .collect();
        for split in Split::ALL {
            let set = corpus.pair_set(split, PairKind::Hard).unwrap();
            for pair in set.pairs.iter().filter(|p| p.label == 0) {
                assert_eq!(doc_of[pair.b.as_str()], pair.doc);
            }
        }
    }

    #[test]
    fn same_seed_same_corpus_other_seed_other_split() {
        let text = prose(150, 5);
        let a = build(&text, "t", 11, Needs::PAIRS).unwrap();
        assert_eq!(a, build(&text, "t", 11, Needs::PAIRS).unwrap());
        let b = build(&text, "t", 12, Needs::PAIRS).unwrap();
        let splits = |c: &Corpus| c.documents.iter().map(|d| d.split).collect::<Vec<_>>();
        assert_ne!(splits(&a), splits(&b));
        assert_eq!(a.sentence_count(), b.sentence_count());
    }

    #[test]
    fn repeated_sentences_never_make_a_negative_that_is_a_positive() {
        // Every third sentence is the same refrain, so it is followed by many different
        // sentences and a random or hard B can easily be a true next sentence elsewhere.
        let mut text = String::new();
        for i in 0..90 {
            text.push_str(if i % 3 == 0 { "La la la." } else { "" });
            text.push_str(&format!(" Verse {i} is here. "));
            text.push_str(if i % 4 == 3 { "\n\n" } else { "" });
        }
        let corpus = build(&text, "song", 5, Needs::PAIRS).unwrap();
        let adjacent = adjacent(&corpus);
        for set in &corpus.pair_sets {
            assert!(set.is_balanced());
            for pair in set.pairs.iter().filter(|p| p.label == 0) {
                assert_ne!(pair.a, pair.b);
                assert!(
                    !adjacent.contains(&(pair.a.as_str(), pair.b.as_str())),
                    "{pair:?}"
                );
            }
        }
    }

    #[test]
    fn the_minimum_is_enough_for_every_pair_set() {
        for seed in 0..20 {
            for (n, per) in [(20, 20), (20, 1), (21, 2), (40, 40), (40, 3)] {
                let corpus = build(&prose(n, per), "t", seed, Needs::TOKENS).unwrap();
                assert_eq!(corpus.pair_sets.len(), 9);
                assert!(corpus.pair_sets.iter().all(PairSet::is_balanced));
                assert!(!corpus.segment_pairs.is_empty());
            }
        }
    }
}

//! Fuzz target `own_text`: a student's own text from the first byte to a batch of every
//! objective — decoding (an upload) or none (pasted text), sentences, documents, the split
//! search and pair sets, the tokenizer and packed splits, then each objective's batcher.
//!
//! Random bytes alone almost never make twenty sentences, so the text is assembled from a mix
//! of raw arbitrary strings and pieces that reach deep: runs of ordinary sentences, sentence
//! ends of many scripts, blank lines and every line break, abbreviations and list numbers,
//! lines repeated many times, lines too long to keep, emoji sequences, control characters and
//! byte-order marks. Every refusal must be a typed error; a panic (or a hang) is a finding.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};

use crate::core::config::{ModelSize, RunConfig};
use crate::core::corpus::CorpusInput;
use crate::core::corpus::custom::{self, MAX_LINE_CHARS, Needs};
use crate::core::data::Dataset;
use crate::core::mix::{ObjectiveMix, PRESETS};
use crate::core::objective::Objective;
use crate::core::train::first_batches;

/// The largest text the harness assembles (the driver's inputs are far smaller than the
/// 5 MB cap; repeats are what make a text long here).
const MAX_TEXT_BYTES: usize = 256 * 1024;

/// Pieces that sit on the splitter's edges.
const PIECES: &[&str] = &[
    ". ",
    "! ",
    "? ",
    "...",
    "…",
    "?!",
    ".\" ",
    "?) ",
    "。",
    "！",
    "।",
    "۔",
    "؟",
    "։",
    "።",
    "\n",
    "\n\n",
    "\n\n\n",
    "\r\n",
    "\r\n\r\n",
    "\r",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\t",
    "    ",
    "\u{3000}",
    "Mr. ",
    "e.g. ",
    "3.5 ",
    "U.S. ",
    "J. R. R. ",
    "1. ",
    "12) ",
    "a) ",
    "- ",
    "* ",
    "• ",
    "# Heading\n",
    "TITLE IN CAPITALS\n",
    "=====\n",
    "```\n",
    "~~~\n",
    "    let x = 1;\n",
    "\u{200D}",
    "\u{200B}",
    "\u{200F}",
    "\u{202E}",
    "\u{FE0F}",
    "\u{FEFF}",
    "\u{AD}",
    "\u{0}",
    "\u{1}",
    "\u{7}",
    "\u{1B}",
    "\u{C}",
    "\u{7F}",
    "👨‍👩‍👧",
    "🇫🇷",
    "👍🏽",
    "e\u{301}",
    "東京は大きい都市です。",
    "今天天气很好。",
    "ภาษาไทยง่าย ",
    "Привет, мир. ",
    "नमस्ते दुनिया। ",
    "مرحبا بالعالم؟ ",
    "* * *",
    "---",
    "\"",
    "«",
    "」",
    "(",
    ")",
];

const WORDS: &[&str] = &[
    "the", "fox", "river", "lamp", "garden", "letter", "train", "bread", "harbour", "walks",
    "sings", "quietly", "under", "over", "green", "cold", "Maria", "refund", "kettle", "a",
];

/// `n` ordinary sentences, numbered from `start` so they differ.
fn sentences(u: &mut Unstructured<'_>, start: usize, n: usize) -> arbitrary::Result<String> {
    let mut text = String::new();
    for k in start..start + n {
        let words = u.int_in_range(1..=8)?;
        text.push_str("Then");
        for _ in 0..words {
            text.push(' ');
            text.push_str(u.choose(WORDS)?);
        }
        text.push_str(&format!(" {k}"));
        text.push_str(u.choose(&[". ", "! ", "? ", ".\n", ".\n\n", "。"])?);
    }
    Ok(text)
}

/// The last up to `bytes` bytes of `text`, cut at a character boundary.
fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or("")
}

/// Assembles a text from the bytes (see the module doc).
fn own_text(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut text = String::new();
    let mut counter = 0;
    for _ in 0..u.int_in_range(0..=48)? {
        if text.len() > MAX_TEXT_BYTES {
            break;
        }
        match u.int_in_range(0..=9)? {
            0 | 1 => text.push_str(<&str>::arbitrary(u)?),
            2..=4 => text.push_str(u.choose(PIECES)?),
            5 | 6 => {
                let n = u.int_in_range(1..=40)?;
                text.push_str(&sentences(u, counter, n)?);
                counter += n;
            }
            7 => {
                // A line or stretch repeated: repetitive text is what strains the pair sets.
                let piece = tail(&text, u.int_in_range(1..=200)?).to_string();
                let times = u.int_in_range(1..=2_000)?;
                let room = MAX_TEXT_BYTES.saturating_sub(text.len()) / piece.len().max(1);
                text.push_str(&piece.repeat(times.min(room)));
            }
            8 => {
                // A very long line: just under or over the cap, with or without spaces.
                let c = *u.choose(&['x', ' ', '東', '🙂', '.'])?;
                let len = u.int_in_range(MAX_LINE_CHARS - 2..=MAX_LINE_CHARS + 2)?;
                let len = if u.arbitrary()? { len } else { len / 40 };
                text.extend(std::iter::repeat_n(c, len));
            }
            _ => text.push_str(&" ".repeat(u.int_in_range(1..=3)?)),
        }
    }
    Ok(text)
}

/// The target: own text → corpus → tokenizer and dataset → one batch of every objective.
pub fn run(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let text = own_text(u)?;
    let corpus_seed = u64::arbitrary(u)?;
    let needs = match u.int_in_range(0..=2)? {
        0 => Needs::TOKENS,
        1 => Needs::PAIRS,
        _ => Needs {
            min_sentences: u.int_in_range(0..=200)?,
        },
    };
    let uploaded = bool::arbitrary(u)?;
    let input = if uploaded {
        // An upload: its bytes, perhaps with a byte-order mark or a stray invalid byte.
        let mut bytes = text.into_bytes();
        match u.int_in_range(0..=5)? {
            0 => bytes.splice(0..0, [0xEF, 0xBB, 0xBF]).for_each(drop),
            1 => bytes.splice(0..0, [0xFF, 0xFE]).for_each(drop),
            2 => {
                let at = u.int_in_range(0..=bytes.len())?;
                bytes.insert(at, *u.choose(&[0xFF, 0x80, 0xC0])?);
            }
            _ => {}
        }
        match custom::decode(&bytes) {
            Ok(text) => CorpusInput::Custom {
                name: "upload.txt".into(),
                text,
            },
            Err(_) => return Ok(()),
        }
    } else {
        CorpusInput::Custom {
            name: "pasted text".into(),
            text,
        }
    };
    let Ok(corpus) = input.build(corpus_seed, needs) else {
        return Ok(());
    };
    let size = ModelSize::Fast;
    let Ok(dataset) = Dataset::new(Arc::new(corpus), size.model().vocab_size) else {
        return Ok(());
    };
    let mut config = RunConfig::new(size);
    config.seed = u64::arbitrary(u)?;
    config.corpus_seed = corpus_seed;
    let mut mixes: Vec<ObjectiveMix> = Objective::ALL.map(ObjectiveMix::single).to_vec();
    if let Ok((mix, _)) = ObjectiveMix::parse(u.choose(&PRESETS)?.1) {
        mixes.push(mix);
    }
    for mix in mixes {
        // A refusal (too few pairs for NSP, say) is a typed error, and fine.
        let _ = first_batches(&dataset, &config, &mix);
    }
    Ok(())
}

//! Sentence splitting for bring-your-own text, in every script.
//!
//! A sentence ends at a terminator (`. ! ? …`, `。！？`, `।`, `۔ ؟`, `։`, `።`…) together with
//! the closing quotes and brackets after it, and at every line break that means one (a
//! hard-wrapped paragraph's soft breaks are joined first: [`super::lines`]). The Latin full stop is
//! the ambiguous one: it ends a sentence only before whitespace (not in `3.5` or
//! `example.com`), not before a lowercase word (`e.g. this`), and not after a known
//! abbreviation, an initial, a dotted acronym (`U.S.`) or a list number. A run without any
//! terminator (Thai, emoji, a heading) is one sentence. A sentence over
//! [`MAX_SENTENCE_CHARS`] is cut at whitespace, or between characters where a script has none,
//! never inside an emoji sequence or before a combining mark.

use super::MAX_SENTENCE_CHARS;
use crate::core::exec::{Checkpoint, NoYield, run_ready};

/// Lines of `text`: `\r\n`, `\n`, a lone `\r`, NEL and the Unicode line and paragraph
/// separators all end a line.
pub(super) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').flat_map(|line| {
        line.strip_suffix('\r')
            .unwrap_or(line)
            .split(['\r', '\u{85}', '\u{2028}', '\u{2029}'])
    })
}

/// Splits text into paragraphs (blank-line separated) of sentences, as [`super::build`] does:
/// soft line breaks of hard-wrapped text joined first ([`super::lines`]).
pub fn paragraphs(text: &str) -> Vec<Vec<String>> {
    paragraphs_with_report(text).0
}

/// [`paragraphs`], with what happened to the text's line breaks.
pub fn paragraphs_with_report(text: &str) -> (Vec<Vec<String>>, super::lines::LineReport) {
    run_ready(paragraphs_cooperatively(text, &mut NoYield))
}

/// Bytes of text split between two checkpoints (a few milliseconds of work).
const SPLIT_CHUNK_BYTES: usize = 64 * 1024;

/// [`paragraphs_with_report`], awaiting `cp` after every [`SPLIT_CHUNK_BYTES`] of lines.
pub(super) async fn paragraphs_cooperatively(
    text: &str,
    cp: &mut impl Checkpoint,
) -> (Vec<Vec<String>>, super::lines::LineReport) {
    let (logical, report) = super::lines::logical_lines_cooperatively(lines(text), cp).await;
    cp.checkpoint().await;
    let mut splitter = Splitter::default();
    let mut since = 0usize;
    for line in &logical {
        splitter.line(line, cp).await;
        since += line.len() + 1;
        if since >= SPLIT_CHUNK_BYTES {
            since = 0;
            cp.checkpoint().await;
        }
    }
    splitter.end_paragraph();
    (splitter.paragraphs, report)
}

/// Abbreviations whose full stop does not end a sentence (lowercase, without the final dot).
/// Ones that often end a sentence (`etc.`, `Inc.`, `no.`) are left out on purpose.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "rev", "gen", "col", "capt", "lt", "sgt", "sen", "gov",
    "pres", "jr", "sr", "st", "mt", "vs", "cf", "approx", "fig", "figs", "eq", "vol", "pp", "ch",
    "sec", "dept", "ca", "bzw", "vgl", "nr", "mme", "mlle", "sra", "srta",
];

#[derive(Default)]
struct Splitter {
    paragraphs: Vec<Vec<String>>,
    paragraph: Vec<String>,
    current: String,
    /// Byte offset in `current` where the word being read starts.
    word_start: usize,
}

impl Splitter {
    /// Reads one logical line, awaiting `cp` every [`SPLIT_CHUNK_BYTES`] characters (a
    /// hard-wrapped text can join into one line of megabytes).
    async fn line(&mut self, line: &str, cp: &mut impl Checkpoint) {
        if line.chars().all(|c| c.is_whitespace() || c.is_control()) {
            self.end_paragraph();
            return;
        }
        self.end_sentence();
        let chars: Vec<char> = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut i = 0;
        let mut next_checkpoint = SPLIT_CHUNK_BYTES;
        while let Some(&c) = chars.get(i) {
            i += 1;
            if i >= next_checkpoint {
                next_checkpoint += SPLIT_CHUNK_BYTES;
                cp.checkpoint().await;
            }
            if c.is_whitespace() {
                if !self.current.is_empty() && !self.current.ends_with(' ') {
                    self.current.push(' ');
                }
                self.word_start = self.current.len();
                continue;
            }
            self.current.push(c);
            if !is_terminator(c) {
                continue;
            }
            let mut unconditional = !is_spaced_terminator(c);
            let mut single_period = c == '.';
            while let Some(&d) = chars.get(i)
                && is_terminator(d)
            {
                self.current.push(d);
                i += 1;
                unconditional |= !is_spaced_terminator(d);
                single_period = false;
            }
            while let Some(&d) = chars.get(i)
                && is_closer(d)
            {
                self.current.push(d);
                i += 1;
                single_period = false;
            }
            if unconditional || self.ends_here(chars.get(i..).unwrap_or(&[]), single_period) {
                self.end_sentence();
            }
        }
    }

    /// Whether a spaced terminator (and its closers) ends the sentence, given what follows.
    fn ends_here(&self, rest: &[char], single_period: bool) -> bool {
        match rest.first() {
            None => return true,
            Some(&d) if is_unspaced_script(d) => return true,
            Some(&d) if !d.is_whitespace() => return false,
            Some(_) => {}
        }
        let next = rest.iter().find(|&&c| !c.is_whitespace() && !is_opener(c));
        if next.is_some_and(|c| c.is_lowercase()) {
            return false;
        }
        !(single_period && self.is_abbreviation())
    }

    /// Whether the word just read (ending in a single full stop) is an abbreviation, an
    /// initial, a dotted acronym or a list number at the start of a sentence.
    fn is_abbreviation(&self) -> bool {
        let word = self.current.get(self.word_start..).unwrap_or("");
        let Some(core) = word.strip_suffix('.') else {
            return false;
        };
        let core = core.trim_start_matches(|c: char| !c.is_alphanumeric());
        if core.is_empty() {
            return false;
        }
        let mut chars = core.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c.is_uppercase()
        {
            return true;
        }
        if core.contains('.')
            && core
                .split('.')
                .all(|seg| seg.chars().count() == 1 && seg.chars().all(char::is_alphabetic))
        {
            return true;
        }
        let first_word = self
            .current
            .get(..self.word_start)
            .is_some_and(|before| before.trim().is_empty());
        if first_word && core.len() <= 3 && core.chars().all(|c| c.is_ascii_digit()) {
            return true;
        }
        ABBREVIATIONS.contains(&core.to_lowercase().as_str())
    }

    fn end_sentence(&mut self) {
        let raw = std::mem::take(&mut self.current);
        self.word_start = 0;
        let sentence = raw.trim();
        if sentence.is_empty() {
            return;
        }
        if !has_content(sentence) {
            // Stray punctuation ("…", "* * *") joins the sentence before it, or is dropped;
            // invisible marks alone are dropped.
            if sentence.chars().any(|c| !is_invisible(c))
                && let Some(last) = self.paragraph.last_mut()
                && last.chars().count() + 1 + sentence.chars().count() <= MAX_SENTENCE_CHARS
            {
                last.push(' ');
                last.push_str(sentence);
            }
            return;
        }
        self.paragraph.extend(cut_long(sentence));
    }

    fn end_paragraph(&mut self) {
        self.end_sentence();
        if !self.paragraph.is_empty() {
            self.paragraphs.push(std::mem::take(&mut self.paragraph));
        }
    }
}

/// Cuts a sentence longer than [`MAX_SENTENCE_CHARS`] into pieces: at the last whitespace in
/// the second half of the window, or, in scripts without spaces, between two characters that
/// do not belong to one grapheme (so an emoji sequence or a letter with its marks stays whole).
fn cut_long(sentence: &str) -> Vec<String> {
    if sentence.len() <= MAX_SENTENCE_CHARS || sentence.chars().count() <= MAX_SENTENCE_CHARS {
        return vec![sentence.to_string()];
    }
    let chars: Vec<char> = sentence.chars().collect();
    let mut pieces = Vec::new();
    let mut push = |piece: &[char]| {
        let piece: String = piece.iter().collect();
        let piece = piece.trim();
        if !piece.is_empty() {
            pieces.push(piece.to_string());
        }
    };
    let mut start = 0;
    while chars.len().saturating_sub(start) > MAX_SENTENCE_CHARS {
        let limit = start + MAX_SENTENCE_CHARS;
        let earliest = start + MAX_SENTENCE_CHARS / 2;
        let space = (earliest..=limit)
            .rev()
            .find(|&k| chars.get(k).is_some_and(|c| c.is_whitespace()));
        let (end, next) = match space {
            Some(k) => (k, k + 1),
            None => {
                let mut k = limit;
                while k > earliest && splits_grapheme(&chars, k) {
                    k -= 1;
                }
                (k, k)
            }
        };
        push(chars.get(start..end).unwrap_or(&[]));
        start = next;
    }
    push(chars.get(start..).unwrap_or(&[]));
    pieces
}

/// Whether cutting before `chars[k]` would split what a reader sees as one character.
fn splits_grapheme(chars: &[char], k: usize) -> bool {
    let before = k.checked_sub(1).and_then(|p| chars.get(p)).copied();
    let after = chars.get(k).copied();
    match (before, after) {
        (Some('\u{200D}'), _) => true,
        (_, Some(c)) if is_extending(c) => true,
        (Some(b), Some(a)) => is_regional_indicator(b) && is_regional_indicator(a),
        _ => false,
    }
}

fn is_extending(c: char) -> bool {
    matches!(c,
        '\u{200C}' | '\u{200D}'
        | '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05C7}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0951}'..='\u{0957}'
        | '\u{0962}'..='\u{0963}'
        | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}'..='\u{309A}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// Sentence terminators of many scripts: full stops, question and exclamation marks of CJK,
/// Devanagari, Arabic, Greek (`;`), Armenian, Ethiopic, Myanmar, Khmer, Mongolian, Vai, Bamum, Syriac, N'Ko
/// and others.
const TERMINATORS: &[char] = &[
    '。', '｡', '！', '？', '︒', '﹒', '﹖', '﹗', '।', '॥', '۔', '؟', '؞', '։', '።', '፧', '፨',
    '။', '၊', '។', '៕', '᙮', '᠃', '᠉', '꓿', '꘎', '꘏', '꛳', '꛷', '܀', '܁', '܂', '߹', '᥄', '᥅', '‼',
    '⁇', '⁈', '⁉', '⸮', '⸼', '\u{37E}',
];

fn is_terminator(c: char) -> bool {
    is_spaced_terminator(c) || (!c.is_ascii() && TERMINATORS.contains(&c))
}

/// Terminators that end a sentence only before whitespace (or the end of the line), because
/// they also occur inside words and numbers (`3.5`, `example.com`, `Yahoo!`, `wait…what`).
fn is_spaced_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// Closing quotes and brackets that stay with the sentence they close.
const CLOSERS: &[char] = &[
    '"', '\'', ')', ']', '}', '»', '›', '”', '’', '」', '』', '】', '〕', '〗', '〙', '〛', '）',
    '］', '｝', '〉', '》', '〞', '＂', '＇', '｣',
];

fn is_closer(c: char) -> bool {
    CLOSERS.contains(&c)
}

/// Opening quotes and brackets, skipped when looking at the word after a terminator.
const OPENERS: &[char] = &[
    '"', '\'', '(', '[', '{', '«', '‹', '“', '‘', '„', '「', '『', '【', '〔', '〖', '〘', '〚',
    '（', '［', '｛', '〈', '《', '〝', '¿', '¡',
];

fn is_opener(c: char) -> bool {
    OPENERS.contains(&c)
}

/// Scripts written without spaces between words (and often between sentences).
pub(super) fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}'
        | '\u{0E00}'..='\u{0EFF}' // Thai, Lao
        | '\u{0F00}'..='\u{0FFF}' // Tibetan
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}') // Khmer
}

/// Punctuation and invisible format characters: not content, and word separators for TF-IDF.
pub(super) fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || is_terminator(c)
        || is_closer(c)
        || is_opener(c)
        || matches!(c,
            '\u{00A1}'..='\u{00BF}' if !c.is_alphanumeric()
        )
        || matches!(c,
            '\u{2000}'..='\u{206F}'   // general punctuation, zero-width and direction marks
            | '\u{3000}'..='\u{303F}' // CJK symbols and punctuation
            | '\u{FE10}'..='\u{FE1F}'
            | '\u{FE30}'..='\u{FE6F}'
            | '\u{FF01}'..='\u{FF0F}'
            | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}'
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}'
            | '\u{00AD}')
}

/// Zero-width and direction marks, variation selectors, soft hyphen, byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{00AD}')
}

/// Whether a sentence has anything beyond whitespace and punctuation (a letter, a digit, an
/// emoji, a symbol).
fn has_content(sentence: &str) -> bool {
    sentence
        .chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !is_punctuation(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All sentences of `text`, paragraphs flattened.
    fn split(text: &str) -> Vec<String> {
        paragraphs(text).into_iter().flatten().collect()
    }

    #[test]
    fn english_keeps_abbreviations_decimals_and_quotes_together() {
        let text = "Dr. Smith paid $3.50 for a coffee, e.g. a latte. He moved to the U.S. \
                    last year. Really? Yes! She said \"Stop.\" Then she left... and came back. \
                    J. R. R. Tolkien wrote it. See example.com for more.";
        assert_eq!(
            split(text),
            [
                "Dr. Smith paid $3.50 for a coffee, e.g. a latte.",
                "He moved to the U.S. last year.",
                "Really?",
                "Yes!",
                "She said \"Stop.\"",
                "Then she left... and came back.",
                "J. R. R. Tolkien wrote it.",
                "See example.com for more.",
            ]
        );
    }

    #[test]
    fn list_numbers_and_lowercase_continuations_do_not_split() {
        assert_eq!(
            split("1. First we wait. 2. Then we go.\n“Why?” she asked. It rained."),
            [
                "1. First we wait.",
                "2. Then we go.",
                "“Why?” she asked.",
                "It rained."
            ]
        );
    }

    #[test]
    fn chinese_and_japanese_split_at_full_width_terminators() {
        assert_eq!(
            split("今天天气很好。我们去公园吧！你来吗？好的"),
            ["今天天气很好。", "我们去公园吧！", "你来吗？", "好的"]
        );
        assert_eq!(
            split("「おはよう。」彼女は笑った。雨が降った｡"),
            ["「おはよう。」", "彼女は笑った。", "雨が降った｡"]
        );
        // An ASCII question mark straight before CJK text still ends the sentence.
        assert_eq!(split("你好?我很好."), ["你好?", "我很好."]);
    }

    #[test]
    fn hindi_arabic_urdu_and_armenian_terminators() {
        assert_eq!(
            split("मैं घर जा रहा हूँ। तुम कहाँ हो? ठीक है।"),
            ["मैं घर जा रहा हूँ।", "तुम कहाँ हो?", "ठीक है।"]
        );
        assert_eq!(
            split("كيف حالك؟ أنا بخير. شكرا لك."),
            ["كيف حالك؟", "أنا بخير.", "شكرا لك."]
        );
        assert_eq!(
            split("یہ کتاب ہے۔ وہ قلم ہے۔"),
            ["یہ کتاب ہے۔", "وہ قلم ہے۔"]
        );
        assert_eq!(split("Բարեւ։ Ինչպե՞ս ես։"), ["Բարեւ։", "Ինչպե՞ս ես։"]);
    }

    #[test]
    fn thai_without_terminators_is_one_sentence_per_line() {
        assert_eq!(
            split("ฉันชอบกินข้าว วันนี้อากาศดีมาก\nพรุ่งนี้ฝนจะตก"),
            ["ฉันชอบกินข้าว วันนี้อากาศดีมาก", "พรุ่งนี้ฝนจะตก"]
        );
        // Long Thai without spaces is cut between characters, never before a vowel mark.
        let long: String = "ภาษาไทยที่ไม่มีช่องว่าง".repeat(40);
        let pieces = split(&long);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), long);
        for piece in &pieces {
            assert!(piece.chars().count() <= MAX_SENTENCE_CHARS);
            assert!(!piece.starts_with(is_extending), "{piece}");
        }
    }

    #[test]
    fn emoji_lines_stay_whole() {
        assert_eq!(
            split("😀😀😀\n👍🏽 🎉\n👨‍👩‍👧‍👦\n🇩🇪🇫🇷"),
            ["😀😀😀", "👍🏽 🎉", "👨‍👩‍👧‍👦", "🇩🇪🇫🇷"]
        );
        let family = "👨‍👩‍👧".repeat(200); // 5 chars each, no whitespace: must be cut
        let pieces = split(&family);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), family);
        for piece in &pieces {
            assert!(piece.chars().count() <= MAX_SENTENCE_CHARS);
            assert!(piece.starts_with('👨') && piece.ends_with('👧'), "{piece}");
        }
    }

    #[test]
    fn long_sentences_are_cut_at_whitespace() {
        let words: Vec<String> = (0..300).map(|i| format!("word{i}")).collect();
        let sentence = words.join(" ");
        let pieces = split(&sentence);
        assert!(pieces.len() >= 4);
        assert!(
            pieces
                .iter()
                .all(|p| p.chars().count() <= MAX_SENTENCE_CHARS)
        );
        assert_eq!(pieces.join(" "), sentence);
    }

    #[test]
    fn newlines_paragraphs_and_stray_punctuation() {
        let text = "Title\r\nFirst line\rSecond line.\r\n\r\n\r\n* * *\n\nNext paragraph. …\n\t\n";
        assert_eq!(
            paragraphs(text),
            [
                vec!["Title", "First line", "Second line."],
                vec!["Next paragraph. …"]
            ]
        );
        assert!(split("!!! ??? ...\n—").is_empty());
        // Control characters become spaces; zero-width marks alone are not content.
        assert_eq!(split("a\u{7}b.\n\u{200F}\u{200D}"), ["a b."]);
    }
}

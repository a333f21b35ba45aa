//! Which line breaks of a student's text mean something. Most plain-text files a lecturer
//! brings — books, documentation sources, e-mail — wrap their paragraphs at 70–80 columns, so
//! a single line break inside a paragraph is usually just where the line ran out. Read as a
//! sentence boundary, it would turn "Occasionally C" / "programmers will encounter a
//! fragment of code like this::" into two "sentences", and every sentence pair built from
//! them would teach nothing about sentences.
//!
//! The rules, in the order they are tried (the page shows them under "How your text was
//! split"):
//! 1. A blank line ends a paragraph (and a document may end there).
//! 2. Fenced code (between ```` ``` ```` or `~~~` lines) and indented code (a paragraph indented
//!    by four spaces or a tab, or lines indented four more than their paragraph's first line)
//!    keep every line break: each line stands alone.
//! 3. A list item (a line starting with `-`, `*`, `+`, `•`, `1.`, `2)`, `a)`, …), a Markdown
//!    heading (`# …`), a line underlined with `===` or `---`, and a line in capitals starts on a
//!    line of its own and ends there (a list item's indented continuation lines still join it).
//! 4. Otherwise a line break joins the two lines with a space (no space between two characters
//!    of a script written without spaces, such as Chinese or Japanese) — when the line before it
//!    is long: at least 60% of the text's wrap width (the 90th percentile of its line lengths,
//!    counted only when that is 40 characters or more). A line that stops short of the width was
//!    broken on purpose (verse, an address, a signature): its break is kept. So is a break after
//!    a line ending in a script that marks sentence ends with a space rather than a sign (Thai,
//!    Lao, Khmer) or in an emoji: there the line break may be the only sign a sentence ended.

use crate::core::exec::{Checkpoint, NoYield, run_ready};
use serde::{Deserialize, Serialize};

use super::sentences::is_unspaced_script;

/// What happened to the line breaks of a text: the page's account of how it was split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineReport {
    /// The wrap width found (90th percentile of line lengths), if the text looks hard-wrapped.
    pub wrap_width: Option<usize>,
    /// Line breaks inside paragraphs joined into the running text.
    pub joined: usize,
    /// Line breaks kept because the next line starts a list item, a heading or a rule.
    pub kept_structure: usize,
    /// Lines of code kept line by line.
    pub kept_code: usize,
    /// Line breaks kept after a short line (verse, addresses, signatures).
    pub kept_short: usize,
}

impl LineReport {
    /// The rules above, in words, for the page.
    pub const RULES: &'static str = "A blank line ends a paragraph. Inside a paragraph, a line \
        break after a line that runs to the text's usual width joins the two lines; a break after \
        a shorter line (verse, an address), after Thai, Lao or Khmer text (which ends sentences \
        with a space, not a mark) or after an emoji, is kept. List items, headings (# …, underlined or in \
        capitals) and code (fenced or indented) keep their own lines.";
}

/// How one line reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    Fence,
    /// A list item, a heading or a rule: a line of its own.
    Block,
    Text,
}

fn kind(line: &str) -> Kind {
    let t = line.trim();
    if t.is_empty() {
        return Kind::Blank;
    }
    if t.starts_with("```") || t.starts_with("~~~") {
        return Kind::Fence;
    }
    if is_list_item(t) || t.starts_with('#') || is_rule(t) || is_capitals(t) {
        return Kind::Block;
    }
    Kind::Text
}

fn is_list_item(t: &str) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some('-' | '*' | '+' | '•' | '–' | '·') => {
            chars.next().is_some_and(char::is_whitespace)
        }
        Some(c) if c.is_ascii_alphanumeric() => {
            // `1.`, `12)`, `a)` followed by a space.
            let head: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let rest = &t[head.len()..];
            let numeric = head.chars().all(|c| c.is_ascii_digit()) && head.len() <= 3;
            let letter = head.len() == 1 && head.chars().all(|c| c.is_ascii_lowercase());
            (numeric && (rest.starts_with(". ") || rest.starts_with(") ")))
                || (letter && rest.starts_with(") "))
        }
        _ => false,
    }
}

fn is_rule(t: &str) -> bool {
    t.len() >= 3 && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
}

fn is_capitals(t: &str) -> bool {
    let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 3 && t.chars().count() <= 80 && letters.iter().all(|c| c.is_uppercase())
}

/// Leading whitespace, a tab counting as four spaces.
fn indent(line: &str) -> usize {
    line.chars()
        .take_while(|c| c.is_whitespace())
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// The 90th percentile of the lengths (in characters) of the non-blank lines, when it is 40 or
/// more: the width a hard-wrapped text was wrapped at.
fn wrap_width(lines: &[&str]) -> Option<usize> {
    let mut lengths: Vec<usize> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim_end().chars().count())
        .collect();
    if lengths.len() < 3 {
        return None;
    }
    lengths.sort_unstable();
    let p90 = lengths[(lengths.len() * 9 / 10).min(lengths.len() - 1)];
    (p90 >= 40).then_some(p90)
}

/// Joins `before` and `after` as one line: a space between them, except between two characters
/// of a script written without spaces.
fn join(before: &mut String, after: &str) {
    let after = after.trim_start();
    let end = before.trim_end().chars().last();
    let start = after.chars().next();
    before.truncate(before.trim_end().len());
    if !(end.is_some_and(is_unspaced_script) && start.is_some_and(is_unspaced_script)) {
        before.push(' ');
    }
    before.push_str(after);
}

/// The text's logical lines: soft line breaks joined (see the module doc), every other line as
/// it was, blank lines kept so paragraphs still end where they did.
pub fn logical_lines<'a>(lines: impl Iterator<Item = &'a str>) -> (Vec<String>, LineReport) {
    run_ready(logical_lines_cooperatively(lines, &mut NoYield))
}

/// Bytes of lines looked at between two checkpoints.
const LINES_CHUNK_BYTES: usize = 64 * 1024;

/// [`logical_lines`], awaiting `cp` after every [`LINES_CHUNK_BYTES`] of lines.
pub(super) async fn logical_lines_cooperatively<'a>(
    lines: impl Iterator<Item = &'a str>,
    cp: &mut impl Checkpoint,
) -> (Vec<String>, LineReport) {
    let lines: Vec<&str> = lines.collect();
    cp.checkpoint().await;
    let width = wrap_width(&lines);
    cp.checkpoint().await;
    let mut report = LineReport {
        wrap_width: width,
        ..LineReport::default()
    };
    let mut out: Vec<String> = Vec::new();
    let mut fenced = false;
    // The paragraph's first line's indent: code is indented beyond it.
    let mut base_indent: Option<usize> = None;
    // Whether the last line pushed may take the next one, and its last physical line's length.
    let mut open = false;
    let mut last_len = 0usize;
    // Paragraphs whose every line is indented by four spaces or more are code blocks.
    let mut indented_block = vec![false; lines.len()];
    let mut start = 0;
    while start < lines.len() {
        let end = (start..lines.len())
            .find(|&i| lines[i].trim().is_empty())
            .unwrap_or(lines.len());
        if end > start && lines[start..end].iter().all(|l| indent(l) >= 4) {
            indented_block[start..end].fill(true);
        }
        start = end + 1;
    }
    cp.checkpoint().await;
    let mut since = 0usize;
    for (index, line) in lines.iter().copied().enumerate() {
        since += line.len() + 1;
        if since >= LINES_CHUNK_BYTES {
            since = 0;
            cp.checkpoint().await;
        }
        let k = kind(line);
        if indented_block[index] {
            report.kept_code += 1;
            out.push(line.to_string());
            open = false;
            continue;
        }
        if fenced || k == Kind::Fence {
            if k == Kind::Fence {
                fenced = !fenced;
            } else {
                report.kept_code += 1;
            }
            out.push(line.to_string());
            open = false;
            continue;
        }
        if k == Kind::Blank {
            out.push(String::new());
            base_indent = None;
            open = false;
            continue;
        }
        let own = indent(line);
        let base = *base_indent.get_or_insert(own);
        if own >= base + 4 && k == Kind::Text && !open_list_continuation(&out, own) {
            report.kept_code += 1;
            out.push(line.to_string());
            open = false;
            continue;
        }
        if is_rule(line.trim()) {
            // An underline (`===`, `---`) marks the line above as a heading; it has no words.
            report.kept_structure += 1;
            open = false;
            continue;
        }
        if k == Kind::Block {
            if !out.last().is_none_or(String::is_empty) {
                report.kept_structure += 1;
            }
            out.push(line.to_string());
            // A list item may continue on the next lines; a heading or a rule may not.
            open = is_list_item(line.trim());
            last_len = line.trim_end().chars().count();
            continue;
        }
        match out.last_mut() {
            Some(previous) if open => {
                let unmarked = previous
                    .trim_end()
                    .chars()
                    .last()
                    .is_some_and(ends_without_mark);
                let long = !unmarked && width.is_some_and(|w| last_len * 10 >= w * 6);
                // A list item's continuation is indented under it: always part of it.
                let continuation = is_list_item(previous.trim()) && own > indent(previous);
                if long || continuation {
                    report.joined += 1;
                    join(previous, line);
                } else {
                    report.kept_short += 1;
                    out.push(line.to_string());
                }
            }
            Some(previous) if !previous.is_empty() => {
                report.kept_structure += 1;
                out.push(line.to_string());
            }
            _ => out.push(line.to_string()),
        }
        open = true;
        last_len = line.trim_end().chars().count();
    }
    (out, report)
}

/// Scripts that end a sentence with a space rather than a mark (Thai, Lao, Khmer), and emoji
/// and pictographs, which often close a line of chat or notes with no mark at all.
fn ends_without_mark(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'
        | '\u{1780}'..='\u{17FF}'
        | '\u{2600}'..='\u{27BF}'
        | '\u{1F000}'..='\u{1FAFF}')
}

/// Whether the line being read continues the list item just pushed (indented under it), rather
/// than being indented code.
fn open_list_continuation(out: &[String], own: usize) -> bool {
    out.last()
        .is_some_and(|l| is_list_item(l.trim()) && own > indent(l) && own <= indent(l) + 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<String>, LineReport) {
        logical_lines(text.lines())
    }

    #[test]
    fn hard_wrapped_prose_joins_and_its_sentences_are_whole() {
        let text = "Occasionally C programmers will encounter a fragment of code like this, and\n\
                    wonder what it does. The answer is simple once you have seen it a few times\n\
                    over, in real programs.\n";
        let (lines, report) = run(text);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("and wonder what it does. The answer"));
        assert_eq!(report.joined, 2);
    }

    #[test]
    fn lists_headings_code_and_verse_keep_their_lines() {
        let text = "\
# Setting up the kettle before you use it for the first time at home

Fill the kettle to the maximum line with fresh cold water, switch it on and\n\
let it boil, then pour the water away. Do this twice before the first cup.
- Unplug it before you clean it, and never put the base in water or any
  other liquid.
- Descale it every month.
1. Open the lid.

    let x = boil(kettle);
    pour(x);

```
fn main() {}
```

Roses are red,
Violets are blue.
";
        let (lines, report) = run(text);
        let has = |s: &str| lines.iter().any(|l| l.trim() == s);
        assert!(has(
            "# Setting up the kettle before you use it for the first time at home"
        ));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Fill the kettle") && l.contains("let it boil"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("- Unplug") && l.ends_with("other liquid."))
        );
        assert!(has("- Descale it every month.") && has("1. Open the lid."));
        assert!(has("let x = boil(kettle);") && has("pour(x);") && has("fn main() {}"));
        assert!(
            has("Roses are red,") && has("Violets are blue."),
            "verse keeps its lines"
        );
        assert!(
            report.kept_code >= 3 && report.kept_short >= 1 && report.joined >= 2,
            "{report:?} {lines:#?}"
        );
    }

    #[test]
    fn unspaced_scripts_join_without_a_space() {
        let mut line = String::from("東京は大きい");
        join(&mut line, "都市です。");
        assert_eq!(line, "東京は大きい都市です。");
        let mut latin = String::from("the end of a line");
        join(&mut latin, "and the next");
        assert_eq!(latin, "the end of a line and the next");
    }

    #[test]
    fn short_texts_and_unwrapped_texts_keep_every_line() {
        let (lines, report) = run("One line.\nTwo lines.\nThree.");
        assert_eq!(lines.len(), 3);
        assert_eq!((report.wrap_width, report.joined), (None, 0));
    }
}

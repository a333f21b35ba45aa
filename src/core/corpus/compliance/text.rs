//! Text for the compliance checker: normalisation, tokens with contractions expanded, the
//! masking of names, order numbers and dates, and the split into sentences and clauses.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Word,
    /// A quantity (`30` in `30-day`); other numbers are entities.
    Number,
    /// A masked name, order number or date.
    Entity,
    Punct,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    /// Lowercased word (contractions expanded), digits, or the punctuation mark.
    pub(super) text: String,
    pub(super) kind: Kind,
    /// The written word began with a capital (only on its first expanded piece).
    pub(super) cap: bool,
    /// Byte range of the written word in the normalised text.
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Token {
    pub(super) fn is(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text == word
    }
}

pub(super) fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02bc}' | '`' | '\u{00b4}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' => '"',
            '\u{2014}' | '\u{2013}' | '\u{2012}' | '\u{2015}' => '—',
            '\r' => '\n',
            '\u{00a0}' => ' ',
            c => c,
        })
        .collect()
}

/// Splits a contraction into the words it stands for.
fn expand(lower: &str) -> Vec<String> {
    if lower == "cannot" {
        return vec!["can".into(), "not".into()];
    }
    if let Some(base) = lower.strip_suffix("n't") {
        let base = match base {
            "wo" => "will",
            "ca" => "can",
            "sha" => "shall",
            "ai" => "is",
            b => b,
        };
        return vec![base.into(), "not".into()];
    }
    if let Some((base, clitic)) = lower.rsplit_once('\'') {
        let rest = match clitic {
            "ll" => Some("will"),
            "ve" => Some("have"),
            "re" => Some("are"),
            "m" => Some("am"),
            "d" => Some("would"),
            "s" if base == "let" => Some("us"),
            "s" if listed(IS_CLITIC_BASES, base) => Some("is"),
            "s" => None,
            _ => return vec![lower.replace('\'', "")],
        };
        let mut words = vec![base.to_string()];
        words.extend(rest.map(String::from));
        return words;
    }
    vec![lower.to_string()]
}

const IS_CLITIC_BASES: &str = "\
    it that there here what who he she where how everything nothing this";

pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map_or(text.len(), |&(p, _)| p);
    let ch = |i: usize| chars.get(i).map(|&(_, c)| c);
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while let Some(c) = ch(i) {
        if c == '\n' {
            if out.last().is_none_or(|t| t.text != "\n") {
                out.push(punct("\n", at(i), at(i + 1)));
            }
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() {
            let mut j = i;
            let mut word = String::new();
            while let Some(c) = ch(j) {
                let inner_apostrophe =
                    c == '\'' && !word.is_empty() && ch(j + 1).is_some_and(char::is_alphabetic);
                if c.is_alphanumeric() || inner_apostrophe {
                    word.push(c);
                    j += 1;
                } else {
                    break;
                }
            }
            push_word(&mut out, &word, at(i), at(j));
            // A hyphen, slash or (between digits) dot inside a word joins two pieces:
            // `damaged-on-arrival`, `2026-05-01`, `05/01`, `3.5`.
            let joiner = match ch(j) {
                Some('-' | '/') => ch(j + 1).is_some_and(char::is_alphanumeric),
                Some('.') => {
                    word.ends_with(|c: char| c.is_ascii_digit())
                        && ch(j + 1).is_some_and(|c| c.is_ascii_digit())
                }
                _ => false,
            };
            i = if joiner { j + 1 } else { j };
        } else {
            let mark = match c {
                '-' => "—".to_string(),
                c => c.to_string(),
            };
            out.push(punct(&mark, at(i), at(i + 1)));
            i += 1;
        }
    }
    out
}

fn punct(mark: &str, start: usize, end: usize) -> Token {
    Token {
        text: mark.to_string(),
        kind: Kind::Punct,
        cap: false,
        start,
        end,
    }
}

fn push_word(out: &mut Vec<Token>, word: &str, start: usize, end: usize) {
    let cap = word.starts_with(char::is_uppercase);
    let lower = word.to_lowercase();
    if lower.chars().any(|c| c.is_ascii_digit()) {
        out.push(Token {
            text: lower,
            kind: Kind::Number,
            cap: false,
            start,
            end,
        });
        return;
    }
    for (n, piece) in expand(&lower).into_iter().enumerate() {
        out.push(Token {
            text: piece,
            kind: Kind::Word,
            cap: cap && n == 0,
            start,
            end,
        });
    }
}

/// Whether each token is the first word after a sentence start or a mark after which writers
/// capitalise (`:`, a dash, a bracket, a quote).
fn capital_starts(tokens: &[Token]) -> Vec<bool> {
    let mut starts = vec![false; tokens.len()];
    let mut at_start = true;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == Kind::Punct {
            if matches!(
                t.text.as_str(),
                "." | "!" | "?" | "\n" | ":" | ";" | "—" | "(" | "\""
            ) && !is_abbreviation_dot(tokens, i)
            {
                at_start = true;
            }
        } else {
            starts[i] = at_start && (i == 0 || tokens[i - 1].start != t.start);
            at_start = false;
        }
    }
    starts
}

fn is_abbreviation_dot(tokens: &[Token], i: usize) -> bool {
    tokens[i].text == "."
        && i > 0
        && tokens[i - 1].kind == Kind::Word
        && (tokens[i - 1].text.chars().count() == 1 && tokens[i - 1].text != "i"
            || listed(ABBREVIATIONS, tokens[i - 1].text.as_str()))
}

const ABBREVIATIONS: &str = "\
    mr mrs ms dr st approx vs etc eg ie jan feb mar apr jun jul aug sep sept oct nov dec";

const MONTH_ABBREVIATIONS: &str = "jan feb mar apr jun jul aug sep sept oct nov dec";

/// Words that stay themselves when capitalised inside a sentence (function words and the
/// shop's own vocabulary); every other capitalised word there is taken for a name.
const KEEP_CAPITALISED: &str = "\
    i we you it they he she me us our your its their his her my this that these those there \
    here the a an and or but if so to of in on for with at by from as is are be not no yes \
    please thanks thank hi hello hey dear team support customer customers service care help \
    desk policy policies return returns refund refunds replacement repair repairs warranty \
    guarantee damaged damage arrival transit subscription subscriptions terms conditions \
    security account safety product products delivery shipping billing wrong item items day \
    days month months year years one window period lost parcel parcels final sale money back \
    cancellation escalation specialist specialists investigation investigations carrier \
    courier goods order orders payment payments charge charges update note ps centre center \
    fraud department re subject regards best kind warm sincerely cheers unfortunately however \
    manager agent protection";

/// Words that open a sentence and may be followed by a comma, a capitalised word or a number
/// without being a name (`Unfortunately,`, `Thanks,`, `On 3 May`).
const SENTENCE_OPENERS: &str = "\
    unfortunately hopefully perhaps maybe however sadly regrettably thanks thank hi hello hey \
    dear yes no ok okay sure also meanwhile otherwise alternatively instead first firstly \
    second secondly finally lastly additionally again so now then still ideally honestly good \
    great apologies sorry regards best cheers sincerely kind warm warmly well therefore \
    luckily fortunately happily absolutely certainly definitely naturally understandably \
    possibly potentially likely unless if once as since while in on at by for from with after \
    before until update note please welcome oh right excellent wonderful of rest besides \
    moreover furthermore plus today tomorrow yesterday currently next afterwards overall \
    anyway indeed actually briefly importantly separately similarly morning afternoon evening \
    again yours many all both either just here there what when where why how which who whether \
    because although though but and or nor not never do does did is are was were can could \
    would should shall must have has had let thankfully fortunately";

/// After a known name at the start of a sentence, these words show it is not a name after all
/// (`Will you…`, `May we…`, `Hope you're well`).
const NOT_AFTER_NAME: &str = "\
    i we you it this that they there be not your our the a an he she us me to so";

const UNITS: &str = "\
    day days month months year years week weeks hour hours business working calendar minute \
    minutes";

/// The lowercased names a ticket uses: what the masking rules take for a name in it.
pub(super) fn ticket_names(ticket: &str) -> BTreeSet<String> {
    let tokens = tokenize(&normalise(ticket));
    let masked = name_mask(&tokens, &BTreeSet::new());
    tokens
        .iter()
        .zip(masked)
        .filter(|(t, m)| *m && t.kind == Kind::Word)
        .map(|(t, _)| t.text.clone())
        .collect()
}

/// Which tokens name a person or a date (see the module doc).
fn name_mask(tokens: &[Token], known: &BTreeSet<String>) -> Vec<bool> {
    let starts = capital_starts(tokens);
    let mut masked = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        // All expanded pieces of one written word share its span.
        let mut word_end = i + 1;
        while word_end < tokens.len() && tokens[word_end].start == t.start {
            word_end += 1;
        }
        if t.kind == Kind::Word && t.cap && t.text != "i" {
            let word = t.text.as_str();
            let ordinary = listed(KEEP_CAPITALISED, word) || listed(SENTENCE_OPENERS, word);
            let is_name = if !starts[i] {
                !listed(KEEP_CAPITALISED, word)
            } else {
                match tokens.get(word_end) {
                    None => !ordinary,
                    Some(n) if n.kind == Kind::Punct => {
                        matches!(n.text.as_str(), "," | "." | "!" | "\n" | "—" | ";" | ")")
                            && !ordinary
                    }
                    Some(n) if n.kind == Kind::Number => !ordinary,
                    Some(n) if n.cap && n.text != "i" => !ordinary,
                    Some(n) => known.contains(word) && !listed(NOT_AFTER_NAME, n.text.as_str()),
                }
            };
            if is_name {
                masked[i..word_end].iter_mut().for_each(|m| *m = true);
            }
        }
        i = word_end;
    }
    masked
}

/// Masks names, turns non-quantity numbers into entities and merges runs of entities
/// (`May 3, 2026`, `#48213`, `Tom, Brightwater`) into one token, so that any name, order
/// number or date reads the same.
pub(super) fn mask_entities(tokens: Vec<Token>, known: &BTreeSet<String>) -> Vec<Token> {
    let masked = name_mask(&tokens, known);
    let mut marked: Vec<Token> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut t = t.clone();
            let quantity = t.kind == Kind::Number
                && tokens
                    .get(i + 1)
                    .is_some_and(|n| n.kind == Kind::Word && listed(UNITS, n.text.as_str()));
            if masked[i] || (t.kind == Kind::Number && !quantity) {
                t.kind = Kind::Entity;
                t.text.clear();
            }
            t
        })
        .collect();
    // `#` before an entity belongs to it.
    for i in 0..marked.len().saturating_sub(1) {
        if marked[i].text == "#" && marked[i + 1].kind == Kind::Entity {
            marked[i].kind = Kind::Entity;
            marked[i].text.clear();
        }
    }
    let mut out: Vec<Token> = Vec::with_capacity(marked.len());
    let mut i = 0;
    while i < marked.len() {
        let t = marked[i].clone();
        let after_entity = out.last().is_some_and(|l| l.kind == Kind::Entity);
        // `Aug. 21`: the dot of an abbreviated month belongs to the date.
        let month_dot =
            t.text == "." && i > 0 && listed(MONTH_ABBREVIATIONS, tokens[i - 1].text.as_str());
        let joins = (matches!(t.text.as_str(), "," | "/" | "of" | "&") || month_dot)
            && marked.get(i + 1).is_some_and(|n| n.kind == Kind::Entity);
        if after_entity && (t.kind == Kind::Entity || joins) {
            if let Some(last) = out.last_mut() {
                last.end = t.end;
            }
        } else {
            out.push(t);
        }
        i += 1;
    }
    out
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Clause {
    /// Token range.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) sentence: usize,
}

/// Words that end one clause and begin another.
const CLAUSE_BREAKS: &str = "\
    but however although though whereas while whilst yet otherwise because since so which \
    meanwhile therefore thus hence nevertheless nonetheless instead alternatively \
    unfortunately sadly";

/// Splits tokens into clauses and says which sentences are questions.
pub(super) fn segment(tokens: &[Token]) -> (Vec<Clause>, Vec<bool>) {
    let mut clauses = Vec::new();
    let mut questions = Vec::new();
    let mut sentence = 0;
    let mut start = 0;
    let close = |clauses: &mut Vec<Clause>, start: usize, end: usize, sentence: usize| {
        if end > start {
            clauses.push(Clause {
                start,
                end,
                sentence,
            });
        }
    };
    for (i, t) in tokens.iter().enumerate() {
        let sentence_end = t.kind == Kind::Punct
            && matches!(t.text.as_str(), "." | "!" | "?" | "\n")
            && !is_abbreviation_dot(tokens, i);
        let clause_end = (t.kind == Kind::Punct
            && matches!(t.text.as_str(), ";" | ":" | "—" | "(" | ")" | "\""))
            || (t.kind == Kind::Word
                && listed(CLAUSE_BREAKS, t.text.as_str())
                && !(t.text == "instead" && tokens.get(i + 1).is_some_and(|n| n.is("of"))));
        if sentence_end {
            close(&mut clauses, start, i, sentence);
            questions.push(t.text == "?");
            sentence += 1;
            start = i + 1;
        } else if clause_end {
            close(&mut clauses, start, i, sentence);
            start = i + 1;
        }
    }
    close(&mut clauses, start, tokens.len(), sentence);
    questions.push(false);
    (clauses, questions)
}

/// Whether `word` is one of the space-separated words of `list`.
pub(super) fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

//! TF-IDF similarity for hard negatives across documents (Spärck Jones 1972; Salton & Buckley
//! 1988): lowercase words for scripts written with spaces, character bigrams for CJK, Thai and
//! other scripts without them, so "most similar sentence" means something in every script.

use super::pairs::Source;
use super::sentences::{is_punctuation, is_unspaced_script};

/// The TF-IDF index covers at most this many sentences of a split (an even sample).
const TFIDF_POOL: usize = 20_000;
/// Terms in more sentences than this are skipped when scoring: their IDF is low anyway and
/// their postings would dominate the time.
const TFIDF_MAX_POSTINGS: usize = 2_000;
/// Sentences looked at when no indexed sentence shares a usable term with the query.
const TFIDF_FALLBACK_SCAN: usize = 256;
/// Best-scoring sentences offered to `accept` per query; past them the fallback scan decides.
/// (All of them, best first, made a query quadratic when every candidate was rejected.)
const TFIDF_MAX_CANDIDATES: usize = 64;
/// Queries that find no acceptable sentence before the index gives up: past this many the text
/// is too repetitive for cross-document hard negatives, and each further query would only cost.
const TFIDF_MAX_MISSES: usize = 64;

/// A TF-IDF index over (an even sample of) one split's sentences: L2-normalised tf·idf
/// vectors with smoothed idf = ln((1 + N) / (1 + df)) + 1, stored as postings sorted by term
/// (one flat array, so building it is one sort rather than a map of many small vectors).
pub(super) struct TfIdf {
    entries: Vec<Source>,
    /// Distinct terms, sorted; the postings of `terms[k]` are
    /// `postings[offsets[k]..offsets[k + 1]]`.
    terms: Vec<u64>,
    offsets: Vec<usize>,
    /// (entry, weight) pairs grouped by term.
    postings: Vec<(u32, f32)>,
    /// Scratch space for scoring, one slot per entry, kept at zero between queries.
    scores: Vec<f32>,
    /// Queries so far that found nothing acceptable.
    misses: usize,
}

impl TfIdf {
    pub(super) fn new(docs: &[Vec<String>], members: &[usize]) -> Self {
        let all: Vec<Source> = members
            .iter()
            .flat_map(|&d| (0..docs.get(d).map_or(0, Vec::len)).map(move |i| (d, i)))
            .collect();
        let stride = all.len().div_ceil(TFIDF_POOL).max(1);
        let entries: Vec<Source> = all.into_iter().step_by(stride).collect();
        let mut triples: Vec<(u64, u32, f32)> = Vec::new();
        let mut buffer = Vec::new();
        for (entry, &(d, i)) in entries.iter().enumerate() {
            let text = docs
                .get(d)
                .and_then(|doc| doc.get(i))
                .map_or("", String::as_str);
            let counts = term_counts(text, &mut buffer);
            triples.extend(counts.into_iter().map(|(t, c)| (t, entry as u32, c)));
        }
        triples.sort_unstable_by_key(|&(term, entry, _)| (term, entry));
        let n = entries.len() as f32;
        let (mut terms, mut offsets) = (Vec::new(), Vec::new());
        let mut postings = Vec::with_capacity(triples.len());
        let mut norms = vec![0.0f32; entries.len()];
        for group in triples.chunk_by(|x, y| x.0 == y.0) {
            let Some(&(term, _, _)) = group.first() else {
                continue;
            };
            terms.push(term);
            offsets.push(postings.len());
            let idf = idf(n, group.len());
            for &(_, entry, count) in group {
                let weight = count * idf;
                if let Some(norm) = norms.get_mut(entry as usize) {
                    *norm += weight * weight;
                }
                postings.push((entry, weight));
            }
        }
        offsets.push(postings.len());
        for (entry, weight) in &mut postings {
            let norm = norms.get(*entry as usize).map_or(1.0, |n| n.sqrt());
            if norm > 0.0 {
                *weight /= norm;
            }
        }
        let scores = vec![0.0; entries.len()];
        Self {
            entries,
            terms,
            offsets,
            postings,
            scores,
            misses: 0,
        }
    }

    /// The postings of one term (empty if the index has not seen it).
    fn postings(&self, term: u64) -> &[(u32, f32)] {
        let Ok(k) = self.terms.binary_search(&term) else {
            return &[];
        };
        match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&start), Some(&end)) => self.postings.get(start..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The indexed sentence most similar to `text` (cosine of tf·idf vectors, ignoring terms
    /// too common to discriminate) among those `accept`ed. Bounded work: at most
    /// [`TFIDF_MAX_CANDIDATES`] best candidates and [`TFIDF_FALLBACK_SCAN`] others are offered
    /// to `accept`, and after [`TFIDF_MAX_MISSES`] fruitless queries every query answers `None`.
    pub(super) fn most_similar(
        &mut self,
        text: &str,
        accept: impl Fn(Source) -> bool,
    ) -> Option<Source> {
        if self.misses >= TFIDF_MAX_MISSES {
            return None;
        }
        let found = self.search(text, accept);
        if found.is_none() {
            self.misses += 1;
        }
        found
    }

    fn search(&mut self, text: &str, accept: impl Fn(Source) -> bool) -> Option<Source> {
        let mut query = term_counts(text, &mut Vec::new());
        let n = self.entries.len() as f32;
        for (term, weight) in &mut query {
            *weight *= idf(n, self.postings(*term).len());
        }
        let norm = query.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        let mut touched: Vec<u32> = Vec::new();
        let mut scores = std::mem::take(&mut self.scores);
        for &(term, weight) in &query {
            let list = self.postings(term);
            if list.len() > TFIDF_MAX_POSTINGS {
                continue;
            }
            for &(entry, w) in list {
                if let Some(score) = scores.get_mut(entry as usize) {
                    if *score == 0.0 {
                        touched.push(entry);
                    }
                    *score += weight / norm * w;
                }
            }
        }
        let mut candidates: Vec<(f32, u32)> = touched
            .iter()
            .map(|&e| (scores.get(e as usize).copied().unwrap_or(0.0), e))
            .collect();
        for &e in &touched {
            if let Some(score) = scores.get_mut(e as usize) {
                *score = 0.0;
            }
        }
        self.scores = scores;
        // Best first (ties: the earlier entry); a few rejections (duplicates of A or of the
        // true B) are normal, many mean the text repeats itself, so only the best are tried.
        let best_first = |x: &(f32, u32), y: &(f32, u32)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1));
        if candidates.len() > TFIDF_MAX_CANDIDATES {
            candidates.select_nth_unstable_by(TFIDF_MAX_CANDIDATES, best_first);
            candidates.truncate(TFIDF_MAX_CANDIDATES);
        }
        candidates.sort_unstable_by(best_first);
        for &(_, entry) in &candidates {
            let source = self.entries.get(entry as usize).copied()?;
            if accept(source) {
                return Some(source);
            }
        }
        // Nothing shares a rare term: any acceptable sentence will do; look at a bounded
        // stretch of the index from a place fixed by the text.
        let len = self.entries.len();
        let start = (hash_chars(&text.chars().collect::<Vec<_>>()) % len.max(1) as u64) as usize;
        (0..len.min(TFIDF_FALLBACK_SCAN))
            .filter_map(|k| self.entries.get((start + k) % len))
            .copied()
            .find(|&s| accept(s))
    }
}

/// Term frequencies of a sentence: lowercase words in scripts written with spaces, character
/// bigrams in runs of CJK, Thai and other unspaced scripts (and in very long "words").
fn term_counts(text: &str, word: &mut Vec<char>) -> Vec<(u64, f32)> {
    let mut terms: Vec<u64> = Vec::new();
    word.clear();
    let flush = |word: &mut Vec<char>, terms: &mut Vec<u64>| {
        if word.is_empty() {
            return;
        }
        if word.len() > 24 || word.iter().any(|&c| is_unspaced_script(c)) {
            if word.len() == 1 {
                terms.push(hash_chars(word));
            }
            terms.extend(word.windows(2).map(hash_chars));
        } else {
            terms.push(hash_chars(word));
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || is_punctuation(c) {
            flush(word, &mut terms);
        } else {
            word.extend(c.to_lowercase());
        }
    }
    flush(word, &mut terms);
    terms.sort_unstable();
    let mut counts: Vec<(u64, f32)> = Vec::new();
    for term in terms {
        match counts.last_mut() {
            Some((last, count)) if *last == term => *count += 1.0,
            _ => counts.push((term, 1.0)),
        }
    }
    counts
}

/// Smoothed inverse document frequency of a term in `df` of `n` sentences.
fn idf(n: f32, df: usize) -> f32 {
    portable_ln((1.0 + f64::from(n)) / (1.0 + df as f64)) as f32 + 1.0
}

/// Natural logarithm from IEEE-exact operations only (`f64::ln` comes from the platform's
/// libm), so the page (wasm) and the CLI pick the same hard negatives for one corpus seed:
/// x = m·2^e with m in [1, 2), ln m = 2·atanh((m − 1)/(m + 1)) as a series. For x ≥ 1.
fn portable_ln(x: f64) -> f64 {
    if !(x.is_finite() && x >= f64::MIN_POSITIVE) {
        return 0.0;
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7FF) as i64 - 1023;
    let mantissa = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let (mut term, mut sum) = (s, 0.0);
    for k in 0..16 {
        sum += term / f64::from(2 * k + 1);
        term *= s * s;
    }
    exponent as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

/// FNV-1a over the characters of a term.
fn hash_chars(chars: &[char]) -> u64 {
    chars.iter().fold(0xCBF2_9CE4_8422_2325, |h, &c| {
        (h ^ u64::from(u32::from(c))).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&[&str]]) -> Vec<Vec<String>> {
        texts
            .iter()
            .map(|d| d.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn finds_the_most_similar_sentence_in_spaced_and_unspaced_scripts() {
        let docs = docs(&[
            &["The kettle boils water quickly.", "Our cat sleeps all day."],
            &["A red kettle boils water.", "The train left at noon."],
            &["今天的天气很好。", "我喜欢喝绿茶。"],
            &["他每天早上喝绿茶和红茶。", "火车晚点了。"],
        ]);
        let mut index = TfIdf::new(&docs, &[0, 1, 2, 3]);
        let other_doc = |doc| move |s: Source| s.0 != doc;
        assert_eq!(
            index.most_similar("The kettle boils water quickly.", other_doc(0)),
            Some((1, 0))
        );
        assert_eq!(
            index.most_similar("我喜欢喝绿茶。", other_doc(2)),
            Some((3, 0))
        );
        // Nothing in common: still some acceptable sentence, never a rejected one.
        let found = index.most_similar("zzz qqq", |s| s == (1, 1));
        assert_eq!(found, Some((1, 1)));
        assert_eq!(index.most_similar("kettle", |_| false), None);
    }

    #[test]
    fn portable_ln_matches_the_platform_logarithm() {
        for x in [1.0, 1.5, 2.0, 3.0, 10.0, 1234.5, 20_001.0, 1e9] {
            assert!((portable_ln(x) - x.ln()).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn terms_are_lowercase_words_or_character_bigrams() {
        let mut buffer = Vec::new();
        let words = term_counts("Tea, tea and TEA!", &mut buffer);
        assert_eq!(words.len(), 2);
        assert_eq!(words.iter().map(|(_, c)| c).sum::<f32>(), 4.0);
        let bigrams = term_counts("绿茶好", &mut buffer);
        assert_eq!(bigrams.len(), 2);
        assert_eq!(term_counts("…!?", &mut buffer), []);
    }
}

//! How a network reads an evaluation pair: what stands between A and B, and which of their
//! tokens fit its window. The probe ([`super::features`]), the likelihood reading
//! ([`super::likelihood`]) and the model-free pair baselines all read a pair through here, so
//! they read the same tokens.
//!
//! **The join** is the packed stream's ([`crate::core::data`]): the parts of one document — a
//! ticket and its resolution, a question and its answer — are separated by `[SEP]`, while two
//! consecutive sentences of one part stand side by side. A pair is joined as the stream joins a
//! positive of its source ([`EvalPair::source`]). A negative has the source of the positive it
//! was made from, so it is joined exactly as the positives of that source kind are and the
//! join tells nothing about the label. A network that pre-trained on packed segment pairs
//! (`[CLS] A [SEP] B [SEP]`: the NSP/SOP pair head, and a token objective sharing its batches)
//! reads every pair with its `[SEP]`, the format it learned ([`PairJoin::Separator`]
//! everywhere).
//!
//! **The fit**: too long a pair is cut longest-first, A from its start and B from its end
//! (BERT's `_truncate_seq_pair`, as the pair objectives cut theirs), so the junction that
//! decides coherence is kept whole for both labels.

use crate::core::corpus::{EvalPair, PairSource};
use crate::core::error::CoreError;
use crate::core::objective::coherence::truncated_lengths;
use crate::core::tokenizer::{LabTokenizer, SpecialIds};

/// What stands between A and B when a network reads a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairJoin {
    /// `A [SEP] B`: two parts of one document, or any pair for a network that pre-trained on
    /// `[SEP]`-joined segment pairs.
    Separator,
    /// `A B`: two consecutive sentences of one part, as the packed stream holds them.
    Adjacent,
}

impl PairJoin {
    /// How the packed stream joins a positive pair of `source`.
    pub fn in_stream(source: PairSource) -> Self {
        match source {
            PairSource::TicketResolution | PairSource::QuestionAnswer => PairJoin::Separator,
            PairSource::Consecutive => PairJoin::Adjacent,
        }
    }

    /// The positions the join takes.
    pub fn tokens(self) -> usize {
        match self {
            PairJoin::Separator => 1,
            PairJoin::Adjacent => 0,
        }
    }
}

/// One evaluation pair as token ids, with what decides its join and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPair {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    pub source: PairSource,
    pub label: u8,
}

/// Encodes `pairs` with `tokenizer`.
pub fn encode_pairs(
    tokenizer: &LabTokenizer,
    pairs: &[&EvalPair],
) -> Result<Vec<EncodedPair>, CoreError> {
    pairs
        .iter()
        .map(|p| {
            Ok(EncodedPair {
                a: tokenizer.encode(&p.a)?,
                b: tokenizer.encode(&p.b)?,
                source: p.source,
                label: p.label,
            })
        })
        .collect()
}

/// A's end and B's start that fit `budget` tokens together, cut longest-first.
pub fn fit<'x>(a: &'x [u32], b: &'x [u32], budget: usize) -> (&'x [u32], &'x [u32]) {
    let (keep_a, keep_b) = truncated_lengths(a.len(), b.len(), budget);
    (&a[a.len() - keep_a..], &b[..keep_b])
}

/// `A [SEP] B` or `A B`, cut to at most `room` positions. A pair with nothing left on either
/// side keeps one `[SEP]`, so no row is empty.
pub fn joined(a: &[u32], b: &[u32], join: PairJoin, room: usize, specials: SpecialIds) -> Vec<u32> {
    let (a, b) = fit(a, b, room.saturating_sub(join.tokens()));
    let mut ids = Vec::with_capacity(a.len() + b.len() + join.tokens());
    ids.extend_from_slice(a);
    if join == PairJoin::Separator || (a.is_empty() && b.is_empty()) {
        ids.push(specials.sep);
    }
    ids.extend_from_slice(b);
    ids
}

/// `pair` cut to the tokens a network of `seq_len` positions reads of it — a plain stack's
/// probe, which joins as the stream does ([`joined`]): the encoder-decoder's and the pair
/// head's formats read one or two tokens fewer, every other reading the same or fewer — and
/// written back as text, for the model-free baselines that stand beside the models.
pub fn as_read(
    tokenizer: &LabTokenizer,
    pair: &EvalPair,
    seq_len: usize,
) -> Result<EvalPair, CoreError> {
    let (a, b) = (tokenizer.encode(&pair.a)?, tokenizer.encode(&pair.b)?);
    let join = PairJoin::in_stream(pair.source);
    let (a, b) = fit(&a, &b, seq_len.saturating_sub(join.tokens()));
    Ok(EvalPair {
        a: tokenizer.decode_text(a)?,
        b: tokenizer.decode_text(b)?,
        ..pair.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::corpus::{Genre, PairKind};

    #[test]
    fn the_stream_separates_parts_and_not_sentences() {
        assert_eq!(
            PairJoin::in_stream(PairSource::TicketResolution),
            PairJoin::Separator
        );
        assert_eq!(
            PairJoin::in_stream(PairSource::QuestionAnswer),
            PairJoin::Separator
        );
        assert_eq!(
            PairJoin::in_stream(PairSource::Consecutive),
            PairJoin::Adjacent
        );
    }

    #[test]
    fn joining_keeps_the_junction_and_fills_the_room() {
        let s = SpecialIds::fixed();
        let a: Vec<u32> = (100..120).collect();
        let b: Vec<u32> = (200..230).collect();
        // 31 positions: `[SEP]` and 30 tokens, cut longest-first: 15 of each.
        let sep = joined(&a, &b, PairJoin::Separator, 31, s);
        assert_eq!(sep.len(), 31);
        assert_eq!(&sep[..15], &a[5..]);
        assert_eq!(sep[15], s.sep);
        assert_eq!(&sep[16..], &b[..15]);
        // Side by side: the position the `[SEP]` took holds a token of text (A's, as B gives
        // way first on a tie).
        let side = joined(&a, &b, PairJoin::Adjacent, 31, s);
        assert_eq!(side.len(), 31);
        assert!(!side.contains(&s.sep));
        assert_eq!(&side[..16], &a[4..]);
        assert_eq!(&side[16..], &b[..15]);
        // A short pair is kept whole.
        assert_eq!(joined(&[1], &[2], PairJoin::Adjacent, 31, s), vec![1, 2]);
        assert_eq!(joined(&[], &[], PairJoin::Adjacent, 31, s), vec![s.sep]);
    }

    #[test]
    fn a_baseline_reads_the_spans_a_model_reads() {
        const WORDS: [&str; 10] = [
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        ];
        let text = WORDS.join(" ");
        let corpus = vec![text.clone(); 20];
        let tokenizer =
            LabTokenizer::train(corpus.iter().map(String::as_str), 600).expect("tokenizer");
        assert_eq!(
            tokenizer.encode(&text).expect("encode").len(),
            10,
            "a token a word"
        );
        let pair = EvalPair {
            kind: PairKind::Hard,
            label: 1,
            a: text.clone(),
            b: text.clone(),
            source: PairSource::Consecutive,
            genre: Genre::Text,
            doc: "d".into(),
        };
        // Eight positions side by side: A's last four words, B's first four.
        let read = as_read(&tokenizer, &pair, 8).expect("read");
        assert_eq!(read.a, WORDS[6..].join(" "));
        assert_eq!(read.b, WORDS[..4].join(" "));
        // Across two parts one position goes to `[SEP]`, taken from B on a tie.
        let parts = EvalPair {
            source: PairSource::QuestionAnswer,
            ..pair.clone()
        };
        let read = as_read(&tokenizer, &parts, 8).expect("read");
        assert_eq!(read.a, WORDS[6..].join(" "));
        assert_eq!(read.b, WORDS[..3].join(" "));
        assert_eq!((read.label, read.source), (1, PairSource::QuestionAnswer));
    }

    /// The join follows a pair's source, and a negative has its positive's source: the join
    /// could only hint at a label where the sources of positives and negatives differ in
    /// composition. In every set of the support-desk corpus they differ by a few points at most
    /// (a classifier reading the join alone would reach about 51.5%); the shortcut audit's
    /// artifact classifier reads the join too and must stay at chance.
    #[test]
    fn the_join_is_spread_alike_over_both_labels() {
        use crate::core::corpus::support;
        let corpus = support::standard(1);
        for set in &corpus.pair_sets {
            let share = |label: u8| {
                let of: Vec<_> = set.pairs.iter().filter(|p| p.label == label).collect();
                let side = of
                    .iter()
                    .filter(|p| PairJoin::in_stream(p.source) == PairJoin::Adjacent)
                    .count();
                side as f64 / of.len().max(1) as f64
            };
            let (positive, negative) = (share(1), share(0));
            println!(
                "{} {}: side by side {positive:.3} of positives, {negative:.3} of negatives",
                set.split,
                set.kind.name()
            );
            assert!(
                (positive - negative).abs() <= 0.06,
                "{} {}: {positive:.3} vs {negative:.3}",
                set.split,
                set.kind.name()
            );
        }
    }
}

//! Statistics of generated text, on token ids:
//!
//! - [`distinct_n`]: distinct n-grams over all n-grams of a set of replies (Li et al. 2016,
//!   "A Diversity-Promoting Objective Function for Neural Conversation Models") — low when
//!   a model gives every ticket the same reply;
//! - [`seq_rep_n`] and [`repetition_rate`]: the share of a reply's n-grams that repeat one
//!   already in it, 1 − |unique n-grams| / |n-grams|, averaged over replies (`seq-rep-n` of
//!   Welleck et al. 2019, "Neural Text Generation with Unlikelihood Training", ICLR 2020, with their
//!   n = 4) — high when a reply loops.
//!
//! A reply shorter than n has no n-grams: it counts towards neither number.

use std::collections::HashSet;

/// The n of [`repetition_rate`] (Welleck et al. report `seq-rep-4`).
pub const REPETITION_N: usize = 4;

/// Distinct n-grams across all `replies` over the number of n-grams in them. `None` when
/// `n` is 0 or no reply has n tokens.
pub fn distinct_n<R: AsRef<[u32]>>(replies: &[R], n: usize) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let mut seen: HashSet<&[u32]> = HashSet::new();
    let mut total = 0usize;
    for reply in replies {
        for gram in reply.as_ref().windows(n) {
            seen.insert(gram);
            total += 1;
        }
    }
    (total > 0).then(|| seen.len() as f64 / total as f64)
}

/// 1 − |unique n-grams| / |n-grams| of one reply. `None` when `n` is 0 or the reply is
/// shorter than `n`.
pub fn seq_rep_n(reply: &[u32], n: usize) -> Option<f64> {
    if n == 0 || reply.len() < n {
        return None;
    }
    let grams: Vec<&[u32]> = reply.windows(n).collect();
    let unique: HashSet<&[u32]> = grams.iter().copied().collect();
    Some(1.0 - unique.len() as f64 / grams.len() as f64)
}

/// [`seq_rep_n`] with n = [`REPETITION_N`], averaged over the replies that have a 4-gram.
/// `None` when none has.
pub fn repetition_rate<R: AsRef<[u32]>>(replies: &[R]) -> Option<f64> {
    let rates: Vec<f64> = replies
        .iter()
        .filter_map(|r| seq_rep_n(r.as_ref(), REPETITION_N))
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_n_counts_grams_across_replies() {
        // Unigrams: 1 2 3 | 1 2 4 → 6 grams, {1, 2, 3, 4} distinct.
        let replies = vec![vec![1, 2, 3], vec![1, 2, 4]];
        assert_eq!(distinct_n(&replies, 1), Some(4.0 / 6.0));
        // Bigrams: (1 2) (2 3) | (1 2) (2 4) → 4 grams, 3 distinct.
        assert_eq!(distinct_n(&replies, 2), Some(0.75));
        // A gram never spans two replies: (3 1) is not counted.
        let slices: Vec<&[u32]> = replies.iter().map(Vec::as_slice).collect();
        assert_eq!(distinct_n(&slices, 3), Some(1.0));
        // The same reply twice halves distinct-n.
        assert_eq!(distinct_n(&[vec![5, 6], vec![5, 6]], 2), Some(0.5));
        // Too short replies count for nothing.
        assert_eq!(distinct_n(&[vec![1], vec![2, 2, 2]], 2), Some(0.5));
        assert_eq!(distinct_n(&[vec![1]], 2), None);
        assert_eq!(distinct_n::<Vec<u32>>(&[], 1), None);
        assert_eq!(distinct_n(&replies, 0), None);
    }

    #[test]
    fn seq_rep_n_is_the_share_of_repeated_grams_in_one_reply() {
        // 1 2 3 4 1 2 3 4 1: 4-grams 1234 2341 3412 4123 1234 2341 → 6 grams, 4 unique.
        let looping = [1, 2, 3, 4, 1, 2, 3, 4, 1];
        assert_eq!(seq_rep_n(&looping, 4), Some(1.0 - 4.0 / 6.0));
        assert_eq!(seq_rep_n(&[1, 2, 3, 4, 5], 4), Some(0.0));
        // One token over and over: 7 − 3 = 4 grams of one kind.
        assert_eq!(seq_rep_n(&[9; 7], 4), Some(0.75));
        assert_eq!(seq_rep_n(&[1, 2, 3], 4), None);
        assert_eq!(seq_rep_n(&[1, 2, 3], 0), None);
    }

    #[test]
    fn the_repetition_rate_averages_replies_that_have_a_four_gram() {
        let replies: Vec<&[u32]> = vec![&[1, 2, 3, 4, 1, 2, 3, 4, 1], &[1, 2, 3, 4, 5], &[7]];
        let rate = repetition_rate(&replies).expect("two replies have a 4-gram");
        assert!((rate - (1.0 / 3.0 + 0.0) / 2.0).abs() < 1e-15, "{rate}");
        assert_eq!(repetition_rate(&[vec![1, 2]]), None);
    }
}

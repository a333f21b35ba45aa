//! The word-frequency floor of `gen_ppl`: the perplexity of the held-out replies' tokens under
//! the training split's add-one (Laplace) unigram distribution — what a model that knows how
//! often each token occurs, and nothing of the ticket before the reply, reaches on exactly the
//! tokens a run's `gen_ppl` scores (the continuations of
//! [`generation::examples`](crate::core::eval::generation::examples)).
//!
//! The distribution is [`UnigramBaseline`] over the ordinary text ids
//! ([`TargetSupport::Text`]): a reply is text, so smoothing over specials would only take
//! probability from its words. A special id in a continuation (there is none in either corpus
//! today) is left out and counted in [`ReplyUnigram::skipped`]. The standard error takes the
//! reply as the unit, as the model's does ([`NllByExample`]).

use serde::{Deserialize, Serialize};

use crate::core::eval::generation::NllByExample;
use crate::core::metrics::UnigramBaseline;
use crate::core::objective::scoring::ScoringExample;
use crate::core::objective::spec::TargetSupport;
use crate::core::tokenizer::SpecialIds;

/// The unigram baseline's score of the held-out replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyUnigram {
    /// exp(mean NLL per scored token).
    pub perplexity: f64,
    /// Its standard error by the delta method (perplexity × SE of the mean NLL); NaN with
    /// fewer than two replies.
    pub perplexity_se: f64,
    pub mean_nll: f64,
    /// Replies and tokens scored.
    pub examples: usize,
    pub tokens: usize,
    /// Continuation tokens outside the support (specials), not scored.
    pub skipped: usize,
}

/// Scores the continuations of `examples` under the add-one unigram distribution of `train`
/// (a training split's packed stream) over the text ids below `vocab_size`. `None` when no
/// token is scored.
pub fn reply_unigram(
    train: &[u32],
    vocab_size: usize,
    specials: SpecialIds,
    examples: &[ScoringExample],
) -> Option<ReplyUnigram> {
    let unigram = UnigramBaseline::new(train, vocab_size, TargetSupport::Text, specials);
    let mut nll = NllByExample::default();
    let mut skipped = 0;
    for example in examples {
        let (mut sum, mut count) = (0.0, 0);
        for &id in &example.continuation {
            match unigram.nll(id) {
                Some(value) => {
                    sum += value;
                    count += 1;
                }
                None => skipped += 1,
            }
        }
        if count > 0 {
            nll.sums.push(sum);
            nll.tokens.push(count);
        }
    }
    let mean = nll.mean()?;
    let perplexity = mean.exp();
    Some(ReplyUnigram {
        perplexity,
        perplexity_se: perplexity * nll.standard_error().unwrap_or(f64::NAN),
        mean_nll: mean,
        examples: nll.sums.len(),
        tokens: nll.tokens.iter().sum(),
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(context: &[u32], continuation: &[u32]) -> ScoringExample {
        ScoringExample {
            context: context.to_vec(),
            continuation: continuation.to_vec(),
        }
    }

    #[test]
    fn perplexity_by_hand() {
        let specials = SpecialIds::fixed();
        // Specials are ids 0..23, so a vocabulary of 26 has three text ids: 23, 24, 25.
        let first_text = SpecialIds::count_fixed() as u32;
        assert_eq!(first_text, 23);
        let (a, b, c) = (23, 24, 25);
        // Training stream: [EOS] a a b [SEP] a. Text counts a 3, b 1, c 0; add one each:
        // 4, 2, 1 over 7, so p(a) = 4/7, p(b) = 2/7, p(c) = 1/7. Specials are not counted.
        let train = [specials.eos, a, a, b, specials.sep, a];
        // Reply 1 is a c: −ln(4/7) − ln(1/7) = ln(49/4) over 2 tokens. Reply 2 is b and an
        // [EOS], which is outside the support: −ln(2/7) = ln(7/2) over 1 token. The mean is
        // ln(343/8) / 3 = ln(7/2), so the perplexity is exactly 3.5. Contexts are not scored.
        let examples = [
            example(&[specials.eos, c, c], &[a, c]),
            example(&[b], &[b, specials.eos]),
        ];
        let score = reply_unigram(&train, 26, specials, &examples).expect("scored");
        assert!((score.perplexity - 3.5).abs() < 1e-12, "{score:?}");
        assert!((score.mean_nll - 3.5f64.ln()).abs() < 1e-12);
        assert_eq!((score.examples, score.tokens, score.skipped), (2, 3, 1));
        // Both replies cost ln(7/2) per token: no spread between replies, no standard error.
        assert!(score.perplexity_se.abs() < 1e-12, "{score:?}");

        // Two one-token replies, a and c: mean NLL (ln(7/4) + ln 7) / 2 = ln(7/2) again, and
        // the cluster residuals are ±ln(4)/2 each, so the SE of the mean is ln(4)/2 = ln 2
        // and the perplexity's is 3.5 · ln 2.
        let examples = [example(&[b], &[a]), example(&[b], &[c])];
        let score = reply_unigram(&train, 26, specials, &examples).expect("scored");
        assert!((score.perplexity - 3.5).abs() < 1e-12);
        assert!(
            (score.perplexity_se - 3.5 * 2f64.ln()).abs() < 1e-12,
            "{score:?}"
        );

        assert_eq!(
            reply_unigram(&train, 26, specials, &[example(&[a], &[specials.sep])]),
            None
        );
    }
}

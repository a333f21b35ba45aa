//! Zero-shot pair judgement by likelihood: how much reading A raises the likelihood of B under
//! the run's own scoring protocol ([`crate::core::objective::scoring`]; a pseudo-log-likelihood
//! for masked LM, Salazar et al. 2020), the pointwise mutual information
//! `log p(B | A) − log p(B)`. Both terms score the same first tokens of B, so the words of B
//! that are likely anywhere cancel and what is left is what A tells about B.
//!
//! A and B are joined as the network pre-trained on them ([`super::pair_input`]): as the packed
//! stream joins a pair of that source, or with `[SEP]` for a token objective that trained only
//! on packed segment pairs. A pair whose B has no token left to score is not a pair this
//! reading can judge: it is dropped from the set and counted, never scored as if A told
//! nothing about it.

use super::generation;
use super::pair_input::{EncodedPair, PairJoin};
use super::run::EvalControl;
use crate::core::corpus::PairSource;
use crate::core::error::CoreError;
use crate::core::mix::Objective;
use crate::core::model::network::Network;
use crate::core::objective::scoring::ScoringExample;
use crate::core::plan::Plan;
use crate::core::tokenizer::SpecialIds;

/// Scores pairs by how much A raises the likelihood of B under one objective's protocol.
pub struct LikelihoodReader<'a> {
    pub network: &'a Network,
    pub objective: Objective,
    pub seq_len: usize,
    pub specials: SpecialIds,
    pub backend_label: &'a str,
    /// The objective pre-trained only on `[SEP]`-joined segment pairs (it shares its batches
    /// with NSP or SOP), so every pair is read with its `[SEP]`.
    pub segment_pairs: bool,
}

/// Whether `objective`'s tokens pre-trained only on packed segment pairs in `plan` (BERT's and
/// ALBERT's masked LM), never on the packed stream.
pub fn trained_on_segment_pairs(plan: &Plan, objective: Objective) -> bool {
    let mut batches = plan
        .batches
        .iter()
        .filter(|k| k.tokens == Some(objective))
        .peekable();
    batches.peek().is_some() && batches.all(|k| k.pairs.is_some())
}

impl LikelihoodReader<'_> {
    /// What stands between A and B of a pair of `source`.
    pub fn join(&self, source: PairSource) -> PairJoin {
        if self.segment_pairs {
            PairJoin::Separator
        } else {
            PairJoin::in_stream(source)
        }
    }

    /// The conditional (`[EOS] A [SEP]` or `[EOS] A`, then B) and marginal (`[EOS]`, then B)
    /// examples of `pair`, on the same first tokens of B (at most half the window; see
    /// [`ScoringExample::fitted`]); `None` when B has no token to score.
    pub fn examples(&self, pair: &EncodedPair) -> Option<(ScoringExample, ScoringExample)> {
        let s = self.specials;
        let mut context = Vec::with_capacity(pair.a.len() + 2);
        context.push(s.eos);
        context.extend_from_slice(&pair.a);
        if self.join(pair.source) == PairJoin::Separator {
            context.push(s.sep);
        }
        let conditional = ScoringExample::fitted(&context, &pair.b, self.seq_len)?;
        let marginal = ScoringExample::fitted(&[s.eos], &pair.b, self.seq_len)?;
        Some((conditional, marginal))
    }

    /// `log p(B | A) − log p(B)` per pair, `None` for a pair whose B has no token to score.
    pub async fn pmi(
        &self,
        pairs: &[EncodedPair],
        cp: &mut impl EvalControl,
    ) -> Result<Vec<Option<f64>>, CoreError> {
        let mut conditional = Vec::with_capacity(pairs.len());
        let mut marginal = Vec::with_capacity(pairs.len());
        let mut kept = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let examples = self.examples(pair);
            kept.push(examples.is_some());
            if let Some((c, m)) = examples {
                conditional.push(c);
                marginal.push(m);
            }
        }
        let (network, objective, s, label) = (
            self.network,
            self.objective,
            self.specials,
            self.backend_label,
        );
        let with_a =
            generation::example_nll(network, objective, &conditional, s, label, cp).await?;
        let without = generation::example_nll(network, objective, &marginal, s, label, cp).await?;
        let mut scores = with_a.sums.iter().zip(&without.sums).map(|(c, m)| m - c);
        Ok(kept
            .into_iter()
            .map(|k| if k { scores.next() } else { None })
            .collect())
    }
}

/// The scored pairs' scores and labels, and how many pairs had no score and were left out.
pub fn scored(scores: &[Option<f64>], labels: &[u8]) -> (Vec<f64>, Vec<u8>, usize) {
    let (mut kept, mut kept_labels) = (Vec::new(), Vec::new());
    for (score, &label) in scores.iter().zip(labels) {
        if let Some(score) = score {
            kept.push(*score);
            kept_labels.push(label);
        }
    }
    let dropped = scores.len().min(labels.len()) - kept.len();
    (kept, kept_labels, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::ModelSize;
    use crate::core::exec::{NoYield, block_on};
    use crate::core::mix::ObjectiveMix;
    use crate::core::plan::plan;

    fn pair(a: Vec<u32>, b: Vec<u32>, source: PairSource) -> EncodedPair {
        EncodedPair {
            a,
            b,
            source,
            label: 1,
        }
    }

    #[test]
    fn segment_pairs_are_what_bert_and_albert_mask_and_nothing_else() {
        for (name, objective, expected) in [
            ("bert", Objective::Mlm, true),
            ("albert", Objective::Mlm, true),
            ("roberta", Objective::Mlm, false),
            ("gpt", Objective::Clm, false),
            ("t5", Objective::Span, false),
            ("span+nsp", Objective::Span, false),
        ] {
            let (mix, _) = ObjectiveMix::parse(name).expect("mix");
            let plan = plan(&mix).expect("plan");
            assert_eq!(
                trained_on_segment_pairs(&plan, objective),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn the_context_joins_as_the_stream_and_an_empty_b_is_dropped_not_scored() {
        let config = ModelSize::Fast.model();
        let device = burn::tensor::Device::flex();
        let (mix, _) = ObjectiveMix::parse("gpt").expect("mix");
        let plan = plan(&mix).expect("plan");
        let network = Network::init(plan.architecture, plan.extras(), &config, 5, &device);
        let s = SpecialIds::fixed();
        let mut reader = LikelihoodReader {
            network: &network,
            objective: Objective::Clm,
            seq_len: config.max_seq_len,
            specials: s,
            backend_label: "CPU",
            segment_pairs: false,
        };
        let parts = pair(vec![100, 101], vec![200, 201], PairSource::TicketResolution);
        let sentences = pair(vec![100, 101], vec![200, 201], PairSource::Consecutive);
        let context = |p: &EncodedPair, r: &LikelihoodReader| {
            r.examples(p).map(|(c, m)| (c.context, m.context))
        };
        assert_eq!(
            context(&parts, &reader),
            Some((vec![s.eos, 100, 101, s.sep], vec![s.eos]))
        );
        assert_eq!(
            context(&sentences, &reader),
            Some((vec![s.eos, 100, 101], vec![s.eos])),
            "consecutive sentences stand side by side in the stream"
        );
        reader.segment_pairs = true;
        assert_eq!(
            context(&sentences, &reader),
            Some((vec![s.eos, 100, 101, s.sep], vec![s.eos])),
            "a model that learned [SEP]-joined segments reads them so"
        );
        reader.segment_pairs = false;

        let empty = pair(vec![100, 101], Vec::new(), PairSource::Consecutive);
        assert!(reader.examples(&empty).is_none());
        let pairs = [parts, empty, sentences];
        let scores = block_on(reader.pmi(&pairs, &mut NoYield)).expect("pmi");
        assert_eq!(scores.len(), 3);
        assert!(scores[0].is_some_and(f64::is_finite));
        assert_eq!(scores[1], None, "no token of B to score: no score, not 0");
        assert!(scores[2].is_some_and(f64::is_finite));
        let (kept, labels, dropped) = scored(&scores, &[1, 0, 0]);
        assert_eq!((kept.len(), labels, dropped), (2, vec![1, 0], 1));
    }
}

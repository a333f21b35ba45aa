//! Reading each single-stack objective's example back into strip rows (MLM, CLM, XLNet, and
//! the pair head alone); the encoder-decoders' are in [`super::denoising`].

use super::{Frame, Phase, StripToken, TokenState};
use crate::core::tokenizer::SpecialIds;
use crate::core::viz::{TokenLabel, TokenText};

/// One example's sides, padding cut from the input.
pub(super) struct Row {
    pub(super) inputs: Vec<u32>,
    pub(super) targets: Vec<u32>,
    pub(super) weights: Vec<f32>,
    pub(super) corrupted: Vec<f32>,
    pub(super) specials: SpecialIds,
}

impl Row {
    pub(super) fn scored(&self, i: usize) -> bool {
        self.weights.get(i).is_some_and(|&w| w > 0.0)
    }

    pub(super) fn is_corrupted(&self, i: usize) -> bool {
        self.corrupted.get(i).is_some_and(|&c| c > 0.0)
    }

    /// The target side without its padding: the positions the loss scores come first.
    pub(super) fn written_len(&self) -> usize {
        self.targets
            .iter()
            .rposition(|&id| id != self.specials.pad)
            .map_or(0, |p| p + 1)
    }
}

pub(super) type Rows = (Vec<StripToken>, Vec<StripToken>, Vec<StripToken>);

pub(super) struct Builder<'a, T: TokenText> {
    pub(super) text: &'a T,
    pub(super) specials: SpecialIds,
    pub(super) frames: Vec<Frame>,
}

impl<T: TokenText> Builder<'_, T> {
    pub(super) fn frame(&mut self, phase: Phase, caption: String) -> usize {
        self.frames.push(Frame { phase, caption });
        self.frames.len() - 1
    }

    /// Plain tokens of `ids`, each standing for `source(i)`.
    pub(super) fn tokens(
        &self,
        ids: &[u32],
        source: impl Fn(usize) -> Vec<usize>,
    ) -> Vec<StripToken> {
        ids.iter()
            .zip(self.text.texts(ids))
            .enumerate()
            .map(|(i, (&id, text))| StripToken {
                id,
                text,
                state: if self.specials.is_special(id) {
                    TokenState::Special
                } else {
                    TokenState::Text
                },
                source: source(i),
                span: None,
                segment: None,
                supervised: false,
                target: None,
                prediction_order: None,
                corrupt_frame: None,
                predict_frame: None,
            })
            .collect()
    }

    pub(super) fn label(&self, id: u32) -> TokenLabel {
        TokenLabel {
            id,
            text: self.text.texts(&[id]).pop().unwrap_or_default(),
            padding: id == self.specials.pad,
        }
    }

    /// The pair head alone: the model reads the text as it is.
    pub(super) fn unchanged(&mut self, row: &Row) -> Rows {
        let original = self.tokens(&row.inputs, |i| vec![i]);
        (original.clone(), original, Vec::new())
    }

    pub(super) fn mlm(&mut self, row: &Row) -> Rows {
        let n = row.inputs.len();
        let mut original = self.tokens(&row.targets[..n.min(row.targets.len())], |i| vec![i]);
        let mut seen = self.tokens(&row.inputs, |i| vec![i]);
        for (i, token) in seen.iter_mut().enumerate().filter(|(i, _)| row.scored(*i)) {
            token.state = match (row.is_corrupted(i), token.id == self.specials.mask) {
                (true, true) => TokenState::Masked,
                (true, false) => TokenState::Random,
                (false, _) => TokenState::KeptScored,
            };
            token.supervised = true;
            token.target = row.targets.get(i).map(|&id| self.label(id));
        }
        let selected = seen.iter().filter(|t| t.supervised).count();
        for (state, what) in [
            (TokenState::Masked, "become [MASK]"),
            (TokenState::Random, "become a random token"),
            (
                TokenState::KeptScored,
                "stay as they were, yet are predicted",
            ),
        ] {
            let count = seen.iter().filter(|t| t.state == state).count();
            if count == 0 {
                continue;
            }
            let frame = self.frame(
                Phase::Corrupt,
                format!("{count} of the {selected} selected tokens {what}"),
            );
            for token in seen.iter_mut().filter(|t| t.state == state) {
                token.corrupt_frame = Some(frame);
            }
        }
        let predict = self.frame(
            Phase::Predict,
            format!("predict all {selected} selected tokens at once, each reading both sides"),
        );
        for (i, token) in seen.iter_mut().enumerate().filter(|(_, t)| t.supervised) {
            token.predict_frame = Some(predict);
            if let Some(o) = original.get_mut(i) {
                o.supervised = true;
            }
        }
        (original, seen, Vec::new())
    }

    pub(super) fn clm(&mut self, row: &Row) -> Rows {
        let n = row.inputs.len();
        let mut ids = row.inputs.clone();
        // A window's last target is one token past the input: the original has it too.
        if n > 0 && row.scored(n - 1) {
            ids.extend(row.targets.get(n - 1));
        }
        let mut original = self.tokens(&ids, |i| vec![i]);
        let mut seen = self.tokens(&row.inputs, |i| vec![i]);
        let shift = self.frame(
            Phase::Corrupt,
            "nothing is hidden: each position's target is the token after it, and the causal \
             mask hides the future"
                .into(),
        );
        let predict = self.frame(
            Phase::Predict,
            "predict every next token at once, each from its left".into(),
        );
        for (i, token) in seen.iter_mut().enumerate().filter(|(i, _)| row.scored(*i)) {
            token.supervised = true;
            token.target = row.targets.get(i).map(|&id| self.label(id));
            token.corrupt_frame = Some(shift);
            token.predict_frame = Some(predict);
            if let Some(o) = original.get_mut(i + 1) {
                o.supervised = true;
            }
        }
        (original, seen, Vec::new())
    }

    /// `query` is the example's `[seq, seq]` query mask (`true` = blocked).
    pub(super) fn plm(&mut self, row: &Row, query: &[bool], seq_len: usize) -> Rows {
        let original = self.tokens(&row.inputs, |i| vec![i]);
        let mut seen = original.clone();
        // A query row reads exactly the positions before it in the order.
        let rank = |i: usize| {
            query
                .get(i * seq_len..(i + 1) * seq_len)
                .map_or(0, |r| r.iter().filter(|&&b| !b).count())
        };
        let mut targets: Vec<usize> = (0..seen.len()).filter(|&i| row.scored(i)).collect();
        targets.sort_by_key(|&i| rank(i));
        let context = seen
            .iter()
            .enumerate()
            .filter(|(i, t)| t.state == TokenState::Text && !row.scored(*i))
            .count();
        let order = self.frame(
            Phase::Corrupt,
            format!(
                "draw a factorisation order: {context} context tokens share one rank, then {} \
                 targets one after another",
                targets.len()
            ),
        );
        for (i, token) in seen.iter_mut().enumerate() {
            if token.state == TokenState::Text {
                token.state = TokenState::Context;
                token.corrupt_frame = Some(order);
            }
            token.source = vec![i];
        }
        for (k, &i) in targets.iter().enumerate() {
            let frame = self.frame(
                Phase::Predict,
                format!(
                    "target {}: predict position {i} from the context and the {k} targets before \
                     it, never from its own token",
                    k + 1
                ),
            );
            if let Some(token) = seen.get_mut(i) {
                token.state = TokenState::Target;
                token.supervised = true;
                token.target = row.targets.get(i).map(|&id| self.label(id));
                token.prediction_order = Some(k + 1);
                token.corrupt_frame = Some(order);
                token.predict_frame = Some(frame);
            }
        }
        let mut original = original;
        for &i in &targets {
            if let Some(o) = original.get_mut(i) {
                o.supervised = true;
            }
        }
        (original, seen, Vec::new())
    }
}

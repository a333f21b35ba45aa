//! Reading an encoder-decoder example back into strip rows: T5's sentinels and dropped spans,
//! BART's one `[MASK]` per span (empty spans included), and the decoder's target row.

use super::rows::{Builder, Row, Rows};
use super::{Phase, StripToken, TokenState};
use crate::core::error::CoreError;
use crate::core::objective::span::{reconstruct, sentinel_index};
use crate::core::viz::TokenText;

impl<T: TokenText> Builder<'_, T> {
    /// Marks `original[span]` dropped in span `k`, at `frame`.
    fn drop_span(original: &mut [StripToken], span: &[usize], k: usize, frame: usize) {
        for &p in span {
            if let Some(o) = original.get_mut(p) {
                o.state = TokenState::Dropped;
                o.span = Some(k);
                o.supervised = true;
                o.corrupt_frame = Some(frame);
            }
        }
    }

    pub(super) fn span(&mut self, row: &Row) -> Result<Rows, CoreError> {
        let written_ids = &row.targets[..row.written_len()];
        let original_ids = reconstruct(&row.inputs, written_ids, self.specials)?;
        let mut original = self.tokens(&original_ids, |i| vec![i]);
        // Span k's original positions, from the target: the tokens after its sentinel.
        let mut spans: Vec<Vec<usize>> = Vec::new();
        let mut pos = 0;
        let mut seen_sources = Vec::with_capacity(row.inputs.len());
        let mut span_lengths = Vec::new();
        for &id in written_ids {
            match sentinel_index(self.specials, id) {
                Some(_) => span_lengths.push(0),
                None => {
                    if let Some(last) = span_lengths.last_mut() {
                        *last += 1;
                    }
                }
            }
        }
        for &id in &row.inputs {
            match sentinel_index(self.specials, id) {
                Some(k) => {
                    let len = span_lengths.get(k).copied().unwrap_or(0);
                    let span: Vec<usize> = (pos..pos + len).collect();
                    pos += len;
                    seen_sources.push(span.clone());
                    spans.push(span);
                }
                None => {
                    seen_sources.push(vec![pos]);
                    pos += 1;
                }
            }
        }
        let mut seen = self.tokens(&row.inputs, |i| {
            seen_sources.get(i).cloned().unwrap_or_default()
        });
        for (k, span) in spans.iter().enumerate() {
            let words = self.text.texts(
                &span
                    .iter()
                    .filter_map(|&p| original_ids.get(p).copied())
                    .collect::<Vec<_>>(),
            );
            let frame = self.frame(
                Phase::Corrupt,
                format!(
                    "span {k}: hide {} token(s), “{}”, behind [SPAN{k}]",
                    span.len(),
                    words.concat()
                ),
            );
            Self::drop_span(&mut original, span, k, frame);
            if let Some(token) = seen
                .iter_mut()
                .find(|t| sentinel_index(self.specials, t.id) == Some(k))
            {
                token.state = TokenState::Sentinel;
                token.span = Some(k);
                token.corrupt_frame = Some(frame);
            }
        }
        let predict = self.frame(
            Phase::Predict,
            format!(
                "the decoder writes each hidden span after its sentinel, {} tokens closed by \
                 [SPAN{}]",
                written_ids.len(),
                spans.len()
            ),
        );
        let mut written = self.tokens(written_ids, |_| Vec::new());
        let mut current = None;
        let mut in_span = 0;
        for (t, token) in written.iter_mut().enumerate() {
            match sentinel_index(self.specials, token.id) {
                Some(k) => {
                    token.state = TokenState::Sentinel;
                    current = Some(k);
                    in_span = 0;
                }
                None => {
                    token.state = TokenState::Restored;
                    let p = current
                        .and_then(|k| spans.get(k))
                        .and_then(|s| s.get(in_span));
                    token.source = p.into_iter().copied().collect();
                    in_span += 1;
                }
            }
            token.span = current;
            token.supervised = row.scored(t);
            token.target = Some(self.label(token.id));
            token.predict_frame = Some(predict);
        }
        Ok((original, seen, written))
    }

    pub(super) fn infill(&mut self, row: &Row) -> Result<Rows, CoreError> {
        let n = row.written_len();
        let original_ids = &row.targets[..n];
        let mismatch = |at: usize| {
            CoreError::Picture(format!(
                "the BART input and its target disagree at input position {at}"
            ))
        };
        let mut spans: Vec<Vec<usize>> = Vec::new();
        let mut seen_sources = Vec::with_capacity(row.inputs.len());
        let mut j = 0;
        for (i, &id) in row.inputs.iter().enumerate() {
            if id == self.specials.mask {
                let start = j;
                while j < n && row.is_corrupted(j) {
                    j += 1;
                }
                seen_sources.push((start..j).collect::<Vec<_>>());
                spans.push((start..j).collect());
            } else if original_ids.get(j) == Some(&id) {
                seen_sources.push(vec![j]);
                j += 1;
            } else {
                return Err(mismatch(i));
            }
        }
        if j != n {
            return Err(mismatch(row.inputs.len()));
        }
        let mut original = self.tokens(original_ids, |i| vec![i]);
        let mut seen = self.tokens(&row.inputs, |i| {
            seen_sources.get(i).cloned().unwrap_or_default()
        });
        let mask = self.specials.mask;
        for (k, (token, span)) in seen
            .iter_mut()
            .filter(|t| t.id == mask)
            .zip(&spans)
            .enumerate()
        {
            let words = self.text.texts(
                &span
                    .iter()
                    .filter_map(|&p| original_ids.get(p).copied())
                    .collect::<Vec<_>>(),
            );
            let caption = if span.is_empty() {
                format!("span {k}: an empty span, a [MASK] that hides nothing")
            } else {
                format!(
                    "span {k}: {} token(s), “{}”, become one [MASK]",
                    span.len(),
                    words.concat()
                )
            };
            let frame = self.frame(Phase::Corrupt, caption);
            Self::drop_span(&mut original, span, k, frame);
            token.state = TokenState::SpanMask;
            token.span = Some(k);
            token.corrupt_frame = Some(frame);
        }
        let predict = self.frame(
            Phase::Predict,
            format!("the decoder rewrites all {n} tokens, the hidden spans included"),
        );
        let mut written = self.tokens(original_ids, |i| vec![i]);
        for (t, token) in written.iter_mut().enumerate() {
            if row.is_corrupted(t) {
                token.state = TokenState::Restored;
                token.span = original.get(t).and_then(|o| o.span);
            }
            token.supervised = row.scored(t);
            token.target = Some(self.label(token.id));
            token.predict_frame = Some(predict);
        }
        Ok((original, seen, written))
    }
}

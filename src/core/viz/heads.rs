//! One line per attention head, from the weights a forward pass exported: how spread out its
//! attention is, how far it looks, and how much of it lands on `[CLS]`, on `[SEP]`, on the
//! previous token and on the position itself — so "this head became a previous-token head" is
//! a number the page can show while training runs.
//!
//! The measures follow Clark et al. 2019 ("What does BERT look at?", §3–4), who found BERT's
//! heads attending broadly, to the previous or next token, and heavily to `[SEP]` and `[CLS]`;
//! entropy as a measure of how focused a head is comes from the same paper (§4). Each is a mean
//! over the query rows that attend to something: padded rows are left out (their output is never
//! read), and so is XLNet's query row with nothing before it in the order, whose attention the
//! model zeroes.

use serde::{Deserialize, Serialize};

use super::Stream;
use super::trace::{ExportedTrace, TraceLayer};
use crate::core::error::CoreError;
use crate::core::tokenizer::SpecialIds;

/// A share of a head's attention above which the page names what the head does: more than half
/// of it, on average, on one kind of key.
pub const SPECIALISED_SHARE: f32 = 0.5;

/// What a head clearly specialises in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadRole {
    /// Reads mostly the token just before (position `q − 1`).
    PreviousToken,
    /// Reads mostly its own position.
    OwnToken,
    /// Reads mostly `[CLS]`.
    Cls,
    /// Reads mostly `[SEP]` (Clark et al. read this as a "no-op": nothing useful to attend to).
    Sep,
}

impl HeadRole {
    pub fn title(self) -> &'static str {
        match self {
            HeadRole::PreviousToken => "previous-token head",
            HeadRole::OwnToken => "own-token head",
            HeadRole::Cls => "[CLS] head",
            HeadRole::Sep => "[SEP] head",
        }
    }
}

/// One head of one layer, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadSummary {
    pub layer: usize,
    pub stream: Stream,
    pub head: usize,
    /// Query rows averaged over.
    pub rows: usize,
    /// Mean entropy of a row's weights, in nats (0: one key; ln n: n keys alike).
    pub entropy: f32,
    /// Mean `Σ_k w_k · |q − k|` (`None` for cross-attention, whose rows and columns are
    /// different sequences).
    pub mean_distance: Option<f32>,
    /// Mean weight on `[CLS]` keys.
    pub cls_share: f32,
    /// Mean weight on `[SEP]` keys.
    pub sep_share: f32,
    /// Mean weight on key `q − 1`, over the rows that have one (`None` for cross-attention).
    pub previous_share: Option<f32>,
    /// Mean weight on key `q` (`None` for cross-attention).
    pub own_share: Option<f32>,
    /// Set when one share exceeds [`SPECIALISED_SHARE`] (the largest such).
    pub role: Option<HeadRole>,
}

/// Every head of `layer`. Errors when the layer was exported without its weights.
pub fn summarise_layer(
    layer: &TraceLayer,
    specials: SpecialIds,
) -> Result<Vec<HeadSummary>, CoreError> {
    let w = layer.weights.as_ref().ok_or_else(|| {
        CoreError::Picture(format!(
            "{} layer {} was exported without its weights",
            layer.stream.title(),
            layer.layer
        ))
    })?;
    let m = &layer.mask;
    let same_sequence = layer.stream != Stream::Cross;
    let key_is = |id: u32| -> Vec<bool> { m.col_tokens.iter().map(|t| t.id == id).collect() };
    let (cls, sep) = (key_is(specials.cls), key_is(specials.sep));
    let share_on = |row: &[f32], keys: &[bool]| -> f64 {
        row.iter()
            .zip(keys)
            .filter(|(_, k)| **k)
            .map(|(&x, _)| f64::from(x))
            .sum()
    };
    let mut out = Vec::with_capacity(w.heads);
    for head in 0..w.heads {
        let mut n = 0usize;
        let mut previous_rows = 0usize;
        let (mut entropy, mut distance, mut on_cls, mut on_sep) = (0.0, 0.0, 0.0, 0.0);
        let (mut previous, mut own) = (0.0, 0.0);
        for q in 0..w.rows {
            let row = w.row(head, q);
            let padded = m.row_tokens.get(q).is_none_or(|t| t.padding);
            let total: f64 = row.iter().map(|&x| f64::from(x)).sum();
            if padded || total < 0.5 {
                continue;
            }
            n += 1;
            entropy -= row
                .iter()
                .filter(|&&x| x > 0.0)
                .map(|&x| f64::from(x) * f64::from(x).ln())
                .sum::<f64>();
            on_cls += share_on(row, &cls);
            on_sep += share_on(row, &sep);
            if same_sequence {
                distance += row
                    .iter()
                    .enumerate()
                    .map(|(k, &x)| f64::from(x) * k.abs_diff(q) as f64)
                    .sum::<f64>();
                own += row.get(q).map_or(0.0, |&x| f64::from(x));
                if q > 0 {
                    previous_rows += 1;
                    previous += row.get(q - 1).map_or(0.0, |&x| f64::from(x));
                }
            }
        }
        let mean = |sum: f64, count: usize| (sum / count.max(1) as f64) as f32;
        let previous_share =
            (same_sequence && previous_rows > 0).then(|| mean(previous, previous_rows));
        let own_share = same_sequence.then(|| mean(own, n));
        let (cls_share, sep_share) = (mean(on_cls, n), mean(on_sep, n));
        let role = [
            (HeadRole::PreviousToken, previous_share.unwrap_or(0.0)),
            (HeadRole::OwnToken, own_share.unwrap_or(0.0)),
            (HeadRole::Cls, cls_share),
            (HeadRole::Sep, sep_share),
        ]
        .into_iter()
        .filter(|&(_, share)| share > SPECIALISED_SHARE)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(role, _)| role);
        out.push(HeadSummary {
            layer: layer.layer,
            stream: layer.stream,
            head,
            rows: n,
            entropy: mean(entropy, n),
            mean_distance: same_sequence.then(|| mean(distance, n)),
            cls_share,
            sep_share,
            previous_share,
            own_share,
            role,
        });
    }
    Ok(out)
}

/// Every head of every layer of `trace` that carries weights, in trace order. Errors when none
/// does.
pub fn summarise(
    trace: &ExportedTrace,
    specials: SpecialIds,
) -> Result<Vec<HeadSummary>, CoreError> {
    let with_weights: Vec<&TraceLayer> = trace
        .layers
        .iter()
        .filter(|l| l.weights.is_some())
        .collect();
    if with_weights.is_empty() {
        return Err(CoreError::Picture(
            "the trace was exported without head weights".into(),
        ));
    }
    let mut out = Vec::new();
    for layer in with_weights {
        out.extend(summarise_layer(layer, specials)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viz::TokenLabel;
    use crate::core::viz::test_support::{batches, capture, network};
    use crate::core::viz::trace::{HeadWeights, MaskMatrix};

    const SPECIALS: SpecialIds = SpecialIds::fixed();

    fn token(id: u32, padding: bool) -> TokenLabel {
        TokenLabel {
            id,
            text: format!("{id}"),
            padding,
        }
    }

    /// `[CLS] a [SEP] [PAD]`, two heads: one reading mostly the previous token, one uniform;
    /// the padded row holds nonsense that must not count.
    fn layer(stream: Stream) -> TraceLayer {
        let tokens = vec![
            token(SPECIALS.cls, false),
            token(100, false),
            token(SPECIALS.sep, false),
            token(SPECIALS.pad, true),
        ];
        let third = 1.0 / 3.0;
        #[rustfmt::skip]
        let values = vec![
            // head 0
            1.0, 0.0, 0.0, 0.0,
            0.8, 0.2, 0.0, 0.0,
            0.0, 0.9, 0.1, 0.0,
            0.0, 0.0, 0.0, 1.0,
            // head 1
            third, third, third, 0.0,
            third, third, third, 0.0,
            third, third, third, 0.0,
            0.0, 0.0, 1.0, 0.0,
        ];
        TraceLayer {
            layer: 1,
            stream,
            mask: MaskMatrix {
                rows: 4,
                cols: 4,
                blocked: (0..16).map(|i| i % 4 == 3).collect(),
                row_tokens: tokens.clone(),
                col_tokens: tokens,
            },
            weights: Some(HeadWeights {
                heads: 2,
                rows: 4,
                cols: 4,
                values,
            }),
        }
    }

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-5
    }

    #[test]
    fn hand_computed_summaries_and_a_previous_token_head() {
        let heads = summarise_layer(&layer(Stream::SelfAttention), SPECIALS).expect("weights");
        let (prev, uniform) = (&heads[0], &heads[1]);
        assert_eq!(prev.rows, 3, "the padded row is left out");
        // Entropies: 0, −(.8 ln .8 + .2 ln .2) = 0.500402, −(.9 ln .9 + .1 ln .1) = 0.325083.
        assert!(
            close(prev.entropy, (0.500_402 + 0.325_083) / 3.0),
            "{prev:?}"
        );
        // Distances: 0, 0.8, 0.9.
        assert!(close(prev.mean_distance.expect("distance"), 1.7 / 3.0));
        // [CLS] at key 0: 1, 0.8, 0; [SEP] at key 2: 0, 0, 0.1.
        assert!(close(prev.cls_share, 1.8 / 3.0) && close(prev.sep_share, 0.1 / 3.0));
        // Previous token over rows 1 and 2: 0.8 and 0.9.
        assert!(close(prev.previous_share.expect("previous"), 0.85));
        assert!(close(prev.own_share.expect("own"), 1.3 / 3.0));
        assert_eq!(
            prev.role,
            Some(HeadRole::PreviousToken),
            "0.85 beats [CLS]'s 0.6"
        );

        assert!(close(uniform.entropy, 3f64.ln()));
        assert!(close(
            uniform.mean_distance.expect("distance"),
            (1.0 + 2.0 / 3.0 + 1.0) / 3.0
        ));
        assert!(close(uniform.cls_share, 1.0 / 3.0) && close(uniform.sep_share, 1.0 / 3.0));
        assert!(close(uniform.previous_share.expect("previous"), 1.0 / 3.0));
        assert_eq!(uniform.role, None, "nothing above half");
        assert_eq!(HeadRole::PreviousToken.title(), "previous-token head");
    }

    #[test]
    fn cross_attention_has_no_distance_and_zeroed_rows_do_not_count() {
        let mut l = layer(Stream::Cross);
        let heads = summarise_layer(&l, SPECIALS).expect("weights");
        assert!(heads.iter().all(|h| h.mean_distance.is_none()));
        assert!(
            heads
                .iter()
                .all(|h| h.previous_share.is_none() && h.own_share.is_none())
        );
        assert_eq!(heads[0].role, Some(HeadRole::Cls), "0.6 on [CLS]");
        // XLNet's first query row in the order attends to nothing: it is left out.
        l.stream = Stream::Query;
        if let Some(w) = l.weights.as_mut() {
            w.values[..4].fill(0.0);
        }
        let heads = summarise_layer(&l, SPECIALS).expect("weights");
        assert_eq!(heads[0].rows, 2);
        assert!(close(heads[0].cls_share, 0.4));
        l.weights = None;
        assert!(summarise_layer(&l, SPECIALS).is_err());
    }

    #[test]
    fn a_captured_traces_summaries_are_in_range() {
        for mix in ["bert", "xlnet", "t5"] {
            let (_, batch) = batches(mix).remove(0);
            let trace = capture(&network(mix), &batch, 0);
            let heads = summarise(&trace, SPECIALS).expect("summaries");
            assert_eq!(heads.len(), trace.layers.len() * 4, "fast has 4 heads");
            for h in heads {
                let cols = trace.layers[0].mask.cols.max(batch.seq_len) as f32;
                assert!(h.entropy >= -1e-6 && h.entropy <= cols.ln() + 1e-4, "{h:?}");
                for share in [h.cls_share, h.sep_share] {
                    assert!((-1e-6..=1.0 + 1e-4).contains(&share), "{h:?}");
                }
                assert!(h.rows > 0);
            }
            assert!(summarise(&trace.clone().masks_only(), SPECIALS).is_err());
        }
    }
}

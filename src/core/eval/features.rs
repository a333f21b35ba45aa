//! Frozen features of a sentence pair, for the linear probe of pair judgement, and the pair
//! head's own verdict where one was trained (the zero-shot NSP/SOP reading).
//!
//! Each network reads the pair in the format it pre-trained on and is pooled where its
//! architecture puts the information (padding never enters a mean):
//! - a pair head was trained (NSP/SOP): the run's pair layout with segment ids, and
//!   `[CLS]` ‖ mean — `[CLS]` is only a summary where a loss made it one (BERT §3.1);
//! - encoder (masked LM): A and B joined as the packed stream joins them (`A [SEP] B` across
//!   two parts of a document, `A B` for consecutive sentences; see [`super::pair_input`]),
//!   bidirectional, mean ‖ last real token;
//! - causal decoder: the same join, causal, last ‖ mean — its first token sees nothing, its
//!   last everything (GPT reads a pair's verdict at the last position, Radford et al. 2018
//!   §3.3);
//! - XLNet: the content stream with no permutation mask (every position sees every other, as
//!   in XLNet's fine-tuning), last ‖ mean;
//! - encoder-decoder: encoder mean ‖ the decoder's final state when it reads the same input
//!   after `[BOS]` — how BART classifies (Lewis et al. 2020, §3.1).
//!
//! Too long a pair is cut longest-first, A from its start and B from its end, so the junction
//! that decides coherence is kept whole for both labels (as the pair objectives cut theirs;
//! [`super::pair_input::fit`]).

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::pair_input::{EncodedPair, PairJoin, joined};
use crate::core::corpus::PairSource;
use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::masks::AttentionMask;
use crate::core::masks::CrossMask;
use crate::core::model::encdec::DecoderInputs;
use crate::core::model::network::Network;
use crate::core::model::{Architecture, AttentionTrace};
use crate::core::objective::coherence::{MIN_PAIR_LEN, PairItem, PairLayout, pack};
use crate::core::objective::spec::WithPairs;
use crate::core::plan::Plan;
use crate::core::tokenizer::SpecialIds;

/// Pairs per forward pass.
const PAIRS_PER_BATCH: usize = 32;

/// How a pair's states are pooled into one feature vector (two poolings concatenated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// `[CLS]` ‖ mean over real tokens.
    ClsMean,
    /// Mean over real tokens ‖ the last real token.
    MeanLast,
    /// The last real token ‖ mean over real tokens.
    LastMean,
    /// The encoder's mean ‖ the decoder's final state.
    EncoderMeanDecoderLast,
}

impl Pooling {
    /// The name written in `probe_pooling`.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::ClsMean => "cls‖mean",
            Pooling::MeanLast => "mean‖last",
            Pooling::LastMean => "last‖mean",
            Pooling::EncoderMeanDecoderLast => "encoder-mean‖decoder-last",
        }
    }
}

/// How a run's network reads a pair for the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeFormat {
    pub pooling: Pooling,
    /// The pair layout a pair head trained on; `None`: A and B as the packed stream has them
    /// ([`Self::join`]).
    pub layout: Option<PairLayout>,
    /// Causal attention (a decoder); otherwise bidirectional.
    pub causal: bool,
    pub architecture: Architecture,
}

impl ProbeFormat {
    /// The format for `plan`'s network.
    pub fn of(plan: &Plan) -> Self {
        let architecture = plan.architecture;
        let causal = architecture == Architecture::Decoder;
        if plan.extras().pairs {
            // The layout the pair head trained on: the token objective's when they share a
            // batch, else `[CLS]` first through an encoder.
            let layout = plan
                .batches
                .iter()
                .find_map(|k| k.tokens.filter(|_| k.pairs.is_some()))
                .and_then(|t| match t.spec().tokens().map(|r| r.with_pairs) {
                    Some(WithPairs::SameBatch { layout, .. }) => Some(layout),
                    _ => None,
                })
                .unwrap_or(PairLayout::ClsFirst);
            return Self {
                pooling: Pooling::ClsMean,
                layout: Some(layout),
                causal,
                architecture,
            };
        }
        let pooling = match architecture {
            Architecture::Decoder | Architecture::TwoStream => Pooling::LastMean,
            Architecture::Encoder => Pooling::MeanLast,
            Architecture::EncoderDecoder => Pooling::EncoderMeanDecoderLast,
        };
        Self {
            pooling,
            layout: None,
            causal,
            architecture,
        }
    }
}

impl ProbeFormat {
    /// What stands between A and B of a pair of `source`: the stream's join, or `[SEP]` for
    /// every pair where a pair head trained on `[SEP]`-joined segments.
    pub fn join(&self, source: PairSource) -> PairJoin {
        match self.layout {
            Some(_) => PairJoin::Separator,
            None => PairJoin::in_stream(source),
        }
    }
}

/// One pair packed for the probe: ids, segment ids and where `[CLS]` is (if any).
struct ProbeRow {
    ids: Vec<u32>,
    segments: Vec<u32>,
    head: usize,
}

fn probe_row(
    pair: &EncodedPair,
    format: &ProbeFormat,
    seq_len: usize,
    specials: SpecialIds,
) -> Result<ProbeRow, CoreError> {
    match format.layout {
        Some(layout) => {
            let item = PairItem {
                a: pair.a.clone(),
                b: pair.b.clone(),
                label: 0,
            };
            let packed = pack(&item, layout, seq_len, specials)?;
            Ok(ProbeRow {
                segments: packed.segments.iter().map(|&s| u32::from(s)).collect(),
                head: packed.head,
                ids: packed.ids,
            })
        }
        None => {
            // As the stream joins them, cut to fit. An encoder-decoder's decoder also reads
            // `[BOS]` first.
            let room = if format.architecture == Architecture::EncoderDecoder {
                seq_len.saturating_sub(1)
            } else {
                seq_len
            };
            if room + 2 < MIN_PAIR_LEN {
                return Err(CoreError::Config(format!(
                    "a sentence pair needs a sequence length of at least {MIN_PAIR_LEN}; \
                     {seq_len} is too short"
                )));
            }
            let ids = joined(&pair.a, &pair.b, format.join(pair.source), room, specials);
            Ok(ProbeRow {
                segments: vec![0; ids.len()],
                head: 0,
                ids,
            })
        }
    }
}

/// Features of every pair, and the pair head's probability that B follows A where the run
/// trained one.
#[derive(Debug, Clone, PartialEq)]
pub struct PairFeatures {
    /// One row of `2 · d_model` features per pair.
    pub rows: Vec<Vec<f64>>,
    /// P(B follows A) from the pair head (NSP/SOP runs only).
    pub head: Option<Vec<f64>>,
}

/// Reads `pairs` through the frozen `network`, each joined and cut as `format` says, awaiting
/// `cp` after every batch; every number is read back asynchronously.
pub async fn pair_features(
    network: &Network,
    format: &ProbeFormat,
    pairs: &[EncodedPair],
    seq_len: usize,
    specials: SpecialIds,
    backend_label: &str,
    cp: &mut impl Checkpoint,
) -> Result<PairFeatures, CoreError> {
    let model = network.valid();
    let device = model.device();
    let mut rows = Vec::with_capacity(pairs.len());
    let mut head: Option<Vec<f64>> = format.layout.map(|_| Vec::with_capacity(pairs.len()));
    for chunk in pairs.chunks(PAIRS_PER_BATCH) {
        let packed = chunk
            .iter()
            .map(|pair| probe_row(pair, format, seq_len, specials))
            .collect::<Result<Vec<_>, _>>()?;
        let b = packed.len();
        let s = packed.iter().map(|r| r.ids.len()).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(b * s);
        let mut segments = Vec::with_capacity(b * s);
        let mut padding = Vec::with_capacity(b * s);
        let mut real = Vec::with_capacity(b * s);
        let mut last = Vec::with_capacity(b);
        let mut heads = Vec::with_capacity(b);
        for r in &packed {
            let n = r.ids.len();
            ids.extend(r.ids.iter().map(|&x| i64::from(x)));
            ids.resize(ids.len() + s - n, i64::from(specials.pad));
            segments.extend(r.segments.iter().map(|&x| i64::from(x)));
            segments.resize(segments.len() + s - n, 0);
            padding.extend((0..s).map(|p| p >= n));
            real.extend((0..s).map(|p| if p < n { 1.0f32 } else { 0.0 }));
            last.push(n.saturating_sub(1) as i64);
            heads.push(r.head as i64);
        }
        let mask = if format.causal {
            AttentionMask::causal_with_padding(s, &padding)
        } else {
            AttentionMask::bidirectional(s, &padding)
        }
        .to_tensor(&device);
        let ids_t = Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [b, s]), &device);
        let seg_t = format
            .layout
            .map(|_| Tensor::<2, Int>::from_data(TensorData::new(segments, [b, s]), &device));
        let real_t = Tensor::<2>::from_data(TensorData::new(real, [b, s]), &device);
        let last_t = Tensor::<1, Int>::from_data(TensorData::new(last, [b]), &device);
        let heads_t = Tensor::<1, Int>::from_data(TensorData::new(heads, [b]), &device);
        let stack = match &model {
            Network::Stack(m) => m,
            Network::EncoderDecoder(m) => &m.encoder,
        };
        let (h, _) = stack.encode(ids_t.clone(), &mask, seg_t.as_ref(), false); // [b, s, d]
        let mean = masked_mean(&h, &real_t); // [b, d]
        let (features, pair_logits) = match (format.pooling, &model) {
            (Pooling::EncoderMeanDecoderLast, Network::EncoderDecoder(m)) => {
                // The decoder reads `[BOS]` and the same input; its last state has read all.
                let bos = Tensor::<2, Int>::full([b, 1], i64::from(specials.bos), &device);
                let dec_ids = Tensor::cat(vec![bos, ids_t], 1); // [b, s + 1]
                let mut dec_padding = Vec::with_capacity(b * (s + 1));
                for row in padding.chunks(s) {
                    dec_padding.push(false);
                    dec_padding.extend_from_slice(row);
                }
                let decoder = DecoderInputs {
                    ids: dec_ids,
                    self_mask: AttentionMask::causal_with_padding(s + 1, &dec_padding)
                        .to_tensor(&device),
                    cross_mask: CrossMask::from_key_padding(s + 1, s, &padding).to_tensor(&device),
                };
                let y = m.decode(h.clone(), &decoder, false, &mut AttentionTrace::default());
                // The row's last real decoder position is its encoder `last` + 1.
                let after_bos = last_t.clone() + 1;
                (Tensor::cat(vec![mean, pick(&y, &after_bos)], 1), None)
            }
            (Pooling::ClsMean, _) => (
                Tensor::cat(vec![pick(&h, &heads_t), mean], 1),
                stack.pair_logits(&h, Some(&heads_t)),
            ),
            (Pooling::MeanLast, _) => (Tensor::cat(vec![mean, pick(&h, &last_t)], 1), None),
            _ => (Tensor::cat(vec![pick(&h, &last_t), mean], 1), None),
        };
        let width = features.dims()[1];
        let values = read(features, backend_label).await?;
        rows.extend(
            values
                .chunks(width)
                .map(|r| r.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>()),
        );
        if let (Some(out), Some(logits)) = (head.as_mut(), pair_logits) {
            let p = softmax(logits, 1).narrow(1, 1, 1).reshape([b]); // [b]: P(label 1)
            out.extend(read(p, backend_label).await?.iter().map(|&x| f64::from(x)));
        }
        cp.checkpoint().await;
    }
    // A network without a pair head gives no head verdict even if the format named a layout.
    if head.as_ref().is_some_and(|h| h.len() != rows.len()) {
        head = None;
    }
    Ok(PairFeatures { rows, head })
}

/// Mean over the positions where `real` is 1.
///
/// # Shapes
/// - h `[batch, seq, d]`, real `[batch, seq]` → `[batch, d]`
fn masked_mean(h: &Tensor<3>, real: &Tensor<2>) -> Tensor<2> {
    let [b, s, d] = h.dims();
    let w = real.clone().reshape([b, s, 1]); // [b, s, 1]
    let sum = (h.clone() * w.clone()).sum_dim(1).reshape([b, d]); // [b, d]
    let count = w.sum_dim(1).reshape([b, 1]).clamp_min(1.0); // [b, 1]
    sum / count
}

/// The state at `index` of each row.
///
/// # Shapes
/// - h `[batch, seq, d]`, index `[batch]` → `[batch, d]`
fn pick(h: &Tensor<3>, index: &Tensor<1, Int>) -> Tensor<2> {
    let [b, _, d] = h.dims();
    let index = index.clone().reshape([b, 1, 1]).expand([b, 1, d]); // [b, 1, d]
    h.clone().gather(1, index).reshape([b, d])
}

async fn read<const D: usize>(t: Tensor<D>, backend_label: &str) -> Result<Vec<f32>, CoreError> {
    t.into_data_async()
        .await
        .map_err(|e| CoreError::read(backend_label, e))?
        .try_into_vec::<f32>()
        .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mix::ObjectiveMix;
    use crate::core::plan::plan;

    fn format(name: &str) -> ProbeFormat {
        let (mix, _) = ObjectiveMix::parse(name).expect("mix");
        ProbeFormat::of(&plan(&mix).expect("plan"))
    }

    fn pair(source: PairSource, label: u8) -> EncodedPair {
        EncodedPair {
            a: vec![100, 101, 102],
            b: vec![200, 201],
            source,
            label,
        }
    }

    #[test]
    fn sentences_are_read_side_by_side_and_parts_across_a_separator() {
        let s = SpecialIds::fixed();
        for name in ["gpt", "roberta", "xlnet", "t5", "bart"] {
            let f = format(name);
            for label in [0, 1] {
                let ids = |source| probe_row(&pair(source, label), &f, 32, s).expect("row").ids;
                assert_eq!(
                    ids(PairSource::Consecutive),
                    [100, 101, 102, 200, 201],
                    "{name}: consecutive sentences stand side by side in the stream"
                );
                for source in [PairSource::TicketResolution, PairSource::QuestionAnswer] {
                    assert_eq!(
                        ids(source),
                        [100, 101, 102, s.sep, 200, 201],
                        "{name}: two parts of a document have a [SEP] between them"
                    );
                }
            }
        }
        // A pair head reads every pair in the layout it pre-trained on, [SEP] included.
        for name in ["bert", "albert", "nsp"] {
            let f = format(name);
            let layout = f.layout.expect("a pair layout");
            for source in [PairSource::Consecutive, PairSource::TicketResolution] {
                let p = pair(source, 1);
                let item = PairItem {
                    a: p.a.clone(),
                    b: p.b.clone(),
                    label: 0,
                };
                let expected = pack(&item, layout, 32, s).expect("pack").ids;
                assert_eq!(
                    probe_row(&p, &f, 32, s).expect("row").ids,
                    expected,
                    "{name}"
                );
            }
        }
    }
}

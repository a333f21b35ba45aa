//! Pre-training objectives. An objective turns text into a [`Batch`] — inputs, targets, loss
//! weights (which positions are supervised) and the attention mask — and knows nothing of the
//! model. One objective, one file: each fills an [`spec::ObjectiveSpec`] (its network, knobs,
//! batches, target support and training recipe), and [`Objective::spec`] is the table the rest
//! of the lab reads. Adding an objective is a file and a row here.

pub mod clm;
pub mod coherence;
pub mod infill;
pub mod mlm;
pub mod nsp;
pub mod plm;
pub mod scoring;
pub mod sop;
pub mod span;
pub mod spec;
#[cfg(test)]
pub(crate) mod test_support;
pub mod windows;

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::error::CoreError;
use super::masks::{AttentionMask, CrossMask};
use super::model::encdec::DecoderInputs;
use super::model::network::BatchTensors;
use spec::ObjectiveSpec;

/// The pre-training objectives the lab knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    Mlm,
    Nsp,
    Sop,
    Clm,
    Span,
    Infill,
    Plm,
}

impl Objective {
    pub const ALL: [Objective; 7] = [
        Objective::Mlm,
        Objective::Nsp,
        Objective::Sop,
        Objective::Clm,
        Objective::Span,
        Objective::Infill,
        Objective::Plm,
    ];

    /// The table: every objective's spec, each in its own file.
    pub fn spec(self) -> &'static ObjectiveSpec {
        match self {
            Objective::Mlm => &mlm::SPEC,
            Objective::Nsp => &nsp::SPEC,
            Objective::Sop => &sop::SPEC,
            Objective::Clm => &clm::SPEC,
            Objective::Span => &span::SPEC,
            Objective::Infill => &infill::SPEC,
            Objective::Plm => &plm::SPEC,
        }
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The objective called `name`, or an error listing the names (and presets).
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| CoreError::UnknownObjective {
                name: name.to_string(),
                objectives: Self::ALL.map(|o| o.name()).join(" "),
                presets: crate::core::mix::PRESETS.map(|(p, _)| p).join(" "),
            })
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One batch as plain data (the same on every backend). The single-stack fields serve every
/// architecture: for an encoder-decoder they are the encoder's side (and `targets` are the
/// decoder's), for XLNet `mask` is the content stream's. What only some objectives need is
/// optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub batch_size: usize,
    pub seq_len: usize,
    /// `[batch, seq]` row-major.
    pub inputs: Vec<u32>,
    /// `[batch, seq]`: 0 for segment A, 1 for segment B (sentence-pair inputs).
    #[serde(default)]
    pub segments: Option<Vec<u32>>,
    /// `[batch, seq, seq]`: self-attention (the content stream's for XLNet).
    pub mask: AttentionMask,
    /// Length of the target side: `seq_len`, except for an encoder-decoder's decoder.
    pub target_len: usize,
    /// `[batch, target_len]`: the id each position must predict.
    pub targets: Vec<u32>,
    /// `[batch, target_len]`: 1 where the position is scored, 0 where it is not.
    pub loss_weights: Vec<f32>,
    /// `[batch, target_len]`: 1 where `val_loss_corrupted` scores the position (MLM's
    /// `[MASK]`/random positions, T5's span tokens, BART's masked-span tokens, every target of
    /// CLM and PLM).
    pub corrupted: Vec<f32>,
    #[serde(default)]
    pub decoder: Option<DecoderBatch>,
    #[serde(default)]
    pub query: Option<QueryBatch>,
    #[serde(default)]
    pub pairs: Option<PairBatch>,
    /// Tokens of original text in the inputs (no padding, specials or sentinels): what the
    /// budget counts.
    pub original_tokens: usize,
    /// Positions with a non-zero loss weight.
    pub supervised_tokens: usize,
}

/// The decoder side of an encoder-decoder batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderBatch {
    /// `[batch, target_len]`: the targets shifted right, starting with `[BOS]`.
    pub inputs: Vec<u32>,
    /// `[batch, target_len, target_len]`: causal (and padding).
    pub self_mask: AttentionMask,
    /// `[batch, target_len, seq_len]`: which encoder positions each decoder position reads.
    pub cross_mask: CrossMask,
}

/// XLNet's query stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryBatch {
    /// `[batch, seq, seq]`: strictly earlier in the factorisation order.
    pub mask: AttentionMask,
    /// `[batch, seq]`: 0 for rows with no allowed key (their attention is zeroed).
    pub row_valid: Vec<f32>,
}

/// The sentence-pair task of a batch (NSP or SOP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairBatch {
    /// `[batch]`: the position the pair head reads in each sequence.
    pub heads: Vec<u32>,
    /// `[batch]`: 1 iff B is A's true next segment, in order.
    pub labels: Vec<u32>,
}

fn ints(v: &[u32]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

impl Batch {
    /// Sequences `rows` of this batch, every field cut alike: a shard of a data-parallel step
    /// ([`crate::core::train::shards`]). `supervised_tokens` is recounted from the slice's
    /// loss weights; `original_tokens` stays the whole batch's, since the budget counts
    /// batches, never shards. Panics if `rows` is not within the batch (callers cut with
    /// [`crate::core::train::shards::shard_rows`]).
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Batch {
        let (s, t) = (self.seq_len, self.target_len);
        let cut = |v: &[u32], width: usize| v[rows.start * width..rows.end * width].to_vec();
        let cut_f = |v: &[f32], width: usize| v[rows.start * width..rows.end * width].to_vec();
        let loss_weights = cut_f(&self.loss_weights, t);
        Batch {
            batch_size: rows.len(),
            seq_len: s,
            inputs: cut(&self.inputs, s),
            segments: self.segments.as_ref().map(|v| cut(v, s)),
            mask: self.mask.rows(rows.clone()),
            target_len: t,
            targets: cut(&self.targets, t),
            supervised_tokens: loss_weights.iter().filter(|&&w| w != 0.0).count(),
            loss_weights,
            corrupted: cut_f(&self.corrupted, t),
            decoder: self.decoder.as_ref().map(|d| DecoderBatch {
                inputs: cut(&d.inputs, t),
                self_mask: d.self_mask.rows(rows.clone()),
                cross_mask: d.cross_mask.rows(rows.clone()),
            }),
            query: self.query.as_ref().map(|q| QueryBatch {
                mask: q.mask.rows(rows.clone()),
                row_valid: cut_f(&q.row_valid, s),
            }),
            pairs: self.pairs.as_ref().map(|p| PairBatch {
                heads: cut(&p.heads, 1),
                labels: cut(&p.labels, 1),
            }),
            original_tokens: self.original_tokens,
        }
    }

    pub fn to_tensors(&self, device: &Device) -> BatchTensors {
        let (b, s, t) = (self.batch_size, self.seq_len, self.target_len);
        let column =
            |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [b * t, 1]), device);
        BatchTensors {
            inputs: Tensor::from_data(TensorData::new(ints(&self.inputs), [b, s]), device),
            segments: self
                .segments
                .as_ref()
                .map(|seg| Tensor::from_data(TensorData::new(ints(seg), [b, s]), device)),
            mask: self.mask.to_tensor(device),
            targets: Tensor::from_data(TensorData::new(ints(&self.targets), [b * t, 1]), device),
            loss_weights: column(&self.loss_weights),
            corrupted: column(&self.corrupted),
            decoder: self.decoder.as_ref().map(|d| DecoderInputs {
                ids: Tensor::from_data(TensorData::new(ints(&d.inputs), [b, t]), device),
                self_mask: d.self_mask.to_tensor(device),
                cross_mask: d.cross_mask.to_tensor(device),
            }),
            query: self.query.as_ref().map(|q| {
                (
                    q.mask.to_tensor(device),
                    Tensor::from_data(TensorData::new(q.row_valid.clone(), [b, s]), device),
                )
            }),
            pairs: self.pairs.as_ref().map(|p| {
                (
                    Tensor::from_data(TensorData::new(ints(&p.heads), [b]), device),
                    Tensor::from_data(TensorData::new(ints(&p.labels), [b, 1]), device),
                )
            }),
            supervised_tokens: self.supervised_tokens,
        }
    }
}

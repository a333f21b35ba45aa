//! The transformers, read top to bottom (after nanoGPT's `model.py`): the parts live in
//! [`layers`] and [`attention`]; here are the block, the single-stack [`Transformer`] and its
//! typed output; the encoder-decoder lives in [`encdec`].
//!
//! Pre-norm (GPT-2, Radford et al. 2019): learned positions, fused QKV with bias, GELU, a
//! final LayerNorm, and an LM head tied to the token embeddings (Press & Wolf 2017); no
//! dropout. Decoder-only, the layout equals `scripts/torch_reference.py`, so parameter
//! counts and step times compare one to one.
//!
//! One stack serves three architectures, because — as UniLM (Dong et al. 2019) showed — the
//! self-attention mask alone decides what a position may read: a causal mask makes it a
//! decoder (GPT), a bidirectional one an encoder (BERT), and two masks over one factorisation
//! order make it XLNet's two-stream model. What differs is optional and only built when a mix
//! needs it: segment embeddings and a pair head (NSP/SOP), and the query stream's start vector
//! (PLM). The model knows nothing of objectives: it takes ids and masks and returns logits and
//! an attention trace.

pub mod attention;
pub mod encdec;
pub mod layers;
pub mod network;

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use self::attention::{AttentionKind, LayerAttention, SelfAttention};
use self::layers::{Embedding, INIT_STD, Linear, Mlp};
use super::config::ModelConfig;
use super::rng::{Rng, Stream};

/// One pre-norm transformer block: `x + attn(ln(x))`, then `x + mlp(ln(x))`.
#[derive(Module, Debug)]
pub struct Block {
    pub ln_attn: LayerNorm,
    pub attn: SelfAttention,
    pub ln_mlp: LayerNorm,
    pub mlp: Mlp,
}

impl Block {
    pub(crate) fn init(rng: &mut Rng, c: &ModelConfig, n_layers: usize, device: &Device) -> Self {
        // GPT-2 scales the projections that write into the residual stream by 1/sqrt(2·layers).
        let residual_std = INIT_STD / ((2 * n_layers) as f64).sqrt();
        Self {
            ln_attn: LayerNormConfig::new(c.d_model).init(device),
            attn: SelfAttention::init(rng, c.d_model, c.n_heads, residual_std, device),
            ln_mlp: LayerNormConfig::new(c.d_model).init(device),
            mlp: Mlp::init(rng, c.d_model, c.d_ff, residual_std, device),
        }
    }

    /// # Shapes
    /// - x `[batch, seq, d_model]`, mask `[batch, seq, seq]` → `[batch, seq, d_model]`
    pub(crate) fn forward(
        &self,
        x: Tensor<3>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> (Tensor<3>, Option<(Tensor<4>, Tensor<3, Bool>)>) {
        let (attended, trace) = self
            .attn
            .forward(self.ln_attn.forward(x.clone()), mask, capture);
        let x = x + attended;
        let x = x.clone() + self.mlp.forward(self.ln_mlp.forward(x));
        (x, trace)
    }

    /// XLNet's two streams through one block with shared weights: the content stream `h` as
    /// usual; the query stream `g` reads the content stream *before* this block's update.
    ///
    /// # Shapes
    /// - h, g `[batch, seq, d_model]`, masks `[batch, seq, seq]`, row_valid `[batch, seq]`
    #[allow(clippy::too_many_arguments)]
    fn forward_two_stream(
        &self,
        h: Tensor<3>,
        g: Tensor<3>,
        content_mask: &Tensor<3, Bool>,
        query_mask: &Tensor<3, Bool>,
        query_row_valid: &Tensor<2>,
        capture: bool,
    ) -> TwoStreamStep {
        let h_normed = self.ln_attn.forward(h.clone());
        let (content, content_trace) = self.attn.forward(h_normed.clone(), content_mask, capture);
        let (query, query_trace) = self.attn.forward_query(
            self.ln_attn.forward(g.clone()),
            h_normed,
            query_mask,
            query_row_valid,
            capture,
        );
        let h = h + content;
        let h = h.clone() + self.mlp.forward(self.ln_mlp.forward(h));
        let g = g + query;
        let g = g.clone() + self.mlp.forward(self.ln_mlp.forward(g));
        TwoStreamStep {
            h,
            g,
            content_trace,
            query_trace,
        }
    }
}

struct TwoStreamStep {
    h: Tensor<3>,
    g: Tensor<3>,
    content_trace: Option<(Tensor<4>, Tensor<3, Bool>)>,
    query_trace: Option<(Tensor<4>, Tensor<3, Bool>)>,
}

/// Per-layer attention of one forward pass: what each head of each stream attended to, and
/// the mask applied. Empty when capture was off.
#[derive(Debug, Clone, Default)]
pub struct AttentionTrace {
    pub layers: Vec<LayerAttention>,
}

impl AttentionTrace {
    fn push(&mut self, layer: usize, kind: AttentionKind, t: Option<(Tensor<4>, Tensor<3, Bool>)>) {
        if let Some((weights, mask)) = t {
            self.layers.push(LayerAttention {
                layer,
                kind,
                weights,
                mask,
            });
        }
    }
}

/// What a forward pass returns.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, seq, vocab]`: the decoder's for an encoder-decoder, the query stream's for
    /// XLNet, else the stack's.
    pub logits: Tensor<3>,
    /// `[batch, 2]`: the pair head read at each sequence's head position, when asked for.
    pub pair_logits: Option<Tensor<2>>,
    pub attention: AttentionTrace,
}

/// The network a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Decoder,
    Encoder,
    EncoderDecoder,
    TwoStream,
}

impl Architecture {
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Decoder => "decoder",
            Architecture::Encoder => "encoder",
            Architecture::EncoderDecoder => "encoder-decoder",
            Architecture::TwoStream => "two-stream",
        }
    }

    /// Whether it is one stack whose masks alone decide what it is (decoder or encoder), so
    /// two token objectives can share it (UniLM).
    pub fn is_plain_stack(self) -> bool {
        matches!(self, Architecture::Decoder | Architecture::Encoder)
    }
}

/// What the optional parts of a stack are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extras {
    /// Segment embeddings (A = 0, B = 1) and a two-way pair head (NSP, SOP).
    pub pairs: bool,
    /// The query stream's trainable start vector (XLNet's `w`).
    pub query_stream: bool,
}

/// A single transformer stack: decoder-only, encoder or two-stream, as the masks make it.
#[derive(Module, Debug)]
pub struct Transformer {
    pub tokens: Embedding,
    pub positions: Embedding,
    pub blocks: Vec<Block>,
    pub ln_final: LayerNorm,
    pub segments: Option<Embedding>,
    pub pair_head: Option<Linear>,
    pub query_start: Option<Param<Tensor<1>>>,
}

/// Optional inputs of a forward pass beyond ids and the mask.
#[derive(Debug, Clone, Default)]
pub struct PairInputs {
    /// `[batch, seq]`, 0 for segment A, 1 for B.
    pub segments: Option<Tensor<2, Int>>,
    /// `[batch]`: where each sequence's pair head reads (its `[CLS]`).
    pub heads: Option<Tensor<1, Int>>,
}

impl Transformer {
    /// Builds the stack with weights drawn from `seed` (identical on every backend). With no
    /// extras it is exactly the reference's decoder-only model.
    pub fn init(config: &ModelConfig, extras: Extras, seed: u64, device: &Device) -> Self {
        let mut rng = Rng::for_stream(seed, Stream::Init);
        Self::init_with(&mut rng, config, config.n_layers, extras, device)
    }

    pub(crate) fn init_with(
        rng: &mut Rng,
        config: &ModelConfig,
        n_layers: usize,
        extras: Extras,
        device: &Device,
    ) -> Self {
        let d = config.d_model;
        let tokens = Embedding::init(rng, config.vocab_size, d, device);
        let positions = Embedding::init(rng, config.max_seq_len, d, device);
        let blocks = (0..n_layers)
            .map(|_| Block::init(rng, config, n_layers, device))
            .collect();
        let segments = extras.pairs.then(|| Embedding::init(rng, 2, d, device));
        let pair_head = extras
            .pairs
            .then(|| Linear::init(rng, d, 2, INIT_STD, device));
        let query_start = extras.query_stream.then(|| {
            let values: Vec<f32> = (0..d).map(|_| (rng.normal() * INIT_STD) as f32).collect();
            Param::from_data(TensorData::new(values, [d]), device)
        });
        Self {
            tokens,
            positions,
            blocks,
            ln_final: LayerNormConfig::new(d).init(device),
            segments,
            pair_head,
            query_start,
        }
    }

    /// Token + position (+ segment) embeddings.
    ///
    /// # Shapes
    /// - ids `[batch, seq]` → `[batch, seq, d_model]`
    pub(crate) fn embed(
        &self,
        ids: Tensor<2, Int>,
        segments: Option<&Tensor<2, Int>>,
    ) -> Tensor<3> {
        let x = self.tokens.forward(ids.clone()) + self.position_embeddings(&ids);
        match (&self.segments, segments) {
            (Some(table), Some(s)) => x + table.forward(s.clone()),
            _ => x,
        }
    }

    /// `[batch, seq, d_model]`: the learned position vectors for a batch of `ids`' shape.
    fn position_embeddings(&self, ids: &Tensor<2, Int>) -> Tensor<3> {
        let [b, s] = ids.dims();
        let device = ids.device();
        let positions: Vec<i64> = (0..s as i64).collect();
        let positions = Tensor::<1, Int>::from_data(TensorData::new(positions, [s]), &device)
            .unsqueeze_dim::<2>(0)
            .expand([b, s]); // [b, s]
        self.positions.forward(positions)
    }

    /// Logits from final hidden states through the tied head.
    ///
    /// # Shapes
    /// - x `[batch, seq, d_model]` (already through the final LayerNorm) → `[batch, seq, vocab]`
    pub(crate) fn lm_head(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, s, d] = x.dims();
        let table = self.tokens.weight.val(); // [vocab, d], tied head
        let vocab = table.dims()[0];
        x.reshape([b * s, d])
            .matmul(table.transpose())
            .reshape([b, s, vocab])
    }

    /// The pair head read at `heads`.
    ///
    /// # Shapes
    /// - x `[batch, seq, d_model]`, heads `[batch]` → `[batch, 2]`
    pub(crate) fn pair_logits(
        &self,
        x: &Tensor<3>,
        heads: Option<&Tensor<1, Int>>,
    ) -> Option<Tensor<2>> {
        let (head, heads) = (self.pair_head.as_ref()?, heads?);
        let [b, _, d] = x.dims();
        let index = heads.clone().reshape([b, 1, 1]).expand([b, 1, d]); // [b, 1, d]
        let picked = x.clone().gather(1, index).reshape([b, d]); // [b, d]
        Some(head.forward(picked))
    }

    /// The longest sequence the position table covers.
    pub fn max_seq_len(&self) -> usize {
        self.positions.weight.dims()[0]
    }

    /// The plain forward pass: one stream, one mask (causal for GPT, bidirectional for BERT).
    ///
    /// # Shapes
    /// - ids `[batch, seq]` with seq ≤ max_seq_len, mask `[batch, seq, seq]` (true = blocked)
    /// - logits `[batch, seq, vocab]`
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        mask: &Tensor<3, Bool>,
        capture: bool,
    ) -> ModelOutput {
        self.forward_pairs(ids, mask, &PairInputs::default(), capture)
    }

    /// As [`Self::forward`], with segment ids and the pair head.
    pub fn forward_pairs(
        &self,
        ids: Tensor<2, Int>,
        mask: &Tensor<3, Bool>,
        pairs: &PairInputs,
        capture: bool,
    ) -> ModelOutput {
        let (x, attention) = self.encode(ids, mask, pairs.segments.as_ref(), capture);
        ModelOutput {
            logits: self.lm_head(x.clone()),
            pair_logits: self.pair_logits(&x, pairs.heads.as_ref()),
            attention,
        }
    }

    /// Embeddings through every block and the final LayerNorm.
    pub(crate) fn encode(
        &self,
        ids: Tensor<2, Int>,
        mask: &Tensor<3, Bool>,
        segments: Option<&Tensor<2, Int>>,
        capture: bool,
    ) -> (Tensor<3>, AttentionTrace) {
        let mut x = self.embed(ids, segments); // [b, s, d]
        let mut attention = AttentionTrace::default();
        for (layer, block) in self.blocks.iter().enumerate() {
            let (next, trace) = block.forward(x, mask, capture);
            x = next;
            attention.push(layer, AttentionKind::SelfAttention, trace);
        }
        (self.ln_final.forward(x), attention)
    }

    /// XLNet's two-stream forward pass (Yang et al. 2019, §2.3). The content stream starts from
    /// token + position embeddings and sees itself and what precedes it in the order
    /// (`content_mask`); the query stream starts from the trainable start vector + position,
    /// so it knows *where* it predicts but never *what* is there, and sees only what strictly
    /// precedes it (`query_mask`). Logits come from the query stream, the pair head reads the
    /// content stream. `query_row_valid` is 0 for query rows with no allowed key (the first in
    /// the order), whose attention is zeroed.
    ///
    /// # Shapes
    /// - ids `[batch, seq]`, masks `[batch, seq, seq]`, query_row_valid `[batch, seq]`
    /// - logits `[batch, seq, vocab]`
    pub fn forward_two_stream(
        &self,
        ids: Tensor<2, Int>,
        content_mask: &Tensor<3, Bool>,
        query_mask: &Tensor<3, Bool>,
        query_row_valid: &Tensor<2>,
        pairs: &PairInputs,
        capture: bool,
    ) -> ModelOutput {
        let [b, s] = ids.dims();
        let positions = self.position_embeddings(&ids); // [b, s, d]
        let mut h = self.embed(ids, pairs.segments.as_ref());
        let d = h.dims()[2];
        let start = match &self.query_start {
            Some(w) => w.val().reshape([1, 1, d]).expand([b, s, d]),
            None => positions.zeros_like(),
        };
        let mut g = start + positions;
        let mut attention = AttentionTrace::default();
        for (layer, block) in self.blocks.iter().enumerate() {
            let step =
                block.forward_two_stream(h, g, content_mask, query_mask, query_row_valid, capture);
            h = step.h;
            g = step.g;
            attention.push(layer, AttentionKind::Content, step.content_trace);
            attention.push(layer, AttentionKind::Query, step.query_trace);
        }
        let h = self.ln_final.forward(h);
        let g = self.ln_final.forward(g);
        ModelOutput {
            logits: self.lm_head(g),
            pair_logits: self.pair_logits(&h, pairs.heads.as_ref()),
            attention,
        }
    }
}

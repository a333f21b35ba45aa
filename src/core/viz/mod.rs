//! What the attention pictures show, computed here as plain data so the shell only draws it:
//! the masks and head weights a forward pass recorded ([`trace`]), one example's corruption
//! strip ([`strip`]), which input tokens can have reached a position after each layer
//! ([`reach`]), per-head summaries ([`heads`]), geometry and colours ([`layout`], [`palette`]),
//! the live heatmap's pixels ([`raster`]), compact wire forms of masks and weights ([`packed`]),
//! two objectives side by side without training ([`preview`]), the mask matrices' SVG
//! ([`svg`]), and when the training worker
//! captures live heatmaps ([`live`]).
//!
//! The rule behind every picture is the house's "masks are data": a cell of a matrix is drawn
//! from the mask the model applied, read back from its attention trace — never from a mask
//! rebuilt for the picture — so what students see is what trained. The idea that the mask alone
//! decides what a stack is (causal: GPT; bidirectional: BERT; two masks over one order: XLNet;
//! encoder, causal decoder and cross-attention: T5 and BART) is UniLM's (Dong et al. 2019); the
//! per-head summaries follow Clark et al. 2019 ("What does BERT look at?"), who found heads that
//! attend to the previous token, to `[SEP]` and to `[CLS]`.

pub mod heads;
pub mod layout;
pub mod live;
pub mod packed;
pub mod palette;
pub mod preview;
pub mod raster;
pub mod reach;
pub mod strip;
pub mod svg;
pub mod trace;

#[cfg(test)]
pub(crate) mod test_support;

use serde::{Deserialize, Serialize};

use super::tokenizer::{LabTokenizer, SpecialIds};

/// Which attention a matrix shows, named as the pictures name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The self-attention of a single stack: a decoder-only model (causal) or an encoder
    /// (bidirectional); the mask says which.
    SelfAttention,
    /// An encoder-decoder's encoder reading the corrupted input.
    EncoderSelf,
    /// An encoder-decoder's decoder reading what it has written so far.
    DecoderSelf,
    /// A decoder position reading the encoder's final output.
    Cross,
    /// XLNet's content stream: a position and what precedes it in the order.
    Content,
    /// XLNet's query stream: only what strictly precedes it, never its own content.
    Query,
}

impl Stream {
    /// What the page calls it.
    pub fn title(self) -> &'static str {
        match self {
            Stream::SelfAttention => "self-attention",
            Stream::EncoderSelf => "encoder self-attention",
            Stream::DecoderSelf => "decoder self-attention",
            Stream::Cross => "cross-attention (decoder reads encoder)",
            Stream::Content => "content stream",
            Stream::Query => "query stream",
        }
    }
}

/// One token as a picture labels it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLabel {
    pub id: u32,
    /// The token's text as the tokenizer view shows it (`␣the`, `[MASK]`).
    pub text: String,
    /// `[PAD]` (on a decoder row: a position past the end of the target).
    pub padding: bool,
}

/// Turns ids into the text a picture writes on them. The lab's tokenizer does this; tests use
/// plain numbers so they need no trained tokenizer.
pub trait TokenText {
    /// One text per id.
    fn texts(&self, ids: &[u32]) -> Vec<String>;

    /// The special ids (the lab's are fixed).
    fn specials(&self) -> SpecialIds {
        SpecialIds::fixed()
    }
}

impl TokenText for LabTokenizer {
    fn texts(&self, ids: &[u32]) -> Vec<String> {
        self.pieces_of(ids)
    }

    fn specials(&self) -> SpecialIds {
        LabTokenizer::specials(self)
    }
}

/// Labels for `ids`, `padding[i]` marking the padded ones.
pub(crate) fn labels(ids: &[u32], padding: &[bool], text: &impl TokenText) -> Vec<TokenLabel> {
    ids.iter()
        .zip(text.texts(ids))
        .zip(padding)
        .map(|((&id, text), &padding)| TokenLabel { id, text, padding })
        .collect()
}

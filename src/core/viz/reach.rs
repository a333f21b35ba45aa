//! Information flow: which input tokens can have reached each position after each layer, from
//! the masks a forward pass applied (its exported trace) and nothing else.
//!
//! A transformer mixes positions only in attention; the feed-forward part works on each position
//! alone. So a position's state after a layer can depend on its own state before it (the
//! residual connection: a position always keeps what it had) and on the states of the keys its
//! mask row allows — and, by induction, on exactly the input tokens that reached any of those.
//! This is reachability in the layered graph whose edges are the allowed cells; it says what
//! *can* flow, not what the weights make of it (that is the heatmaps' job).
//!
//! The stacks, as the model runs them:
//! - one stack (GPT, BERT): every layer reads the previous layer's states under its mask;
//! - encoder-decoder (T5, BART; Vaswani et al. 2017 §3.1): the encoder's layers, then each
//!   decoder layer's self-attention over the decoder's states, then its cross-attention over the
//!   encoder's *final* output;
//! - XLNet's two streams (Yang et al. 2019 §2.3): the content stream `h` as one stack; the query
//!   stream `g` starts from a learned vector (no token at all), and in layer `l` reads the content
//!   stream of layer `l − 1` under the query mask — so it never holds its own token unless some
//!   key it reads already did.

use serde::{Deserialize, Serialize};

use super::trace::{ExportedTrace, MaskMatrix, TraceLayer};
use super::{Stream, TokenLabel};
use crate::core::error::CoreError;

/// A row of nodes in the flow graph: one stream's positions after one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowStream {
    /// A single stack's positions (decoder-only or encoder).
    Stack,
    Encoder,
    Decoder,
    /// XLNet's content stream.
    Content,
    /// XLNet's query stream.
    Query,
}

/// One stream's positions after one step, and which inputs can have reached each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRow {
    pub stream: FlowStream,
    /// 0 for the embeddings; `l` after layer `l` (counted from 1 within the stack). A decoder
    /// layer has two rows: after its self-attention, then after its cross-attention.
    pub layer: usize,
    /// The attention that made this row (`None` for the embeddings).
    pub via: Option<Stream>,
    pub width: usize,
    /// `[width, inputs]` row-major: `true` where that input can have reached that position
    /// (on the wire a string of `0`/`1`, [`super::packed::bits`]).
    #[serde(with = "super::packed::bits")]
    pub reached: Vec<bool>,
}

impl FlowRow {
    /// Which inputs can have reached `position` (empty out of range).
    pub fn reached_by(&self, position: usize) -> &[bool] {
        let n = self.reached.len().checked_div(self.width).unwrap_or(0);
        self.reached
            .get(position * n..(position + 1) * n)
            .unwrap_or(&[])
    }
}

/// The flow graph of one example: its input tokens and, row by row, what reached where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// The stack's (or encoder's) input tokens, then an encoder-decoder's decoder inputs.
    pub inputs: Vec<TokenLabel>,
    /// How many of `inputs` are the stack's or encoder's.
    pub encoder_inputs: usize,
    /// In the order the model computes them.
    pub rows: Vec<FlowRow>,
    /// The stream the model predicts from (the query stream for XLNet, the decoder for an
    /// encoder-decoder).
    pub output: FlowStream,
}

/// Per position, the set of inputs that reached it (as flags over all inputs).
type Reach = Vec<Vec<bool>>;

impl Flow {
    /// The flow graph of `trace`'s masks.
    ///
    /// Errors when the trace is empty or its layers do not fit together (a cross-attention
    /// without its decoder layer, masks whose sizes disagree).
    pub fn from_trace(trace: &ExportedTrace) -> Result<Self, CoreError> {
        let streams = trace.streams();
        if streams.contains(&Stream::Query) {
            two_stream(trace)
        } else if streams.contains(&Stream::Cross) {
            encoder_decoder(trace)
        } else if streams.contains(&Stream::EncoderSelf) {
            // A sentence-pair batch of an encoder-decoder runs through the encoder alone.
            single(trace, Stream::EncoderSelf, FlowStream::Encoder)
        } else {
            single(trace, Stream::SelfAttention, FlowStream::Stack)
        }
    }

    /// Indices into `rows` of the output stream, from the embeddings to the last layer.
    pub fn output_rows(&self) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows[i].stream == self.output)
            .collect()
    }

    /// For each input, the first of [`Self::output_rows`] (by its index in that list) at which
    /// it can have reached output `position`; `None` if it never does. What the page animates
    /// when a student picks a predicted position.
    pub fn first_reached(&self, position: usize) -> Vec<Option<usize>> {
        let rows = self.output_rows();
        (0..self.inputs.len())
            .map(|input| {
                rows.iter().position(|&r| {
                    self.rows[r]
                        .reached_by(position)
                        .get(input)
                        .copied()
                        .unwrap_or(false)
                })
            })
            .collect()
    }
}

fn check(mask: &MaskMatrix, rows: usize, cols: usize, what: &str) -> Result<(), CoreError> {
    if (mask.rows, mask.cols) != (rows, cols) || mask.blocked.len() != rows * cols {
        return Err(CoreError::Picture(format!(
            "{what}: a {}×{} mask where {rows}×{cols} was expected",
            mask.rows, mask.cols
        )));
    }
    Ok(())
}

/// One attention step with the residual: a query keeps what it had (`own`) and gains what
/// reached every key it may read (`keys`).
fn attend(own: &Reach, keys: &Reach, mask: &MaskMatrix) -> Reach {
    own.iter()
        .enumerate()
        .map(|(q, had)| {
            let mut now = had.clone();
            for k in mask.allowed_keys(q) {
                if let Some(key) = keys.get(k) {
                    for (n, &r) in now.iter_mut().zip(key) {
                        *n |= r;
                    }
                }
            }
            now
        })
        .collect()
}

/// Position `p` of a stream holding input `offset + p` and nothing else.
fn embeddings(width: usize, offset: usize, inputs: usize) -> Reach {
    (0..width)
        .map(|p| (0..inputs).map(|i| i == offset + p).collect())
        .collect()
}

fn row(stream: FlowStream, layer: usize, via: Option<Stream>, reach: &Reach) -> FlowRow {
    FlowRow {
        stream,
        layer,
        via,
        width: reach.len(),
        reached: reach.concat(),
    }
}

fn first_layer<'t>(layers: &[&'t TraceLayer], what: &str) -> Result<&'t TraceLayer, CoreError> {
    layers
        .first()
        .copied()
        .ok_or_else(|| CoreError::Picture(format!("the trace has no {what} layer")))
}

fn single(trace: &ExportedTrace, stream: Stream, flow: FlowStream) -> Result<Flow, CoreError> {
    let layers = trace.stream(stream);
    let first = first_layer(&layers, stream.title())?;
    let inputs = first.mask.col_tokens.clone();
    let n = inputs.len();
    let mut h = embeddings(n, 0, n);
    let mut rows = vec![row(flow, 0, None, &h)];
    for (l, layer) in layers.iter().enumerate() {
        check(&layer.mask, n, n, stream.title())?;
        h = attend(&h, &h, &layer.mask);
        rows.push(row(flow, l + 1, Some(stream), &h));
    }
    Ok(Flow {
        inputs,
        encoder_inputs: n,
        rows,
        output: flow,
    })
}

fn encoder_decoder(trace: &ExportedTrace) -> Result<Flow, CoreError> {
    let encoder = trace.stream(Stream::EncoderSelf);
    let decoder = trace.stream(Stream::DecoderSelf);
    let cross = trace.stream(Stream::Cross);
    let first_cross = first_layer(&cross, "cross-attention")?;
    let (s, t) = (first_cross.mask.cols, first_cross.mask.rows);
    let mut inputs = first_cross.mask.col_tokens.clone();
    inputs.extend(first_cross.mask.row_tokens.iter().cloned());
    let n = s + t;
    let mut e = embeddings(s, 0, n);
    let mut rows = vec![row(FlowStream::Encoder, 0, None, &e)];
    for (l, layer) in encoder.iter().enumerate() {
        check(&layer.mask, s, s, "encoder self-attention")?;
        e = attend(&e, &e, &layer.mask);
        rows.push(row(
            FlowStream::Encoder,
            l + 1,
            Some(Stream::EncoderSelf),
            &e,
        ));
    }
    if decoder.len() != cross.len() {
        return Err(CoreError::Picture(format!(
            "{} decoder self-attention layers but {} cross-attention layers",
            decoder.len(),
            cross.len()
        )));
    }
    let mut d = embeddings(t, s, n);
    rows.push(row(FlowStream::Decoder, 0, None, &d));
    for (l, (own, read)) in decoder.iter().zip(&cross).enumerate() {
        check(&own.mask, t, t, "decoder self-attention")?;
        check(&read.mask, t, s, "cross-attention")?;
        d = attend(&d, &d, &own.mask);
        rows.push(row(
            FlowStream::Decoder,
            l + 1,
            Some(Stream::DecoderSelf),
            &d,
        ));
        d = attend(&d, &e, &read.mask);
        rows.push(row(FlowStream::Decoder, l + 1, Some(Stream::Cross), &d));
    }
    Ok(Flow {
        inputs,
        encoder_inputs: s,
        rows,
        output: FlowStream::Decoder,
    })
}

fn two_stream(trace: &ExportedTrace) -> Result<Flow, CoreError> {
    let content = trace.stream(Stream::Content);
    let query = trace.stream(Stream::Query);
    let first = first_layer(&content, "content-stream")?;
    if content.len() != query.len() {
        return Err(CoreError::Picture(format!(
            "{} content-stream layers but {} query-stream layers",
            content.len(),
            query.len()
        )));
    }
    let inputs = first.mask.col_tokens.clone();
    let n = inputs.len();
    let mut h = embeddings(n, 0, n);
    // The query stream starts from a learned vector and the position: no token at all.
    let mut g: Reach = vec![vec![false; n]; n];
    let mut rows = vec![
        row(FlowStream::Content, 0, None, &h),
        row(FlowStream::Query, 0, None, &g),
    ];
    for (l, (c, q)) in content.iter().zip(&query).enumerate() {
        check(&c.mask, n, n, "content stream")?;
        check(&q.mask, n, n, "query stream")?;
        // g reads the content stream as it was before this layer.
        g = attend(&g, &h, &q.mask);
        h = attend(&h, &h, &c.mask);
        rows.push(row(FlowStream::Content, l + 1, Some(Stream::Content), &h));
        rows.push(row(FlowStream::Query, l + 1, Some(Stream::Query), &g));
    }
    Ok(Flow {
        inputs,
        encoder_inputs: n,
        rows,
        output: FlowStream::Query,
    })
}

#[cfg(test)]
#[path = "reach_tests.rs"]
mod tests;

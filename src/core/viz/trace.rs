//! One example's attention trace as plain data, and the matrix cells drawn from it.
//!
//! A forward pass with `capture` on records, per layer and stream, the mask it applied and the
//! softmax weights of every head ([`crate::core::model::AttentionTrace`]). [`export_trace`]
//! reads one example of it back — asynchronously, because a synchronous read deadlocks on
//! WebGPU in the page — into a [`ExportedTrace`]: per layer the mask as `rows × cols`
//! allowed/blocked cells with the row and column tokens, and the heads' weights. The worker
//! ships that to the page; [`MatrixView`] turns a layer of it into the cells the page draws,
//! reading nothing but the trace, so the matrix is the mask that trained and not one rebuilt
//! by the same constructor ([`check_cells`] is the comparison the tests make).
//!
//! [`capture_example`] is what the worker calls: one example of a batch through the network
//! with capture on (the mask conventions are the model's: `true` = blocked, as in burn).

use burn::tensor::{Bool, Tensor};
use serde::{Deserialize, Serialize};

use super::{Stream, TokenLabel, TokenText, labels};
use crate::core::error::CoreError;
use crate::core::masks::{AttentionMask, CrossMask};
use crate::core::model::AttentionTrace;
use crate::core::model::attention::AttentionKind;
use crate::core::model::network::Network;
use crate::core::objective::{Batch, DecoderBatch, PairBatch, QueryBatch};

/// A mask as the model applied it to one example: `rows` queries × `cols` keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskMatrix {
    pub rows: usize,
    pub cols: usize,
    /// `[rows, cols]` row-major, `true` = blocked (the query may not read that key); on the
    /// wire a string of `0`/`1` ([`super::packed::bits`]).
    #[serde(with = "super::packed::bits")]
    pub blocked: Vec<bool>,
    /// The query positions' tokens (for a decoder: what it reads at each position).
    pub row_tokens: Vec<TokenLabel>,
    /// The key positions' tokens.
    pub col_tokens: Vec<TokenLabel>,
}

impl MaskMatrix {
    /// Whether query `row` may not read key `col` (out of range counts as blocked).
    pub fn is_blocked(&self, row: usize, col: usize) -> bool {
        col >= self.cols
            || self
                .blocked
                .get(row * self.cols + col)
                .copied()
                .unwrap_or(true)
    }

    /// The keys query `row` may read, in order.
    pub fn allowed_keys(&self, row: usize) -> Vec<usize> {
        (0..self.cols)
            .filter(|&c| !self.is_blocked(row, c))
            .collect()
    }
}

/// Every head's softmax weights for one example: `[heads, rows, cols]` row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadWeights {
    pub heads: usize,
    pub rows: usize,
    pub cols: usize,
    /// On the wire base64 of the little-endian bytes ([`super::packed::f32_base64`]).
    #[serde(with = "super::packed::f32_base64")]
    pub values: Vec<f32>,
}

impl HeadWeights {
    /// The weight head `head` puts on key `col` from query `row` (0 out of range).
    pub fn get(&self, head: usize, row: usize, col: usize) -> f32 {
        if head >= self.heads || row >= self.rows || col >= self.cols {
            return 0.0;
        }
        self.values
            .get((head * self.rows + row) * self.cols + col)
            .copied()
            .unwrap_or(0.0)
    }

    /// Head `head`'s weights from query `row`, one per key.
    pub fn row(&self, head: usize, row: usize) -> &[f32] {
        let start = (head * self.rows + row) * self.cols;
        self.values.get(start..start + self.cols).unwrap_or(&[])
    }
}

/// One attention of one layer: the mask it applied and, when asked for, the heads' weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceLayer {
    /// The block's index within its own stack (an encoder-decoder's decoder counts from 0).
    pub layer: usize,
    pub stream: Stream,
    pub mask: MaskMatrix,
    pub weights: Option<HeadWeights>,
}

/// What one example's forward pass applied, layer by layer, in the order the model ran them
/// (an encoder-decoder: the encoder's layers, then each decoder layer's self- and
/// cross-attention; XLNet: each layer's content then query stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedTrace {
    /// The example's index in its batch.
    pub example: usize,
    pub layers: Vec<TraceLayer>,
}

impl ExportedTrace {
    /// The streams present, in first-seen order.
    pub fn streams(&self) -> Vec<Stream> {
        let mut out: Vec<Stream> = Vec::new();
        for l in &self.layers {
            if !out.contains(&l.stream) {
                out.push(l.stream);
            }
        }
        out
    }

    /// The layers of `stream`, in layer order.
    pub fn stream(&self, stream: Stream) -> Vec<&TraceLayer> {
        let mut layers: Vec<&TraceLayer> =
            self.layers.iter().filter(|l| l.stream == stream).collect();
        layers.sort_by_key(|l| l.layer);
        layers
    }

    /// The same trace without head weights (the masks alone are a fraction of the size).
    pub fn masks_only(mut self) -> Self {
        for l in &mut self.layers {
            l.weights = None;
        }
        self
    }
}

/// The tokens of one example on each side a matrix labels: the stack's (or encoder's) input,
/// and an encoder-decoder's decoder input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleTokens {
    pub encoder: Vec<TokenLabel>,
    pub decoder: Option<Vec<TokenLabel>>,
}

impl ExampleTokens {
    /// Example `example` of `batch`. A decoder position counts as padding where its target is
    /// `[PAD]` (its input there is the shifted last target, which is no token of its own).
    pub fn of(batch: &Batch, example: usize, text: &impl TokenText) -> Result<Self, CoreError> {
        let pad = text.specials().pad;
        let inputs = slice(&batch.inputs, example, batch.seq_len, "inputs")?;
        let padding: Vec<bool> = inputs.iter().map(|&id| id == pad).collect();
        let decoder = match &batch.decoder {
            Some(d) => {
                let ids = slice(&d.inputs, example, batch.target_len, "decoder inputs")?;
                let targets = slice(&batch.targets, example, batch.target_len, "targets")?;
                let padding: Vec<bool> = targets.iter().map(|&id| id == pad).collect();
                Some(labels(&ids, &padding, text))
            }
            None => None,
        };
        Ok(Self {
            encoder: labels(&inputs, &padding, text),
            decoder,
        })
    }
}

/// Row `example` of a `[batch, width]` vector, or an error naming `what`.
pub(crate) fn slice<T: Clone>(
    v: &[T],
    example: usize,
    width: usize,
    what: &str,
) -> Result<Vec<T>, CoreError> {
    v.get(example * width..(example + 1) * width)
        .map(<[T]>::to_vec)
        .ok_or_else(|| {
            CoreError::Picture(format!(
                "the batch's {what} hold no example {example} of width {width}"
            ))
        })
}

/// Example `example` of `batch` as a batch of one, every field sliced (masks, decoder side,
/// query stream, pair label). `supervised_tokens` is the example's own; `original_tokens` is
/// the ordinary tokens its input shows (a denoising input shows fewer than its window held).
pub fn example_batch(batch: &Batch, example: usize) -> Result<Batch, CoreError> {
    if example >= batch.batch_size {
        return Err(CoreError::Picture(format!(
            "example {example} asked of a batch of {}",
            batch.batch_size
        )));
    }
    let (s, t) = (batch.seq_len, batch.target_len);
    let inputs = slice(&batch.inputs, example, s, "inputs")?;
    let loss_weights = slice(&batch.loss_weights, example, t, "loss weights")?;
    let one_mask = |m: &AttentionMask, what: &str| -> Result<AttentionMask, CoreError> {
        Ok(AttentionMask {
            batch_size: 1,
            seq_len: m.seq_len,
            blocked: slice(&m.blocked, example, m.seq_len * m.seq_len, what)?,
        })
    };
    let decoder = match &batch.decoder {
        Some(d) => Some(DecoderBatch {
            inputs: slice(&d.inputs, example, t, "decoder inputs")?,
            self_mask: one_mask(&d.self_mask, "decoder mask")?,
            cross_mask: CrossMask {
                batch_size: 1,
                queries: d.cross_mask.queries,
                keys: d.cross_mask.keys,
                blocked: slice(
                    &d.cross_mask.blocked,
                    example,
                    d.cross_mask.queries * d.cross_mask.keys,
                    "cross mask",
                )?,
            },
        }),
        None => None,
    };
    let query = match &batch.query {
        Some(q) => Some(QueryBatch {
            mask: one_mask(&q.mask, "query mask")?,
            row_valid: slice(&q.row_valid, example, s, "query rows")?,
        }),
        None => None,
    };
    let pairs = match &batch.pairs {
        Some(p) => Some(PairBatch {
            heads: slice(&p.heads, example, 1, "pair heads")?,
            labels: slice(&p.labels, example, 1, "pair labels")?,
        }),
        None => None,
    };
    let segments = match &batch.segments {
        Some(seg) => Some(slice(seg, example, s, "segments")?),
        None => None,
    };
    let specials = crate::core::tokenizer::SpecialIds::fixed();
    Ok(Batch {
        batch_size: 1,
        seq_len: s,
        original_tokens: inputs
            .iter()
            .filter(|&&id| !specials.is_special(id))
            .count(),
        supervised_tokens: loss_weights.iter().filter(|&&w| w > 0.0).count(),
        inputs,
        segments,
        mask: one_mask(&batch.mask, "mask")?,
        target_len: t,
        targets: slice(&batch.targets, example, t, "targets")?,
        loss_weights,
        corrupted: slice(&batch.corrupted, example, t, "corrupted flags")?,
        decoder,
        query,
        pairs,
    })
}

/// Reads example `example` of a captured `trace` back to plain data. `tokens` labels the
/// example's rows and columns; `decoder_offset` is the number of encoder blocks of an
/// encoder-decoder (its decoder's layers are numbered after them in the trace), `None` for a
/// single stack. Head weights are read only `with_weights` (the masks alone for a picture of
/// the masks). Errors when the trace is empty (capture was off), when its shapes do not match
/// the tokens, or when the device cannot be read.
pub async fn export_trace(
    trace: &AttentionTrace,
    tokens: &ExampleTokens,
    example: usize,
    decoder_offset: Option<usize>,
    with_weights: bool,
    backend_label: &str,
) -> Result<ExportedTrace, CoreError> {
    if trace.layers.is_empty() {
        return Err(CoreError::Picture(
            "the forward pass recorded no attention (it ran with capture off)".into(),
        ));
    }
    let mut layers = Vec::with_capacity(trace.layers.len());
    for recorded in &trace.layers {
        let (stream, layer) = match (recorded.kind, decoder_offset) {
            (AttentionKind::SelfAttention, None) => (Stream::SelfAttention, recorded.layer),
            (AttentionKind::SelfAttention, Some(off)) if recorded.layer < off => {
                (Stream::EncoderSelf, recorded.layer)
            }
            (AttentionKind::SelfAttention, Some(off)) => {
                (Stream::DecoderSelf, recorded.layer - off)
            }
            (AttentionKind::Cross, off) => (
                Stream::Cross,
                recorded.layer.saturating_sub(off.unwrap_or(0)),
            ),
            (AttentionKind::Content, _) => (Stream::Content, recorded.layer),
            (AttentionKind::Query, _) => (Stream::Query, recorded.layer),
        };
        let decoder = || {
            tokens.decoder.as_ref().ok_or_else(|| {
                CoreError::Picture(format!(
                    "{} needs the decoder's tokens, and the example has none",
                    stream.title()
                ))
            })
        };
        let (row_tokens, col_tokens) = match stream {
            Stream::DecoderSelf => (decoder()?, decoder()?),
            Stream::Cross => (decoder()?, &tokens.encoder),
            _ => (&tokens.encoder, &tokens.encoder),
        };
        let [b, heads, rows, cols] = recorded.weights.dims();
        if example >= b || rows != row_tokens.len() || cols != col_tokens.len() {
            return Err(CoreError::Picture(format!(
                "{} of layer {layer} is {b}×{rows}×{cols} but example {example} has {} query \
                 and {} key tokens",
                stream.title(),
                row_tokens.len(),
                col_tokens.len()
            )));
        }
        let blocked = read_mask(recorded.mask.clone().narrow(0, example, 1), backend_label).await?;
        if blocked.len() != rows * cols {
            return Err(CoreError::Picture(format!(
                "the mask of {} layer {layer} holds {} cells, not {rows}×{cols}",
                stream.title(),
                blocked.len()
            )));
        }
        let weights = if with_weights {
            let values = recorded
                .weights
                .clone()
                .narrow(0, example, 1)
                .into_data_async()
                .await
                .map_err(|e| CoreError::read(backend_label, e))?
                .try_into_vec_as::<f32>()
                .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))?;
            Some(HeadWeights {
                heads,
                rows,
                cols,
                values,
            })
        } else {
            None
        };
        layers.push(TraceLayer {
            layer,
            stream,
            mask: MaskMatrix {
                rows,
                cols,
                blocked,
                row_tokens: row_tokens.clone(),
                col_tokens: col_tokens.clone(),
            },
            weights,
        });
    }
    Ok(ExportedTrace { example, layers })
}

async fn read_mask(mask: Tensor<3, Bool>, backend_label: &str) -> Result<Vec<bool>, CoreError> {
    // `try_into_vec_as` converts whatever the backend stores booleans as (bytes, u32).
    mask.into_data_async()
        .await
        .map_err(|e| CoreError::read(backend_label, e))?
        .try_into_vec_as::<bool>()
        .map_err(|e| CoreError::read(backend_label, format!("{e:?}")))
}

/// How many of an encoder-decoder's blocks are the encoder's (`None` for a single stack).
pub fn decoder_offset(network: &Network) -> Option<usize> {
    match network {
        Network::EncoderDecoder(m) => Some(m.encoder.blocks.len()),
        Network::Stack(_) => None,
    }
}

/// Runs example `example` of `batch` through `network` with capture on and exports its trace
/// (what the worker sends the page). During training pass `network.valid()`, so the capture
/// builds no autodiff graph.
pub async fn capture_example(
    network: &Network,
    batch: &Batch,
    example: usize,
    text: &impl TokenText,
    with_weights: bool,
    backend_label: &str,
) -> Result<ExportedTrace, CoreError> {
    let one = example_batch(batch, example)?;
    if one.seq_len > network.max_seq_len() || one.target_len > network.max_seq_len() {
        return Err(CoreError::Picture(format!(
            "a sequence of {} positions is longer than the network's {}",
            one.seq_len.max(one.target_len),
            network.max_seq_len()
        )));
    }
    let tokens = ExampleTokens::of(&one, 0, text)?;
    let output = network.forward(&one.to_tensors(&network.device()), true);
    let mut trace = export_trace(
        &output.attention,
        &tokens,
        0,
        decoder_offset(network),
        with_weights,
        backend_label,
    )
    .await?;
    trace.example = example;
    Ok(trace)
}

// ── The cells the page draws ───────────────────────────────────────────────────────────────────

/// One cell of a mask matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    Allowed,
    Blocked,
}

/// One attention's matrix as the page draws it: query rows × key columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixView {
    pub layer: usize,
    pub stream: Stream,
    pub title: String,
    pub rows: usize,
    pub cols: usize,
    /// `[rows, cols]` row-major (on the wire a string of `0`/`1`, [`super::packed::cells`]).
    #[serde(with = "super::packed::cells")]
    pub cells: Vec<CellState>,
    /// How many cells are blocked (the page shows it; its tests count it).
    pub blocked_cells: usize,
    pub row_tokens: Vec<TokenLabel>,
    pub col_tokens: Vec<TokenLabel>,
}

impl MatrixView {
    /// The cells of `layer`, read from its exported mask and nothing else.
    pub fn from_layer(layer: &TraceLayer) -> Self {
        let m = &layer.mask;
        let cells: Vec<CellState> = (0..m.rows * m.cols)
            .map(|i| match m.blocked.get(i) {
                Some(false) => CellState::Allowed,
                _ => CellState::Blocked,
            })
            .collect();
        Self {
            layer: layer.layer,
            stream: layer.stream,
            title: layer.stream.title().to_string(),
            rows: m.rows,
            cols: m.cols,
            blocked_cells: cells.iter().filter(|&&c| c == CellState::Blocked).count(),
            cells,
            row_tokens: m.row_tokens.clone(),
            col_tokens: m.col_tokens.clone(),
        }
    }

    pub fn cell(&self, row: usize, col: usize) -> CellState {
        if col >= self.cols {
            return CellState::Blocked;
        }
        self.cells
            .get(row * self.cols + col)
            .copied()
            .unwrap_or(CellState::Blocked)
    }

    /// The cells as maximal horizontal runs of one state, row by row, left to right: what the
    /// page draws, one rectangle per run (a causal 64 × 64 mask is 127 rectangles, not 4,096
    /// SVG nodes, which took the main thread hundreds of milliseconds to build).
    pub fn runs(&self) -> Vec<CellRun> {
        let mut runs = Vec::new();
        for row in 0..self.rows {
            let mut col = 0;
            while col < self.cols {
                let state = self.cell(row, col);
                let mut len = 1;
                while col + len < self.cols && self.cell(row, col + len) == state {
                    len += 1;
                }
                runs.push(CellRun {
                    row,
                    col,
                    len,
                    state,
                });
                col += len;
            }
        }
        runs
    }

    /// The columns row `row` may read.
    pub fn row_reads(&self, row: usize) -> Vec<usize> {
        (0..self.cols)
            .filter(|&c| self.cell(row, c) == CellState::Allowed)
            .collect()
    }

    /// "token i may attend to …", for hovering a row.
    pub fn row_sentence(&self, row: usize) -> String {
        let name = |t: Option<&TokenLabel>| t.map_or("?", |t| t.text.as_str()).to_string();
        let reads = self.row_reads(row);
        let what = if reads.is_empty() {
            "nothing (its attention is zeroed)".to_string()
        } else {
            reads
                .iter()
                .map(|&c| format!("{} ({c})", name(self.col_tokens.get(c))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} ({row}) may attend to {} of {} keys: {what}",
            name(self.row_tokens.get(row)),
            reads.len(),
            self.cols
        )
    }
}

/// `len` cells of one row in the same state, from column `col` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRun {
    pub row: usize,
    pub col: usize,
    pub len: usize,
    pub state: CellState,
}

/// One matrix per stream the trace holds (its first layer's: a stream applies one mask in
/// every layer), in the order the model ran them.
pub fn matrix_views(trace: &ExportedTrace) -> Vec<MatrixView> {
    trace
        .streams()
        .into_iter()
        .filter_map(|s| trace.stream(s).first().map(|l| MatrixView::from_layer(l)))
        .collect()
}

/// Whether `view`'s cells are exactly `layer`'s exported mask: same size, every cell allowed
/// where the trace allows and blocked where it blocks. The error names the first cell that
/// differs.
pub fn check_cells(view: &MatrixView, layer: &TraceLayer) -> Result<(), CoreError> {
    let m = &layer.mask;
    if (view.rows, view.cols) != (m.rows, m.cols) || m.blocked.len() != m.rows * m.cols {
        return Err(CoreError::Picture(format!(
            "the drawn matrix is {}×{} but the trace's mask is {}×{}",
            view.rows, view.cols, m.rows, m.cols
        )));
    }
    for (i, &blocked) in m.blocked.iter().enumerate() {
        let drawn = view.cells.get(i).copied();
        let traced = if blocked {
            CellState::Blocked
        } else {
            CellState::Allowed
        };
        if drawn != Some(traced) {
            return Err(CoreError::Picture(format!(
                "{} cell ({}, {}) is drawn {drawn:?} but the trace has it {traced:?}",
                view.title,
                i / m.cols,
                i % m.cols
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;

use super::*;
use crate::core::exec::block_on;
use crate::core::viz::test_support::{Numbers, batches, capture, network};

/// Every mix whose batch kinds, together, use every stream: single stacks causal and
/// bidirectional (with and without padding and pairs), the encoder-decoder with and without its
/// decoder (a pair batch runs through the encoder alone), and XLNet's two streams.
const MIXES: [&str; 8] = [
    "clm", "mlm", "mlm+nsp", "clm+sop", "span+sop", "infill", "plm", "plm+nsp",
];

/// The batch's own mask for `stream`, example `example`: what the training step applied.
fn batch_mask(batch: &Batch, stream: Stream, example: usize) -> Vec<bool> {
    let (s, t) = (batch.seq_len, batch.target_len);
    let decoder = || batch.decoder.as_ref().expect("a decoder side");
    let (blocked, width) = match stream {
        Stream::SelfAttention | Stream::EncoderSelf | Stream::Content => {
            (&batch.mask.blocked, s * s)
        }
        Stream::DecoderSelf => (&decoder().self_mask.blocked, t * t),
        Stream::Cross => (&decoder().cross_mask.blocked, t * s),
        Stream::Query => (
            &batch.query.as_ref().expect("a query stream").mask.blocked,
            s * s,
        ),
    };
    slice(blocked, example, width, "mask").expect("slice")
}

#[test]
fn drawn_cells_are_the_exported_trace_for_every_objective_and_stream_and_a_flip_is_caught() {
    let mut seen_streams = Vec::new();
    for mix in MIXES {
        let net = network(mix);
        for (kind, batch) in batches(mix) {
            let example = 1;
            let trace = capture(&net, &batch, example);
            assert_eq!(trace.example, example);
            assert!(!trace.layers.is_empty(), "{mix}");
            for layer in &trace.layers {
                let what = format!("{mix} {kind:?} {:?} layer {}", layer.stream, layer.layer);
                // The trace carries the mask the step applied to this example...
                assert_eq!(
                    layer.mask.blocked,
                    batch_mask(&batch, layer.stream, example),
                    "{what}"
                );
                // ...and the page's cells are that trace, cell for cell.
                let view = MatrixView::from_layer(layer);
                check_cells(&view, layer).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    view.blocked_cells,
                    layer.mask.blocked.iter().filter(|&&b| b).count()
                );
                // The runs the page draws tile the matrix exactly: every cell once, in its
                // state, each run maximal (a neighbour in the row has the other state).
                let runs = view.runs();
                let mut covered = vec![None; view.rows * view.cols];
                for run in &runs {
                    assert!(
                        run.len > 0 && run.col + run.len <= view.cols,
                        "{what}: {run:?}"
                    );
                    for c in run.col..run.col + run.len {
                        let i = run.row * view.cols + c;
                        assert!(
                            covered[i].is_none(),
                            "{what}: ({}, {c}) drawn twice",
                            run.row
                        );
                        covered[i] = Some(run.state);
                    }
                    if run.col + run.len < view.cols {
                        assert_ne!(view.cell(run.row, run.col + run.len), run.state, "{what}");
                    }
                }
                let drawn: Vec<CellState> =
                    covered.into_iter().map(|c| c.expect("covered")).collect();
                assert_eq!(drawn, view.cells, "{what}");
                // The trace survives the wire (the mask as bits, the weights as bytes) exactly.
                let wire = serde_json::to_string(layer).expect("serialise");
                assert_eq!(
                    &serde_json::from_str::<TraceLayer>(&wire).expect("parse"),
                    layer
                );
                // Flip one cell of the trace: the comparison fails, and a view drawn from the
                // flipped trace differs in exactly that cell (it reads nothing else).
                let (r, c) = (view.rows / 2, view.cols / 3);
                let mut flipped = layer.clone();
                flipped.mask.blocked[r * view.cols + c] ^= true;
                let err = check_cells(&view, &flipped).expect_err(&what);
                assert!(err.to_string().contains(&format!("({r}, {c})")), "{err}");
                let redrawn = MatrixView::from_layer(&flipped);
                let differ: Vec<usize> = (0..view.cells.len())
                    .filter(|&i| view.cells[i] != redrawn.cells[i])
                    .collect();
                assert_eq!(differ, [r * view.cols + c], "{what}");
                // No head puts weight on a blocked cell.
                let w = layer.weights.as_ref().expect("weights");
                for h in 0..w.heads {
                    for q in 0..w.rows {
                        for k in 0..w.cols {
                            if layer.mask.is_blocked(q, k) {
                                assert!(w.get(h, q, k) < 1e-6, "{what}: weight on ({q}, {k})");
                            }
                        }
                    }
                }
                if !seen_streams.contains(&layer.stream) {
                    seen_streams.push(layer.stream);
                }
            }
            let views = matrix_views(&trace);
            assert_eq!(views.len(), trace.streams().len());
        }
    }
    assert_eq!(seen_streams.len(), 6, "every stream: {seen_streams:?}");
}

#[test]
fn a_causal_matrix_is_two_runs_a_row() {
    let net = network("clm");
    let (_, batch) = batches("clm").remove(0);
    let trace = capture(&net, &batch, 0);
    let view = MatrixView::from_layer(&trace.layers[0]);
    let runs = view.runs();
    // Row r reads keys 0..=r (allowed), then the rest is blocked; the last row has no rest
    // unless padding follows.
    assert_eq!(runs[0].state, CellState::Allowed);
    assert_eq!(runs[0].len, 1);
    assert!(runs.len() <= 2 * view.rows, "{} runs", runs.len());
}

#[test]
fn streams_and_labels_follow_the_network() {
    let net = network("span");
    let (_, batch) = batches("span").remove(0);
    let trace = capture(&net, &batch, 0);
    // fast: 2 layers, one encoder block and one decoder block.
    let streams: Vec<(Stream, usize)> = trace.layers.iter().map(|l| (l.stream, l.layer)).collect();
    assert_eq!(
        streams,
        [
            (Stream::EncoderSelf, 0),
            (Stream::DecoderSelf, 0),
            (Stream::Cross, 0)
        ]
    );
    let cross = &trace.layers[2].mask;
    assert_eq!((cross.rows, cross.cols), (batch.target_len, batch.seq_len));
    assert_eq!(
        cross.row_tokens[0].text, "[BOS]",
        "the decoder reads [BOS] first"
    );
    assert_eq!(cross.col_tokens[0].id, batch.inputs[0]);
    let padded = cross.col_tokens.iter().filter(|t| t.padding).count();
    assert_eq!(
        padded,
        batch.inputs[..batch.seq_len]
            .iter()
            .filter(|&&id| id == 0)
            .count()
    );
    let view = MatrixView::from_layer(&trace.layers[1]);
    let sentence = view.row_sentence(2);
    assert!(sentence.contains("may attend to 3 of"), "{sentence}");
}

#[test]
fn one_example_through_the_network_is_that_example_of_the_whole_batch() {
    for mix in ["plm", "infill"] {
        let net = network(mix);
        let (_, batch) = batches(mix).remove(0);
        let example = 2;
        let alone = capture(&net, &batch, example);
        let output = net.forward(&batch.to_tensors(&net.device()), true);
        let tokens = ExampleTokens::of(&batch, example, &Numbers).expect("tokens");
        let whole = block_on(export_trace(
            &output.attention,
            &tokens,
            example,
            decoder_offset(&net),
            true,
            "CPU",
        ))
        .expect("export");
        assert_eq!(alone.layers.len(), whole.layers.len());
        for (a, w) in alone.layers.iter().zip(&whole.layers) {
            assert_eq!(a.mask, w.mask, "{mix}");
            let (a, w) = (
                a.weights.as_ref().expect("a"),
                w.weights.as_ref().expect("w"),
            );
            for (x, y) in a.values.iter().zip(&w.values) {
                assert!((x - y).abs() < 1e-4, "{mix}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn a_batch_slices_into_examples_and_refuses_one_past_its_end() {
    let (_, batch) = batches("plm+nsp").remove(0);
    let one = example_batch(&batch, 3).expect("slice");
    assert_eq!(one.batch_size, 1);
    assert_eq!(
        one.inputs,
        batch.inputs[3 * batch.seq_len..4 * batch.seq_len]
    );
    let pairs = one.pairs.as_ref().expect("pairs");
    assert_eq!(
        pairs.labels,
        [batch.pairs.as_ref().expect("pairs").labels[3]]
    );
    assert_eq!(
        one.supervised_tokens,
        one.loss_weights.iter().filter(|&&w| w > 0.0).count()
    );
    assert!(matches!(
        example_batch(&batch, batch.batch_size),
        Err(CoreError::Picture(_))
    ));
    let empty = AttentionTrace::default();
    let tokens = ExampleTokens::of(&batch, 0, &Numbers).expect("tokens");
    let err = block_on(export_trace(&empty, &tokens, 0, None, true, "CPU")).expect_err("empty");
    assert!(err.to_string().contains("capture off"), "{err}");
}

//! The architectures every objective family trains — decoder-only, encoder with a pair head,
//! encoder-decoder and XLNet's two-stream stack — checked for what they may and may not see,
//! for the masks their traces carry, and for comparable sizes.

use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use pretrain_playground::core::config::ModelSize;
use pretrain_playground::core::exec::block_on;
use pretrain_playground::core::masks::AttentionMask;
use pretrain_playground::core::model::attention::{AttentionKind, LayerAttention};
use pretrain_playground::core::model::encdec::{DecoderInputs, EncoderDecoder};
use pretrain_playground::core::model::{Extras, PairInputs, Transformer};

use crate::support::{ids, small_config};

fn mask(blocked: Vec<bool>, q: usize, k: usize, device: &Device) -> Tensor<3, Bool> {
    Tensor::from_data(TensorData::new(blocked, [1, q, k]), device)
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    block_on(t.into_data_async())
        .expect("read")
        .try_into_vec::<f32>()
        .expect("f32")
}

fn bools(t: Tensor<3, Bool>) -> Vec<bool> {
    block_on(t.into_data_async())
        .expect("read")
        .try_into_vec::<bool>()
        .expect("bool")
}

/// Every blocked cell of every traced layer gets (almost) no weight; returns the masks seen.
fn assert_blocked_cells_are_empty(layers: Vec<LayerAttention>) -> Vec<(AttentionKind, Vec<bool>)> {
    let mut seen = Vec::new();
    for layer in layers {
        let [b, h, q, k] = layer.weights.dims();
        let weights = floats(layer.weights);
        let blocked = bools(layer.mask);
        for bh in 0..b * h {
            for qi in 0..q {
                for ki in 0..k {
                    let w = weights[(bh * q + qi) * k + ki];
                    if blocked[((bh / h) * q + qi) * k + ki] {
                        assert!(
                            w < 1e-6,
                            "{:?} layer {}: weight {w} on a blocked cell",
                            layer.kind,
                            layer.layer
                        );
                    }
                }
            }
        }
        seen.push((layer.kind, blocked));
    }
    seen
}

#[test]
fn every_architecture_of_a_size_has_parameters_within_15_percent() {
    let device = Device::flex();
    for size in ModelSize::ALL {
        let c = size.model();
        let decoder = Transformer::init(&c, Extras::default(), 0, &device).num_params();
        assert_eq!(
            decoder,
            c.decoder_params(),
            "{size}: decoder-only equals the reference"
        );
        let encoder = Transformer::init(
            &c,
            Extras {
                pairs: true,
                query_stream: false,
            },
            0,
            &device,
        )
        .num_params();
        let xlnet = Transformer::init(
            &c,
            Extras {
                pairs: true,
                query_stream: true,
            },
            0,
            &device,
        )
        .num_params();
        let encdec = EncoderDecoder::init(
            &c,
            Extras {
                pairs: true,
                query_stream: false,
            },
            0,
            &device,
        )
        .num_params();
        for (name, n) in [
            ("encoder", encoder),
            ("two-stream", xlnet),
            ("encoder-decoder", encdec),
        ] {
            let ratio = n as f64 / decoder as f64;
            assert!(
                (0.85..=1.15).contains(&ratio),
                "{size} {name}: {n} vs {decoder} ({ratio:.3})"
            );
        }
    }
}

#[test]
fn encoder_decoder_prediction_of_target_t_ignores_target_t_and_later_but_reads_the_source() {
    let device = Device::flex();
    let c = small_config(16);
    let model = EncoderDecoder::init(&c, Extras::default(), 7, &device);
    let src: Vec<i64> = vec![9, 14, 3, 27, 40, 11];
    let tgt: Vec<i64> = vec![5, 21, 33, 8, 17, 50, 2];
    let (s, t) = (src.len(), tgt.len());
    let src_mask = mask(vec![false; s * s], s, s, &device);
    let causal = AttentionMask::causal(1, t).to_tensor(&device);
    let run = |src: &[i64], tgt: &[i64], capture: bool| {
        let decoder = DecoderInputs {
            ids: ids(tgt, &device),
            self_mask: causal.clone(),
            cross_mask: mask(vec![false; t * s], t, s, &device),
        };
        model.forward(
            ids(src, &device),
            &src_mask,
            &PairInputs::default(),
            &decoder,
            capture,
        )
    };
    let reference = floats(run(&src, &tgt, false).logits);
    let v = c.vocab_size;
    for k in 1..t {
        let mut changed = tgt.clone();
        for x in changed.iter_mut().skip(k) {
            *x = (*x + 19) % v as i64;
        }
        let out = floats(run(&src, &changed, false).logits);
        for pos in 0..k {
            for j in 0..v {
                assert!(
                    (reference[pos * v + j] - out[pos * v + j]).abs() < 1e-5,
                    "decoder position {pos} saw input {k}"
                );
            }
        }
    }
    let mut other_src = src.clone();
    other_src[0] = 60;
    let moved = floats(run(&other_src, &tgt, false).logits);
    assert!(
        (0..v).any(|j| (moved[j] - reference[j]).abs() > 1e-6),
        "the decoder reads the encoder"
    );
    // Traces: bidirectional encoder self-attention, causal decoder self-attention, cross.
    let out = run(&src, &tgt, true);
    let kinds: Vec<AttentionKind> = out.attention.layers.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        vec![
            AttentionKind::SelfAttention,
            AttentionKind::SelfAttention,
            AttentionKind::Cross
        ]
    );
    let seen = assert_blocked_cells_are_empty(out.attention.layers);
    assert_eq!(
        seen[1].1,
        AttentionMask::causal(1, t).blocked,
        "the decoder's trace carries its causal mask"
    );
}

/// Content and query masks of one factorisation order: content sees rank ≤, query rank <.
fn two_stream(order: &[usize]) -> (Vec<bool>, Vec<bool>, Vec<f32>) {
    let n = order.len();
    let mut rank = vec![0; n];
    for (r, &p) in order.iter().enumerate() {
        rank[p] = r;
    }
    let content = (0..n * n).map(|c| rank[c % n] > rank[c / n]).collect();
    let query = (0..n * n).map(|c| rank[c % n] >= rank[c / n]).collect();
    let valid = (0..n)
        .map(|i| if rank[i] == 0 { 0.0 } else { 1.0 })
        .collect();
    (content, query, valid)
}

#[test]
fn the_query_stream_never_sees_its_own_token_or_later_ones_but_sees_earlier_ones() {
    let device = Device::flex();
    let c = small_config(16);
    let model = Transformer::init(
        &c,
        Extras {
            pairs: false,
            query_stream: true,
        },
        5,
        &device,
    );
    let tokens: Vec<i64> = vec![12, 7, 30, 45, 3, 19, 26, 58];
    let n = tokens.len();
    let order = vec![3, 0, 6, 1, 7, 4, 2, 5];
    let (content, query, valid) = two_stream(&order);
    let cm = mask(content, n, n, &device);
    let qm = mask(query, n, n, &device);
    let valid_t = Tensor::<2>::from_data(TensorData::new(valid, [1, n]), &device);
    let run = |tokens: &[i64], capture: bool| {
        model.forward_two_stream(
            ids(tokens, &device),
            &cm,
            &qm,
            &valid_t,
            &PairInputs::default(),
            capture,
        )
    };
    let reference = floats(run(&tokens, false).logits);
    let v = c.vocab_size;
    let at = |logits: &[f32], p: usize| logits[p * v..(p + 1) * v].to_vec();
    let differs = |a: &[f32], b: &[f32]| a.iter().zip(b).any(|(x, y)| (x - y).abs() > 1e-6);
    for (r, &p) in order.iter().enumerate().skip(1) {
        // Its own token and every later token in the order: no effect on position p.
        for &q in order.iter().skip(r) {
            let mut changed = tokens.clone();
            changed[q] = (changed[q] + 23) % v as i64;
            let out = floats(run(&changed, false).logits);
            assert!(
                !differs(&at(&reference, p), &at(&out, p)),
                "position {p} saw token {q}"
            );
        }
        // An earlier token in the order: visible.
        let earlier = order[r - 1];
        let mut changed = tokens.clone();
        changed[earlier] = (changed[earlier] + 23) % v as i64;
        let out = floats(run(&changed, false).logits);
        assert!(
            differs(&at(&reference, p), &at(&out, p)),
            "position {p} should see token {earlier}"
        );
    }
    let out = run(&tokens, true);
    let seen = assert_blocked_cells_are_empty(out.attention.layers);
    assert_eq!(
        seen.len(),
        2 * c.n_layers,
        "one content and one query entry per layer"
    );
    assert_eq!(seen[0].0, AttentionKind::Content);
    assert_eq!(seen[1].0, AttentionKind::Query);
    assert_eq!(
        seen[1].1,
        two_stream(&order).1,
        "the trace carries the query mask"
    );
}

#[test]
fn the_pair_head_reads_its_position_and_segments_matter() {
    let device = Device::flex();
    let c = small_config(16);
    let model = Transformer::init(
        &c,
        Extras {
            pairs: true,
            query_stream: false,
        },
        9,
        &device,
    );
    let tokens: Vec<i64> = vec![2, 30, 31, 3, 40, 41, 3];
    let n = tokens.len();
    let bidirectional = mask(vec![false; n * n], n, n, &device);
    let segments = |s: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(s, [1, n]), &device);
    let heads = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
    let pair = |seg: Vec<i64>| {
        model
            .forward_pairs(
                ids(&tokens, &device),
                &bidirectional,
                &PairInputs {
                    segments: Some(segments(seg)),
                    heads: Some(heads.clone()),
                },
                false,
            )
            .pair_logits
            .expect("pair logits")
    };
    let a = pair(vec![0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(a.dims(), [1, 2]);
    let b = pair(vec![0, 0, 0, 0, 0, 0, 0]);
    let (a, b) = (floats(a), floats(b));
    assert!(
        a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-6),
        "segment ids change the pair logits"
    );
}

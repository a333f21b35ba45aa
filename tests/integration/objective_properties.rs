//! Properties of the objectives that only show with a model in the loop: what a corrupted
//! position may not reveal.

use burn::tensor::{Device, Int, Tensor, TensorData};
use pretrain_playground::core::config::ModelConfig;
use pretrain_playground::core::exec::block_on;
use pretrain_playground::core::masks::AttentionMask;
use pretrain_playground::core::model::{Extras, Transformer};
use pretrain_playground::core::objective::mlm::{MlmConfig, mask};
use pretrain_playground::core::rng::Rng;
use pretrain_playground::core::tokenizer::SpecialIds;

const SPECIALS: SpecialIds = SpecialIds::fixed();

fn logits(model: &Transformer, inputs: &[u32], device: &Device) -> Vec<f32> {
    let n = inputs.len();
    let ids: Vec<i64> = inputs.iter().map(|&x| x as i64).collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, n]), device);
    let mask = AttentionMask::bidirectional(n, &vec![false; n]).to_tensor(device);
    block_on(model.forward(ids, &mask, false).logits.into_data_async())
        .expect("read")
        .try_into_vec::<f32>()
        .expect("f32")
}

#[test]
fn mlm_positions_replaced_by_mask_or_a_random_token_reveal_nothing_of_the_original() {
    let device = Device::flex();
    let vocab = 96;
    let config = ModelConfig {
        vocab_size: vocab,
        d_model: 32,
        n_layers: 2,
        n_heads: 4,
        d_ff: 64,
        max_seq_len: 24,
    };
    let model = Transformer::init(&config, Extras::default(), 1, &device);
    let mut rng = Rng::new(9);
    let mut checked = 0;
    for seed in 0..30u64 {
        let tokens: Vec<u32> = (0..20).map(|_| 23 + rng.below(vocab - 23) as u32).collect();
        let masked = mask(
            &tokens,
            &MlmConfig::default(),
            SPECIALS,
            vocab,
            &mut Rng::new(seed),
        )
        .expect("mask");
        let reference = logits(&model, &masked.inputs, &device);
        for p in masked.corrupted() {
            let mut changed = tokens.clone();
            changed[p] = 23 + (changed[p] - 23 + 11) % (vocab as u32 - 23);
            let again = mask(
                &changed,
                &MlmConfig::default(),
                SPECIALS,
                vocab,
                &mut Rng::new(seed),
            )
            .expect("mask");
            assert_eq!(
                again.inputs, masked.inputs,
                "position {p} leaked its original token"
            );
            assert_eq!(again.selected, masked.selected);
            assert_eq!(
                logits(&model, &again.inputs, &device),
                reference,
                "an output moved"
            );
            checked += 1;
        }
        // A kept (unchanged) selected position does show its token: the 10% BERT keeps so the
        // model cannot assume every visible token is right.
        for (p, c) in masked.corruption.iter().enumerate() {
            if matches!(
                c,
                pretrain_playground::core::objective::mlm::Corruption::Kept
            ) {
                assert_eq!(masked.inputs[p], tokens[p]);
            }
        }
    }
    assert!(checked > 30, "only {checked} corrupted positions checked");
}

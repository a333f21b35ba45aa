//! Which `tokenizer.json` files a saved run may bring: only what the lab's own trainer
//! ([`super::LabTokenizer::train_on_parts`]) writes. A tokenizer of another kind would encode
//! a prompt differently from the text the model learned, or into ids it never saw; and
//! `tokenizers` itself panics on some files it is handed (a merge whose result is not in the
//! vocabulary), so their shape is checked on the JSON before it builds anything.

use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{DecoderWrapper, ModelWrapper, PreTokenizerWrapper, Tokenizer};

use super::SpecialIds;
use crate::core::error::CoreError;

/// A refusal that says what differs from the lab's tokenizer and which file to choose instead.
pub(super) fn not_the_labs(what: String) -> CoreError {
    CoreError::Tokenizer(format!(
        "tokenizer.json was not written by the lab: {what}; choose the tokenizer.json saved with \
         the run"
    ))
}

/// The kinds of component the lab's tokenizer has, read from the JSON before `tokenizers`
/// builds anything from it (its builders panic on some inputs: a BPE merge whose result is not
/// in the vocabulary indexes past a buffer). [`check_lab_pipeline`] then checks their settings.
pub(super) fn check_lab_components(json: &serde_json::Value) -> Result<(), CoreError> {
    let kind = |key: &str| {
        json.get(key)
            .and_then(|c| c.get("type"))
            .and_then(|t| t.as_str())
    };
    for absent in ["normalizer", "post_processor"] {
        if json.get(absent).is_some_and(|c| !c.is_null()) {
            return Err(not_the_labs(format!(
                "it has a {} ({}), the lab's has none",
                absent.replace('_', "-"),
                kind(absent).unwrap_or("of another kind")
            )));
        }
    }
    for (key, what) in [("pre_tokenizer", "pre-tokenizer"), ("decoder", "decoder")] {
        if kind(key) != Some("ByteLevel") {
            return Err(not_the_labs(format!(
                "its {what} is {}, not the lab's byte-level one",
                kind(key).unwrap_or("missing")
            )));
        }
    }
    if kind("model") != Some("BPE") {
        return Err(not_the_labs(format!(
            "its model is {}, not byte-level BPE",
            kind("model").unwrap_or("missing")
        )));
    }
    let model = &json["model"];
    let Some(vocab) = model.get("vocab").and_then(|v| v.as_object()) else {
        return Err(not_the_labs("its BPE model has no vocabulary".into()));
    };
    if ["continuing_subword_prefix", "end_of_word_suffix"]
        .iter()
        .any(|k| model.get(k).is_some_and(|v| !v.is_null()))
    {
        return Err(not_the_labs(
            "its BPE model marks subwords with affixes, the lab's does not".into(),
        ));
    }
    let merges = model.get("merges").and_then(|m| m.as_array());
    for merge in merges.into_iter().flatten() {
        // `["a", "b"]`, or `"a b"` as older files write it.
        let pair = match merge {
            serde_json::Value::Array(parts) => match parts.as_slice() {
                [a, b] => a.as_str().zip(b.as_str()),
                _ => None,
            },
            serde_json::Value::String(text) => text.split_once(' '),
            _ => None,
        };
        let Some((a, b)) = pair else {
            return Err(not_the_labs(format!(
                "its merge {merge} is not a pair of tokens"
            )));
        };
        if ![a, b, &format!("{a}{b}")]
            .iter()
            .all(|token| vocab.contains_key(*token))
        {
            return Err(not_the_labs(format!(
                "its merge of `{a}` and `{b}` has tokens its vocabulary has not"
            )));
        }
    }
    Ok(())
}

/// Accepts only what [`LabTokenizer::train_on_parts`](super::LabTokenizer::train_on_parts) builds, once [`check_lab_components`]
/// has seen the kinds of its parts: the lab's byte-level pre-tokenizer and decoder settings, no
/// truncation or padding, no BPE dropout (which would make encoding random) or unknown-token
/// machinery, and no added tokens besides the specials. Anything else would encode a prompt
/// differently from the text the model was trained on, or into ids the model never saw.
pub(super) fn check_lab_pipeline(tokenizer: &Tokenizer) -> Result<(), CoreError> {
    let lab_bytes = ByteLevel::new(true, true, true);
    match tokenizer.get_pre_tokenizer() {
        Some(PreTokenizerWrapper::ByteLevel(b)) if *b == lab_bytes => {}
        _ => {
            return Err(not_the_labs(
                "its pre-tokenizer is byte-level with other settings than the lab's (a prefix \
                 space, trimmed offsets, GPT-2's split)"
                    .into(),
            ));
        }
    }
    if !matches!(tokenizer.get_decoder(), Some(DecoderWrapper::ByteLevel(b)) if *b == lab_bytes) {
        return Err(not_the_labs(
            "its decoder is byte-level with other settings than the lab's".into(),
        ));
    }
    if tokenizer.get_truncation().is_some() || tokenizer.get_padding().is_some() {
        return Err(not_the_labs(
            "it truncates or pads, the lab's does neither".into(),
        ));
    }
    if tokenizer.get_encode_special_tokens() {
        return Err(not_the_labs("it splits its special tokens as text".into()));
    }
    let ModelWrapper::BPE(bpe) = tokenizer.get_model() else {
        return Err(not_the_labs("its model is not byte-level BPE".into()));
    };
    if bpe.dropout.is_some()
        || bpe.unk_token.is_some()
        || bpe.continuing_subword_prefix.is_some()
        || bpe.end_of_word_suffix.is_some()
        || bpe.fuse_unk
        || bpe.byte_fallback
        || bpe.ignore_merges
    {
        return Err(not_the_labs(
            "its BPE model has options the lab's never sets (dropout, an unknown token, \
             subword affixes, byte fallback or ignored merges)"
                .into(),
        ));
    }
    let added = tokenizer.get_added_tokens_decoder();
    if added.len() != SpecialIds::count_fixed() || added.values().any(|t| !t.special) {
        return Err(not_the_labs(format!(
            "it adds {} tokens, the lab adds its {} special tokens only",
            added.len(),
            SpecialIds::count_fixed()
        )));
    }
    Ok(())
}

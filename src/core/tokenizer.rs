//! The lab's tokenizer: byte-level BPE (GPT-2, Radford et al. 2019; Sennrich et al. 2016),
//! trained in-process with Hugging Face `tokenizers` on the training split, natively and in the
//! page alike.
//!
//! Why byte-level BPE rather than WordPiece: its base alphabet is the 256 bytes, so any script
//! or emoji a student pastes encodes without `[UNK]`, and decoding is exact — which matters for a
//! lab that shows generated text. The vocabulary size is the model size's; the specials every
//! objective needs come first, at fixed ids.
//!
//! **One encoding per text.** Byte-level BPE keeps a word's leading space in its token, so
//! "Hi" at the start of a text and "␣Hi" after a space would be different ids. The lab's
//! pre-tokenizer adds a space before every text that does not start with one (RoBERTa's
//! `add_prefix_space`), so a sentence is the same ids wherever it stands — first in a part, after
//! another sentence, as segment B of a pair. Otherwise a pair whose B was cut from the start of
//! a part would begin with a form no true continuation has, and a pair head could read the label
//! off one token. Decoded text therefore starts with a space; [`LabTokenizer::decode_text`]
//! drops it for display.

use std::collections::HashMap;

use ahash::AHashMap;
use compact_str::CompactString;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{
    AddedToken, Model, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer,
};

use super::error::CoreError;
use super::exec::{Checkpoint, NoYield, run_ready};

mod check;
use check::{check_lab_components, check_lab_pipeline, not_the_labs};

/// Sentences counted or pre-tokenized between two checkpoints of training.
const COUNT_CHUNK: usize = 4_096;

/// Entries of a cache freed between two checkpoints.
const RELEASE_CHUNK: usize = 16_384;

/// Drops `map` entry by entry, awaiting `cp` every [`RELEASE_CHUNK`] entries.
pub(crate) async fn release_map<K, V>(map: HashMap<K, V>, cp: &mut impl Checkpoint) {
    let mut entries = map.into_iter();
    loop {
        for _ in 0..RELEASE_CHUNK {
            if entries.next().is_none() {
                return;
            }
        }
        cp.checkpoint().await;
    }
}

/// Span sentinels reserved for span corruption (T5) and similar objectives.
pub const SPAN_SENTINELS: usize = 16;

/// Special tokens, in id order: `[PAD]` is 0, then `[UNK] [CLS] [SEP] [MASK] [BOS] [EOS]`, then
/// the span sentinels `[SPAN0]`…`[SPAN15]`.
pub const NAMED_SPECIALS: [&str; 7] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[BOS]", "[EOS]",
];

/// Ids of the special tokens (fixed by their order in [`NAMED_SPECIALS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpecialIds {
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
    pub bos: u32,
    pub eos: u32,
    pub first_sentinel: u32,
}

impl SpecialIds {
    const FIXED: Self = Self {
        pad: 0,
        unk: 1,
        cls: 2,
        sep: 3,
        mask: 4,
        bos: 5,
        eos: 6,
        first_sentinel: 7,
    };

    /// The ids every lab tokenizer gives its specials.
    pub const fn fixed() -> Self {
        Self::FIXED
    }

    /// Number of special ids of the lab's tokenizer, all below this value.
    pub const fn count_fixed() -> usize {
        NAMED_SPECIALS.len() + SPAN_SENTINELS
    }

    pub fn is_special(&self, id: u32) -> bool {
        (id as usize) < Self::count_fixed()
    }
}

/// The specials' display names, in id order: `[PAD]` … `[EOS]`, `[SPAN0]` … `[SPAN15]`.
pub fn special_names() -> Vec<String> {
    NAMED_SPECIALS
        .iter()
        .map(|s| s.to_string())
        .chain((0..SPAN_SENTINELS).map(|i| format!("[SPAN{i}]")))
        .collect()
}

/// Marks the tokenizer's own spelling of a special. `tokenizers` finds added tokens anywhere
/// in the input, so if the specials were spelled `[MASK]`, a student who types "[MASK]" would
/// inject a real mask token; with this private-use prefix (which [`LabTokenizer::encode`]
/// never lets through) text can only ever encode to text tokens.
const SPECIAL_MARK: char = '\u{E000}';

fn internal_name(name: &str) -> String {
    format!("{SPECIAL_MARK}{name}")
}

/// Encodes many texts (a whole corpus) exactly as [`LabTokenizer::encode`] does, several times
/// faster: `tokenizers`' `encode` builds a full `Encoding` (a string, offsets and masks for
/// every token) that the lab never reads, and most of a corpus's words repeat. Here each text
/// is pre-tokenized by the same byte-level pre-tokenizer (the tokenizer has no normalizer, and
/// the text can hold no special token) and each word is tokenized by the same BPE model once,
/// its ids kept for the next time it occurs. A test checks the ids equal `encode`'s.
pub struct WordEncoder<'t> {
    tokenizer: &'t LabTokenizer,
    pre_tokenizer: ByteLevel,
    words: HashMap<String, Vec<u32>>,
}

/// `text` with the private-use character that marks specials replaced, so no student text can
/// spell a special token (both encoders use it).
fn without_special_marks(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(SPECIAL_MARK) {
        std::borrow::Cow::Owned(text.replace(SPECIAL_MARK, "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl WordEncoder<'_> {
    /// Frees the cache of tokenized words a batch at a time, awaiting `cp` between batches:
    /// after a corpus of megabytes, dropping it at once is a long pause of its own.
    pub async fn release(self, cp: &mut impl Checkpoint) {
        release_map(self.words, cp).await;
    }

    pub fn encode(&mut self, text: &str) -> Result<Vec<u32>, CoreError> {
        let text = without_special_marks(text);
        let text = text.as_ref();
        let mut pre_tokenized = PreTokenizedString::from(text);
        self.pre_tokenizer
            .pre_tokenize(&mut pre_tokenized)
            .map_err(|e| CoreError::Tokenizer(format!("could not encode text: {e}")))?;
        let mut ids = Vec::new();
        for (word, _, _) in pre_tokenized.get_splits(OffsetReferential::Original, OffsetType::Byte)
        {
            if let Some(known) = self.words.get(word) {
                ids.extend_from_slice(known);
                continue;
            }
            let tokens = self
                .tokenizer
                .inner
                .get_model()
                .tokenize(word)
                .map_err(|e| CoreError::Tokenizer(format!("could not encode text: {e}")))?;
            let word_ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
            ids.extend_from_slice(&word_ids);
            self.words.insert(word.to_string(), word_ids);
        }
        Ok(ids)
    }
}

/// A trained tokenizer with its special ids.
#[derive(Clone)]
pub struct LabTokenizer {
    inner: Tokenizer,
    specials: SpecialIds,
    vocab_size: usize,
}

impl std::fmt::Debug for LabTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabTokenizer")
            .field("vocab_size", &self.vocab_size)
            .finish()
    }
}

impl LabTokenizer {
    /// Trains byte-level BPE with `vocab_size` entries (specials included) on `texts`.
    pub fn train<'a>(
        texts: impl Iterator<Item = &'a str>,
        vocab_size: usize,
    ) -> Result<Self, CoreError> {
        Self::train_on_parts(texts.map(|text| vec![text]), vocab_size)
    }

    /// Trains on texts given as their sentences (a part of a document is its sentences joined
    /// by one space), with exactly the result of training on the joined texts.
    ///
    /// What `tokenizers`' own `train` does — pre-tokenize every text, count the words, run
    /// the BPE merges — but each distinct sentence is pre-tokenized once and its words counted
    /// as often as it occurs. A sentence boundary is a pre-token boundary (the joining space
    /// starts the next sentence's first word, and the first sentence gets the prefix space), so
    /// the counts are the same; the byte-level pre-tokenizer's backtracking regex is most of the
    /// time this saves, and a support desk repeats itself.
    pub fn train_on_parts<'a>(
        parts: impl Iterator<Item = Vec<&'a str>>,
        vocab_size: usize,
    ) -> Result<Self, CoreError> {
        run_ready(Self::train_on_parts_cooperatively(
            parts,
            vocab_size,
            &mut NoYield,
        ))
    }

    /// [`Self::train_on_parts`], awaiting `cp` after every [`COUNT_CHUNK`] sentences counted
    /// or pre-tokenized and before the BPE merges (one call into `tokenizers` that cannot be
    /// split: its input is what bounds it, see [`crate::core::data::TOKENIZER_SAMPLE_BYTES`]).
    pub async fn train_on_parts_cooperatively<'a>(
        parts: impl Iterator<Item = Vec<&'a str>>,
        vocab_size: usize,
        cp: &mut impl Checkpoint,
    ) -> Result<Self, CoreError> {
        let names: Vec<String> = special_names().iter().map(|n| internal_name(n)).collect();
        let minimum = names.len() + 256;
        if vocab_size < minimum {
            return Err(CoreError::Tokenizer(format!(
                "a vocabulary of {vocab_size} cannot hold the {} special tokens and 256 bytes; use at least {minimum}",
                names.len()
            )));
        }
        // Sentence → occurrences.
        let mut sentences: HashMap<&str, u64> = HashMap::new();
        let mut since = 0usize;
        for part in parts {
            since += part.len();
            for sentence in part {
                *sentences.entry(sentence).or_default() += 1;
            }
            if since >= COUNT_CHUNK {
                since = 0;
                cp.checkpoint().await;
            }
        }
        cp.checkpoint().await;
        let pre_tokenizer = ByteLevel::new(true, true, true);
        let mut words: AHashMap<CompactString, u64> = AHashMap::new();
        for (k, (sentence, count)) in sentences.into_iter().enumerate() {
            if k % COUNT_CHUNK == COUNT_CHUNK - 1 {
                cp.checkpoint().await;
            }
            let mut pre_tokenized = PreTokenizedString::from(sentence);
            pre_tokenizer
                .pre_tokenize(&mut pre_tokenized)
                .map_err(|e| CoreError::Tokenizer(format!("pre-tokenizing failed: {e}")))?;
            for (word, _, _) in
                pre_tokenized.get_splits(OffsetReferential::Original, OffsetType::Byte)
            {
                *words.entry(CompactString::from(word)).or_default() += count;
            }
        }
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(
                names
                    .iter()
                    .map(|n| AddedToken::from(n.clone(), true))
                    .collect(),
            )
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build();
        cp.checkpoint().await;
        let mut model = BPE::default();
        let added = trainer
            .do_train(&words, &mut model)
            .map_err(|e| CoreError::Tokenizer(format!("training the tokenizer failed: {e}")))?;
        let mut inner = Tokenizer::new(model);
        inner
            .with_pre_tokenizer(Some(pre_tokenizer))
            .with_decoder(Some(ByteLevel::default()));
        inner
            .add_special_tokens(added)
            .map_err(|e| CoreError::Tokenizer(format!("adding the special tokens failed: {e}")))?;
        let specials = SpecialIds::FIXED;
        for (i, name) in names.iter().enumerate() {
            if inner.token_to_id(name) != Some(i as u32) {
                return Err(CoreError::Tokenizer(format!(
                    "special token {name} did not receive id {i}"
                )));
            }
        }
        let trained = inner.get_vocab_size(true);
        Ok(Self {
            inner,
            specials,
            vocab_size: trained.max(vocab_size),
        })
    }

    /// Reads a tokenizer written by [`Self::to_json`] (a saved run's `tokenizer.json`), checking
    /// that it is the lab's kind of tokenizer (see [`check`]) with the lab's
    /// specials at their ids. Its vocabulary size is the highest id + 1, the embedding rows its
    /// ids need, not its entry count: a file may leave ids out.
    pub fn from_json(json: &str) -> Result<Self, CoreError> {
        let unreadable = |e: serde_json::Error| {
            CoreError::Tokenizer(format!(
                "tokenizer.json cannot be read ({e}); choose the tokenizer.json saved with the run"
            ))
        };
        // JSON text first, the tokenizer from the parsed value second: `tokenizers` panics on
        // a syntax error inside its decoder when it reads the text itself.
        let value: serde_json::Value = serde_json::from_str(json).map_err(unreadable)?;
        check_lab_components(&value)?;
        let inner: Tokenizer = serde_json::from_value(value).map_err(unreadable)?;
        check_lab_pipeline(&inner)?;
        for (i, name) in special_names().iter().enumerate() {
            if inner.token_to_id(&internal_name(name)) != Some(i as u32) {
                return Err(not_the_labs(format!("{name} is not id {i}")));
            }
        }
        let vocab_size = inner
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&id| id as usize + 1);
        Ok(Self {
            inner,
            specials: SpecialIds::FIXED,
            vocab_size,
        })
    }

    /// The embedding table size the model must have (≥ every id this tokenizer produces).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn specials(&self) -> SpecialIds {
        self.specials
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, CoreError> {
        let text = without_special_marks(text);
        let text = text.as_ref();
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| CoreError::Tokenizer(format!("could not encode text: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// An encoder for many texts, with the ids of [`Self::encode`] (see [`WordEncoder`]).
    pub fn word_encoder(&self) -> WordEncoder<'_> {
        WordEncoder {
            tokenizer: self,
            pre_tokenizer: ByteLevel::new(true, true, true),
            words: HashMap::new(),
        }
    }

    /// Decodes ids to text, dropping special tokens. A text decodes with the space its first
    /// word was encoded with (see the module doc): exact for continuing a prompt.
    pub fn decode(&self, ids: &[u32]) -> Result<String, CoreError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| CoreError::Tokenizer(format!("could not decode ids: {e}")))
    }

    /// Decodes a whole text for display: [`Self::decode`] without the leading space every
    /// encoded text carries.
    pub fn decode_text(&self, ids: &[u32]) -> Result<String, CoreError> {
        let text = self.decode(ids)?;
        Ok(text.strip_prefix(' ').map(str::to_string).unwrap_or(text))
    }

    /// The tokenizer as Hugging Face `tokenizer.json` (deterministic: vocabulary by id, merges
    /// by rank), for the export, the fingerprint and saved runs.
    pub fn to_json(&self) -> Result<String, CoreError> {
        self.inner
            .to_string(false)
            .map_err(|e| CoreError::Tokenizer(format!("could not serialise the tokenizer: {e}")))
    }

    /// How `text` splits into tokens, for the page's tokenizer view: each token's id and its
    /// bytes shown as text (a leading space as `␣`), or as hex where a token holds only part of
    /// a multi-byte character (byte-level BPE may split an emoji or a CJK character).
    pub fn pieces(&self, text: &str) -> Result<Vec<TokenPiece>, CoreError> {
        let ids = self.encode(text)?;
        let texts = self.pieces_of(&ids);
        Ok(ids
            .into_iter()
            .zip(texts)
            .map(|(id, text)| TokenPiece { id, text })
            .collect())
    }

    /// Each id's bytes shown as text, as [`Self::pieces`] shows them.
    pub fn pieces_of(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&id| {
                if self.specials.is_special(id) {
                    return special_names()
                        .get(id as usize)
                        .cloned()
                        .unwrap_or_default();
                }
                let raw = self.inner.id_to_token(id).unwrap_or_default();
                let bytes: Vec<u8> = raw.chars().filter_map(byte_of_char).collect();
                match std::str::from_utf8(&bytes) {
                    Ok(s) => s.replace(' ', "␣"),
                    Err(_) => format!(
                        "⟨{}⟩",
                        bytes
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                }
            })
            .collect()
    }
}

/// One token of the tokenizer view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenPiece {
    pub id: u32,
    /// The token's bytes as text, or `⟨e4 b8⟩` when they are not whole characters.
    pub text: String,
}

/// The inverse of GPT-2's byte → printable-character table (the ByteLevel pre-tokenizer's
/// alphabet): bytes 33–126, 161–172 and 174–255 stand for themselves, the other 68 bytes are
/// shifted to U+0100 onwards in order.
fn byte_of_char(c: char) -> Option<u8> {
    let code = c as u32;
    let printable =
        |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    if code < 256 && printable(code) {
        return Some(code as u8);
    }
    let index = code.checked_sub(256)? as usize;
    (0u32..256)
        .filter(|&b| !printable(b))
        .nth(index)
        .map(|b| b as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::corpus::support::{SupportSize, documents};

    fn texts(tickets: usize) -> Vec<String> {
        let size = SupportSize {
            tickets,
            articles: 10,
            faqs: 10,
        };
        documents(1, size)
            .iter()
            .flat_map(|d| d.parts.iter().map(|p| p.text()))
            .collect()
    }

    fn trained(vocab: usize) -> LabTokenizer {
        let texts = texts(300);
        LabTokenizer::train(texts.iter().map(String::as_str), vocab).expect("train")
    }

    #[test]
    fn the_word_encoder_gives_exactly_the_ids_of_encode() {
        let tokenizer = trained(600);
        let mut encoder = tokenizer.word_encoder();
        let mut samples: Vec<String> = texts(40);
        samples.extend(
            [
                "",
                " ",
                "  two  spaces ",
                "\tTabs\tand\nnew lines\r\n",
                "東京は大きい都市です。",
                "👨‍👩‍👧 🇫🇷 e\u{301} Привет, мир!",
                "[MASK] \u{E000}[MASK] typed",
                "x]9$~`|{}\\^@#&*()_+=-<>?/;:'\"",
                "don't won't it's 1,234.56 3.5x",
            ]
            .map(String::from),
        );
        // Twice: the second time every word comes from the cache.
        for _ in 0..2 {
            for text in &samples {
                assert_eq!(
                    encoder.encode(text).expect("word encoder"),
                    tokenizer.encode(text).expect("encode"),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn specials_have_fixed_ids_and_text_round_trips() {
        let tok = trained(600);
        assert_eq!(tok.specials().pad, 0);
        assert_eq!(tok.specials().eos, 6);
        let text = "The kettle arrived — ¿qué? 東京 🚀";
        let ids = tok.encode(text).expect("encode");
        assert!(
            ids.iter().all(|&id| !tok.specials().is_special(id)),
            "no [UNK] for any script"
        );
        assert_eq!(tok.decode_text(&ids).expect("decode"), text);
        assert_eq!(
            tok.encode(text).expect("encode"),
            tok.encode(&format!(" {text}")).expect("encode"),
            "a text is the same ids with or without a space before it"
        );
        assert!(tok.vocab_size() <= 600);
    }

    #[test]
    fn typed_special_names_stay_text_and_pieces_show_bytes() {
        let tok = trained(600);
        let ids = tok
            .encode("please [MASK] the [SEP] \u{E000}[PAD]")
            .expect("encode");
        assert!(
            ids.iter().all(|&id| !tok.specials().is_special(id)),
            "{ids:?}"
        );
        let pieces = tok.pieces("the kettle 🚀").expect("pieces");
        let joined: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert!(joined.starts_with("␣the␣kettle"), "{joined}");
        assert!(
            pieces.iter().any(|p| p.text.starts_with('⟨')),
            "an emoji splits into bytes: {pieces:?}"
        );
    }

    #[test]
    fn same_text_same_vocabulary() {
        let a = trained(500);
        let b = trained(500);
        let probe = "Hi Maria, the kettle arrived with a cracked lid.";
        assert_eq!(a.encode(probe).expect("a"), b.encode(probe).expect("b"));
    }

    #[test]
    fn too_small_a_vocabulary_is_a_typed_error() {
        let texts = texts(10);
        let err = LabTokenizer::train(texts.iter().map(String::as_str), 100);
        assert!(matches!(err, Err(CoreError::Tokenizer(_))));
    }
}

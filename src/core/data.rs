//! The text a run trains on, tokenized: the training and validation splits as packed token
//! streams, documents separated by `[EOS]` (GPT-2's packing). Until the "data world" issue
//! brings the support-desk corpus, the text is the built-in stories of [`super::text`].

use super::error::CoreError;
use super::text::{BuiltinText, Document};
use super::tokenizer::LabTokenizer;

/// Tokenized splits plus the tokenizer that made them.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub tokenizer: LabTokenizer,
    pub train: Vec<u32>,
    pub validation: Vec<u32>,
    pub corpus_seed: u64,
}

impl Dataset {
    /// Builds the built-in text for `corpus_seed` and trains a tokenizer of `vocab_size` on its
    /// training split.
    pub fn builtin(corpus_seed: u64, vocab_size: usize) -> Result<Self, CoreError> {
        let text = BuiltinText::standard(corpus_seed);
        Self::from_documents(&text.train, &text.validation, corpus_seed, vocab_size)
    }

    pub fn from_documents(
        train: &[Document],
        validation: &[Document],
        corpus_seed: u64,
        vocab_size: usize,
    ) -> Result<Self, CoreError> {
        if train.is_empty() || validation.is_empty() {
            return Err(CoreError::Corpus(
                "both the training and the validation split need at least one document".into(),
            ));
        }
        let tokenizer = LabTokenizer::train(train.iter().map(|d| d.text.as_str()), vocab_size)?;
        let pack = |docs: &[Document]| -> Result<Vec<u32>, CoreError> {
            let mut stream = Vec::new();
            for doc in docs {
                stream.extend(tokenizer.encode(&doc.text)?);
                stream.push(tokenizer.specials().eos);
            }
            Ok(stream)
        };
        Ok(Self {
            train: pack(train)?,
            validation: pack(validation)?,
            tokenizer,
            corpus_seed,
        })
    }

    /// Share of the training stream that is original text (not `[EOS]` separators).
    pub fn original_fraction(&self) -> f64 {
        let specials = self.tokenizer.specials();
        let original = self
            .train
            .iter()
            .filter(|&&id| !specials.is_special(id))
            .count();
        original as f64 / self.train.len().max(1) as f64
    }
}

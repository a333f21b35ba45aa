//! The text a run trains on, tokenized: each split as a packed token stream (GPT-2's packing)
//! and as documents of sentences (what NSP and SOP cut into segments), the corpus it came from,
//! and the counts the corpus panel shows.
//!
//! A document is packed as its parts separated by `[SEP]` — a ticket `[SEP]` its resolution,
//! a question `[SEP]` its answer — and closed by `[EOS]`. That is the form later evaluation
//! scores (ticket, separator, resolution), and it lets a decoder learn where a reply starts.
//!
//! Every sentence has one encoding wherever it appears — in the stream, in a segment, in an
//! evaluation pair — because the tokenizer encodes every text as if a space came before it
//! ([`crate::core::tokenizer`]): a sentence that starts a part and the same sentence after
//! another are the same ids, so no label can be read from a token's form.

use std::sync::Arc;

use super::corpus::custom::Needs;
use super::corpus::export::CorpusStats;
use super::corpus::view::CorpusTimings;
use super::corpus::{Corpus, CorpusInput, CorpusSource, Document, Split, support};
use super::error::CoreError;
use super::exec::{Checkpoint, Clock, NoYield, run_ready};
use super::objective::coherence::DocSentences;
use super::tokenizer::{LabTokenizer, WordEncoder};

/// Tokenized splits plus the tokenizer and corpus that made them.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub tokenizer: LabTokenizer,
    pub corpus: Arc<Corpus>,
    pub train: Vec<u32>,
    pub validation: Vec<u32>,
    pub test: Vec<u32>,
    /// Original-text tokens (no specials) per split, in [`Split::ALL`] order.
    pub original_tokens: [usize; 3],
    /// Each split's documents as tokenized sentences, in [`Split::ALL`] order: what NSP and
    /// SOP cut into segments (training) and are evaluated on (validation).
    pub documents: [Arc<Vec<DocSentences>>; 3],
}

impl Dataset {
    /// The support-desk corpus for `corpus_seed` with a tokenizer of `vocab_size` trained on
    /// its training split.
    pub fn support(corpus_seed: u64, vocab_size: usize) -> Result<Self, CoreError> {
        Self::new(Arc::new(support::standard(corpus_seed)), vocab_size)
    }

    /// Trains a tokenizer of `vocab_size` on the training split (at most
    /// [`TOKENIZER_SAMPLE_BYTES`] of it) and packs every split.
    pub fn new(corpus: Arc<Corpus>, vocab_size: usize) -> Result<Self, CoreError> {
        run_ready(Self::new_cooperatively(corpus, vocab_size, &mut NoYield))
    }

    /// [`Self::new`], awaiting `cp` between short stretches of work (a batch of sentences
    /// counted for the tokenizer or encoded). Same result.
    pub async fn new_cooperatively(
        corpus: Arc<Corpus>,
        vocab_size: usize,
        cp: &mut impl Checkpoint,
    ) -> Result<Self, CoreError> {
        for split in Split::ALL {
            if corpus.split(split).next().is_none() {
                return Err(CoreError::Corpus(format!(
                    "the {split} split has no documents; every split needs at least one"
                )));
            }
        }
        let tokenizer = LabTokenizer::train_on_parts_cooperatively(
            tokenizer_sample(&corpus)
                .into_iter()
                .flat_map(|d| d.parts.iter())
                .map(|p| p.sentences.iter().map(String::as_str).collect()),
            vocab_size,
            cp,
        )
        .await?;
        cp.checkpoint().await;
        let mut streams = [Vec::new(), Vec::new(), Vec::new()];
        let mut documents = [Vec::new(), Vec::new(), Vec::new()];
        let mut original_tokens = [0usize; 3];
        let mut encoder = SentenceEncoder::new(&tokenizer);
        let mut since = 0usize;
        for (i, split) in Split::ALL.into_iter().enumerate() {
            for (d, doc) in corpus.documents.iter().enumerate() {
                if doc.split == split {
                    let sentences = pack_document(&mut encoder, doc, &mut streams[i])?;
                    original_tokens[i] += sentences.iter().map(Vec::len).sum::<usize>();
                    since += sentences.len();
                    documents[i].push(DocSentences { doc: d, sentences });
                    if since >= ENCODE_CHUNK {
                        since = 0;
                        cp.checkpoint().await;
                    }
                }
            }
        }
        // Dropping the encoder's caches (every distinct word and sentence) at once would be a
        // long pause of its own after megabytes.
        cp.checkpoint().await;
        crate::core::tokenizer::release_map(encoder.seen, cp).await;
        encoder.words.release(cp).await;
        cp.checkpoint().await;
        let [train, validation, test] = streams;
        Ok(Self {
            tokenizer,
            corpus,
            train,
            validation,
            test,
            original_tokens,
            documents: documents.map(Arc::new),
        })
    }

    /// The prompt whose continuation students watch change as the model learns: the opening
    /// of a customer ticket for the support-desk corpus; for a student's text, the first words
    /// of its first validation sentence.
    pub fn sample_prompt(&self) -> String {
        match self.corpus.source {
            CorpusSource::Support { .. } => SUPPORT_PROMPT.to_string(),
            CorpusSource::Custom { .. } => {
                let first = self
                    .corpus
                    .split(Split::Validation)
                    .flat_map(|d| d.parts.iter())
                    .flat_map(|p| p.sentences.iter())
                    .next()
                    .map_or("", String::as_str);
                opening_words(first, 4)
            }
        }
    }

    /// The counts the corpus panel and the CLI show.
    pub fn stats(&self) -> CorpusStats {
        CorpusStats::new(
            &self.corpus,
            self.tokenizer.vocab_size(),
            self.original_tokens,
        )
    }
}

/// Most bytes of a student's training text the tokenizer learns from. Training byte-level BPE
/// is one call into `tokenizers` that cannot be interrupted, and the page runs it on the worker
/// thread that answers Pause and the tokenizer view, so its input is bounded: measured in the
/// dev profile on 5 MB of random-word prose and of CJK (the slowest kinds: every word new), this
/// keeps training near 0.15 s natively at both model sizes' vocabularies. A tiny model's few
/// thousand merges are the text's most frequent pairs, which an even sample of tens of
/// kilobytes already ranks. A larger training split is sampled by whole documents spread
/// evenly across it ([`tokenizer_sample`]). The support-desk corpus is fixed, generated text
/// and always trains on its whole training split (the committed fingerprint covers it).
pub const TOKENIZER_SAMPLE_BYTES: usize = 64_000;

/// Sentences encoded between two checkpoints.
const ENCODE_CHUNK: usize = 512;

/// The training documents the tokenizer learns from: all of them if their text is at most
/// [`TOKENIZER_SAMPLE_BYTES`], else every k-th (k from the ratio), skipping any that would
/// pass the cap, so the sample spreads over the whole text and stays within it.
pub fn tokenizer_sample(corpus: &Corpus) -> Vec<&Document> {
    let bytes = |d: &Document| {
        d.parts
            .iter()
            .flat_map(|p| p.sentences.iter())
            .map(|s| s.len() + 1)
            .sum::<usize>()
    };
    let train: Vec<&Document> = corpus.split(Split::Train).collect();
    let total: usize = train.iter().map(|d| bytes(d)).sum();
    if total <= TOKENIZER_SAMPLE_BYTES || matches!(corpus.source, CorpusSource::Support { .. }) {
        return train;
    }
    let stride = total.div_ceil(TOKENIZER_SAMPLE_BYTES);
    let mut taken = 0usize;
    let mut sample = Vec::new();
    for doc in train.into_iter().step_by(stride) {
        let size = bytes(doc);
        if taken + size <= TOKENIZER_SAMPLE_BYTES {
            taken += size;
            sample.push(doc);
        }
    }
    sample
}

/// Builds the corpus `input` describes and its dataset (tokenizer trained, every split
/// packed), awaiting `cp` between short stretches of work throughout, so the page's worker can
/// answer Pause and the tokenizer view while it builds a student's megabytes: the same result
/// as [`CorpusInput::build`] then [`Dataset::new`]. Also returns how long each stage took by
/// `clock` (checkpoint waits included).
pub async fn build_dataset(
    input: &CorpusInput,
    corpus_seed: u64,
    needs: Needs,
    vocab_size: usize,
    clock: &dyn Clock,
    cp: &mut impl Checkpoint,
) -> Result<(Dataset, CorpusTimings), CoreError> {
    let started = clock.now_s();
    let corpus = input.build_cooperatively(corpus_seed, needs, cp).await?;
    cp.checkpoint().await;
    let built = clock.now_s();
    let dataset = Dataset::new_cooperatively(Arc::new(corpus), vocab_size, cp).await?;
    let timings = CorpusTimings {
        corpus_ms: (built - started) * 1000.0,
        tokenizer_ms: (clock.now_s() - built) * 1000.0,
    };
    Ok((dataset, timings))
}

/// The sample prompt for the support-desk corpus.
pub const SUPPORT_PROMPT: &str = "Hi, I ordered the";

/// The first `n` words of `sentence`, or its first 8 characters when it has no spaces (CJK).
fn opening_words(sentence: &str, n: usize) -> String {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    if words.len() > 1 {
        words[..n.min(words.len() - 1)].join(" ")
    } else {
        sentence.chars().take(8).collect()
    }
}

/// Encodes sentences, each distinct one once: a support desk repeats itself ("Thank you for
/// your patience."), and one call into `tokenizers` costs far more than a hash lookup (its
/// byte-level pre-tokenizer runs a backtracking regex). New sentences go through a
/// [`WordEncoder`], which tokenizes each distinct word once. Exact: the same text gives the
/// same ids as [`LabTokenizer::encode`].
struct SentenceEncoder<'t> {
    tokenizer: &'t LabTokenizer,
    words: WordEncoder<'t>,
    seen: std::collections::HashMap<&'t str, Vec<u32>>,
}

impl<'t> SentenceEncoder<'t> {
    fn new(tokenizer: &'t LabTokenizer) -> Self {
        Self {
            tokenizer,
            words: tokenizer.word_encoder(),
            seen: std::collections::HashMap::new(),
        }
    }

    fn encode(&mut self, sentence: &'t str) -> Result<Vec<u32>, CoreError> {
        if let Some(ids) = self.seen.get(sentence) {
            return Ok(ids.clone());
        }
        let ids = self.words.encode(sentence)?;
        self.seen.insert(sentence, ids.clone());
        Ok(ids)
    }
}

/// Appends `doc` to `stream` as `part [SEP] part … [EOS]` and returns its sentences, tokenized.
///
/// Each sentence is encoded once, canonically. Byte-level BPE never merges across a pre-token
/// boundary, and a sentence boundary is one (`". Next"` splits into `"."`, `" Next"`), so the
/// concatenation equals the encoding of the part's text (a test checks it).
fn pack_document<'t>(
    encoder: &mut SentenceEncoder<'t>,
    doc: &'t Document,
    stream: &mut Vec<u32>,
) -> Result<Vec<Vec<u32>>, CoreError> {
    let specials = encoder.tokenizer.specials();
    let mut sentences = Vec::new();
    for (i, part) in doc.parts.iter().enumerate() {
        if i > 0 {
            stream.push(specials.sep);
        }
        for sentence in &part.sentences {
            let ids = encoder.encode(sentence)?;
            stream.extend_from_slice(&ids);
            sentences.push(ids);
        }
    }
    stream.push(specials.eos);
    Ok(sentences)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::corpus::support::{SupportSize, generate};

    #[test]
    fn sentence_by_sentence_encoding_equals_encoding_each_part() {
        let corpus = generate(
            2,
            SupportSize {
                tickets: 300,
                articles: 20,
                faqs: 40,
            },
        );
        let dataset = Dataset::new(Arc::new(corpus), 1024).expect("dataset");
        let specials = dataset.tokenizer.specials();
        let mut expected = Vec::new();
        for doc in dataset.corpus.split(Split::Train) {
            for (i, part) in doc.parts.iter().enumerate() {
                if i > 0 {
                    expected.push(specials.sep);
                }
                expected.extend(dataset.tokenizer.encode(&part.text()).expect("encode"));
            }
            expected.push(specials.eos);
        }
        assert_eq!(dataset.train, expected);
        let sentences: usize = dataset
            .corpus
            .split(Split::Train)
            .map(|d| d.sentence_count())
            .sum();
        let [train_docs, validation_docs, _] = &dataset.documents;
        assert_eq!(
            train_docs.iter().map(|d| d.sentences.len()).sum::<usize>(),
            sentences
        );
        assert!(!validation_docs.is_empty());
    }

    #[test]
    fn the_support_desk_tokenizer_learns_from_its_whole_training_split() {
        let corpus = crate::core::corpus::support::standard(1);
        let train = corpus.split(Split::Train).count();
        assert_eq!(tokenizer_sample(&corpus).len(), train);
    }

    #[test]
    fn a_long_training_split_is_sampled_evenly_within_the_cap() {
        let text: String = (0..20_000)
            .map(|k| {
                format!(
                    "Sentence {k} of the long text talks about item {}. ",
                    k % 97
                )
            })
            .collect::<Vec<_>>()
            .chunks(5)
            .map(|c| c.concat() + "\n\n")
            .collect();
        let corpus =
            crate::core::corpus::custom::build(&text, "t", 1, Needs::TOKENS).expect("corpus");
        let sample = tokenizer_sample(&corpus);
        let bytes: usize = sample
            .iter()
            .flat_map(|d| d.parts.iter())
            .flat_map(|p| p.sentences.iter())
            .map(|s| s.len() + 1)
            .sum();
        assert!(bytes <= TOKENIZER_SAMPLE_BYTES, "{bytes}");
        assert!(bytes > TOKENIZER_SAMPLE_BYTES / 2, "{bytes}");
        let last = sample.last().map(|d| d.id.clone()).unwrap_or_default();
        assert!(last.as_str() > "text-03000", "spread over the text: {last}");
    }

    #[test]
    fn a_sentence_has_one_encoding_wherever_it_stands() {
        let corpus = generate(
            2,
            SupportSize {
                tickets: 100,
                articles: 10,
                faqs: 20,
            },
        );
        let dataset = Dataset::new(Arc::new(corpus), 1024).expect("dataset");
        let t = &dataset.tokenizer;
        for sentence in ["Hi Maria.", "Thanks!", "We will refund the kettle."] {
            let alone = t.encode(sentence).expect("alone");
            let after = t.encode(&format!(" {sentence}")).expect("after a space");
            assert_eq!(alone, after, "{sentence}");
        }
    }
}

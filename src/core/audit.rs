//! The shortcut audit: before a label is believed to teach coherence, check that nothing else
//! predicts it. Every labelled set the lab builds — the NSP and SOP training items at each model
//! size, and each evaluation pair set per split and negative kind, on the support-desk corpus or
//! a student's text — is read by two logistic regressions, each trained on items of the set's
//! own kind and scored on at least [`MIN_HELD_OUT`] held-out ones where the text has that many:
//!
//! - **artifact**: features the pipeline makes, not the text — the form of the token each
//!   segment starts with (a leading-space variant of the same word), whitespace the pipeline
//!   could leave (leading, trailing, doubled, line breaks), the number of specials, and the
//!   lengths packing and truncation produce for the whole sequence (real tokens, padding, tokens
//!   cut), and for an evaluation pair whether the evaluation joins it with `[SEP]` (as the
//!   packed stream joins a pair of its source, [`crate::core::eval::pair_input`]). A set must
//!   stay at chance here: accuracy ≤ [`ARTIFACT_LIMIT`]. Above it, the pipeline hands the model
//!   a label and must be fixed.
//! - **surface**: the text's own surface — first and last words of A and B, their lengths in
//!   words and which is longer, closing punctuation, capitals, greetings and sign-offs, digits,
//!   first- and second-person words, the script. A ticket's "Hi …" before its resolution is a
//!   real discourse-order cue that SOP is meant to learn, so this is reported, not forced to
//!   chance: it is the `surface` baseline a trained model has to beat.
//!
//! Per-segment lengths count as surface, not artifact: packing keeps whole sentences and
//! truncates the longer segment from its outer end whichever label the pair has, so which
//! segment was cut says only which is longer, a fact of the text.
//!
//! Items are read the way a model would: training items packed as `[CLS] A [SEP] B [SEP]`
//! with the run's tokenizer, evaluation pairs encoded with it. A feature is a hashed indicator;
//! the regression is L2-regularised and fitted by full-batch Adam from zero, so the audit is
//! deterministic.

use serde::{Deserialize, Serialize};

use super::config::ModelSize;
use super::corpus::{EvalPair, PairKind, Split};
use super::data::Dataset;
use super::error::CoreError;
use super::eval::pair_input::PairJoin;
use super::exec::{Checkpoint, NoYield, run_ready};
use super::objective::coherence::{
    DocSentences, PairItem, PairLayout, PairTask, epoch_items, pack,
};
use super::rng::{Rng, Stream};
use super::tokenizer::LabTokenizer;

/// Most accuracy an artifact classifier may reach on any labelled set.
pub const ARTIFACT_LIMIT: f64 = 0.55;

/// Held-out items each line is scored on, at least, when the text has them.
pub const MIN_HELD_OUT: usize = 1_000;

/// Items a classifier is fitted on, at most.
const MAX_FIT: usize = 4_000;

/// Hashed feature space.
const DIMS: usize = 1 << 12;

/// One line of the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    /// The split the scored items come from (`train` for training items, scored on items cut
    /// from the validation documents).
    pub split: String,
    /// `nsp-default`, `sop-fast`, … for training items; `random`, `hard`, `swapped` for the
    /// evaluation pair sets.
    pub set: String,
    /// Held-out accuracy of the artifact classifier.
    pub artifact: f64,
    /// Held-out accuracy of the surface classifier.
    pub surface: f64,
    pub fitted: usize,
    pub held_out: usize,
    /// For NSP training items: negatives whose B had to differ in length from the true B.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_mismatches: Option<usize>,
}

impl AuditLine {
    /// `audit <split> <set> artifact=<acc> surface=<acc>`, as `corpus --audit` prints it.
    pub fn line(&self) -> String {
        format!(
            "audit {} {} artifact={:.3} surface={:.3} (fit {}, held out {})",
            self.split, self.set, self.artifact, self.surface, self.fitted, self.held_out
        )
    }

    /// Whether the artifact classifier stayed at chance.
    pub fn passes(&self) -> bool {
        self.artifact <= ARTIFACT_LIMIT
    }
}

/// A labelled item as the audit reads it.
struct Item {
    artifact: Vec<u32>,
    surface: Vec<u32>,
    label: u8,
}

/// One labelled set to audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "audit", rename_all = "snake_case")]
pub enum AuditTask {
    /// NSP or SOP training items packed for sequences of a model size.
    Training { task: PairTask, size: ModelSize },
    /// One evaluation pair set of the corpus.
    EvalSet { split: Split, kind: PairKind },
}

/// Every labelled set of `dataset`: NSP and SOP training items at each size in `sizes`, then
/// every evaluation pair set. Each runs on its own ([`run_task`]) so the page can answer
/// between them.
pub fn tasks(sizes: &[ModelSize]) -> Vec<AuditTask> {
    let mut out = Vec::new();
    for &size in sizes {
        for task in [PairTask::Nsp, PairTask::Sop] {
            out.push(AuditTask::Training { task, size });
        }
    }
    for kind in PairKind::ALL {
        for split in Split::ALL {
            out.push(AuditTask::EvalSet { split, kind });
        }
    }
    out
}

/// Audits every labelled set of `dataset` ([`tasks`], [`run_task`]).
pub fn audit(dataset: &Dataset, sizes: &[ModelSize]) -> Result<Vec<AuditLine>, CoreError> {
    let mut lines = Vec::new();
    for task in tasks(sizes) {
        lines.extend(run_task(dataset, task)?);
    }
    Ok(lines)
}

/// Audits one set; `None` when the corpus has nothing to audit there (a student's text too
/// short for pairs, a split without that set).
pub fn run_task(dataset: &Dataset, task: AuditTask) -> Result<Option<AuditLine>, CoreError> {
    run_ready(run_task_cooperatively(dataset, task, &mut NoYield))
}

/// [`run_task`], awaiting `cp` between short stretches of work (32 items cut, labelled or
/// read; one epoch of a classifier's fit), so the page's worker answers while a student's
/// megabytes are audited. Same result.
pub async fn run_task_cooperatively(
    dataset: &Dataset,
    task: AuditTask,
    cp: &mut impl Checkpoint,
) -> Result<Option<AuditLine>, CoreError> {
    match task {
        AuditTask::Training { task, size } => {
            let [train_docs, validation_docs, _] = &dataset.documents;
            let seq_len = size.model().max_seq_len;
            let name = match task {
                PairTask::Nsp => "nsp",
                PairTask::Sop => "sop",
            };
            let seed = dataset_seed(dataset) ^ (seq_len as u64);
            let (fit, _) =
                training_items(task, train_docs, seq_len, MAX_FIT, seed, dataset, cp).await?;
            let (held, mismatched) = training_items(
                task,
                validation_docs,
                seq_len,
                MIN_HELD_OUT.max(2_000),
                seed ^ 0x5EED,
                dataset,
                cp,
            )
            .await?;
            if fit.is_empty() || held.is_empty() {
                return Ok(None);
            }
            Ok(Some(
                score(
                    "train",
                    &format!("{name}-{size}"),
                    &fit,
                    &held,
                    (task == PairTask::Nsp).then_some(mismatched),
                    cp,
                )
                .await,
            ))
        }
        AuditTask::EvalSet { split, kind } => {
            let train = pair_set_items(dataset, Split::Train, kind, cp).await;
            if train.len() < 4 {
                return Ok(None);
            }
            if split == Split::Train {
                // The training split's own set: fitted on one half, scored on the other.
                let (first, second) = halves(&train);
                return Ok(Some(
                    score("train", kind.name(), &first, &second, None, cp).await,
                ));
            }
            // A small text's validation and test sets may each hold fewer than MIN_HELD_OUT
            // pairs: then they are scored together, on one line.
            let validation = pair_set_items(dataset, Split::Validation, kind, cp).await;
            let pooled = validation.len() < MIN_HELD_OUT;
            let (name, held) = match (split, pooled) {
                (Split::Test, true) => return Ok(None),
                (Split::Validation, true) => {
                    let mut both = validation;
                    both.extend(pair_set_items(dataset, Split::Test, kind, cp).await);
                    ("validation+test", both)
                }
                _ => (split.name(), pair_set_items(dataset, split, kind, cp).await),
            };
            if held.is_empty() {
                return Ok(None);
            }
            Ok(Some(
                score(name, kind.name(), &train, &held, None, cp).await,
            ))
        }
    }
}

/// The evaluation pair set of `split` and `kind` read as items, awaiting `cp` every 32 pairs.
async fn pair_set_items(
    dataset: &Dataset,
    split: Split,
    kind: PairKind,
    cp: &mut impl Checkpoint,
) -> Vec<Item> {
    let Some(set) = dataset.corpus.pair_set(split, kind) else {
        return Vec::new();
    };
    let mut items = Vec::with_capacity(set.pairs.len());
    for pairs in set.pairs.chunks(32) {
        items.extend(pairs.iter().map(|p| text_item(p, &dataset.tokenizer)));
        cp.checkpoint().await;
    }
    items
}

/// Scores labelled training items as the audit does: fitted on `fit`, scored on `held`, each
/// packed for sequences of `seq_len` with `tokenizer`.
pub fn score_items(
    set: &str,
    fit: &[PairItem],
    held: &[PairItem],
    seq_len: usize,
    tokenizer: &LabTokenizer,
) -> Result<AuditLine, CoreError> {
    let read = |items: &[PairItem]| -> Result<Vec<Item>, CoreError> {
        items
            .iter()
            .map(|i| packed_item(i, seq_len, tokenizer))
            .collect()
    };
    Ok(run_ready(score(
        "train",
        set,
        &read(fit)?,
        &read(held)?,
        None,
        &mut NoYield,
    )))
}

fn dataset_seed(dataset: &Dataset) -> u64 {
    match dataset.corpus.source {
        super::corpus::CorpusSource::Support { corpus_seed } => corpus_seed,
        super::corpus::CorpusSource::Custom { corpus_seed, .. } => corpus_seed,
    }
}

/// Interleaved halves: items alternate, so both halves keep the set's balance and order.
fn halves(items: &[Item]) -> (Vec<Item>, Vec<Item>) {
    let clone = |i: &Item| Item {
        artifact: i.artifact.clone(),
        surface: i.surface.clone(),
        label: i.label,
    };
    let first = items.iter().step_by(2).map(clone).collect();
    let second = items.iter().skip(1).step_by(2).map(clone).collect();
    (first, second)
}

/// At least `want` (or what 16 epochs give) training items of `task` cut from `docs` for
/// sequences of `seq_len`, with how many NSP negatives took a B of another length.
async fn training_items(
    task: PairTask,
    docs: &[DocSentences],
    seq_len: usize,
    want: usize,
    seed: u64,
    dataset: &Dataset,
    cp: &mut impl Checkpoint,
) -> Result<(Vec<Item>, usize), CoreError> {
    let mut rng = Rng::for_stream(seed, Stream::Pairs);
    let mut items = Vec::new();
    let mut mismatched = 0;
    if super::objective::coherence::check_documents(task, docs).is_err() {
        return Ok((items, 0));
    }
    for _ in 0..16 {
        let (epoch, m) =
            epoch_items(task, docs, seq_len - 3, want - items.len(), &mut rng, cp).await;
        mismatched += m;
        for (k, item) in epoch.iter().enumerate() {
            items.push(packed_item(item, seq_len, &dataset.tokenizer)?);
            if items.len() >= want {
                return Ok((items, mismatched));
            }
            if k % 32 == 31 {
                cp.checkpoint().await;
            }
        }
    }
    Ok((items, mismatched))
}

/// A training item packed as BERT reads it, with its features.
fn packed_item(
    item: &PairItem,
    seq_len: usize,
    tokenizer: &LabTokenizer,
) -> Result<Item, CoreError> {
    let specials = tokenizer.specials();
    let packed = pack(item, PairLayout::ClsFirst, seq_len, specials)?;
    let sep = packed
        .ids
        .iter()
        .position(|&id| id == specials.sep)
        .unwrap_or(packed.ids.len());
    let first = &packed.ids[1..sep];
    let second = &packed.ids[(sep + 1).min(packed.ids.len())..packed.ids.len().saturating_sub(1)];
    let first_text = tokenizer.decode(first)?;
    let second_text = tokenizer.decode(second)?;
    let mut artifact = Features::default();
    let real = packed.ids.len();
    artifact.bin("real", real, seq_len);
    artifact.bin("pad", seq_len - real, seq_len);
    artifact.bin(
        "cut",
        item.a.len() + item.b.len() - packed.original_tokens,
        seq_len,
    );
    artifact.flag(
        "specials",
        packed
            .ids
            .iter()
            .filter(|&&id| specials.is_special(id))
            .count() as u64,
    );
    token_form(&mut artifact, "a", first, tokenizer);
    token_form(&mut artifact, "b", second, tokenizer);
    whitespace(&mut artifact, "a", &first_text);
    whitespace(&mut artifact, "b", &second_text);
    let mut surface = Features::default();
    surface_of(&mut surface, first_text.trim(), second_text.trim());
    Ok(Item {
        artifact: artifact.0,
        surface: surface.0,
        label: item.label,
    })
}

/// An evaluation pair, encoded as a model would read it, with its features.
fn text_item(pair: &EvalPair, tokenizer: &LabTokenizer) -> Item {
    let (a, b, label) = (pair.a.as_str(), pair.b.as_str(), pair.label);
    let mut artifact = Features::default();
    artifact.flag(
        "joined_by_sep",
        u64::from(PairJoin::in_stream(pair.source) == PairJoin::Separator),
    );
    let ids_a = tokenizer.encode(a).unwrap_or_default();
    let ids_b = tokenizer.encode(b).unwrap_or_default();
    token_form(&mut artifact, "a", &ids_a, tokenizer);
    token_form(&mut artifact, "b", &ids_b, tokenizer);
    whitespace(&mut artifact, "a", a);
    whitespace(&mut artifact, "b", b);
    artifact.flag("a_empty", u64::from(a.trim().is_empty()));
    artifact.flag("b_empty", u64::from(b.trim().is_empty()));
    let mut surface = Features::default();
    surface_of(&mut surface, a.trim(), b.trim());
    Item {
        artifact: artifact.0,
        surface: surface.0,
        label,
    }
}

/// Whether a segment's first token is a leading-space form (`␣Hi` rather than `Hi`).
fn token_form(f: &mut Features, side: &str, ids: &[u32], tokenizer: &LabTokenizer) {
    let form = ids
        .first()
        .and_then(|&id| tokenizer.pieces_of(&[id]).into_iter().next())
        .map_or(2, |piece| u64::from(piece.starts_with('␣')));
    f.flag(&format!("{side}_space_form"), form);
}

/// Whitespace a pipeline could leave: beyond the one space every encoded text starts with.
fn whitespace(f: &mut Features, side: &str, text: &str) {
    let inner = text.strip_prefix(' ').unwrap_or(text);
    f.flag(
        &format!("{side}_lead_ws"),
        u64::from(inner.starts_with(char::is_whitespace)),
    );
    f.flag(
        &format!("{side}_trail_ws"),
        u64::from(inner.ends_with(char::is_whitespace)),
    );
    f.flag(&format!("{side}_double"), u64::from(inner.contains("  ")));
    f.flag(
        &format!("{side}_break"),
        u64::from(inner.contains(['\n', '\r', '\t'])),
    );
}

const GREETINGS: &[&str] = &[
    "hi", "hello", "dear", "hey", "good", "hallo", "bonjour", "hola",
];
const SIGN_OFFS: &[&str] = &["thanks", "thank", "regards", "best", "cheers", "sincerely"];

/// The hashed surface features of a pair's two texts (see the module doc): what the surface
/// classifier reads, and the `surface` pair baseline of the comparison
/// ([`crate::core::eval::baselines::surface`]).
pub fn surface_features(a: &str, b: &str) -> Vec<u32> {
    let mut f = Features::default();
    surface_of(&mut f, a.trim(), b.trim());
    f.0
}

/// The text's own surface (see the module doc).
fn surface_of(f: &mut Features, a: &str, b: &str) {
    for (side, text) in [("a", a), ("b", b)] {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
        f.word(
            &format!("{side}_first"),
            words.first().map_or("", String::as_str),
        );
        f.word(
            &format!("{side}_last"),
            words.last().map_or("", String::as_str),
        );
        f.bin_log(&format!("{side}_words"), words.len());
        let last = text.trim_end().chars().last().unwrap_or(' ');
        f.word(
            &format!("{side}_ends"),
            match last {
                '.' | '。' => ".",
                '?' | '？' => "?",
                '!' | '！' => "!",
                c if c.is_alphanumeric() => "word",
                _ => "other",
            },
        );
        let first = text.chars().next().unwrap_or(' ');
        f.flag(&format!("{side}_upper"), u64::from(first.is_uppercase()));
        f.word(&format!("{side}_script"), script(first));
        let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        f.flag(
            &format!("{side}_greeting"),
            u64::from(
                words
                    .first()
                    .is_some_and(|w| GREETINGS.contains(&w.as_str())),
            ),
        );
        f.flag(&format!("{side}_signoff"), u64::from(has(SIGN_OFFS)));
        f.flag(
            &format!("{side}_question"),
            u64::from(text.contains(['?', '？'])),
        );
        f.flag(
            &format!("{side}_digit"),
            u64::from(text.chars().any(|c| c.is_ascii_digit())),
        );
        f.flag(&format!("{side}_we"), u64::from(has(&["we", "our", "us"])));
        f.flag(&format!("{side}_i"), u64::from(has(&["i", "my", "me"])));
        f.flag(&format!("{side}_you"), u64::from(has(&["you", "your"])));
    }
    let (la, lb) = (a.split_whitespace().count(), b.split_whitespace().count());
    f.word(
        "longer",
        match la.cmp(&lb) {
            std::cmp::Ordering::Less => "b",
            std::cmp::Ordering::Equal => "same",
            std::cmp::Ordering::Greater => "a",
        },
    );
}

fn script(c: char) -> &'static str {
    match c as u32 {
        0x0000..=0x024F => "latin",
        0x0370..=0x03FF => "greek",
        0x0400..=0x04FF => "cyrillic",
        0x0590..=0x05FF => "hebrew",
        0x0600..=0x06FF => "arabic",
        0x0900..=0x097F => "devanagari",
        0x3040..=0x30FF => "kana",
        0x4E00..=0x9FFF => "han",
        0xAC00..=0xD7AF => "hangul",
        _ => "other",
    }
}

/// Hashed indicator features.
#[derive(Default)]
struct Features(Vec<u32>);

impl Features {
    fn hash(name: &str) -> u32 {
        // FNV-1a: stable across platforms and runs.
        let mut h: u32 = 0x811C_9DC5;
        for b in name.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        h % DIMS as u32
    }

    fn word(&mut self, key: &str, value: &str) {
        self.0.push(Self::hash(&format!("{key}={value}")));
    }

    fn flag(&mut self, key: &str, value: u64) {
        self.0.push(Self::hash(&format!("{key}={value}")));
    }

    /// A count in one of eight equal bins of `0..=max`.
    fn bin(&mut self, key: &str, value: usize, max: usize) {
        let bin = (value * 8 / max.max(1)).min(8);
        self.0.push(Self::hash(&format!("{key}#{bin}")));
    }

    /// A count in a log₂ bin.
    fn bin_log(&mut self, key: &str, value: usize) {
        let bin = usize::BITS - value.leading_zeros();
        self.0.push(Self::hash(&format!("{key}~{bin}")));
    }
}

/// Fits the two classifiers on `fit` and scores them on `held`.
async fn score(
    split: &str,
    set: &str,
    fit: &[Item],
    held: &[Item],
    mismatches: Option<usize>,
    cp: &mut impl Checkpoint,
) -> AuditLine {
    let mut accuracy = async |features: fn(&Item) -> &[u32]| {
        let model =
            LogisticRegression::fit_cooperatively(fit.iter().map(|i| (features(i), i.label)), cp)
                .await;
        model.accuracy(held.iter().map(|i| (features(i), i.label)))
    };
    let artifact = accuracy(|i| &i.artifact).await;
    let surface = accuracy(|i| &i.surface).await;
    AuditLine {
        split: split.to_string(),
        set: set.to_string(),
        artifact,
        surface,
        fitted: fit.len(),
        held_out: held.len(),
        length_mismatches: mismatches,
    }
}

/// Logistic regression on binary indicator features, L2-regularised, fitted by full-batch
/// Adam from zero weights (deterministic).
pub struct LogisticRegression {
    weights: Vec<f64>,
    bias: f64,
}

impl LogisticRegression {
    const EPOCHS: usize = 300;
    const RATE: f64 = 0.05;
    const L2: f64 = 1e-3;

    /// Fits on `(active feature indices, label)` items.
    pub fn fit<'a>(items: impl Iterator<Item = (&'a [u32], u8)>) -> Self {
        run_ready(Self::fit_cooperatively(items, &mut NoYield))
    }

    /// [`Self::fit`], awaiting `cp` after every epoch. Same result.
    pub async fn fit_cooperatively<'a>(
        items: impl Iterator<Item = (&'a [u32], u8)>,
        cp: &mut impl Checkpoint,
    ) -> Self {
        let items: Vec<(&[u32], f64)> = items.map(|(f, l)| (f, f64::from(l))).collect();
        let n = items.len().max(1) as f64;
        let mut weights = vec![0.0; DIMS];
        let mut bias = 0.0;
        let (mut m, mut v) = (vec![0.0; DIMS + 1], vec![0.0; DIMS + 1]);
        let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
        for epoch in 1..=Self::EPOCHS {
            let mut grad = vec![0.0; DIMS + 1];
            for (features, label) in &items {
                let z = bias + features.iter().map(|&i| weights[i as usize]).sum::<f64>();
                let err = sigmoid(z) - label;
                for &i in features.iter() {
                    grad[i as usize] += err;
                }
                grad[DIMS] += err;
            }
            for (i, g) in grad.iter_mut().enumerate() {
                *g /= n;
                if i < DIMS {
                    *g += Self::L2 * weights[i];
                }
            }
            let (c1, c2) = (1.0 - b1.powi(epoch as i32), 1.0 - b2.powi(epoch as i32));
            for i in 0..=DIMS {
                m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
                v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
                let step = Self::RATE * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
                if i < DIMS {
                    weights[i] -= step;
                } else {
                    bias -= step;
                }
            }
            cp.checkpoint().await;
        }
        Self { weights, bias }
    }

    /// Probability of label 1.
    pub fn predict(&self, features: &[u32]) -> f64 {
        sigmoid(
            self.bias
                + features
                    .iter()
                    .map(|&i| self.weights.get(i as usize).copied().unwrap_or(0.0))
                    .sum::<f64>(),
        )
    }

    /// Share of items whose label the classifier gets right (threshold ½).
    pub fn accuracy<'a>(&self, items: impl Iterator<Item = (&'a [u32], u8)>) -> f64 {
        let (mut right, mut total) = (0usize, 0usize);
        for (features, label) in items {
            right += usize::from((self.predict(features) >= 0.5) == (label == 1));
            total += 1;
        }
        if total == 0 {
            0.5
        } else {
            right as f64 / total as f64
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_learns_a_separable_feature_and_stays_at_chance_on_noise() {
        let mut rng = Rng::new(3);
        let make = |rng: &mut Rng, n: usize, signal: bool| -> Vec<(Vec<u32>, u8)> {
            (0..n)
                .map(|k| {
                    let label = (k % 2) as u8;
                    let mut f = vec![rng.below(50) as u32 + 100, rng.below(50) as u32 + 200];
                    if signal {
                        f.push(u32::from(label));
                    }
                    (f, label)
                })
                .collect()
        };
        let fit = make(&mut rng, 2000, true);
        let held = make(&mut rng, 1000, true);
        let model = LogisticRegression::fit(fit.iter().map(|(f, l)| (f.as_slice(), *l)));
        assert_eq!(
            model.accuracy(held.iter().map(|(f, l)| (f.as_slice(), *l))),
            1.0
        );
        let fit = make(&mut rng, 2000, false);
        let held = make(&mut rng, 1000, false);
        let model = LogisticRegression::fit(fit.iter().map(|(f, l)| (f.as_slice(), *l)));
        let acc = model.accuracy(held.iter().map(|(f, l)| (f.as_slice(), *l)));
        assert!((0.45..=0.55).contains(&acc), "noise: {acc}");
    }
}

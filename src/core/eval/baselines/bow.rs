//! The bag-of-words pair baseline: a TF-IDF vectorizer over lowercase words and a linear
//! probe on pair features built from it (see the parent module).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::core::corpus::{Corpus, EvalPair, Split};
use crate::core::eval::probe::{DenseLogistic, EvalError, ProbeScore};
use crate::core::exec::{Checkpoint, NoYield, run_ready};

/// Terms a vectorizer keeps by default: the most frequent of its fitting texts. The training
/// split of the support-desk corpus (seed 1) has 5,571 distinct words; the 2,000 kept reach
/// down to words seen twice (1,061 occur more than five times), and what is left out is mostly
/// names and order numbers. Both feature maps are twice this wide, and a probe on 1,000 pairs
/// still fits in 0.05–0.1 s in the test build, so a smaller vocabulary would gain nothing.
pub const MAX_TERMS: usize = 2_000;

/// L2 strength of the pair probe, on standardised features and the mean log-loss.
pub const PAIR_L2: f64 = 1e-2;

/// Lowercase words of `text`: runs of letters and digits, split at everything else.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// TF-IDF over a fixed vocabulary: raw term counts times the smoothed idf
/// ln((1 + N) / (1 + df)) + 1 of the fitting texts, L2-normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct BowVectorizer {
    /// Terms in feature order: most frequent first, ties in alphabetical order.
    terms: Vec<String>,
    index: HashMap<String, usize>,
    idf: Vec<f64>,
}

impl BowVectorizer {
    /// Fits on `texts`, keeping the `max_terms` terms with the most occurrences.
    pub fn fit<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        max_terms: usize,
    ) -> Result<Self, EvalError> {
        // term → (occurrences, texts containing it)
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        let mut n = 0usize;
        let mut seen = Vec::new();
        for text in texts {
            n += 1;
            seen.clear();
            for word in words(text) {
                seen.push(word);
            }
            seen.sort_unstable();
            for group in seen.chunk_by(|a, b| a == b) {
                let entry = counts.entry(group[0].clone()).or_default();
                entry.0 += group.len();
                entry.1 += 1;
            }
        }
        if counts.is_empty() {
            return Err(EvalError::Corpus(
                "the texts to fit a bag of words on hold no words".to_string(),
            ));
        }
        let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
        ranked.sort_unstable_by(|(a, (ca, _)), (b, (cb, _))| cb.cmp(ca).then_with(|| a.cmp(b)));
        ranked.truncate(max_terms.max(1));
        let idf = ranked
            .iter()
            .map(|(_, (_, df))| ((1.0 + n as f64) / (1.0 + *df as f64)).ln() + 1.0)
            .collect();
        let terms: Vec<String> = ranked.into_iter().map(|(t, _)| t).collect();
        let index = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        Ok(Self { terms, index, idf })
    }

    /// Fits on every part of every document of `split` (a ticket and its resolution are two
    /// texts, as they are two sides of a pair).
    pub fn for_split(corpus: &Corpus, split: Split, max_terms: usize) -> Result<Self, EvalError> {
        let texts: Vec<String> = corpus
            .split(split)
            .flat_map(|d| d.parts.iter().map(|p| p.text()))
            .collect();
        Self::fit(texts.iter().map(String::as_str), max_terms)
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    pub fn dims(&self) -> usize {
        self.terms.len()
    }

    /// The TF-IDF vector of `text` as (feature, weight) sorted by feature; empty when no word
    /// of it is in the vocabulary.
    pub fn sparse(&self, text: &str) -> Vec<(usize, f64)> {
        let mut ids: Vec<usize> = words(text)
            .filter_map(|w| self.index.get(&w).copied())
            .collect();
        ids.sort_unstable();
        let mut vector: Vec<(usize, f64)> = ids
            .chunk_by(|a, b| a == b)
            .map(|g| (g[0], g.len() as f64 * self.idf[g[0]]))
            .collect();
        let norm = vector.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        vector
    }

    /// [`Self::sparse`] written out over all [`Self::dims`] features.
    pub fn dense(&self, text: &str) -> Vec<f64> {
        let mut vector = vec![0.0; self.dims()];
        for (j, w) in self.sparse(text) {
            vector[j] = w;
        }
        vector
    }
}

/// How a pair's two vectors become one feature row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairFeatures {
    /// |A − B| followed by A ⊙ B: the same row for (A, B) and (B, A).
    Bow,
    /// A followed by B: which words stand first can count.
    BowOrdered,
}

impl PairFeatures {
    pub const ALL: [PairFeatures; 2] = [PairFeatures::Bow, PairFeatures::BowOrdered];

    pub fn name(self) -> &'static str {
        match self {
            PairFeatures::Bow => "bow",
            PairFeatures::BowOrdered => "bow-ordered",
        }
    }

    /// The row for vectors `a` and `b` of one length (2 × that length).
    pub fn row(self, a: &[f64], b: &[f64]) -> Vec<f64> {
        match self {
            PairFeatures::Bow => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .chain(a.iter().zip(b).map(|(x, y)| x * y))
                .collect(),
            PairFeatures::BowOrdered => a.iter().chain(b).copied().collect(),
        }
    }

    /// The row of `pair` under `vectorizer`.
    pub fn pair_row(self, vectorizer: &BowVectorizer, pair: &EvalPair) -> Vec<f64> {
        self.row(&vectorizer.dense(&pair.a), &vectorizer.dense(&pair.b))
    }
}

/// One bag-of-words line: a feature map and how its probe scored the held-out pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairBaseline {
    pub features: PairFeatures,
    pub score: ProbeScore,
}

/// Fits a probe on the rows of `fit` and scores it on `held` (label 1 when its probability
/// is at least ½), for each feature map.
pub fn pair_baselines(
    vectorizer: &BowVectorizer,
    fit: &[EvalPair],
    held: &[EvalPair],
) -> Result<Vec<PairBaseline>, EvalError> {
    run_ready(pair_baselines_cooperatively(
        vectorizer,
        fit,
        held,
        &mut NoYield,
    ))
}

/// [`pair_baselines`], awaiting `cp` after every iteration of each fit. Same result.
pub async fn pair_baselines_cooperatively(
    vectorizer: &BowVectorizer,
    fit: &[EvalPair],
    held: &[EvalPair],
    cp: &mut impl Checkpoint,
) -> Result<Vec<PairBaseline>, EvalError> {
    let labels = |pairs: &[EvalPair]| pairs.iter().map(|p| p.label).collect::<Vec<u8>>();
    let (fit_labels, held_labels) = (labels(fit), labels(held));
    let mut out = Vec::with_capacity(PairFeatures::ALL.len());
    for features in PairFeatures::ALL {
        let rows: Vec<Vec<f64>> = fit
            .iter()
            .map(|p| features.pair_row(vectorizer, p))
            .collect();
        let model = DenseLogistic::fit_cooperatively(&rows, &fit_labels, PAIR_L2, cp).await?;
        drop(rows);
        let scores: Vec<f64> = held
            .iter()
            .map(|p| model.predict_proba(&features.pair_row(vectorizer, p)))
            .collect();
        let score = ProbeScore::from_scores(&scores, &held_labels, 0.5).ok_or_else(|| {
            EvalError::Unscorable {
                what: format!("the {} baseline", features.name()),
            }
        })?;
        out.push(PairBaseline { features, score });
    }
    Ok(out)
}

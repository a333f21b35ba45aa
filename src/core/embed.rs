//! What the embeddable widgets of `pkg/` draw, as plain data and SVG, so a lecturer's own
//! slide page shows the same pictures as the lab (`src/bin/widget.rs` is the thin JavaScript
//! face; README "Embedding a widget in your slides" shows its use).
//!
//! - [`mask_figures`]: the attention masks of one example of a mix before training: the
//!   support-desk corpus (seeded), its tokenizer, a fresh batcher and an untrained network of
//!   the mix's plan, exactly as the lab's preview ([`crate::core::viz::preview`]) draws them,
//!   so a cell is the mask the model applied, never one rebuilt for the picture.
//! - [`scatter_figure`]: the comparison scatter (generation quality against pair accuracy) of
//!   a results file the panel exported, or of a run's `run.json`, with the panel's pooling and
//!   flags ([`crate::core::compare`]).
//!
//! Options arrive from JavaScript as objects; unknown keys and out-of-range values are errors
//! that name the key, so a typo in a slide is found at once rather than silently defaulted.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::backend::Backend;
use super::compare::file::import;
use super::compare::scatter::{self, GenAxis, PairAxis, Scatter, ScatterSpec};
use super::config::{ModelSize, RunConfig};
use super::corpus::{CorpusInput, PairKind};
use super::data::Dataset;
use super::error::CoreError;
use super::exec::Checkpoint;
use super::mix::ObjectiveMix;
use super::plan::plan;
use super::viz::preview::preview;
use super::viz::svg::matrix_svg;

/// Highest example index a widget draws (each step past a batch draws one more batch).
pub const MAX_EXAMPLE: usize = 1000;
/// Widths a matrix may be fitted to, in CSS pixels.
pub const MIN_WIDTH: f32 = 160.0;
pub const MAX_WIDTH: f32 = 4000.0;

/// What the mask widget draws. Every field has a default, so `{}` draws BERT's masked LM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct MaskOptions {
    /// An objective, a preset or a mix (`span`, `bart`, `mlm+sop@0.5`).
    pub mix: String,
    /// The seed of masking and initialisation (`--seed`).
    pub seed: u64,
    /// The corpus seed (`--corpus-seed`).
    pub corpus_seed: u64,
    /// `fast` (sequences of 32 tokens) or `default` (64).
    pub size: ModelSize,
    /// Which example of the mix's training stream (0 is the first).
    pub example: usize,
    /// Width each matrix is fitted to, in CSS pixels.
    pub width: f32,
    /// Projector type: labels of at least 18 px, larger cells.
    pub projector: bool,
}

impl Default for MaskOptions {
    fn default() -> Self {
        Self {
            mix: "mlm".into(),
            seed: 1,
            corpus_seed: 1,
            size: ModelSize::Fast,
            example: 0,
            width: 430.0,
            projector: false,
        }
    }
}

impl MaskOptions {
    fn check(&self) -> Result<(), CoreError> {
        if self.example > MAX_EXAMPLE {
            return Err(CoreError::Config(format!(
                "example is {}; the widget draws examples 0 to {MAX_EXAMPLE}",
                self.example
            )));
        }
        if !(MIN_WIDTH..=MAX_WIDTH).contains(&self.width) {
            return Err(CoreError::Config(format!(
                "width is {}; give a width from {MIN_WIDTH} to {MAX_WIDTH} pixels",
                self.width
            )));
        }
        Ok(())
    }
}

/// One matrix, ready to put on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskFigure {
    /// The batch kind it belongs to (`causal LM`, `sentence order`…).
    pub kind: String,
    /// The attention it shows (`encoder self-attention`…).
    pub title: String,
    pub rows: usize,
    pub cols: usize,
    pub blocked_cells: usize,
    /// The matrix as a standalone SVG document.
    pub svg: String,
}

/// A mix's mask matrices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskFigures {
    /// The mix, written canonically; a preset is named beside it (`bert (mlm+nsp)`).
    pub mix: String,
    /// How its plan trains it, in one line.
    pub how: String,
    pub figures: Vec<MaskFigure>,
}

/// Draws the mask matrices of `options.example` of `options.mix`, awaiting `cp` while the
/// corpus and tokenizer are built (the widget runs on a slide page's main thread). `id` makes
/// the SVG pattern ids unique in that page.
pub async fn mask_figures(
    options: &MaskOptions,
    backend: &Backend,
    id: &str,
    cp: &mut impl Checkpoint,
) -> Result<MaskFigures, CoreError> {
    options.check()?;
    let (mix, preset) = ObjectiveMix::parse(&options.mix)?;
    let plan = plan(&mix)?;
    let corpus = CorpusInput::Support
        .build_cooperatively(options.corpus_seed, mix.corpus_needs(), cp)
        .await?;
    cp.checkpoint().await;
    let model = options.size.model();
    let dataset = Dataset::new_cooperatively(Arc::new(corpus), model.vocab_size, cp).await?;
    cp.checkpoint().await;
    let mut config = RunConfig::for_plan(options.size, &plan);
    config.seed = options.seed;
    config.corpus_seed = options.corpus_seed;
    let drawn = preview(&dataset, &config, &mix, options.example, backend).await?;
    let mut figures = Vec::new();
    for (p, panel) in drawn.panels.iter().enumerate() {
        for (k, m) in panel.matrices.iter().enumerate() {
            figures.push(MaskFigure {
                kind: panel.kind.title(),
                title: m.title.clone(),
                rows: m.rows,
                cols: m.cols,
                blocked_cells: m.blocked_cells,
                svg: matrix_svg(
                    m,
                    options.width,
                    options.projector,
                    &format!("{id}-{p}-{k}"),
                ),
            });
        }
    }
    let mix = match preset {
        Some(name) => format!("{name} ({})", drawn.mix),
        None => drawn.mix,
    };
    Ok(MaskFigures {
        mix,
        how: drawn.how,
        figures,
    })
}

/// What the scatter widget plots. Every field has a default: compliance against the probe's
/// accuracy on hard negatives, as the panel opens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ScatterOptions {
    /// `compliance` or `perplexity`.
    pub generation: GenAxis,
    /// `probe` or `zero_shot`.
    pub pair: PairAxis,
    /// The negative kind: `random`, `hard` or `swapped`.
    pub negatives: PairKind,
}

impl Default for ScatterOptions {
    fn default() -> Self {
        let spec = ScatterSpec::default();
        Self {
            generation: spec.generation,
            pair: spec.pair,
            negatives: spec.kind,
        }
    }
}

/// The scatter of the runs in `bytes` (a results file the panel exported, or a `run.json`;
/// `name` is how errors call it), pooled and flagged as the panel does.
pub fn scatter_figure(
    name: &str,
    bytes: &[u8],
    options: ScatterOptions,
) -> Result<Scatter, CoreError> {
    let runs = import(name, bytes)?;
    Ok(scatter::build(
        &runs,
        ScatterSpec {
            generation: options.generation,
            pair: options.pair,
            kind: options.negatives,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::compare::file::ResultsFile;
    use crate::core::compare::test_support::run;
    use crate::core::exec::{NoYield, run_ready};
    use crate::core::viz::Stream;

    fn options(json: &str) -> Result<MaskOptions, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn span_corruption_draws_encoder_decoder_and_cross_attention() {
        let options = options(r#"{"mix":"t5","seed":3}"#).expect("options");
        let drawn =
            run_ready(mask_figures(&options, &Backend::cpu(), "w", &mut NoYield)).expect("figures");
        assert_eq!(drawn.mix, "t5 (span)");
        let titles: Vec<&str> = drawn.figures.iter().map(|f| f.title.as_str()).collect();
        for stream in [Stream::EncoderSelf, Stream::DecoderSelf, Stream::Cross] {
            assert!(titles.contains(&stream.title()), "{titles:?}");
        }
        // The decoder is causal: over half its cells blocked; the encoder (no padding in the
        // first example) blocks a padded tail at most.
        let decoder = drawn
            .figures
            .iter()
            .find(|f| f.title == Stream::DecoderSelf.title())
            .expect("decoder");
        assert!(decoder.blocked_cells * 2 >= decoder.rows * decoder.cols - decoder.rows);
        for f in &drawn.figures {
            assert!(
                f.svg
                    .contains(&format!("data-blocked=\"{}\"", f.blocked_cells))
            );
        }
    }

    #[test]
    fn the_same_options_draw_the_same_picture_and_the_seed_changes_it() {
        let draw = |json: &str| {
            run_ready(mask_figures(
                &options(json).expect("options"),
                &Backend::cpu(),
                "w",
                &mut NoYield,
            ))
            .expect("figures")
        };
        let a = draw(r#"{"mix":"plm","seed":1}"#);
        assert_eq!(a, draw(r#"{"mix":"plm","seed":1}"#));
        assert_ne!(a, draw(r#"{"mix":"plm","seed":2}"#));
        let streams: Vec<&str> = a.figures.iter().map(|f| f.title.as_str()).collect();
        assert!(streams.contains(&Stream::Query.title()), "{streams:?}");
    }

    #[test]
    fn bad_options_are_named() {
        let e = options(r#"{"mixx":"gpt"}"#).expect_err("unknown key");
        assert!(e.to_string().contains("mixx"), "{e}");
        let e = options(r#"{"size":"huge"}"#).expect_err("unknown size");
        assert!(e.to_string().contains("huge"), "{e}");
        let run = |json: &str| {
            run_ready(mask_figures(
                &options(json).expect("options"),
                &Backend::cpu(),
                "w",
                &mut NoYield,
            ))
            .expect_err("refused")
            .to_string()
        };
        assert!(run(r#"{"mix":"gtp"}"#).contains("gtp"));
        assert!(run(r#"{"example":5000}"#).contains("example"));
        assert!(run(r#"{"width":10}"#).contains("width"));
    }

    #[test]
    fn the_scatter_of_an_exported_file_has_one_point_per_mix() {
        let file = ResultsFile::new(vec![
            run("gpt", 1, 0.4, 0.6),
            run("gpt", 2, 0.5, 0.62),
            run("bert", 1, 0.0, 0.7),
        ])
        .to_json()
        .expect("json");
        let options: ScatterOptions =
            serde_json::from_str(r#"{"negatives":"random"}"#).expect("options");
        let drawn = scatter_figure("class.json", file.as_bytes(), options).expect("scatter");
        assert_eq!(drawn.points.len(), 2);
        assert!(drawn.svg.starts_with("<svg"));
        let gpt = drawn
            .points
            .iter()
            .find(|p| p.mix.starts_with("gpt"))
            .expect("gpt");
        assert_eq!(gpt.n, 2);
        let e =
            scatter_figure("notes.txt", b"hello", ScatterOptions::default()).expect_err("not json");
        assert!(e.to_string().contains("notes.txt"), "{e}");
        let e = serde_json::from_str::<ScatterOptions>(r#"{"negatives":"easy"}"#)
            .expect_err("unknown kind");
        assert!(e.to_string().contains("easy"), "{e}");
    }
}

//! The corruption strip as HTML chips: the original text, what the model (or encoder) reads and
//! what the decoder writes, each token in its [`token_swatch`] colour and pattern, drawn at the
//! animation's frame (a token takes its corrupted look at its `corrupt_frame` and shows its
//! prediction from its `predict_frame`; [`crate::core::viz::strip`]). The keys a hovered matrix
//! row may read are outlined here too, so "token i may attend to …" is seen on the text.

use std::sync::Arc;

use leptos::prelude::*;

use crate::core::viz::Stream;
use crate::core::viz::palette::{self, Pattern, token_swatch};
use crate::core::viz::preview::Panel;
use crate::core::viz::strip::{StripToken, TokenState};
use crate::protocol::PreviewSlot;

use super::VizView;

/// Which row of the strip a chip sits on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Original,
    Seen,
    Written,
}

impl Line {
    fn name(self) -> &'static str {
        match self {
            Line::Original => "original",
            Line::Seen => "seen",
            Line::Written => "written",
        }
    }
}

/// The CSS for a swatch: its fill, its text colour and its pattern.
pub(super) fn swatch_style(state: TokenState) -> String {
    let s = token_swatch(state);
    let fill = match s.pattern {
        Pattern::Hatched => format!(
            "background: repeating-linear-gradient(45deg, {text} 0 2px, {fill} 2px 7px);",
            text = s.text,
            fill = s.fill
        ),
        _ => format!("background: {};", s.fill),
    };
    format!("{fill} color: {};", s.text)
}

/// The positions of `line` the hovered row reads (keys) and the row itself (query).
fn highlighted(
    panel: &Panel,
    hover: Option<super::Hover>,
    slot: PreviewSlot,
    index: usize,
) -> (Vec<usize>, Vec<usize>, Option<(Line, usize)>) {
    let Some(h) = hover.filter(|h| h.slot == slot && h.panel == index) else {
        return (Vec::new(), Vec::new(), None);
    };
    let Some(m) = panel.matrices.get(h.matrix) else {
        return (Vec::new(), Vec::new(), None);
    };
    let reads = m.row_reads(h.row);
    let (key_line, query_line) = match m.stream {
        Stream::DecoderSelf => (Line::Written, Line::Written),
        Stream::Cross => (Line::Seen, Line::Written),
        _ => (Line::Seen, Line::Seen),
    };
    match key_line {
        Line::Written => (Vec::new(), reads, Some((query_line, h.row))),
        _ => (reads, Vec::new(), Some((query_line, h.row))),
    }
}

#[component]
pub fn StripView(which: PreviewSlot, panel_index: usize, panel: Arc<Panel>) -> impl IntoView {
    let viz = expect_context::<VizView>();
    let slot = which;
    let strip = panel.strip.clone();
    let frames = strip.frames.len().max(1);
    let frame = move || viz.frame.get().min(frames - 1);
    let caption = {
        let strip = strip.clone();
        move || {
            let f = frame();
            strip
                .frames
                .get(f)
                .map(|fr| format!("Step {} of {frames}: {}", f + 1, fr.caption))
                .unwrap_or_default()
        }
    };
    let encoder_decoder = !strip.written.is_empty();
    let seen_title = if encoder_decoder {
        "the encoder reads"
    } else {
        "the model sees"
    };
    let line = move |tokens: Vec<StripToken>,
                     which: Line,
                     panel: Arc<Panel>,
                     original: Arc<Vec<StripToken>>| {
        move || {
            let f = frame();
            let (seen_hl, written_hl, query) =
                highlighted(&panel, viz.hover.get(), slot, panel_index);
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let lit = match which {
                        Line::Seen => seen_hl.contains(&i),
                        Line::Written => written_hl.contains(&i),
                        Line::Original => false,
                    };
                    let is_query = query == Some((which, i));
                    chip(t, which, f, &original, lit, is_query)
                })
                .collect_view()
        }
    };
    let original = Arc::new(strip.original.clone());
    let pair = strip.pair.clone().map(|p| {
        let verdict = p.verdict.clone();
        let shown = p.predict_frame;
        view! {
            <p class="viz-pair" data-testid="viz-pair">
                <span class="seg seg-a">"segment A"</span>" "<span class="seg seg-b">"segment B"</span>
                {move || (frame() >= shown).then(|| format!(" — the pair head answers at [CLS]: {} ({})", verdict, p.task.name().to_uppercase()))}
            </p>
        }
    });
    let written = (!strip.written.is_empty()).then(|| {
        view! {
            <div class="strip-line"><span class="strip-label">"the decoder writes"</span>
                <div class="chips">{line(strip.written.clone(), Line::Written, panel.clone(), original.clone())}</div></div>
        }
    });
    let legend: Vec<TokenState> = palette::TOKEN_STATES
        .iter()
        .copied()
        .filter(|s| {
            strip
                .original
                .iter()
                .chain(&strip.seen)
                .chain(&strip.written)
                .any(|t| t.state == *s)
        })
        .collect();
    view! {
        <div class="viz-strip" data-testid="viz-strip">
            <p class="viz-frame" data-testid="viz-frame" data-frame=move || frame().to_string()>{caption}</p>
            <div class="strip-line"><span class="strip-label">"original text"</span>
                <div class="chips">{line(strip.original.clone(), Line::Original, panel.clone(), original.clone())}</div></div>
            <div class="strip-line"><span class="strip-label">{seen_title}</span>
                <div class="chips">{line(strip.seen.clone(), Line::Seen, panel.clone(), original.clone())}</div></div>
            {written}
            {pair}
            <p class="viz-count">
                <strong data-testid="viz-supervised">{strip.supervised}</strong>
                " positions of this sequence are scored by the loss (outlined in vermillion)"
                {(strip.padding > 0).then(|| format!("; {} padding positions not shown", strip.padding))}
            </p>
            <ul class="viz-legend" aria-label="Token legend">
                {legend.into_iter().map(|s| view! {
                    <li><span class="chip-swatch" style=swatch_style(s)></span>{token_swatch(s).name}</li>
                }).collect_view()}
            </ul>
        </div>
    }
}

/// One token chip at frame `frame`.
fn chip(
    t: &StripToken,
    line: Line,
    frame: usize,
    original: &[StripToken],
    lit: bool,
    is_query: bool,
) -> impl IntoView + use<> {
    let corrupted = t.corrupt_frame.is_none_or(|f| f <= frame);
    let (state, text) = if corrupted || line == Line::Original && t.corrupt_frame.is_none() {
        (t.state, t.text.clone())
    } else {
        // Before its corruption a token looks like the text it stands for.
        let was: Vec<&str> = t
            .source
            .iter()
            .filter_map(|&p| original.get(p))
            .map(|o| o.text.as_str())
            .collect();
        let text = if was.is_empty() {
            t.text.clone()
        } else {
            was.join("")
        };
        let state = if t.state == TokenState::Special {
            t.state
        } else {
            TokenState::Text
        };
        (state, text)
    };
    let predicted = t.predict_frame.is_some_and(|f| f <= frame);
    let target = predicted
        .then(|| t.target.as_ref().map(|l| l.text.clone()))
        .flatten();
    let order = t.prediction_order.filter(|_| corrupted);
    let segment = t.segment.map(|s| if s == 0 { "seg-a" } else { "seg-b" });
    let mut class = String::from("chip");
    if t.supervised && corrupted {
        class.push_str(" supervised");
    }
    if let Some(s) = segment {
        class.push(' ');
        class.push_str(s);
    }
    if lit {
        class.push_str(" lit");
    }
    if is_query {
        class.push_str(" query");
    }
    view! {
        <span class=class style=swatch_style(state) data-testid="viz-token" data-line=line.name()
            data-state=format!("{state:?}") data-supervised=t.supervised.to_string()
            title=token_swatch(state).name>
            {order.map(|o| view! { <sup class="order">{o}</sup> })}
            {text}
            {target.map(|x| view! { <span class="target">{format!("→ {x}")}</span> })}
        </span>
    }
}

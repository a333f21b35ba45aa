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
use crate::core::viz::strip::{StripLine, StripPicture, StripToken, TokenState};
use crate::protocol::PreviewSlot;

use super::VizView;
use super::export::{download_png_text, download_svg_text};
use crate::core::viz::svg::escape;

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
) -> (Vec<usize>, Vec<usize>, Option<(StripLine, usize)>) {
    let Some(h) = hover.filter(|h| h.slot == slot && h.panel == index) else {
        return (Vec::new(), Vec::new(), None);
    };
    let Some(m) = panel.matrices.get(h.matrix) else {
        return (Vec::new(), Vec::new(), None);
    };
    let reads = m.row_reads(h.row);
    let (key_line, query_line) = match m.stream {
        Stream::DecoderSelf => (StripLine::Written, StripLine::Written),
        Stream::Cross => (StripLine::Seen, StripLine::Written),
        _ => (StripLine::Seen, StripLine::Seen),
    };
    match key_line {
        StripLine::Written => (Vec::new(), reads, Some((query_line, h.row))),
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
        move || strip.caption(frame())
    };
    let encoder_decoder = strip.encoder_decoder();
    let line = move |tokens: Vec<StripToken>,
                     which: StripLine,
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
                        StripLine::Seen => seen_hl.contains(&i),
                        StripLine::Written => written_hl.contains(&i),
                        StripLine::Original => false,
                    };
                    let is_query = query == Some((which, i));
                    chip(t, which, f, &original, lit, is_query)
                })
                .collect_view()
        }
    };
    let original = Arc::new(strip.original.clone());
    // The strip at the frame shown, laid out for a slide (wider in the projector view).
    let picture = {
        let strip = strip.clone();
        move || {
            let projector = viz.projector.get_untracked();
            let frame = viz.frame.get_untracked();
            StripPicture::new(
                &strip,
                frame,
                if projector { 1200.0 } else { 900.0 },
                projector,
            )
        }
    };
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
    let written = encoder_decoder.then(|| {
        view! {
            <div class="strip-line"><span class="strip-label">{StripLine::Written.title(true)}</span>
                <div class="chips">{line(strip.written.clone(), StripLine::Written, panel.clone(), original.clone())}</div></div>
        }
    });
    let legend = strip.legend_states();
    view! {
        <div class="viz-strip" data-testid="viz-strip">
            <p class="viz-frame" data-testid="viz-frame" data-frame=move || frame().to_string()>{caption}</p>
            <div class="strip-line"><span class="strip-label">{StripLine::Original.title(encoder_decoder)}</span>
                <div class="chips">{line(strip.original.clone(), StripLine::Original, panel.clone(), original.clone())}</div></div>
            <div class="strip-line"><span class="strip-label">{StripLine::Seen.title(encoder_decoder)}</span>
                <div class="chips">{line(strip.seen.clone(), StripLine::Seen, panel.clone(), original.clone())}</div></div>
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
            <span class="downloads">
                <button class="small" data-testid="viz-download-strip-svg" on:click={
                    let picture = picture.clone();
                    move |_| download_svg_text(&strip_svg(&picture()), "strip")
                }>"⤓ SVG"</button>
                <button class="small" data-testid="viz-download-strip-png" on:click=move |_| {
                    let pic = picture();
                    download_png_text(&strip_svg(&pic), pic.width.into(), pic.height.into(), "strip");
                }>"⤓ PNG"</button>
            </span>
        </div>
    }
}

/// One token chip at frame `frame` (its look is the core's [`StripToken::look`]).
fn chip(
    t: &StripToken,
    line: StripLine,
    frame: usize,
    original: &[StripToken],
    lit: bool,
    is_query: bool,
) -> impl IntoView + use<> {
    let look = t.look(line, frame, original);
    let state = look.state;
    let segment = look.segment.map(|s| if s == 0 { "seg-a" } else { "seg-b" });
    let mut class = String::from("chip");
    if look.supervised {
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
            {look.order.map(|o| view! { <sup class="order">{o}</sup> })}
            {look.text}
            {look.target.map(|x| view! { <span class="target">{format!("→ {x}")}</span> })}
        </span>
    }
}

/// The strip at `frame` as a standalone SVG file (what "⤓ SVG" saves; the PNG is drawn from it).
pub(super) fn strip_svg(pic: &StripPicture) -> String {
    use std::fmt::Write;
    let px = pic.text_px;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"ui-monospace, Menlo, Consolas, monospace\" font-size=\"{px}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>",
        w = pic.width,
        h = pic.height,
    );
    // A hatch pattern for every hatched state, in that state's colours.
    s.push_str("<defs>");
    for &state in palette::TOKEN_STATES.iter() {
        let sw = token_swatch(state);
        if sw.pattern == Pattern::Hatched {
            let _ = write!(
                s,
                "<pattern id=\"strip-{state:?}\" patternUnits=\"userSpaceOnUse\" width=\"7\" height=\"7\" \
                 patternTransform=\"rotate(45)\"><rect width=\"7\" height=\"7\" fill=\"{}\"/>\
                 <rect width=\"2\" height=\"7\" fill=\"{}\"/></pattern>",
                sw.fill, sw.text
            );
        }
    }
    s.push_str("</defs>");
    let text = |s: &mut String, t: &crate::core::viz::strip::PlacedText, weight: &str| {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-weight=\"{weight}\" fill=\"#000000\">{}</text>",
            t.x,
            t.y,
            escape(&t.text)
        );
    };
    text(&mut s, &pic.caption, "600");
    let fill_of = |state: TokenState| {
        let sw = token_swatch(state);
        match sw.pattern {
            Pattern::Hatched => format!("url(#strip-{state:?})"),
            _ => sw.fill.to_string(),
        }
    };
    for row in &pic.rows {
        let _ = write!(
            s,
            "<text x=\"12\" y=\"{}\" font-style=\"italic\" fill=\"#000000\">{}</text>",
            row.title_y,
            escape(&row.title)
        );
        for chip in &row.chips {
            let r = chip.rect;
            let sw = token_swatch(chip.look.state);
            let (stroke, width, dash) = if chip.look.supervised {
                (palette::SUPERVISED_OUTLINE, 3.0, "")
            } else if sw.pattern == Pattern::Dashed {
                ("#000000", 1.5, " stroke-dasharray=\"4 3\"")
            } else {
                ("#000000", 0.5, "")
            };
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{}\" stroke=\"{stroke}\" \
                 stroke-width=\"{width}\"{dash}/>",
                r.x,
                r.y,
                r.width,
                r.height,
                fill_of(chip.look.state)
            );
            if let Some(seg) = chip.look.segment {
                let colour = if seg == 0 {
                    palette::SEGMENT_A
                } else {
                    palette::SEGMENT_B
                };
                let _ = write!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"3\" fill=\"{colour}\"/>",
                    r.x,
                    r.y + r.height + 1.0,
                    r.width
                );
            }
            // Text on a hatched fill sits on a plate of the fill so it stays readable.
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" fill=\"{}\"{}>{}</text>",
                r.x + px * 0.4,
                r.y + r.height * 0.68,
                sw.text,
                if sw.pattern == Pattern::Hatched {
                    format!(
                        " paint-order=\"stroke\" stroke=\"{}\" stroke-width=\"4\"",
                        sw.fill
                    )
                } else {
                    String::new()
                },
                escape(&chip.label)
            );
        }
    }
    for note in &pic.notes {
        text(&mut s, note, "400");
    }
    for (state, r, label) in &pic.legend {
        let sw = token_swatch(*state);
        let dash = if sw.pattern == Pattern::Dashed {
            " stroke-dasharray=\"3 2\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#000000\" stroke-width=\"1\"{dash}/>",
            r.x,
            r.y,
            r.width,
            r.height,
            fill_of(*state)
        );
        text(&mut s, label, "400");
    }
    s.push_str("</svg>");
    s
}

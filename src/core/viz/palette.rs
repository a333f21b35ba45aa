//! The pictures' colours: the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"),
//! eight colours that stay distinct for the common forms of colour blindness, plus white. Every
//! state a picture shows has a [`Swatch`]: a fill, the text colour drawn on it, and a pattern, so
//! that allowed and blocked cells differ by more than colour (a projector washes colours out).
//! Contrast is WCAG 2's: relative luminance of linearised sRGB, ratio `(L1 + 0.05) / (L2 +
//! 0.05)`, at least 3:1 for every text-on-fill pair (WCAG's level for large text, which the
//! projector view's ≥ 18 px text is).

use serde::Serialize;

use super::strip::TokenState;
use crate::core::error::CoreError;

/// The Okabe–Ito colours, and white.
pub mod okabe_ito {
    pub const BLACK: &str = "#000000";
    pub const ORANGE: &str = "#E69F00";
    pub const SKY_BLUE: &str = "#56B4E9";
    pub const BLUISH_GREEN: &str = "#009E73";
    pub const YELLOW: &str = "#F0E442";
    pub const BLUE: &str = "#0072B2";
    pub const VERMILLION: &str = "#D55E00";
    pub const REDDISH_PURPLE: &str = "#CC79A7";
    pub const WHITE: &str = "#FFFFFF";
}

use okabe_ito::*;

/// Colours for one series each (points, lines) on white, in the order they are handed out:
/// the Okabe–Ito colours without yellow, which is too light for a line on white.
pub const SERIES: [&str; 7] = [
    BLUE,
    VERMILLION,
    BLUISH_GREEN,
    REDDISH_PURPLE,
    ORANGE,
    SKY_BLUE,
    BLACK,
];

/// How a swatch is filled besides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Solid,
    /// Diagonal lines in the text colour (blocked cells, dropped tokens).
    Hatched,
    /// A dashed border (an empty span's `[MASK]`, a padded position).
    Dashed,
}

impl Pattern {
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Solid => "solid",
            Pattern::Hatched => "hatched",
            Pattern::Dashed => "dashed",
        }
    }
}

/// A fill, the text drawn on it and its pattern; `name` is what the legend says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Swatch {
    pub name: &'static str,
    pub fill: &'static str,
    pub text: &'static str,
    pub pattern: Pattern,
}

/// A cell whose query may read its key.
pub const ALLOWED: Swatch = Swatch {
    name: "may attend",
    fill: BLUE,
    text: WHITE,
    pattern: Pattern::Solid,
};

/// A cell the mask blocks.
pub const BLOCKED: Swatch = Swatch {
    name: "blocked",
    fill: WHITE,
    text: BLACK,
    pattern: Pattern::Hatched,
};

/// A padded row or column (drawn over the cells' own swatch).
pub const PADDING: Swatch = Swatch {
    name: "padding",
    fill: WHITE,
    text: BLACK,
    pattern: Pattern::Dashed,
};

/// The outline of a position the loss scores, and the highlight of a hovered row.
pub const SUPERVISED_OUTLINE: &str = VERMILLION;
pub const HOVER_OUTLINE: &str = BLACK;

/// Segments A and B of a sentence pair (an underline).
pub const SEGMENT_A: &str = BLUE;
pub const SEGMENT_B: &str = BLUISH_GREEN;

/// The heatmap: a weight `w` is [`ALLOWED`]'s fill at opacity `w` over white; blocked cells
/// keep [`BLOCKED`]'s hatching on top.
pub const HEAT: &str = BLUE;

/// Every cell swatch, for the legend and the contrast test.
pub const CELLS: [Swatch; 3] = [ALLOWED, BLOCKED, PADDING];

/// How a token of the corruption strip is drawn.
pub fn token_swatch(state: TokenState) -> Swatch {
    let (name, fill, text, pattern) = match state {
        TokenState::Text => ("text", WHITE, BLACK, Pattern::Solid),
        TokenState::Special => ("special token", BLACK, WHITE, Pattern::Solid),
        TokenState::Masked => ("[MASK]", ORANGE, BLACK, Pattern::Solid),
        TokenState::Random => ("random token", REDDISH_PURPLE, BLACK, Pattern::Solid),
        TokenState::KeptScored => ("kept, still predicted", SKY_BLUE, BLACK, Pattern::Solid),
        TokenState::Dropped => ("hidden in a span", WHITE, BLACK, Pattern::Hatched),
        TokenState::Sentinel => ("sentinel", BLUISH_GREEN, BLACK, Pattern::Solid),
        TokenState::SpanMask => ("[MASK] for a span", ORANGE, BLACK, Pattern::Solid),
        TokenState::Restored => ("restored by the decoder", VERMILLION, BLACK, Pattern::Solid),
        TokenState::Context => ("context", YELLOW, BLACK, Pattern::Solid),
        TokenState::Target => ("target", VERMILLION, BLACK, Pattern::Solid),
    };
    Swatch {
        name,
        fill,
        text,
        pattern,
    }
}

/// Every token state, for the legend and the contrast test.
pub const TOKEN_STATES: [TokenState; 11] = [
    TokenState::Text,
    TokenState::Special,
    TokenState::Masked,
    TokenState::Random,
    TokenState::KeptScored,
    TokenState::Dropped,
    TokenState::Sentinel,
    TokenState::SpanMask,
    TokenState::Restored,
    TokenState::Context,
    TokenState::Target,
];

/// The diagonal drawn over a blocked cell of the live heatmap (a neutral grey: the hatching
/// must read as "no weight here" without competing with the blue of the weights).
pub const HEAT_HATCH: &str = "#9AA3B5";

/// The red, green and blue bytes of a `#RRGGBB` colour.
pub fn rgb(hex: &str) -> Result<[u8; 3], CoreError> {
    let bad = || CoreError::Picture(format!("`{hex}` is not a #RRGGBB colour"));
    let digits = hex
        .strip_prefix('#')
        .filter(|d| d.len() == 6)
        .ok_or_else(bad)?;
    let byte = |i: usize| {
        digits
            .get(i..i + 2)
            .and_then(|d| u8::from_str_radix(d, 16).ok())
            .ok_or_else(bad)
    };
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2 relative luminance of a `#RRGGBB` colour (0 for black, 1 for white).
pub fn relative_luminance(hex: &str) -> Result<f64, CoreError> {
    let linear = |byte: u8| {
        let c = f64::from(byte) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = rgb(hex)?;
    Ok(0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b))
}

/// WCAG 2 contrast ratio of two colours, from 1 (the same) to 21 (black on white).
pub fn contrast_ratio(a: &str, b: &str) -> Result<f64, CoreError> {
    let (la, lb) = (relative_luminance(a)?, relative_luminance(b)?);
    Ok((la.max(lb) + 0.05) / (la.min(lb) + 0.05))
}

/// The least contrast text may have on its fill.
pub const MIN_CONTRAST: f64 = 3.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luminance_and_contrast_match_wcags_reference_values() {
        assert_eq!(relative_luminance(WHITE).expect("white"), 1.0);
        assert_eq!(relative_luminance(BLACK).expect("black"), 0.0);
        assert!((contrast_ratio(BLACK, WHITE).expect("ratio") - 21.0).abs() < 1e-9);
        // #0072B2 by hand: G 0x72 → 0.16827, B 0xB2 → 0.44520; L = 0.7152·G + 0.0722·B.
        let blue = relative_luminance(BLUE).expect("blue");
        assert!((blue - 0.15249).abs() < 1e-4, "{blue}");
        assert!(relative_luminance("0072B2").is_err() && relative_luminance("#0072BZ").is_err());
    }

    #[test]
    fn every_text_on_its_fill_has_three_to_one_and_allowed_and_blocked_differ_by_pattern() {
        let swatches = CELLS
            .iter()
            .copied()
            .chain(TOKEN_STATES.iter().map(|&s| token_swatch(s)));
        for s in swatches {
            let c = contrast_ratio(s.text, s.fill).expect("colours");
            assert!(c >= MIN_CONTRAST, "{}: {c:.2}:1", s.name);
        }
        assert_ne!(ALLOWED.pattern, BLOCKED.pattern);
        assert_ne!(ALLOWED.pattern.name(), BLOCKED.pattern.name());
        let fills = contrast_ratio(ALLOWED.fill, BLOCKED.fill).expect("fills");
        assert!(
            fills >= MIN_CONTRAST,
            "allowed against blocked: {fills:.2}:1"
        );
        // Outlines and underlines must stand out against the white page.
        for line in [SUPERVISED_OUTLINE, SEGMENT_A, SEGMENT_B, HOVER_OUTLINE] {
            assert!(
                contrast_ratio(line, WHITE).expect("line") >= MIN_CONTRAST,
                "{line}"
            );
        }
    }
}

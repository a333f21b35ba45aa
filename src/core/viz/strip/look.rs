//! How one chip of the strip looks at a frame of the animation: before its corruption frame a
//! token shows the original text it stands for; from it, its corrupted state; from its
//! prediction frame, what it must predict. The page's HTML chips and the strip's SVG download
//! are both drawn from this, so the two cannot disagree.

use super::{Strip, StripToken, TokenState};
use crate::core::viz::palette::TOKEN_STATES;

/// Which row of the strip a chip sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripLine {
    /// The text before corruption.
    Original,
    /// What the model (an encoder-decoder's encoder) reads.
    Seen,
    /// What an encoder-decoder's decoder writes.
    Written,
}

impl StripLine {
    /// The name the page's tests select by.
    pub fn name(self) -> &'static str {
        match self {
            StripLine::Original => "original",
            StripLine::Seen => "seen",
            StripLine::Written => "written",
        }
    }

    /// The label written before the row.
    pub fn title(self, encoder_decoder: bool) -> &'static str {
        match self {
            StripLine::Original => "original text",
            StripLine::Seen if encoder_decoder => "the encoder reads",
            StripLine::Seen => "the model sees",
            StripLine::Written => "the decoder writes",
        }
    }

    /// The row's tokens in `strip`.
    pub fn tokens(self, strip: &Strip) -> &[StripToken] {
        match self {
            StripLine::Original => &strip.original,
            StripLine::Seen => &strip.seen,
            StripLine::Written => &strip.written,
        }
    }
}

/// A chip as drawn at one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipLook {
    pub state: TokenState,
    pub text: String,
    /// Outlined: the loss scores it (once corrupted).
    pub supervised: bool,
    /// XLNet's place in the factorisation order, once corrupted.
    pub order: Option<usize>,
    /// "→ target", once the prediction frame is reached.
    pub target: Option<String>,
    pub segment: Option<u32>,
}

impl StripToken {
    /// The chip at `frame`, on `line`; `original` is the strip's original row.
    pub fn look(&self, line: StripLine, frame: usize, original: &[StripToken]) -> ChipLook {
        let corrupted = self.corrupt_frame.is_none_or(|f| f <= frame);
        let (state, text) =
            if corrupted || line == StripLine::Original && self.corrupt_frame.is_none() {
                (self.state, self.text.clone())
            } else {
                // Before its corruption a token looks like the text it stands for.
                let was: Vec<&str> = self
                    .source
                    .iter()
                    .filter_map(|&p| original.get(p))
                    .map(|o| o.text.as_str())
                    .collect();
                let text = if was.is_empty() {
                    self.text.clone()
                } else {
                    was.join("")
                };
                let state = if self.state == TokenState::Special {
                    self.state
                } else {
                    TokenState::Text
                };
                (state, text)
            };
        let predicted = self.predict_frame.is_some_and(|f| f <= frame);
        ChipLook {
            state,
            text,
            supervised: self.supervised && corrupted,
            order: self.prediction_order.filter(|_| corrupted),
            target: predicted
                .then(|| self.target.as_ref().map(|l| l.text.clone()))
                .flatten(),
            segment: self.segment,
        }
    }
}

impl Strip {
    /// Whether a decoder writes a row of its own (T5, BART).
    pub fn encoder_decoder(&self) -> bool {
        !self.written.is_empty()
    }

    /// The caption under the strip at `frame` ("Step 2 of 7: …"; a frame past the end is the
    /// last).
    pub fn caption(&self, frame: usize) -> String {
        let frames = self.frames.len().max(1);
        let frame = frame.min(frames - 1);
        self.frames
            .get(frame)
            .map(|f| format!("Step {} of {frames}: {}", frame + 1, f.caption))
            .unwrap_or_default()
    }

    /// The token states the strip uses, in the legend's order.
    pub fn legend_states(&self) -> Vec<TokenState> {
        TOKEN_STATES
            .iter()
            .copied()
            .filter(|s| {
                self.original
                    .iter()
                    .chain(&self.seen)
                    .chain(&self.written)
                    .any(|t| t.state == *s)
            })
            .collect()
    }
}

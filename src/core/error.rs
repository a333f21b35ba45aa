//! Typed errors the core returns. Each message says what went wrong and what to do about it,
//! because a student reads it on the page or in the terminal.

/// Everything the core can refuse or fail at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// A setting outside what the lab supports (a size, a budget).
    #[error("invalid setting: {0}")]
    Config(String),
    /// An objective's knob out of its range, or knobs that do not work together.
    #[error("{0}")]
    Knob(#[from] crate::core::objective::spec::KnobError),
    /// A name that is neither an objective nor a preset.
    #[error("unknown objective `{name}`; objectives are {objectives} and presets are {presets}")]
    UnknownObjective {
        name: String,
        objectives: String,
        presets: String,
    },
    /// A mix written wrongly (`mlm+`, `mlm+sop@x`).
    #[error("the mix `{text}` cannot be read: {reason}")]
    MixSyntax { text: String, reason: String },
    /// A mix the lab reads but cannot train (two networks, two pair heads).
    #[error("the mix `{mix}` cannot be trained: {reason}")]
    Pairing { mix: String, reason: String },
    /// The text given to the lab cannot be used as it is.
    #[error("corpus problem: {0}")]
    Corpus(String),
    /// A student's own text cannot be used (the message says why and what to do).
    #[error("{0}")]
    CustomText(#[from] super::corpus::custom::CustomTextError),
    /// Training or using the tokenizer failed.
    #[error("tokenizer problem: {0}")]
    Tokenizer(String),
    /// A saved run's files cannot be loaded (missing, damaged, or from another version).
    #[error("this saved run cannot be loaded: {0}")]
    SavedRun(String),
    /// Reading a number back from the device failed (a lost GPU device, for instance).
    #[error("could not read results back from the {backend} device: {message}")]
    DeviceRead { backend: String, message: String },
    /// A picture of attention cannot be drawn from what it was given (an example index past
    /// the batch, a trace whose shapes do not match its batch).
    #[error("this picture cannot be drawn: {0}")]
    Picture(String),
    /// A results file the comparison panel cannot take (not a results file, from a newer
    /// version, damaged); the message names the file and what is wrong with it.
    #[error("{0}")]
    Results(String),
    /// The student cancelled a long piece of work (an evaluation); nothing is wrong.
    #[error("cancelled")]
    Cancelled,
}

impl CoreError {
    pub(crate) fn read(backend: &str, err: impl std::fmt::Display) -> Self {
        Self::DeviceRead {
            backend: backend.to_string(),
            message: err.to_string(),
        }
    }
}

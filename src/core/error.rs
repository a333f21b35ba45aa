//! Typed errors the core returns. Each message says what went wrong and what to do about it,
//! because a student reads it on the page or in the terminal.

/// Everything the core can refuse or fail at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// A setting outside what the lab supports (a size, a budget, a mix).
    #[error("invalid setting: {0}")]
    Config(String),
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
}

impl CoreError {
    pub(crate) fn read(backend: &str, err: impl std::fmt::Display) -> Self {
        Self::DeviceRead {
            backend: backend.to_string(),
            message: err.to_string(),
        }
    }
}

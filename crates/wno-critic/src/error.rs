//! The error type of this crate.

use candle_core::DType;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, CriticError>;

/// Everything that can go wrong in the critic or its losses.
#[derive(Debug, thiserror::Error)]
pub enum CriticError {
    /// The input does not have the layout the operation needs.
    #[error("{op}: expected {expected}, got shape {got:?}")]
    BadShape {
        /// The operation that was called.
        op: &'static str,
        /// What is accepted, in words.
        expected: String,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// The dtype is not supported.
    #[error("{op}: unsupported dtype {dtype:?} (expected f32, f64, f16 or bf16)")]
    UnsupportedDType {
        /// The operation that was called.
        op: &'static str,
        /// The dtype that was passed.
        dtype: DType,
    },
    /// A configuration value is out of its domain.
    #[error("PatchGanConfig: {0}")]
    InvalidConfig(String),
    /// An error from a candle tensor operation (including missing / mis-shaped weights).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An error from the convolution (shapes).
    #[error(transparent)]
    Conv(#[from] wno_losses::LossError),
}

impl From<CriticError> for candle_core::Error {
    fn from(e: CriticError) -> Self {
        match e {
            CriticError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}

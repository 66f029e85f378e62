//! Error type of the operator layer.

use candle_core::DType;

/// Errors raised by the operator layer. Every message names the operation, the shapes and the
/// dtype involved so that a failing call can be diagnosed from the message alone.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// A tensor has the wrong rank or dimensions for an operation.
    #[error("{op}: expected {expected}, got shape {got:?} ({dtype:?})")]
    Shape {
        /// The operation that rejected the tensor.
        op: &'static str,
        /// What the operation expects, in words.
        expected: String,
        /// The dimensions that were passed.
        got: Vec<usize>,
        /// The dtype of the rejected tensor.
        dtype: DType,
    },
    /// A spatial size is not what the scale recursion needs (a power of two, a multiple, ...).
    #[error("{op}: size {h}x{w} is invalid: {reason}")]
    Size {
        /// The operation that rejected the size.
        op: &'static str,
        /// Height that was passed.
        h: usize,
        /// Width that was passed.
        w: usize,
        /// Why the size is rejected.
        reason: String,
    },
    /// A dtype that the operation has no kernel for.
    #[error("{op}: unsupported dtype {dtype:?} (supported: {supported})")]
    DType {
        /// The operation that rejected the dtype.
        op: &'static str,
        /// The dtype that was passed.
        dtype: DType,
        /// The supported dtypes, in words.
        supported: &'static str,
    },
    /// Two tensors that must live on the same device or share a dtype do not.
    #[error("{op}: operands disagree: {detail}")]
    Mismatch {
        /// The operation that found the mismatch.
        op: &'static str,
        /// What disagrees.
        detail: String,
    },
    /// An invalid configuration value.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A checkpoint lacks a key, holds a tensor of the wrong shape, or cannot be read.
    #[error("checkpoint {path}: {detail}")]
    Checkpoint {
        /// The checkpoint file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The 4x4 prior cannot be fitted or used.
    #[error("prior: {0}")]
    Prior(String),
    /// An error from the wavelet transforms.
    #[error(transparent)]
    Wavelet(#[from] wavelet_ops::WaveletError),
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An I/O error, with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias of the operator layer.
pub type Result<T> = std::result::Result<T, OperatorError>;

impl From<OperatorError> for candle_core::Error {
    fn from(e: OperatorError) -> Self {
        match e {
            OperatorError::Candle(c) => c,
            other => candle_core::Error::wrap(other),
        }
    }
}

impl OperatorError {
    /// Builds a [`OperatorError::Shape`] for `t`.
    pub(crate) fn shape(op: &'static str, expected: impl Into<String>, t: &candle_core::Tensor) -> Self {
        OperatorError::Shape { op, expected: expected.into(), got: t.dims().to_vec(), dtype: t.dtype() }
    }
}

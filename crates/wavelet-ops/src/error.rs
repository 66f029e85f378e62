//! The error type of this crate.

use candle_core::DType;

/// Everything that can go wrong in a wavelet transform.
///
/// Every variant names the operation, the offending shape and the dtype, so the message alone
/// says what was passed where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaveletError {
    /// The input does not have the rank the operation needs.
    #[error("{op}: expected a rank-{expected} tensor {layout}, got shape {shape:?} ({dtype:?})")]
    Rank {
        /// Operation name, e.g. `dwt2d`.
        op: &'static str,
        /// Rank the operation needs.
        expected: usize,
        /// Human-readable layout that was expected, e.g. `(B, C, H, W)`.
        layout: &'static str,
        /// Shape that was passed.
        shape: Vec<usize>,
        /// Dtype that was passed.
        dtype: DType,
    },
    /// The dtype is not a floating-point type this crate supports.
    #[error("{op}: unsupported dtype {dtype:?} for shape {shape:?}; supported dtypes are f32, f64, f16 and bf16")]
    DType {
        /// Operation name.
        op: &'static str,
        /// Shape that was passed.
        shape: Vec<usize>,
        /// Dtype that was passed.
        dtype: DType,
    },
    /// A dimension of the input is zero.
    #[error(
        "{op}: empty tensor of shape {shape:?} ({dtype:?}); every dimension must be at least 1"
    )]
    Empty {
        /// Operation name.
        op: &'static str,
        /// Shape that was passed.
        shape: Vec<usize>,
        /// Dtype that was passed.
        dtype: DType,
    },
    /// The band dimension (dim 2) of an inverse input is not 4, or the detail tensor is not 3.
    #[error("{op}: dim 2 of shape {shape:?} ({dtype:?}) must hold {expected} bands ({names})")]
    Bands {
        /// Operation name.
        op: &'static str,
        /// Number of bands expected on dim 2.
        expected: usize,
        /// Names of the expected bands.
        names: &'static str,
        /// Shape that was passed.
        shape: Vec<usize>,
        /// Dtype that was passed.
        dtype: DType,
    },
    /// The requested output size cannot come from bands of this size.
    #[error(
        "{op}: output size {out_h}x{out_w} does not fit bands of shape {shape:?} ({dtype:?}): \
         height must be {min_h} or {max_h} and width {min_w} or {max_w}"
    )]
    OutputSize {
        /// Operation name.
        op: &'static str,
        /// Requested output height.
        out_h: usize,
        /// Requested output width.
        out_w: usize,
        /// Smallest height these bands can reconstruct.
        min_h: usize,
        /// Largest height these bands can reconstruct.
        max_h: usize,
        /// Smallest width these bands can reconstruct.
        min_w: usize,
        /// Largest width these bands can reconstruct.
        max_w: usize,
        /// Shape of the bands that were passed.
        shape: Vec<usize>,
        /// Dtype of the bands.
        dtype: DType,
    },
    /// The tensors of a multi-level decomposition do not fit together.
    #[error("{op}: {reason}")]
    Pyramid {
        /// Operation name.
        op: &'static str,
        /// What does not fit.
        reason: String,
    },
    /// An error from candle itself (device, allocation, kernel launch).
    #[error("{op}: {source}")]
    Candle {
        /// Operation name.
        op: &'static str,
        /// The underlying candle error.
        #[source]
        source: candle_core::Error,
    },
}

impl WaveletError {
    pub(crate) fn candle(op: &'static str) -> impl FnOnce(candle_core::Error) -> Self {
        move |source| Self::Candle { op, source }
    }
}

impl From<WaveletError> for candle_core::Error {
    fn from(e: WaveletError) -> Self {
        match e {
            WaveletError::Candle { source, .. } => source,
            other => candle_core::Error::wrap(other),
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, WaveletError>;

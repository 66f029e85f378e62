//! The error type of this crate.

use std::path::PathBuf;

use candle_core::DType;

/// Result alias used by every fallible function of this crate.
pub type Result<T> = std::result::Result<T, LossError>;

/// Everything that can go wrong in a loss, a metric or a weight loader.
///
/// Messages name the operation, the offending shapes / dtypes / files and, where it applies,
/// what would have been accepted. `LossError` converts into [`candle_core::Error`], so `?` works
/// in functions returning `candle_core::Result`.
#[derive(Debug, thiserror::Error)]
pub enum LossError {
    /// Two tensors that must have the same shape do not.
    #[error("{op}: shape mismatch between {lhs:?} and {rhs:?}")]
    ShapeMismatch {
        /// The operation that was called.
        op: &'static str,
        /// Shape of the first argument.
        lhs: Vec<usize>,
        /// Shape of the second argument.
        rhs: Vec<usize>,
    },
    /// A tensor does not have the rank or layout the operation needs.
    #[error("{op}: expected {expected}, got shape {got:?}")]
    BadShape {
        /// The operation that was called.
        op: &'static str,
        /// What the operation accepts, in words.
        expected: String,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// The dtype is not supported by the operation.
    #[error("{op}: unsupported dtype {dtype:?} (expected a floating-point dtype: f32 or f64, f16/bf16 where noted)")]
    UnsupportedDType {
        /// The operation that was called.
        op: &'static str,
        /// The dtype that was passed.
        dtype: DType,
    },
    /// The image is too small for the operation (e.g. smaller than the SSIM window, or too
    /// small for the downsamplings of MS-SSIM).
    #[error("{op}: image of height {height} and width {width} is too small: {needed}")]
    ImageTooSmall {
        /// The operation that was called.
        op: &'static str,
        /// Image height (dim -2).
        height: usize,
        /// Image width (dim -1).
        width: usize,
        /// The size that is needed, in words.
        needed: String,
    },
    /// A configuration value is out of its domain.
    #[error("{op}: invalid configuration: {reason}")]
    InvalidConfig {
        /// The type or operation that was configured.
        op: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A weight file is not a valid safetensors or PyTorch `.pth` file.
    #[error("{path} is not a valid {format} file: {reason}")]
    BadWeightFile {
        /// The file.
        path: PathBuf,
        /// The format it was read as (`"safetensors"`, `"PyTorch .pth"`).
        format: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A weight file lacks a tensor that the network needs.
    #[error("{path}: missing tensor `{name}` (expected shape {expected:?})")]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The shape the network expects.
        expected: Vec<usize>,
    },
    /// A tensor of a weight file has the wrong shape.
    #[error("{path}: tensor `{name}` has shape {got:?}, expected {expected:?}")]
    TensorShape {
        /// The file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The shape the network expects.
        expected: Vec<usize>,
        /// The shape stored in the file.
        got: Vec<usize>,
    },
    /// Offline (or the Hub unreachable) and the file is not in the local Hugging Face cache.
    #[error(
        "`{filename}` of Hub repo `{repo}` is not in the local Hugging Face cache ({cache_dir}) and \
         it cannot be downloaded ({why}); download it once with network access, or pass a local \
         weight file instead"
    )]
    HubNotCached {
        /// The Hub repository id.
        repo: String,
        /// The file inside the repository.
        filename: String,
        /// The cache directory that was searched.
        cache_dir: PathBuf,
        /// Why no download was attempted or why it failed.
        why: String,
    },
    /// The Hub client failed for another reason (file missing upstream, HTTP error, ...).
    #[error("downloading `{filename}` from Hub repo `{repo}` failed: {reason}")]
    Hub {
        /// The Hub repository id.
        repo: String,
        /// The file inside the repository.
        filename: String,
        /// The client's error message.
        reason: String,
    },
    /// Not enough feature vectors to estimate a covariance, or mismatched feature sizes.
    #[error("{op}: {reason}")]
    Statistics {
        /// The operation that was called.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A linear-algebra routine did not converge.
    #[error("{op}: {reason}")]
    Linalg {
        /// The routine.
        op: &'static str,
        /// What happened.
        reason: String,
    },
    /// An input holds NaN or infinite values (which a network with ReLUs would silently turn
    /// into ordinary-looking features).
    #[error("{op}: the {what} contain NaN or infinite values")]
    NonFinite {
        /// The operation that was called.
        op: &'static str,
        /// Which input.
        what: &'static str,
    },
    /// The mean or covariance of a feature set is not finite: NaN or infinite features, or
    /// finite features so large that their mean or covariance overflows f64. `what` names the
    /// statistic and the set (e.g. "the covariance of the features of set A").
    #[error("{op}: {what} (shape {shape:?}) {problem}")]
    NonFiniteStatistics {
        /// The operation that was called.
        op: &'static str,
        /// Which statistic of which input.
        what: String,
        /// The shape of that statistic or input.
        shape: Vec<usize>,
        /// What is wrong with it, and the shape of the features it comes from.
        problem: String,
    },
    /// A network cannot compute in the requested dtype on the requested device: candle has no
    /// kernel for one of its operations there (integer dtypes anywhere; bf16 matrix products,
    /// hence convolutions, on the CPU).
    #[error("{op}: cannot compute in dtype {dtype:?} on the {device}: {reason} (supported there: {supported})")]
    UnsupportedNetworkDType {
        /// The constructor that was called.
        op: &'static str,
        /// The requested dtype.
        dtype: DType,
        /// The device, in words ("CPU", "CUDA device", ...).
        device: &'static str,
        /// Which operation has no kernel for it.
        reason: &'static str,
        /// The dtypes that do work on that device.
        supported: &'static str,
    },
    /// An error from a candle tensor operation.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl From<LossError> for candle_core::Error {
    fn from(e: LossError) -> Self {
        match e {
            LossError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}

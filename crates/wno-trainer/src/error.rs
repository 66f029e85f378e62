//! The error type of the trainer crate.

use std::path::PathBuf;

/// Everything that can go wrong in data loading, optimisation, checkpoints and metrics output.
///
/// Messages name the operation and, where there is one, the file involved, so that a user can
/// act on them without a backtrace.
#[derive(Debug, thiserror::Error)]
pub enum TrainerError {
    /// A file-system operation failed.
    #[error("{op}: I/O error on `{path}`: {source}")]
    Io {
        /// The operation that was running.
        op: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A CIFAR-10 binary batch ends in the middle of a record.
    #[error(
        "CIFAR-10 binary `{path}`: truncated record at byte offset {offset} (file length {len} \
         bytes; each record is 3073 bytes: 1 label byte and 3072 pixel bytes)"
    )]
    TruncatedRecord {
        /// The batch file.
        path: PathBuf,
        /// Byte offset of the incomplete record.
        offset: u64,
        /// Length of the file in bytes.
        len: u64,
    },

    /// A CIFAR-10 binary record has a label outside `0..10`.
    #[error("CIFAR-10 binary `{path}`: label {label} at byte offset {offset} is not in 0..10")]
    BadLabel {
        /// The batch file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: u64,
        /// The label byte found.
        label: u8,
    },

    /// An image folder holds no PNG or JPEG file.
    #[error("image folder `{path}`: no PNG or JPEG images found")]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },

    /// Every image of a folder failed to decode.
    #[error("image folder `{path}`: all {count} images failed to decode; first: {first}")]
    AllImagesBad {
        /// The folder.
        path: PathBuf,
        /// How many images were tried.
        count: usize,
        /// The first failure, with its file name.
        first: String,
    },

    /// One image could not be decoded or has an unusable size.
    #[error("decode image `{path}`: {reason}")]
    ImageDecode {
        /// The image file (or the parquet file and row it came from).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A parquet file could not be read or does not hold images.
    #[error("parquet `{path}`: {reason}")]
    Parquet {
        /// The parquet file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// `open_source` found nothing it can read at the path.
    #[error("open_source: `{path}` holds no CIFAR-10 batches, parquet files or images for split `{split}` ({detail})")]
    UnknownSource {
        /// The path given.
        path: PathBuf,
        /// The split asked for.
        split: String,
        /// What was looked for.
        detail: String,
    },

    /// The Hugging Face Hub copy could not be loaded.
    #[error("hub dataset `{repo}`: {reason}")]
    Hub {
        /// The dataset repository.
        repo: String,
        /// What went wrong.
        reason: String,
    },

    /// An argument is outside what the operation accepts.
    #[error("{op}: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong with the argument.
        reason: String,
    },

    /// A tensor has the wrong shape or dtype for the operation.
    #[error("{op}: expected {expected}, got shape {got:?} with dtype {dtype:?}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What the operation expects.
        expected: String,
        /// The shape found.
        got: Vec<usize>,
        /// The dtype found.
        dtype: candle_core::DType,
    },

    /// JSON could not be written or parsed.
    #[error("{op}: JSON error on `{path}`: {source}")]
    Json {
        /// The operation.
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// A safetensors file could not be serialised or parsed, or lacks an expected entry.
    #[error("{op}: safetensors `{path}`: {reason}")]
    Safetensors {
        /// The operation.
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A PNG could not be encoded or written.
    #[error("{op}: cannot write image `{path}`: {reason}")]
    ImageWrite {
        /// The operation.
        op: &'static str,
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A loader worker thread stopped without delivering its batch.
    #[error("data loader: {reason}")]
    Loader {
        /// What happened.
        reason: String,
    },

    /// A loss became NaN or infinite: the run stops (the last good checkpoint is kept).
    #[error("step {step}: the {term} loss is {value} (not finite); stopping. The last good checkpoint is kept")]
    NonFinite {
        /// The optimisation step at which it happened.
        step: u64,
        /// The loss term (or `total`).
        term: String,
        /// The value.
        value: f64,
    },

    /// An error from the operator layer (generator, prior, model files).
    #[error(transparent)]
    Operator(#[from] wno_operator::OperatorError),

    /// An error from a loss or metric.
    #[error(transparent)]
    Loss(#[from] wno_losses::LossError),

    /// An error from the critic.
    #[error(transparent)]
    Critic(#[from] wno_critic::CriticError),

    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl TrainerError {
    /// Shorthand for [`TrainerError::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Shorthand for [`TrainerError::InvalidArgument`].
    pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            op,
            reason: reason.into(),
        }
    }
}

impl From<TrainerError> for candle_core::Error {
    fn from(e: TrainerError) -> Self {
        match e {
            TrainerError::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, TrainerError>;

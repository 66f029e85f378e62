//! The [`ImageSource`] trait: an indexable collection of labelled RGB images.

use super::planar::PlanarImage;
use crate::error::Result;

/// One image with its class label (`None` for unlabelled data, e.g. a flat image folder).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// RGB planes in `[0, 1]`.
    pub image: PlanarImage,
    /// Class index into [`ImageSource::class_names`], if the source is labelled.
    pub label: Option<u32>,
}

/// Which part of a dataset to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Split {
    /// The training images (`data_batch_{1..5}.bin`, `train/`, `train` parquet files).
    Train,
    /// The held-out images (`test_batch.bin`, `test/`, `test` parquet files).
    Test,
}

impl Split {
    /// `"train"` or `"test"`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An indexable, thread-safe collection of images, read by the [`DataLoader`](super::DataLoader)
/// from its worker threads.
pub trait ImageSource: Send + Sync {
    /// Number of images.
    fn len(&self) -> usize;

    /// Whether the source holds no image.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The image at `index` (`0..len()`), as RGB planes in `[0, 1]`.
    ///
    /// # Errors
    /// An index out of range, or an image that cannot be produced.
    fn get(&self, index: usize) -> Result<Sample>;

    /// Class names, indexed by [`Sample::label`]; empty for unlabelled sources.
    fn class_names(&self) -> &[String];

    /// A one-line description (kind, path, image count) for logs and `config.json`.
    fn description(&self) -> String;
}

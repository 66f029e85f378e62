//! CIFAR-10 binary batches: `data_batch_{1..5}.bin` and `test_batch.bin`.
//!
//! Each record is 3073 bytes: one label byte (0..10), then 1024 R, 1024 G and 1024 B bytes of a
//! 32x32 image, row-major. A file whose length is not a whole number of records is rejected with
//! the offset of the incomplete record.

use super::memory::MemorySource;
use super::source::Split;
use crate::error::{Result, TrainerError};
use std::path::{Path, PathBuf};

/// Side of a CIFAR-10 image.
pub const CIFAR_SIDE: usize = 32;
/// Bytes per record: label and pixels.
pub const CIFAR_RECORD_BYTES: usize = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;
/// The ten CIFAR-10 classes, in label order.
pub const CIFAR_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The batch file names of a split, in reading order.
pub fn cifar_batch_names(split: Split) -> &'static [&'static str] {
    match split {
        Split::Train => &[
            "data_batch_1.bin",
            "data_batch_2.bin",
            "data_batch_3.bin",
            "data_batch_4.bin",
            "data_batch_5.bin",
        ],
        Split::Test => &["test_batch.bin"],
    }
}

/// The batch files of `split` present in `dir`, in reading order (possibly none).
pub fn find_cifar_batches(dir: &Path, split: Split) -> Vec<PathBuf> {
    cifar_batch_names(split)
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| p.is_file())
        .collect()
}

fn class_names() -> Vec<String> {
    CIFAR_CLASSES.iter().map(|s| s.to_string()).collect()
}

/// Appends the records of one batch file to `store`.
fn read_batch_into(path: &Path, store: &mut MemorySource) -> Result<()> {
    let bytes =
        std::fs::read(path).map_err(|e| TrainerError::io("read CIFAR-10 batch", path, e))?;
    let len = bytes.len() as u64;
    if bytes.is_empty() || bytes.len() % CIFAR_RECORD_BYTES != 0 {
        let whole = bytes.len() / CIFAR_RECORD_BYTES;
        return Err(TrainerError::TruncatedRecord {
            path: path.to_path_buf(),
            offset: (whole * CIFAR_RECORD_BYTES) as u64,
            len,
        });
    }
    for (i, record) in bytes.chunks_exact(CIFAR_RECORD_BYTES).enumerate() {
        let label = record[0];
        if usize::from(label) >= CIFAR_CLASSES.len() {
            return Err(TrainerError::BadLabel {
                path: path.to_path_buf(),
                offset: (i * CIFAR_RECORD_BYTES) as u64,
                label,
            });
        }
        store.push_planar(CIFAR_SIDE, CIFAR_SIDE, &record[1..], Some(u32::from(label)))?;
    }
    Ok(())
}

/// Reads the listed batch files (in order) into memory.
///
/// # Errors
/// No file given, an unreadable file, a truncated or empty file, or a label outside `0..10`;
/// each error names the file.
pub fn read_cifar_batches(files: &[PathBuf]) -> Result<MemorySource> {
    let first = files.first().ok_or_else(|| {
        TrainerError::invalid("read_cifar_batches", "no CIFAR-10 batch file given")
    })?;
    let what = if files.len() == 1 {
        format!("CIFAR-10 binary `{}`", first.display())
    } else {
        let dir = first.parent().unwrap_or(Path::new("."));
        format!(
            "CIFAR-10 binary `{}` ({} batch files)",
            dir.display(),
            files.len()
        )
    };
    let mut store = MemorySource::new(what, class_names());
    for f in files {
        read_batch_into(f, &mut store)?;
    }
    Ok(store)
}

/// Reads the `split` of a CIFAR-10 binary folder (the batches present among
/// `data_batch_{1..5}.bin`, or `test_batch.bin`).
///
/// ```
/// use wno_trainer::data::{open_cifar_binary, ImageSource, Split};
/// let dir = tempfile::tempdir().unwrap();
/// let mut record = vec![3u8]; // label "cat"
/// record.extend(std::iter::repeat(128u8).take(3072));
/// std::fs::write(dir.path().join("test_batch.bin"), &record).unwrap();
/// let src = open_cifar_binary(dir.path(), Split::Test).unwrap();
/// assert_eq!(src.len(), 1);
/// assert_eq!(src.get(0).unwrap().label, Some(3));
/// ```
///
/// # Errors
/// No batch file of the split in `dir`, or any error of [`read_cifar_batches`].
pub fn open_cifar_binary(dir: &Path, split: Split) -> Result<MemorySource> {
    let files = find_cifar_batches(dir, split);
    if files.is_empty() {
        return Err(TrainerError::UnknownSource {
            path: dir.to_path_buf(),
            split: split.to_string(),
            detail: format!("looked for {}", cifar_batch_names(split).join(", ")),
        });
    }
    read_cifar_batches(&files)
}

//! [`open_source`]: picks the reader from what a path holds.

use super::cifar_bin::{find_cifar_batches, read_cifar_batches};
use super::folder::{is_image_file, open_image_file, open_image_folder, FolderOptions};
use super::memory::MemorySource;
use super::parquet::{is_parquet_file, read_parquet_images};
use super::source::Split;
use crate::error::{Result, TrainerError};
use std::path::{Path, PathBuf};

/// What [`open_source`] reads and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceOptions {
    /// The split to read from a folder that holds several.
    pub split: Split,
    /// How images from folders and single image files are prepared.
    pub folder: FolderOptions,
}

impl SourceOptions {
    /// Options for `split` with native-size folder images.
    pub fn new(split: Split) -> Self {
        Self {
            split,
            folder: FolderOptions::default(),
        }
    }
}

/// Parquet files under `dir` (recursively) whose path below `dir` has a component (folder
/// name or file-name prefix) equal to or starting with the split name, sorted.
fn find_parquet_files(dir: &Path, split: Split) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let rd = std::fs::read_dir(dir).map_err(|e| TrainerError::io("list folder", dir, e))?;
        for entry in rd {
            let p = entry
                .map_err(|e| TrainerError::io("list folder", dir, e))?
                .path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if is_parquet_file(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut all = Vec::new();
    walk(dir, &mut all)?;
    let mut matching: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| {
            p.strip_prefix(dir).is_ok_and(|rel| {
                rel.components().any(|c| {
                    c.as_os_str()
                        .to_str()
                        .is_some_and(|s| s.to_ascii_lowercase().starts_with(split.name()))
                })
            })
        })
        .collect();
    matching.sort();
    Ok(matching)
}

/// Opens the images at `path`, choosing the reader from what it holds, in this order:
///
/// 1. a file: `*.bin` is a CIFAR-10 binary batch, `*.parquet` a parquet export, `*.png`,
///    `*.jpg`, `*.jpeg` a single image;
/// 2. a folder with the CIFAR-10 batches of the split (`data_batch_{1..5}.bin` present ones,
///    or `test_batch.bin`);
/// 3. a folder with parquet files for the split (any path component starting with
///    `train`/`test`, e.g. `plain_text/test/0000.parquet` or `train-00000-of-00001.parquet`);
/// 4. a folder with a subfolder named after the split (`train/`, `test/`), read as an image
///    folder;
/// 5. the folder itself as an image folder (class subfolders or flat).
///
/// ```
/// use wno_trainer::data::{open_source, ImageSource, SourceOptions, Split};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("test")).unwrap();
/// image::RgbImage::new(4, 4).save(dir.path().join("test").join("x.png")).unwrap();
/// let src = open_source(dir.path(), &SourceOptions::new(Split::Test)).unwrap();
/// assert_eq!(src.len(), 1);
/// assert!(src.description().contains("image folder"));
/// ```
///
/// # Errors
/// A path that does not exist, holds nothing readable for the split, or whose files fail to
/// read (see each reader).
pub fn open_source(path: &Path, opts: &SourceOptions) -> Result<MemorySource> {
    let split = opts.split;
    let unknown = |detail: String| TrainerError::UnknownSource {
        path: path.to_path_buf(),
        split: split.to_string(),
        detail,
    };
    if path.is_file() {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        return match ext.as_deref() {
            Some("bin") => read_cifar_batches(&[path.to_path_buf()]),
            _ if is_parquet_file(path) => read_parquet_images(&[path.to_path_buf()]),
            _ if is_image_file(path) => open_image_file(path, &opts.folder),
            _ => Err(unknown(
                "a file must end in .bin, .parquet, .png, .jpg or .jpeg".into(),
            )),
        };
    }
    if !path.is_dir() {
        return Err(TrainerError::io(
            "open_source",
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        ));
    }
    let batches = find_cifar_batches(path, split);
    if !batches.is_empty() {
        return read_cifar_batches(&batches);
    }
    let parquet = find_parquet_files(path, split)?;
    if !parquet.is_empty() {
        return read_parquet_images(&parquet);
    }
    let sub = path.join(split.name());
    if sub.is_dir() {
        return open_image_folder(&sub, &opts.folder);
    }
    open_image_folder(path, &opts.folder)
}

//! Image folders: class subfolders (`root/<class>/**/*.png`) or a flat folder of PNG/JPEG files.
//!
//! Every image is decoded once, in parallel, centre-cropped to a square and, when larger than
//! [`FolderOptions::max_side`], downscaled with an antialiased Catmull-Rom filter; the result is
//! kept in memory. An image that cannot be decoded is skipped and reported in
//! [`MemorySource::warnings`]; the folder fails only when every image is bad.

use super::memory::MemorySource;
use super::source::ImageSource;
use crate::error::{Result, TrainerError};
use image::imageops::FilterType;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// How folder images are prepared when loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FolderOptions {
    /// Largest side kept: square crops larger than this are downscaled to it; smaller ones are
    /// kept at their size (the augmentation pipeline resizes them). `None` keeps every crop at
    /// its native size.
    pub max_side: Option<u32>,
}

/// Whether `path` has a PNG or JPEG extension (case-insensitive).
pub fn is_image_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) && !is_hidden(path)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| TrainerError::io("list image folder", dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| TrainerError::io("list image folder", dir, e))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

/// All image files under `dir`, recursively, in sorted path order.
fn images_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in sorted_entries(dir)? {
        if p.is_dir() && !is_hidden(&p) {
            out.extend(images_under(&p)?);
        } else if p.is_file() && is_image_file(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Decodes one image file (format guessed from its content), centre-crops it to a square and
/// downscales it to `max_side` when larger.
///
/// # Errors
/// An unreadable or undecodable file, named in the error.
pub fn load_square_image(path: &Path, opts: &FolderOptions) -> Result<image::RgbImage> {
    let decode_err = |reason: String| TrainerError::ImageDecode {
        path: path.to_path_buf(),
        reason,
    };
    let img = image::ImageReader::open(path)
        .map_err(|e| TrainerError::io("open image", path, e))?
        .with_guessed_format()
        .map_err(|e| TrainerError::io("open image", path, e))?
        .decode()
        .map_err(|e| decode_err(e.to_string()))?
        .to_rgb8();
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(decode_err(format!("empty image ({w}x{h})")));
    }
    let side = w.min(h);
    let square =
        image::imageops::crop_imm(&img, (w - side) / 2, (h - side) / 2, side, side).to_image();
    Ok(match opts.max_side {
        Some(0) => return Err(decode_err("max_side must be positive".into())),
        Some(max) if side > max => {
            image::imageops::resize(&square, max, max, FilterType::CatmullRom)
        }
        _ => square,
    })
}

/// Reads one image file as a one-image source (e.g. `sample --input photo.png`).
///
/// # Errors
/// As [`load_square_image`].
pub fn open_image_file(path: &Path, opts: &FolderOptions) -> Result<MemorySource> {
    let img = load_square_image(path, opts)?;
    let mut store = MemorySource::new(format!("image `{}`", path.display()), Vec::new());
    store.push_rgb8(&img, None)?;
    Ok(store)
}

/// Reads an image folder: class subfolders (each sorted subfolder holding images is a class,
/// searched recursively) or, when no subfolder holds images, the images directly inside.
///
/// ```
/// use wno_trainer::data::{open_image_folder, FolderOptions, ImageSource};
/// let dir = tempfile::tempdir().unwrap();
/// for class in ["cats", "dogs"] {
///     std::fs::create_dir(dir.path().join(class)).unwrap();
///     image::RgbImage::new(8, 6).save(dir.path().join(class).join("a.png")).unwrap();
/// }
/// let src = open_image_folder(dir.path(), &FolderOptions::default()).unwrap();
/// assert_eq!(src.class_names(), &["cats".to_string(), "dogs".to_string()]);
/// assert_eq!(src.get(1).unwrap().label, Some(1));
/// assert_eq!(src.get(1).unwrap().image.width(), 6); // centre-cropped to 6x6
/// ```
///
/// # Errors
/// An unreadable folder, a folder with no image ([`TrainerError::EmptyFolder`]) or one whose
/// images all fail to decode ([`TrainerError::AllImagesBad`]).
pub fn open_image_folder(dir: &Path, opts: &FolderOptions) -> Result<MemorySource> {
    let entries = sorted_entries(dir)?;
    let mut classes: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for p in entries.iter().filter(|p| p.is_dir() && !is_hidden(p)) {
        let files = images_under(p)?;
        if !files.is_empty() {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            classes.push((name, files));
        }
    }
    let top_level: Vec<PathBuf> = entries
        .iter()
        .filter(|p| p.is_file() && is_image_file(p))
        .cloned()
        .collect();

    let mut warnings = Vec::new();
    let (class_names, files): (Vec<String>, Vec<(PathBuf, Option<u32>)>) = if classes.is_empty() {
        (
            Vec::new(),
            top_level.into_iter().map(|p| (p, None)).collect(),
        )
    } else {
        if !top_level.is_empty() {
            warnings.push(format!(
                "`{}`: ignored {} image(s) beside the class subfolders",
                dir.display(),
                top_level.len()
            ));
        }
        let mut files = Vec::new();
        let mut names = Vec::new();
        for (label, (name, class_files)) in classes.into_iter().enumerate() {
            names.push(name);
            files.extend(class_files.into_iter().map(|p| (p, Some(label as u32))));
        }
        (names, files)
    };
    if files.is_empty() {
        return Err(TrainerError::EmptyFolder {
            path: dir.to_path_buf(),
        });
    }

    let decoded: Vec<Result<image::RgbImage>> = files
        .par_iter()
        .map(|(p, _)| load_square_image(p, opts))
        .collect();
    let kind = if class_names.is_empty() {
        "flat"
    } else {
        "class subfolders"
    };
    let mut store = MemorySource::new(
        format!("image folder `{}` ({kind})", dir.display()),
        class_names,
    );
    let mut first_error = None;
    for ((_, label), result) in files.iter().zip(decoded) {
        match result {
            Ok(img) => store.push_rgb8(&img, *label)?,
            Err(e) => {
                let msg = e.to_string();
                first_error.get_or_insert_with(|| msg.clone());
                warnings.push(format!("skipped: {msg}"));
            }
        }
    }
    if store.is_empty() {
        return Err(TrainerError::AllImagesBad {
            path: dir.to_path_buf(),
            count: files.len(),
            first: first_error.unwrap_or_default(),
        });
    }
    for w in warnings {
        store.add_warning(w);
    }
    Ok(store)
}

//! Hugging Face parquet exports of image datasets (e.g. `cifar10`, `plain_text/test/0000.parquet`).
//!
//! A row holds an image column, either a struct `{bytes, path}` (the `datasets` Image feature)
//! or a plain binary column, with PNG/JPEG bytes, and optionally an integer label column. Class
//! names come from the `huggingface` key of the file metadata when present. Images are decoded
//! with the `image` crate, which yields rows of interleaved RGB: they are stored as `(3, H, W)`
//! planes with `H` the row index, so nothing is transposed (compare
//! [`hub`](super::hub) for candle-datasets' loader, which transposes).

use super::memory::MemorySource;
use super::source::ImageSource;
use crate::error::{Result, TrainerError};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use rayon::prelude::*;
use std::path::Path;

const IMAGE_NAMES: [&str; 2] = ["img", "image"];
const LABEL_NAMES: [&str; 3] = ["label", "labels", "fine_label"];

/// The encoded bytes of the image in a row: the named image column if present, else the first
/// binary value found (top level or inside a struct).
fn image_bytes(row: &Row) -> Option<&[u8]> {
    fn bytes_of(field: &Field) -> Option<&[u8]> {
        match field {
            Field::Bytes(b) => Some(b.data()),
            Field::Group(g) => g.get_column_iter().find_map(|(_, f)| bytes_of(f)),
            _ => None,
        }
    }
    let mut cols = row.get_column_iter();
    let named = row
        .get_column_iter()
        .find(|(n, _)| IMAGE_NAMES.contains(&n.as_str()))
        .and_then(|(_, f)| bytes_of(f));
    named.or_else(|| cols.find_map(|(_, f)| bytes_of(f)))
}

fn integer(field: &Field) -> Option<i64> {
    match *field {
        Field::Byte(v) => Some(v.into()),
        Field::Short(v) => Some(v.into()),
        Field::Int(v) => Some(v.into()),
        Field::Long(v) => Some(v),
        Field::UByte(v) => Some(v.into()),
        Field::UShort(v) => Some(v.into()),
        Field::UInt(v) => Some(v.into()),
        Field::ULong(v) => i64::try_from(v).ok(),
        _ => None,
    }
}

/// The label of a row and the name of its column: a column named like a label, else the first
/// top-level integer column.
fn label_of(row: &Row) -> Option<(String, i64)> {
    let named = row
        .get_column_iter()
        .find(|(n, _)| LABEL_NAMES.contains(&n.as_str()))
        .and_then(|(n, f)| integer(f).map(|v| (n.clone(), v)));
    named.or_else(|| {
        row.get_column_iter()
            .find_map(|(n, f)| integer(f).map(|v| (n.clone(), v)))
    })
}

/// Class names from the `huggingface` metadata entry (`info.features.<label>.names`).
fn hf_class_names(reader: &SerializedFileReader<std::fs::File>, label_col: &str) -> Vec<String> {
    let Some(kv) = reader.metadata().file_metadata().key_value_metadata() else {
        return Vec::new();
    };
    kv.iter()
        .filter(|e| e.key == "huggingface")
        .filter_map(|e| e.value.as_deref())
        .filter_map(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .find_map(|v| {
            let names = v
                .pointer(&format!("/info/features/{label_col}/names"))?
                .as_array()?
                .iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            Some(names)
        })
        .unwrap_or_default()
}

/// Reads parquet files (in the given order) into memory. An image that fails to decode is
/// skipped and reported in [`MemorySource::warnings`]; the read fails if every image fails.
///
/// # Errors
/// An unreadable or malformed file, a row without image bytes, a negative label or one beyond
/// the class names in the metadata, or every image undecodable; each error names the file.
pub fn read_parquet_images(files: &[std::path::PathBuf]) -> Result<MemorySource> {
    let first = files
        .first()
        .ok_or_else(|| TrainerError::invalid("read_parquet_images", "no parquet file given"))?;
    let mut rows: Vec<(usize, usize, Vec<u8>, Option<u32>)> = Vec::new();
    let mut class_names: Option<Vec<String>> = None;
    for (file_index, path) in files.iter().enumerate() {
        let perr = |reason: String| TrainerError::Parquet {
            path: path.clone(),
            reason,
        };
        let file =
            std::fs::File::open(path).map_err(|e| TrainerError::io("open parquet", path, e))?;
        let reader = SerializedFileReader::new(file).map_err(|e| perr(e.to_string()))?;
        let iter = reader.get_row_iter(None).map_err(|e| perr(e.to_string()))?;
        for (row_index, row) in iter.enumerate() {
            let row = row.map_err(|e| perr(format!("row {row_index}: {e}")))?;
            let bytes = image_bytes(&row)
                .ok_or_else(|| perr(format!("row {row_index} has no binary image column")))?;
            let label = match label_of(&row) {
                Some((col, v)) => {
                    if class_names.is_none() {
                        class_names = Some(hf_class_names(&reader, &col));
                    }
                    Some(u32::try_from(v).map_err(|_| {
                        perr(format!(
                            "row {row_index}: label {v} in column `{col}` is negative or too large"
                        ))
                    })?)
                }
                None => None,
            };
            rows.push((file_index, row_index, bytes.to_vec(), label));
        }
    }
    let class_names = class_names.unwrap_or_default();
    if rows.is_empty() {
        return Err(TrainerError::Parquet {
            path: first.clone(),
            reason: "no rows".into(),
        });
    }
    let decoded: Vec<Result<image::RgbImage>> = rows
        .par_iter()
        .map(|(f, r, bytes, _)| {
            image::load_from_memory(bytes)
                .map(|img| img.to_rgb8())
                .map_err(|e| TrainerError::ImageDecode {
                    path: files[*f].clone(),
                    reason: format!("row {r}: {e}"),
                })
        })
        .collect();
    let what = if files.len() == 1 {
        format!("parquet `{}`", first.display())
    } else {
        format!("parquet `{}` and {} more", first.display(), files.len() - 1)
    };
    let mut store = MemorySource::new(what, class_names);
    let mut first_error = None;
    let mut warnings = Vec::new();
    for ((f, r, _, label), img) in rows.iter().zip(decoded) {
        match img {
            Ok(img) => store
                .push_rgb8(&img, *label)
                .map_err(|e| TrainerError::Parquet {
                    path: files[*f].clone(),
                    reason: format!("row {r}: {e}"),
                })?,
            Err(e) => {
                let msg = e.to_string();
                first_error.get_or_insert_with(|| msg.clone());
                warnings.push(format!("skipped: {msg}"));
            }
        }
    }
    if store.is_empty() {
        return Err(TrainerError::Parquet {
            path: first.clone(),
            reason: format!(
                "all {} images failed to decode; first: {}",
                rows.len(),
                first_error.unwrap_or_default()
            ),
        });
    }
    for w in warnings {
        store.add_warning(w);
    }
    Ok(store)
}

/// Whether `path` has the `.parquet` extension.
pub fn is_parquet_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

//! Sample grids: [`grid_image`] lays image tensors out in rows and columns, [`save_grid`]
//! writes the grid as a PNG, [`scale_rows`] turns a sampling result (one batch per scale)
//! into rows.

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainerError};
use candle_core::{DType, Device, Tensor};
use image::{Rgb, RgbImage};
use std::path::Path;

/// Width in pixels of the white gap between cells.
const GAP: usize = 2;
/// The gap and background colour.
const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// The largest grid image accepted, in pixels (about 256 MiB of RGB).
const MAX_PIXELS: u64 = 1 << 28;

/// An image decoded from a tensor: `h * w` RGB pixels, row-major.
struct Pixels {
    h: usize,
    w: usize,
    rgb: Vec<[u8; 3]>,
}

/// Checks that `t` is a float image shaped `(3, h, w)` or `(1, 3, h, w)` and reads it to
/// 8-bit RGB (values clamped to [0, 1], NaN as 0).
fn to_pixels(t: &Tensor, op: &'static str) -> Result<Pixels> {
    let dims = t.dims();
    let shape_err = || TrainerError::Shape {
        op,
        expected: "a float image tensor shaped (3, h, w) or (1, 3, h, w) with h, w > 0".into(),
        got: dims.to_vec(),
        dtype: t.dtype(),
    };
    let (h, w) = match dims {
        [3, h, w] => (*h, *w),
        [1, 3, h, w] => (*h, *w),
        _ => return Err(shape_err()),
    };
    if h == 0 || w == 0 || !t.dtype().is_float() {
        return Err(shape_err());
    }
    let values = t
        .to_device(&Device::Cpu)?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let plane = h * w;
    let to_u8 = |v: f32| -> u8 {
        if v.is_nan() {
            0
        } else {
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        }
    };
    let rgb = (0..plane)
        .map(|i| {
            [
                to_u8(values[i]),
                to_u8(values[plane + i]),
                to_u8(values[2 * plane + i]),
            ]
        })
        .collect();
    Ok(Pixels { h, w, rgb })
}

/// A grid image: `rows[r][c]` is an image tensor in [0, 1] shaped (3, h, w) or (1, 3, h, w) (any float dtype, any device; values are clamped), each nearest-upscaled (integer factor, or nearest resize when not an integer multiple) to `cell` x `cell` pixels, 2-pixel white gaps between cells. Rows may have different lengths (shorter rows are padded with background). Errors (no panic) for an empty grid, a wrong rank/channel count, or cell == 0.
///
/// The image is `c * cell + (c - 1) * 2` pixels wide and `r * cell + (r - 1) * 2` tall for
/// `r` rows and `c` columns (the longest row); the background is white. Output pixel `y` of a
/// cell samples source row `floor(y * h / cell)`, which is plain pixel replication when
/// `cell` is a multiple of the image size. NaN values are drawn black.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let red = Tensor::new(&[[[1f32]], [[0.]], [[0.]]], &Device::Cpu).unwrap(); // (3, 1, 1)
/// let img = wno_trainer::report::grid_image(&[vec![red.clone(), red]], 4).unwrap();
/// assert_eq!(img.dimensions(), (4 + 2 + 4, 4));
/// assert_eq!(img.get_pixel(0, 0).0, [255, 0, 0]);
/// assert_eq!(img.get_pixel(4, 0).0, [255, 255, 255]); // the gap
/// ```
///
/// # Errors
/// [`TrainerError::InvalidArgument`] for `cell == 0`, a grid with no image, or a grid too
/// large to allocate; [`TrainerError::Shape`] for a tensor that is not a float `(3, h, w)` or
/// `(1, 3, h, w)` image; [`TrainerError::Candle`] when a tensor cannot be read.
pub fn grid_image(rows: &[Vec<Tensor>], cell: usize) -> Result<RgbImage> {
    const OP: &str = "grid_image";
    if cell == 0 {
        return Err(TrainerError::invalid(
            OP,
            "cell size must be at least 1 pixel",
        ));
    }
    let n_rows = rows.len();
    let n_cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if n_rows == 0 || n_cols == 0 {
        return Err(TrainerError::invalid(OP, "the grid holds no image"));
    }
    let extent = |n: usize| -> Option<u64> {
        (n as u64)
            .checked_mul(cell as u64)?
            .checked_add((n as u64 - 1).checked_mul(GAP as u64)?)
    };
    let too_large = || {
        TrainerError::invalid(
            OP,
            format!("a grid of {n_rows} x {n_cols} cells of {cell} pixels is too large"),
        )
    };
    let width = extent(n_cols).ok_or_else(too_large)?;
    let height = extent(n_rows).ok_or_else(too_large)?;
    if width > u32::MAX as u64
        || height > u32::MAX as u64
        || width.checked_mul(height).is_none_or(|p| p > MAX_PIXELS)
    {
        return Err(too_large());
    }
    // Decode every tensor first so that a bad one fails before anything is drawn.
    let decoded: Vec<Vec<Pixels>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|t| to_pixels(t, OP))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let mut img = RgbImage::from_pixel(width as u32, height as u32, BACKGROUND);
    for (r, row) in decoded.iter().enumerate() {
        for (c, px) in row.iter().enumerate() {
            let x0 = c * (cell + GAP);
            let y0 = r * (cell + GAP);
            for y in 0..cell {
                let sy = y * px.h / cell;
                for x in 0..cell {
                    let sx = x * px.w / cell;
                    img.put_pixel(
                        (x0 + x) as u32,
                        (y0 + y) as u32,
                        Rgb(px.rgb[sy * px.w + sx]),
                    );
                }
            }
        }
    }
    Ok(img)
}

/// Encodes `img` as PNG bytes.
pub(crate) fn encode_png(img: &RgbImage, op: &'static str, path: &Path) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| TrainerError::ImageWrite {
            op,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(bytes)
}

/// `grid_image` then writes a PNG atomically (temp file + rename), creating the parent folder.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("samples").join("step_100.png");
/// let img = Tensor::full(0.5f32, (1, 3, 8, 8), &Device::Cpu).unwrap();
/// wno_trainer::report::save_grid(&path, &[vec![img]], 16).unwrap();
/// let back = image::open(&path).unwrap().to_rgb8();
/// assert_eq!(back.dimensions(), (16, 16));
/// assert_eq!(back.get_pixel(3, 3).0, [128, 128, 128]);
/// ```
///
/// # Errors
/// The errors of [`grid_image`], [`TrainerError::ImageWrite`] when encoding fails and
/// [`TrainerError::Io`] when the file cannot be written.
pub fn save_grid(path: &Path, rows: &[Vec<Tensor>], cell: usize) -> Result<()> {
    let img = grid_image(rows, cell)?;
    let bytes = encode_png(&img, "save_grid", path)?;
    write_atomic(path, &bytes)
}

/// Rows of a sampling result: `scales` are batches (B, 3, s, s) coarsest first as returned by the generator's upscale/generate ([4x4, 8x8, ..., 64x64]); row i = `[scales[0][i], scales[1][i], ..., truth[i] if Some]`. All scales must share B (error otherwise).
///
/// `truth` is a batch `(B, 3, H, W)` with the same `B`. The images are views of the inputs
/// (no copy). A batch of size 0 gives no rows.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let dev = Device::Cpu;
/// let scales = [Tensor::zeros((2, 3, 4, 4), candle_core::DType::F32, &dev).unwrap(),
///               Tensor::zeros((2, 3, 8, 8), candle_core::DType::F32, &dev).unwrap()];
/// let truth = Tensor::ones((2, 3, 8, 8), candle_core::DType::F32, &dev).unwrap();
/// let rows = wno_trainer::report::scale_rows(&scales, Some(&truth)).unwrap();
/// assert_eq!(rows.len(), 2);
/// assert_eq!(rows[0].len(), 3);
/// assert_eq!(rows[1][1].dims(), &[3, 8, 8]);
/// ```
///
/// # Errors
/// [`TrainerError::InvalidArgument`] when there is nothing to show (no scale and no truth)
/// or the batch sizes differ; [`TrainerError::Shape`] for a tensor that is not
/// `(B, 3, h, w)`.
pub fn scale_rows(scales: &[Tensor], truth: Option<&Tensor>) -> Result<Vec<Vec<Tensor>>> {
    const OP: &str = "scale_rows";
    let all: Vec<(String, &Tensor)> = scales
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("scales[{i}]"), t))
        .chain(truth.map(|t| ("truth".to_string(), t)))
        .collect();
    let Some((first_name, first)) = all.first() else {
        return Err(TrainerError::invalid(OP, "no scale and no truth given"));
    };
    for (_, t) in &all {
        match t.dims() {
            [_, 3, h, w] if *h > 0 && *w > 0 => {}
            dims => {
                return Err(TrainerError::Shape {
                    op: OP,
                    expected: "a batch of images shaped (B, 3, h, w)".into(),
                    got: dims.to_vec(),
                    dtype: t.dtype(),
                })
            }
        }
    }
    let b = first.dims()[0];
    for (name, t) in &all {
        let bt = t.dims()[0];
        if bt != b {
            return Err(TrainerError::invalid(
                OP,
                format!(
                    "batch sizes differ: {first_name} has {b} images, {name} has {bt} \
                     (shape {:?})",
                    t.dims()
                ),
            ));
        }
    }
    (0..b)
        .map(|i| {
            all.iter()
                .map(|(_, t)| t.get(i).map_err(TrainerError::from))
                .collect::<Result<Vec<_>>>()
        })
        .collect()
}

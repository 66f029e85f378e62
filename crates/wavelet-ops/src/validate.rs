//! Input checks shared by the public entry points, so every op reports bad input the same way.

use crate::error::{Result, WaveletError};
use candle_core::{DType, Tensor};

/// Checks rank, dtype and non-emptiness of `t` for operation `op`.
pub(crate) fn check_float(
    op: &'static str,
    t: &Tensor,
    rank: usize,
    layout: &'static str,
) -> Result<()> {
    let (shape, dtype) = (t.dims().to_vec(), t.dtype());
    if shape.len() != rank {
        return Err(WaveletError::Rank {
            op,
            expected: rank,
            layout,
            shape,
            dtype,
        });
    }
    if !matches!(dtype, DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
        return Err(WaveletError::DType { op, shape, dtype });
    }
    if shape.contains(&0) {
        return Err(WaveletError::Empty { op, shape, dtype });
    }
    Ok(())
}

/// Checks that dim 2 of `t` holds `expected` bands.
pub(crate) fn check_bands(
    op: &'static str,
    t: &Tensor,
    expected: usize,
    names: &'static str,
) -> Result<()> {
    if t.dims()[2] != expected {
        return Err(WaveletError::Bands {
            op,
            expected,
            names,
            shape: t.dims().to_vec(),
            dtype: t.dtype(),
        });
    }
    Ok(())
}

/// Checks that bands of size `(h2, w2)` can reconstruct an `(out_h, out_w)` image.
pub(crate) fn check_output_size(
    op: &'static str,
    bands: &Tensor,
    out_h: usize,
    out_w: usize,
) -> Result<()> {
    let d = bands.dims();
    let (h2, w2) = (d[d.len() - 2], d[d.len() - 1]);
    if !fits(out_h, h2) || !fits(out_w, w2) {
        return Err(WaveletError::OutputSize {
            op,
            out_h,
            out_w,
            min_h: 2 * h2 - 1,
            max_h: 2 * h2,
            min_w: 2 * w2 - 1,
            max_w: 2 * w2,
            shape: d.to_vec(),
            dtype: bands.dtype(),
        });
    }
    Ok(())
}

/// Whether `n` outputs can come from bands of `half` elements (`2 half` or `2 half - 1`; never
/// `n = 0`). No overflow for any `n`.
pub(crate) fn fits(n: usize, half: usize) -> bool {
    n.div_ceil(2) == half && n > 0
}

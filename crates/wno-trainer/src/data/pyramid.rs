//! The area-average pyramid of DESIGN.md section 2, as candle ops (runs on any device).

use crate::error::{Result, TrainerError};
use candle_core::Tensor;

/// Builds the pyramid of a `(B, C, S, S)` batch by repeated 2x2 averaging, coarsest first:
/// `[S/2^k, ..., S/2, S]` down to `min_side` (e.g. 4, 8, 16, 32, 64 for `S = 64, min_side = 4`).
/// Each level equals PyTorch's `F.interpolate(x, size, mode="area")` for these power-of-two
/// ratios (the mean of each `2^k x 2^k` block), up to float rounding.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use wno_trainer::data::area_pyramid;
/// let x = Tensor::arange(0f32, 16., &Device::Cpu).unwrap().reshape((1, 1, 4, 4)).unwrap();
/// let levels = area_pyramid(&x, 1).unwrap();
/// assert_eq!(levels.len(), 3);
/// assert_eq!(levels[0].flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![7.5]);
/// ```
///
/// # Errors
/// A tensor that is not 4-D and square, or a side that is not `min_side` times a power of two.
pub fn area_pyramid(x: &Tensor, min_side: usize) -> Result<Vec<Tensor>> {
    let dims = x.dims();
    let bad = || TrainerError::Shape {
        op: "area_pyramid",
        expected: format!("(B, C, S, S) float with S = {min_side} * 2^k"),
        got: dims.to_vec(),
        dtype: x.dtype(),
    };
    if dims.len() != 4 || dims[2] != dims[3] || min_side == 0 || !x.dtype().is_float() {
        return Err(bad());
    }
    let side = dims[2];
    if side < min_side || side % min_side != 0 || !(side / min_side).is_power_of_two() {
        return Err(bad());
    }
    let mut levels = vec![x.clone()];
    let mut cur = x.clone();
    let mut s = side;
    while s > min_side {
        cur = cur.avg_pool2d(2)?;
        s /= 2;
        levels.push(cur.clone());
    }
    levels.reverse();
    Ok(levels)
}

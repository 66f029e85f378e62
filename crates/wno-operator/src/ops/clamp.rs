//! Clamp to [0, 1] with PyTorch's gradient.

use crate::error::Result;
use candle_core::Tensor;

/// `clamp(x, 0, 1)` whose gradient is PyTorch's: 1 where `0 <= x <= 1` (both bounds included),
/// 0 outside.
///
/// Written as `x * inside + above` with the masks `inside = [0 <= x <= 1]` and `above = [x > 1]`
/// computed from a detached copy, so the forward is exact and candle's backward passes the
/// gradient through `inside` only.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// let x = Var::new(&[-0.5f64, 0., 0.5, 1., 1.5], &Device::Cpu)?;
/// let y = wno_operator::ops::clamp01(&x)?;
/// assert_eq!(y.to_vec1::<f64>()?, vec![0., 0., 0.5, 1., 1.]);
/// let g = y.sum_all()?.backward()?;
/// assert_eq!(g.get(&x).unwrap().to_vec1::<f64>()?, vec![0., 1., 1., 1., 0.]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Only candle errors (e.g. an integer dtype).
pub fn clamp01(x: &Tensor) -> Result<Tensor> {
    let xd = x.detach();
    let dt = x.dtype();
    let inside = (xd.ge(0.0)?.to_dtype(dt)? * xd.le(1.0)?.to_dtype(dt)?)?;
    let above = xd.gt(1.0)?.to_dtype(dt)?;
    Ok(x.mul(&inside)?.add(&above)?)
}

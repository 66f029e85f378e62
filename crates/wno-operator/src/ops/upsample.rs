//! Nearest-neighbour upsampling by an integer factor, with an accumulating backward.

use crate::error::{OperatorError, Result};
use candle_core::Tensor;

/// Nearest-neighbour upsampling of `x` `(B, C, H, W)` by an integer `factor` to
/// `(B, C, factor * H, factor * W)`: output pixel `(i, j)` reads input `(i / factor, j / factor)`,
/// as PyTorch's `F.interpolate(mode='nearest')` for integer scales.
///
/// Built from a reshape and a broadcast, so its backward is candle's broadcast backward: the
/// sum over each `factor x factor` block, **added** to whatever gradient the input already has.
/// (candle 0.11's `upsample_nearest2d` backward overwrites the gradient of its input instead
/// of adding to it, which loses the other paths whenever the input is also used elsewhere.)
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &Device::Cpu)?;
/// let y = wno_operator::ops::upsample_nearest(&x, 2)?;
/// assert_eq!(y.get(0)?.get(0)?.get(1)?.to_vec1::<f32>()?, vec![1., 1., 2., 2.]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OperatorError::Shape`] unless `x` is rank 4; [`OperatorError::Size`] when `factor` is 0.
pub fn upsample_nearest(x: &Tensor, factor: usize) -> Result<Tensor> {
    const OP: &str = "upsample_nearest";
    if x.rank() != 4 {
        return Err(OperatorError::shape(OP, "input (B, C, H, W)", x));
    }
    let (b, c, h, w) = x.dims4()?;
    if factor == 0 {
        return Err(OperatorError::Size { op: OP, h, w, reason: "the upsampling factor must be at least 1".into() });
    }
    if factor == 1 {
        return Ok(x.clone());
    }
    Ok(x.reshape((b, c, h, 1, w, 1))?.broadcast_as((b, c, h, factor, w, factor))?.reshape((b, c, h * factor, w * factor))?)
}

/// Nearest-neighbour resize of `x` `(B, C, h, w)` to `(B, C, H, W)` where `H/h == W/w` is an
/// integer; see [`upsample_nearest`].
///
/// # Errors
/// [`OperatorError::Size`] when the target is not the same integer multiple of both sides.
pub fn resize_nearest(x: &Tensor, out_h: usize, out_w: usize) -> Result<Tensor> {
    const OP: &str = "resize_nearest";
    if x.rank() != 4 {
        return Err(OperatorError::shape(OP, "input (B, C, H, W)", x));
    }
    let (_, _, h, w) = x.dims4()?;
    if h == 0 || w == 0 || out_h % h != 0 || out_w % w != 0 || out_h / h != out_w / w || out_h < h {
        return Err(OperatorError::Size {
            op: OP,
            h,
            w,
            reason: format!("cannot resize to {out_h}x{out_w}: the target must be the same integer multiple of both sides"),
        });
    }
    upsample_nearest(x, out_h / h)
}

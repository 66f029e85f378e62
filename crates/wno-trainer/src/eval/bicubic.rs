//! Bicubic resize of image tensors, PyTorch's `F.interpolate(mode="bicubic",
//! align_corners=False, antialias=False)`, as two small interpolation matrices (runs on any
//! device).

use crate::data::bicubic_weights;
use crate::error::{Result, TrainerError};
use candle_core::{DType, Device, Tensor};

/// The `(out, in)` interpolation matrix of one axis: row `dst` holds the four cubic-convolution
/// weights of PyTorch's `upsample_bicubic2d` at source coordinate `(dst + 0.5) * in / out - 0.5`,
/// taps outside `0..in` clamped to the border (their weights add up on the border pixel).
/// The weights are computed in f32 exactly as [`crate::data::resize_bicubic`] does.
fn axis_matrix(in_size: usize, out_size: usize) -> Vec<f32> {
    let scale = in_size as f32 / out_size as f32;
    let last = in_size as i64 - 1;
    let mut m = vec![0f32; out_size * in_size];
    for dst in 0..out_size {
        let real = scale * (dst as f32 + 0.5) - 0.5;
        let base = real.floor();
        let w = bicubic_weights(real - base);
        let base = base as i64;
        for (k, wk) in w.iter().enumerate() {
            let src = (base - 1 + k as i64).clamp(0, last) as usize;
            m[dst * in_size + src] += wk;
        }
    }
    m
}

/// Resizes a `(B, C, H, W)` batch to `(B, C, size, size)` with PyTorch's bicubic interpolation
/// (`F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)`: Keys' cubic
/// convolution with `A = -0.75`, border taps clamped). Like PyTorch the result is **not**
/// clamped (bicubic overshoots near edges); clamp it for images.
///
/// The resize is separable, `out = M_h x M_w^T` with one small interpolation matrix per axis,
/// so it runs on the tensor's own device and needs no copy to the host. f32 and f64 inputs are
/// computed in their own precision, half-precision inputs in f32 (the result has the input's
/// dtype). Values agree with [`crate::data::resize_bicubic`] (the per-image CPU version used by
/// [`crate::data::Pipeline`]) up to f32 rounding.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use wno_trainer::eval::bicubic_resize_tensor;
/// // A constant image stays constant, whatever the sizes.
/// let x = Tensor::full(0.25f32, (2, 3, 4, 4), &Device::Cpu)?;
/// let y = bicubic_resize_tensor(&x, 64)?;
/// assert_eq!(y.dims(), &[2, 3, 64, 64]);
/// let (lo, hi) = (y.min_all()?.to_scalar::<f32>()?, y.max_all()?.to_scalar::<f32>()?);
/// assert!((lo - 0.25).abs() < 1e-6 && (hi - 0.25).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TrainerError::Shape`] for a tensor that is not a 4-D float batch with non-empty sides,
/// [`TrainerError::InvalidArgument`] for `size == 0`.
pub fn bicubic_resize_tensor(x: &Tensor, size: usize) -> Result<Tensor> {
    let dims = x.dims();
    if dims.len() != 4 || !x.dtype().is_float() || dims[2] == 0 || dims[3] == 0 {
        return Err(TrainerError::Shape {
            op: "bicubic_resize_tensor",
            expected: "a (B, C, H, W) float tensor with H, W >= 1".into(),
            got: dims.to_vec(),
            dtype: x.dtype(),
        });
    }
    if size == 0 {
        return Err(TrainerError::invalid("bicubic_resize_tensor", "the output size must be at least 1"));
    }
    let (b, c, h, w) = x.dims4()?;
    let work = match x.dtype() {
        DType::F64 => DType::F64,
        _ => DType::F32,
    };
    let matrix = |n_in: usize| -> Result<Tensor> {
        let m = Tensor::from_vec(axis_matrix(n_in, size), (size, n_in), &Device::Cpu)?;
        Ok(m.to_dtype(work)?.to_device(x.device())?)
    };
    let (mh, mw) = (matrix(h)?, matrix(w)?);
    let xs = x.to_dtype(work)?.contiguous()?;
    // Along the width first (as PyTorch), then along the height.
    let rows = xs.reshape((b * c * h, w))?.matmul(&mw.t()?)?.reshape((b * c, h, size))?;
    let out = mh.broadcast_left(b * c)?.contiguous()?.matmul(&rows)?;
    Ok(out.reshape((b, c, size, size))?.to_dtype(x.dtype())?)
}

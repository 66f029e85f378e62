//! The coordinate input channels.

use crate::error::Result;
use candle_core::{DType, Device, Tensor};

/// `torch.linspace(-1, 1, n)` in f32, bit for bit: both halves are computed from their own end
/// with a fused multiply-add, as PyTorch's CPU kernel does.
pub fn linspace_f32(n: usize) -> Vec<f32> {
    if n == 1 {
        return vec![-1.0];
    }
    let step = 2f32 / (n - 1) as f32;
    (0..n)
        .map(|i| if i < n / 2 { step.mul_add(i as f32, -1.0) } else { (-step).mul_add((n - 1 - i) as f32, 1.0) })
        .collect()
}

/// `torch.linspace(-1, 1, n)` in f64 (same two-sided formula).
pub fn linspace_f64(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![-1.0];
    }
    let step = 2f64 / (n - 1) as f64;
    (0..n)
        .map(|i| if i < n / 2 { step.mul_add(i as f64, -1.0) } else { (-step).mul_add((n - 1 - i) as f64, 1.0) })
        .collect()
}

/// The two coordinate channels `(B, 2, H, W)`: channel 0 is x (varies along the width),
/// channel 1 is y (varies along the height), each `linspace(-1, 1)`.
///
/// ```
/// let c = wno_operator::coordinate_channels(1, 2, 3, candle_core::DType::F32, &candle_core::Device::Cpu)?;
/// assert_eq!(c.get(0)?.get(0)?.to_vec2::<f32>()?, vec![vec![-1., 0., 1.], vec![-1., 0., 1.]]);
/// assert_eq!(c.get(0)?.get(1)?.to_vec2::<f32>()?, vec![vec![-1., -1., -1.], vec![1., 1., 1.]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn coordinate_channels(b: usize, h: usize, w: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let (xs, ys) = if dtype == DType::F64 {
        (Tensor::new(linspace_f64(w), device)?, Tensor::new(linspace_f64(h), device)?)
    } else {
        (Tensor::new(linspace_f32(w), device)?.to_dtype(dtype)?, Tensor::new(linspace_f32(h), device)?.to_dtype(dtype)?)
    };
    let xx = xs.reshape((1, 1, 1, w))?.broadcast_as((b, 1, h, w))?;
    let yy = ys.reshape((1, 1, h, 1))?.broadcast_as((b, 1, h, w))?;
    Ok(Tensor::cat(&[xx, yy], 1)?)
}

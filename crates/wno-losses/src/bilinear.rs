//! Bilinear resize of image batches, PyTorch's `F.interpolate(mode="bilinear",
//! align_corners=False, antialias=False)`, as two small interpolation matrices (runs on any
//! device, no copy to the host).

use candle_core::{Device, Tensor};

use crate::error::Result;

/// The `(out, in)` interpolation matrix of one axis, with PyTorch's `upsample_bilinear2d`
/// weights: source coordinate `max((dst + 0.5) * in / out - 0.5, 0)`, taps `floor` and
/// `floor + 1` (the latter clamped to the last pixel), weights `1 - frac` and `frac`, all in
/// f32 as PyTorch computes them for f32 tensors.
fn axis_matrix(in_size: usize, out_size: usize) -> Vec<f32> {
    let scale = in_size as f32 / out_size as f32;
    let mut m = vec![0f32; out_size * in_size];
    for dst in 0..out_size {
        let src = (scale * (dst as f32 + 0.5) - 0.5).max(0.0);
        let i0 = (src as usize).min(in_size - 1);
        let i1 = (i0 + 1).min(in_size - 1);
        let l1 = (src - i0 as f32).clamp(0.0, 1.0);
        m[dst * in_size + i0] += 1.0 - l1;
        m[dst * in_size + i1] += l1;
    }
    m
}

/// Resizes a `(B, C, H, W)` float batch (H, W >= 1, checked by the caller) to
/// `(B, C, out_h, out_w)`: `M_h x M_w^T`, computed in the input's dtype (f32 weights).
pub(crate) fn resize_bilinear(x: &Tensor, out_h: usize, out_w: usize) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let matrix = |n_in: usize, n_out: usize| -> Result<Tensor> {
        let m = Tensor::from_vec(axis_matrix(n_in, n_out), (n_out, n_in), &Device::Cpu)?;
        Ok(m.to_dtype(x.dtype())?.to_device(x.device())?)
    };
    let (mh, mw) = (matrix(h, out_h)?, matrix(w, out_w)?);
    let rows = x.contiguous()?.reshape((b * c * h, w))?.matmul(&mw.t()?)?.reshape((b * c, h, out_w))?;
    let out = mh.broadcast_left(b * c)?.contiguous()?.matmul(&rows)?;
    Ok(out.reshape((b, c, out_h, out_w))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    fn values(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn matches_pytorch_weights_on_small_cases() {
        let dev = Device::Cpu;
        // 2 -> 4: source coordinates -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper tap clamped).
        let x = Tensor::new(&[[[[1f32, 5.]]]], &dev).unwrap();
        let y = resize_bilinear(&x, 1, 4).unwrap();
        assert_eq!(values(&y), vec![1.0, 2.0, 4.0, 5.0]);
        // 4 -> 2: coordinates 0.5 and 2.5, the mean of each pair.
        let x = Tensor::new(&[[[[1f32], [3.], [7.], [9.]]]], &dev).unwrap();
        assert_eq!(values(&resize_bilinear(&x, 2, 1).unwrap()), vec![2.0, 8.0]);
        // The same size is the identity; a constant stays constant at any size.
        let x = Tensor::arange(0f32, 2.0 * 3.0 * 5.0 * 7.0, &dev).unwrap().reshape((2, 3, 5, 7)).unwrap();
        assert_eq!(values(&resize_bilinear(&x, 5, 7).unwrap()), values(&x));
        let c = Tensor::full(0.25f64, (1, 3, 3, 5), &dev).unwrap();
        let r = values(&resize_bilinear(&c, 299, 17).unwrap());
        assert_eq!(r.len(), 3 * 299 * 17);
        assert!(r.iter().all(|v| (v - 0.25).abs() < 1e-7));
    }
}

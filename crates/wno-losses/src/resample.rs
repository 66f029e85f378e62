//! 2x resampling built from reshapes and broadcasts, so that autograd handles them exactly.
//!
//! candle 0.11.1's backward of `upsample_nearest2d` *replaces* the gradient already accumulated
//! for its input instead of adding to it (`*sum_grad = conv_sum` in `backprop.rs`), which is wrong
//! whenever that input is used elsewhere too (as in a Laplacian pyramid, where each coarse level
//! is both upsampled and decomposed further). Broadcasting a `(.., h, 1, w, 1)` view to
//! `(.., h, 2, w, 2)` has a correct (summing) backward and runs on every backend.

use candle_core::{Result, Tensor};

/// Nearest-neighbour 2x upsampling of a `(B, C, H, W)` tensor to `(B, C, 2H, 2W)`.
pub(crate) fn upsample_nearest_2x(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    x.reshape((b, c, h, 1, w, 1))?
        .broadcast_as((b, c, h, 2, w, 2))?
        .reshape((b, c, 2 * h, 2 * w))
}

/// 2x2 average pooling with stride 2 of a `(B, C, H, W)` tensor with even `H` and `W`.
pub(crate) fn avg_pool_2x(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    x.reshape((b, c, h / 2, 2, w / 2, 2))?.sum(5)?.sum(3)?.affine(0.25, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn matches_candle_forward_and_accumulates_gradients() {
        let dev = Device::Cpu;
        let x = Tensor::arange(0f64, 2.0 * 3.0 * 4.0 * 6.0, &dev)
            .unwrap()
            .sin()
            .unwrap()
            .reshape((2, 3, 4, 6))
            .unwrap();
        let up = upsample_nearest_2x(&x).unwrap();
        let want = x.upsample_nearest2d(8, 12).unwrap();
        let d = (up - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert_eq!(d, 0.0);
        let pooled = avg_pool_2x(&x).unwrap();
        let want = x.avg_pool2d(2).unwrap();
        let d = (pooled - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(d < 1e-15);

        // y = sum(up(v)) + sum(v): dy/dv = 4 + 1 everywhere (the upsampled copy has 4 cells).
        let v = Var::from_tensor(&x).unwrap();
        let y = (upsample_nearest_2x(v.as_tensor()).unwrap().sum_all().unwrap()
            + v.as_tensor().sum_all().unwrap())
        .unwrap();
        let g = y.backward().unwrap();
        let g = g.get(v.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        assert!(g.iter().all(|e| *e == 5.0), "{g:?}");
    }
}

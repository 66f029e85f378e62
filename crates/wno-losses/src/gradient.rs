//! Gradient L1: the L1 distance between the forward differences of two images.

use candle_core::Tensor;

use crate::check::image_pair;
use crate::error::Result;

/// Gradient L1 between two `(B, C, H, W)` batches, the "padded" form of DESIGN.md §2.
///
/// With `dx(u)[.., i, j] = u[.., i, j + 1] - u[.., i, j]` and `dy` the same along rows, each
/// difference map is kept at the image size with zeros in its last column / row, so both means
/// divide by `B*C*H*W`:
///
/// `sum|dx(pred) - dx(target)| / (B*C*H*W) + sum|dy(pred) - dy(target)| / (B*C*H*W)`.
///
/// This is what the reference PyTorch objective computes (`fno_tiny.json`, `grad_l1_64`); the
/// "valid" mean over `B*C*H*(W-1)` differences is `W/(W-1)` larger and is not what we use.
/// A side of length 1 contributes no differences along that axis.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// // One 1x1x2x2 image: pred has a horizontal ramp, the target is flat.
/// let p = Tensor::new(&[0f32, 1., 0., 1.], &Device::Cpu)?.reshape((1, 1, 2, 2))?;
/// let t = Tensor::zeros((1, 1, 2, 2), candle_core::DType::F32, &Device::Cpu)?;
/// // dx differences: two of size 1, dy: none; divided by 4 pixels.
/// let g = wno_losses::gradient_l1(&p, &t)?.to_scalar::<f32>()?;
/// assert_eq!(g, 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn gradient_l1(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = image_pair("gradient_l1", pred, target)?;
    let inv_n = 1.0 / (b * c * h * w) as f64;
    // The differences are linear: dx(p) - dx(t) = dx(p - t).
    let d = (pred - target)?;
    let mut total = Tensor::zeros((), pred.dtype(), pred.device())?;
    if w > 1 {
        let dx = (d.narrow(3, 1, w - 1)? - d.narrow(3, 0, w - 1)?)?;
        total = (total + dx.abs()?.sum_all()?)?;
    }
    if h > 1 {
        let dy = (d.narrow(2, 1, h - 1)? - d.narrow(2, 0, h - 1)?)?;
        total = (total + dy.abs()?.sum_all()?)?;
    }
    Ok(total.affine(inv_n, 0.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    /// Scalar reference of the padded definition, straight from the formula.
    fn reference(p: &[f64], t: &[f64], b: usize, c: usize, h: usize, w: usize) -> f64 {
        let at = |v: &[f64], n: usize, i: usize, j: usize| v[(n * h + i) * w + j];
        let (mut sx, mut sy) = (0.0, 0.0);
        for n in 0..b * c {
            for i in 0..h {
                for j in 0..w {
                    if j + 1 < w {
                        let dp = at(p, n, i, j + 1) - at(p, n, i, j);
                        let dt = at(t, n, i, j + 1) - at(t, n, i, j);
                        sx += (dp - dt).abs();
                    }
                    if i + 1 < h {
                        let dp = at(p, n, i + 1, j) - at(p, n, i, j);
                        let dt = at(t, n, i + 1, j) - at(t, n, i, j);
                        sy += (dp - dt).abs();
                    }
                }
            }
        }
        let n = (b * c * h * w) as f64;
        sx / n + sy / n
    }

    #[test]
    fn matches_scalar_formula_on_odd_sizes() {
        let (b, c, h, w) = (2, 3, 5, 7);
        let n = b * c * h * w;
        let p: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64 * 0.13).sin()).collect();
        let t: Vec<f64> = (0..n).map(|i| ((i * 17 % 13) as f64 * 0.29).cos()).collect();
        let dev = Device::Cpu;
        let pt = Tensor::from_vec(p.clone(), (b, c, h, w), &dev).unwrap();
        let tt = Tensor::from_vec(t.clone(), (b, c, h, w), &dev).unwrap();
        let got = gradient_l1(&pt, &tt).unwrap().to_scalar::<f64>().unwrap();
        assert!((got - reference(&p, &t, b, c, h, w)).abs() < 1e-14);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (b, c, h, w) = (1, 2, 4, 5);
        let n = b * c * h * w;
        let dev = Device::Cpu;
        let p: Vec<f64> = (0..n).map(|i| (i as f64 * 0.71).sin()).collect();
        let t: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).cos() * 0.5).collect();
        let tt = Tensor::from_vec(t.clone(), (b, c, h, w), &dev).unwrap();
        let v = Var::from_tensor(&Tensor::from_vec(p.clone(), (b, c, h, w), &dev).unwrap()).unwrap();
        let grads = gradient_l1(v.as_tensor(), &tt).unwrap().backward().unwrap();
        let g = grads.get(v.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let eps = 1e-6;
        for k in 0..n {
            let mut hi = p.clone();
            hi[k] += eps;
            let mut lo = p.clone();
            lo[k] -= eps;
            let fd = (reference(&hi, &t, b, c, h, w) - reference(&lo, &t, b, c, h, w)) / (2.0 * eps);
            assert!((fd - g[k]).abs() < 1e-7, "element {k}: fd {fd} vs autograd {}", g[k]);
        }
    }

    #[test]
    fn one_pixel_wide_images_have_no_x_term() {
        let dev = Device::Cpu;
        let p = Tensor::new(&[0f32, 2.0], &dev).unwrap().reshape((1, 1, 2, 1)).unwrap();
        let t = Tensor::zeros((1, 1, 2, 1), DType::F32, &dev).unwrap();
        let g = gradient_l1(&p, &t).unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(g, 1.0); // |2 - 0| / 2 pixels
    }
}

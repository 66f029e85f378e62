//! Laplacian-pyramid L1: L1 distances between band-pass decompositions of two images.

use candle_core::Tensor;

use crate::check::image_pair;
use crate::error::{LossError, Result};
use crate::resample::{avg_pool_2x, upsample_nearest_2x};

/// The band-pass decomposition used by [`laplacian_l1`]: `levels` band-pass images
/// `g - nearest_up2(avg_pool_2x2(g))` (finest first), followed by the coarsest average `g`.
///
/// `x` is `(B, C, H, W)` with `H` and `W` divisible by `2^levels`.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let x = Tensor::arange(0f32, 16., &Device::Cpu)?.reshape((1, 1, 4, 4))?;
/// let pyr = wno_losses::laplacian_pyramid(&x, 2)?;
/// assert_eq!(pyr.len(), 3);
/// assert_eq!(pyr[2].dims(), &[1, 1, 1, 1]);
/// assert_eq!(pyr[2].flatten_all()?.to_vec1::<f32>()?, vec![7.5]); // the mean
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn laplacian_pyramid(x: &Tensor, levels: usize) -> Result<Vec<Tensor>> {
    let (_, _, h, w) = crate::check::image4("laplacian_pyramid", x)?;
    check_divisible("laplacian_pyramid", h, w, levels)?;
    let mut out = Vec::with_capacity(levels + 1);
    let mut g = x.clone();
    for _ in 0..levels {
        let down = avg_pool_2x(&g)?;
        out.push((&g - upsample_nearest_2x(&down)?)?);
        g = down;
    }
    out.push(g);
    Ok(out)
}

/// Laplacian-pyramid L1 (DESIGN.md §2): the **sum** over the `levels + 1` pyramid images of
/// [`laplacian_pyramid`] of the mean absolute difference between `pred` and `target`.
///
/// With `levels = 3` at 64x64 the bands are at 64, 32 and 16, plus the 8x8 remainder.
/// `H` and `W` must be divisible by `2^levels`.
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// let p = Tensor::ones((1, 3, 8, 8), DType::F32, &Device::Cpu)?;
/// let t = Tensor::zeros((1, 3, 8, 8), DType::F32, &Device::Cpu)?;
/// // A constant offset has no band-pass content: only the coarsest average differs, by 1.
/// let l = wno_losses::laplacian_l1(&p, &t, 3)?.to_scalar::<f32>()?;
/// assert_eq!(l, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn laplacian_l1(pred: &Tensor, target: &Tensor, levels: usize) -> Result<Tensor> {
    let (_, _, h, w) = image_pair("laplacian_l1", pred, target)?;
    check_divisible("laplacian_l1", h, w, levels)?;
    // Every pyramid image is linear in its input, so L1(band(p), band(t)) = mean|band(p - t)|.
    let d = (pred - target)?;
    let mut total = Tensor::zeros((), pred.dtype(), pred.device())?;
    for band in laplacian_pyramid(&d, levels)? {
        total = (total + band.abs()?.mean_all()?)?;
    }
    Ok(total)
}

fn check_divisible(op: &'static str, h: usize, w: usize, levels: usize) -> Result<()> {
    let f = 1usize.checked_shl(levels as u32).filter(|f| *f <= h.min(w));
    match f {
        Some(f) if h % f == 0 && w % f == 0 => Ok(()),
        _ => Err(LossError::ImageTooSmall {
            op,
            height: h,
            width: w,
            needed: format!(
                "{levels} pyramid levels need height and width divisible by 2^{levels}"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Scalar reference: explicit 2x2 block means and nearest upsampling on one plane.
    fn reference(p: &[f64], t: &[f64], n: usize, size: usize, levels: usize) -> f64 {
        let mut total = 0.0;
        let mut g: Vec<f64> = p.iter().zip(t).map(|(a, b)| a - b).collect();
        let mut s = size;
        for _ in 0..levels {
            let hs = s / 2;
            let mut down = vec![0.0; n * hs * hs];
            for k in 0..n {
                for i in 0..hs {
                    for j in 0..hs {
                        let at = |a: usize, b: usize| g[(k * s + a) * s + b];
                        down[(k * hs + i) * hs + j] = (at(2 * i, 2 * j)
                            + at(2 * i, 2 * j + 1)
                            + at(2 * i + 1, 2 * j)
                            + at(2 * i + 1, 2 * j + 1))
                            / 4.0;
                    }
                }
            }
            let mut band = 0.0;
            for k in 0..n {
                for i in 0..s {
                    for j in 0..s {
                        band += (g[(k * s + i) * s + j] - down[(k * hs + i / 2) * hs + j / 2]).abs();
                    }
                }
            }
            total += band / (n * s * s) as f64;
            g = down;
            s = hs;
        }
        total + g.iter().map(|v| v.abs()).sum::<f64>() / g.len() as f64
    }

    #[test]
    fn matches_scalar_reference_and_gradient() {
        let (b, c, s, levels) = (2, 3, 16, 3);
        let n = b * c * s * s;
        let p: Vec<f64> = (0..n).map(|i| (i as f64 * 0.137).sin()).collect();
        let t: Vec<f64> = (0..n).map(|i| (i as f64 * 0.071).cos()).collect();
        let dev = Device::Cpu;
        let tt = Tensor::from_vec(t.clone(), (b, c, s, s), &dev).unwrap();
        let v = Var::from_tensor(&Tensor::from_vec(p.clone(), (b, c, s, s), &dev).unwrap()).unwrap();
        let loss = laplacian_l1(v.as_tensor(), &tt, levels).unwrap();
        let want = reference(&p, &t, b * c, s, levels);
        assert!((loss.to_scalar::<f64>().unwrap() - want).abs() < 1e-13);
        let grads = loss.backward().unwrap();
        let g = grads.get(v.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let eps = 1e-6;
        for k in (0..n).step_by(37) {
            let (mut hi, mut lo) = (p.clone(), p.clone());
            hi[k] += eps;
            lo[k] -= eps;
            let fd = (reference(&hi, &t, b * c, s, levels) - reference(&lo, &t, b * c, s, levels))
                / (2.0 * eps);
            assert!((fd - g[k]).abs() < 1e-7, "element {k}: fd {fd} vs autograd {}", g[k]);
        }
    }

    #[test]
    fn pyramid_reconstructs_the_image() {
        let dev = Device::Cpu;
        let x = Tensor::arange(0f64, 2.0 * 3.0 * 8.0 * 8.0, &dev)
            .unwrap()
            .sin()
            .unwrap()
            .reshape((2, 3, 8, 8))
            .unwrap();
        let pyr = laplacian_pyramid(&x, 3).unwrap();
        let mut rec = pyr[3].clone();
        for band in pyr[..3].iter().rev() {
            let (_, _, h, w) = band.dims4().unwrap();
            rec = (rec.upsample_nearest2d(h, w).unwrap() + band).unwrap();
        }
        let err = (rec - &x).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(err < 1e-14);
    }

    #[test]
    fn rejects_sizes_not_divisible() {
        let dev = Device::Cpu;
        let x = Tensor::zeros((1, 1, 12, 12), candle_core::DType::F32, &dev).unwrap();
        let err = laplacian_l1(&x, &x, 3).unwrap_err().to_string();
        assert!(err.contains("divisible by 2^3") && err.contains("12"), "{err}");
        assert!(laplacian_l1(&x, &x, 2).is_ok());
        assert!(laplacian_pyramid(&x, 64).is_err());
    }
}

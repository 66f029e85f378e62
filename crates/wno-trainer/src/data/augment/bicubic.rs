//! Bicubic resize matching PyTorch's `F.interpolate(mode="bicubic", align_corners=False,
//! antialias=False)`: Keys' cubic convolution with `A = -0.75`, source coordinate
//! `(dst + 0.5) * in / out - 0.5`, out-of-range taps clamped to the border, horizontal pass
//! first, computed in f32. The result is not clamped (bicubic overshoots); callers clamp.

use crate::data::planar::PlanarImage;
use crate::error::{Result, TrainerError};

/// PyTorch's cubic convolution constant for `upsample_bicubic2d`.
pub const BICUBIC_A: f32 = -0.75;

/// `((A + 2) x - (A + 3)) x^2 + 1`, for `|x| <= 1`.
fn cubic1(x: f32) -> f32 {
    ((BICUBIC_A + 2.0) * x - (BICUBIC_A + 3.0)) * x * x + 1.0
}

/// `((A x - 5A) x + 8A) x - 4A`, for `1 < |x| < 2`.
fn cubic2(x: f32) -> f32 {
    ((BICUBIC_A * x - 5.0 * BICUBIC_A) * x + 8.0 * BICUBIC_A) * x - 4.0 * BICUBIC_A
}

/// The four tap weights for fractional offset `t` in `[0, 1)`.
pub fn bicubic_weights(t: f32) -> [f32; 4] {
    [cubic2(t + 1.0), cubic1(t), cubic1(1.0 - t), cubic2(2.0 - t)]
}

/// Tap indices (clamped to `0..in_size`) and weights for every output position of one axis.
fn axis_taps(in_size: usize, out_size: usize) -> Vec<([usize; 4], [f32; 4])> {
    let scale = in_size as f32 / out_size as f32;
    (0..out_size)
        .map(|dst| {
            let real = scale * (dst as f32 + 0.5) - 0.5;
            let base = real.floor();
            let t = real - base;
            let base = base as i64;
            let last = in_size as i64 - 1;
            let idx = [0i64, 1, 2, 3].map(|k| (base - 1 + k).clamp(0, last) as usize);
            (idx, bicubic_weights(t))
        })
        .collect()
}

/// Resizes to `out_h x out_w` with PyTorch's bicubic interpolation.
///
/// ```
/// use wno_trainer::data::{resize_bicubic, PlanarImage};
/// // A constant image stays constant; sizes are free.
/// let img = PlanarImage::new(2, 3, vec![0.25; 18]).unwrap();
/// let big = resize_bicubic(&img, 5, 7).unwrap();
/// assert_eq!((big.height(), big.width()), (5, 7));
/// assert!(big.data().iter().all(|&v| (v - 0.25).abs() < 1e-6));
/// ```
///
/// # Errors
/// A zero output size.
pub fn resize_bicubic(img: &PlanarImage, out_h: usize, out_w: usize) -> Result<PlanarImage> {
    if out_h == 0 || out_w == 0 {
        return Err(TrainerError::invalid(
            "resize_bicubic",
            format!("output size {out_h}x{out_w} must be positive"),
        ));
    }
    let (h, w) = (img.height(), img.width());
    let xt = axis_taps(w, out_w);
    let yt = axis_taps(h, out_h);
    let mut out = vec![0.0f32; 3 * out_h * out_w];
    let mut rows = vec![0.0f32; h * out_w];
    for c in 0..3 {
        let src = img.plane(c);
        for y in 0..h {
            let row = &src[y * w..(y + 1) * w];
            for (x, (idx, wt)) in xt.iter().enumerate() {
                let mut acc = row[idx[0]] * wt[0];
                for k in 1..4 {
                    acc += row[idx[k]] * wt[k];
                }
                rows[y * out_w + x] = acc;
            }
        }
        let dst = &mut out[c * out_h * out_w..(c + 1) * out_h * out_w];
        for (y, (idx, wt)) in yt.iter().enumerate() {
            for x in 0..out_w {
                let mut acc = rows[idx[0] * out_w + x] * wt[0];
                for k in 1..4 {
                    acc += rows[idx[k] * out_w + x] * wt[k];
                }
                dst[y * out_w + x] = acc;
            }
        }
    }
    PlanarImage::new(out_h, out_w, out)
}

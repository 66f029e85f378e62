//! CPU kernels of the depthwise 3x3 convolution (padding 1, one filter per channel).
//!
//! Packed parameters: `wb` is `(C, 10)`, the 9 taps of channel `c` in row-major order
//! (`[ki][kj]`, PyTorch's cross-correlation layout) followed by its bias.

use super::real::{dot, sum, Real};
use super::simd::multiversion;
use rayon::prelude::*;

/// Number of packed values per channel: 9 taps and the bias.
pub(crate) const PACK: usize = 10;

/// Planes handed to one rayon task: enough work (about 16k elements) to pay for the task.
fn min_planes(plane: usize) -> usize {
    (16_384 / plane.max(1)).max(1)
}

/// `out[j] += a * x[j - 1] + b * x[j] + c * x[j + 1]` with zero padding at both ends.
#[inline(always)]
fn row_acc<T: Real>(out: &mut [T], x: &[T], a: T, b: T, c: T) {
    let w = out.len();
    if w == 1 {
        out[0] += b * x[0];
        return;
    }
    out[0] += b * x[0] + c * x[1];
    out[w - 1] += a * x[w - 2] + b * x[w - 1];
    let n = w - 2;
    let (l, m, r) = (&x[..n], &x[1..n + 1], &x[2..n + 2]);
    for (o, ((xl, xm), xr)) in out[1..w - 1].iter_mut().zip(l.iter().zip(m).zip(r)) {
        *o += a * *xl + b * *xm + c * *xr;
    }
}

/// One `(h, w)` plane: `out = bias + conv3x3(x, taps)`; `flip` rotates the taps by 180 degrees
/// (the adjoint, used for the input gradient).
#[inline(always)]
fn plane_fwd<T: Real>(x: &[T], taps: &[T], bias: T, flip: bool, h: usize, w: usize, out: &mut [T]) {
    let tap = |k: usize| if flip { taps[8 - k] } else { taps[k] };
    for i in 0..h {
        let row = &mut out[i * w..(i + 1) * w];
        row.fill(bias);
        for di in 0..3 {
            let Some(ii) = (i + di).checked_sub(1).filter(|&r| r < h) else { continue };
            let xr = &x[ii * w..(ii + 1) * w];
            row_acc(row, xr, tap(di * 3), tap(di * 3 + 1), tap(di * 3 + 2));
        }
    }
}

/// The 9 tap gradients and the bias gradient of one plane, accumulated in f64:
/// `gw[ki][kj] = sum_ij g[i, j] * x[i + ki - 1, j + kj - 1]`, `gb = sum_ij g[i, j]`.
#[inline(always)]
fn plane_wgrad<T: Real>(x: &[T], g: &[T], h: usize, w: usize) -> [f64; PACK] {
    let mut acc = [0f64; PACK];
    for i in 0..h {
        let gr = &g[i * w..(i + 1) * w];
        acc[9] += sum(gr).f64();
        for di in 0..3 {
            let Some(ii) = (i + di).checked_sub(1).filter(|&r| r < h) else { continue };
            let xr = &x[ii * w..(ii + 1) * w];
            acc[di * 3 + 1] += dot(gr, xr).f64();
            if w > 1 {
                acc[di * 3] += dot(&gr[1..], &xr[..w - 1]).f64();
                acc[di * 3 + 2] += dot(&gr[..w - 1], &xr[1..]).f64();
            }
        }
    }
    acc
}

multiversion! {
    fn plane_fwd_f32(x: &[f32], taps: &[f32], bias: f32, flip: bool, h: usize, w: usize, out: &mut [f32]) {
        plane_fwd(x, taps, bias, flip, h, w, out)
    }
}
multiversion! {
    fn plane_fwd_f64(x: &[f64], taps: &[f64], bias: f64, flip: bool, h: usize, w: usize, out: &mut [f64]) {
        plane_fwd(x, taps, bias, flip, h, w, out)
    }
}
multiversion! {
    fn plane_wgrad_f32(x: &[f32], g: &[f32], h: usize, w: usize) -> [f64; PACK] {
        plane_wgrad(x, g, h, w)
    }
}
multiversion! {
    fn plane_wgrad_f64(x: &[f64], g: &[f64], h: usize, w: usize) -> [f64; PACK] {
        plane_wgrad(x, g, h, w)
    }
}

/// Element types with a dispatched depthwise kernel.
pub(crate) trait DepthwiseElem: Real {
    fn plane_fwd(x: &[Self], taps: &[Self], bias: Self, flip: bool, h: usize, w: usize, out: &mut [Self]);
    fn plane_wgrad(x: &[Self], g: &[Self], h: usize, w: usize) -> [f64; PACK];
}

impl DepthwiseElem for f32 {
    fn plane_fwd(x: &[f32], taps: &[f32], bias: f32, flip: bool, h: usize, w: usize, out: &mut [f32]) {
        plane_fwd_f32(x, taps, bias, flip, h, w, out)
    }
    fn plane_wgrad(x: &[f32], g: &[f32], h: usize, w: usize) -> [f64; PACK] {
        plane_wgrad_f32(x, g, h, w)
    }
}

impl DepthwiseElem for f64 {
    fn plane_fwd(x: &[f64], taps: &[f64], bias: f64, flip: bool, h: usize, w: usize, out: &mut [f64]) {
        plane_fwd_f64(x, taps, bias, flip, h, w, out)
    }
    fn plane_wgrad(x: &[f64], g: &[f64], h: usize, w: usize) -> [f64; PACK] {
        plane_wgrad_f64(x, g, h, w)
    }
}

/// Convolution of contiguous `(B, C, h, w)` data `x` with packed `(C, 10)` parameters.
/// `flip` uses the 180-degree rotated taps and no bias (the input gradient).
pub(crate) fn forward<T: DepthwiseElem>(x: &[T], wb: &[T], c: usize, h: usize, w: usize, flip: bool) -> Vec<T> {
    let plane = h * w;
    let mut out = vec![T::default(); x.len()];
    out.par_chunks_mut(plane).zip(x.par_chunks(plane)).enumerate().with_min_len(min_planes(plane)).for_each(
        |(p, (o, xp))| {
            let ch = p % c;
            let taps = &wb[ch * PACK..ch * PACK + 9];
            let bias = if flip { T::default() } else { wb[ch * PACK + 9] };
            T::plane_fwd(xp, taps, bias, flip, h, w, o);
        },
    );
    out
}

/// Gradient of the packed `(C, 10)` parameters given the input `x` and the output gradient `g`,
/// both contiguous `(B, C, h, w)`. Planes are reduced in f64, then rounded to `T`.
pub(crate) fn weight_grad<T: DepthwiseElem>(x: &[T], g: &[T], c: usize, h: usize, w: usize) -> Vec<T> {
    let plane = h * w;
    let partial: Vec<[f64; PACK]> = x
        .par_chunks(plane)
        .zip(g.par_chunks(plane))
        .with_min_len(min_planes(plane))
        .map(|(xp, gp)| T::plane_wgrad(xp, gp, h, w))
        .collect();
    let mut acc = vec![0f64; c * PACK];
    for (p, part) in partial.iter().enumerate() {
        let ch = p % c;
        for (a, v) in acc[ch * PACK..(ch + 1) * PACK].iter_mut().zip(part) {
            *a += v;
        }
    }
    acc.into_iter().map(T::c).collect()
}

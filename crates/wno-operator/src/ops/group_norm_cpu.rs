//! CPU kernels of GroupNorm (PyTorch `nn.GroupNorm`, biased variance, affine) and its backward.
//!
//! One rayon task per `(batch, group)`: the group is a contiguous run of `C/G * H * W`
//! elements. Statistics use two passes (mean, then the centred sum of squares) with per-row
//! sums accumulated in f64.

use super::real::{dot, sum, Real};
use super::simd::multiversion;
use rayon::prelude::*;

/// Shape of one call: `groups` groups of `cg` channels of `hw` pixels each, per batch item.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub channels: usize,
    pub groups: usize,
    pub hw: usize,
    pub eps: f64,
}

impl Dims {
    fn cg(&self) -> usize {
        self.channels / self.groups
    }
    fn group_len(&self) -> usize {
        self.cg() * self.hw
    }
}

/// Sum of `(x - m)^2`, vectorised.
#[inline(always)]
fn sum_sq_dev<T: Real>(x: &[T], m: T) -> T {
    let mut acc = [T::default(); 16];
    let mut cx = x.chunks_exact(16);
    for v in &mut cx {
        for k in 0..16 {
            let d = v[k] - m;
            acc[k] += d * d;
        }
    }
    let mut s = T::default();
    for v in cx.remainder() {
        let d = *v - m;
        s += d * d;
    }
    for a in acc {
        s += a;
    }
    s
}

/// Mean and `1 / sqrt(var + eps)` of one group, rows of `hw` elements summed in f64.
#[inline(always)]
fn stats<T: Real>(x: &[T], hw: usize, eps: f64) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.chunks(hw).map(|r| sum(r).f64()).sum::<f64>() / n;
    let m = T::c(mean);
    let var = x.chunks(hw).map(|r| sum_sq_dev(r, m).f64()).sum::<f64>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// `y = (x - mean) * rstd * gamma[c] + beta[c]` for one group.
#[inline(always)]
fn group_fwd<T: Real>(x: &[T], gamma: &[T], beta: &[T], hw: usize, eps: f64, y: &mut [T]) {
    let (mean, rstd) = stats(x, hw, eps);
    for (c, (xr, yr)) in x.chunks(hw).zip(y.chunks_mut(hw)).enumerate() {
        let a = rstd * gamma[c].f64();
        let (a, b) = (T::c(a), T::c(beta[c].f64() - mean * a));
        for (o, &v) in yr.iter_mut().zip(xr) {
            *o = v * a + b;
        }
    }
}

/// Backward of one group: writes `gx` and returns the per-channel `(dgamma, dbeta)` of this
/// batch item (interleaved).
#[inline(always)]
fn group_bwd<T: Real>(x: &[T], gamma: &[T], g: &[T], hw: usize, eps: f64, gx: &mut [T]) -> Vec<f64> {
    let (mean, rstd) = stats(x, hw, eps);
    let cg = gamma.len();
    let m = x.len() as f64;
    let mut out = vec![0f64; 2 * cg];
    let (mut a_sum, mut b_sum) = (0f64, 0f64);
    for (c, (xr, gr)) in x.chunks(hw).zip(g.chunks(hw)).enumerate() {
        let s1 = sum(gr).f64();
        let s2 = dot(gr, xr).f64();
        let dgamma = rstd * (s2 - mean * s1);
        out[2 * c] = dgamma;
        out[2 * c + 1] = s1;
        let gm = gamma[c].f64();
        a_sum += gm * s1;
        b_sum += gm * dgamma;
    }
    let k = -rstd * rstd * b_sum / m;
    let d = -rstd * a_sum / m - k * mean;
    let (k_t, d_t) = (T::c(k), T::c(d));
    for (c, (xr, (gr, or))) in x.chunks(hw).zip(g.chunks(hw).zip(gx.chunks_mut(hw))).enumerate() {
        let a = T::c(rstd * gamma[c].f64());
        for ((o, &xv), &gv) in or.iter_mut().zip(xr).zip(gr) {
            *o = a * gv + k_t * xv + d_t;
        }
    }
    out
}

multiversion! {
    fn group_fwd_f32(x: &[f32], gamma: &[f32], beta: &[f32], hw: usize, eps: f64, y: &mut [f32]) {
        group_fwd(x, gamma, beta, hw, eps, y)
    }
}
multiversion! {
    fn group_bwd_f32(x: &[f32], gamma: &[f32], g: &[f32], hw: usize, eps: f64, gx: &mut [f32]) -> Vec<f64> {
        group_bwd(x, gamma, g, hw, eps, gx)
    }
}

/// Element types with a GroupNorm kernel.
pub(crate) trait GroupNormElem: Real {
    fn group_fwd(x: &[Self], gamma: &[Self], beta: &[Self], hw: usize, eps: f64, y: &mut [Self]);
    fn group_bwd(x: &[Self], gamma: &[Self], g: &[Self], hw: usize, eps: f64, gx: &mut [Self]) -> Vec<f64>;
}

impl GroupNormElem for f32 {
    fn group_fwd(x: &[f32], gamma: &[f32], beta: &[f32], hw: usize, eps: f64, y: &mut [f32]) {
        group_fwd_f32(x, gamma, beta, hw, eps, y)
    }
    fn group_bwd(x: &[f32], gamma: &[f32], g: &[f32], hw: usize, eps: f64, gx: &mut [f32]) -> Vec<f64> {
        group_bwd_f32(x, gamma, g, hw, eps, gx)
    }
}

impl GroupNormElem for f64 {
    fn group_fwd(x: &[f64], gamma: &[f64], beta: &[f64], hw: usize, eps: f64, y: &mut [f64]) {
        group_fwd(x, gamma, beta, hw, eps, y)
    }
    fn group_bwd(x: &[f64], gamma: &[f64], g: &[f64], hw: usize, eps: f64, gx: &mut [f64]) -> Vec<f64> {
        group_bwd(x, gamma, g, hw, eps, gx)
    }
}

/// Forward over contiguous `(B, C, H, W)` data.
pub(crate) fn forward<T: GroupNormElem>(x: &[T], gamma: &[T], beta: &[T], d: Dims) -> Vec<T> {
    let (len, cg) = (d.group_len(), d.cg());
    let mut y = vec![T::default(); x.len()];
    y.par_chunks_mut(len).zip(x.par_chunks(len)).enumerate().for_each(|(i, (yg, xg))| {
        let c0 = (i % d.groups) * cg;
        T::group_fwd(xg, &gamma[c0..c0 + cg], &beta[c0..c0 + cg], d.hw, d.eps, yg);
    });
    y
}

/// Backward over contiguous `(B, C, H, W)` data: returns one buffer holding the input gradient
/// (`x.len()` values) followed by `dgamma` and `dbeta` (`C` values each).
pub(crate) fn backward<T: GroupNormElem>(x: &[T], gamma: &[T], g: &[T], d: Dims) -> Vec<T> {
    let (len, cg, n) = (d.group_len(), d.cg(), x.len());
    let mut out = vec![T::default(); n + 2 * d.channels];
    let (gx, params) = out.split_at_mut(n);
    let partial: Vec<Vec<f64>> = gx
        .par_chunks_mut(len)
        .zip(x.par_chunks(len).zip(g.par_chunks(len)))
        .enumerate()
        .map(|(i, (gxg, (xg, gg)))| {
            let c0 = (i % d.groups) * cg;
            T::group_bwd(xg, &gamma[c0..c0 + cg], gg, d.hw, d.eps, gxg)
        })
        .collect();
    let mut acc = vec![0f64; 2 * d.channels];
    for (i, part) in partial.iter().enumerate() {
        let c0 = (i % d.groups) * cg;
        for (k, pair) in part.chunks(2).enumerate() {
            acc[c0 + k] += pair[0];
            acc[d.channels + c0 + k] += pair[1];
        }
    }
    for (o, a) in params.iter_mut().zip(acc) {
        *o = T::c(a);
    }
    out
}

//! CPU kernels of the exact (erf) GELU and its derivative.
//!
//! f32 uses branch-free polynomial `exp` and `erfc` approximations that LLVM vectorises (the
//! erfc of Numerical Recipes' `erfcc`, fractional error below 1.2e-7; a Cephes-style `exp`,
//! relative error about 1e-7), so both kernels stay within a few f32 ulps of the exact
//! function. f64 uses libm's `erfc` and `exp` (full double precision, for gradient checks).

use super::simd::multiversion;
use rayon::prelude::*;

const SQRT_HALF_F32: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / sqrt(2 pi).
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// Elements per rayon task.
const CHUNK: usize = 1 << 15;

/// `e^x` for f32, branch-free. Inputs are clamped to [-87, 88] (the result for smaller inputs is
/// below 2^-125, i.e. zero for every use here).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let fx = (x * std::f32::consts::LOG2_E + 0.5).floor();
    // Cody-Waite reduction: ln 2 = C1 - C2 with C1 exact in few bits.
    let r = x - fx * 0.693_359_4 + fx * 2.121_944_4e-4;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r
        + 5.000_000_1e-1;
    let y = p * z + r + 1.0;
    let bits = ((fx as i32 + 127) as u32) << 23;
    y * f32::from_bits(bits)
}

/// Standard normal CDF `Phi(x) = (1 + erf(x / sqrt 2)) / 2` for f32.
#[inline(always)]
fn cdf_f32(x: f32) -> f32 {
    let z = x.abs() * SQRT_HALF_F32;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * exp_f32(-z * z + poly);
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

multiversion! {
    fn gelu_f32(x: &[f32], y: &mut [f32]) {
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v * cdf_f32(v);
        }
    }
}

multiversion! {
    fn gelu_grad_f32(x: &[f32], g: &[f32], out: &mut [f32]) {
        for ((o, &v), &gv) in out.iter_mut().zip(x).zip(g) {
            let pdf = INV_SQRT_2PI as f32 * exp_f32(-0.5 * v * v);
            *o = gv * (cdf_f32(v) + v * pdf);
        }
    }
}

#[inline(always)]
fn cdf_f64(x: f64) -> f64 {
    0.5 * candle_core::cpu::erf::erfc_f64(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Element types with a GELU kernel.
pub(crate) trait GeluElem: super::real::Real {
    /// `y = x * Phi(x)`, multi-threaded.
    fn gelu(x: &[Self]) -> Vec<Self>;
    /// `g * (Phi(x) + x * phi(x))`, multi-threaded.
    fn gelu_grad(x: &[Self], g: &[Self]) -> Vec<Self>;
    /// `y = x * Phi(x)` on one slice, on the calling thread.
    fn gelu_slice(x: &[Self], y: &mut [Self]);
    /// `out = g * (Phi(x) + x * phi(x))` on one slice, on the calling thread.
    fn gelu_grad_slice(x: &[Self], g: &[Self], out: &mut [Self]);
}

impl GeluElem for f32 {
    fn gelu(x: &[f32]) -> Vec<f32> {
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(o, i)| gelu_f32(i, o));
        y
    }
    fn gelu_grad(x: &[f32], g: &[f32]) -> Vec<f32> {
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (i, gi))| gelu_grad_f32(i, gi, o));
        y
    }
    fn gelu_slice(x: &[f32], y: &mut [f32]) {
        gelu_f32(x, y)
    }
    fn gelu_grad_slice(x: &[f32], g: &[f32], out: &mut [f32]) {
        gelu_grad_f32(x, g, out)
    }
}

impl GeluElem for f64 {
    fn gelu(x: &[f64]) -> Vec<f64> {
        x.par_iter().with_min_len(CHUNK / 8).map(|&v| v * cdf_f64(v)).collect()
    }
    fn gelu_grad(x: &[f64], g: &[f64]) -> Vec<f64> {
        x.par_iter()
            .zip(g)
            .with_min_len(CHUNK / 8)
            .map(|(&v, &gv)| gv * (cdf_f64(v) + v * INV_SQRT_2PI * (-0.5 * v * v).exp()))
            .collect()
    }
    fn gelu_slice(x: &[f64], y: &mut [f64]) {
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v * cdf_f64(v);
        }
    }
    fn gelu_grad_slice(x: &[f64], g: &[f64], out: &mut [f64]) {
        for ((o, &v), &gv) in out.iter_mut().zip(x).zip(g) {
            *o = gv * (cdf_f64(v) + v * INV_SQRT_2PI * (-0.5 * v * v).exp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(v: f64) -> f64 {
        v * cdf_f64(v)
    }

    #[test]
    fn f32_kernels_match_the_exact_function() {
        let xs: Vec<f32> = (0..200_001).map(|i| -20.0 + i as f32 * 2e-4).collect();
        let y = f32::gelu(&xs);
        let g = f32::gelu_grad(&xs, &vec![1f32; xs.len()]);
        let (mut ey, mut eg) = (0f64, 0f64);
        for ((&x, &yv), &gv) in xs.iter().zip(&y).zip(&g) {
            let x64 = x as f64;
            let dy = exact(x64);
            let dg = cdf_f64(x64) + x64 * INV_SQRT_2PI * (-0.5 * x64 * x64).exp();
            ey = ey.max((yv as f64 - dy).abs() / (1.0 + dy.abs()));
            eg = eg.max((gv as f64 - dg).abs() / (1.0 + dg.abs()));
        }
        assert!(ey < 5e-7, "gelu f32 error {ey}");
        assert!(eg < 5e-7, "gelu grad f32 error {eg}");
    }

    #[test]
    fn exp_f32_is_accurate() {
        let mut worst = 0f64;
        for i in 0..100_000 {
            let x = -80.0 + i as f32 * 1.6e-3;
            let e = (x as f64).exp();
            worst = worst.max((exp_f32(x) as f64 - e).abs() / e);
        }
        assert!(worst < 3e-7, "exp_f32 relative error {worst}");
    }
}

//! <D x, y> = <x, D^T y>: the cropped inverse is the adjoint of the zero-padded forward, for
//! even and odd sizes alike.
mod common;

use candle_core::{DType, Device};
use common::{pseudo_random, to_f64_vec};
use wavelet_ops::{dwt2d, idwt2d};

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn inverse_is_the_adjoint_of_forward() {
    for (i, &(h, w)) in [(1usize, 1usize), (2, 2), (3, 3), (8, 8), (25, 31), (29, 29)]
        .iter()
        .enumerate()
    {
        let x = pseudo_random(&[2, 3, h, w], 10 + i as u64, DType::F64, &Device::Cpu);
        let y = pseudo_random(
            &[2, 3, 4, h.div_ceil(2), w.div_ceil(2)],
            20 + i as u64,
            DType::F64,
            &Device::Cpu,
        );
        let lhs = dot(&to_f64_vec(&dwt2d(&x).unwrap()), &to_f64_vec(&y));
        let rhs = dot(&to_f64_vec(&x), &to_f64_vec(&idwt2d(&y, h, w).unwrap()));
        assert!(
            (lhs - rhs).abs() <= 1e-12 * lhs.abs().max(1.0),
            "{h}x{w}: {lhs} vs {rhs}"
        );
    }
}

#[test]
fn forward_is_orthogonal_on_even_sizes() {
    // ||D x|| = ||x|| when no padding is involved.
    let x = pseudo_random(&[1, 4, 16, 10], 3, DType::F64, &Device::Cpu);
    let n0 = dot(&to_f64_vec(&x), &to_f64_vec(&x));
    let d = to_f64_vec(&dwt2d(&x).unwrap());
    assert!((dot(&d, &d) - n0).abs() < 1e-12 * n0);
}

//! Finite-difference checks of the backward passes through candle's `backward()`, in f64.
mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{pseudo_random, to_f64_vec};
use wavelet_ops::{dwt2d, idwt2d, wavedec2, waverec2};

/// A non-linear scalar function of x through the transforms: sum(w1 * D(x)^2) + sum(w2 * D^T(D(x) * w3)).
fn objective(x: &Tensor, w1: &Tensor, w2: &Tensor, w3: &Tensor, h: usize, w: usize) -> Tensor {
    let d = dwt2d(x).unwrap();
    let a = (d.sqr().unwrap() * w1).unwrap().sum_all().unwrap();
    let r = idwt2d(&(d * w3).unwrap(), h, w).unwrap();
    let b = (r * w2).unwrap().sum_all().unwrap();
    (a + b).unwrap()
}

#[test]
fn gradients_match_finite_differences() {
    let dev = Device::Cpu;
    for (h, w) in [(4usize, 4usize), (5, 3), (1, 1)] {
        let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
        let x0 = pseudo_random(&[1, 2, h, w], 1, DType::F64, &dev);
        let w1 = pseudo_random(&[1, 2, 4, h2, w2], 2, DType::F64, &dev);
        let w3 = pseudo_random(&[1, 2, 4, h2, w2], 3, DType::F64, &dev);
        let wb = pseudo_random(&[1, 2, h, w], 4, DType::F64, &dev);
        let x = Var::from_tensor(&x0).unwrap();
        let grads = objective(&x, &w1, &wb, &w3, h, w).backward().unwrap();
        let analytic = to_f64_vec(grads.get(&x).unwrap());
        let base = to_f64_vec(&x0);
        let eps = 1e-6;
        for i in 0..base.len() {
            let eval = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let t = Tensor::from_vec(v, (1, 2, h, w), &dev).unwrap();
                objective(&t, &w1, &wb, &w3, h, w)
                    .to_scalar::<f64>()
                    .unwrap()
            };
            let fd = (eval(eps) - eval(-eps)) / (2.0 * eps);
            assert!(
                (fd - analytic[i]).abs() < 1e-7,
                "{h}x{w} element {i}: fd {fd} vs backward {}",
                analytic[i]
            );
        }
    }
}

#[test]
fn multi_level_gradient_of_round_trip_is_identity() {
    // waverec2(wavedec2(x)) = x, so d/dx sum(g * round_trip(x)) = g exactly.
    let dev = Device::Cpu;
    let x = Var::from_tensor(&pseudo_random(&[2, 1, 9, 14], 5, DType::F64, &dev)).unwrap();
    let g = pseudo_random(&[2, 1, 9, 14], 6, DType::F64, &dev);
    let y = waverec2(&wavedec2(&x, 3).unwrap()).unwrap();
    let grads = (y * &g).unwrap().sum_all().unwrap().backward().unwrap();
    let err = to_f64_vec(grads.get(&x).unwrap())
        .iter()
        .zip(to_f64_vec(&g))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "{err}");
}

#[test]
fn half_precision_backward_runs_in_its_own_dtype() {
    let x = Var::from_tensor(&pseudo_random(&[1, 1, 6, 6], 8, DType::F16, &Device::Cpu)).unwrap();
    let y = dwt2d(&x)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap();
    let g = y.backward().unwrap();
    let gx = g.get(&x).unwrap();
    assert_eq!(gx.dtype(), DType::F16);
    // d/dx ||D x||^2 = 2 D^T D x = 2x on even sizes.
    let expect: Vec<f64> = to_f64_vec(&x).iter().map(|v| 2.0 * v).collect();
    let err = to_f64_vec(gx)
        .iter()
        .zip(&expect)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 5e-3, "{err}");
}

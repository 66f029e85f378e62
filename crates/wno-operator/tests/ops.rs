//! The differentiable kernels against candle's reference implementations, analytic gradients
//! and finite differences.
mod common;

use candle_core::{DType, Device, Tensor, Var, D};
use common::{max_abs_diff, pseudo_random, to_f64_vec};
use wno_operator::ops::{clamp01, depthwise_conv3x3, gelu, group_norm, resize_nearest, residual_norm_gelu, upsample_nearest};

fn grad(loss: &Tensor, v: &Var) -> Tensor {
    loss.backward().unwrap().get(v).unwrap().clone()
}

#[test]
fn upsample_backward_accumulates_when_the_input_is_used_twice() {
    // loss = sum(up(x) * a) + sum(x * b): d loss / dx = blocksum(a) + b.
    let x = Var::from_tensor(&pseudo_random(&[2, 3, 4, 5], 1, DType::F64)).unwrap();
    let a = pseudo_random(&[2, 3, 8, 10], 2, DType::F64);
    let b = pseudo_random(&[2, 3, 4, 5], 3, DType::F64);
    let up = upsample_nearest(&x, 2).unwrap();
    let loss = ((up * &a).unwrap().sum_all().unwrap() + (x.as_tensor() * &b).unwrap().sum_all().unwrap()).unwrap();
    let g = grad(&loss, &x);
    let blocksum = a.reshape((2, 3, 4, 2, 5, 2)).unwrap().sum(5).unwrap().sum(3).unwrap();
    let want = (blocksum + &b).unwrap();
    assert!(max_abs_diff(&g, &want) < 1e-12);
    // The other order of the two uses gives the same gradient.
    let loss2 = ((x.as_tensor() * &b).unwrap().sum_all().unwrap()
        + (upsample_nearest(&x, 2).unwrap() * &a).unwrap().sum_all().unwrap())
    .unwrap();
    assert!(max_abs_diff(&grad(&loss2, &x), &want) < 1e-12);
}

#[test]
fn upsample_and_resize_match_candle_forward() {
    let x = pseudo_random(&[2, 3, 4, 5], 4, DType::F32);
    let ours = upsample_nearest(&x, 4).unwrap();
    let candle = x.upsample_nearest2d(16, 20).unwrap();
    assert_eq!(to_f64_vec(&ours), to_f64_vec(&candle));
    assert_eq!(to_f64_vec(&resize_nearest(&x, 8, 10).unwrap()), to_f64_vec(&x.upsample_nearest2d(8, 10).unwrap()));
    assert!(resize_nearest(&x, 8, 15).is_err(), "different factors per side must be rejected");
    assert!(upsample_nearest(&x, 0).is_err());
    let e = upsample_nearest(&x.flatten_all().unwrap(), 2).unwrap_err().to_string();
    assert!(e.contains("upsample_nearest"), "{e}");
}

#[test]
fn clamp_gradient_is_pytorchs() {
    let x = Var::new(&[-0.5f64, -0.0, 0.0, 1e-9, 0.5, 1.0, 1.0 + 1e-9, 2.0], &Device::Cpu).unwrap();
    let y = clamp01(&x).unwrap();
    assert_eq!(y.to_vec1::<f64>().unwrap(), vec![0., 0., 0., 1e-9, 0.5, 1., 1., 1.]);
    let w = Tensor::new(&[1f64, 2., 3., 4., 5., 6., 7., 8.], &Device::Cpu).unwrap();
    let g = grad(&(y * w).unwrap().sum_all().unwrap(), &x);
    assert_eq!(g.to_vec1::<f64>().unwrap(), vec![0., 2., 3., 4., 5., 6., 0., 0.]);
}

/// candle's grouped conv2d plus the bias: the reference for the depthwise op.
fn depthwise_reference(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
    let c = x.dim(1).unwrap();
    x.conv2d(w, 1, 1, 1, c).unwrap().broadcast_add(&b.reshape((1, c, 1, 1)).unwrap()).unwrap()
}

#[test]
fn depthwise_matches_candle_grouped_conv_forward_and_backward() {
    for (i, dims) in [[2usize, 5, 7, 9], [1, 3, 1, 1], [1, 2, 1, 6], [2, 4, 6, 1], [3, 8, 16, 16], [1, 2, 2, 2]].iter().enumerate() {
        for dt in [DType::F32, DType::F64] {
            let c = dims[1];
            let seed = 10 * i as u64;
            let x = Var::from_tensor(&pseudo_random(dims, seed, dt)).unwrap();
            let w = Var::from_tensor(&pseudo_random(&[c, 1, 3, 3], seed + 1, dt)).unwrap();
            let b = Var::from_tensor(&pseudo_random(&[c], seed + 2, dt)).unwrap();
            let r = pseudo_random(dims, seed + 3, dt);
            let ours = depthwise_conv3x3(&x, &w, &b).unwrap();
            let reference = depthwise_reference(&x, &w, &b);
            let tol = if dt == DType::F32 { 1e-5 } else { 1e-12 };
            assert!(max_abs_diff(&ours, &reference) < tol, "{dims:?} {dt:?} forward");
            let g1 = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (reference * &r).unwrap().sum_all().unwrap().backward().unwrap();
            for (name, v) in [("input", &x), ("weight", &w), ("bias", &b)] {
                let e = max_abs_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
                assert!(e < tol * 10.0, "{dims:?} {dt:?} {name} gradient error {e}");
            }
        }
    }
}

#[test]
fn depthwise_input_gradient_is_the_adjoint() {
    // <conv(x), y> without bias = <x, grad_x <conv(x), y>>: linear in x.
    let x = pseudo_random(&[2, 3, 5, 6], 40, DType::F64);
    let y = pseudo_random(&[2, 3, 5, 6], 41, DType::F64);
    let w = pseudo_random(&[3, 1, 3, 3], 42, DType::F64);
    let zero = Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap();
    let xv = Var::from_tensor(&x).unwrap();
    let lhs = (depthwise_conv3x3(&xv, &w, &zero).unwrap() * &y).unwrap().sum_all().unwrap();
    let g = grad(&lhs, &xv);
    let rhs = (x * g).unwrap().sum_all().unwrap();
    let (l, r) = (lhs.to_scalar::<f64>().unwrap(), rhs.to_scalar::<f64>().unwrap());
    assert!((l - r).abs() < 1e-12 * l.abs().max(1.0), "{l} vs {r}");
}

#[test]
fn depthwise_rejects_bad_operands() {
    let x = pseudo_random(&[1, 3, 4, 4], 0, DType::F32);
    let w = pseudo_random(&[4, 1, 3, 3], 0, DType::F32);
    let b = pseudo_random(&[3], 0, DType::F32);
    let e = depthwise_conv3x3(&x, &w, &b).unwrap_err().to_string();
    assert!(e.contains("depthwise_conv3x3") && e.contains("[4, 1, 3, 3]"), "{e}");
    let w3 = pseudo_random(&[3, 1, 3, 3], 0, DType::F64);
    let e = depthwise_conv3x3(&x, &w3, &b).unwrap_err().to_string();
    assert!(e.contains("F32") || e.contains("F64"), "{e}");
    let xh = x.to_dtype(DType::F16).unwrap();
    assert!(depthwise_conv3x3(&xh, &w3.to_dtype(DType::F16).unwrap(), &b.to_dtype(DType::F16).unwrap()).is_err());
}

/// Central finite differences of `f` at `x` (f64), all elements.
fn finite_diff(x: &Tensor, f: impl Fn(&Tensor) -> f64) -> Vec<f64> {
    let v = to_f64_vec(x);
    let eps = 1e-6;
    (0..v.len())
        .map(|i| {
            let mut p = v.clone();
            p[i] += eps;
            let fp = f(&Tensor::from_vec(p.clone(), x.shape(), &Device::Cpu).unwrap());
            p[i] -= 2.0 * eps;
            let fm = f(&Tensor::from_vec(p, x.shape(), &Device::Cpu).unwrap());
            (fp - fm) / (2.0 * eps)
        })
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn gelu_is_exact_and_its_gradient_matches_finite_differences() {
    let x = (pseudo_random(&[3, 7, 11], 5, DType::F64) * 6.0).unwrap();
    let reference = x.gelu_erf().unwrap();
    assert!(max_abs_diff(&gelu(&x).unwrap(), &reference) < 1e-14);
    let x32 = x.to_dtype(DType::F32).unwrap();
    assert!(max_abs_diff(&gelu(&x32).unwrap(), &reference) < 2e-6);
    // Gradient, f64, against central differences.
    let r = pseudo_random(&[3, 7, 11], 6, DType::F64);
    let xv = Var::from_tensor(&x).unwrap();
    let g = grad(&(gelu(&xv).unwrap() * &r).unwrap().sum_all().unwrap(), &xv);
    let fd = finite_diff(&x, |t| (gelu(t).unwrap() * &r).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap());
    assert_close(&to_f64_vec(&g), &fd, 1e-7, "gelu grad");
    // And f32 gradients agree with f64 ones.
    let xv32 = Var::from_tensor(&x32).unwrap();
    let g32 = grad(&(gelu(&xv32).unwrap() * r.to_dtype(DType::F32).unwrap()).unwrap().sum_all().unwrap(), &xv32);
    assert!(max_abs_diff(&g32, &g) < 2e-6);
}

#[test]
fn group_norm_matches_candle_nn_forward_and_backward() {
    for (dims, groups) in [([2usize, 8, 5, 3], 2usize), ([1, 6, 4, 4], 3), ([3, 4, 1, 1], 1), ([2, 16, 8, 8], 8)] {
        for dt in [DType::F32, DType::F64] {
            let c = dims[1];
            let x = Var::from_tensor(&pseudo_random(&dims, 7, dt).affine(3.0, 0.5).unwrap()).unwrap();
            let gamma = Var::from_tensor(&pseudo_random(&[c], 8, dt)).unwrap();
            let beta = Var::from_tensor(&pseudo_random(&[c], 9, dt)).unwrap();
            let r = pseudo_random(&dims, 10, dt);
            let ours = group_norm(&x, &gamma, &beta, groups, 1e-5).unwrap();
            let gn = candle_nn::GroupNorm::new(gamma.as_tensor().clone(), beta.as_tensor().clone(), c, groups, 1e-5).unwrap();
            let reference = candle_core::Module::forward(&gn, &x).unwrap();
            let tol = if dt == DType::F32 { 2e-5 } else { 1e-12 };
            assert!(max_abs_diff(&ours, &reference) < tol, "{dims:?} {dt:?} forward");
            let g1 = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (reference * &r).unwrap().sum_all().unwrap().backward().unwrap();
            for (name, v) in [("input", &x), ("weight", &gamma), ("bias", &beta)] {
                let e = max_abs_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
                assert!(e < tol * 10.0, "{dims:?} {dt:?} {name} gradient error {e}");
            }
        }
    }
}

#[test]
fn group_norm_gradient_matches_finite_differences() {
    let dims = [2usize, 4, 3, 3];
    let x = pseudo_random(&dims, 11, DType::F64);
    let gamma = pseudo_random(&[4], 12, DType::F64);
    let beta = pseudo_random(&[4], 13, DType::F64);
    let r = pseudo_random(&dims, 14, DType::F64);
    let f = |x: &Tensor, g: &Tensor, b: &Tensor| {
        (group_norm(x, g, b, 2, 1e-5).unwrap() * &r).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap()
    };
    let (xv, gv, bv) = (Var::from_tensor(&x).unwrap(), Var::from_tensor(&gamma).unwrap(), Var::from_tensor(&beta).unwrap());
    let grads = (group_norm(&xv, &gv, &bv, 2, 1e-5).unwrap() * &r).unwrap().sum_all().unwrap().backward().unwrap();
    assert_close(&to_f64_vec(grads.get(&xv).unwrap()), &finite_diff(&x, |t| f(t, &gamma, &beta)), 1e-6, "input");
    assert_close(&to_f64_vec(grads.get(&gv).unwrap()), &finite_diff(&gamma, |t| f(&x, t, &beta)), 1e-6, "weight");
    assert_close(&to_f64_vec(grads.get(&bv).unwrap()), &finite_diff(&beta, |t| f(&x, &gamma, t)), 1e-6, "bias");
    // Mean over the spatial dims of a normalised group is beta (sanity of the statistics).
    let ones = Tensor::ones(4, DType::F64, &Device::Cpu).unwrap();
    let y = group_norm(&x, &ones, &beta, 4, 0.0).unwrap();
    let m = y.flatten_from(2).unwrap().mean(D::Minus1).unwrap();
    assert!(max_abs_diff(&m, &beta.unsqueeze(0).unwrap().broadcast_as((2, 4)).unwrap()) < 1e-12);
}

#[test]
fn fused_residual_norm_gelu_equals_the_composition_and_finite_differences() {
    let composed = |h: &Tensor, p: &Tensor, g: &Tensor, b: &Tensor, groups| {
        gelu(&group_norm(&(h + p.affine(0.5, 0.0).unwrap()).unwrap(), g, b, groups, 1e-5).unwrap()).unwrap()
    };
    for (dims, groups) in [([2usize, 8, 5, 3], 2usize), ([1, 6, 4, 4], 3), ([2, 16, 8, 8], 8), ([3, 4, 1, 1], 1)] {
        for dt in [DType::F32, DType::F64] {
            let c = dims[1];
            let h = Var::from_tensor(&pseudo_random(&dims, 21, dt).affine(2.0, 0.3).unwrap()).unwrap();
            let p = Var::from_tensor(&pseudo_random(&dims, 22, dt)).unwrap();
            let gamma = Var::from_tensor(&pseudo_random(&[c], 23, dt)).unwrap();
            let beta = Var::from_tensor(&pseudo_random(&[c], 24, dt)).unwrap();
            let r = pseudo_random(&dims, 25, dt);
            let ours = residual_norm_gelu(&h, &p, &gamma, &beta, 0.5, groups, 1e-5).unwrap();
            let reference = composed(&h, &p, &gamma, &beta, groups);
            let tol = if dt == DType::F32 { 3e-5 } else { 1e-12 };
            assert!(max_abs_diff(&ours, &reference) < tol, "{dims:?} {dt:?} forward");
            let g1 = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (reference * &r).unwrap().sum_all().unwrap().backward().unwrap();
            for (name, v) in [("h", &h), ("p", &p), ("weight", &gamma), ("bias", &beta)] {
                let e = max_abs_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
                assert!(e < tol * 10.0, "{dims:?} {dt:?} {name} gradient error {e}");
            }
        }
    }
    // f64 gradient of the input against central differences.
    let dims = [2usize, 4, 3, 3];
    let (h, p) = (pseudo_random(&dims, 31, DType::F64), pseudo_random(&dims, 32, DType::F64));
    let (gamma, beta) = (pseudo_random(&[4], 33, DType::F64), pseudo_random(&[4], 34, DType::F64));
    let r = pseudo_random(&dims, 35, DType::F64);
    let hv = Var::from_tensor(&h).unwrap();
    let g = grad(&(residual_norm_gelu(&hv, &p, &gamma, &beta, 0.5, 2, 1e-5).unwrap() * &r).unwrap().sum_all().unwrap(), &hv);
    let fd = finite_diff(&h, |t| {
        (residual_norm_gelu(t, &p, &gamma, &beta, 0.5, 2, 1e-5).unwrap() * &r).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap()
    });
    assert_close(&to_f64_vec(&g), &fd, 1e-6, "fused input gradient");
    // Bad operands are errors, not panics.
    assert!(residual_norm_gelu(&h, &p.narrow(1, 0, 2).unwrap(), &gamma, &beta, 0.5, 2, 1e-5).is_err());
    assert!(residual_norm_gelu(&h, &p, &gamma, &beta, 0.5, 3, 1e-5).is_err());
    assert!(residual_norm_gelu(&h, &p, &gamma.narrow(0, 0, 2).unwrap(), &beta, 0.5, 2, 1e-5).is_err());
}

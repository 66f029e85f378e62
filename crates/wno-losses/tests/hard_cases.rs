//! SSIM / MS-SSIM on the hard cases: constant, identical and anti-correlated images must give
//! finite values and finite gradients; too-small images give errors naming the size needed.
//! Also PSNR against `psnr.json` (copied to `fixtures/psnr_reference.json`).

use candle_core::{DType, Device, Tensor, Var};
use wno_losses::{psnr, LossError, MsSsim, Ssim, SsimConfig};

fn ramp(c: usize, h: usize, w: usize) -> Tensor {
    let n = c * h * w;
    let v: Vec<f64> = (0..n).map(|i| 0.5 + 0.45 * ((i as f64) * 0.173).sin()).collect();
    Tensor::from_vec(v, (1, c, h, w), &Device::Cpu).unwrap()
}

/// Value and gradient w.r.t. `x` of `f(x, y)`; asserts both are finite.
fn value_and_grad(
    f: &dyn Fn(&Tensor, &Tensor) -> wno_losses::Result<Tensor>,
    x: &Tensor,
    y: &Tensor,
) -> (f64, Vec<f64>) {
    let v = Var::from_tensor(x).unwrap();
    let out = f(v.as_tensor(), y).unwrap();
    let val = out.to_scalar::<f64>().unwrap();
    let g = out.backward().unwrap();
    let g = g.get(v.as_tensor()).expect("gradient reaches x");
    let g = g.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    assert!(val.is_finite(), "value {val}");
    assert!(g.iter().all(|e| e.is_finite()), "non-finite gradient");
    (val, g)
}

#[test]
fn ssim_hard_cases_have_finite_gradients() {
    let ssim = Ssim::new(SsimConfig::default()).unwrap();
    let f = |a: &Tensor, b: &Tensor| ssim.loss(a, b);
    let dev = Device::Cpu;
    let x = ramp(3, 16, 16);
    let one_minus_x = x.affine(-1.0, 1.0).unwrap();
    let flat = Tensor::full(0.3f64, (1, 3, 16, 16), &dev).unwrap();
    let zeros = Tensor::zeros((1, 3, 16, 16), DType::F64, &dev).unwrap();

    // Identical: loss 0, gradient 0 (a maximum of SSIM).
    let (v, g) = value_and_grad(&f, &x, &x);
    assert!(v.abs() < 1e-12, "{v}");
    assert!(g.iter().all(|e| e.abs() < 1e-12));
    // Constant vs constant (all variances 0), and the degenerate all-zero case.
    let (v, _) = value_and_grad(&f, &flat, &flat);
    assert!(v.abs() < 1e-12);
    let (v, _) = value_and_grad(&f, &zeros, &zeros);
    assert!(v.abs() < 1e-12);
    // Constant vs textured, and anti-correlated (SSIM < 0, loss > 1).
    value_and_grad(&f, &flat, &x);
    let (v, g) = value_and_grad(&f, &x, &one_minus_x);
    assert!(v > 1.0, "anti-correlated loss {v}");
    assert!(g.iter().any(|e| *e != 0.0));
}

#[test]
fn ssim_gradient_matches_finite_differences() {
    let ssim = Ssim::new(SsimConfig::default()).unwrap();
    let dev = Device::Cpu;
    let (c, h, w) = (1, 12, 13);
    let x = ramp(c, h, w);
    let y = x.affine(0.7, 0.1).unwrap().cos().unwrap();
    let f = |a: &Tensor, b: &Tensor| ssim.loss(a, b);
    let (_, g) = value_and_grad(&f, &x, &y);
    let xs = x.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let eps = 1e-6;
    for k in (0..xs.len()).step_by(7) {
        let eval = |delta: f64| {
            let mut v = xs.clone();
            v[k] += delta;
            let t = Tensor::from_vec(v, (1, c, h, w), &dev).unwrap();
            ssim.loss(&t, &y).unwrap().to_scalar::<f64>().unwrap()
        };
        let fd = (eval(eps) - eval(-eps)) / (2.0 * eps);
        assert!((fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()), "element {k}: fd {fd} vs {}", g[k]);
    }
}

#[test]
fn ms_ssim_hard_cases_have_finite_gradients() {
    let ms = MsSsim::new(SsimConfig::default()).unwrap();
    let f = |a: &Tensor, b: &Tensor| ms.loss(a, b);
    let dev = Device::Cpu;
    let s = ms.min_side();
    let x = ramp(1, s, s);
    let one_minus_x = x.affine(-1.0, 1.0).unwrap();
    let flat = Tensor::full(0.3f64, (1, 1, s, s), &dev).unwrap();

    let (v, g) = value_and_grad(&f, &x, &x);
    assert!(v.abs() < 1e-12, "{v}");
    assert!(g.iter().all(|e| e.abs() < 1e-9));
    let (v, _) = value_and_grad(&f, &flat, &flat);
    assert!(v.abs() < 1e-12);
    value_and_grad(&f, &flat, &x);
    // Anti-correlated: pytorch_msssim's gradient is NaN here (relu(cs)^w at cs <= 0).
    let (v, _) = value_and_grad(&f, &x, &one_minus_x);
    assert!(v > 0.5 && v <= 1.0 + 1e-12, "anti-correlated MS-SSIM loss {v}");
}

#[test]
fn ms_ssim_equals_weighted_product_of_single_scale_terms() {
    // One scale with weight 1 is plain SSIM.
    let x = ramp(2, 24, 22);
    let y = x.affine(0.8, 0.05).unwrap().sin().unwrap();
    let one = MsSsim::with_weights(SsimConfig::default(), vec![1.0]).unwrap();
    let a = one.forward(&x, &y).unwrap().to_scalar::<f64>().unwrap();
    let b = wno_losses::ssim(&x, &y, 1.0).unwrap().to_scalar::<f64>().unwrap();
    assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    // Two scales: cs(level 0)^w0 * ssim(level 1)^w1 with a 2x2 average pool between them.
    let (w0, w1) = (0.3, 0.7);
    let two = MsSsim::with_weights(SsimConfig::default(), vec![w0, w1]).unwrap();
    let ssim = Ssim::new(SsimConfig::default()).unwrap();
    let got = two.per_channel(&x, &y).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let s0 = ssim.stats(&x, &y).unwrap();
    let s1 = ssim.stats(&x.avg_pool2d(2).unwrap(), &y.avg_pool2d(2).unwrap()).unwrap();
    let cs0 = s0.cs.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let ss1 = s1.ssim.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    for i in 0..got.len() {
        let want = cs0[i].max(0.0).powf(w0) * ss1[i].max(0.0).powf(w1);
        assert!((got[i] - want).abs() < 1e-12, "channel {i}: {} vs {want}", got[i]);
    }
}

#[test]
fn too_small_images_name_the_size_needed() {
    let dev = Device::Cpu;
    let x = Tensor::zeros((1, 3, 160, 200), DType::F32, &dev).unwrap();
    let err = wno_losses::ms_ssim(&x, &x, 1.0).unwrap_err();
    assert!(matches!(err, LossError::ImageTooSmall { height: 160, width: 200, .. }));
    let msg = err.to_string();
    assert!(msg.contains("at least 161"), "{msg}");
    let y = Tensor::zeros((1, 3, 10, 64), DType::F32, &dev).unwrap();
    let msg = wno_losses::ssim(&y, &y, 1.0).unwrap_err().to_string();
    assert!(msg.contains("10") && msg.contains("window size 11"), "{msg}");
}

#[test]
fn psnr_matches_reference() {
    let fx: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/psnr_reference.json")).unwrap();
    let (c, h, w) = (3usize, 32usize, 32usize);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for ci in 0..c {
        for hi in 0..h {
            for wi in 0..w {
                let (cc, hh, ww) = (ci as f64, hi as f64, wi as f64);
                let x = 0.5 + 0.4 * (0.21 * hh + 0.37 * ww + 1.3 * cc).sin();
                let y = x + 0.05 * (1.7 * hh - 0.9 * ww + cc).sin();
                xs.push(x as f32);
                ys.push(y as f32);
            }
        }
    }
    let dev = Device::Cpu;
    let x = Tensor::from_vec(xs, (1, c, h, w), &dev).unwrap();
    let y = Tensor::from_vec(ys, (1, c, h, w), &dev).unwrap();
    let p32 = psnr(&x, &y, 1.0).unwrap().to_vec1::<f32>().unwrap()[0] as f64;
    assert!((p32 - fx["psnr_float32"].as_f64().unwrap()).abs() < 1e-4, "{p32}");
    let (x64, y64) = (x.to_dtype(DType::F64).unwrap(), y.to_dtype(DType::F64).unwrap());
    let p64 = psnr(&x64, &y64, 1.0).unwrap().to_vec1::<f64>().unwrap()[0];
    assert!((p64 - fx["psnr_float64"].as_f64().unwrap()).abs() < 1e-9, "{p64}");
    let same = psnr(&x, &x, 1.0).unwrap().to_vec1::<f32>().unwrap()[0] as f64;
    assert_eq!(same, fx["identical_images_psnr_float32"].as_f64().unwrap());
}

//! PatchGAN: shapes and names, a direct re-implementation, an f64 finite-difference check of
//! the stride-2 convs (input and weights), and the hinge losses by hand.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use wno_critic::{critic_hinge_loss, generator_hinge_loss, CriticError, PatchGan, PatchGanConfig};

fn tiny() -> PatchGanConfig {
    PatchGanConfig { in_channels: 3, widths: vec![2, 3, 2, 2], negative_slope: 0.2 }
}

#[test]
fn default_shapes_and_pytorch_names() {
    let vm = VarMap::new();
    let d = PatchGan::new(&PatchGanConfig::default(), VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let x = Tensor::zeros((2, 3, 64, 64), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(d.forward(&x).unwrap().dims(), &[2, 1, 4, 4]);
    let data = vm.data().lock().unwrap();
    let mut names: Vec<(String, Vec<usize>)> = data.iter().map(|(k, v)| (k.clone(), v.dims().to_vec())).collect();
    names.sort();
    let want = vec![
        ("net.0.bias", vec![64]), ("net.0.weight", vec![64, 3, 4, 4]),
        ("net.2.bias", vec![128]), ("net.2.weight", vec![128, 64, 4, 4]),
        ("net.4.bias", vec![256]), ("net.4.weight", vec![256, 128, 4, 4]),
        ("net.6.bias", vec![512]), ("net.6.weight", vec![512, 256, 4, 4]),
        ("net.8.bias", vec![1]), ("net.8.weight", vec![1, 512, 1, 1]),
    ];
    let want: Vec<(String, Vec<usize>)> = want.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(names, want);
    let params: usize = data.values().map(|v| v.elem_count()).sum();
    assert_eq!(params, 2_757_057);
    // PyTorch default init bound 1/sqrt(fan_in) for the first conv: 1/sqrt(48).
    let w0 = data["net.0.weight"].flatten_all().unwrap().abs().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
    assert!(w0 <= 1.0 / 48f32.sqrt() && w0 > 0.5 / 48f32.sqrt());
}

/// Scalar reference of one conv (any stride / padding) + optional LeakyReLU.
fn conv_ref(x: &[f64], (c, h, w): (usize, usize, usize), wt: &[f64], b: &[f64], co: usize, k: usize, s: usize, p: usize) -> (Vec<f64>, (usize, usize, usize)) {
    let ho = (h + 2 * p - k) / s + 1;
    let wo = (w + 2 * p - k) / s + 1;
    let mut out = vec![0.0; co * ho * wo];
    for o in 0..co {
        for i in 0..ho {
            for j in 0..wo {
                let mut acc = b[o];
                for ci in 0..c {
                    for a in 0..k {
                        for bb in 0..k {
                            let (y, xx) = ((i * s + a) as isize - p as isize, (j * s + bb) as isize - p as isize);
                            if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                acc += wt[((o * c + ci) * k + a) * k + bb] * x[(ci * h + y as usize) * w + xx as usize];
                            }
                        }
                    }
                }
                out[(o * ho + i) * wo + j] = acc;
            }
        }
    }
    (out, (co, ho, wo))
}

fn params(vm: &VarMap, name: &str) -> Vec<f64> {
    vm.data().lock().unwrap()[name].flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

/// Scalar PatchGAN forward on one image with the weights `w` (name -> values).
fn forward_ref(x: &[f64], size: usize, w: &std::collections::HashMap<String, Vec<f64>>, cfg: &PatchGanConfig) -> Vec<f64> {
    let (mut h, mut shape) = (x.to_vec(), (cfg.in_channels, size, size));
    for (k, &co) in cfg.widths.iter().enumerate() {
        let (o, s) = conv_ref(&h, shape, &w[&format!("net.{}.weight", 2 * k)], &w[&format!("net.{}.bias", 2 * k)], co, 4, 2, 1);
        h = o.into_iter().map(|v| if v > 0.0 { v } else { cfg.negative_slope * v }).collect();
        shape = s;
    }
    let n = 2 * cfg.widths.len();
    conv_ref(&h, shape, &w[&format!("net.{n}.weight")], &w[&format!("net.{n}.bias")], 1, 1, 1, 0).0
}

#[test]
fn forward_matches_reference_and_gradients_match_finite_differences() {
    let cfg = tiny();
    let dev = Device::Cpu;
    let vm = VarMap::new();
    let d = PatchGan::new(&cfg, VarBuilder::from_varmap(&vm, DType::F64, &dev)).unwrap();
    let size = 16;
    let n = 3 * size * size;
    let xs: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.71).sin()).collect();
    let x = Var::from_vec(xs.clone(), (1, 3, size, size), &dev).unwrap();
    let out = d.forward(x.as_tensor()).unwrap();
    assert_eq!(out.dims(), &[1, 1, 1, 1]);
    let names: Vec<String> = vm.data().lock().unwrap().keys().cloned().collect();
    let mut w: std::collections::HashMap<String, Vec<f64>> = names.iter().map(|k| (k.clone(), params(&vm, k))).collect();
    let want = forward_ref(&xs, size, &w, &cfg);
    let got = out.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    assert!((got[0] - want[0]).abs() < 1e-12, "{} vs {}", got[0], want[0]);

    // Gradients of the logit w.r.t. the input and every conv weight.
    let grads = out.sum_all().unwrap().backward().unwrap();
    let eps = 1e-6;
    let gx = grads.get(x.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
    for k in (0..n).step_by(11) {
        let (mut hi, mut lo) = (xs.clone(), xs.clone());
        hi[k] += eps;
        lo[k] -= eps;
        let fd = (forward_ref(&hi, size, &w, &cfg)[0] - forward_ref(&lo, size, &w, &cfg)[0]) / (2.0 * eps);
        assert!((fd - gx[k]).abs() < 1e-6 * (1.0 + fd.abs()), "dx[{k}]: fd {fd} vs {}", gx[k]);
    }
    let data = vm.data().lock().unwrap().clone();
    for name in ["net.0.weight", "net.2.weight", "net.4.weight", "net.6.weight", "net.0.bias", "net.8.weight"] {
        let g = grads.get(data[name].as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let base = w[name].clone();
        for k in (0..base.len()).step_by(5) {
            let mut hi = base.clone();
            hi[k] += eps;
            w.insert(name.to_string(), hi);
            let fp = forward_ref(&xs, size, &w, &cfg)[0];
            let mut lo = base.clone();
            lo[k] -= eps;
            w.insert(name.to_string(), lo);
            let fm = forward_ref(&xs, size, &w, &cfg)[0];
            w.insert(name.to_string(), base.clone());
            let fd = (fp - fm) / (2.0 * eps);
            assert!((fd - g[k]).abs() < 1e-6 * (1.0 + fd.abs()), "{name}[{k}]: fd {fd} vs {}", g[k]);
        }
    }
}

#[test]
fn hinge_losses_by_hand_and_their_gradients() {
    let dev = Device::Cpu;
    let real = Var::new(&[1.5f64, 0.25, -1.0, 0.9], &dev).unwrap();
    let fake = Var::new(&[-2.0f64, 0.5, -0.5], &dev).unwrap();
    let l = critic_hinge_loss(real.as_tensor(), fake.as_tensor()).unwrap();
    // relu(1 - r): 0, 0.75, 2, 0.1 -> mean 0.7125; relu(1 + f): 0, 1.5, 0.5 -> mean 2/3.
    assert!((l.to_scalar::<f64>().unwrap() - (0.7125 + 2.0 / 3.0)).abs() < 1e-15);
    let g = l.backward().unwrap();
    assert_eq!(g.get(real.as_tensor()).unwrap().to_vec1::<f64>().unwrap(), vec![0.0, -0.25, -0.25, -0.25]);
    let gf = g.get(fake.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(gf[0], 0.0);
    assert!((gf[1] - 1.0 / 3.0).abs() < 1e-15 && (gf[2] - 1.0 / 3.0).abs() < 1e-15);
    let gl = generator_hinge_loss(fake.as_tensor()).unwrap();
    assert!((gl.to_scalar::<f64>().unwrap() - 2.0 / 3.0).abs() < 1e-15);
    let empty = Tensor::zeros(0, DType::F32, &dev).unwrap();
    assert!(generator_hinge_loss(&empty).is_err());
}

#[test]
fn bad_inputs_and_configs_are_errors() {
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let d = PatchGan::new(&tiny(), vb.clone()).unwrap();
    let odd = Tensor::zeros((1, 3, 24, 20), DType::F32, &Device::Cpu).unwrap();
    let msg = d.forward(&odd).unwrap_err().to_string();
    assert!(msg.contains("multiples of 16") && msg.contains("[1, 3, 24, 20]"), "{msg}");
    let gray = Tensor::zeros((1, 1, 16, 16), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(d.forward(&gray), Err(CriticError::BadShape { .. })));
    let ints = Tensor::zeros((1, 3, 16, 16), DType::U8, &Device::Cpu).unwrap();
    assert!(matches!(d.forward(&ints), Err(CriticError::UnsupportedDType { .. })));
    let bad = PatchGanConfig { widths: vec![], ..tiny() };
    assert!(PatchGan::new(&bad, vb.clone()).is_err());
    let bad = PatchGanConfig { negative_slope: 1.5, ..tiny() };
    assert!(PatchGan::new(&bad, vb).is_err());
}

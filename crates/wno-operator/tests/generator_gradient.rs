//! Finite-difference check (f64) of the whole generator's gradients at a tiny size: a
//! free-running 4 -> 16 chain with noise, skip = the 4x4 input (so the input feeds the
//! upsampled and the skip path), gradients through the chain. Every parameter element and
//! every input element is checked.
mod common;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use common::{pseudo_random, to_f64_vec};
use wno_operator::{Config, Generator};

fn loss(g: &Generator, x4: &Tensor, noises: &[Option<Tensor>], weights: &[Tensor]) -> Tensor {
    let outs = g.free_run(x4, 2, noises, Some(x4), false).unwrap();
    let mut total = Tensor::zeros((), DType::F64, &Device::Cpu).unwrap();
    for (o, w) in outs.iter().zip(weights) {
        total = (total + (o * w).unwrap().sum_all().unwrap()).unwrap();
    }
    total
}

#[test]
fn generator_gradients_match_finite_differences() {
    let cfg = Config { width: 4, layers: 2, norm_groups: Some(2), ..Config::default() };
    let vm = VarMap::new();
    let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F64, &Device::Cpu)).unwrap();
    // Deterministic parameters: small enough that no output reaches the clamp bounds, GroupNorm
    // affine around 1 so the normalisation matters.
    let mut vars: Vec<(String, Var)> = vm.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, v)) in vars.iter().enumerate() {
        let r = pseudo_random(v.dims(), 100 + i as u64, DType::F64);
        let t = if name.ends_with("norm.weight") {
            r.affine(0.3, 1.0).unwrap()
        } else if name.starts_with("out_proj") {
            r.affine(0.05, 0.0).unwrap()
        } else {
            r.affine(0.3, 0.0).unwrap()
        };
        v.set(&t).unwrap();
    }
    let x4 = pseudo_random(&[2, 3, 4, 4], 1, DType::F64).affine(0.2, 0.5).unwrap();
    let noises = vec![
        Some((pseudo_random(&[2, 4, 8, 8], 2, DType::F64) * 0.3).unwrap()),
        Some((pseudo_random(&[2, 4, 16, 16], 3, DType::F64) * 0.1).unwrap()),
    ];
    let weights = vec![pseudo_random(&[2, 3, 8, 8], 4, DType::F64), pseudo_random(&[2, 3, 16, 16], 5, DType::F64)];
    // No output is within 1e-3 of a clamp bound (the clamp is not differentiable there).
    for o in g.free_run(&x4, 2, &noises, Some(&x4), false).unwrap() {
        let v = to_f64_vec(&o);
        assert!(v.iter().all(|&p| p > 1e-3 && p < 1.0 - 1e-3), "an output is at a clamp bound");
    }

    let xv = Var::from_tensor(&x4).unwrap();
    let grads = loss(&g, &xv, &noises, &weights).backward().unwrap();
    let eps = 1e-5;
    let f = |x: &Tensor| loss(&g, x, &noises, &weights).to_scalar::<f64>().unwrap();
    let mut checked = 0;
    let mut worst = 0f64;
    let mut check = |what: &str, analytic: &[f64], numeric: &mut dyn FnMut(usize) -> f64| {
        for (i, &a) in analytic.iter().enumerate() {
            let n = numeric(i);
            let err = (a - n).abs() / (1e-3 + n.abs());
            worst = worst.max(err);
            assert!(err < 1e-5, "{what}[{i}]: analytic {a}, numeric {n}");
            checked += 1;
        }
    };
    // Parameters.
    for (name, v) in &vars {
        let analytic = to_f64_vec(grads.get(v).unwrap_or_else(|| panic!("no gradient for {name}")));
        let base = to_f64_vec(v.as_tensor());
        check(name, &analytic, &mut |i| {
            let mut p = base.clone();
            p[i] += eps;
            v.set(&Tensor::from_vec(p.clone(), v.shape(), &Device::Cpu).unwrap()).unwrap();
            let fp = f(&x4);
            p[i] -= 2.0 * eps;
            v.set(&Tensor::from_vec(p, v.shape(), &Device::Cpu).unwrap()).unwrap();
            let fm = f(&x4);
            v.set(&Tensor::from_vec(base.clone(), v.shape(), &Device::Cpu).unwrap()).unwrap();
            (fp - fm) / (2.0 * eps)
        });
    }
    // The input (used by the upsampled path and the skip path at both levels).
    let analytic = to_f64_vec(grads.get(&xv).unwrap());
    let base = to_f64_vec(&x4);
    check("input", &analytic, &mut |i| {
        let mut p = base.clone();
        p[i] += eps;
        let fp = f(&Tensor::from_vec(p.clone(), x4.shape(), &Device::Cpu).unwrap());
        p[i] -= 2.0 * eps;
        let fm = f(&Tensor::from_vec(p, x4.shape(), &Device::Cpu).unwrap());
        (fp - fm) / (2.0 * eps)
    });
    assert!(checked > 500, "only {checked} gradient elements checked");
    eprintln!("{checked} gradient elements, worst relative error {worst:.2e}");
}

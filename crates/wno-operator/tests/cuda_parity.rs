//! CPU vs CUDA parity of the depthwise 3x3 kernel (forward, input/weight/bias gradients) and of
//! a whole generator transition. Runs only with feature `cuda` on a machine where a CUDA device
//! can be created; skips with a notice elsewhere.
#![cfg(feature = "cuda")]
mod common;

use candle_core::{DType, Device, Var};
use common::{max_abs_diff, pseudo_random};
use wno_operator::ops::depthwise_conv3x3;

fn gpu() -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("skipping CUDA parity test: no CUDA device ({e})");
            None
        }
    }
}

#[test]
fn depthwise_forward_and_backward_match_cpu() {
    let Some(gpu) = gpu() else { return };
    for dtype in [DType::F32, DType::F64] {
        let tol = if dtype == DType::F32 { 2e-5 } else { 1e-12 };
        for dims in [[2usize, 5, 7, 9], [1, 3, 1, 1], [2, 4, 6, 1], [16, 64, 64, 64]] {
            let c = dims[1];
            let x = pseudo_random(&dims, 1, dtype);
            let w = pseudo_random(&[c, 1, 3, 3], 2, dtype);
            let b = pseudo_random(&[c], 3, dtype);
            let r = pseudo_random(&dims, 4, dtype);
            let run = |dev: &Device| {
                let xv = Var::from_tensor(&x.to_device(dev).unwrap()).unwrap();
                let wv = Var::from_tensor(&w.to_device(dev).unwrap()).unwrap();
                let bv = Var::from_tensor(&b.to_device(dev).unwrap()).unwrap();
                let y = depthwise_conv3x3(&xv, &wv, &bv).unwrap();
                let g = (&y * r.to_device(dev).unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
                let grads = [&xv, &wv, &bv].map(|v| g.get(v).unwrap().to_device(&Device::Cpu).unwrap());
                (y.to_device(&Device::Cpu).unwrap(), grads)
            };
            let (yc, gc) = run(&Device::Cpu);
            let (yg, gg) = run(&gpu);
            let scale = (dims[0] * dims[2] * dims[3]) as f64;
            assert!(max_abs_diff(&yc, &yg) < tol, "{dims:?} {dtype:?} forward");
            for (name, (a, bb)) in ["input", "weight", "bias"].iter().zip(gc.iter().zip(gg.iter())) {
                let e = max_abs_diff(a, bb);
                assert!(e < tol * scale.sqrt().max(1.0), "{dims:?} {dtype:?} {name} gradient error {e}");
            }
        }
    }
}

#[test]
fn generator_transition_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let cfg = wno_operator::Config { width: 16, layers: 2, ..Default::default() };
    let weights = common::formula_weights(&cfg);
    let cpu = wno_operator::Generator::new(&cfg, candle_nn::VarBuilder::from_tensors(weights.clone(), DType::F32, &Device::Cpu)).unwrap();
    let gpu_g = wno_operator::Generator::new(&cfg, candle_nn::VarBuilder::from_tensors(weights, DType::F32, &gpu)).unwrap();
    let x = pseudo_random(&[2, 3, 8, 8], 5, DType::F32).affine(0.3, 0.5).unwrap();
    let yc = cpu.step(&x, None, Some(&x)).unwrap();
    let yg = gpu_g.step(&x.to_device(&gpu).unwrap(), None, Some(&x.to_device(&gpu).unwrap())).unwrap();
    assert!(max_abs_diff(&yc, &yg.to_device(&Device::Cpu).unwrap()) < 1e-4);
}

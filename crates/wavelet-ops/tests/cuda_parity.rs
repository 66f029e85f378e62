//! CPU vs CUDA parity of the kernels and their backward passes. Runs only with feature `cuda`
//! on a machine where a CUDA device can be created; skips with a notice elsewhere.
#![cfg(feature = "cuda")]
mod common;

use candle_core::{DType, Device, Var};
use common::{max_abs_diff, pseudo_random, to_f64_vec};
use wavelet_ops::{dwt2d, idwt2d, wavedec2, waverec2};

fn gpu() -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("skipping CUDA parity test: no CUDA device ({e})");
            None
        }
    }
}

fn tol(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-14,
        DType::F32 => 1e-6,
        DType::F16 => 1e-3,
        _ => 8e-3,
    }
}

#[test]
fn forward_and_inverse_match_cpu() {
    let Some(gpu) = gpu() else { return };
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        for (h, w) in [(1, 1), (3, 3), (29, 29), (25, 31), (64, 64)] {
            let x = pseudo_random(&[2, 3, h, w], 9, dtype, &Device::Cpu);
            let xg = x.to_device(&gpu).unwrap();
            let (bc, bg) = (dwt2d(&x).unwrap(), dwt2d(&xg).unwrap());
            assert!(
                max_abs_diff(&to_f64_vec(&bc), &to_f64_vec(&bg)) <= tol(dtype),
                "{dtype:?} {h}x{w} dwt"
            );
            let (rc, rg) = (idwt2d(&bc, h, w).unwrap(), idwt2d(&bg, h, w).unwrap());
            assert!(
                max_abs_diff(&to_f64_vec(&rc), &to_f64_vec(&rg)) <= tol(dtype),
                "{dtype:?} {h}x{w} idwt"
            );
            // Strided views on the device.
            let t = x.transpose(2, 3).unwrap();
            let tg = xg.transpose(2, 3).unwrap();
            let (sc, sg) = (dwt2d(&t).unwrap(), dwt2d(&tg).unwrap());
            assert!(
                max_abs_diff(&to_f64_vec(&sc), &to_f64_vec(&sg)) <= tol(dtype),
                "{dtype:?} {h}x{w} strided"
            );
        }
    }
}

#[test]
fn backward_and_multilevel_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let x = pseudo_random(&[2, 2, 17, 12], 4, DType::F32, &Device::Cpu);
    let g = pseudo_random(&[2, 2, 17, 12], 5, DType::F32, &Device::Cpu);
    let run = |dev: &Device| {
        let v = Var::from_tensor(&x.to_device(dev).unwrap()).unwrap();
        let pyr = wavedec2(&v, 3).unwrap();
        let y = waverec2(&pyr).unwrap().sqr().unwrap();
        let grads = (y * g.to_device(dev).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        (to_f64_vec(&pyr.approx), to_f64_vec(grads.get(&v).unwrap()))
    };
    let (ac, gc) = run(&Device::Cpu);
    let (ag, gg) = run(&gpu);
    assert!(max_abs_diff(&ac, &ag) < 1e-5);
    assert!(max_abs_diff(&gc, &gg) < 1e-5);
}

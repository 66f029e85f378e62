//! Shared helpers: a small random VGG16 (+ LPIPS heads) written to a safetensors file, and
//! the formula Inception of the FID reference (`fid`).

#![allow(dead_code)]

pub mod fid;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use wno_losses::{LossError, Lpips, Vgg16Config, VggTap};

/// Points the Hugging Face cache at a fresh temp dir (`HF_HOME`, the other cache variables
/// cleared) in offline mode, so nothing downloads; keep the returned dir alive. Sets
/// process-wide variables: one test function per binary.
pub fn offline_hf_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HF_HOME", home.path());
    std::env::remove_var("HF_HUB_CACHE");
    std::env::remove_var("HUGGINGFACE_HUB_CACHE");
    std::env::set_var("HF_HUB_OFFLINE", "1");
    home
}

/// Asserts that every `(constructor, error)` pair is `UnsupportedNetworkDType` for `dtype`, with a
/// message that starts with the constructor's name and names the dtype and the CPU.
pub fn assert_rejects_dtype<const N: usize>(errs: [(&str, LossError); N], dtype: DType) {
    for (op, err) in errs {
        assert!(matches!(err, LossError::UnsupportedNetworkDType { dtype: d, .. } if d == dtype), "{op} {dtype:?}: {err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(op) && msg.contains(&format!("{dtype:?}")) && msg.contains("CPU"), "{msg}");
    }
}

/// Widths of the small test network.
pub const WIDTHS: [usize; 5] = [4, 6, 8, 8, 8];

pub fn small_config(last_tap: VggTap) -> Vgg16Config {
    Vgg16Config { widths: WIDTHS, last_tap }
}

/// Deterministic pseudo-random tensors for every VGG16 tensor and LPIPS head of the small
/// network; He-like scale so activations stay O(1).
pub fn random_tensors(seed: u64) -> HashMap<String, Tensor> {
    let cfg = small_config(VggTap::Relu5_3);
    let mut names = cfg.tensor_names();
    names.extend(Lpips::head_names(&cfg));
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut out = HashMap::new();
    for (name, shape) in names {
        let n: usize = shape.iter().product();
        let fan_in: usize = shape[1..].iter().product::<usize>().max(1);
        let scale = if name.starts_with("lin") { 1.0 } else { (6.0 / fan_in as f64).sqrt() };
        let v: Vec<f32> = (0..n)
            .map(|_| {
                let r = next();
                (if name.starts_with("lin") { r.abs() } else if name.ends_with("bias") { 0.1 * r } else { scale * r }) as f32
            })
            .collect();
        out.insert(name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap());
    }
    out
}

pub fn save(tensors: &HashMap<String, Tensor>, path: &Path) {
    candle_core::safetensors::save(tensors, path).unwrap();
}

/// `[0, 1]` test images, `(B, 3, H, W)`.
pub fn images(b: usize, h: usize, w: usize, phase: f64, dtype: DType) -> Tensor {
    let n = b * 3 * h * w;
    let v: Vec<f64> = (0..n).map(|i| 0.5 + 0.45 * ((i as f64) * 0.0937 + phase).sin()).collect();
    Tensor::from_vec(v, (b, 3, h, w), &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

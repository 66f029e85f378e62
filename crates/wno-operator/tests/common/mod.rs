//! Helpers shared by the integration tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use wno_operator::{checkpoint, Config, Generator};

/// Deterministic values in [-1, 1) from a 64-bit LCG, as a tensor of `dims`.
pub fn pseudo_random(dims: &[usize], seed: u64, dtype: DType) -> Tensor {
    let n: usize = dims.iter().product();
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let v: Vec<f64> = (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

/// Flattened values as f64.
pub fn to_f64_vec(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

/// Largest absolute difference of two tensors of the same element count.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    let (a, b) = (to_f64_vec(a), to_f64_vec(b));
    assert_eq!(a.len(), b.len(), "element counts differ");
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Largest absolute difference between a tensor and flat expected values.
pub fn max_abs_diff_vec(a: &Tensor, b: &[f64]) -> f64 {
    let a = to_f64_vec(a);
    assert_eq!(a.len(), b.len(), "element counts differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Generator parameters from the formula of `fno_tiny.json`: parameter `j` (in
/// `named_parameters()` order), element `k` of its row-major flattening:
/// `0.1 * sin(0.7 k + 1.3 j + 0.5)`, computed in f64 and rounded to f32.
pub fn formula_weights(cfg: &Config) -> HashMap<String, Tensor> {
    checkpoint::expected_parameters(cfg)
        .into_iter()
        .enumerate()
        .map(|(j, (name, shape))| {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n).map(|k| (0.1 * (0.7 * k as f64 + 1.3 * j as f64 + 0.5).sin()) as f32).collect();
            (name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap())
        })
        .collect()
}

/// A generator of `cfg` with the formula weights, in `dtype` on the CPU.
pub fn formula_generator(cfg: &Config, dtype: DType) -> Generator {
    Generator::new(cfg, VarBuilder::from_tensors(formula_weights(cfg), dtype, &Device::Cpu)).unwrap()
}

/// Flattens nested JSON arrays of numbers.
pub fn flat(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat).collect(),
        serde_json::Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("expected numbers, got {other}"),
    }
}

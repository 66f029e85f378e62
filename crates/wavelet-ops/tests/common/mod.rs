//! Helpers shared by the integration tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};

/// `x[b,c,h,w] = sin(0.3*(h*W + w) + c) + 0.1*b` in f64, rounded to f32 (the reference inputs).
pub fn formula_input(shape: [usize; 4]) -> Vec<f32> {
    let [b, c, h, w] = shape;
    let mut v = Vec::with_capacity(b * c * h * w);
    for bi in 0..b {
        for ci in 0..c {
            for hi in 0..h {
                for wi in 0..w {
                    v.push(
                        ((0.3 * (hi * w + wi) as f64 + ci as f64).sin() + 0.1 * bi as f64) as f32,
                    );
                }
            }
        }
    }
    v
}

/// A deterministic pseudo-random tensor (values in [-1, 1)) without depending on candle's RNG.
pub fn pseudo_random(shape: &[usize], seed: u64, dtype: DType, device: &Device) -> Tensor {
    let n: usize = shape.iter().product();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(v, shape, device)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// Flattens a nested JSON array of numbers.
pub fn flatten(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flatten).collect(),
        serde_json::Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number array: {other}"),
    }
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

pub fn to_f64_vec(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

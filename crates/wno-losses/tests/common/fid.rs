//! The formula weights and images of `fixtures/gen_fid_inception.py`, regenerated bit for bit.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use wno_losses::InceptionV3Fid;

/// `CONV_GAIN` of the generator script.
pub const CONV_GAIN: f64 = 1.0;

/// `u(t, k)`: splitmix64 of `(t << 32) + k`, top 53 bits scaled to `[-1, 1)`.
pub fn uniform(t: u64, k: u64) -> f64 {
    let mut z = (t << 32).wrapping_add(k).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * 2f64.powi(-53) * 2.0 - 1.0
}

/// Every tensor the network loads, with the script's formula (f32 on the CPU).
pub fn formula_tensors() -> HashMap<String, Tensor> {
    let mut names = InceptionV3Fid::tensor_names();
    names.sort();
    let mut out = HashMap::new();
    for (t, (name, shape)) in names.into_iter().enumerate() {
        let n: usize = shape.iter().product();
        let fan_in: usize = shape[1..].iter().product();
        let value = |u: f64| -> f64 {
            if name.ends_with("conv.weight") {
                u * (CONV_GAIN * (6.0 / fan_in as f64).sqrt())
            } else if name.ends_with("bn.weight") {
                1.0 + 0.1 * u
            } else if name.ends_with("bn.bias") {
                0.1 * u
            } else if name.ends_with("bn.running_mean") {
                0.05 * u
            } else {
                assert!(name.ends_with("bn.running_var"), "{name}");
                1.0 + 0.25 * u
            }
        };
        let v: Vec<f32> = (0..n as u64).map(|k| value(uniform(t as u64, k)) as f32).collect();
        out.insert(name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap());
    }
    out
}

/// The script's `image(index, h, w)`: `(3, h, w)` values in `[0, 1]`.
pub fn image(index: usize, h: usize, w: usize) -> Vec<f32> {
    let i = index as f64;
    let mut v = Vec::with_capacity(3 * h * w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let (c, y, x) = (c as f64, y as f64, x as f64);
                let a = 0.11 * y * (1.0 + 0.1 * i) + 0.07 * x + 1.3 * c + i;
                let b = 0.9 * x - 0.6 * y + 0.5 * c * (i + 1.0);
                let p = 0.5 + 0.3 * a.sin() + 0.15 * b.cos();
                v.push(p.clamp(0.0, 1.0) as f32);
            }
        }
    }
    v
}

/// A batch of script images `(indices.len(), 3, h, w)`.
pub fn images(indices: &[usize], h: usize, w: usize, dtype: DType) -> Tensor {
    let v: Vec<f32> = indices.iter().flat_map(|i| image(*i, h, w)).collect();
    Tensor::from_vec(v, (indices.len(), 3, h, w), &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

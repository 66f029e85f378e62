//! Parity with the original PyTorch checkpoint (`seed_wno_ckpt.pth`) on the outputs of
//! `vectors/seed_ckpt_forward.json`: one 8x8 transition (batch 2), one 16x16 transition with
//! noise, and the free-running 4 -> 64 chain, within 1e-4 max abs error (observed ~1e-6).
//!
//! Reads the folder named by `WNO_SEED_REFERENCE` (holding `seed_wno_ckpt.pth` and
//! `vectors/`); prints a notice and passes when the variable is unset.
mod common;

use candle_core::{DType, Device, Tensor};
use common::{flat, max_abs_diff_vec};
use std::path::PathBuf;
use wno_operator::{checkpoint, Config, Generator, SampleOptions, SkipMode};

const TOL: f64 = 1e-4;

fn reference_dir() -> Option<PathBuf> {
    match std::env::var_os("WNO_SEED_REFERENCE") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("seed checkpoint parity: WNO_SEED_REFERENCE is not set; skipping (set it to the folder holding seed_wno_ckpt.pth and vectors/)");
            None
        }
    }
}

fn load_vectors(dir: &std::path::Path) -> serde_json::Value {
    let p = dir.join("vectors").join("seed_ckpt_forward.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// Evaluates `f(b, c, h, w)` in f64 over `dims` and rounds to f32 (the inputs' stated recipe).
fn formula(dims: [usize; 4], f: impl Fn(f64, f64, f64, f64) -> f64) -> Tensor {
    let mut v = Vec::with_capacity(dims.iter().product());
    for b in 0..dims[0] {
        for c in 0..dims[1] {
            for h in 0..dims[2] {
                for w in 0..dims[3] {
                    v.push(f(b as f64, c as f64, h as f64, w as f64) as f32);
                }
            }
        }
    }
    Tensor::from_vec(v, dims.to_vec(), &Device::Cpu).unwrap()
}

/// Regenerated input, checked against the stored float32 copy.
fn input(stored: &serde_json::Value, dims: [usize; 4], f: impl Fn(f64, f64, f64, f64) -> f64, dtype: DType) -> Tensor {
    let t = formula(dims, f);
    let e = max_abs_diff_vec(&t, &flat(stored));
    assert!(e < 1e-7, "regenerated input differs from the stored one by {e}");
    t.to_dtype(dtype).unwrap()
}

fn clip01(v: f64) -> f64 {
    v.clamp(0.0, 1.0)
}

fn check_all(g: &Generator, v: &serde_json::Value, what: &str) {
    let dt = g.dtype();
    // A: one transition at 8x8, batch 2.
    let a = &v["A_transition_8x8_batch2"];
    let up = input(&a["inputs"]["upsampled"], [2, 3, 8, 8], |b, c, h, w| {
        clip01(0.5 + 0.45 * (0.9 * h + 0.6 * w + 1.7 * c + 0.5 * b).sin() + 0.15 * (0.35 * h * w - 0.8 * c + 1.1 * b).cos())
    }, dt);
    let noise = input(&a["inputs"]["noise"], [2, 4, 8, 8], |b, c, h, w| {
        0.4 * (0.7 * h - 1.1 * w + 2.3 * c + 0.9 * b).sin() * (0.3 * h + 0.2 * w * c + 0.4 * b).cos()
    }, dt);
    let lr = input(&a["inputs"]["orig_lr"], [2, 3, 4, 4], |b, c, h, w| 0.5 + 0.4 * (1.3 * h + 0.8 * w + 0.6 * c + 1.1 * b).cos(), dt);
    let (out, res) = g.transition_with_residual(&up, Some(&noise), Some(&lr)).unwrap();
    let (eo, er) = (max_abs_diff_vec(&out, &flat(&a["output"])), max_abs_diff_vec(&res, &flat(&a["residual_out_proj"])));
    eprintln!("{what} A: output {eo:.2e}, residual {er:.2e}");
    assert!(eo < TOL && er < TOL, "{what} A: output error {eo}, residual error {er}");

    // B: one transition at 16x16 with noise.
    let bcase = &v["B_transition_16x16_batch1"];
    let up = input(&bcase["inputs"]["upsampled"], [1, 3, 16, 16], |_, c, h, w| {
        clip01(0.55 + 0.5 * (0.37 * h - 0.23 * w + 2.1 * c).sin() * (0.19 * h * w / 16.0 + 0.5 * c).cos())
    }, dt);
    let noise = input(&bcase["inputs"]["noise"], [1, 4, 16, 16], |_, c, h, w| {
        0.35 * (1.3 * h + 0.45 * w + 1.9 * c).sin() + 0.05 * (2.7 * w - 0.6 * h * c).cos()
    }, dt);
    let lr = input(&bcase["inputs"]["orig_lr"], [1, 3, 4, 4], |_, c, h, w| {
        0.5 + 0.35 * (0.9 * h - 1.4 * w + 2.2 * c).sin() + 0.1 * (h * w + c).cos()
    }, dt);
    let (out, res) = g.transition_with_residual(&up, Some(&noise), Some(&lr)).unwrap();
    let (eo, er) = (max_abs_diff_vec(&out, &flat(&bcase["output"])), max_abs_diff_vec(&res, &flat(&bcase["residual_out_proj"])));
    eprintln!("{what} B: output {eo:.2e}, residual {er:.2e}");
    assert!(eo < TOL && er < TOL, "{what} B: output error {eo}, residual error {er}");

    // C: the free-running chain 4 -> 64, zero noise, skip = the 4x4 canvas.
    let c = &v["C_chain_4_to_64"];
    let x4 = input(&c["inputs"]["x4"], [1, 3, 4, 4], |_, c, h, w| {
        0.5 + 0.4 * (1.1 * h + 0.7 * w + 1.9 * c).sin() * (0.5 * h - 0.3 * w + 0.8 * c).cos()
    }, dt);
    let opts = SampleOptions { sigmas: Some(vec![0.0; 4]), skip_mode: Some(SkipMode::Root), seed: 0 };
    let scales = g.upscale(&x4, 64, &opts).unwrap();
    assert_eq!(scales.len(), 5);
    for (i, size) in [8usize, 16, 32, 64].iter().enumerate() {
        let e = max_abs_diff_vec(&scales[i + 1], &flat(&c["outputs"][size.to_string()]));
        eprintln!("{what} C {size}: {e:.2e}");
        assert!(e < TOL, "{what} C at {size}: error {e}");
    }
}

#[test]
fn seed_checkpoint_matches_pytorch() {
    let Some(dir) = reference_dir() else { return };
    let v = load_vectors(&dir);
    let pth = dir.join("seed_wno_ckpt.pth");
    let cfg = Config::original();
    let g = checkpoint::load_pth(&pth, &cfg, DType::F32, &Device::Cpu).unwrap();
    check_all(&g, &v, "f32 from .pth");
    let g64 = checkpoint::load_pth(&pth, &cfg, DType::F64, &Device::Cpu).unwrap();
    check_all(&g64, &v, "f64 from .pth");

    // Converted to safetensors (what examples/convert_checkpoint writes), the outputs are equal.
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path().join("seed.safetensors");
    checkpoint::save_safetensors(&g, &[], &st).unwrap();
    let g2 = checkpoint::load_safetensors(&st, &cfg, DType::F32, &Device::Cpu).unwrap();
    check_all(&g2, &v, "f32 from safetensors");
}

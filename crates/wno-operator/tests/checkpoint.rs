//! Checked loading and saving of generator weights: a tiny PyTorch-format `.pth` (written by
//! `fixtures/make_tiny_pth.py`, the fno_tiny model with its filter buffers), safetensors round
//! trips, the prior stored beside the weights, and the error messages.
mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use common::{flat, formula_generator, max_abs_diff, max_abs_diff_vec, pseudo_random};
use std::path::PathBuf;
use wno_operator::{checkpoint, Config, Generator, OperatorError, Prior4x4};

fn tiny_pth() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_wno.pth")
}

fn tiny_config() -> Config {
    Config { width: 8, layers: 2, ..Config::original() }
}

#[test]
fn pth_loads_ignoring_the_filter_buffers() {
    let cfg = tiny_config();
    let g = checkpoint::load_pth(tiny_pth(), &cfg, DType::F32, &Device::Cpu).unwrap();
    // Same parameters as the formula.
    let reference = formula_generator(&cfg, DType::F32);
    for ((n1, t1), (n2, t2)) in g.named_parameters().iter().zip(reference.named_parameters().iter()) {
        assert_eq!(n1, n2);
        assert_eq!(max_abs_diff(t1, t2), 0.0, "{n1}");
    }
    // And PyTorch's sampling-path output (fno_tiny.json).
    let fx: serde_json::Value = serde_json::from_str(include_str!("fixtures/fno_tiny.json")).unwrap();
    let seed = formula(3, 4, |c, h, w| 0.5 + 0.4 * (1.1 * h + 0.7 * w + c).sin());
    let noise = formula(4, 8, |c, h, w| 0.1 * (0.9 * h - 0.4 * w + 1.7 * c).sin());
    let pred = g.step(&seed, Some(&noise), None).unwrap();
    assert!(max_abs_diff_vec(&pred, &flat(&fx["sampling_path"]["pred_8x8"])) < 1e-5);
    // candle's VarBuilder::from_pth directly (no name check) gives the same generator.
    let direct = Generator::new(&cfg, VarBuilder::from_pth(tiny_pth(), DType::F32, &Device::Cpu).unwrap()).unwrap();
    assert_eq!(max_abs_diff(&direct.step(&seed, Some(&noise), None).unwrap(), &pred), 0.0);
}

fn formula(c: usize, s: usize, f: impl Fn(f64, f64, f64) -> f64) -> Tensor {
    let mut v = Vec::new();
    for ci in 0..c {
        for h in 0..s {
            for w in 0..s {
                v.push(f(ci as f64, h as f64, w as f64) as f32);
            }
        }
    }
    Tensor::from_vec(v, (1, c, s, s), &Device::Cpu).unwrap()
}

#[test]
fn pth_with_another_architecture_is_rejected_with_every_problem_listed() {
    let cfg = Config { width: 16, layers: 3, ..Config::original() };
    let e = checkpoint::load_pth(tiny_pth(), &cfg, DType::F32, &Device::Cpu).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, OperatorError::Checkpoint { .. }), "{msg}");
    assert!(msg.contains("tiny_wno.pth"), "{msg}");
    assert!(msg.contains("`in_proj.weight` has shape [8, 12, 1, 1], expected [16, 12, 1, 1]"), "{msg}");
    assert!(msg.contains("missing `layers.2.dense.weight`"), "{msg}");
    assert!(!msg.contains("spec.dwt"), "filter buffers must be ignored: {msg}");
}

#[test]
fn missing_files_name_the_path() {
    let e = checkpoint::load_pth("/nonexistent/model.pth", &tiny_config(), DType::F32, &Device::Cpu).unwrap_err();
    assert!(matches!(e, OperatorError::Io { .. }) && e.to_string().contains("/nonexistent/model.pth"), "{e}");
    let e = checkpoint::load_safetensors("/nonexistent/w.safetensors", &tiny_config(), DType::F32, &Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/w.safetensors"), "{e}");
    let e = Prior4x4::load("/nonexistent/p.safetensors").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/p.safetensors"), "{e}");
}

#[test]
fn safetensors_round_trip_with_the_prior_beside_the_weights() {
    let cfg = Config { width: 16, layers: 2, ..Config::default() };
    let vm = VarMap::new();
    let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let thumbs = pseudo_random(&[64, 3, 4, 4], 3, DType::F32).affine(0.2, 0.5).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    checkpoint::save_safetensors(&g, &prior.to_tensors().unwrap(), &path).unwrap();
    assert!(!path.with_extension("safetensors.tmp").exists());
    let g2 = checkpoint::load_safetensors(&path, &cfg, DType::F32, &Device::Cpu).unwrap();
    for ((n1, t1), (n2, t2)) in g.named_parameters().iter().zip(g2.named_parameters().iter()) {
        assert_eq!(n1, n2);
        assert_eq!(max_abs_diff(t1, t2), 0.0, "{n1}");
    }
    let prior2 = Prior4x4::load(&path).unwrap();
    assert_eq!(prior, prior2);
    // A file without the prior gives a clear error.
    let bare = dir.path().join("bare.safetensors");
    checkpoint::save_safetensors(&g, &[], &bare).unwrap();
    let e = Prior4x4::load(&bare).unwrap_err().to_string();
    assert!(e.contains("prior.mean") && e.contains("bare.safetensors"), "{e}");
    // Loading into f64 works too.
    let g64 = checkpoint::load_safetensors(&path, &cfg, DType::F64, &Device::Cpu).unwrap();
    assert_eq!(g64.dtype(), DType::F64);
}

#[test]
fn expected_parameters_follow_the_configuration() {
    let cfg = Config { width: 32, layers: 3, noise_channels: 2, coords: false, skip: false, ..Config::default() };
    let p = checkpoint::expected_parameters(&cfg);
    assert_eq!(p[0], ("in_proj.weight".to_string(), vec![32, 5, 1, 1]));
    assert_eq!(p.len(), 6 + 3 * 8 + 2);
    assert_eq!(p.last().unwrap(), &("out_proj.bias".to_string(), vec![3]));
}

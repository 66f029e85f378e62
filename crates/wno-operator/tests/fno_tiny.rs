//! The tiny model of `fno_tiny.json` (width 8, 2 layers, formula weights): the generator's
//! teacher-forced path, a sampling step with noise and zero skip, and the wavelet conv alone
//! agree with PyTorch's outputs (copied to `tests/fixtures/fno_tiny.json`).
mod common;

use candle_core::{DType, Device, IndexOp, Tensor};
use common::{flat, formula_generator, formula_weights, max_abs_diff_vec, to_f64_vec};
use wno_operator::{ops::upsample_nearest, Config, Generator};

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/fno_tiny.json")).unwrap()
}

fn tiny_config() -> Config {
    Config { width: 8, layers: 2, ..Config::original() }
}

/// `hr[0,c,h,w] = 0.5 + 0.35 sin(0.19 h + 0.23 w + 2.1 c) + 0.1 cos(0.05 h w)`, 64x64, f64 -> f32.
fn hr() -> Tensor {
    let mut v = Vec::with_capacity(3 * 64 * 64);
    for c in 0..3 {
        for h in 0..64 {
            for w in 0..64 {
                let (hf, wf, cf) = (h as f64, w as f64, c as f64);
                v.push((0.5 + 0.35 * (0.19 * hf + 0.23 * wf + 2.1 * cf).sin() + 0.1 * (0.05 * hf * wf).cos()) as f32);
            }
        }
    }
    Tensor::from_vec(v, (1, 3, 64, 64), &Device::Cpu).unwrap()
}

/// Area pyramid `[4, 8, 16, 32, 64]` (block means, as `F.interpolate(mode='area')`).
fn pyramid(hr: &Tensor) -> Vec<Tensor> {
    let mut p: Vec<Tensor> = [16, 8, 4, 2].iter().map(|&k| hr.avg_pool2d(k).unwrap()).collect();
    p.push(hr.clone());
    p
}

#[test]
fn formula_weights_match_the_stored_weights() {
    let fx = fixture();
    let cfg = tiny_config();
    let names: Vec<String> = wno_operator::checkpoint::expected_parameters(&cfg).into_iter().map(|(n, _)| n).collect();
    let order: Vec<String> = fx["param_order"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(names, order, "named_parameters() order");
    let w = formula_weights(&cfg);
    for name in &names {
        let first = flat(&fx["weights_first"][name]);
        let ours = to_f64_vec(&w[name]);
        for (a, b) in ours.iter().zip(&first) {
            assert!((a - b).abs() < 1e-9, "{name}: {a} vs {b}");
        }
        let sum: f64 = ours.iter().sum();
        assert!((sum - fx["weights_sum"][name].as_f64().unwrap()).abs() < 1e-6, "{name} sum");
    }
    // The generator reports the same names in the same order.
    let g = formula_generator(&cfg, DType::F32);
    let gnames: Vec<String> = g.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(gnames, names);
}

fn check_teacher_forced(dtype: DType, tol: f64) {
    let fx = fixture();
    let tp = &fx["training_path"];
    let g = formula_generator(&tiny_config(), dtype);
    let pyr: Vec<Tensor> = pyramid(&hr()).into_iter().map(|t| t.to_dtype(dtype).unwrap()).collect();
    let root = &pyr[0];
    // The upsampled input of the first transition.
    let up = upsample_nearest(root, 2).unwrap();
    assert!(max_abs_diff_vec(&up, &flat(&tp["level0_up_input"])) < 1e-6);
    // Per-level steps, each from the ground truth of the level below, skip = 4x4 ground truth.
    let preds: Vec<Tensor> = (0..4).map(|l| g.step(&pyr[l], None, Some(root)).unwrap()).collect();
    let e0 = max_abs_diff_vec(&preds[0], &flat(&tp["level0_pred"]));
    let e1 = max_abs_diff_vec(&preds[1], &flat(&tp["level1_pred"]));
    assert!(e0 < tol && e1 < tol, "{dtype:?}: level 0 error {e0}, level 1 error {e1}");
    for (l, key) in [(2usize, "level2"), (3, "level3")] {
        let p = &preds[l];
        let row = p.i((0, .., 0, ..8)).unwrap();
        let e = max_abs_diff_vec(&row, &flat(&tp[format!("{key}_pred_00")]));
        assert!(e < tol, "{dtype:?}: {key} first row error {e}");
        let sum: f64 = to_f64_vec(p).iter().sum();
        let want = tp[format!("{key}_pred_sum")].as_f64().unwrap();
        assert!((sum - want).abs() < 1e-6 * want.abs() + 1e-3, "{dtype:?}: {key} sum {sum} vs {want}");
    }
    // The batched teacher-forced API gives the same predictions.
    let tf = g.teacher_forced(&pyr[..4], &[None, None, None, None], Some(root)).unwrap();
    for (a, b) in tf.iter().zip(&preds) {
        assert_eq!(to_f64_vec(a), to_f64_vec(b));
    }
}

#[test]
fn teacher_forced_path_matches_pytorch_f32() {
    check_teacher_forced(DType::F32, 1e-5);
}

#[test]
fn teacher_forced_path_matches_pytorch_f64() {
    // The f32 reference differs from an exact evaluation by f32 rounding only.
    check_teacher_forced(DType::F64, 2e-5);
}

fn formula4(dims: (usize, usize, usize), f: impl Fn(f64, f64, f64) -> f64) -> Tensor {
    let (c, h, w) = dims;
    let mut v = Vec::new();
    for ci in 0..c {
        for hi in 0..h {
            for wi in 0..w {
                v.push(f(ci as f64, hi as f64, wi as f64) as f32);
            }
        }
    }
    Tensor::from_vec(v, (1, c, h, w), &Device::Cpu).unwrap()
}

#[test]
fn sampling_step_with_noise_and_zero_skip_matches_pytorch() {
    let fx = fixture();
    let g: Generator = formula_generator(&tiny_config(), DType::F32);
    let seed = formula4((3, 4, 4), |c, h, w| 0.5 + 0.4 * (1.1 * h + 0.7 * w + c).sin());
    let noise = formula4((4, 8, 8), |c, h, w| 0.1 * (0.9 * h - 0.4 * w + 1.7 * c).sin());
    let pred = g.step(&seed, Some(&noise), None).unwrap();
    let e = max_abs_diff_vec(&pred, &flat(&fx["sampling_path"]["pred_8x8"]));
    assert!(e < 1e-5, "error {e}");
    // Noise matters: without it the output differs.
    let quiet = g.step(&seed, None, None).unwrap();
    assert!(max_abs_diff_vec(&quiet, &flat(&fx["sampling_path"]["pred_8x8"])) > 1e-4);
}

#[test]
fn wavelet_conv_alone_matches_pytorch() {
    let fx = fixture();
    let g = formula_generator(&tiny_config(), DType::F32);
    let feat = formula4((8, 8, 8), |c, h, w| (0.3 * (h * 8.0 + w) + c).sin());
    let out = g.spec().forward(&feat).unwrap();
    let e = max_abs_diff_vec(&out, &flat(&fx["wavelet_conv_only"]["output"]));
    assert!(e < 1e-5, "error {e}");
}

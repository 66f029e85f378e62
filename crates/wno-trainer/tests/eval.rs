//! Evaluation: the protocol against direct computations on a tiny random generator and
//! synthetic images, the tensor bicubic against hand-computed values, limits, batching,
//! skipped metrics, LPIPS / FD-VGG16 with a small random VGG, the optional Inception FID,
//! errors and the JSON report.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::collections::HashMap;
use wno_losses::{InceptionV3Fid, Lpips, Vgg16Config, VggTap};
use wno_operator::{Config, Generator, Prior4x4, SampleOptions, SkipMode};
use wno_trainer::data::{area_pyramid, resize_bicubic, stack_images, ImageSource, MemorySource, Pipeline, PlanarImage};
use wno_trainer::eval::{bicubic_resize_tensor, evaluate, psnr_per_image, EvalNets, EvalOptions, EvalReport};
use wno_trainer::rng::TrainRng;
use wno_trainer::TrainerError;

const SIDE: usize = 32;

/// A tiny generator (4 -> 8 -> 16 -> 32) with PyTorch's default random initialisation.
fn tiny_generator(skip_mode: SkipMode) -> Generator {
    let cfg = Config { width: 16, layers: 1, target_size: SIDE, skip_mode, ..Default::default() };
    let vm = VarMap::new();
    Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap()
}

/// `n` smooth synthetic `size x size` images (different per index), as bytes.
fn synthetic(n: usize, size: usize) -> MemorySource {
    let mut src = MemorySource::new("synthetic", vec![]);
    for k in 0..n {
        let mut px = Vec::with_capacity(3 * size * size);
        for c in 0..3 {
            for y in 0..size {
                for x in 0..size {
                    let t = (x as f64 * (0.21 + 0.05 * c as f64) + y as f64 * (0.13 + 0.03 * k as f64) + k as f64).sin();
                    px.push((127.5 + 120.0 * t).round() as u8);
                }
            }
        }
        src.push_planar(size, size, &px, None).unwrap();
    }
    src
}

/// The first `n` images of `src` through the evaluation pipeline, `(n, 3, SIDE, SIDE)`.
fn ground_truth(src: &MemorySource, n: usize) -> Tensor {
    let pipe = Pipeline::eval(SIDE);
    let imgs: Vec<PlanarImage> = (0..n).map(|i| pipe.apply(&src.get(i).unwrap().image, &mut TrainRng::seed_from_u64(0)).unwrap()).collect();
    stack_images(&imgs, &Device::Cpu).unwrap()
}

/// PSNR per image written out by hand: `10 log10(1 / mse)`, mse in f64 over the f32 values.
fn direct_psnr(pred: &Tensor, gt: &Tensor) -> Vec<f64> {
    let b = pred.dim(0).unwrap();
    let p = pred.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let g = gt.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let per = p.len() / b;
    (0..b)
        .map(|i| {
            let mse: f64 = (i * per..(i + 1) * per).map(|j| (p[j] as f64 - g[j] as f64).powi(2)).sum::<f64>() / per as f64;
            10.0 * (1.0 / mse).log10()
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn no_fd() -> EvalOptions {
    EvalOptions { generate: 0, ..Default::default() }
}

/// Random tensors for a small VGG16 (+ LPIPS heads), He-like scale.
fn small_lpips(seed: u64) -> Lpips {
    let cfg = Vgg16Config { widths: [4, 6, 8, 8, 8], last_tap: VggTap::Relu5_3 };
    let mut names = cfg.tensor_names();
    names.extend(Lpips::head_names(&cfg));
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut map = HashMap::new();
    for (name, shape) in names {
        let n: usize = shape.iter().product();
        let fan_in: usize = shape[1..].iter().product::<usize>().max(1);
        let scale = (6.0 / fan_in as f64).sqrt();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                let r = next();
                (if name.starts_with("lin") { r.abs() } else if name.ends_with("bias") { 0.1 * r } else { scale * r }) as f32
            })
            .collect();
        map.insert(name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap());
    }
    Lpips::new(&cfg, VarBuilder::from_tensors(map, DType::F32, &Device::Cpu)).unwrap()
}

#[test]
fn teacher_forced_free_running_and_floors_match_direct_computations() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(5, SIDE);
    let r = evaluate(&g, None, &src, &no_fd(), &EvalNets::default()).unwrap();
    assert_eq!((r.images, r.root_size, r.target_size, r.skip.as_str()), (5, 4, SIDE, "root"));
    let keys: Vec<&str> = r.teacher_psnr.keys().map(String::as_str).collect();
    assert_eq!(keys, ["16", "32", "8"]); // string order in the map...
    assert_eq!(r.teacher_levels().iter().map(|(s, _)| *s).collect::<Vec<_>>(), [8, 16, 32]); // ...numeric here

    let gt = ground_truth(&src, 5);
    let pyr = area_pyramid(&gt, 4).unwrap();
    // Level 16 by hand: step from the 8x8 ground truth, zero noise, skip = the 4x4 ground truth.
    let pred16 = g.step(&pyr[1], None, Some(&pyr[0])).unwrap();
    let want16 = mean(&direct_psnr(&pred16, &pyr[2]));
    assert!((r.teacher_psnr["16"] - want16).abs() < 1e-9, "{} vs {want16}", r.teacher_psnr["16"]);
    let mut level_means = Vec::new();
    for l in 0..3 {
        let pred = g.step(&pyr[l], None, Some(&pyr[0])).unwrap();
        level_means.push(mean(&direct_psnr(&pred, &pyr[l + 1])));
    }
    assert!((r.teacher_psnr_mean - mean(&level_means)).abs() < 1e-9);

    // Free-running: the chain on the model's own outputs with zero noise.
    let mut x = pyr[0].clone();
    for _ in 0..3 {
        x = g.step(&x, None, Some(&pyr[0])).unwrap();
    }
    assert!((r.free_psnr - mean(&direct_psnr(&x, &gt))).abs() < 1e-9);
    let ssim = wno_losses::Ssim::new(Default::default()).unwrap().per_image(&x, &gt).unwrap().to_vec1::<f32>().unwrap();
    let want_ssim = ssim.iter().map(|v| *v as f64).sum::<f64>() / 5.0;
    assert!((r.free_ssim - want_ssim).abs() < 1e-9);

    // Bicubic floor through the per-image CPU resize of the data pipeline, then clamped.
    let bic: Vec<PlanarImage> = (0..5)
        .map(|i| {
            let small = PlanarImage::from_tensor(&pyr[0].get(i).unwrap()).unwrap();
            let mut big = resize_bicubic(&small, SIDE, SIDE).unwrap();
            big.clamp01();
            big
        })
        .collect();
    let bic = stack_images(&bic, &Device::Cpu).unwrap();
    assert!((r.bicubic_psnr - mean(&direct_psnr(&bic, &gt))).abs() < 1e-4);
    // Nearest floor: pixel repetition by 8.
    let near = pyr[0].unsqueeze(3).unwrap().unsqueeze(5).unwrap().broadcast_as((5, 3, 4, 8, 4, 8)).unwrap().reshape((5, 3, SIDE, SIDE)).unwrap();
    assert!((r.nearest_psnr - mean(&direct_psnr(&near, &gt))).abs() < 1e-9);
    assert!(r.bicubic_psnr > r.nearest_psnr, "smooth images: bicubic beats nearest");
    assert!(r.free_lpips.is_none() && r.bicubic_lpips.is_none() && r.fd_vgg16.is_none());
    assert_eq!((r.lpips_images, r.fd_samples), (0, 0));
    assert!(r.seconds >= 0.0);
}

#[test]
fn skip_mode_follows_the_options() {
    let g = tiny_generator(SkipMode::Zeros);
    let src = synthetic(3, SIDE);
    let gt = ground_truth(&src, 3);
    let pyr = area_pyramid(&gt, 4).unwrap();
    // None = the configuration's mode (zeros here).
    let opts = EvalOptions { skip_mode: None, ..no_fd() };
    let r = evaluate(&g, None, &src, &opts, &EvalNets::default()).unwrap();
    assert_eq!(r.skip, "zeros");
    let pred = g.step(&pyr[0], None, None).unwrap();
    assert!((r.teacher_psnr["8"] - mean(&direct_psnr(&pred, &pyr[1]))).abs() < 1e-9);
    let up = g.upscale(&pyr[0], SIDE, &SampleOptions { sigmas: Some(vec![0.0; 3]), skip_mode: Some(SkipMode::Zeros), seed: 0 }).unwrap();
    assert!((r.free_psnr - mean(&direct_psnr(&up[3], &gt))).abs() < 1e-9);
    // The default is the root canvas, whatever the configuration says.
    let root = evaluate(&g, None, &src, &no_fd(), &EvalNets::default()).unwrap();
    assert_eq!(root.skip, "root");
    assert!((root.teacher_psnr["8"] - r.teacher_psnr["8"]).abs() > 1e-6, "skip channels must matter");
    assert_eq!(root.bicubic_psnr, r.bicubic_psnr);
}

#[test]
fn limit_and_batch_size() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(7, SIDE);
    let mut first3 = src.clone();
    first3.truncate(3);
    let a = evaluate(&g, None, &src, &EvalOptions { limit: Some(3), ..no_fd() }, &EvalNets::default()).unwrap();
    let b = evaluate(&g, None, &first3, &no_fd(), &EvalNets::default()).unwrap();
    assert_eq!(a.images, 3);
    assert_eq!(a.teacher_psnr, b.teacher_psnr);
    assert_eq!(a.free_psnr, b.free_psnr);
    // A limit beyond the source is the whole source.
    let all = evaluate(&g, None, &src, &EvalOptions { limit: Some(100), ..no_fd() }, &EvalNets::default()).unwrap();
    assert_eq!(all.images, 7);
    // Batching changes no number (GroupNorm is per image): 7 images in batches of 2 (last 1).
    let batched = evaluate(&g, None, &src, &EvalOptions { batch_size: 2, ..no_fd() }, &EvalNets::default()).unwrap();
    for (k, v) in &all.teacher_psnr {
        assert!((v - batched.teacher_psnr[k]).abs() < 1e-4, "level {k}: {v} vs {}", batched.teacher_psnr[k]);
    }
    assert!((all.free_psnr - batched.free_psnr).abs() < 1e-4);
    assert!((all.free_ssim - batched.free_ssim).abs() < 1e-5);
    assert!((all.bicubic_psnr - batched.bicubic_psnr).abs() < 1e-9);
}

#[test]
fn constant_images_give_exact_floors() {
    let g = tiny_generator(SkipMode::Root);
    let mut src = MemorySource::new("constant", vec![]);
    for v in [0u8, 77, 200] {
        src.push_planar(SIDE, SIDE, &vec![v; 3 * SIDE * SIDE], None).unwrap();
    }
    let r = evaluate(&g, None, &src, &no_fd(), &EvalNets::default()).unwrap();
    // Bicubic and nearest of a constant image are that constant: MSE 0 reads as the 100 dB cap.
    assert!((r.bicubic_psnr - 100.0).abs() < 1e-9, "{}", r.bicubic_psnr);
    assert!((r.nearest_psnr - 100.0).abs() < 1e-9);
    assert!((r.bicubic_ssim - 1.0).abs() < 1e-5 && (r.nearest_ssim - 1.0).abs() < 1e-5);
    let x = Tensor::full(0.3f32, (1, 3, 4, 4), &Device::Cpu).unwrap();
    let y = bicubic_resize_tensor(&x, SIDE).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(y.iter().all(|v| (v - 0.3).abs() < 1e-6));
}

#[test]
fn bicubic_tensor_matches_hand_computed_values() {
    // PyTorch's bicubic (A = -0.75, align_corners=False) for 2 -> 4: source coordinates
    // -0.25, 0.25, 0.75, 1.25; e.g. at -0.25 the taps (-2, -1, 0, 1) clamp to (0, 0, 0, 1) with
    // weights (W(1.75), W(0.75), W(0.25), W(1.25)) = (-0.03515625, 0.26171875, 0.87890625,
    // -0.10546875), so pixel 1 gets m[0] = -0.10546875. The weights of pixel 1 per output:
    let m = [-0.10546875f64, 0.2265625, 0.7734375, 1.10546875];
    // Input v(i, j) = 2 i + j: rows of weights sum to 1, so out(y, x) = 2 m[y] + m[x].
    let x = Tensor::new(&[[[[0f32, 1.], [2., 3.]]]], &Device::Cpu).unwrap();
    for dtype in [DType::F32, DType::F64] {
        let y = bicubic_resize_tensor(&x.to_dtype(dtype).unwrap(), 4).unwrap();
        assert_eq!(y.dims(), &[1, 1, 4, 4]);
        assert_eq!(y.dtype(), dtype);
        let got = y.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        for yy in 0..4 {
            for xx in 0..4 {
                let want = 2.0 * m[yy] + m[xx];
                assert!((got[yy * 4 + xx] - want).abs() < 1e-6, "({yy}, {xx}): {} vs {want}", got[yy * 4 + xx]);
            }
        }
    }
    // Not clamped: the corner overshoots below 0 like PyTorch's.
    assert!(bicubic_resize_tensor(&x, 4).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()[0] < 0.0);

    // Agrees with the per-image CPU resize of the data pipeline (non-square input, downscale too).
    let data: Vec<f32> = (0..3 * 5 * 7).map(|i| ((i as f32) * 0.37).sin() * 0.5 + 0.5).collect();
    let img = PlanarImage::new(5, 7, data).unwrap();
    let t = img.to_tensor(&Device::Cpu).unwrap().unsqueeze(0).unwrap();
    for size in [3usize, 11, 16] {
        let want = resize_bicubic(&img, size, size).unwrap();
        let got = bicubic_resize_tensor(&t, size).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let err = got.iter().zip(want.data()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 1e-5, "size {size}: max diff {err}");
    }
    assert!(matches!(bicubic_resize_tensor(&t, 0), Err(TrainerError::InvalidArgument { .. })));
    assert!(matches!(bicubic_resize_tensor(&t.squeeze(0).unwrap(), 4), Err(TrainerError::Shape { .. })));
}

#[test]
fn lpips_and_fd_with_a_small_random_vgg() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(6, SIDE);
    let lpips = small_lpips(3);
    let nets = EvalNets { fd_vgg: Some(lpips.vgg().clone()), lpips: Some(lpips.clone()), fid_inception: None };
    // FD is skipped without a prior, whatever `generate` says.
    let opts = EvalOptions { lpips_limit: Some(4), generate: 5, batch_size: 4, ..Default::default() };
    let r = evaluate(&g, None, &src, &opts, &nets).unwrap();
    assert!(r.fd_vgg16.is_none() && r.fd_samples == 0);
    assert_eq!(r.lpips_images, 4);
    for v in [r.free_lpips, r.bicubic_lpips, r.nearest_lpips] {
        let v = v.expect("LPIPS computed");
        assert!(v.is_finite() && v >= 0.0, "{v}");
    }
    // LPIPS over exactly the first 4 images (they span two batches of 4).
    let gt = ground_truth(&src, 4);
    let pyr = area_pyramid(&gt, 4).unwrap();
    let bic = bicubic_resize_tensor(&pyr[0], SIDE).unwrap().clamp(0f32, 1f32).unwrap();
    let want: Vec<f32> = lpips.per_image(&bic, &gt).unwrap().to_vec1().unwrap();
    let want = want.iter().map(|v| *v as f64).sum::<f64>() / 4.0;
    assert!((r.bicubic_lpips.unwrap() - want).abs() < 1e-6, "{} vs {want}", r.bicubic_lpips.unwrap());

    // With a prior: a finite, non-negative FD over `generate` samples, reproducible by seed.
    let thumbs = Tensor::rand(0f64, 1., (100, 3, 4, 4), &Device::Cpu).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let a = evaluate(&g, Some(&prior), &src, &opts, &nets).unwrap();
    let fd = a.fd_vgg16.expect("FD computed");
    assert!(fd.is_finite() && fd > -1e-6, "{fd}");
    assert_eq!(a.fd_samples, 5);
    let b = evaluate(&g, Some(&prior), &src, &opts, &nets).unwrap();
    assert_eq!(a.fd_vgg16, b.fd_vgg16);
    let c = evaluate(&g, Some(&prior), &src, &EvalOptions { seed: 9, ..opts.clone() }, &nets).unwrap();
    assert_ne!(a.fd_vgg16, c.fd_vgg16);
    // No FD network: skipped even with a prior.
    let lp_only = EvalNets { lpips: Some(lpips), fd_vgg: None, fid_inception: None };
    assert!(evaluate(&g, Some(&prior), &src, &opts, &lp_only).unwrap().fd_vgg16.is_none());
    // generate = 1 cannot give a covariance; the error names only the metric asked for.
    let err = evaluate(&g, Some(&prior), &src, &EvalOptions { generate: 1, ..opts }, &nets).unwrap_err().to_string();
    assert!(err.contains("at least 2") && err.contains("FD-VGG16") && !err.contains("Inception"), "{err}");
}

/// The Inception FID rides on the FD-VGG16 samples: same generated images, same FD-VGG16 with
/// or without it, present in the report and the JSON only when computed. All-zero Inception
/// weights keep it cheap (every feature 0, so the FID is exactly 0).
#[test]
fn inception_fid_is_optional_and_shares_the_generated_samples() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(3, SIDE);
    let lpips = small_lpips(5);
    let thumbs = Tensor::rand(0f64, 1., (50, 3, 4, 4), &Device::Cpu).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let opts = EvalOptions { generate: 3, batch_size: 2, lpips_limit: Some(1), ..Default::default() };
    let inception = InceptionV3Fid::new(VarBuilder::zeros(DType::F32, &Device::Cpu)).unwrap();
    let vgg_only = EvalNets { lpips: None, fd_vgg: Some(lpips.vgg().clone()), fid_inception: None };
    let both = EvalNets { fid_inception: Some(inception.clone()), ..vgg_only.clone() };
    let a = evaluate(&g, Some(&prior), &src, &opts, &vgg_only).unwrap();
    let b = evaluate(&g, Some(&prior), &src, &opts, &both).unwrap();
    assert!(a.fid_inception.is_none());
    assert_eq!(b.fid_inception, Some(0.0));
    assert_eq!((a.fd_vgg16, a.fd_samples), (b.fd_vgg16, b.fd_samples));
    assert!(b.fd_vgg16.is_some() && b.fd_samples == 3);
    assert!(b.summary_lines().iter().any(|l| l.starts_with("FID (Inception-v3 pool3") && l.contains("3 generated vs 3 real")));
    assert!(a.summary_lines().iter().all(|l| !l.contains("FID")));
    let ja: serde_json::Value = serde_json::to_value(&a).unwrap();
    let jb: serde_json::Value = serde_json::to_value(&b).unwrap();
    assert!(ja.get("fid_inception").is_none() && jb["fid_inception"].as_f64() == Some(0.0));
    // Old reports (no field) still parse.
    let back: EvalReport = serde_json::from_value(ja).unwrap();
    assert!(back.fid_inception.is_none());
    // Inception alone: the FID without FD-VGG16; without a prior, neither.
    let only = EvalNets { fid_inception: Some(inception), ..EvalNets::default() };
    let c = evaluate(&g, Some(&prior), &src, &opts, &only).unwrap();
    assert_eq!((c.fid_inception, c.fd_vgg16, c.fd_samples), (Some(0.0), None, 3));
    let d = evaluate(&g, None, &src, &opts, &only).unwrap();
    assert_eq!((d.fid_inception, d.fd_samples), (None, 0));
    // generate = 1 without a VGG16: the error is about the Inception FID only.
    let err = evaluate(&g, Some(&prior), &src, &EvalOptions { generate: 1, ..opts.clone() }, &only).unwrap_err().to_string();
    assert!(err.contains("at least 2") && err.contains("the Inception FID") && !err.contains("FD-VGG16"), "{err}");
    let both_msg = both.sample_metrics().unwrap();
    assert!(both_msg.contains("FD-VGG16") && both_msg.contains("Inception FID"), "{both_msg}");
    assert_eq!(EvalNets::default().sample_metrics(), None);
}

#[test]
fn bad_arguments_are_errors() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(2, SIDE);
    let nets = EvalNets::default();
    assert!(matches!(
        evaluate(&g, None, &src, &EvalOptions { batch_size: 0, ..no_fd() }, &nets),
        Err(TrainerError::InvalidArgument { .. })
    ));
    let empty = MemorySource::new("empty", vec![]);
    let err = evaluate(&g, None, &empty, &no_fd(), &nets).unwrap_err();
    assert!(err.to_string().contains("no image"), "{err}");
    assert!(evaluate(&g, None, &src, &EvalOptions { limit: Some(0), ..no_fd() }, &nets).is_err());
    // A target below the SSIM window.
    let cfg = Config { width: 16, layers: 1, target_size: 8, ..Default::default() };
    let vm = VarMap::new();
    let small = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let err = evaluate(&small, None, &src, &no_fd(), &nets).unwrap_err();
    assert!(err.to_string().contains("SSIM window"), "{err}");
    assert!(psnr_per_image(&Tensor::zeros((1, 3, 4, 4), DType::F32, &Device::Cpu).unwrap(), &Tensor::zeros((1, 3, 4, 5), DType::F32, &Device::Cpu).unwrap()).is_err());
}

#[test]
fn report_json_round_trip_and_summary() {
    let g = tiny_generator(SkipMode::Root);
    let src = synthetic(2, SIDE);
    let r = evaluate(&g, None, &src, &no_fd(), &EvalNets::default()).unwrap();
    let json = serde_json::to_string(&r).unwrap();
    let back: EvalReport = serde_json::from_str(&json).unwrap();
    // serde_json parses floats to within an ulp or so (no `float_roundtrip` feature).
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
    assert_eq!((back.images, back.lpips_images, &back.skip), (r.images, r.lpips_images, &r.skip));
    assert!(back.teacher_psnr.iter().all(|(k, v)| close(*v, r.teacher_psnr[k])));
    assert!(close(back.free_psnr, r.free_psnr) && close(back.nearest_ssim, r.nearest_ssim));
    assert_eq!(back.summary_lines(), r.summary_lines());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["teacher_psnr"]["8"].is_f64() && v["fd_vgg16"].is_null());
    let lines = r.summary_lines();
    assert!(lines.iter().any(|l| l.contains("teacher-forced")));
    assert!(lines.iter().any(|l| l.contains("bicubic 4->32")));
    assert!(lines.iter().all(|l| !l.contains("FID")));
    // Options round trip too, and missing fields take the defaults.
    let o: EvalOptions = serde_json::from_str(r#"{"limit": 10}"#).unwrap();
    assert_eq!(o, EvalOptions { limit: Some(10), ..Default::default() });
}

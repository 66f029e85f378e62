//! Sampling: `upscale` and `generate` return every scale, are seeded, honour the sigma
//! schedule and the skip mode, and work for targets beyond 64.
mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use common::{max_abs_diff, pseudo_random, to_f64_vec};
use rand::SeedableRng;
use wno_operator::{Config, Generator, OperatorError, Prior4x4, SampleOptions, SigmaSchedule, SkipMode};

fn tiny(width: usize, target: usize) -> Generator {
    let cfg = Config { width, layers: 1, target_size: target, ..Config::default() };
    let vm = VarMap::new();
    Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap()
}

fn image(b: usize, s: usize, seed: u64) -> Tensor {
    pseudo_random(&[b, 3, s, s], seed, DType::F32).affine(0.3, 0.5).unwrap()
}

#[test]
fn upscale_returns_every_scale_and_is_seeded() {
    let g = tiny(16, 64);
    let x = image(2, 4, 1);
    let opts = SampleOptions { seed: 7, ..Default::default() };
    let s = g.upscale(&x, 64, &opts).unwrap();
    let sides: Vec<usize> = s.iter().map(|t| t.dim(3).unwrap()).collect();
    assert_eq!(sides, vec![4, 8, 16, 32, 64]);
    assert_eq!(max_abs_diff(&s[0], &x), 0.0);
    for t in &s {
        assert_eq!(t.dim(0).unwrap(), 2);
        assert!(to_f64_vec(t).iter().all(|v| (0.0..=1.0).contains(v)));
    }
    let again = g.upscale(&x, 64, &opts).unwrap();
    assert_eq!(max_abs_diff(&s[4], &again[4]), 0.0, "same seed, same images");
    let other = g.upscale(&x, 64, &SampleOptions { seed: 8, ..Default::default() }).unwrap();
    assert!(max_abs_diff(&s[4], &other[4]) > 1e-4, "another seed draws other noise");
    // Zero noise: independent of the seed and equal to plain steps.
    let quiet = |seed| g.upscale(&x, 64, &SampleOptions { sigmas: Some(vec![0.0; 4]), seed, ..Default::default() }).unwrap();
    let (q1, q2) = (quiet(1), quiet(2));
    assert_eq!(max_abs_diff(&q1[4], &q2[4]), 0.0);
    let mut y = x.clone();
    for _ in 0..4 {
        y = g.step(&y, None, Some(&x)).unwrap();
    }
    assert!(max_abs_diff(&q1[4], &y) < 1e-6);
    // The outputs carry no graph: no gradient reaches the parameters.
    let grads = s[4].sum_all().unwrap().backward().unwrap();
    assert!(g.named_parameters().iter().all(|(_, p)| grads.get(p).is_none()));
}

#[test]
fn skip_mode_changes_the_result() {
    let g = tiny(16, 16);
    let x = image(1, 4, 2);
    let zero = vec![0.0; 2];
    let root = g.upscale(&x, 16, &SampleOptions { sigmas: Some(zero.clone()), skip_mode: Some(SkipMode::Root), seed: 0 }).unwrap();
    let zeros = g.upscale(&x, 16, &SampleOptions { sigmas: Some(zero), skip_mode: Some(SkipMode::Zeros), seed: 0 }).unwrap();
    assert!(max_abs_diff(&root[2], &zeros[2]) > 1e-5);
    let mut y = x.clone();
    for _ in 0..2 {
        y = g.step(&y, None, None).unwrap();
    }
    assert!(max_abs_diff(&zeros[2], &y) < 1e-6);
}

#[test]
fn targets_128_and_256_work() {
    let g = tiny(8, 256);
    let x = image(1, 4, 3);
    for target in [128usize, 256] {
        let s = g.upscale(&x, target, &SampleOptions::default()).unwrap();
        assert_eq!(s.last().unwrap().dims(), &[1, 3, target, target]);
        assert_eq!(s.len(), (target / 4).trailing_zeros() as usize + 1);
    }
    // Upscaling from 16x16 needs fewer levels.
    let s = g.upscale(&image(1, 16, 4), 128, &SampleOptions::default()).unwrap();
    assert_eq!(s.iter().map(|t| t.dim(2).unwrap()).collect::<Vec<_>>(), vec![16, 32, 64, 128]);
    // generate goes to the configured target (256).
    let thumbs = image(40, 4, 5);
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let s = g.generate(3, &prior, &SampleOptions::default()).unwrap();
    assert_eq!(s.iter().map(|t| t.dim(3).unwrap()).collect::<Vec<_>>(), vec![4, 8, 16, 32, 64, 128, 256]);
    assert_eq!(s[6].dims(), &[3, 3, 256, 256]);
}

#[test]
fn generate_is_seeded_and_starts_from_the_prior() {
    let g = tiny(16, 32);
    let prior = Prior4x4::fit(&image(40, 4, 6)).unwrap();
    let opts = SampleOptions { seed: 11, ..Default::default() };
    let a = g.generate(4, &prior, &opts).unwrap();
    let b = g.generate(4, &prior, &opts).unwrap();
    assert_eq!(max_abs_diff(&a[3], &b[3]), 0.0);
    // The root is the prior's first draw from the seeded RNG.
    let root = prior.sample(4, &mut rand::rngs::StdRng::seed_from_u64(11), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(max_abs_diff(&a[0], &root), 0.0);
    let c = g.generate(4, &prior, &SampleOptions { seed: 12, ..Default::default() }).unwrap();
    assert!(max_abs_diff(&a[0], &c[0]) > 1e-3);
}

#[test]
fn sigma_schedules() {
    let s = SigmaSchedule::default().sigmas(4).unwrap();
    let want = [0.4, 0.2, 0.1, 0.05];
    for (a, b) in s.iter().zip(want) {
        assert!((a - b).abs() < 1e-12, "{s:?}");
    }
    let s6 = SigmaSchedule::default().sigmas(6).unwrap();
    assert!((s6[0] - 0.4).abs() < 1e-12 && (s6[5] - 0.05).abs() < 1e-12);
    assert!(s6.windows(2).all(|w| (w[1] / w[0] - (0.125f64).powf(0.2)).abs() < 1e-12));
    assert_eq!(SigmaSchedule::default().sigmas(1).unwrap(), vec![0.4]);
    assert!(SigmaSchedule::Explicit(vec![0.1; 3]).sigmas(4).is_err());
    assert!(SigmaSchedule::Explicit(vec![-0.1]).sigmas(1).is_err());
    assert!(SigmaSchedule::Geometric { start: 0.0, end: 0.1 }.sigmas(2).is_err());
    // Options with the wrong number of sigmas are rejected by the sampler.
    let g = tiny(16, 16);
    let e = g.upscale(&image(1, 4, 1), 16, &SampleOptions { sigmas: Some(vec![0.1]), ..Default::default() }).unwrap_err();
    assert!(matches!(e, OperatorError::Config(_)), "{e}");
}

#[test]
fn noise_has_the_requested_sigma() {
    let g = tiny(16, 16);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let n = g.noise(4, 32, 32, 0.3, &mut rng).unwrap().unwrap();
    assert_eq!(n.dims(), &[4, 4, 32, 32]);
    let v = to_f64_vec(&n);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    assert!(mean.abs() < 0.01 && (std - 0.3).abs() < 0.01, "mean {mean}, std {std}");
    assert!(g.noise(1, 8, 8, 0.0, &mut rng).unwrap().is_none());
    let levels = g.level_noises(2, 4, &[0.4, 0.0], &mut rng).unwrap();
    assert_eq!(levels[0].as_ref().unwrap().dims(), &[2, 4, 8, 8]);
    assert!(levels[1].is_none());
}

#[test]
fn bad_inputs_are_rejected_with_clear_errors() {
    let g = tiny(16, 64);
    let e = g.upscale(&pseudo_random(&[1, 3, 4, 8], 0, DType::F32), 64, &SampleOptions::default()).unwrap_err();
    assert!(matches!(e, OperatorError::Size { .. }) && e.to_string().contains("square"), "{e}");
    let e = g.upscale(&image(1, 4, 0), 48, &SampleOptions::default()).unwrap_err();
    assert!(e.to_string().contains("48"), "{e}");
    let e = g.step(&pseudo_random(&[1, 4, 4, 4], 0, DType::F32), None, None).unwrap_err();
    assert!(e.to_string().contains("Generator::step") && e.to_string().contains("[1, 4, 4, 4]"), "{e}");
    let e = g.step(&image(1, 4, 0).to_dtype(DType::F64).unwrap(), None, None).unwrap_err();
    assert!(matches!(e, OperatorError::Mismatch { .. }), "{e}");
    let e = g.step(&image(1, 4, 0), Some(&pseudo_random(&[1, 4, 4, 4], 0, DType::F32)), None).unwrap_err();
    assert!(e.to_string().contains("noise"), "{e}");
    let e = g.teacher_forced(&[image(1, 4, 0)], &[None, None], None).unwrap_err();
    assert!(matches!(e, OperatorError::Mismatch { .. }), "{e}");
    assert!(Generator::new(&Config { width: 24, norm_groups: Some(5), ..Config::default() }, VarBuilder::from_varmap(&VarMap::new(), DType::F32, &Device::Cpu)).is_err());
    assert!(Config { target_size: 48, ..Config::default() }.validate().is_err());
}

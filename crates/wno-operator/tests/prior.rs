//! The 4x4 full-covariance Gaussian prior: fitting recovers a known Gaussian, sampling follows
//! the fitted distribution (clamped to [0, 1]) and is seeded, storage round-trips.
mod common;

use candle_core::{DType, Device, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use wno_operator::{OperatorError, Prior4x4};

const D: usize = 48;

/// A known covariance factor: lower triangular with a dominant diagonal and correlations.
fn known_factor() -> Vec<f64> {
    let mut l = vec![0f64; D * D];
    for i in 0..D {
        for j in 0..=i {
            l[i * D + j] = if i == j { 0.05 } else { 0.01 * ((i * 7 + j * 3) as f64).sin() };
        }
    }
    l
}

fn draw(n: usize, mean: &[f64], l: &[f64], rng: &mut StdRng) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * D);
    for _ in 0..n {
        let z: Vec<f64> = (0..D).map(|_| StandardNormal.sample(rng)).collect();
        for i in 0..D {
            out.push(mean[i] + (0..=i).map(|j| l[i * D + j] * z[j]).sum::<f64>());
        }
    }
    out
}

fn cov(data: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = data.len() / D;
    let mut m = vec![0f64; D];
    for row in data.chunks(D) {
        for (a, v) in m.iter_mut().zip(row) {
            *a += v / n as f64;
        }
    }
    let mut c = vec![0f64; D * D];
    for row in data.chunks(D) {
        for i in 0..D {
            for j in 0..D {
                c[i * D + j] += (row[i] - m[i]) * (row[j] - m[j]) / (n - 1) as f64;
            }
        }
    }
    (m, c)
}

fn llt(l: &[f64]) -> Vec<f64> {
    let mut c = vec![0f64; D * D];
    for i in 0..D {
        for j in 0..D {
            c[i * D + j] = (0..D).map(|k| l[i * D + k] * l[j * D + k]).sum();
        }
    }
    c
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn fit_recovers_a_known_gaussian_and_samples_follow_it() {
    let mean: Vec<f64> = (0..D).map(|i| 0.5 + 0.1 * (i as f64 * 0.3).sin()).collect();
    let l = known_factor();
    let mut rng = StdRng::seed_from_u64(1);
    let n = 20_000;
    let data = draw(n, &mean, &l, &mut rng);
    let thumbs = Tensor::from_vec(data.clone(), (n, 3, 4, 4), &Device::Cpu).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let (m_emp, c_emp) = cov(&data);
    // The fit is the sample mean and covariance (up to the tiny jitter).
    assert!(max_diff(prior.mean(), &m_emp) < 1e-12);
    assert!(max_diff(&llt(prior.chol()), &c_emp) < 1e-6);
    // ... which is close to the true distribution.
    assert!(max_diff(prior.mean(), &mean) < 3e-3);
    assert!(max_diff(&llt(prior.chol()), &llt(&l)) < 2e-4);
    // Samples (the mean is 8 sigma inside [0, 1], so clamping is negligible) follow the fit.
    let s = prior.sample(n, &mut StdRng::seed_from_u64(2), DType::F64, &Device::Cpu).unwrap();
    assert_eq!(s.dims(), &[n, 3, 4, 4]);
    let sv = s.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    assert!(sv.iter().all(|v| (0.0..=1.0).contains(v)));
    let (ms, cs) = cov(&sv);
    assert!(max_diff(&ms, prior.mean()) < 3e-3);
    assert!(max_diff(&cs, &llt(prior.chol())) < 2e-4);
}

#[test]
fn sampling_is_seeded_and_clamped() {
    let thumbs = common::pseudo_random(&[100, 3, 4, 4], 9, DType::F32).affine(0.6, 0.5).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let a = prior.sample(50, &mut StdRng::seed_from_u64(3), DType::F32, &Device::Cpu).unwrap();
    let b = prior.sample(50, &mut StdRng::seed_from_u64(3), DType::F32, &Device::Cpu).unwrap();
    let c = prior.sample(50, &mut StdRng::seed_from_u64(4), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(common::max_abs_diff(&a, &b), 0.0);
    assert!(common::max_abs_diff(&a, &c) > 0.1);
    let v = common::to_f64_vec(&a);
    assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
    assert!(v.iter().any(|&x| x == 0.0) && v.iter().any(|&x| x == 1.0), "wide prior must hit both bounds");
}

#[test]
fn degenerate_thumbnails_still_fit_with_jitter() {
    // All thumbnails equal up to one varying value: a rank-1 covariance.
    let n = 10;
    let mut data = vec![0.5f64; n * D];
    for i in 0..n {
        data[i * D] = i as f64 / n as f64;
    }
    let prior = Prior4x4::fit(&Tensor::from_vec(data, (n, 3, 4, 4), &Device::Cpu).unwrap()).unwrap();
    assert!(prior.chol().iter().all(|v| v.is_finite()));
}

#[test]
fn save_load_round_trip_and_errors() {
    let thumbs = common::pseudo_random(&[30, 3, 4, 4], 5, DType::F64).affine(0.3, 0.5).unwrap();
    let prior = Prior4x4::fit(&thumbs).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prior.safetensors");
    prior.save(&p).unwrap();
    assert_eq!(Prior4x4::load(&p).unwrap(), prior);
    assert!(matches!(Prior4x4::fit(&thumbs.narrow(0, 0, 1).unwrap()), Err(OperatorError::Prior(_))));
    assert!(matches!(Prior4x4::fit(&thumbs.reshape((30, 3, 16)).unwrap()), Err(OperatorError::Shape { .. })));
    let nan = Tensor::full(f64::NAN, (4, 3, 4, 4), &Device::Cpu).unwrap();
    assert!(Prior4x4::fit(&nan).is_err());
    assert!(Prior4x4::from_parts(vec![0.0; 48], vec![0.0; 48 * 48]).is_err(), "zero diagonal must be rejected");
}

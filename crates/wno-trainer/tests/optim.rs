//! Adam/AdamW against a scalar re-derivation of PyTorch's update, state round trips, clipping,
//! EMA and schedules.

use candle_core::{DType, Device, Tensor, Var};
use std::collections::HashMap;
use wno_trainer::optim::{clip_grad_norm, Adam, AdamConfig, Ema, EmaConfig, LrSchedule};

/// PyTorch's single-tensor Adam/AdamW step on plain f64 numbers.
#[allow(clippy::too_many_arguments)]
fn reference_step(
    p: &mut [f64],
    g: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    t: i32,
    c: &AdamConfig,
    lr: f64,
) {
    for i in 0..p.len() {
        let mut gi = g[i];
        if c.decoupled {
            p[i] *= 1.0 - lr * c.weight_decay;
        } else {
            gi += c.weight_decay * p[i];
        }
        m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * gi;
        v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * gi * gi;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        let denom = v[i].sqrt() / bc2.sqrt() + c.eps;
        p[i] -= lr / bc1 * m[i] / denom;
    }
}

/// Loss `sum(a * p^2 + b * p)`: gradient `2 a p + b`.
fn run(cfg: AdamConfig, steps: usize, lrs: &[f64]) {
    let a = [0.5f64, 2.0, 1.5, 0.1];
    let b = [1.0f64, -0.3, 0.0, 4.0];
    let p0 = [0.7f64, -1.2, 3.0, 0.01];
    let dev = Device::Cpu;
    let w = Var::new(&p0, &dev).unwrap();
    let at = Tensor::new(&a, &dev).unwrap();
    let bt = Tensor::new(&b, &dev).unwrap();
    let mut opt = Adam::new(vec![("w".into(), w.clone())], cfg.clone()).unwrap();
    let (mut p, mut m, mut v) = (p0.to_vec(), vec![0.0; 4], vec![0.0; 4]);
    for s in 0..steps {
        let lr = lrs[s % lrs.len()];
        opt.set_lr(lr);
        let x = w.as_tensor();
        let loss = ((x.sqr().unwrap() * &at).unwrap() + (x * &bt).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        opt.backward_step(&loss).unwrap();
        let g: Vec<f64> = (0..4).map(|i| 2.0 * a[i] * p[i] + b[i]).collect();
        reference_step(&mut p, &g, &mut m, &mut v, s as i32 + 1, &cfg, lr);
        let got = w.as_tensor().to_vec1::<f64>().unwrap();
        for i in 0..4 {
            assert!(
                (got[i] - p[i]).abs() < 1e-12,
                "step {s} elem {i}: {} vs {}",
                got[i],
                p[i]
            );
        }
    }
    assert_eq!(opt.step_count(), steps as u64);
}

#[test]
fn adam_coupled_l2_matches_formula() {
    run(
        AdamConfig {
            lr: 3e-2,
            weight_decay: 0.1,
            ..Default::default()
        },
        12,
        &[3e-2],
    );
}

#[test]
fn adamw_matches_formula_with_changing_lr() {
    let cfg = AdamConfig {
        lr: 1e-2,
        beta1: 0.5,
        beta2: 0.9,
        eps: 1e-6,
        weight_decay: 0.2,
        decoupled: true,
    };
    run(cfg, 10, &[1e-2, 5e-3, 2e-2]);
}

#[test]
fn adam_first_step_by_hand() {
    // One parameter, gradient 2 (loss 2p at p = 1), lr 0.1, coupled wd 0.5: g = 2 + 0.5 = 2.5,
    // m = 0.25, v = 0.00625, m_hat = 2.5, v_hat = 6.25, update = 0.1 * 2.5 / (2.5 + 1e-8).
    let w = Var::new(&[1.0f64], &Device::Cpu).unwrap();
    let cfg = AdamConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..Default::default()
    };
    let mut opt = Adam::new(vec![("w".into(), w.clone())], cfg).unwrap();
    opt.backward_step(&(w.as_tensor() * 2.0).unwrap().sum_all().unwrap())
        .unwrap();
    let got = w.as_tensor().to_vec1::<f64>().unwrap()[0];
    assert!(
        (got - (1.0 - 0.1 * 2.5 / (2.5 + 1e-8))).abs() < 1e-15,
        "{got}"
    );
}

fn train_some(opt: &mut Adam, w: &Var, steps: usize) {
    for k in 0..steps {
        let target = Tensor::new(&[k as f32, 1.0, -2.0], &Device::Cpu).unwrap();
        let loss = (w.as_tensor() - target)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        opt.backward_step(&loss).unwrap();
    }
}

#[test]
fn adam_state_roundtrips_through_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = AdamConfig {
        lr: 0.05,
        weight_decay: 1e-2,
        ..Default::default()
    };
    let w = Var::new(&[0.5f32, 0.1, 0.3], &Device::Cpu).unwrap();
    let mut opt = Adam::new(vec![("layer.weight".into(), w.clone())], cfg.clone()).unwrap();
    train_some(&mut opt, &w, 3);

    let state: HashMap<String, Tensor> = opt.state_tensors("opt.").unwrap().into_iter().collect();
    let path = dir.path().join("state.safetensors");
    candle_core::safetensors::save(&state, &path).unwrap();
    let loaded = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    assert_eq!(loaded["opt.layer.weight.step"].dtype(), DType::I64);

    let w2 = Var::new(
        w.as_tensor().to_vec1::<f32>().unwrap().as_slice(),
        &Device::Cpu,
    )
    .unwrap();
    let mut opt2 = Adam::new(vec![("layer.weight".into(), w2.clone())], cfg).unwrap();
    opt2.load_state(&loaded, "opt.").unwrap();
    assert_eq!(opt2.step_count(), 3);
    train_some(&mut opt, &w, 4);
    train_some(&mut opt2, &w2, 4);
    assert_eq!(
        w.as_tensor().to_vec1::<f32>().unwrap(),
        w2.as_tensor().to_vec1::<f32>().unwrap()
    );

    let mut missing = loaded.clone();
    missing.remove("opt.layer.weight.exp_avg_sq");
    let err = opt2.load_state(&missing, "opt.").err().unwrap().to_string();
    assert!(err.contains("opt.layer.weight.exp_avg_sq"), "{err}");
    let mut wrong = loaded;
    wrong.insert(
        "opt.layer.weight.exp_avg".into(),
        Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap(),
    );
    assert!(opt2.load_state(&wrong, "opt.").is_err());
}

#[test]
fn adam_rejects_bad_config_and_duplicates() {
    let w = Var::new(&[1.0f32], &Device::Cpu).unwrap();
    assert!(Adam::new(
        vec![("w".into(), w.clone())],
        AdamConfig {
            beta1: 1.0,
            ..Default::default()
        }
    )
    .is_err());
    assert!(Adam::new(
        vec![("w".into(), w.clone()), ("w".into(), w)],
        AdamConfig::default()
    )
    .is_err());
}

#[test]
fn clipping_scales_to_max_norm_and_leaves_small_grads() {
    let dev = Device::Cpu;
    let a = Var::new(&[1.0f64, 2.0], &dev).unwrap();
    let b = Var::new(&[0.5f64], &dev).unwrap();
    // grads: a -> (2, 4) * 3 = (6, 12)? use loss = 3 * (a0 + 2 a1) * ... keep simple:
    let loss = ((a.as_tensor() * &Tensor::new(&[6.0f64, 12.0], &dev).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        + (b.as_tensor() * 4.0).unwrap().sum_all().unwrap())
    .unwrap();
    let mut grads = loss.backward().unwrap();
    let norm = clip_grad_norm(&mut grads, [&a, &b], 7.0).unwrap();
    let expect = (36.0f64 + 144.0 + 16.0).sqrt(); // 14
    assert!((norm - expect).abs() < 1e-12);
    let s = 7.0 / (expect + 1e-6);
    let ga = grads.get(a.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
    let gb = grads.get(b.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
    assert!((ga[0] - 6.0 * s).abs() < 1e-12 && (ga[1] - 12.0 * s).abs() < 1e-12);
    assert!((gb[0] - 4.0 * s).abs() < 1e-12);
    let again = clip_grad_norm(&mut grads, [&a, &b], 100.0).unwrap();
    assert!((again - 7.0).abs() < 1e-5);
    assert_eq!(
        grads.get(b.as_tensor()).unwrap().to_vec1::<f64>().unwrap(),
        gb
    );
}

#[test]
fn ema_follows_formula_with_warmup_and_roundtrips() {
    let dev = Device::Cpu;
    let w = Var::new(&[0.0f64, 10.0], &dev).unwrap();
    let params = vec![("w".to_string(), w.clone())];
    let mut ema = Ema::new(
        &params,
        EmaConfig {
            decay: 0.9,
            warmup: true,
        },
    )
    .unwrap();
    let mut shadow = [0.0f64, 10.0];
    for k in 1..=30 {
        let vals = [k as f64, 10.0 - k as f64];
        w.set(&Tensor::new(&vals, &dev).unwrap()).unwrap();
        let n = (k - 1) as f64;
        let d = 0.9f64.min((1.0 + n) / (10.0 + n));
        assert!((ema.current_decay() - d).abs() < 1e-15);
        ema.update(&params).unwrap();
        for i in 0..2 {
            shadow[i] = d * shadow[i] + (1.0 - d) * vals[i];
        }
    }
    let got = ema.get("w").unwrap().to_vec1::<f64>().unwrap();
    assert!((got[0] - shadow[0]).abs() < 1e-12 && (got[1] - shadow[1]).abs() < 1e-12);

    let state: HashMap<String, Tensor> = ema.state_tensors("ema.").unwrap().into_iter().collect();
    let mut ema2 = Ema::new(
        &params,
        EmaConfig {
            decay: 0.9,
            warmup: true,
        },
    )
    .unwrap();
    ema2.load_state(&state, "ema.").unwrap();
    assert_eq!(ema2.updates(), 30);
    assert_eq!(ema2.get("w").unwrap().to_vec1::<f64>().unwrap(), got);
    let target = Var::new(&[0.0f64, 0.0], &dev).unwrap();
    ema2.copy_to(&[("w".to_string(), target.clone())]).unwrap();
    assert_eq!(target.as_tensor().to_vec1::<f64>().unwrap(), got);
    assert!(ema.update(&[("v".to_string(), w)]).is_err());
}

#[test]
fn warmup_cosine_schedule_values() {
    let s = LrSchedule::WarmupCosine {
        warmup_steps: 4,
        total_steps: 24,
        min_ratio: 0.1,
    };
    assert!((s.lr(2.0, 0) - 0.5).abs() < 1e-12);
    assert!((s.lr(2.0, 3) - 2.0).abs() < 1e-12);
    assert!((s.factor(4) - 1.0).abs() < 1e-12);
    // quarter of the cosine: 0.1 + 0.9 * 0.5 * (1 + cos(pi/4))
    let q = 0.1 + 0.9 * 0.5 * (1.0 + std::f64::consts::FRAC_PI_4.cos());
    assert!((s.factor(9) - q).abs() < 1e-12);
    assert!((s.factor(24) - 0.1).abs() < 1e-12);
    assert!((s.factor(1000) - 0.1).abs() < 1e-12);
    assert_eq!(LrSchedule::Constant.factor(12345), 1.0);
}

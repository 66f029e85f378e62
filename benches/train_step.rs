//! One optimiser step of the trainer and batched / one-at-a-time sampling, like for like with
//! `../shared/bench/bench_torch.py` (`train:{w64_l4,w192_l6}:b16`, `sample:*:n64:*`):
//! batch 16 of 64x64 images, 4 transitions, pixel objective (L1 x (1, 2, 4, 8) + 0.8 (1 - SSIM)
//! + 0.2 gradient L1 + 0.1 Laplacian L1; no VGG / LPIPS / critic), training noise on, skip =
//! 4x4 root, teacher-forced inputs, Adam(3e-4, coupled L2 1e-4) step included, no EMA.
//!
//!     RAYON_NUM_THREADS=2 cargo bench --bench train_step
//!     MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1099511627776 RAYON_NUM_THREADS=2 cargo bench --bench train_step
use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;
use wno_imagegen::wno_operator::{Config, Generator, SampleOptions};
use wno_imagegen::wno_trainer::rng::TrainRng;
use wno_imagegen::wno_trainer::train::{LossNets, LossWeights, Rollout, TrainConfig, Trainer};

fn trainer(width: usize, layers: usize) -> (Trainer, TrainRng) {
    let cfg = TrainConfig {
        model: Config { width, layers, ..Config::default() },
        losses: LossWeights::pixel_only(),
        rollout: Rollout::Teacher,
        ema: None,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let mut rng = TrainRng::seed_from_u64(0);
    let t = Trainer::new(cfg, LossNets::default(), &Device::Cpu, &mut rng).unwrap();
    (t, rng)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("trainer");
    g.sample_size(10).warm_up_time(Duration::from_secs(2));
    let images = Tensor::rand(0f32, 1., (16, 3, 64, 64), &Device::Cpu).unwrap();
    for (width, layers, secs) in [(64usize, 4usize, 15u64), (192, 6, 60)] {
        let (mut t, mut rng) = trainer(width, layers);
        g.measurement_time(Duration::from_secs(secs));
        g.throughput(Throughput::Elements(16));
        g.bench_function(format!("train:w{width}_l{layers}:b16"), |b| b.iter(|| t.step(&images, &mut rng).unwrap()));
        let generator: Generator = t.eval_generator().unwrap();
        let roots = Tensor::rand(0f32, 1., (64, 3, 4, 4), &Device::Cpu).unwrap();
        let opts = SampleOptions { sigmas: Some(vec![0.0; 4]), ..Default::default() };
        g.throughput(Throughput::Elements(64));
        g.bench_function(format!("sample:w{width}_l{layers}:n64:batched"), |b| b.iter(|| generator.upscale(&roots, 64, &opts).unwrap()));
        g.bench_function(format!("sample:w{width}_l{layers}:n64:single"), |b| {
            b.iter(|| {
                for i in 0..64 {
                    generator.upscale(&roots.narrow(0, i, 1).unwrap(), 64, &opts).unwrap();
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

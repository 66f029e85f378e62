//! Loss forward+backward at the training shape, batch 16 x 3 x 64 x 64 f32: SSIM (1 - SSIM),
//! the VGG16 perceptual loss (relu3_3 L1; random weights of the real VGG16 shapes, so nothing is
//! downloaded), plus the cheap pixel terms. One iteration = forward on fresh prediction and
//! target, then `backward()` w.r.t. the prediction (a `Var`).
//!
//!     RAYON_NUM_THREADS=2 cargo bench -p wno-losses --bench losses
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wno_losses::{gradient_l1, laplacian_l1, Lpips, Perceptual, Ssim, SsimConfig, Vgg16Config};

const SHAPE: (usize, usize, usize, usize) = (16, 3, 64, 64);

fn devices() -> Vec<(&'static str, Device)> {
    let mut d = vec![("cpu", Device::Cpu)];
    if let Ok(gpu) = Device::new_cuda(0) {
        d.push(("cuda", gpu));
    }
    d
}

fn random_vgg_vb(dev: &Device, with_heads: bool) -> VarBuilder<'static> {
    let cfg = Vgg16Config::default();
    let mut names = cfg.tensor_names();
    if with_heads {
        names.extend(Lpips::head_names(&cfg));
    }
    let mut t = HashMap::new();
    for (name, shape) in names {
        let fan_in: usize = shape[1..].iter().product::<usize>().max(1);
        let std = (2.0 / fan_in as f64).sqrt();
        let v = Tensor::randn(0f32, std as f32, shape, dev).unwrap();
        t.insert(name, if with_heads && v.rank() == 4 && v.dim(0).unwrap() == 1 { v.abs().unwrap() } else { v });
    }
    VarBuilder::from_tensors(t, DType::F32, dev)
}

fn bench(c: &mut Criterion) {
    let (b, ch, h, w) = SHAPE;
    for (dev_name, dev) in devices() {
        let mut g = c.benchmark_group(format!("wno-losses/{dev_name}/b16x3x64x64"));
        g.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
        g.throughput(Throughput::Elements(b as u64));
        let pred = Var::from_tensor(&Tensor::rand(0f32, 1., (b, ch, h, w), &dev).unwrap()).unwrap();
        let target = Tensor::rand(0f32, 1., (b, ch, h, w), &dev).unwrap();

        let ssim = Ssim::new(SsimConfig::default()).unwrap();
        g.bench_function("ssim_fwd", |bch| bch.iter(|| black_box(ssim.loss(pred.as_tensor(), &target).unwrap())));
        g.bench_function("ssim_fwd_bwd", |bch| {
            bch.iter(|| black_box(ssim.loss(pred.as_tensor(), &target).unwrap().backward().unwrap()))
        });
        g.bench_function("gradient_laplacian_fwd_bwd", |bch| {
            bch.iter(|| {
                let l = (gradient_l1(pred.as_tensor(), &target).unwrap() + laplacian_l1(pred.as_tensor(), &target, 3).unwrap()).unwrap();
                black_box(l.backward().unwrap())
            })
        });
        let perceptual = Perceptual::new(&Perceptual::config(), random_vgg_vb(&dev, false)).unwrap();
        g.bench_function("vgg_perceptual_fwd", |bch| {
            bch.iter(|| black_box(perceptual.loss(pred.as_tensor(), &target).unwrap()))
        });
        g.bench_function("vgg_perceptual_fwd_bwd", |bch| {
            bch.iter(|| black_box(perceptual.loss(pred.as_tensor(), &target).unwrap().backward().unwrap()))
        });
        let lpips = Lpips::new(&Vgg16Config::default(), random_vgg_vb(&dev, true)).unwrap();
        g.bench_function("lpips_fwd_bwd", |bch| {
            bch.iter(|| black_box(lpips.loss(pred.as_tensor(), &target).unwrap().backward().unwrap()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! One full 4 -> 64 pass of the generator (teacher-forced transitions 8, 16, 32, 64 from an area
//! pyramid, training noise on, skip = the 4x4 root), forward and forward + backward, at width
//! 192 / 6 layers and width 64 / 4 layers, batch 16, f32 on CPU. Compare with
//! `../shared/bench` (`train:w192_l6:b16`, `train:w64_l4:b16`; see docs/PERFORMANCE.md).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p wno-operator --bench generator`.
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use std::time::Duration;
use wno_operator::{Config, Generator};

fn setup(width: usize, layers: usize, batch: usize) -> (Generator, VarMap, Vec<Tensor>, Vec<Option<Tensor>>) {
    let cfg = Config { width, layers, ..Config::default() };
    let vm = VarMap::new();
    let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
    let hr = Tensor::rand(0f32, 1., (batch, 3, 64, 64), &Device::Cpu).unwrap();
    let pyramid: Vec<Tensor> = [16, 8, 4, 2].iter().map(|&k| hr.avg_pool2d(k).unwrap()).collect();
    let sigmas = cfg.sigmas.sigmas(4).unwrap();
    let noises = g.level_noises(batch, 4, &sigmas, &mut rand::rngs::StdRng::seed_from_u64(0)).unwrap();
    (g, vm, pyramid, noises)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (width, layers, secs) in [(64usize, 4usize, 10u64), (192, 6, 40)] {
        let (g, vm, pyr, noises) = setup(width, layers, 16);
        let root = pyr[0].clone();
        group.measurement_time(Duration::from_secs(secs));
        group.bench_function(format!("forward:w{width}_l{layers}:b16"), |b| {
            b.iter(|| g.teacher_forced(&pyr, &noises, Some(&root)).unwrap())
        });
        group.bench_function(format!("forward_backward:w{width}_l{layers}:b16"), |b| {
            b.iter(|| {
                let preds = g.teacher_forced(&pyr, &noises, Some(&root)).unwrap();
                let mut loss = preds[0].mean_all().unwrap();
                for p in &preds[1..] {
                    loss = (loss + p.mean_all().unwrap()).unwrap();
                }
                let grads = loss.backward().unwrap();
                assert_eq!(vm.all_vars().iter().filter(|v| grads.get(v).is_some()).count(), 4 + 2 + 8 * layers + 2);
                grads
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

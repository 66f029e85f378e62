//! The depthwise 3x3 custom op against candle's grouped `conv2d` (groups = channels), forward
//! and forward + backward, f32 on CPU, at the generator's 64x64 activation size.
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p wno-operator --bench depthwise`.
use candle_core::{DType, Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;
use wno_operator::ops::depthwise_conv3x3;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("depthwise3x3");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    let (b, ch, h, w) = (16usize, 64usize, 64usize, 64usize);
    let x = Var::from_tensor(&Tensor::randn(0f32, 1., (b, ch, h, w), &Device::Cpu).unwrap()).unwrap();
    let wt = Var::from_tensor(&Tensor::randn(0f32, 1., (ch, 1, 3, 3), &Device::Cpu).unwrap()).unwrap();
    let bias = Var::from_tensor(&Tensor::zeros(ch, DType::F32, &Device::Cpu).unwrap()).unwrap();
    let grouped = |x: &Tensor| x.conv2d(&wt, 1, 1, 1, ch).unwrap().broadcast_add(&bias.reshape((1, ch, 1, 1)).unwrap()).unwrap();
    group.throughput(Throughput::Elements((b * ch * h * w) as u64));
    let id = format!("{b}x{ch}x{h}x{w}");
    group.bench_function(format!("custom_op:fwd:{id}"), |bn| bn.iter(|| depthwise_conv3x3(&x, &wt, &bias).unwrap()));
    group.bench_function(format!("grouped_conv2d:fwd:{id}"), |bn| bn.iter(|| grouped(&x)));
    group.bench_function(format!("custom_op:fwd_bwd:{id}"), |bn| {
        bn.iter(|| depthwise_conv3x3(&x, &wt, &bias).unwrap().sum_all().unwrap().backward().unwrap())
    });
    group.bench_function(format!("grouped_conv2d:fwd_bwd:{id}"), |bn| bn.iter(|| grouped(&x).sum_all().unwrap().backward().unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

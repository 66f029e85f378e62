//! Haar DWT throughput on CPU (and CUDA with `--features cuda` where a GPU is present), beside a
//! plain parallel copy of the same tensor: the memory-bound limit of the machine.
//!
//! Nominal bytes as in `../shared/bench` (read + written, f32): copy, forward and inverse 2N*4,
//! forward+backward and forward+inverse 4N*4, forward+inverse+backward 8N*4. The backward cases
//! go through candle's `backward()`, which seeds a tensor of ones and accumulates gradients with
//! its own (single-threaded) fill and add: that overhead is candle's, not the transform's.
//!
//!     RAYON_NUM_THREADS=2 cargo bench -p wavelet-ops --bench haar
use candle_core::{Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use wavelet_ops::{dwt2d, idwt2d};

const SHAPES: [[usize; 4]; 3] = [[16, 64, 64, 64], [64, 192, 32, 32], [8, 3, 256, 256]];

fn name(s: [usize; 4]) -> String {
    format!("{}x{}x{}x{}", s[0], s[1], s[2], s[3])
}

/// A fresh output each call, written once by all threads (no zero fill first): what any op
/// producing a new tensor must pay at least.
fn parallel_copy(src: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(src.len());
    out.spare_capacity_mut()
        .par_chunks_mut(1 << 16)
        .zip(src.par_chunks(1 << 16))
        .for_each(|(o, i)| {
            for (o, i) in o.iter_mut().zip(i) {
                o.write(*i);
            }
        });
    // SAFETY: the chunks above cover all `src.len()` slots, each written once.
    unsafe { out.set_len(src.len()) };
    out
}

fn devices() -> Vec<(&'static str, Device)> {
    let mut d = vec![("cpu", Device::Cpu)];
    if let Ok(gpu) = Device::new_cuda(0) {
        d.push(("cuda", gpu));
    }
    d
}

fn bench(c: &mut Criterion) {
    for (dev_name, dev) in devices() {
        for shape in SHAPES {
            let n: usize = shape.iter().product();
            let x = Tensor::randn(0f32, 1., shape.to_vec(), &dev).unwrap();
            let (h, w) = (shape[2], shape[3]);
            let mut g = c.benchmark_group(format!("haar/{dev_name}/{}", name(shape)));
            g.sample_size(20);
            g.measurement_time(std::time::Duration::from_secs(3));
            let sync = |t: &Tensor| {
                if let Device::Cuda(_) = t.device() {
                    t.device().synchronize().unwrap();
                }
            };
            g.throughput(Throughput::BytesDecimal(2 * n as u64 * 4));
            if dev.is_cpu() {
                let host = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                g.bench_function(BenchmarkId::from_parameter("copy"), |b| {
                    b.iter(|| black_box(parallel_copy(&host)))
                });
            } else {
                g.bench_function(BenchmarkId::from_parameter("copy"), |b| {
                    b.iter(|| {
                        let y = x.copy().unwrap();
                        sync(&y);
                        y
                    })
                });
            }
            g.bench_function(BenchmarkId::from_parameter("forward"), |b| {
                b.iter(|| {
                    let y = dwt2d(&x).unwrap();
                    sync(&y);
                    y
                })
            });
            let bands = dwt2d(&x).unwrap();
            g.bench_function(BenchmarkId::from_parameter("inverse"), |b| {
                b.iter(|| {
                    let y = idwt2d(&bands, h, w).unwrap();
                    sync(&y);
                    y
                })
            });
            let v = Var::from_tensor(&x).unwrap();
            g.throughput(Throughput::BytesDecimal(4 * n as u64 * 4));
            g.bench_function(BenchmarkId::from_parameter("forward_backward"), |b| {
                b.iter(|| {
                    let y = dwt2d(&v).unwrap();
                    let grads = y.backward().unwrap();
                    let gx = grads.get(&v).unwrap().clone();
                    sync(&gx);
                    gx
                })
            });
            g.bench_function(BenchmarkId::from_parameter("forward_inverse"), |b| {
                b.iter(|| {
                    let y = idwt2d(&dwt2d(&x).unwrap(), h, w).unwrap();
                    sync(&y);
                    y
                })
            });
            g.throughput(Throughput::BytesDecimal(8 * n as u64 * 4));
            g.bench_function(
                BenchmarkId::from_parameter("forward_inverse_backward"),
                |b| {
                    b.iter(|| {
                        let y = idwt2d(&dwt2d(&v).unwrap(), h, w).unwrap();
                        // candle seeds the backward of a non-scalar root with ones: y.backward(ones).
                        let grads = y.backward().unwrap();
                        let gx = grads.get(&v).unwrap().clone();
                        sync(&gx);
                        gx
                    })
                },
            );
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

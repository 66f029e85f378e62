//! Times one full 4 -> 64 teacher-forced pass (forward, or forward + backward) and counts the
//! minor page faults per call: a quick profiling companion of `benches/generator.rs`.
//!
//! `RAYON_NUM_THREADS=2 cargo run --release -p wno-operator --example pass_timing -- 192 6 16 fb 5`
//! (width, layers, batch, `f` or `fb`, iterations).
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use std::time::Instant;
use wno_operator::{Config, Generator};

fn minor_faults() -> u64 {
    // Field 10 of /proc/self/stat (after the parenthesised command name).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.split_whitespace().nth(7).and_then(|v| v.parse().ok()).unwrap_or(0)))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let (width, layers, batch): (usize, usize, usize) = (arg(0, "192").parse()?, arg(1, "6").parse()?, arg(2, "16").parse()?);
    let backward = arg(3, "fb") == "fb";
    let iters: usize = arg(4, "5").parse()?;
    let cfg = Config { width, layers, ..Config::default() };
    let vm = VarMap::new();
    let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
    let hr = Tensor::rand(0f32, 1., (batch, 3, 64, 64), &Device::Cpu)?;
    let pyr: Vec<Tensor> = [16, 8, 4, 2].iter().map(|&k| hr.avg_pool2d(k)).collect::<Result<_, _>>()?;
    let noises = g.level_noises(batch, 4, &cfg.sigmas.sigmas(4)?, &mut rand::rngs::StdRng::seed_from_u64(0))?;
    for i in 0..iters + 1 {
        let (f0, t0) = (minor_faults(), Instant::now());
        let preds = g.teacher_forced(&pyr, &noises, Some(&pyr[0]))?;
        if backward {
            let mut loss = preds[0].mean_all()?;
            for p in &preds[1..] {
                loss = (loss + p.mean_all()?)?;
            }
            let grads = loss.backward()?;
            drop(grads);
        }
        drop(preds);
        let label = if i == 0 { "warm-up" } else { "call" };
        println!("{label} {i}: {:.3} s, {} minor faults", t0.elapsed().as_secs_f64(), minor_faults() - f0);
    }
    Ok(())
}

//! The weights shipped in `weights/` load with their configuration and prior, and sample with no
//! network: what `cargo run --release --example sample` relies on.

use candle_core::{DType, Device};
use std::path::Path;
use wno_imagegen::wno_operator::{model_file, SampleOptions};
use wno_imagegen::wno_trainer::hub_model::DEFAULT_MODEL_FILE;

#[test]
fn shipped_model_loads_and_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("weights").join(DEFAULT_MODEL_FILE);
    let model = model_file::load_model(&path, DType::F32, &Device::Cpu).unwrap();
    let cfg = model.generator.config().clone();
    assert_eq!((cfg.root_size, cfg.target_size), (4, 64));
    let prior = model.prior.expect("the shipped model carries its 4x4 prior");
    let scales = model.generator.generate(2, &prior, &SampleOptions { seed: 5, ..Default::default() }).unwrap();
    let sides: Vec<usize> = scales.iter().map(|t| t.dim(3).unwrap()).collect();
    assert_eq!(sides, vec![4, 8, 16, 32, 64]);
    let last = scales.last().unwrap();
    let (lo, hi) = (last.min_all().unwrap().to_scalar::<f32>().unwrap(), last.max_all().unwrap().to_scalar::<f32>().unwrap());
    assert!(0.0 <= lo && hi <= 1.0 && hi > lo, "samples span [{lo}, {hi}]");
    // The same seed gives the same images; another seed other ones.
    let again = model.generator.generate(2, &prior, &SampleOptions { seed: 5, ..Default::default() }).unwrap();
    let other = model.generator.generate(2, &prior, &SampleOptions { seed: 6, ..Default::default() }).unwrap();
    let diff = |a: &candle_core::Tensor, b: &candle_core::Tensor| (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    assert_eq!(diff(last, again.last().unwrap()), 0.0);
    assert!(diff(last, other.last().unwrap()) > 0.0);
    // 128x128 works from the same weights (any power-of-two multiple of the root).
    let low = prior.sample(1, &mut rand_free_rng(), DType::F32, &Device::Cpu).unwrap();
    let big = model.generator.upscale(&low, 128, &SampleOptions::default()).unwrap();
    assert_eq!(big.last().unwrap().dims(), &[1, 3, 128, 128]);
}

/// A seeded generator without a direct `rand` dependency.
fn rand_free_rng() -> wno_imagegen::wno_trainer::rng::TrainRng {
    wno_imagegen::wno_trainer::rng::TrainRng::seed_from_u64(9)
}

//! LPIPS-VGG and VGG16 relu3_3 against the official `lpips` package (`fixtures/lpips_reference.json`,
//! copied from the shared reference vectors), with the real weights. Gated: set
//! `WNO_VGG_WEIGHTS=/path/to/vgg16_lpips.safetensors` (torchvision VGG16 + LPIPS v0.1 heads);
//! without it the test prints a notice and returns.

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use wno_losses::{Lpips, Vgg16, Vgg16Config, VggTap};

fn image(name: &str, dtype: DType) -> Tensor {
    let (c, h, w) = (3usize, 64usize, 64usize);
    let mut v = Vec::with_capacity(c * h * w);
    for ci in 0..c {
        for hi in 0..h {
            for wi in 0..w {
                let (c, h, w) = (ci as f64, hi as f64, wi as f64);
                let base = 0.5 + 0.3 * (0.21 * h + 0.37 * w + 1.3 * c).sin() + 0.15 * (0.53 * h - 0.29 * w + 0.7 * c).cos();
                let x = match name {
                    "X1" => base,
                    "X1_small" => base + 0.02 * (1.9 * h + 2.3 * w + c).sin(),
                    "X1_strong" => {
                        base + 0.25 * (2.7 * h - 1.6 * w + 2.0 * c).sin() + 0.1 * (1.0 - 2.0 * ((h + w) % 2.0))
                    }
                    "X2" => 0.5 + 0.45 * (0.015 * ((h - 31.5).powi(2) + (w - 20.0).powi(2)) + 1.1 * c).cos(),
                    other => panic!("unknown image {other}"),
                };
                v.push(x.clamp(0.0, 1.0) as f32);
            }
        }
    }
    Tensor::from_vec(v, (1, c, h, w), &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

#[test]
fn lpips_and_vgg_match_the_reference_with_real_weights() {
    let Ok(path) = std::env::var("WNO_VGG_WEIGHTS") else {
        eprintln!("WNO_VGG_WEIGHTS not set: skipping the LPIPS / VGG16 reference check");
        return;
    };
    let fx: Value = serde_json::from_str(include_str!("fixtures/lpips_reference.json")).unwrap();
    let dev = Device::Cpu;
    let lp32 = Lpips::from_safetensors(&path, DType::F32, &dev).unwrap();
    let lp64 = Lpips::from_safetensors(&path, DType::F64, &dev).unwrap();
    let (mut err32, mut err64) = (0f64, 0f64);
    for case in fx["cases"].as_array().unwrap() {
        let (a, b) = (case["in0"].as_str().unwrap(), case["in1"].as_str().unwrap());
        let got = lp32.per_tap(&image(a, DType::F32), &image(b, DType::F32)).unwrap().to_vec2::<f32>().unwrap();
        let want: Vec<f64> = case["per_tap"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for k in 0..5 {
            assert!((got[0][k] as f64 - want[k]).abs() < 1e-5, "{}: tap {k}: {} vs {}", case["name"], got[0][k], want[k]);
        }
        let total: f64 = got[0].iter().map(|v| *v as f64).sum();
        err32 = err32.max((total - case["lpips"].as_f64().unwrap()).abs());
        assert!((total - case["lpips"].as_f64().unwrap()).abs() < 1e-5, "{}: {total}", case["name"]);
        let t64 = lp64.forward(&image(a, DType::F64), &image(b, DType::F64)).unwrap().to_scalar::<f64>().unwrap();
        err64 = err64.max((t64 - case["lpips_f64"].as_f64().unwrap()).abs());
        assert!((t64 - case["lpips_f64"].as_f64().unwrap()).abs() < 1e-7, "{}: f64 {t64}", case["name"]);
    }
    eprintln!("LPIPS max abs error: f32 {err32:.3e}, f64 {err64:.3e}");
    // torchvision VGG16 relu3_3 with ImageNet normalisation.
    let chk = &fx["vgg16_relu3_3_check"];
    let vgg = Vgg16::from_safetensors(&path, &Vgg16Config::up_to(VggTap::Relu3_3), DType::F64, &dev).unwrap();
    let f = vgg.tap(&image("X1", DType::F64), VggTap::Relu3_3).unwrap();
    assert_eq!(f.dims(), &[1, 256, 16, 16]);
    let mean = f.mean_all().unwrap().to_scalar::<f64>().unwrap();
    eprintln!("relu3_3 mean error {:.3e}", (mean - chk["mean"].as_f64().unwrap()).abs());
    assert!((mean - chk["mean"].as_f64().unwrap()).abs() < 1e-5, "relu3_3 mean {mean}");
    let row: Vec<f64> = f.get(0).unwrap().get(0).unwrap().get(0).unwrap().narrow(0, 0, 8).unwrap().to_vec1().unwrap();
    for (g, w) in row.iter().zip(chk["first8_channel0"].as_array().unwrap()) {
        assert!((g - w.as_f64().unwrap()).abs() < 1e-4, "{g} vs {w}");
    }
    let c0: f64 = f.get(0).unwrap().get(0).unwrap().sum_all().unwrap().to_scalar().unwrap();
    assert!((c0 - chk["channel0_sum"].as_f64().unwrap()).abs() < 1e-3, "channel 0 sum {c0}");
}

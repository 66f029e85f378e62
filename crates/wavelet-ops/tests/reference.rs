//! Equality with pywt (float64) and pytorch_wavelets (float32) on the reference vectors copied
//! into `tests/fixtures/haar_reference.json`.
mod common;

use candle_core::{DType, Device, Tensor};
use common::{flatten, formula_input, max_abs_diff, to_f64_vec};
use wavelet_ops::{dwt2d, idwt2d, wavedec2, Band};

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/haar_reference.json")).unwrap()
}

fn input(shape: [usize; 4], dtype: DType) -> Tensor {
    Tensor::from_vec(formula_input(shape), shape.to_vec(), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn band(bands: &Tensor, b: Band) -> Vec<f64> {
    to_f64_vec(&bands.narrow(2, b.index(), 1).unwrap())
}

#[test]
fn one_level_matches_pywt_in_f64_and_pytorch_wavelets_in_f32() {
    let fx = fixture();
    for case in fx["j1"].as_array().unwrap() {
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let shape = [shape[0], shape[1], shape[2], shape[3]];
        let pywt = &case["pywt"];
        let b64 = dwt2d(&input(shape, DType::F64)).unwrap();
        for (b, key) in Band::ALL.into_iter().zip(["cA", "cH", "cV", "cD"]) {
            let err = max_abs_diff(&band(&b64, b), &flatten(&pywt[key]));
            assert!(err < 1e-12, "{shape:?} {} vs pywt {key}: {err}", b.name());
        }
        let torch = &case["pytorch_wavelets"];
        let b32 = dwt2d(&input(shape, DType::F32)).unwrap();
        for b in Band::ALL {
            let err = max_abs_diff(&band(&b32, b), &flatten(&torch[b.name()]));
            assert!(
                err < 3e-7,
                "{shape:?} {} vs pytorch_wavelets: {err}",
                b.name()
            );
        }
        let back = idwt2d(&b64, shape[2], shape[3]).unwrap();
        let x = to_f64_vec(&input(shape, DType::F64));
        assert!(max_abs_diff(&to_f64_vec(&back), &x) < 1e-14);
    }
}

#[test]
fn arange_example_matches_the_documented_bands() {
    let ex = &fixture()["j1_arange_4x4"];
    let x = Tensor::arange(0f64, 16., &Device::Cpu)
        .unwrap()
        .reshape((1, 1, 4, 4))
        .unwrap();
    let bands = dwt2d(&x).unwrap();
    for (b, key) in Band::ALL.into_iter().zip(["LL", "band0", "band1", "band2"]) {
        // The reference is float32 pytorch_wavelets (two roundings by 1/sqrt(2)); ours is exact.
        let err = max_abs_diff(&band(&bands, b), &flatten(&ex[key]));
        assert!(err < 1e-5, "{}: {err}", b.name());
    }
    assert_eq!(band(&bands, Band::HH), vec![0.0; 4], "exact zeros in f64");
}

#[test]
fn two_levels_match_pywt_wavedec2() {
    let fx = fixture();
    let pywt = &fx["j2"]["pywt"];
    let pyr = wavedec2(&input([1, 1, 8, 8], DType::F64), 2).unwrap();
    let check = |t: &Tensor, key: &str| {
        let err = max_abs_diff(&to_f64_vec(t), &flatten(&pywt[key]));
        assert!(err < 1e-12, "{key}: {err}");
    };
    check(&pyr.approx, "cA2");
    for (level, suffix) in [(0, "1"), (1, "2")] {
        for (k, name) in ["cH", "cV", "cD"].iter().enumerate() {
            check(
                &pyr.details[level].narrow(2, k, 1).unwrap(),
                &format!("{name}{suffix}"),
            );
        }
    }
}

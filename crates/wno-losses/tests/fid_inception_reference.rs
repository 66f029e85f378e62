//! `InceptionV3Fid` against pytorch-fid's own `InceptionV3` (`fixtures/fid_inception_reference.json`,
//! written by `fixtures/gen_fid_inception.py`): the same formula weights and images, no weight
//! file and no network. Covers the resize (37x53 up, 317x401 down, 299x299 unchanged), the
//! [-1, 1] mapping, every block and the final pool, for the four pytorch-fid output blocks.

mod common;

use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;
use serde_json::Value;
use wno_losses::{fid_inception_features, frechet_distance, InceptionV3Fid};

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn pool3_features_match_pytorch_fid() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/fid_inception_reference.json")).unwrap();
    assert_eq!(fx["conv_gain"].as_f64().unwrap(), common::fid::CONV_GAIN);
    let mut names: Vec<String> = InceptionV3Fid::tensor_names().into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(fx["tensor_count"].as_u64().unwrap() as usize, names.len());
    let first: Vec<String> = fx["first_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(first, names[..3]);

    let dev = candle_core::Device::Cpu;
    let net = InceptionV3Fid::new(VarBuilder::from_tensors(common::fid::formula_tensors(), DType::F32, &dev)).unwrap();
    let cases = fx["images"].as_array().unwrap();
    let batches = cases.iter().map(|c| c["batch"].as_u64().unwrap()).max().unwrap() + 1;
    let (mut worst_rel, mut worst_block) = (0f64, 0f64);
    for batch in 0..batches {
        let members: Vec<&Value> = cases.iter().filter(|c| c["batch"].as_u64().unwrap() == batch).collect();
        let indices: Vec<usize> = members.iter().map(|c| c["index"].as_u64().unwrap() as usize).collect();
        let (h, w) = (members[0]["height"].as_u64().unwrap() as usize, members[0]["width"].as_u64().unwrap() as usize);
        let x = common::fid::images(&indices, h, w, DType::F32);
        let blocks = net.blocks(&x).unwrap();
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[3].dims(), &[indices.len(), 2048, 1, 1]);
        let pool3 = blocks[3].flatten_from(1).unwrap();
        for (b, case) in members.iter().enumerate() {
            let name = format!("image {} ({h}x{w})", indices[b]);
            for (k, want) in case["blocks"].as_array().unwrap().iter().enumerate() {
                let t = blocks[k].get(b).unwrap().to_dtype(DType::F64).unwrap();
                let shape: Vec<usize> = want["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
                assert_eq!(t.dims(), shape.as_slice(), "{name}: block {k}");
                for (stat, got) in [("mean", t.mean_all().unwrap()), ("mean_abs", t.abs().unwrap().mean_all().unwrap())] {
                    let (got, want) = (got.to_scalar::<f64>().unwrap(), want[stat].as_f64().unwrap());
                    let rel = (got - want).abs() / want.abs().max(1e-12);
                    worst_block = worst_block.max(rel);
                    assert!(rel < 1e-4, "{name}: block {k} {stat} {got} vs {want}");
                }
            }
            let got: Vec<f64> = pool3.get(b).unwrap().to_dtype(DType::F64).unwrap().to_vec1().unwrap();
            let want = f64s(&case["pool3"]);
            assert_eq!(got.len(), want.len());
            // Relative to the feature scale: pool3 values are averages of ReLUs, many near 0.
            let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
            let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0f64, f64::max) / scale;
            worst_rel = worst_rel.max(err);
            assert!(err < 1e-4, "{name}: pool3 max error {err:.3e} of the largest feature {scale}");
            let sum: f64 = got.iter().sum();
            let l2 = got.iter().map(|v| v * v).sum::<f64>().sqrt();
            for (stat, got) in [("pool3_sum", sum), ("pool3_l2", l2)] {
                let want = case[stat].as_f64().unwrap();
                assert!((got - want).abs() < 1e-4 * want.abs(), "{name}: {stat} {got} vs {want}");
            }
        }
        // `pool3` (through the batched helper, one image per chunk) gives the same features.
        let chunked = fid_inception_features(&net, &x, 1).unwrap();
        assert_eq!(chunked.dims(), &[indices.len(), 2048]);
        let d = (chunked - &pool3).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(d < 1e-5, "chunked features differ by {d}");
    }
    eprintln!("pool3 max error {worst_rel:.3e} of the largest feature; block statistics {worst_block:.3e} relative");
}

/// `frechet_distance` against pytorch-fid's `calculate_frechet_distance` (scipy's `sqrtm`) on
/// two full-rank formula feature sets.
#[test]
fn frechet_distance_matches_pytorch_fid() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/fid_inception_reference.json")).unwrap();
    let case = &fx["frechet"];
    let (n, dim) = (case["n"].as_u64().unwrap() as usize, case["dim"].as_u64().unwrap() as usize);
    let u = |t: u64| -> Vec<f64> { (0..(n * dim) as u64).map(|k| common::fid::uniform(t, k)).collect() };
    let a = u(1000);
    let b: Vec<f64> = u(1001).iter().zip(&a).map(|(v, a)| 0.5 + 1.3 * v + 0.2 * a).collect();
    let dev = candle_core::Device::Cpu;
    let (a, b) = (Tensor::from_vec(a, (n, dim), &dev).unwrap(), Tensor::from_vec(b, (n, dim), &dev).unwrap());
    let got = frechet_distance(&a, &b).unwrap();
    let want = case["fid"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9 * want, "{got} vs pytorch-fid {want}");
}

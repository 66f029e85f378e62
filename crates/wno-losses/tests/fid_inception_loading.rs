//! `InceptionV3Fid::from_file`: the formula weights written to safetensors (with the unused
//! `fc.*` tensors of the real file) load to the same network; missing, mis-shaped and
//! unreadable files are errors that name the file, the tensor and both shapes; the two PyTorch
//! formats of `fixtures/pth_*.pth` are read (they hold no Inception, so the first tensor is
//! reported missing). Nothing is downloaded.

mod common;

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use wno_losses::{fid_inception_features, frechet_distance, HubWeights, InceptionV3Fid, LossError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn safetensors_weights_load_and_bad_files_are_named_errors() {
    let dev = Device::Cpu;
    let dir = tempfile::tempdir().unwrap();
    let mut tensors = common::fid::formula_tensors();
    let direct = InceptionV3Fid::new(VarBuilder::from_tensors(tensors.clone(), DType::F32, &dev)).unwrap();
    // The real file also holds the 1008-class classifier; it is ignored.
    tensors.insert("fc.weight".into(), Tensor::zeros((1008, 2048), DType::F32, &dev).unwrap());
    tensors.insert("fc.bias".into(), Tensor::zeros(1008, DType::F32, &dev).unwrap());
    let path = dir.path().join("fid_inception.safetensors");
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let loaded = InceptionV3Fid::from_file(&path, DType::F32, &dev).unwrap();
    assert_eq!(loaded.dtype(), DType::F32);
    let x = common::fid::images(&[5, 6, 7], 16, 24, DType::F32);
    let a = fid_inception_features(&loaded, &x, 2).unwrap();
    let b = direct.pool3(&x).unwrap();
    assert_eq!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
    assert!(a.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 0.0);
    // FID of a set with itself is 0; against other images it is positive (on the first 256
    // features, to keep the test quick).
    // (3 samples in 2048 dimensions: a rank-2 covariance whose trace is about 100.)
    let fa = a.to_dtype(DType::F64).unwrap();
    let own = frechet_distance(&fa, &fa).unwrap();
    assert!(own.abs() < 1e-9, "{own}");
    let other = fid_inception_features(&loaded, &common::fid::images(&[8, 9, 10], 16, 24, DType::F32), 3).unwrap();
    let first = |t: &Tensor| t.to_dtype(DType::F64).unwrap().narrow(1, 0, 256).unwrap();
    assert!(frechet_distance(&first(&a), &first(&other)).unwrap() > 1e-3);

    // A missing tensor, then a mis-shaped one: named, with the file and the shapes.
    let victim = "Mixed_6c.branch7x7dbl_3.conv.weight";
    let kept = tensors.remove(victim).unwrap();
    let missing = dir.path().join("missing.safetensors");
    candle_core::safetensors::save(&tensors, &missing).unwrap();
    let err = InceptionV3Fid::from_file(&missing, DType::F32, &dev).unwrap_err();
    assert!(matches!(err, LossError::MissingTensor { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(victim) && msg.contains("missing.safetensors") && msg.contains("[160, 160, 1, 7]"), "{msg}");
    tensors.insert(victim.into(), kept.t().unwrap().contiguous().unwrap());
    let misshaped = dir.path().join("misshaped.safetensors");
    candle_core::safetensors::save(&tensors, &misshaped).unwrap();
    let msg = InceptionV3Fid::from_file(&misshaped, DType::F32, &dev).unwrap_err().to_string();
    assert!(msg.contains(victim) && msg.contains("[160, 160, 1, 7]") && msg.contains("[160, 160, 7, 1]"), "{msg}");

    // No file, and a file that is neither safetensors nor PyTorch.
    let err = InceptionV3Fid::from_file(dir.path().join("nope.pth"), DType::F32, &dev).unwrap_err();
    assert!(matches!(err, LossError::Io { .. }) && err.to_string().contains("nope.pth"), "{err}");
    // Named .pth: reported as a .pth, with what it starts with and what was expected.
    let junk = dir.path().join("junk.pth");
    std::fs::write(&junk, b"<html>not a checkpoint</html>").unwrap();
    let err = InceptionV3Fid::from_file(&junk, DType::F32, &dev).unwrap_err();
    assert!(matches!(err, LossError::BadWeightFile { format: "PyTorch .pth", .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("junk.pth") && msg.contains("unknown format") && msg.contains("3c 68 74 6d"), "{msg}");
    assert!(msg.contains("50 4b 03 04") && msg.contains("80 02 8a 0a"), "{msg}");
    let empty = dir.path().join("empty.pth");
    std::fs::write(&empty, b"").unwrap();
    let msg = InceptionV3Fid::from_file(&empty, DType::F32, &dev).unwrap_err().to_string();
    assert!(msg.contains("empty.pth") && msg.contains("PyTorch .pth") && msg.contains("empty"), "{msg}");
    // Named otherwise: a bad safetensors file.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"<html>not a checkpoint</html>").unwrap();
    let err = InceptionV3Fid::from_file(&junk, DType::F32, &dev).unwrap_err();
    assert!(matches!(err, LossError::BadWeightFile { format: "safetensors", .. }), "{err:?}");
}

#[test]
fn files_cut_inside_the_magic_number_are_truncated_pth_files() {
    let data = std::fs::read(fixture("pth_legacy.pth")).unwrap();
    let zip = std::fs::read(fixture("pth_zip.pth")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Whatever the name: no safetensors file is that short and starts like that.
    for (name, bytes, magic) in [("cut.pth", &data, 15), ("cut.safetensors", &data, 15), ("cut_zip.pth", &zip, 4)] {
        let cut = dir.path().join(name);
        for len in 1..magic {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            let err = InceptionV3Fid::from_file(&cut, DType::F32, &Device::Cpu).unwrap_err();
            assert!(matches!(err, LossError::BadWeightFile { format: "PyTorch .pth", .. }), "{name} cut at {len}: {err:?}");
            let msg = err.to_string();
            assert!(msg.contains(name) && msg.contains("truncated") && msg.contains(&format!("only {len} bytes")), "{msg}");
            assert!(msg.contains(&format!("{magic}-byte magic number")), "{msg}");
        }
    }
}

/// A dtype candle cannot run on the CPU (bf16: no matmul kernel; integers) is rejected by every
/// constructor before any weight is read or looked up; f16 and f64 run.
#[test]
fn constructors_reject_dtypes_the_device_cannot_run() {
    let dev = Device::Cpu;
    let dir = tempfile::tempdir().unwrap();
    // Never created: the dtype is checked first.
    let file = dir.path().join("never-read.pth");
    let hub = HubWeights { repo: "nobody/nothing".into(), filename: "x.pth".into(), revision: None, offline: true };
    for dtype in [DType::BF16, DType::F8E4M3, DType::U8, DType::U32, DType::I64] {
        let errs = [
            ("InceptionV3Fid::new", InceptionV3Fid::new(VarBuilder::zeros(dtype, &dev)).unwrap_err()),
            ("InceptionV3Fid::from_file", InceptionV3Fid::from_file(&file, dtype, &dev).unwrap_err()),
            ("InceptionV3Fid::from_hub", InceptionV3Fid::from_hub(&hub, dtype, &dev).unwrap_err()),
        ];
        common::assert_rejects_dtype(errs, dtype);
    }
    let x = common::fid::images(&[1], 8, 8, DType::F32);
    for dtype in [DType::F16, DType::F64] {
        let net = InceptionV3Fid::new(VarBuilder::zeros(dtype, &dev)).unwrap();
        let f = net.pool3(&x).unwrap();
        assert_eq!((f.dims(), f.dtype()), (&[1, 2048][..], dtype));
    }
}

#[test]
fn pytorch_files_of_both_formats_are_read() {
    for name in ["pth_legacy.pth", "pth_zip.pth"] {
        let err = InceptionV3Fid::from_file(fixture(name), DType::F32, &Device::Cpu).unwrap_err();
        assert!(matches!(err, LossError::MissingTensor { .. }), "{name}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains("Conv2d_1a_3x3.conv.weight") && msg.contains("[32, 3, 3, 3]") && msg.contains(name), "{msg}");
    }
    // A truncated legacy file is a format error naming the file, at any cut.
    let data = std::fs::read(fixture("pth_legacy.pth")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pth");
    for len in [20, data.len() / 2, data.len() - 1] {
        std::fs::write(&cut, &data[..len]).unwrap();
        let err = InceptionV3Fid::from_file(&cut, DType::F32, &Device::Cpu).unwrap_err();
        assert!(matches!(err, LossError::BadWeightFile { format: "PyTorch .pth", .. }), "cut at {len}: {err:?}");
        assert!(err.to_string().contains("cut.pth"), "{err}");
    }
}

#[test]
fn rejects_bad_input_and_batch() {
    let net = InceptionV3Fid::new(VarBuilder::zeros(DType::F32, &Device::Cpu)).unwrap();
    let gray = Tensor::zeros((1, 1, 8, 8), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(net.pool3(&gray), Err(LossError::BadShape { .. })));
    let ints = Tensor::zeros((1, 3, 8, 8), DType::U8, &Device::Cpu).unwrap();
    assert!(matches!(net.pool3(&ints), Err(LossError::UnsupportedDType { .. })));
    let x = Tensor::zeros((2, 3, 8, 8), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(fid_inception_features(&net, &x, 0), Err(LossError::InvalidConfig { .. })));
    // f64 input to an f32 network is converted.
    assert_eq!(net.pool3(&x.to_dtype(DType::F64).unwrap()).unwrap().dtype(), DType::F32);
}

//! `HubWeights` against a fake Hugging Face cache: `HF_HOME` points to a temp dir laid out as
//! hf-hub / huggingface_hub lay out their cache (`hub/models--owner--name/refs/main` holding a
//! commit hash, `snapshots/<hash>/<file>`). The cache lookup never touches the network; the
//! not-cached case runs in offline mode, so nothing here downloads. One test function, because
//! it sets process-wide environment variables.

mod common;

use candle_core::{DType, Device};
use wno_losses::{HubWeights, LossError, Perceptual, Vgg16, VggTap};

#[test]
fn hub_weights_resolve_from_the_local_cache_and_fail_clearly_offline() {
    let home = common::offline_hf_home();

    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo_dir = home.path().join("hub").join("models--timm--vgg16.tv_in1k");
    let snap = repo_dir.join("snapshots").join(commit);
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo_dir.join("refs")).unwrap();

    // Not cached yet: a clear error naming repo, file and cache, and no network attempt.
    let hub = HubWeights::default();
    let err = hub.resolve().unwrap_err();
    assert!(matches!(err, LossError::HubNotCached { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("timm/vgg16.tv_in1k") && msg.contains("model.safetensors"), "{msg}");
    assert!(msg.contains(&home.path().join("hub").display().to_string()), "{msg}");
    assert!(msg.contains("offline"), "{msg}");

    // Populate the cache with a small random VGG (timm keeps torchvision's `features.N` names).
    std::fs::write(repo_dir.join("refs").join("main"), commit).unwrap();
    common::save(&common::random_tensors(7), &snap.join("model.safetensors"));
    let path = hub.resolve().unwrap();
    assert_eq!(path, snap.join("model.safetensors"));
    let cfg = common::small_config(VggTap::Relu3_3);
    let vgg = Vgg16::from_hub(&hub, &cfg, DType::F32, &Device::Cpu).unwrap();
    let x = common::images(1, 8, 8, 0.0, DType::F32);
    assert_eq!(vgg.tap(&x, VggTap::Relu3_3).unwrap().dims(), &[1, 8, 2, 2]);

    // A pinned revision that is not cached, and a file that is not in the cache.
    let pinned = HubWeights { revision: Some("fedcba9876543210fedcba9876543210fedcba98".into()), ..HubWeights::default() };
    assert!(matches!(pinned.resolve(), Err(LossError::HubNotCached { .. })));
    let other = HubWeights { filename: "pytorch_model.bin".into(), offline: true, ..HubWeights::default() };
    let msg = other.resolve().unwrap_err().to_string();
    assert!(msg.contains("pytorch_model.bin"), "{msg}");

    // The standard-width loader fails on the small cached file with a shape error, not a Hub error.
    let err = Perceptual::from_hub(&hub, DType::F32, &Device::Cpu).unwrap_err();
    assert!(matches!(err, LossError::TensorShape { .. }), "{err:?}");
}

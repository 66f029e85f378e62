//! `HubWeights::fid_inception` and `InceptionV3Fid::from_hub` against a fake Hugging Face
//! cache (`HF_HOME` in a temp dir, `hub/models--owner--name/snapshots/<commit>/<file>`), in
//! offline mode: nothing here downloads. The pinned revision is a commit hash, so the cache is
//! looked up under that commit directly, without `refs/`. One test function, because it sets
//! process-wide environment variables.

mod common;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use wno_losses::{HubWeights, InceptionV3Fid, LossError};

#[test]
fn fid_inception_resolves_from_the_pinned_snapshot_and_fails_clearly_offline() {
    let home = common::offline_hf_home();

    let hub = HubWeights::fid_inception();
    let commit = hub.revision.clone().expect("the FID weights are pinned to a commit");
    let err = InceptionV3Fid::from_hub(&hub, DType::F32, &Device::Cpu).unwrap_err();
    assert!(matches!(err, LossError::HubNotCached { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&hub.repo) && msg.contains("pt_inception-2015-12-05-6726825d.pth") && msg.contains("offline"), "{msg}");

    // A copy on `main` (what later commits hold) is not the pinned file.
    let (owner, name) = hub.repo.split_once('/').unwrap();
    let repo_dir = home.path().join("hub").join(format!("models--{owner}--{name}"));
    let main_commit = "0123456789abcdef0123456789abcdef01234567";
    std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
    std::fs::write(repo_dir.join("refs").join("main"), main_commit).unwrap();
    let main_snap = repo_dir.join("snapshots").join(main_commit);
    std::fs::create_dir_all(&main_snap).unwrap();
    std::fs::write(main_snap.join(&hub.filename), b"a 293-byte LFS leftover").unwrap();
    assert!(matches!(hub.resolve(), Err(LossError::HubNotCached { .. })));

    // The pinned snapshot, holding the formula weights (the format is read from the content,
    // so a safetensors file under the .pth name loads too).
    let snap = repo_dir.join("snapshots").join(&commit);
    std::fs::create_dir_all(&snap).unwrap();
    let tensors = common::fid::formula_tensors();
    candle_core::safetensors::save(&tensors, snap.join(&hub.filename)).unwrap();
    assert_eq!(hub.resolve().unwrap(), snap.join(&hub.filename));
    let net = InceptionV3Fid::from_hub(&hub, DType::F32, &Device::Cpu).unwrap();
    let direct = InceptionV3Fid::new(VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)).unwrap();
    let x = common::fid::images(&[4], 20, 20, DType::F32);
    assert_eq!(net.pool3(&x).unwrap().to_vec2::<f32>().unwrap(), direct.pool3(&x).unwrap().to_vec2::<f32>().unwrap());
}

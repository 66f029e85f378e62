//! `wno_trainer::hub_model::fetch_model` against a fake Hugging Face cache, with a tiny saved
//! model: `HF_HOME` points to a temp dir laid out as hf-hub / huggingface_hub lay out their cache
//! (`hub/models--owner--name/refs/main` holding a commit hash, `snapshots/<hash>/<file>`, and,
//! as the real clients write it, snapshot files as symlinks into `blobs/`). Everything runs in
//! offline mode, so nothing here touches the network. One test function, because it sets
//! process-wide environment variables.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::path::{Path, PathBuf};
use wno_losses::LossError;
use wno_operator::{model_file, Config, Generator, Prior4x4, SampleOptions};
use wno_trainer::hub_model::{fetch_model, DEFAULT_MODEL_FILE};
use wno_trainer::TrainerError;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const OTHER_COMMIT: &str = "fedcba9876543210fedcba9876543210fedcba98";

/// A tiny random model (width 16, 1 layer) with a prior fitted on random thumbnails, saved as
/// `dir/name` (+ `.json`).
fn tiny_model(dir: &Path, name: &str) -> (Generator, Prior4x4, PathBuf) {
    let cfg = Config { width: 16, layers: 1, target_size: 16, ..Default::default() };
    let vm = VarMap::new();
    let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).expect("generator");
    let thumbs = Tensor::rand(0f64, 1., (64, 3, 4, 4), &Device::Cpu).expect("thumbnails");
    let prior = Prior4x4::fit(&thumbs).expect("prior");
    let path = dir.join(name);
    model_file::save_model(&g, Some(&prior), &path).expect("save_model");
    (g, prior, path)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
}

/// The repository folder `hub/models--owner--name` with `refs/main` = [`COMMIT`].
fn repo_dir(home: &Path, repo: &str) -> PathBuf {
    let dir = home.join("hub").join(format!("models--{}", repo.replace('/', "--")));
    std::fs::create_dir_all(dir.join("refs")).expect("mkdir refs");
    std::fs::write(dir.join("refs").join("main"), COMMIT).expect("write ref");
    dir
}

fn not_cached_message(err: TrainerError) -> String {
    assert!(matches!(err, TrainerError::Loss(LossError::HubNotCached { .. })), "{err:?}");
    err.to_string()
}

#[test]
fn fetch_model_resolves_both_files_from_the_cache_and_fails_clearly_offline() {
    let home = tempfile::tempdir().expect("tempdir");
    std::env::set_var("HF_HOME", home.path());
    std::env::remove_var("HF_HUB_CACHE");
    std::env::remove_var("HUGGINGFACE_HUB_CACHE");
    std::env::set_var("HF_HUB_OFFLINE", "1");
    let cache = home.path().join("hub").display().to_string();

    let models = tempfile::tempdir().expect("tempdir");
    let (g, prior, local) = tiny_model(models.path(), DEFAULT_MODEL_FILE);
    let local_json = model_file::config_path(&local);
    let json_name = "wno_w64_l4.json";

    // Nothing cached: the error names the repository, the weights file and the cache.
    let repo = "owner/wno-tiny";
    let msg = not_cached_message(fetch_model(repo, DEFAULT_MODEL_FILE, None, true).unwrap_err());
    assert!(msg.contains(repo) && msg.contains(DEFAULT_MODEL_FILE) && msg.contains(&cache), "{msg}");
    assert!(msg.contains("offline"), "{msg}");

    // Only the weights cached: the error names the missing configuration.
    let dir = repo_dir(home.path(), repo);
    let snap = dir.join("snapshots").join(COMMIT);
    copy(&local, &snap.join(DEFAULT_MODEL_FILE));
    let msg = not_cached_message(fetch_model(repo, DEFAULT_MODEL_FILE, None, true).unwrap_err());
    assert!(msg.contains(repo) && msg.contains(json_name) && msg.contains(&cache), "{msg}");

    // Only the configuration cached: the error names the weights file.
    std::fs::remove_file(snap.join(DEFAULT_MODEL_FILE)).expect("rm");
    copy(&local_json, &snap.join(json_name));
    let msg = not_cached_message(fetch_model(repo, DEFAULT_MODEL_FILE, None, true).unwrap_err());
    assert!(msg.contains(DEFAULT_MODEL_FILE), "{msg}");

    // Both cached: the snapshot path of the weights, which load_model opens.
    copy(&local, &snap.join(DEFAULT_MODEL_FILE));
    let path = fetch_model(repo, DEFAULT_MODEL_FILE, None, true).expect("fetch_model");
    assert_eq!(path, snap.join(DEFAULT_MODEL_FILE));
    let model = model_file::load_model(&path, DType::F32, &Device::Cpu).expect("load_model");
    assert_eq!(model.generator.config(), g.config());
    assert_eq!(model.prior.as_ref(), Some(&prior));
    // Same parameters: the same zero-noise samples.
    let opts = SampleOptions { sigmas: Some(vec![0.0; 2]), skip_mode: None, seed: 3 };
    let a = g.generate(2, &prior, &opts).expect("generate");
    let b = model.generator.generate(2, model.prior.as_ref().expect("prior"), &opts).expect("generate");
    assert_eq!(a.len(), 3);
    assert_eq!(b[2].dims(), &[2, 3, 16, 16]);
    let diff = (&a[2] - &b[2]).and_then(|d| d.abs()?.max_all()?.to_scalar::<f32>()).expect("diff");
    assert_eq!(diff, 0.0);

    // A pinned commit: cached -> found without a ref; another commit -> not cached.
    let pinned = fetch_model(repo, DEFAULT_MODEL_FILE, Some(COMMIT), true).expect("pinned");
    assert_eq!(pinned, path);
    let msg = not_cached_message(fetch_model(repo, DEFAULT_MODEL_FILE, Some(OTHER_COMMIT), true).unwrap_err());
    assert!(msg.contains(DEFAULT_MODEL_FILE), "{msg}");

    // Passing the configuration instead of the weights is refused with a hint.
    let err = fetch_model(repo, json_name, None, true).unwrap_err();
    assert!(matches!(err, TrainerError::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains(DEFAULT_MODEL_FILE), "{err}");

    // A model in a subfolder of the repository, stored as the real clients store it: snapshot
    // entries are symlinks into blobs/. The returned path must stay the snapshot path (not the
    // blob it points to), or the configuration would not be beside it.
    #[cfg(unix)]
    {
        let repo = "owner/wno-blobs";
        let dir = repo_dir(home.path(), repo);
        let blobs = dir.join("blobs");
        let sub = dir.join("snapshots").join(COMMIT).join("models");
        std::fs::create_dir_all(&sub).expect("mkdir");
        copy(&local, &blobs.join("aaaa1111"));
        copy(&local_json, &blobs.join("bbbb2222"));
        std::os::unix::fs::symlink("../../../blobs/aaaa1111", sub.join("tiny.safetensors")).expect("symlink");
        std::os::unix::fs::symlink("../../../blobs/bbbb2222", sub.join("tiny.json")).expect("symlink");
        let path = fetch_model(repo, "models/tiny.safetensors", None, true).expect("fetch_model from blobs");
        assert_eq!(path, sub.join("tiny.safetensors"));
        let model = model_file::load_model(&path, DType::F32, &Device::Cpu).expect("load_model from blobs");
        assert_eq!(model.generator.config(), g.config());
        assert!(model.prior.is_some());
    }
}

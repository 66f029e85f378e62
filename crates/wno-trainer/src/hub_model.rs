//! Trained models on the Hugging Face Hub: [`fetch_model`] resolves a weights file and the
//! configuration beside it through `hf-hub` (local cache first, download on a miss) and returns
//! a path that [`wno_operator::model_file::load_model`] opens as it opens a local file.
//!
//! # Repository layout
//!
//! A model repository holds the same files as this project's `weights/` folder:
//!
//! | file | what |
//! |---|---|
//! | `wno_w64_l4.safetensors` | the generator's parameters under their PyTorch names, and the 4x4 prior (`prior.mean` `(48,)`, `prior.chol` `(48, 48)`, f64) |
//! | `wno_w64_l4.json` | the generator configuration ([`wno_operator::Config`], serde JSON) |
//! | `README.md` | the model card (training data, settings, metrics, licence) |
//!
//! The configuration is always the weights file's name with the extension `.json`
//! ([`wno_operator::model_file::config_path`]), so one repository may hold several models
//! (`wno_w64_l4.*`, `wno_w192_l6.*`, ...), selected by the file name.
//!
//! # Cache
//!
//! Files are looked up in the local Hub cache first (`HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`; the layout `huggingface_hub` and `hf-hub` share:
//! `models--owner--name/refs/<branch>` holding a commit hash and
//! `models--owner--name/snapshots/<commit>/<file>`) and downloaded only on a miss. Both files
//! of one revision live in the same snapshot folder, which is why the returned weights path has
//! its configuration beside it. With `offline` (or `HF_HUB_OFFLINE=1`) the network is never
//! used, and a file that is not cached is an error naming the repository, the file and the
//! cache directory.
//!
//! # Uploading a model
//!
//! With the Python client (`pip install -U "huggingface_hub[cli]"`) and a write token
//! (`huggingface-cli login`):
//!
//! ```sh
//! huggingface-cli repo create owner/wno-imagegen --type model   # once
//! huggingface-cli upload owner/wno-imagegen weights/wno_w64_l4.safetensors wno_w64_l4.safetensors
//! huggingface-cli upload owner/wno-imagegen weights/wno_w64_l4.json wno_w64_l4.json
//! huggingface-cli upload owner/wno-imagegen weights/README.md README.md
//! # or everything in weights/ in one commit:
//! huggingface-cli upload owner/wno-imagegen weights/ . --commit-message "W-NO w64 l4"
//! ```
//!
//! and then `cargo run --release --example sample -- --hub owner/wno-imagegen`.

use crate::error::{Result, TrainerError};
use std::path::{Path, PathBuf};
use wno_losses::HubWeights;
use wno_operator::model_file::config_path;

/// The weights file of the model this project ships (`weights/wno_w64_l4.safetensors`, and
/// the same name in a Hub model repository).
pub const DEFAULT_MODEL_FILE: &str = "wno_w64_l4.safetensors";

/// Resolves `filename` (a safetensors weights file) and its configuration
/// ([`config_path`]: the same name with `.json`) in the Hub model repository `repo`
/// (`owner/name`) at `revision` (branch, tag or commit; `None` is `main`), from the local cache
/// or by downloading them, and returns the local path of the weights file. The configuration
/// lies beside it, so `wno_operator::model_file::load_model(&path, ..)` loads the model.
///
/// When the branch moved between the two look-ups (the weights were cached at an older commit
/// and the configuration came from the new one), the weights are resolved again at the new
/// commit, so the two files always come from the same snapshot.
///
/// With `offline` (or `HF_HUB_OFFLINE=1`) nothing is downloaded. Without network access and
/// with an empty cache, this fails with a message naming the repository, the file and the cache:
///
/// ```
/// let home = tempfile::tempdir()?;
/// std::env::set_var("HF_HOME", home.path());
/// std::env::remove_var("HF_HUB_CACHE");
/// std::env::remove_var("HUGGINGFACE_HUB_CACHE");
/// let err = wno_trainer::hub_model::fetch_model(
///     "owner/wno-imagegen",
///     wno_trainer::hub_model::DEFAULT_MODEL_FILE,
///     None,
///     true,
/// )
/// .unwrap_err();
/// let msg = err.to_string();
/// assert!(msg.contains("owner/wno-imagegen") && msg.contains("wno_w64_l4.safetensors"), "{msg}");
/// assert!(msg.contains(&home.path().join("hub").display().to_string()), "{msg}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TrainerError::Loss`] wrapping [`wno_losses::LossError::HubNotCached`] (offline, or the Hub
/// unreachable, and a file not cached) or [`wno_losses::LossError::Hub`] (another client error,
/// e.g. the repository or file does not exist); [`TrainerError::InvalidArgument`] for a
/// `filename` that is itself a `.json` file, or when the two files cannot be resolved from
/// one snapshot.
pub fn fetch_model(repo: &str, filename: &str, revision: Option<&str>, offline: bool) -> Result<PathBuf> {
    const OP: &str = "fetch_model";
    let config_name = config_path(Path::new(filename));
    let config_name = config_name
        .to_str()
        .ok_or_else(|| TrainerError::invalid(OP, format!("`{filename}`: the configuration name is not UTF-8")))?
        .to_string();
    if config_name == filename {
        return Err(TrainerError::invalid(
            OP,
            format!("`{filename}` is the configuration name; pass the weights file (e.g. `{DEFAULT_MODEL_FILE}`)"),
        ));
    }
    let hub =
        |file: &str| HubWeights { repo: repo.to_string(), filename: file.to_string(), revision: revision.map(str::to_string), offline };
    let weights = hub(filename).resolve()?;
    let config = hub(&config_name).resolve()?;
    if config_path(&weights) == config {
        return Ok(weights);
    }
    // The branch moved while the configuration was fetched: take the weights of that commit.
    let weights = hub(filename).resolve()?;
    if config_path(&weights) == config {
        return Ok(weights);
    }
    Err(TrainerError::invalid(
        OP,
        format!(
            "`{filename}` and `{config_name}` of Hub repo `{repo}` resolved to different snapshots \
             (`{}` and `{}`); pin a commit with the revision",
            weights.display(),
            config.display()
        ),
    ))
}

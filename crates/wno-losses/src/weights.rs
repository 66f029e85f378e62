//! Weight files: validated local safetensors, and the Hugging Face Hub through `hf-hub`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use hf_hub::{HFClientSync, HFError};

use crate::error::{LossError, Result};

/// Reads a safetensors file, checks that every `(name, shape)` of `needed` is present with that
/// shape (naming the first that is not), and returns a `VarBuilder` over it.
pub(crate) fn checked_var_builder(
    path: &Path,
    needed: &[(String, Vec<usize>)],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>> {
    let data = std::fs::read(path).map_err(|source| LossError::Io { path: path.to_path_buf(), source })?;
    {
        let st = safetensors::SafeTensors::deserialize(&data).map_err(|e| LossError::BadWeightFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        for (name, shape) in needed {
            match st.tensor(name) {
                Ok(view) if view.shape() == shape.as_slice() => {}
                Ok(view) => {
                    return Err(LossError::TensorShape {
                        path: path.to_path_buf(),
                        name: name.clone(),
                        expected: shape.clone(),
                        got: view.shape().to_vec(),
                    })
                }
                Err(_) => {
                    return Err(LossError::MissingTensor {
                        path: path.to_path_buf(),
                        name: name.clone(),
                        expected: shape.clone(),
                    })
                }
            }
        }
    }
    Ok(VarBuilder::from_buffered_safetensors(data, dtype, device)?)
}

/// Where to find weights on the Hugging Face Hub, and whether the network may be used.
///
/// [`resolve`](Self::resolve) looks in the local Hub cache first (`HF_HUB_CACHE`, else
/// `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, the layout `huggingface_hub` and `hf-hub`
/// share) and downloads only on a miss. With `offline` set, or `HF_HUB_OFFLINE=1` in the
/// environment, it never touches the network; a miss is then [`LossError::HubNotCached`],
/// which names the repository, the file and the cache directory.
///
/// The default is torchvision's ImageNet VGG16 as published by timm,
/// `timm/vgg16.tv_in1k` / `model.safetensors`: timm builds `features` exactly as torchvision
/// (same `features.N` indices; only the classifier is renamed to `pre_logits.fc1/fc2` and
/// `head.fc`, which these losses do not use), so its tensors load under torchvision names.
///
/// ```
/// let hub = wno_losses::HubWeights::default();
/// assert_eq!(hub.repo, "timm/vgg16.tv_in1k");
/// assert_eq!(hub.filename, "model.safetensors");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubWeights {
    /// Repository id, `owner/name`.
    pub repo: String,
    /// File inside the repository.
    pub filename: String,
    /// Git revision (branch, tag or commit); `None` is `main`.
    pub revision: Option<String>,
    /// Never use the network (the environment variable `HF_HUB_OFFLINE=1` does the same).
    pub offline: bool,
}

impl Default for HubWeights {
    fn default() -> Self {
        Self {
            repo: "timm/vgg16.tv_in1k".into(),
            filename: "model.safetensors".into(),
            revision: None,
            offline: false,
        }
    }
}

fn env_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
        .unwrap_or(false)
}

impl HubWeights {
    /// Local path of the file: from the cache, or downloaded into it (see the type docs).
    pub fn resolve(&self) -> Result<PathBuf> {
        let hub_err = |reason: String| LossError::Hub {
            repo: self.repo.clone(),
            filename: self.filename.clone(),
            reason,
        };
        let (owner, name) = hf_hub::split_id(&self.repo);
        if name.is_empty() {
            return Err(hub_err("the repository id must be `owner/name`".into()));
        }
        let client = HFClientSync::new().map_err(|e| hub_err(e.to_string()))?;
        let cache_dir = hf_hub::resolve_cache_dir();
        let repo = client.model(owner, name);
        let cached = repo
            .download_file()
            .filename(self.filename.clone())
            .maybe_revision(self.revision.clone())
            .local_files_only(true)
            .send();
        match cached {
            Ok(path) => return Ok(path),
            Err(HFError::LocalEntryNotFound { .. }) => {}
            Err(e) => return Err(hub_err(e.to_string())),
        }
        let not_cached = |why: String| LossError::HubNotCached {
            repo: self.repo.clone(),
            filename: self.filename.clone(),
            cache_dir: cache_dir.clone(),
            why,
        };
        if self.offline || env_offline() {
            return Err(not_cached("offline mode (HubWeights::offline or HF_HUB_OFFLINE)".into()));
        }
        match repo.download_file().filename(self.filename.clone()).maybe_revision(self.revision.clone()).send() {
            Ok(path) => Ok(path),
            // Transport failures (no network, DNS, timeouts) mean "offline and not cached".
            Err(e @ HFError::Request { .. }) => Err(not_cached(format!("network error: {e}"))),
            Err(e) => Err(hub_err(e.to_string())),
        }
    }
}

//! Weight files: validated local safetensors and PyTorch `.pth` files, and the Hugging Face Hub
//! through `hf-hub`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use hf_hub::{HFClientSync, HFError};

use crate::error::{LossError, Result};
use crate::pth::{read_state_dict, PthFormat};

/// Reads a weight file, checks that every `(name, shape)` of `needed` is present with that
/// shape (naming the first that is not), and returns a `VarBuilder` over it.
///
/// The format is recognised from the content, not the extension: a PyTorch `.pth` state dict
/// (zip or legacy `torch.save` format, see [`crate::pth`]) or else safetensors. A file shorter
/// than the magic number it starts with is a truncated `.pth`; a `.pth` / `.pt` file that is
/// neither format is reported as a `.pth` with its first bytes and the expected magic numbers.
pub(crate) fn checked_var_builder(
    path: &Path,
    needed: &[(String, Vec<usize>)],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>> {
    let data = std::fs::read(path).map_err(|source| LossError::Io { path: path.to_path_buf(), source })?;
    if let Some(format) = PthFormat::sniff(&data) {
        let tensors: HashMap<String, Tensor> = read_state_dict(path, &data, format)?;
        check_shapes(path, needed, |name| tensors.get(name).map(|t| t.dims().to_vec()))?;
        return Ok(VarBuilder::from_tensors(tensors, dtype, device));
    }
    let bad = |format: &'static str, reason: String| LossError::BadWeightFile { path: path.to_path_buf(), format, reason };
    if let Some(reason) = crate::pth::truncated_magic(&data) {
        return Err(bad("PyTorch .pth", reason));
    }
    {
        let st = safetensors::SafeTensors::deserialize(&data).map_err(|e| {
            if crate::pth::pth_named(path) {
                bad("PyTorch .pth", format!("{} (nor is it safetensors: {e})", crate::pth::unknown_magic(&data)))
            } else {
                bad("safetensors", e.to_string())
            }
        })?;
        check_shapes(path, needed, |name| st.tensor(name).ok().map(|view| view.shape().to_vec()))?;
    }
    Ok(VarBuilder::from_buffered_safetensors(data, dtype, device)?)
}

/// Fails on the first `(name, shape)` of `needed` that `shape_of` does not report with that shape.
fn check_shapes(path: &Path, needed: &[(String, Vec<usize>)], shape_of: impl Fn(&str) -> Option<Vec<usize>>) -> Result<()> {
    for (name, shape) in needed {
        match shape_of(name) {
            Some(got) if got == *shape => {}
            Some(got) => {
                return Err(LossError::TensorShape {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    expected: shape.clone(),
                    got,
                })
            }
            None => {
                return Err(LossError::MissingTensor {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    expected: shape.clone(),
                })
            }
        }
    }
    Ok(())
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

/// pytorch-fid's release URL of the FID Inception weights (TensorFlow's 2015-12-05 Inception
/// graph converted to PyTorch): the original, for a manual download.
pub const FID_INCEPTION_URL: &str =
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth";

/// SHA-256 of `pt_inception-2015-12-05-6726825d.pth` (95,628,359 bytes); its first eight digits
/// are the `6726825d` of the file name.
pub const FID_INCEPTION_SHA256: &str = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2";

impl HubWeights {
    /// pytorch-fid's FID Inception weights on the Hub, for [`crate::InceptionV3Fid::from_hub`].
    ///
    /// pytorch-fid itself publishes the file only as a GitHub release asset
    /// ([`FID_INCEPTION_URL`]). The Hub copy used here is the one in
    /// `RaphaelLiu/EvalCrafter-Models` (the EvalCrafter benchmark's model bundle), **pinned to
    /// commit `6040b4d40fdcde446a0cf753b0527585b6b77c54`**, whose Git LFS pointer records the
    /// SHA-256 [`FID_INCEPTION_SHA256`] and size of the GitHub original, so the content is the
    /// same byte for byte (LFS objects are addressed by that hash). The pin matters: later
    /// commits of that repository replaced the file by a 293-byte one.
    ///
    /// Without network access, download the file from [`FID_INCEPTION_URL`] elsewhere (pytorch-fid
    /// keeps it in `~/.cache/torch/hub/checkpoints/`) and load it with
    /// [`crate::InceptionV3Fid::from_file`].
    ///
    /// ```
    /// let hub = wno_losses::HubWeights::fid_inception();
    /// assert_eq!(hub.filename, "pt_inception-2015-12-05-6726825d.pth");
    /// assert_eq!(hub.revision.as_deref(), Some("6040b4d40fdcde446a0cf753b0527585b6b77c54"));
    /// ```
    pub fn fid_inception() -> Self {
        Self {
            repo: "RaphaelLiu/EvalCrafter-Models".into(),
            filename: "pt_inception-2015-12-05-6726825d.pth".into(),
            revision: Some("6040b4d40fdcde446a0cf753b0527585b6b77c54".into()),
            offline: false,
        }
    }

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

//! A trained model on disk: `NAME.safetensors` (the generator's parameters under their PyTorch
//! names, and the [`Prior4x4`] tensors `prior.*` when there is one) and `NAME.json` beside it
//! (the generator [`Config`]). This is the layout of `weights/` and of a Hub model repository.

use crate::checkpoint::{generator_from_tensors, read_safetensors, save_safetensors};
use crate::config::Config;
use crate::error::{OperatorError, Result};
use crate::generator::Generator;
use crate::prior::Prior4x4;
use candle_core::{DType, Device};
use std::path::{Path, PathBuf};

/// A generator with its configuration and (when stored) its 4x4 prior, as loaded by
/// [`load_model`].
#[derive(Clone, Debug)]
pub struct Model {
    /// The generator.
    pub generator: Generator,
    /// The 4x4 prior for [`Generator::generate`]; `None` when the file holds none.
    pub prior: Option<Prior4x4>,
}

/// The configuration file of a weights file: the same path with the extension `.json`.
///
/// ```
/// use std::path::Path;
/// let p = wno_operator::model_file::config_path(Path::new("weights/wno_w64_l4.safetensors"));
/// assert_eq!(p, Path::new("weights/wno_w64_l4.json"));
/// ```
pub fn config_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Reads the configuration stored beside `weights` (see [`config_path`]) and validates it.
///
/// # Errors
/// [`OperatorError::Io`] when the JSON file is absent or unreadable, [`OperatorError::Config`]
/// when it does not parse or holds an invalid configuration.
pub fn read_config(weights: &Path) -> Result<Config> {
    let path = config_path(weights);
    let text = std::fs::read_to_string(&path).map_err(|source| OperatorError::Io { path: path.display().to_string(), source })?;
    let cfg: Config = serde_json::from_str(&text).map_err(|e| OperatorError::Config(format!("{}: {e}", path.display())))?;
    cfg.validate().map_err(|e| OperatorError::Config(format!("{}: {e}", path.display())))?;
    Ok(cfg)
}

/// Loads a model written by [`save_model`]: the configuration from the JSON beside `weights`,
/// the generator (every name and shape checked) and the prior when the file holds one.
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_operator::{model_file, Config, Generator};
/// let cfg = Config { width: 16, layers: 1, ..Default::default() };
/// let vm = VarMap::new();
/// let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tiny.safetensors");
/// model_file::save_model(&g, None, &path)?;
/// let back = model_file::load_model(&path, DType::F32, &Device::Cpu)?;
/// assert_eq!(back.generator.config(), &cfg);
/// assert!(back.prior.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`read_config`] and [`crate::checkpoint::load_safetensors`]; [`OperatorError::Prior`] when the `prior.*`
/// tensors are present but invalid.
pub fn load_model(weights: &Path, dtype: DType, device: &Device) -> Result<Model> {
    let cfg = read_config(weights)?;
    let tensors = read_safetensors(weights)?;
    let prior = if tensors.keys().any(|k| k.starts_with("prior.")) {
        Some(Prior4x4::from_tensors(&tensors).map_err(|e| OperatorError::Prior(format!("{}: {e}", weights.display())))?)
    } else {
        None
    };
    let generator = generator_from_tensors(weights, tensors, &cfg, dtype, device)?;
    Ok(Model { generator, prior })
}

/// Writes `generator` (and `prior`) to `weights` and its configuration to the JSON beside it,
/// each atomically (temporary file, then rename). Creates the parent folder if needed.
///
/// # Errors
/// [`OperatorError::Io`] when a file cannot be written.
pub fn save_model(generator: &Generator, prior: Option<&Prior4x4>, weights: &Path) -> Result<()> {
    let io = |path: &Path, source: std::io::Error| OperatorError::Io { path: path.display().to_string(), source };
    if let Some(dir) = weights.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let extra = match prior {
        Some(p) => p.to_tensors()?,
        None => Vec::new(),
    };
    save_safetensors(generator, &extra, weights)?;
    let json = serde_json::to_string_pretty(generator.config()).map_err(|e| OperatorError::Config(e.to_string()))?;
    let path = config_path(weights);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))
}

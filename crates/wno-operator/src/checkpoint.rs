//! Checked loading and saving of generator weights: the original PyTorch `.pth` checkpoint and
//! this project's safetensors files.
//!
//! Loading compares every tensor of the file with the parameters the [`Config`] needs and
//! reports all missing, mis-shaped and unexpected names at once. The original checkpoint's
//! Haar filter buffers (`spec.dwt.*`, `spec.idwt.*`) carry no learned state and are ignored, as
//! are the `prior.*` tensors of the [`crate::Prior4x4`] stored beside the weights.

use crate::config::Config;
use crate::error::{OperatorError, Result};
use crate::generator::Generator;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use std::path::Path;

/// Name prefixes that are not generator parameters and are skipped when loading.
pub const IGNORED_PREFIXES: [&str; 3] = ["spec.dwt.", "spec.idwt.", "prior."];

/// The parameters a configuration needs, with their shapes, in PyTorch's
/// `named_parameters()` order.
///
/// ```
/// let cfg = wno_operator::Config::default();
/// let p = wno_operator::checkpoint::expected_parameters(&cfg);
/// assert_eq!(p.len(), 56);
/// assert_eq!(p.iter().map(|(_, s)| s.iter().product::<usize>()).sum::<usize>(), 620_163);
/// ```
pub fn expected_parameters(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let w = cfg.width;
    let mut v = Vec::new();
    let mut conv = |name: String, cout: usize, cin: usize| {
        v.push((format!("{name}.weight"), vec![cout, cin, 1, 1]));
        v.push((format!("{name}.bias"), vec![cout]));
    };
    conv("in_proj".into(), w, cfg.in_channels());
    conv("spec.conv_ll".into(), w, w);
    conv("spec.conv_hp".into(), 3 * w, 3 * w);
    let mut v = v;
    for i in 0..cfg.layers {
        v.push((format!("layers.{i}.dense.weight"), vec![w, w, 1, 1]));
        v.push((format!("layers.{i}.dense.bias"), vec![w]));
        for name in ["local1", "local2"] {
            v.push((format!("layers.{i}.{name}.weight"), vec![w, 1, 3, 3]));
            v.push((format!("layers.{i}.{name}.bias"), vec![w]));
        }
        v.push((format!("layers.{i}.norm.weight"), vec![w]));
        v.push((format!("layers.{i}.norm.bias"), vec![w]));
    }
    v.push(("out_proj.weight".into(), vec![3, w, 1, 1]));
    v.push(("out_proj.bias".into(), vec![3]));
    v
}

/// Compares the tensor names and shapes found in `path` with what `cfg` needs.
///
/// # Errors
/// [`OperatorError::Checkpoint`] listing every missing, mis-shaped and unexpected tensor.
pub fn check_shapes(path: &Path, found: &HashMap<String, Vec<usize>>, cfg: &Config) -> Result<()> {
    let expected = expected_parameters(cfg);
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match found.get(name) {
            None => problems.push(format!("missing `{name}` (expected shape {shape:?})")),
            Some(s) if s != shape => problems.push(format!("`{name}` has shape {s:?}, expected {shape:?}")),
            Some(_) => {}
        }
    }
    let known: std::collections::HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let mut unexpected: Vec<&String> = found
        .keys()
        .filter(|k| !known.contains(k.as_str()) && !IGNORED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    unexpected.sort();
    problems.extend(unexpected.into_iter().map(|k| format!("unexpected tensor `{k}`")));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OperatorError::Checkpoint {
            path: path.display().to_string(),
            detail: format!(
                "does not match the configuration (width {}, {} layers, {} input channels): {}",
                cfg.width,
                cfg.layers,
                cfg.in_channels(),
                problems.join("; ")
            ),
        })
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> OperatorError {
    OperatorError::Checkpoint { path: path.display().to_string(), detail: e.to_string() }
}

fn require_file(path: &Path) -> Result<()> {
    std::fs::metadata(path).map(|_| ()).map_err(|source| OperatorError::Io { path: path.display().to_string(), source })
}

/// Loads the original PyTorch checkpoint (a `state_dict` saved with `torch.save`) into a
/// generator of configuration `cfg`, as `dtype` on `device`, after checking every name and
/// shape. The wavelet filter buffers are ignored.
///
/// # Errors
/// [`OperatorError::Io`] when the file is absent, [`OperatorError::Checkpoint`] when it cannot
/// be parsed or does not match `cfg`.
pub fn load_pth(path: impl AsRef<Path>, cfg: &Config, dtype: DType, device: &Device) -> Result<Generator> {
    let path = path.as_ref();
    require_file(path)?;
    let pth = candle_core::pickle::PthTensors::new(path, None).map_err(|e| io_error(path, e))?;
    let found = pth.tensor_infos().iter().map(|(k, info)| (k.clone(), info.layout.dims().to_vec())).collect();
    check_shapes(path, &found, cfg)?;
    let vb = VarBuilder::from_pth(path, dtype, device).map_err(|e| io_error(path, e))?;
    Generator::new(cfg, vb)
}

/// Reads every tensor of a safetensors file onto the CPU.
///
/// # Errors
/// [`OperatorError::Io`] when the file is absent, [`OperatorError::Checkpoint`] when it cannot
/// be parsed.
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<HashMap<String, Tensor>> {
    let path = path.as_ref();
    require_file(path)?;
    candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| io_error(path, e))
}

/// Loads generator weights from a safetensors file (as written by [`save_safetensors`] or by
/// PyTorch's `safetensors.torch.save_file`), checking every name and shape.
///
/// # Errors
/// As [`load_pth`].
pub fn load_safetensors(path: impl AsRef<Path>, cfg: &Config, dtype: DType, device: &Device) -> Result<Generator> {
    let path = path.as_ref();
    generator_from_tensors(path, read_safetensors(path)?, cfg, dtype, device)
}

/// Builds a generator of configuration `cfg` from tensors read from `path` (named in errors),
/// after checking every name and shape.
///
/// # Errors
/// [`OperatorError::Checkpoint`] when the tensors do not match `cfg`.
pub fn generator_from_tensors(path: &Path, tensors: HashMap<String, Tensor>, cfg: &Config, dtype: DType, device: &Device) -> Result<Generator> {
    let found = tensors.iter().map(|(k, t)| (k.clone(), t.dims().to_vec())).collect();
    check_shapes(path, &found, cfg)?;
    Generator::new(cfg, VarBuilder::from_tensors(tensors, dtype, device))
}

/// Writes the generator's parameters under their PyTorch names (as f32, contiguous, on the CPU)
/// to a safetensors file, with `extra` tensors (e.g. [`crate::Prior4x4::to_tensors`]) beside
/// them. The file is written to a temporary name first and renamed, so a crash never leaves a
/// truncated file behind.
///
/// # Errors
/// [`OperatorError::Io`] when the file cannot be written.
pub fn save_safetensors(generator: &Generator, extra: &[(String, Tensor)], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut map = HashMap::new();
    for (name, t) in generator.named_parameters() {
        map.insert(name, t.to_dtype(DType::F32)?.to_device(&Device::Cpu)?.contiguous()?);
    }
    for (name, t) in extra {
        map.insert(name.clone(), t.to_device(&Device::Cpu)?.contiguous()?);
    }
    let tmp = path.with_extension("safetensors.tmp");
    let io = |source: std::io::Error| OperatorError::Io { path: path.display().to_string(), source };
    candle_core::safetensors::save(&map, &tmp).map_err(|e| io(std::io::Error::other(e.to_string())))?;
    make_world_readable(&tmp).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The safetensors writer creates owner-only files; weights are meant to be shared (`weights/`,
/// a Hub upload), so give them the usual `rw-r--r--`.
pub(crate) fn make_world_readable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

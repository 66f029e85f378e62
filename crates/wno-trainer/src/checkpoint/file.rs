//! One checkpoint file: named tensors plus [`TrainState`] in the safetensors metadata.

use super::atomic::write_atomic;
use super::state::TrainState;
use crate::error::{Result, TrainerError};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// The safetensors metadata key under which the [`TrainState`] JSON is stored.
pub const METADATA_KEY: &str = "wno_trainer.state";

/// Writes `tensors` and `state` to `path` atomically (see [`write_atomic`]). Tensors are
/// copied to the CPU and made contiguous; their dtypes are kept.
///
/// # Errors
/// Duplicate names, serialisation or I/O failures, naming the file.
pub fn save_checkpoint(
    path: &Path,
    tensors: &[(String, Tensor)],
    state: &TrainState,
) -> Result<()> {
    let st_err = |reason: String| TrainerError::Safetensors {
        op: "save_checkpoint",
        path: path.to_path_buf(),
        reason,
    };
    let mut cpu: Vec<(String, Tensor)> = Vec::with_capacity(tensors.len());
    let mut seen = std::collections::HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(st_err(format!("duplicate tensor name `{name}`")));
        }
        cpu.push((name.clone(), t.to_device(&Device::Cpu)?.contiguous()?));
    }
    let json = serde_json::to_string(state).map_err(|e| TrainerError::Json {
        op: "save_checkpoint",
        path: path.to_path_buf(),
        source: e,
    })?;
    let meta = HashMap::from([(METADATA_KEY.to_string(), json)]);
    let bytes = safetensors::serialize(cpu.iter().map(|(n, t)| (n.as_str(), t)), Some(meta))
        .map_err(|e| st_err(e.to_string()))?;
    write_atomic(path, &bytes)
}

fn parse_state(path: &Path, meta: Option<&HashMap<String, String>>) -> Result<TrainState> {
    let json = meta
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(|| TrainerError::Safetensors {
            op: "load_checkpoint",
            path: path.to_path_buf(),
            reason: format!("no `{METADATA_KEY}` metadata: not a training checkpoint"),
        })?;
    serde_json::from_str(json).map_err(|e| TrainerError::Json {
        op: "load_checkpoint",
        path: path.to_path_buf(),
        source: e,
    })
}

/// Reads a checkpoint written by [`save_checkpoint`]: every tensor (on `device`) and the state.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use wno_trainer::checkpoint::{load_checkpoint, save_checkpoint, TrainState};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("last.safetensors");
/// let state = TrainState { step: 7, ..TrainState::new(1) };
/// let t = Tensor::new(&[1f32, 2.], &Device::Cpu).unwrap();
/// save_checkpoint(&p, &[("w".into(), t)], &state).unwrap();
/// let (tensors, back) = load_checkpoint(&p, &Device::Cpu).unwrap();
/// assert_eq!(back, state);
/// assert_eq!(tensors["w"].to_vec1::<f32>().unwrap(), vec![1., 2.]);
/// ```
///
/// # Errors
/// A missing or unreadable file, a file that is not safetensors, or one without the state.
pub fn load_checkpoint(
    path: &Path,
    device: &Device,
) -> Result<(HashMap<String, Tensor>, TrainState)> {
    let bytes = std::fs::read(path).map_err(|e| TrainerError::io("read checkpoint", path, e))?;
    let (_, meta) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| TrainerError::Safetensors {
            op: "load_checkpoint",
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let state = parse_state(path, meta.metadata().as_ref())?;
    let tensors = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| {
        TrainerError::Safetensors {
            op: "load_checkpoint",
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    Ok((tensors, state))
}

/// Reads only the state of a checkpoint (the header, not the tensors).
///
/// # Errors
/// As [`load_checkpoint`].
pub fn read_metadata(path: &Path) -> Result<TrainState> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).map_err(|e| TrainerError::io("read checkpoint", path, e))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|e| TrainerError::io("read checkpoint header", path, e))?;
    let n = u64::from_le_bytes(len);
    if n > 100_000_000 {
        return Err(TrainerError::Safetensors {
            op: "read_metadata",
            path: path.to_path_buf(),
            reason: format!("header length {n} is implausible"),
        });
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| TrainerError::io("read checkpoint header", path, e))?;
    let value: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| TrainerError::Json {
            op: "read_metadata",
            path: path.to_path_buf(),
            source: e,
        })?;
    let meta: Option<HashMap<String, String>> = value
        .get("__metadata__")
        .and_then(|m| serde_json::from_value(m.clone()).ok());
    parse_state(path, meta.as_ref())
}

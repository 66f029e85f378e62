//! [`CheckpointDir`]: `last.safetensors` and `best.safetensors` in a run folder.

use super::file::{load_checkpoint, save_checkpoint};
use super::state::TrainState;
use crate::error::Result;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The checkpoints of one run: the last one (overwritten at each save) and the best one by
/// evaluation score (higher is better), each a single atomically written file.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use wno_trainer::checkpoint::{CheckpointDir, TrainState};
/// let dir = tempfile::tempdir().unwrap();
/// let ck = CheckpointDir::new(dir.path());
/// let t = vec![("w".to_string(), Tensor::new(&[1f32], &Device::Cpu).unwrap())];
/// let mut s = TrainState::new(0);
/// assert!(ck.save(&t, &mut s, Some(20.0)).unwrap()); // first score: best
/// assert!(!ck.save(&t, &mut s, Some(19.0)).unwrap()); // worse: last only
/// assert_eq!(s.best.unwrap().0, 20.0);
/// assert!(ck.last_path().exists() && ck.best_path().exists());
/// ```
#[derive(Clone, Debug)]
pub struct CheckpointDir {
    root: PathBuf,
}

impl CheckpointDir {
    /// Checkpoints in `root` (created on the first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/last.safetensors`.
    pub fn last_path(&self) -> PathBuf {
        self.root.join("last.safetensors")
    }

    /// `root/best.safetensors`.
    pub fn best_path(&self) -> PathBuf {
        self.root.join("best.safetensors")
    }

    /// Saves `tensors` as the last checkpoint; when `score` beats `state.best` (or there is
    /// none yet), records it in `state` and saves the best checkpoint too. Returns whether this
    /// is a new best.
    ///
    /// # Errors
    /// As [`save_checkpoint`].
    pub fn save(
        &self,
        tensors: &[(String, Tensor)],
        state: &mut TrainState,
        score: Option<f64>,
    ) -> Result<bool> {
        let is_best = match (score, state.best) {
            (Some(s), Some((b, _))) => s.is_finite() && s > b,
            (Some(s), None) => s.is_finite(),
            (None, _) => false,
        };
        if is_best {
            state.best = score.map(|s| (s, state.step));
        }
        save_checkpoint(&self.last_path(), tensors, state)?;
        if is_best {
            save_checkpoint(&self.best_path(), tensors, state)?;
        }
        Ok(is_best)
    }

    /// Loads the last checkpoint.
    ///
    /// # Errors
    /// As [`load_checkpoint`] (e.g. no checkpoint in the folder).
    pub fn load_last(&self, device: &Device) -> Result<(HashMap<String, Tensor>, TrainState)> {
        load_checkpoint(&self.last_path(), device)
    }
}

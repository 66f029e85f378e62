//! [`TrainState`]: where a run stands, saved with every checkpoint.

/// The scalar state of a training run: enough, with the tensors, to continue it bit for bit.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Optimiser steps taken.
    pub step: u64,
    /// The epoch the next batch belongs to.
    pub epoch: u64,
    /// Index of the next batch within `epoch`.
    pub batch_in_epoch: usize,
    /// State of the run's random generator ([`crate::rng::TrainRng::state`]) after `step`.
    pub rng: [u64; 4],
    /// The best evaluation score so far (higher is better) and the step it was reached at.
    pub best: Option<(f64, u64)>,
    /// Images seen so far.
    pub images_seen: u64,
    /// Wall-clock seconds spent training so far (across resumes).
    pub elapsed_s: f64,
    /// The run configuration (free-form JSON, checked by the trainer on resume).
    pub config: serde_json::Value,
}

impl TrainState {
    /// The state at the start of a run seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            step: 0,
            epoch: 0,
            batch_in_epoch: 0,
            rng: crate::rng::TrainRng::for_stream(&[seed, 0x7261_6e64]).state(),
            best: None,
            images_seen: 0,
            elapsed_s: 0.0,
            config: serde_json::Value::Null,
        }
    }
}

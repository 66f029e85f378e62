//! Checkpoints: one safetensors file per checkpoint holding every tensor (generator, EMA,
//! critic, optimiser moments) with the training state as JSON metadata, written atomically,
//! and a run folder that keeps the last and the best.

mod atomic;
mod file;
mod run_dir;
mod state;

pub use atomic::write_atomic;
pub use file::{load_checkpoint, read_metadata, save_checkpoint, METADATA_KEY};
pub use run_dir::CheckpointDir;
pub use state::TrainState;

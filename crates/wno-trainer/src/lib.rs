//! Training infrastructure for the W-NO image generator: data sources and augmentation, a
//! multi-threaded deterministic loader, Adam/AdamW with saveable state and LR schedules,
//! atomic safetensors checkpoints, JSON-lines metrics, PNG plots and sample grids, and a
//! progress bar.
#![warn(missing_docs)]

pub mod alloc;
pub mod checkpoint;
pub mod data;
mod error;
pub mod eval;
pub mod hub_model;
pub mod optim;
pub mod report;
pub mod rng;
pub mod train;

pub use error::{Result, TrainerError};

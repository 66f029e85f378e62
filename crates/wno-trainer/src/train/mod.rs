//! The training loop of DESIGN.md section 2: [`TrainConfig`] (every weight, rollout and
//! optimiser setting), the [`Objective`] over the levels, the [`Trainer`] that takes one
//! optimisation step at a time, and [`run`], which drives a whole run in a run folder
//! (metrics, samples, curves, checkpoints, resume).

mod config;
mod init;
mod objective;
mod run;
mod trainer;

pub use config::{ConditioningAugment, LossWeights, Rollout, TrainConfig};
pub use init::reinit_uniform;
pub use objective::{total, LossNets, Objective, Term, LAPLACIAN_LEVELS};
pub use run::{fit_prior, run, write_sample_grid, RunData, RunDir, RunOptions, RunSummary, StopReason};
pub use trainer::{StepReport, Trainer};

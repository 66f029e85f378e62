//! Optimisation: [`Adam`] (PyTorch's coupled L2 or AdamW's decoupled weight decay) with a
//! state that can be saved and restored, learning-rate schedules, gradient-norm clipping and an
//! exponential moving average of the weights.

mod adam;
mod clip;
mod ema;
mod schedule;

pub use adam::{Adam, AdamConfig};
pub use clip::{clip_grad_norm, grad_norm};
pub use ema::{Ema, EmaConfig};
pub use schedule::LrSchedule;

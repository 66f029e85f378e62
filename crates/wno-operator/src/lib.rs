//! Scale-recursive Wavelet Neural Operator (W-NO) image generator on candle.
//!
//! - [`Generator`]: one set of weights grows an image by 2x per transition (4x4 -> 8x8 -> ...),
//!   built from [`WaveletConv2d`] (Haar DWT, 1x1 convs on the bands, inverse DWT), shared by all
//!   [`WnoBlock`]s, with PyTorch-compatible parameter names so the original checkpoint loads
//!   unchanged ([`checkpoint`]).
//! - [`ops`]: the differentiable kernels it runs on: a fast depthwise 3x3 convolution (CPU and
//!   CUDA), fused exact GELU and GroupNorm (CPU), a nearest upsample with a correct backward,
//!   a clamp with PyTorch's gradient, and the 1x1 convolution as a GEMM.
//! - Sampling: [`Generator::upscale`] (from a low-resolution image) and [`Generator::generate`]
//!   (from a 4x4 canvas drawn from the [`Prior4x4`]), with per-level noise and a seeded RNG.
#![warn(missing_docs)]

mod block;
pub mod checkpoint;
mod config;
mod coords;
mod error;
mod generator;
pub mod model_file;
pub mod ops;
mod prior;
mod rollout;
mod sampling;
mod wavelet_conv;

pub use block::WnoBlock;
pub use config::{levels_between, Config, SigmaSchedule, SkipMode};
pub use coords::{coordinate_channels, linspace_f32, linspace_f64};
pub use error::{OperatorError, Result};
pub use generator::Generator;
pub use prior::Prior4x4;
pub use sampling::SampleOptions;
pub use wavelet_conv::WaveletConv2d;

//! Image losses and metrics for [candle](https://github.com/huggingface/candle), numerically
//! equal to the Python implementations people compare against.
//!
//! Every function takes `(B, C, H, W)` batches (images in `[0, 1]` unless a data range says
//! otherwise), returns a tensor that autograd can differentiate, and reports bad input as a
//! [`LossError`] (shape, dtype, image too small, ...) instead of panicking.
//!
//! | term | API | reference |
//! |---|---|---|
//! | L1, Charbonnier | [`l1`], [`charbonnier`] | `F.l1_loss` |
//! | gradient L1 (forward differences, zero-padded) | [`gradient_l1`] | DESIGN.md §2 / `fno_tiny.json` |
//! | Laplacian-pyramid L1 | [`laplacian_l1`], [`laplacian_pyramid`] | DESIGN.md §2 |
//! | PSNR per image | [`psnr`] | `-10 log10(mse + 1e-8)` |
//! | SSIM | [`ssim`], [`Ssim`] | `pytorch_msssim.ssim` |
//! | MS-SSIM | [`ms_ssim`], [`MsSsim`] | `pytorch_msssim.ms_ssim` |
//!
//! SSIM and MS-SSIM keep finite gradients on the hard cases (constant, identical and
//! anti-correlated images); images smaller than the Gaussian window, or too small for the
//! MS-SSIM scales, are rejected with an error that names the size needed.
//!
//! ```
//! # use candle_core::{Device, Tensor};
//! let pred = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
//! let target = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
//! let loss = (wno_losses::l1(&pred, &target)?
//!     + (wno_losses::ssim(&pred, &target, 1.0)?.affine(-0.8, 0.8))?   // 0.8 (1 - SSIM)
//!     + (wno_losses::gradient_l1(&pred, &target)? * 0.2)?)?;
//! assert!(loss.to_scalar::<f32>()?.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod check;
mod error;
mod gaussian;
mod gradient;
mod l1;
mod laplacian;
mod ms_ssim;
mod psnr;
mod resample;
mod ssim;

pub use error::{LossError, Result};
pub use gradient::gradient_l1;
pub use l1::{charbonnier, l1};
pub use laplacian::{laplacian_l1, laplacian_pyramid};
pub use ms_ssim::{ms_ssim, MsSsim, MS_SSIM_WEIGHTS};
pub use psnr::psnr;
pub use ssim::{ssim, Ssim, SsimConfig, SsimStats};

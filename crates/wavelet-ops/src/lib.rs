//! Differentiable 2-D Haar wavelet transforms for [candle](https://github.com/huggingface/candle).
//!
//! - [`dwt2d`] / [`idwt2d`]: one-level forward and inverse transforms as candle custom ops, with
//!   multi-threaded CPU kernels, hand-written CUDA kernels (feature `cuda`) and exact adjoint
//!   backward passes (no activations are saved).
//! - [`wavedec2`] / [`waverec2`] / [`Dwt2d`]: `J`-level decomposition and reconstruction.
//!
//! Conventions are those of pywt and pytorch_wavelets (orthonormal Haar, mode `zero`), equal to
//! them to rounding. The forward output is one tensor `(B, C, 4, ceil(H/2), ceil(W/2))` with the
//! bands on dim 2 in the order of [`Band`]:
//!
//! | band | index | 2x2 block `[a b; c d]` | pywt | pytorch_wavelets |
//! |------|-------|------------------------|------|------------------|
//! | LL | 0 | `(a + b + c + d) / 2` | `cA` | `yl` |
//! | LH | 1 | `(a + b - c - d) / 2` | `cH` | `yh[0][:, :, 0]` |
//! | HL | 2 | `(a - b + c - d) / 2` | `cV` | `yh[0][:, :, 1]` |
//! | HH | 3 | `(a - b - c + d) / 2` | `cD` | `yh[0][:, :, 2]` |
//!
//! Odd sizes are padded with one zero row/column at the end (bands of size `ceil(N/2)`); the
//! inverse takes the size to crop back to, so `idwt2d(&dwt2d(x)?, H, W)` is `x` for every size.
//! Supported dtypes: f32, f64, f16 and bf16 (the half types accumulate in f32).
//!
//! The CPU kernels are memory-bound; how they treat large outputs (transparent huge pages for
//! fresh memory, streaming stores for reused memory) is set by [`CpuOutputPolicy`] and never
//! changes a value.
//!
//! ```
//! use candle_core::{Device, Tensor, Var};
//! let x = Var::from_tensor(&Tensor::randn(0f32, 1., (2, 3, 8, 8), &Device::Cpu)?)?;
//! let bands = wavelet_ops::dwt2d(&x)?;                   // (2, 3, 4, 4, 4)
//! let ll = bands.narrow(2, wavelet_ops::Band::LL.index(), 1)?;
//! let grads = ll.sum_all()?.backward()?;                  // backward = inverse DWT
//! assert_eq!(grads.get(&x).unwrap().dims(), &[2, 3, 8, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod band;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod elem;
mod error;
mod multilevel;
mod ops;
mod output;
#[cfg(target_arch = "x86_64")]
mod simd;
mod validate;

pub use band::Band;
pub use error::{Result, WaveletError};
pub use multilevel::{wavedec2, waverec2, Dwt2d, WaveletPyramid, MAX_LEVELS};
pub use ops::{dwt2d, idwt2d};
pub use output::{cpu_output_policy, set_cpu_output_policy, CpuOutputPolicy};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

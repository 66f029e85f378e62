//! PatchGAN critic and hinge losses for [candle](https://github.com/huggingface/candle).
//!
//! [`PatchGan`] is the critic of the wno-imagegen objective (DESIGN.md §2): four
//! `conv 4x4 / stride 2 / padding 1 -> LeakyReLU(0.2)` stages with 64, 128, 256 and 512
//! channels and a 1x1 conv to one logit per patch (64x64 images -> 4x4 logits), no
//! normalisation, PyTorch `nn.Sequential` parameter names (`net.0` .. `net.8`).
//! [`critic_hinge_loss`] and [`generator_hinge_loss`] are the hinge GAN losses.
//!
//! ```
//! # use candle_core::{DType, Device, Tensor};
//! use candle_nn::{VarBuilder, VarMap};
//! use wno_critic::{critic_hinge_loss, generator_hinge_loss, PatchGan, PatchGanConfig};
//! let vm = VarMap::new();
//! let cfg = PatchGanConfig { widths: vec![4, 4, 4, 4], ..Default::default() };
//! let d = PatchGan::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
//! let real = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
//! let fake = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
//! let d_loss = critic_hinge_loss(&d.forward(&real)?, &d.forward(&fake.detach())?)?;
//! let g_loss = generator_hinge_loss(&d.forward(&fake)?)?;
//! assert!(d_loss.to_scalar::<f32>()? >= 0.0 && g_loss.to_scalar::<f32>()?.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod error;
mod hinge;
mod patchgan;

pub use error::{CriticError, Result};
pub use hinge::{critic_hinge_loss, generator_hinge_loss};
pub use patchgan::{PatchGan, PatchGanConfig};

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
//! | VGG16 features (relu1_2 .. relu5_3) | [`Vgg16`], [`Vgg16Config`], [`VggTap`] | torchvision `vgg16().features` |
//! | perceptual (L1 on relu3_3) | [`Perceptual`] | DESIGN.md §2 |
//! | LPIPS-VGG v0.1 | [`Lpips`] | `lpips.LPIPS(net='vgg')` |
//! | Frechet distance, FD-VGG16 | [`frechet_distance`], [`FeatureStats`], [`vgg16_fd_features`] | `|mu1-mu2|^2 + tr(S1 + S2 - 2 sqrt(S1 S2))` |
//! | Inception-v3 FID (pool3, 2048-d) | [`InceptionV3Fid`], [`fid_inception_features`] + [`frechet_distance`] | `pytorch_fid.inception.InceptionV3` (pytorch-fid 0.3.0) |
//!
//! Network weights come from a local file (VGG16: safetensors with torchvision
//! `features.N.*` names and LPIPS heads `lin{k}.model.1.weight`; Inception: pytorch-fid's
//! `pt_inception-2015-12-05-6726825d.pth` or a safetensors copy) or from the Hugging Face Hub
//! through [`HubWeights`] (`timm/vgg16.tv_in1k` by default, [`HubWeights::fid_inception`] for
//! the FID weights; cache first, a clear [`LossError::HubNotCached`] when offline). The
//! networks are frozen: their weights are detached, targets are detached, and no gradient ever
//! accumulates in them.
//!
//! FD-VGG16 runs offline with the VGG16 weights; it is *not* FID and is never called so. The
//! Inception FID needs pytorch-fid's weight file, which this crate neither ships nor fetches
//! unless asked ([`InceptionV3Fid::from_hub`]): without the file there is no FID.
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

mod bilinear;
mod check;
mod conv;
mod eigen;
mod error;
mod frechet;
mod gaussian;
mod gradient;
mod inception;
mod l1;
mod laplacian;
mod lpips;
mod ms_ssim;
mod perceptual;
mod psnr;
mod pth;
mod resample;
mod ssim;
mod vgg;
mod weights;

pub use conv::conv2d;
pub use error::{LossError, Result};
pub use frechet::{frechet_distance, frechet_distance_from_stats, vgg16_fd_features, FeatureStats};
pub use gradient::gradient_l1;
pub use inception::{fid_inception_features, InceptionV3Fid, FID_INCEPTION_FEATURES, FID_INCEPTION_SIZE};
pub use l1::{charbonnier, l1};
pub use laplacian::{laplacian_l1, laplacian_pyramid};
pub use lpips::{Lpips, LPIPS_SCALE, LPIPS_SHIFT};
pub use ms_ssim::{ms_ssim, MsSsim, MS_SSIM_WEIGHTS};
pub use perceptual::Perceptual;
pub use psnr::psnr;
pub use ssim::{ssim, Ssim, SsimConfig, SsimStats};
pub use vgg::{Vgg16, Vgg16Config, VggTap, IMAGENET_MEAN, IMAGENET_STD};
pub use weights::{HubWeights, FID_INCEPTION_SHA256, FID_INCEPTION_URL};

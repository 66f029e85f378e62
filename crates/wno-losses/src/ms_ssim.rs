//! MS-SSIM as `pytorch_msssim.ms_ssim`, with finite gradients everywhere.

use candle_core::Tensor;

use crate::check::image_pair;
use crate::error::{LossError, Result};
use crate::ssim::{Ssim, SsimConfig};

/// The standard MS-SSIM scale weights (Wang et al. 2003), finest scale first.
pub const MS_SSIM_WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// Below this value a clamped copy of each MS-SSIM factor carries the gradient (see [`MsSsim`]).
const GRAD_FLOOR: f64 = 1e-6;

/// Multi-scale SSIM, numerically equal to `pytorch_msssim.ms_ssim`.
///
/// For each of the `weights.len()` scales: the contrast-structure mean `cs` (per image and
/// channel) at every scale but the last, the SSIM mean at the last; between scales both images
/// are 2x2 average-pooled, with one zero row / column of padding on each side of an odd axis
/// (`F.avg_pool2d(kernel_size=2, padding=s % 2)`, padding counted in the mean, like
/// pytorch_msssim). Each factor goes through `relu`, and the result is
/// `prod_l factor_l ^ weight_l`, averaged over channels and batch.
///
/// Gradients: `relu(v)^w` with `w < 1` has an infinite derivative at 0, so pytorch_msssim's
/// gradient is NaN whenever a factor is clamped to 0 (e.g. `x` against `1 - x`). Here the value is
/// the same, but the gradient is that of `max(v, 1e-6)^w`: exact wherever every factor exceeds
/// 1e-6, zero through a factor below it, never NaN or infinite.
///
/// The smaller image side must exceed `(win_size - 1) * 2^(scales - 1)` (160 for the defaults);
/// smaller images get [`LossError::ImageTooSmall`] naming the size needed.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// use wno_losses::{MsSsim, SsimConfig};
/// let ms = MsSsim::new(SsimConfig::default())?;
/// assert_eq!(ms.min_side(), 161);
/// let x = Tensor::rand(0f32, 1., (1, 1, 161, 161), &Device::Cpu)?;
/// let v = ms.forward(&x, &x)?.to_scalar::<f32>()?;
/// assert!((v - 1.0).abs() < 1e-5);
/// let small = Tensor::rand(0f32, 1., (1, 1, 64, 64), &Device::Cpu)?;
/// assert!(ms.forward(&small, &small).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MsSsim {
    ssim: Ssim,
    weights: Vec<f64>,
}

impl MsSsim {
    /// MS-SSIM with the standard five weights [`MS_SSIM_WEIGHTS`].
    pub fn new(cfg: SsimConfig) -> Result<Self> {
        Self::with_weights(cfg, MS_SSIM_WEIGHTS.to_vec())
    }

    /// MS-SSIM with custom per-scale weights (finest first; at least one, all finite and >= 0).
    pub fn with_weights(cfg: SsimConfig, weights: Vec<f64>) -> Result<Self> {
        if weights.is_empty() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(LossError::InvalidConfig {
                op: "MsSsim",
                reason: format!("weights must be a non-empty list of finite values >= 0, got {weights:?}"),
            });
        }
        Ok(Self { ssim: Ssim::new(cfg)?, weights })
    }

    /// The smallest accepted image side: `(win_size - 1) * 2^(scales - 1) + 1`.
    pub fn min_side(&self) -> usize {
        (self.ssim.config().win_size - 1) * (1usize << (self.weights.len() - 1)) + 1
    }

    /// MS-SSIM of each image and channel, `(B, C)`.
    pub fn per_channel(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let op = "ms_ssim";
        let (_, _, h, w) = image_pair(op, x, y)?;
        let min = self.min_side();
        if h.min(w) < min {
            return Err(LossError::ImageTooSmall {
                op,
                height: h,
                width: w,
                needed: format!(
                    "{} scales with a {}-pixel window need the smaller side > {} (at least {min})",
                    self.weights.len(),
                    self.ssim.config().win_size,
                    min - 1
                ),
            });
        }
        let levels = self.weights.len();
        let (mut x, mut y) = (x.clone(), y.clone());
        // Running products: (exact value, gradient proxy).
        let mut acc: Option<(Tensor, Tensor)> = None;
        for (level, &weight) in self.weights.iter().enumerate() {
            let stats = self.ssim.stats_for(op, &x, &y)?;
            let factor = if level + 1 < levels { stats.cs } else { stats.ssim };
            let e = factor.relu()?.powf(weight)?.detach();
            let p = factor.maximum(GRAD_FLOOR)?.powf(weight)?;
            acc = Some(match acc {
                Some((ae, ap)) => ((ae * e)?, (ap * p)?),
                None => (e, p),
            });
            if level + 1 < levels {
                x = pool(&x)?;
                y = pool(&y)?;
            }
        }
        let (exact, proxy) = acc.ok_or(LossError::InvalidConfig {
            op: "MsSsim",
            reason: "no scales".into(),
        })?;
        // Value of `exact`, gradient of `proxy`.
        Ok((&proxy + (exact - &proxy)?.detach())?)
    }

    /// MS-SSIM of each image, `(B,)` (mean over channels).
    pub fn per_image(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.per_channel(x, y)?.mean(1)?)
    }

    /// Mean MS-SSIM over channels and batch (a scalar).
    pub fn forward(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.per_channel(x, y)?.mean_all()?)
    }

    /// The training loss `1 - MS-SSIM(pred, target)` (a scalar).
    pub fn loss(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.forward(pred, target)?.affine(-1.0, 1.0)?)
    }
}

/// `F.avg_pool2d(x, kernel_size=2, padding=[s % 2 for s in (H, W)])` (zero padding counted).
fn pool(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let mut x = x.clone();
    if h % 2 == 1 {
        x = x.pad_with_zeros(2, 1, 1)?;
    }
    if w % 2 == 1 {
        x = x.pad_with_zeros(3, 1, 1)?;
    }
    Ok(x.avg_pool2d(2)?)
}

/// MS-SSIM with the default window, constants and weights and the given data range (a scalar).
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let x = Tensor::rand(0f32, 1., (1, 3, 176, 176), &Device::Cpu)?;
/// let v = wno_losses::ms_ssim(&x, &x.affine(0.9, 0.05)?, 1.0)?.to_scalar::<f32>()?;
/// assert!(v > 0.9 && v <= 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ms_ssim(x: &Tensor, y: &Tensor, data_range: f64) -> Result<Tensor> {
    MsSsim::new(SsimConfig { data_range, ..SsimConfig::default() })?.forward(x, y)
}

//! SSIM exactly as `pytorch_msssim.ssim`.

use candle_core::Tensor;

use crate::check::image_pair;
use crate::error::{LossError, Result};
use crate::gaussian::{gaussian_window, SeparableFilter};

/// SSIM settings. The defaults are pytorch_msssim's (window 11, sigma 1.5, K = (0.01, 0.03))
/// with a data range of 1 (images in [0, 1]).
#[derive(Debug, Clone, PartialEq)]
pub struct SsimConfig {
    /// Length of the 1-D Gaussian window (odd).
    pub win_size: usize,
    /// Standard deviation of the Gaussian window, in pixels.
    pub win_sigma: f64,
    /// `K1` of `C1 = (K1 * data_range)^2`.
    pub k1: f64,
    /// `K2` of `C2 = (K2 * data_range)^2`.
    pub k2: f64,
    /// Value range of the images (1 for [0, 1], 255 for bytes).
    pub data_range: f64,
}

impl Default for SsimConfig {
    fn default() -> Self {
        Self { win_size: 11, win_sigma: 1.5, k1: 0.01, k2: 0.03, data_range: 1.0 }
    }
}

/// Per-channel SSIM statistics of a batch, both `(B, C)`.
#[derive(Debug, Clone)]
pub struct SsimStats {
    /// Mean of the SSIM map of each image and channel.
    pub ssim: Tensor,
    /// Mean of the contrast-structure map `cs = (2 s_xy + C2) / (s_xx + s_yy + C2)`.
    pub cs: Tensor,
}

/// Structural similarity, numerically equal to `pytorch_msssim.ssim` (within float rounding).
///
/// The Gaussian window is applied separably along H then W as a VALID correlation (no padding);
/// `mu = G*x`, `s_xx = G*(x x) - mu_x^2`, `s_xy = G*(x y) - mu_x mu_y`, and
/// `ssim_map = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) * cs_map`. No covariance correction.
///
/// Unlike pytorch_msssim, which silently skips the filter along an axis shorter than the window,
/// images smaller than the window are rejected with [`LossError::ImageTooSmall`].
///
/// ```
/// # use candle_core::{Device, Tensor};
/// use wno_losses::{Ssim, SsimConfig};
/// let ssim = Ssim::new(SsimConfig::default())?;
/// let x = Tensor::rand(0f32, 1., (2, 3, 16, 16), &Device::Cpu)?;
/// let same = ssim.forward(&x, &x)?.to_scalar::<f32>()?;
/// assert!((same - 1.0).abs() < 1e-5);
/// let loss = ssim.loss(&x, &x.affine(0.5, 0.25)?)?; // 1 - SSIM, differentiable
/// assert!(loss.to_scalar::<f32>()? > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ssim {
    cfg: SsimConfig,
    window: Vec<f32>,
}

impl Ssim {
    /// Validates the configuration and builds the window.
    pub fn new(cfg: SsimConfig) -> Result<Self> {
        let bad = |reason: String| Err(LossError::InvalidConfig { op: "SsimConfig", reason });
        if cfg.win_size == 0 || cfg.win_size % 2 == 0 {
            return bad(format!("win_size must be odd, got {}", cfg.win_size));
        }
        if !(cfg.win_sigma.is_finite() && cfg.win_sigma > 0.0) {
            return bad(format!("win_sigma must be positive, got {}", cfg.win_sigma));
        }
        if !(cfg.data_range.is_finite() && cfg.data_range > 0.0) {
            return bad(format!("data_range must be positive, got {}", cfg.data_range));
        }
        if !(cfg.k1.is_finite() && cfg.k1 > 0.0 && cfg.k2.is_finite() && cfg.k2 > 0.0) {
            return bad(format!("k1 and k2 must be positive, got {} and {}", cfg.k1, cfg.k2));
        }
        let window = gaussian_window(cfg.win_size, cfg.win_sigma as f32);
        Ok(Self { cfg, window })
    }

    /// The configuration this instance was built with.
    pub fn config(&self) -> &SsimConfig {
        &self.cfg
    }

    /// Per-image, per-channel SSIM and contrast-structure means of two `(B, C, H, W)` batches.
    ///
    /// Both sides must be at least `win_size` pixels.
    pub fn stats(&self, x: &Tensor, y: &Tensor) -> Result<SsimStats> {
        self.stats_for("ssim", x, y)
    }

    pub(crate) fn stats_for(&self, op: &'static str, x: &Tensor, y: &Tensor) -> Result<SsimStats> {
        let (b, c, h, w) = image_pair(op, x, y)?;
        let k = self.cfg.win_size;
        if h < k || w < k {
            return Err(LossError::ImageTooSmall {
                op,
                height: h,
                width: w,
                needed: format!(
                    "height and width must be at least the Gaussian window size {k}"
                ),
            });
        }
        let c1 = (self.cfg.k1 * self.cfg.data_range).powi(2);
        let c2 = (self.cfg.k2 * self.cfg.data_range).powi(2);
        // All five filtered statistics in one pass: (5 * B * C, H, W).
        let stacked = Tensor::cat(&[x, y, &(x * x)?, &(y * y)?, &(x * y)?], 0)?;
        let filtered = SeparableFilter::new(&self.window)
            .apply(&stacked.reshape((5 * b * c, h, w))?)?
            .reshape((5, b, c, (h + 1 - k) * (w + 1 - k)))?;
        let mu1 = filtered.get(0)?;
        let mu2 = filtered.get(1)?;
        let mu1_sq = mu1.sqr()?;
        let mu2_sq = mu2.sqr()?;
        let mu1_mu2 = (&mu1 * &mu2)?;
        let sigma1_sq = (filtered.get(2)? - &mu1_sq)?;
        let sigma2_sq = (filtered.get(3)? - &mu2_sq)?;
        let sigma12 = (filtered.get(4)? - &mu1_mu2)?;
        let cs_map = (sigma12.affine(2.0, c2)? / (sigma1_sq + sigma2_sq)?.affine(1.0, c2)?)?;
        let lum = (mu1_mu2.affine(2.0, c1)? / (mu1_sq + mu2_sq)?.affine(1.0, c1)?)?;
        let ssim_map = (lum * &cs_map)?;
        Ok(SsimStats { ssim: ssim_map.mean(2)?, cs: cs_map.mean(2)? })
    }

    /// SSIM of each image, `(B,)`: the per-channel means averaged over channels
    /// (pytorch_msssim's `size_average=False`).
    pub fn per_image(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.stats(x, y)?.ssim.mean(1)?)
    }

    /// Mean SSIM over the map, the channels and the batch (a scalar; `size_average=True`).
    pub fn forward(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.stats(x, y)?.ssim.mean_all()?)
    }

    /// The training loss `1 - SSIM(pred, target)` (a scalar).
    pub fn loss(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.forward(pred, target)?.affine(-1.0, 1.0)?)
    }
}

/// SSIM with the default window and constants and the given data range: a scalar tensor,
/// the mean over map, channels and batch (see [`Ssim`]).
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let x = Tensor::rand(0f32, 1., (1, 3, 32, 32), &Device::Cpu)?;
/// let s = wno_losses::ssim(&x, &(1.0 - &x)?, 1.0)?.to_scalar::<f32>()?;
/// assert!(s < 0.0); // anti-correlated
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ssim(x: &Tensor, y: &Tensor, data_range: f64) -> Result<Tensor> {
    Ssim::new(SsimConfig { data_range, ..SsimConfig::default() })?.forward(x, y)
}

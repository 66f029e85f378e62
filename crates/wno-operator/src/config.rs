//! Generator configuration (serialisable with serde, e.g. as JSON beside the weights).

use crate::error::{OperatorError, Result};
use serde::{Deserialize, Serialize};

/// What feeds the 3 skip channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SkipMode {
    /// The root canvas (the 4x4 image the recursion starts from), nearest-upsampled to the
    /// current size, in training and sampling alike (the default).
    #[default]
    Root,
    /// Zeros: what the original code fed at validation and sampling (seed-compatible).
    Zeros,
}

/// Per-level noise standard deviations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigmaSchedule {
    /// Geometric from `start` (first transition) to `end` (last transition).
    Geometric {
        /// Sigma of the first transition.
        start: f64,
        /// Sigma of the last transition.
        end: f64,
    },
    /// One value per transition, coarsest first.
    Explicit(Vec<f64>),
}

impl Default for SigmaSchedule {
    fn default() -> Self {
        SigmaSchedule::Geometric { start: 0.4, end: 0.05 }
    }
}

impl SigmaSchedule {
    /// The sigmas of `levels` transitions, coarsest first. A geometric schedule over one level
    /// is `[start]`.
    ///
    /// ```
    /// let s = wno_operator::SigmaSchedule::default().sigmas(4).unwrap();
    /// assert!((s[1] - 0.2).abs() < 1e-12 && (s[3] - 0.05).abs() < 1e-12);
    /// ```
    ///
    /// # Errors
    /// [`OperatorError::Config`] for an explicit schedule of another length, or negative /
    /// non-finite values.
    pub fn sigmas(&self, levels: usize) -> Result<Vec<f64>> {
        let s = match self {
            SigmaSchedule::Geometric { start, end } => {
                if *start <= 0.0 || *end <= 0.0 {
                    // A geometric schedule needs positive ends; zero noise is Explicit(vec![0.0; n]).
                    return Err(OperatorError::Config(format!(
                        "geometric sigma schedule needs positive ends, got {start} -> {end}; use an explicit schedule for zeros"
                    )));
                }
                (0..levels)
                    .map(|l| if levels == 1 { *start } else { start * (end / start).powf(l as f64 / (levels - 1) as f64) })
                    .collect()
            }
            SigmaSchedule::Explicit(v) => {
                if v.len() != levels {
                    return Err(OperatorError::Config(format!("explicit sigma schedule has {} values for {levels} levels", v.len())));
                }
                v.clone()
            }
        };
        if s.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(OperatorError::Config(format!("sigmas must be finite and >= 0, got {s:?}")));
        }
        Ok(s)
    }
}

/// Configuration of the scale-recursive generator (DESIGN.md section 1).
///
/// The default is the architecture of the original checkpoint (width 192, 6 layers, 4 noise
/// channels, coordinates and skip channels) with this project's decisions (training noise on,
/// skip = root canvas).
///
/// ```
/// let cfg = wno_operator::Config { width: 64, layers: 4, ..Default::default() };
/// assert_eq!(cfg.in_channels(), 12);
/// assert_eq!(cfg.groups(), 4);
/// let json = serde_json::to_string(&cfg).unwrap();
/// assert_eq!(serde_json::from_str::<wno_operator::Config>(&json).unwrap(), cfg);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Hidden channels.
    pub width: usize,
    /// Number of blocks (all share one wavelet conv).
    pub layers: usize,
    /// Noise input channels.
    pub noise_channels: usize,
    /// Whether the 2 coordinate channels (x then y, `linspace(-1, 1)`) are inputs.
    pub coords: bool,
    /// Whether the 3 skip channels are inputs.
    pub skip: bool,
    /// Scale of the summed block paths before the residual add (0.5 in the original).
    pub residual_scale: f64,
    /// GroupNorm groups; `None` = `max(1, min(8, width / 16))`.
    pub norm_groups: Option<usize>,
    /// GroupNorm epsilon.
    pub norm_eps: f64,
    /// Side of the root canvas the recursion starts from.
    pub root_size: usize,
    /// Side of the final image (a power-of-two multiple of `root_size`).
    pub target_size: usize,
    /// Noise sigma per transition (sampling, and training when `train_noise`).
    pub sigmas: SigmaSchedule,
    /// Feed noise with the sigma schedule in training too (the original fed zeros).
    pub train_noise: bool,
    /// What feeds the skip channels.
    pub skip_mode: SkipMode,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            width: 192,
            layers: 6,
            noise_channels: 4,
            coords: true,
            skip: true,
            residual_scale: 0.5,
            norm_groups: None,
            norm_eps: 1e-5,
            root_size: 4,
            target_size: 64,
            sigmas: SigmaSchedule::default(),
            train_noise: true,
            skip_mode: SkipMode::Root,
        }
    }
}

impl Config {
    /// The original code's behaviour with the original checkpoint's architecture: no training
    /// noise and zeros in the skip channels at sampling.
    pub fn original() -> Self {
        Self { train_noise: false, skip_mode: SkipMode::Zeros, ..Self::default() }
    }

    /// Input channels of `in_proj`: image (3) + noise + coordinates (2) + skip (3).
    pub fn in_channels(&self) -> usize {
        3 + self.noise_channels + if self.coords { 2 } else { 0 } + if self.skip { 3 } else { 0 }
    }

    /// GroupNorm groups: `norm_groups`, or `max(1, min(8, width / 16))`.
    pub fn groups(&self) -> usize {
        self.norm_groups.unwrap_or_else(|| (self.width / 16).clamp(1, 8))
    }

    /// Number of 2x transitions from `root_size` to `target_size`.
    ///
    /// # Errors
    /// [`OperatorError::Config`] unless `target_size` is `root_size * 2^k`.
    pub fn levels(&self) -> Result<usize> {
        levels_between(self.root_size, self.target_size)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`OperatorError::Config`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(OperatorError::Config(m));
        if self.width == 0 {
            return bad("width must be at least 1".into());
        }
        let g = self.groups();
        if g == 0 || self.width % g != 0 {
            return bad(format!("width {} is not divisible into {g} GroupNorm groups", self.width));
        }
        if !(self.residual_scale.is_finite() && self.norm_eps.is_finite() && self.norm_eps >= 0.0) {
            return bad(format!("residual_scale {} and norm_eps {} must be finite (eps >= 0)", self.residual_scale, self.norm_eps));
        }
        self.sigmas.sigmas(self.levels()?)?;
        Ok(())
    }
}

/// Number of 2x transitions from `from` to `to`.
///
/// # Errors
/// [`OperatorError::Config`] unless `to = from * 2^k` with `from >= 1`.
pub fn levels_between(from: usize, to: usize) -> Result<usize> {
    if from == 0 || to < from || to % from != 0 || !(to / from).is_power_of_two() {
        return Err(OperatorError::Config(format!("size {to} is not a power-of-two multiple of {from}")));
    }
    Ok((to / from).trailing_zeros() as usize)
}

//! Multi-level decomposition (`wavedec2`) and reconstruction (`waverec2`).

use crate::band::Band;
use crate::error::{Result, WaveletError};
use crate::ops::{dwt2d, idwt2d};
use crate::validate::{check_bands, check_float, fits};
use candle_core::Tensor;

/// A `J`-level 2-D Haar decomposition.
///
/// `details[0]` is the finest level (like pytorch_wavelets' `yh[0]`; pywt lists the coarsest
/// first), each `(B, C, 3, h_j, w_j)` with bands LH, HL, HH on dim 2. `approx` is the coarsest
/// LL, `(B, C, h_J, w_J)`. `sizes[j]` is the `(H, W)` that level `j` was computed from, which
/// the reconstruction crops back to.
#[derive(Clone, Debug)]
pub struct WaveletPyramid {
    /// Coarsest approximation band, `(B, C, h_J, w_J)`.
    pub approx: Tensor,
    /// Detail bands per level, finest first, each `(B, C, 3, h_j, w_j)`.
    pub details: Vec<Tensor>,
    /// Input size of each level, finest first.
    pub sizes: Vec<(usize, usize)>,
}

impl WaveletPyramid {
    /// Number of levels `J`.
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// let x = Tensor::zeros((1, 1, 8, 8), candle_core::DType::F32, &Device::Cpu)?;
    /// assert_eq!(wavelet_ops::wavedec2(&x, 3)?.levels(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn levels(&self) -> usize {
        self.details.len()
    }
}

/// The most levels [`wavedec2`] and [`Dwt2d`] accept: every size a tensor can have reaches 1x1
/// within 63 levels, so more would only repeat 1x1 levels.
pub const MAX_LEVELS: usize = 64;

/// `J`-level 2-D Haar DWT of `x` `(B, C, H, W)`, mode `zero` (pywt's `wavedec2`).
///
/// Level `j + 1` is the one-level DWT of level `j`'s LL band. Every level is differentiable.
/// Levels may go on past 1x1 (as pywt allows), up to [`MAX_LEVELS`]: the approximation then
/// stays 1x1.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::randn(0f64, 1., (1, 2, 9, 12), &Device::Cpu)?;
/// let pyr = wavelet_ops::wavedec2(&x, 2)?;
/// assert_eq!(pyr.details[0].dims(), &[1, 2, 3, 5, 6]);
/// assert_eq!(pyr.approx.dims(), &[1, 2, 3, 3]);
/// let back = wavelet_ops::waverec2(&pyr)?;
/// assert!((back - &x)?.abs()?.max_all()?.to_scalar::<f64>()? < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`WaveletError::Pyramid`] when `levels` is 0 or above [`MAX_LEVELS`], otherwise as [`dwt2d`].
pub fn wavedec2(x: &Tensor, levels: usize) -> Result<WaveletPyramid> {
    const OP: &str = "wavedec2";
    check_levels(
        OP,
        levels,
        &format!(" (input shape {:?}, {:?})", x.dims(), x.dtype()),
    )?;
    check_float(OP, x, 4, "(B, C, H, W)")?;
    let mut approx = x.clone();
    let mut details = Vec::with_capacity(levels);
    let mut sizes = Vec::with_capacity(levels);
    for _ in 0..levels {
        let (_, _, h, w) = approx.dims4().map_err(WaveletError::candle(OP))?;
        sizes.push((h, w));
        let bands = dwt2d(&approx)?;
        // Narrowed views: the next level's kernel reads the strided LL band without a copy.
        details.push(
            bands
                .narrow(2, Band::LH.index(), 3)
                .map_err(WaveletError::candle(OP))?,
        );
        approx = bands
            .narrow(2, Band::LL.index(), 1)
            .and_then(|t| t.squeeze(2))
            .map_err(WaveletError::candle(OP))?;
    }
    Ok(WaveletPyramid {
        approx,
        details,
        sizes,
    })
}

/// `levels` must be in `1..=MAX_LEVELS`; `what` ends the message (the input, if any).
fn check_levels(op: &'static str, levels: usize, what: &str) -> Result<()> {
    if (1..=MAX_LEVELS).contains(&levels) {
        return Ok(());
    }
    Err(WaveletError::Pyramid {
        op,
        reason: format!("levels must be in 1..={MAX_LEVELS}, got {levels}{what}"),
    })
}

/// Reconstruction from a [`WaveletPyramid`] (pywt's `waverec2`), cropping each level back to its
/// recorded size. `waverec2(&wavedec2(x, J)?)` equals `x` up to rounding.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::randn(0f32, 1., (2, 1, 16, 16), &Device::Cpu)?;
/// let y = wavelet_ops::waverec2(&wavelet_ops::wavedec2(&x, 4)?)?;
/// assert_eq!(y.dims(), x.dims());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`WaveletError::Pyramid`] when the parts do not fit together (level counts, dtypes, devices,
/// batch/channel or band sizes, or a recorded size the bands cannot reconstruct), naming the
/// level; rank, dtype and band-axis errors as for [`idwt2d`]. Everything is checked before any
/// computation.
pub fn waverec2(pyramid: &WaveletPyramid) -> Result<Tensor> {
    const OP: &str = "waverec2";
    let WaveletPyramid {
        approx,
        details,
        sizes,
    } = pyramid;
    let at = format!(
        " (approximation shape {:?}, {:?})",
        approx.dims(),
        approx.dtype()
    );
    if details.len() != sizes.len() {
        return Err(WaveletError::Pyramid {
            op: OP,
            reason: format!(
                "need one size per detail level, got {} details and {} sizes{at}",
                details.len(),
                sizes.len()
            ),
        });
    }
    check_levels(OP, details.len(), &at)?;
    check_float(OP, approx, 4, "(B, C, h, w)")?;
    // The approximation each level starts from: its shape, coarsest level first.
    let mut a = approx.dims().to_vec();
    for (level, (detail, &(h, w))) in details.iter().zip(sizes).enumerate().rev() {
        check_float(OP, detail, 5, "(B, C, 3, h, w)")?;
        check_bands(OP, detail, 3, "LH, HL, HH")?;
        let d = detail.dims();
        let misfit = if detail.dtype() != approx.dtype() {
            Some(format!(
                "dtype {:?} differs from the approximation's",
                detail.dtype()
            ))
        } else if !detail.device().same_device(approx.device()) {
            Some(format!(
                "device {:?} differs from the approximation's ({:?})",
                detail.device().location(),
                approx.device().location()
            ))
        } else if d[0] != a[0] || d[1] != a[1] || d[3] != a[2] || d[4] != a[3] {
            Some(format!(
                "does not fit the approximation of shape {a:?} at this level"
            ))
        } else if !(fits(h, d[3]) && fits(w, d[4])) {
            Some(format!(
                "cannot reconstruct the recorded size {h}x{w} (height must be {} or {} and width {} or {})",
                2 * d[3] - 1,
                2 * d[3],
                2 * d[4] - 1,
                2 * d[4]
            ))
        } else {
            None
        };
        if let Some(why) = misfit {
            return Err(WaveletError::Pyramid {
                op: OP,
                reason: format!(
                    "level {level}: detail bands of shape {d:?} ({:?}) {why}{at}",
                    detail.dtype()
                ),
            });
        }
        a = vec![a[0], a[1], h, w];
    }
    let mut current = approx.clone();
    for (detail, &(h, w)) in details.iter().zip(sizes).rev() {
        let bands = Tensor::cat(
            &[
                &current.unsqueeze(2).map_err(WaveletError::candle(OP))?,
                detail,
            ],
            2,
        )
        .map_err(WaveletError::candle(OP))?;
        current = idwt2d(&bands, h, w)?;
    }
    Ok(current)
}

/// A reusable `J`-level transform, for code that holds the level count as configuration.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let dwt = wavelet_ops::Dwt2d::new(2)?;
/// let x = Tensor::ones((1, 3, 8, 8), candle_core::DType::F32, &Device::Cpu)?;
/// let pyr = dwt.forward(&x)?;
/// let y = dwt.inverse(&pyr)?;
/// assert_eq!(y.dims(), &[1, 3, 8, 8]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dwt2d {
    levels: usize,
}

impl Dwt2d {
    /// A transform with `levels` levels, `1..=MAX_LEVELS`.
    ///
    /// # Errors
    /// [`WaveletError::Pyramid`] when `levels` is 0 or above [`MAX_LEVELS`].
    pub fn new(levels: usize) -> Result<Self> {
        check_levels("Dwt2d::new", levels, "")?;
        Ok(Self { levels })
    }

    /// The number of levels.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// [`wavedec2`] with this transform's level count.
    ///
    /// # Errors
    /// As [`wavedec2`].
    pub fn forward(&self, x: &Tensor) -> Result<WaveletPyramid> {
        wavedec2(x, self.levels)
    }

    /// [`waverec2`] of a pyramid (its own level count is used).
    ///
    /// # Errors
    /// As [`waverec2`].
    pub fn inverse(&self, pyramid: &WaveletPyramid) -> Result<Tensor> {
        waverec2(pyramid)
    }
}

//! [`Pipeline`]: per-sample preprocessing, random horizontal flip, bicubic resize to the target
//! size, clamp to `[0, 1]`, small random affine.

use super::affine::Affine;
use super::bicubic::resize_bicubic;
use crate::data::planar::PlanarImage;
use crate::error::{Result, TrainerError};
use crate::rng::TrainRng;
use rand::Rng;

/// The random augmentation of training images (DESIGN.md section 2: flip, rotation up to
/// 8 degrees, translation up to 5%).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AugmentConfig {
    /// Flip left-right with probability 1/2.
    pub hflip: bool,
    /// Rotation drawn uniformly in `[-max, max]` degrees.
    pub max_rotation_deg: f32,
    /// Shift drawn uniformly in `[-max, max]` times the image side, per axis.
    pub max_translate: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            hflip: true,
            max_rotation_deg: 8.0,
            max_translate: 0.05,
        }
    }
}

/// Per-sample preprocessing: `flip? -> bicubic resize to target x target -> clamp [0,1] ->
/// affine?`. Without augmentation this is exactly the evaluation protocol's
/// `F.interpolate(x, target, mode="bicubic").clamp(0, 1)`. A non-square input is stretched to
/// the square target.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pipeline {
    /// Output side in pixels.
    pub target: usize,
    /// Random augmentation; `None` for evaluation.
    pub augment: Option<AugmentConfig>,
}

impl Pipeline {
    /// Resize only (evaluation).
    pub fn eval(target: usize) -> Self {
        Self {
            target,
            augment: None,
        }
    }

    /// Resize with the default training augmentation.
    pub fn train(target: usize) -> Self {
        Self {
            target,
            augment: Some(AugmentConfig::default()),
        }
    }

    /// Checks the target size and augmentation ranges.
    ///
    /// # Errors
    /// A zero target, or a negative, non-finite or too large range (rotation beyond 180
    /// degrees, translation beyond half the image).
    pub fn validate(&self) -> Result<()> {
        if self.target == 0 {
            return Err(TrainerError::invalid(
                "Pipeline",
                "target size must be positive",
            ));
        }
        if let Some(a) = &self.augment {
            let rot_ok =
                a.max_rotation_deg.is_finite() && (0.0..=180.0).contains(&a.max_rotation_deg);
            let tr_ok = a.max_translate.is_finite() && (0.0..=0.5).contains(&a.max_translate);
            if !rot_ok || !tr_ok {
                return Err(TrainerError::invalid(
                    "Pipeline",
                    format!(
                        "augmentation ranges must be finite with rotation in [0, 180] degrees and \
                         translation in [0, 0.5], got {} and {}",
                        a.max_rotation_deg, a.max_translate
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Processes one image, drawing its random parameters from `rng` (four draws when
    /// augmenting: flip, angle, x shift, y shift; none otherwise).
    ///
    /// ```
    /// use wno_trainer::data::{Pipeline, PlanarImage};
    /// use wno_trainer::rng::TrainRng;
    /// let img = PlanarImage::new(32, 32, vec![0.5; 3 * 32 * 32]).unwrap();
    /// let out = Pipeline::train(64).apply(&img, &mut TrainRng::seed_from_u64(0)).unwrap();
    /// assert_eq!((out.height(), out.width()), (64, 64));
    /// assert!(out.data().iter().all(|&v| (v - 0.5).abs() < 1e-6));
    /// ```
    ///
    /// # Errors
    /// An invalid pipeline (see [`Pipeline::validate`]).
    pub fn apply(&self, img: &PlanarImage, rng: &mut TrainRng) -> Result<PlanarImage> {
        self.validate()?;
        let (flip, affine) = match &self.augment {
            Some(a) => {
                let flip = rng.random::<f32>() < 0.5 && a.hflip;
                let mut sym = |max: f32| (2.0 * rng.random::<f32>() - 1.0) * max;
                let angle_deg = sym(a.max_rotation_deg);
                let t = self.target as f32;
                let tx = sym(a.max_translate) * t;
                let ty = sym(a.max_translate) * t;
                (flip, Some(Affine { angle_deg, tx, ty }))
            }
            None => (false, None),
        };
        let flipped;
        let src = if flip {
            flipped = flip_horizontal(img);
            &flipped
        } else {
            img
        };
        let mut out = if (src.height(), src.width()) == (self.target, self.target) {
            src.clone()
        } else {
            resize_bicubic(src, self.target, self.target)?
        };
        out.clamp01();
        Ok(match affine {
            Some(a) => a.apply(&out),
            None => out,
        })
    }
}

/// Mirrors the image left-right.
///
/// ```
/// use wno_trainer::data::{flip_horizontal, PlanarImage};
/// let img = PlanarImage::new(1, 2, vec![1., 2., 3., 4., 5., 6.]).unwrap();
/// assert_eq!(flip_horizontal(&img).data(), &[2., 1., 4., 3., 6., 5.]);
/// ```
pub fn flip_horizontal(img: &PlanarImage) -> PlanarImage {
    let mut out = img.clone();
    let w = img.width();
    for row in out.data_mut().chunks_mut(w) {
        row.reverse();
    }
    out
}

//! [`Objective`]: the generator loss of DESIGN.md section 2 over the predictions of every level.

use super::config::LossWeights;
use crate::error::{Result, TrainerError};
use candle_core::Tensor;
use wno_critic::{generator_hinge_loss, PatchGan};
use wno_losses::{gradient_l1, l1, laplacian_l1, Lpips, Perceptual, Ssim, SsimConfig};

/// Band-pass levels of the Laplacian-pyramid term (64, 32, 16 plus the 8x8 remainder).
pub const LAPLACIAN_LEVELS: usize = 3;

/// The frozen networks of the perceptual terms. Leave one `None` when its weight is 0.
#[derive(Default)]
pub struct LossNets {
    /// VGG16 up to relu3_3 for the perceptual L1.
    pub perceptual: Option<Perceptual>,
    /// LPIPS-VGG.
    pub lpips: Option<Lpips>,
}

/// The generator objective: `sum_l w_l L1(pred_l, gt_l)` plus the finest-level terms.
pub struct Objective {
    weights: LossWeights,
    ssim: Ssim,
    nets: LossNets,
}

/// One named term of the objective, already multiplied by its weight.
pub type Term = (String, Tensor);

impl Objective {
    /// An objective with `weights`. A perceptual or LPIPS weight above 0 needs its network in
    /// `nets`.
    ///
    /// # Errors
    /// Invalid weights, or a missing network.
    pub fn new(weights: LossWeights, nets: LossNets) -> Result<Self> {
        weights.validate()?;
        for (name, w, present) in [
            ("perceptual", weights.perceptual, nets.perceptual.is_some()),
            ("lpips", weights.lpips, nets.lpips.is_some()),
        ] {
            if w > 0.0 && !present {
                return Err(TrainerError::invalid(
                    "Objective::new",
                    format!("the {name} weight is {w} but no VGG16 weights were given (pass them, or set the weight to 0)"),
                ));
            }
        }
        Ok(Self { weights, ssim: Ssim::new(SsimConfig::default())?, nets })
    }

    /// The weights.
    pub fn weights(&self) -> &LossWeights {
        &self.weights
    }

    /// The weighted terms for predictions `preds[l]` against `targets[l]` (coarsest first, one
    /// per transition), with the critic's generator term when `critic` is given and the
    /// adversarial weight is above 0. Term names: `l1_{side}`, then for each fine level
    /// `{term}_{side}` for `ssim`, `gradient`, `laplacian`, `perceptual`, `lpips`, `adv`.
    ///
    /// # Errors
    /// Mismatched lengths or shapes, or images too small for a term (e.g. SSIM below 11x11).
    pub fn terms(&self, preds: &[Tensor], targets: &[Tensor], critic: Option<&PatchGan>) -> Result<Vec<Term>> {
        let w = &self.weights;
        if preds.len() != targets.len() || preds.len() != w.l1_levels.len() {
            return Err(TrainerError::invalid(
                "Objective::terms",
                format!("{} predictions, {} targets, {} level weights", preds.len(), targets.len(), w.l1_levels.len()),
            ));
        }
        let mut terms = Vec::new();
        for ((p, t), &wl) in preds.iter().zip(targets).zip(&w.l1_levels) {
            if wl > 0.0 {
                terms.push((format!("l1_{}", p.dim(3)?), (l1(p, &t.detach())? * wl)?));
            }
        }
        let first_fine = preds.len() - w.fine_levels;
        for (p, t) in preds[first_fine..].iter().zip(&targets[first_fine..]) {
            let side = p.dim(3)?;
            let t = t.detach();
            if w.ssim > 0.0 {
                terms.push((format!("ssim_{side}"), self.ssim.loss(p, &t)?.affine(w.ssim, 0.0)?));
            }
            if w.gradient > 0.0 {
                terms.push((format!("gradient_{side}"), (gradient_l1(p, &t)? * w.gradient)?));
            }
            if w.laplacian > 0.0 {
                terms.push((format!("laplacian_{side}"), (laplacian_l1(p, &t, LAPLACIAN_LEVELS)? * w.laplacian)?));
            }
            let k = w.vgg_images.unwrap_or(usize::MAX).min(p.dim(0)?);
            let (pv, tv) = (p.narrow(0, 0, k)?, t.narrow(0, 0, k)?);
            if let (true, Some(net)) = (w.perceptual > 0.0, &self.nets.perceptual) {
                terms.push((format!("perceptual_{side}"), (net.loss(&pv, &tv)? * w.perceptual)?));
            }
            if let (true, Some(net)) = (w.lpips > 0.0, &self.nets.lpips) {
                terms.push((format!("lpips_{side}"), (net.loss(&pv, &tv)? * w.lpips)?));
            }
            if let (true, Some(d)) = (w.adversarial > 0.0, critic) {
                if p.dim(3)? == preds[preds.len() - 1].dim(3)? {
                    terms.push((format!("adv_{side}"), (generator_hinge_loss(&d.forward_frozen(p)?)? * w.adversarial)?));
                }
            }
        }
        Ok(terms)
    }
}

/// The sum of the terms (a scalar tensor).
///
/// # Errors
/// An empty list, or candle errors.
pub fn total(terms: &[Term]) -> Result<Tensor> {
    let mut it = terms.iter();
    let first = it.next().ok_or_else(|| TrainerError::invalid("objective::total", "every loss weight is 0: nothing to train"))?;
    it.try_fold(first.1.clone(), |acc, (_, t)| Ok((acc + t)?))
}

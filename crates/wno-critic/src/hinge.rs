//! Hinge GAN losses.

use candle_core::Tensor;

use crate::error::{CriticError, Result};

fn check(op: &'static str, t: &Tensor) -> Result<()> {
    if t.elem_count() == 0 || !t.dtype().is_float() {
        return Err(CriticError::BadShape { op, expected: "a non-empty float tensor of logits".into(), got: t.dims().to_vec() });
    }
    Ok(())
}

/// Critic hinge loss `mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))` (a scalar).
///
/// Pass logits of *detached* generator samples as `fake_logits` (DESIGN.md §2: the critic
/// trains on detached samples). The two tensors may have different batch sizes.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let real = Tensor::new(&[2f32, 0.5], &Device::Cpu)?;  // relu(1 - .) = 0, 0.5
/// let fake = Tensor::new(&[-3f32, 1.0], &Device::Cpu)?; // relu(1 + .) = 0, 2
/// let l = wno_critic::critic_hinge_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert_eq!(l, 0.25 + 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn critic_hinge_loss(real_logits: &Tensor, fake_logits: &Tensor) -> Result<Tensor> {
    check("critic_hinge_loss", real_logits)?;
    check("critic_hinge_loss", fake_logits)?;
    let real = real_logits.affine(-1.0, 1.0)?.relu()?.mean_all()?;
    let fake = fake_logits.affine(1.0, 1.0)?.relu()?.mean_all()?;
    Ok((real + fake)?)
}

/// Generator hinge (adversarial) loss `-mean(D(fake))` (a scalar); gradients flow through the
/// critic into the generator, so do not detach `fake` here.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let fake = Tensor::new(&[1f32, -3.0], &Device::Cpu)?;
/// assert_eq!(wno_critic::generator_hinge_loss(&fake)?.to_scalar::<f32>()?, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generator_hinge_loss(fake_logits: &Tensor) -> Result<Tensor> {
    check("generator_hinge_loss", fake_logits)?;
    Ok(fake_logits.mean_all()?.neg()?)
}

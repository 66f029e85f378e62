//! Gradient-norm clipping, as PyTorch's `clip_grad_norm_`.

use crate::error::Result;
use candle_core::backprop::GradStore;
use candle_core::{DType, Var};

/// The global L2 norm of the gradients of `vars` (those without a gradient count as zero),
/// accumulated in f64.
///
/// # Errors
/// candle errors.
pub fn grad_norm<'a>(grads: &GradStore, vars: impl IntoIterator<Item = &'a Var>) -> Result<f64> {
    let mut sq = 0.0f64;
    for v in vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            sq += g
                .to_dtype(DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
    }
    Ok(sq.sqrt())
}

/// Scales the gradients of `vars` in place by `max_norm / (norm + 1e-6)` when their global
/// norm exceeds `max_norm` (PyTorch's `clip_grad_norm_`), and returns the norm before clipping.
/// A non-finite norm is returned unchanged and nothing is scaled (the caller stops the run).
///
/// ```
/// use candle_core::{Device, Var};
/// use wno_trainer::optim::clip_grad_norm;
/// let w = Var::new(&[0.0f32, 0.0], &Device::Cpu)?;
/// let loss = (w.as_tensor() * &candle_core::Tensor::new(&[3.0f32, 4.0], &Device::Cpu)?)?.sum_all()?;
/// let mut grads = loss.backward()?;
/// let norm = clip_grad_norm(&mut grads, [&w], 1.0)?;
/// assert!((norm - 5.0).abs() < 1e-9);
/// let g = grads.get(w.as_tensor()).unwrap().to_vec1::<f32>()?;
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// candle errors.
pub fn clip_grad_norm<'a>(
    grads: &mut GradStore,
    vars: impl IntoIterator<Item = &'a Var> + Clone,
    max_norm: f64,
) -> Result<f64> {
    let norm = grad_norm(grads, vars.clone())?;
    if norm.is_finite() && norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for v in vars {
            if let Some(g) = grads.get(v.as_tensor()) {
                let scaled = (g * scale)?;
                grads.insert(v.as_tensor(), scaled);
            }
        }
    }
    Ok(norm)
}

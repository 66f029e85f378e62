//! Pixel losses: mean absolute error and the Charbonnier (smooth L1) penalty.

use candle_core::Tensor;

use crate::check::same_shape;
use crate::error::{LossError, Result};

/// Mean absolute error `mean(|pred - target|)` over every element (PyTorch `F.l1_loss`).
///
/// Any shape, as long as both tensors share it and have a floating-point dtype. Returns a scalar
/// tensor.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let p = Tensor::new(&[1f32, 2., 3., 4.], &Device::Cpu)?;
/// let t = Tensor::new(&[1f32, 1., 5., 4.], &Device::Cpu)?;
/// let l = wno_losses::l1(&p, &t)?.to_scalar::<f32>()?;
/// assert_eq!(l, 0.75); // (0 + 1 + 2 + 0) / 4
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn l1(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    same_shape("l1", pred, target)?;
    Ok((pred - target)?.abs()?.mean_all()?)
}

/// Charbonnier penalty `mean(sqrt((pred - target)^2 + eps^2))`, a differentiable-everywhere L1.
///
/// `eps` must be positive and finite (1e-3 is the usual choice for images in [0, 1]). Note the
/// value does not subtract `eps`: identical inputs give `eps`, not 0.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// let p = Tensor::new(&[0f32, 3.], &Device::Cpu)?;
/// let t = Tensor::new(&[0f32, -1.], &Device::Cpu)?;
/// // (sqrt(0 + 9) + sqrt(16 + 9)) / 2 = (3 + 5) / 2
/// let l = wno_losses::charbonnier(&p, &t, 3.0)?.to_scalar::<f32>()?;
/// assert!((l - 4.0).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn charbonnier(pred: &Tensor, target: &Tensor, eps: f64) -> Result<Tensor> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(LossError::InvalidConfig {
            op: "charbonnier",
            reason: format!("eps must be positive and finite, got {eps}"),
        });
    }
    same_shape("charbonnier", pred, target)?;
    let d = (pred - target)?;
    Ok(d.sqr()?.affine(1.0, eps * eps)?.sqrt()?.mean_all()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    #[test]
    fn l1_and_charbonnier_by_hand() {
        let dev = Device::Cpu;
        let p = Tensor::new(&[[0.5f64, -1.0], [2.0, 0.25]], &dev).unwrap();
        let t = Tensor::new(&[[0.0f64, 1.0], [2.5, 0.25]], &dev).unwrap();
        let l = l1(&p, &t).unwrap().to_scalar::<f64>().unwrap();
        assert!((l - (0.5 + 2.0 + 0.5 + 0.0) / 4.0).abs() < 1e-15);
        let e = 0.1f64;
        let want = [0.5f64, 2.0, 0.5, 0.0]
            .iter()
            .map(|d| (d * d + e * e).sqrt())
            .sum::<f64>()
            / 4.0;
        let c = charbonnier(&p, &t, e).unwrap().to_scalar::<f64>().unwrap();
        assert!((c - want).abs() < 1e-15);
    }

    #[test]
    fn charbonnier_gradient_is_finite_at_zero_difference() {
        let dev = Device::Cpu;
        let v = Var::from_tensor(&Tensor::zeros(4, DType::F64, &dev).unwrap()).unwrap();
        let t = Tensor::zeros(4, DType::F64, &dev).unwrap();
        let g = charbonnier(v.as_tensor(), &t, 1e-3).unwrap().backward().unwrap();
        let g = g.get(v.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
        assert!(g.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn rejects_bad_eps_and_shapes() {
        let dev = Device::Cpu;
        let a = Tensor::zeros(3, DType::F32, &dev).unwrap();
        let b = Tensor::zeros(4, DType::F32, &dev).unwrap();
        assert!(matches!(l1(&a, &b), Err(LossError::ShapeMismatch { op: "l1", .. })));
        assert!(matches!(
            charbonnier(&a, &a, 0.0),
            Err(LossError::InvalidConfig { .. })
        ));
        assert!(charbonnier(&a, &a, f64::NAN).is_err());
    }
}

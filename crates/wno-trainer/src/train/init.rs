//! Seeded re-initialisation of freshly built parameters with PyTorch's default layer init.

use crate::error::Result;
use crate::rng::TrainRng;
use candle_core::{Device, Tensor, Var};
use rand::Rng;

/// Redraws every conv/linear parameter of `params` as PyTorch's default initialisation does
/// (`kaiming_uniform(a = sqrt(5))` for weights and `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for
/// biases: both are uniform with bound `1/sqrt(fan_in)`), from `rng`, in the order of `params`.
/// `X.weight` of rank >= 2 gives `fan_in = prod(shape[1..])`, and `X.bias` takes the fan-in of
/// its `X.weight`. Rank-1 weights (GroupNorm) and biases without a conv weight keep their
/// values. candle's own random initialisation cannot be seeded; this makes a run's start a
/// function of its seed.
///
/// ```
/// use candle_core::{Device, Var};
/// use wno_trainer::{rng::TrainRng, train::reinit_uniform};
/// let w = Var::zeros((4, 9, 1, 1), candle_core::DType::F32, &Device::Cpu)?;
/// let b = Var::zeros(4, candle_core::DType::F32, &Device::Cpu)?;
/// let params = vec![("c.bias".to_string(), b.clone()), ("c.weight".to_string(), w.clone())];
/// reinit_uniform(&params, &mut TrainRng::seed_from_u64(0))?;
/// let max = w.as_tensor().abs()?.max_all()?.to_scalar::<f32>()?;
/// assert!(max > 0.0 && max <= 1.0 / 3.0); // bound 1/sqrt(9)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// candle errors.
pub fn reinit_uniform(params: &[(String, Var)], rng: &mut TrainRng) -> Result<()> {
    let fan_in = |weight_name: &str| -> Option<usize> {
        params
            .iter()
            .find(|(n, v)| n == weight_name && v.rank() >= 2)
            .map(|(_, v)| v.dims()[1..].iter().product::<usize>().max(1))
    };
    for (name, var) in params {
        let fan = if name.ends_with(".weight") {
            fan_in(name)
        } else if let Some(stem) = name.strip_suffix(".bias") {
            fan_in(&format!("{stem}.weight"))
        } else {
            None
        };
        let Some(fan) = fan else { continue };
        let bound = 1.0 / (fan as f64).sqrt();
        let v: Vec<f32> = (0..var.elem_count()).map(|_| rng.random_range(-bound..bound) as f32).collect();
        let t = Tensor::from_vec(v, var.dims(), &Device::Cpu)?.to_dtype(var.dtype())?.to_device(var.device())?;
        var.set(&t)?;
    }
    Ok(())
}

//! Exact (erf) GELU, `x * Phi(x)`, as a fused CPU custom op with an exact backward.
//!
//! candle's `gelu_erf` is exact in its forward but evaluates the erf per element with libm and
//! builds its backward from about ten tensor ops (with `1/sqrt(2 pi)` rounded to 0.398942). The
//! op here is one vectorised pass forward and one backward. On other devices [`gelu`] uses
//! candle's `gelu_erf`.

use super::gelu_cpu::GeluElem;
use super::real::{slice, unsupported, BackendStorage as _};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Tensor};

/// Forward op `x -> x * Phi(x)`.
#[derive(Clone, Copy, Debug)]
struct Gelu;

/// Backward op `(x, g) -> g * GELU'(x)`.
#[derive(Clone, Copy, Debug)]
struct GeluGrad;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match s {
            CpuStorage::F32(_) => CpuStorage::F32(f32::gelu(slice(self.name(), s, l)?)),
            CpuStorage::F64(_) => CpuStorage::F64(f64::gelu(slice(self.name(), s, l)?)),
            _ => return Err(unsupported(self.name(), s.dtype())),
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(arg.apply_op2_no_bwd(&g.contiguous()?, &GeluGrad)?))
    }
}

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "gelu-erf-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                CpuStorage::F32(f32::gelu_grad(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?))
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                CpuStorage::F64(f64::gelu_grad(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?))
            }
            _ => return Err(unsupported(self.name(), s1.dtype())),
        };
        Ok((out, l1.shape().clone()))
    }
}

/// Exact GELU `x * (1 + erf(x / sqrt 2)) / 2` (PyTorch's default `nn.GELU()`), differentiable.
///
/// On CPU with f32/f64 this is a fused custom op (f32 within a few ulps of the exact function,
/// f64 to double precision, backward exact); on other devices or dtypes it is candle's
/// `gelu_erf`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[-1f32, 0., 1.], &Device::Cpu)?;
/// let y = wno_operator::ops::gelu(&x)?.to_vec1::<f32>()?;
/// assert!((y[2] - 0.841_344_7).abs() < 1e-6 && (y[0] + 0.158_655_3).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Only candle errors (e.g. a non-float dtype on the fallback path).
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) {
        Ok(x.contiguous()?.apply_op1(Gelu)?)
    } else {
        x.gelu_erf().map_err(OperatorError::from)
    }
}

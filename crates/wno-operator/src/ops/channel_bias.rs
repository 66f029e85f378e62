//! Adding a per-channel bias to `(B, C, L)` activations, with a multi-threaded bias gradient.
//!
//! candle's `broadcast_add` computes the bias gradient with a generic single-threaded strided
//! reduction over the batch and pixel dimensions; this op reduces each contiguous `(b, c)` row
//! with a vectorised sum instead, and passes the input gradient through without a copy.

use super::real::{slice, sum, unsupported, BackendStorage as _, Real};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Forward op `(x, bias) -> x + bias[c]`.
#[derive(Clone, Copy, Debug)]
struct AddBias;

/// Bias-gradient op `g -> sum over (B, L) of g`, per channel.
#[derive(Clone, Copy, Debug)]
struct BiasGrad {
    channels: usize,
}

fn add_bias<T: Real>(x: &[T], bias: &[T], l: usize) -> Vec<T> {
    let c = bias.len();
    let mut out = vec![T::default(); x.len()];
    out.par_chunks_mut(l).zip(x.par_chunks(l)).enumerate().with_min_len((16_384 / l.max(1)).max(1)).for_each(|(r, (o, xr))| {
        let b = bias[r % c];
        for (o, &v) in o.iter_mut().zip(xr) {
            *o = v + b;
        }
    });
    out
}

fn bias_grad<T: Real>(g: &[T], c: usize, l: usize) -> Vec<T> {
    let rows: Vec<f64> = g.par_chunks(l).with_min_len((16_384 / l.max(1)).max(1)).map(|r| sum(r).f64()).collect();
    let mut acc = vec![0f64; c];
    for (r, v) in rows.iter().enumerate() {
        acc[r % c] += v;
    }
    acc.into_iter().map(T::c).collect()
}

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "add-channel-bias"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let l: usize = l1.dims()[2..].iter().product();
        let n = self.name();
        let out = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => CpuStorage::F32(add_bias(slice(n, s1, l1)?, slice(n, s2, l2)?, l)),
            (CpuStorage::F64(_), CpuStorage::F64(_)) => CpuStorage::F64(add_bias(slice(n, s1, l1)?, slice(n, s2, l2)?, l)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, bias: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let gb = g.contiguous()?.apply_op1_no_bwd(&BiasGrad { channels: bias.elem_count() })?;
        Ok((Some(g.clone()), Some(gb)))
    }
}

impl CustomOp1 for BiasGrad {
    fn name(&self) -> &'static str {
        "add-channel-bias-grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let len: usize = l.dims()[2..].iter().product();
        let n = self.name();
        let c = self.channels;
        let out = match s {
            CpuStorage::F32(_) => CpuStorage::F32(bias_grad(slice::<f32>(n, s, l)?, c, len)),
            CpuStorage::F64(_) => CpuStorage::F64(bias_grad(slice::<f64>(n, s, l)?, c, len)),
            _ => return Err(unsupported(n, s.dtype())),
        };
        Ok((out, Shape::from(c)))
    }
}

/// `x + bias` with `x` `(B, C, *)` and `bias` `(C,)` broadcast over the batch and the trailing
/// dimensions; differentiable in both. On CPU with f32/f64 a fused op (fast bias gradient);
/// otherwise candle's `broadcast_add`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::zeros((2, 3, 4), candle_core::DType::F32, &Device::Cpu)?;
/// let b = Tensor::new(&[1f32, 2., 3.], &Device::Cpu)?;
/// let y = wno_operator::ops::add_channel_bias(&x, &b)?;
/// assert_eq!(y.get(1)?.get(2)?.to_vec1::<f32>()?, vec![3.; 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OperatorError::Shape`] unless `x` has rank >= 2 and `bias` is `(C,)`.
pub fn add_channel_bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    const OP: &str = "add_channel_bias";
    if x.rank() < 2 {
        return Err(OperatorError::shape(OP, "input (B, C, *) of rank >= 2", x));
    }
    let c = x.dim(1)?;
    if bias.dims() != [c] {
        return Err(OperatorError::shape(OP, format!("bias ({c},)"), bias));
    }
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) && bias.dtype() == x.dtype() {
        Ok(x.contiguous()?.apply_op2(&bias.contiguous()?, AddBias)?)
    } else {
        let mut shape = vec![1usize; x.rank()];
        shape[1] = c;
        Ok(x.broadcast_add(&bias.reshape(shape)?)?)
    }
}

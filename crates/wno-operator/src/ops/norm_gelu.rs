//! The block epilogue `gelu(group_norm(h + s * p))` as one fused CPU op: one pass forward, one
//! backward (recomputing the normalised values instead of storing them), so the autograd graph
//! holds one node instead of four full-size intermediates.

use super::gelu_cpu::GeluElem;
use super::group_norm_cpu::{Dims, GroupNormElem};
use super::real::{slice, unsupported, BackendStorage as _};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Forward op `(h, p, [gamma; beta]) -> gelu(GN(h + scale * p))`.
#[derive(Clone, Copy, Debug)]
struct NormGelu {
    scale: f64,
    groups: usize,
    eps: f64,
}

/// Backward op `(pre, [gamma; beta], g) -> [d pre (n), d gamma (C), d beta (C)]` with
/// `pre = h + scale * p`.
#[derive(Clone, Copy, Debug)]
struct NormGeluGrad {
    groups: usize,
    eps: f64,
}

fn dims(l: &Layout, groups: usize, eps: f64) -> Dims {
    let d = l.dims();
    Dims { channels: d[1], groups, hw: d[2..].iter().product(), eps }
}

trait Elem: GroupNormElem + GeluElem {}
impl Elem for f32 {}
impl Elem for f64 {}

fn forward<T: Elem>(h: &[T], p: &[T], gb: &[T], scale: f64, d: Dims) -> Vec<T> {
    let (c, cg, hw) = (d.channels, d.channels / d.groups, d.hw);
    let len = cg * hw;
    let s = T::c(scale);
    let mut out = vec![T::default(); h.len()];
    out.par_chunks_mut(len).zip(h.par_chunks(len).zip(p.par_chunks(len))).enumerate().for_each(|(i, (o, (hg, pg)))| {
        let c0 = (i % d.groups) * cg;
        let pre: Vec<T> = hg.iter().zip(pg).map(|(&a, &b)| a + s * b).collect();
        let mut z = vec![T::default(); len];
        T::group_fwd(&pre, &gb[c0..c0 + cg], &gb[c + c0..c + c0 + cg], hw, d.eps, &mut z);
        T::gelu_slice(&z, o);
    });
    out
}

fn backward<T: Elem>(pre: &[T], gb: &[T], g: &[T], d: Dims) -> Vec<T> {
    let (c, cg, hw, n) = (d.channels, d.channels / d.groups, d.hw, pre.len());
    let len = cg * hw;
    let mut out = vec![T::default(); n + 2 * c];
    let (gx, params) = out.split_at_mut(n);
    let partial: Vec<Vec<f64>> = gx
        .par_chunks_mut(len)
        .zip(pre.par_chunks(len).zip(g.par_chunks(len)))
        .enumerate()
        .map(|(i, (gxg, (xg, gg)))| {
            let c0 = (i % d.groups) * cg;
            let gamma = &gb[c0..c0 + cg];
            let mut z = vec![T::default(); len];
            T::group_fwd(xg, gamma, &gb[c + c0..c + c0 + cg], hw, d.eps, &mut z);
            let mut gz = vec![T::default(); len];
            T::gelu_grad_slice(&z, gg, &mut gz);
            T::group_bwd(xg, gamma, &gz, hw, d.eps, gxg)
        })
        .collect();
    let mut acc = vec![0f64; 2 * c];
    for (i, part) in partial.iter().enumerate() {
        let c0 = (i % d.groups) * cg;
        for (k, pair) in part.chunks(2).enumerate() {
            acc[c0 + k] += pair[0];
            acc[c + c0 + k] += pair[1];
        }
    }
    for (o, a) in params.iter_mut().zip(acc) {
        *o = T::c(a);
    }
    out
}

impl CustomOp3 for NormGelu {
    fn name(&self) -> &'static str {
        "residual-group-norm-gelu"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = dims(l1, self.groups, self.eps);
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, self.scale, d)),
            CpuStorage::F64(_) => CpuStorage::F64(forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, self.scale, d)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(&self, h: &Tensor, p: &Tensor, gb: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let pre = (h + p.affine(self.scale, 0.0)?)?;
        let flat = pre.apply_op3_no_bwd(gb, &g.contiguous()?, &NormGeluGrad { groups: self.groups, eps: self.eps })?;
        let (n, c2) = (h.elem_count(), gb.elem_count());
        let gpre = flat.narrow(0, 0, n)?.reshape(h.shape())?;
        let gp = gpre.affine(self.scale, 0.0)?;
        Ok((Some(gpre), Some(gp), Some(flat.narrow(0, n, c2)?)))
    }
}

impl CustomOp3 for NormGeluGrad {
    fn name(&self) -> &'static str {
        "residual-group-norm-gelu-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = dims(l1, self.groups, self.eps);
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(backward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            CpuStorage::F64(_) => CpuStorage::F64(backward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, Shape::from(l1.shape().elem_count() + 2 * d.channels)))
    }
}

/// `gelu(group_norm(h + scale * p, gamma, beta))`: the end of a W-NO block (residual add,
/// GroupNorm with `groups` groups and epsilon `eps`, exact GELU), differentiable in `h`, `p`,
/// `gamma` and `beta`. One fused op on CPU (f32/f64); elsewhere the composition of
/// [`super::group_norm`] and [`super::gelu`].
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// let h = Tensor::new(&[[[1f64, 2.], [3., 4.]]], &Device::Cpu)?; // (1, 2, 2)
/// let p = h.ones_like()?;
/// let (g, b) = (Tensor::ones(2, DType::F64, &Device::Cpu)?, Tensor::zeros(2, DType::F64, &Device::Cpu)?);
/// let y = wno_operator::ops::residual_norm_gelu(&h, &p, &g, &b, 0.5, 1, 1e-5)?;
/// let pre = (&h + 0.5)?;
/// let want = wno_operator::ops::gelu(&wno_operator::ops::group_norm(&pre, &g, &b, 1, 1e-5)?)?;
/// assert!((y - want)?.abs()?.max_all()?.to_scalar::<f64>()? < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`super::group_norm`]; [`OperatorError::Shape`] when `p` differs from `h` in shape.
pub fn residual_norm_gelu(h: &Tensor, p: &Tensor, gamma: &Tensor, beta: &Tensor, scale: f64, groups: usize, eps: f64) -> Result<Tensor> {
    const OP: &str = "residual_norm_gelu";
    if p.dims() != h.dims() {
        return Err(OperatorError::shape(OP, format!("paths of the residual's shape {:?}", h.dims()), p));
    }
    let cpu_fused = h.device().is_cpu() && matches!(h.dtype(), DType::F32 | DType::F64) && p.dtype() == h.dtype();
    if !cpu_fused || h.rank() < 3 {
        return super::gelu(&super::group_norm(&(h + p.affine(scale, 0.0)?)?, gamma, beta, groups, eps)?);
    }
    let c = h.dim(1)?;
    if groups == 0 || c % groups != 0 {
        return Err(OperatorError::shape(OP, format!("a channel count divisible by groups = {groups}"), h));
    }
    for (name, t) in [("weight", gamma), ("bias", beta)] {
        if t.dims() != [c] || t.dtype() != h.dtype() {
            return Err(OperatorError::shape(OP, format!("{name} ({c},) of the input's dtype"), t));
        }
    }
    let gb = Tensor::cat(&[gamma, beta], 0)?;
    Ok(h.contiguous()?.apply_op3(&p.contiguous()?, &gb, NormGelu { scale, groups, eps })?)
}

//! GroupNorm (PyTorch `nn.GroupNorm`: biased variance, per-channel affine) as a fused CPU
//! custom op with a fused backward; other devices use candle-nn's `GroupNorm`.

use super::group_norm_cpu::{self as cpu, Dims};
use super::real::{slice, unsupported, BackendStorage as _};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};
use candle_nn::VarBuilder;

/// Forward op `(x, gamma, beta) -> y`.
#[derive(Clone, Copy, Debug)]
struct GroupNormOp {
    groups: usize,
    eps: f64,
}

/// Backward op `(x, gamma, g) -> [dx, dgamma, dbeta]` (one flat buffer).
#[derive(Clone, Copy, Debug)]
struct GroupNormGrad {
    groups: usize,
    eps: f64,
}

fn dims(l: &Layout, groups: usize, eps: f64) -> Dims {
    let d = l.dims();
    Dims { channels: d[1], groups, hw: d[2..].iter().product(), eps }
}

impl CustomOp3 for GroupNormOp {
    fn name(&self) -> &'static str {
        "group-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = dims(l1, self.groups, self.eps);
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(cpu::forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            CpuStorage::F64(_) => CpuStorage::F64(cpu::forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = GroupNormGrad { groups: self.groups, eps: self.eps };
        let flat = x.apply_op3_no_bwd(gamma, &g.contiguous()?, &op)?;
        let (n, c) = (x.elem_count(), gamma.elem_count());
        let gx = flat.narrow(0, 0, n)?.reshape(x.shape())?;
        let dgamma = flat.narrow(0, n, c)?;
        let dbeta = flat.narrow(0, n + c, c)?;
        Ok((Some(gx), Some(dgamma), Some(dbeta)))
    }
}

impl CustomOp3 for GroupNormGrad {
    fn name(&self) -> &'static str {
        "group-norm-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = dims(l1, self.groups, self.eps);
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(cpu::backward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            CpuStorage::F64(_) => CpuStorage::F64(cpu::backward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, d)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        let len = l1.shape().elem_count() + 2 * d.channels;
        Ok((out, Shape::from(len)))
    }
}

const OP: &str = "group_norm";

/// GroupNorm of `x` `(B, C, *)` with `groups` groups over `C` channels, per-channel `gamma`
/// and `beta` `(C,)`: `(x - mean) / sqrt(var + eps) * gamma + beta` with the biased variance of
/// each `(batch, group)`, as PyTorch's `nn.GroupNorm`. Differentiable in all three operands.
///
/// On CPU with f32/f64 this is one fused pass forward and one backward; otherwise it is
/// candle-nn's `GroupNorm`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[[1f32, 3.], [5., 7.]]], &Device::Cpu)?; // (1, 2, 2)
/// let one = Tensor::ones(2, candle_core::DType::F32, &Device::Cpu)?;
/// let y = wno_operator::ops::group_norm(&x, &one, &one.zeros_like()?, 1, 0.0)?;
/// let v = y.flatten_all()?.to_vec1::<f32>()?; // mean 4, std sqrt(5)
/// assert!((v[0] + 3. / 5f32.sqrt()).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OperatorError::Shape`] when `x` has rank < 3, `C` is not a multiple of `groups` (or
/// `groups` is 0), or `gamma`/`beta` are not `(C,)`.
pub fn group_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, groups: usize, eps: f64) -> Result<Tensor> {
    if x.rank() < 3 {
        return Err(OperatorError::shape(OP, "input (B, C, *spatial) of rank >= 3", x));
    }
    let c = x.dim(1)?;
    if groups == 0 || c % groups != 0 {
        return Err(OperatorError::shape(OP, format!("a channel count divisible by groups = {groups}"), x));
    }
    for (name, t) in [("weight", gamma), ("bias", beta)] {
        if t.dims() != [c] {
            return Err(OperatorError::shape(OP, format!("{name} (C,) with C = {c}"), t));
        }
    }
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) {
        let op = GroupNormOp { groups, eps };
        Ok(x.contiguous()?.apply_op3(&gamma.contiguous()?, &beta.contiguous()?, op)?)
    } else {
        let gn = candle_nn::GroupNorm::new(gamma.clone(), beta.clone(), c, groups, eps)?;
        Ok(candle_core::Module::forward(&gn, x)?)
    }
}

/// GroupNorm layer with PyTorch's parameter names `weight` and `bias` (both `(C,)`).
#[derive(Clone, Debug)]
pub struct GroupNorm {
    weight: Tensor,
    bias: Tensor,
    groups: usize,
    eps: f64,
}

impl GroupNorm {
    /// Loads (or creates: weight 1, bias 0, PyTorch's defaults) a GroupNorm over `channels`
    /// channels in `groups` groups.
    ///
    /// # Errors
    /// [`OperatorError::Config`] when `groups` is 0 or does not divide `channels`.
    pub fn new(channels: usize, groups: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        if groups == 0 || channels % groups != 0 {
            return Err(OperatorError::Config(format!("GroupNorm: {channels} channels are not divisible into {groups} groups")));
        }
        let weight = vb.get_with_hints(channels, "weight", candle_nn::Init::Const(1.0))?;
        let bias = vb.get_with_hints(channels, "bias", candle_nn::Init::Const(0.0))?;
        Ok(Self { weight, bias, groups, eps })
    }

    /// Normalises `x` `(B, C, *)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        group_norm(x, &self.weight, &self.bias, self.groups, self.eps)
    }

    /// The number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The epsilon.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The `(weight, bias)` parameters, both `(C,)`.
    pub fn parameters(&self) -> (&Tensor, &Tensor) {
        (&self.weight, &self.bias)
    }
}

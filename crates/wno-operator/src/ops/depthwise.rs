//! Depthwise 3x3 convolution (groups = channels, padding 1, stride 1, with bias) as candle
//! custom ops, differentiable in the input, the weight and the bias.
//!
//! candle's grouped `conv2d` runs one convolution per group, which is far too slow with one
//! group per channel. These ops run one fused stencil per `(batch, channel)` plane instead,
//! multi-threaded on CPU and as one CUDA kernel with feature `cuda`.

use super::depthwise_cpu::{self as cpu, PACK};
use super::real::{slice, unsupported, BackendStorage as _};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use candle_nn::VarBuilder;

/// Forward op: `(x, wb) -> y`, `x` `(B, C, H, W)`, `wb` the packed `(C, 10)` parameters.
/// With `flip` the taps are rotated by 180 degrees and the bias is ignored: that is the
/// adjoint of the convolution in its input, used by the backward pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepthwiseFwd {
    pub flip: bool,
}

/// Parameter-gradient op: `(x, g) -> (C, 10)` packed tap and bias gradients.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepthwiseWeightGrad;

fn dims4(l: &Layout) -> (usize, usize, usize, usize) {
    let d = l.dims();
    (d[0], d[1], d[2], d[3])
}

impl CustomOp2 for DepthwiseFwd {
    fn name(&self) -> &'static str {
        "depthwise-conv3x3"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, c, h, w) = dims4(l1);
        let out = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                CpuStorage::F32(cpu::forward(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?, c, h, w, self.flip))
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                CpuStorage::F64(cpu::forward(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?, c, h, w, self.flip))
            }
            _ => return Err(unsupported(self.name(), s1.dtype())),
        };
        Ok((out, l1.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let out = super::depthwise_cuda::forward(s1, l1, s2, l2, self.flip)?;
        Ok((out, l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, wb: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        if self.flip {
            candle_core::bail!("{}: the adjoint (flipped) form is only used inside backward and has no backward", self.name());
        }
        let g = g.contiguous()?;
        let gx = g.apply_op2_no_bwd(wb, &DepthwiseFwd { flip: true })?;
        let gwb = x.apply_op2_no_bwd(&g, &DepthwiseWeightGrad)?;
        Ok((Some(gx), Some(gwb)))
    }
}

impl CustomOp2 for DepthwiseWeightGrad {
    fn name(&self) -> &'static str {
        "depthwise-conv3x3-weight-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, c, h, w) = dims4(l1);
        let out = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                CpuStorage::F32(cpu::weight_grad(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?, c, h, w))
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                CpuStorage::F64(cpu::weight_grad(slice(self.name(), s1, l1)?, slice(self.name(), s2, l2)?, c, h, w))
            }
            _ => return Err(unsupported(self.name(), s1.dtype())),
        };
        Ok((out, Shape::from((c, PACK))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let c = l1.dims()[1];
        let out = super::depthwise_cuda::weight_grad(s1, l1, s2, l2)?;
        Ok((out, Shape::from((c, PACK))))
    }
}

/// Depthwise 3x3 convolution with padding 1 (PyTorch `Conv2d(C, C, 3, padding=1, groups=C)`):
/// `x` `(B, C, H, W)`, `weight` `(C, 1, 3, 3)`, `bias` `(C,)`; returns `(B, C, H, W)`.
///
/// Equal to candle's `x.conv2d(weight, 1, 1, 1, C)` plus the bias up to rounding, and
/// differentiable in all three operands through candle's `backward()`. Supports f32 and f64
/// (CPU, and CUDA with feature `cuda`).
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::ones((1, 2, 3, 3), candle_core::DType::F32, &Device::Cpu)?;
/// let w = Tensor::ones((2, 1, 3, 3), candle_core::DType::F32, &Device::Cpu)?;
/// let b = Tensor::new(&[0f32, 1.], &Device::Cpu)?;
/// let y = wno_operator::ops::depthwise_conv3x3(&x, &w, &b)?;
/// // The centre pixel sees all 9 ones, a corner 4.
/// assert_eq!(y.get(0)?.get(1)?.to_vec2::<f32>()?, vec![vec![5., 7., 5.], vec![7., 10., 7.], vec![5., 7., 5.]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OperatorError::Shape`] for wrong ranks or channel counts, [`OperatorError::Mismatch`] for
/// operands of different dtypes or devices, [`OperatorError::DType`] for dtypes other than f32/f64.
pub fn depthwise_conv3x3(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let wb = pack(x, weight, bias)?;
    depthwise_conv3x3_packed(x, &wb)
}

const OP: &str = "depthwise_conv3x3";

/// Packs `weight` `(C, 1, 3, 3)` and `bias` `(C,)` into the `(C, 10)` layout of the kernels
/// (differentiable: the gradient flows back to both).
fn pack(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let c = x.dims().get(1).copied().unwrap_or(0);
    if weight.dims() != [c, 1, 3, 3] {
        return Err(OperatorError::shape(OP, format!("weight (C, 1, 3, 3) with C = {c} (the input's channels)"), weight));
    }
    if bias.dims() != [c] {
        return Err(OperatorError::shape(OP, format!("bias (C,) with C = {c}"), bias));
    }
    Ok(Tensor::cat(&[weight.reshape((c, 9))?, bias.reshape((c, 1))?], 1)?)
}

/// [`depthwise_conv3x3`] with the parameters already packed as `(C, 10)`: the 9 taps of each
/// channel (row-major) followed by its bias.
pub(crate) fn depthwise_conv3x3_packed(x: &Tensor, wb: &Tensor) -> Result<Tensor> {
    if x.rank() != 4 {
        return Err(OperatorError::shape(OP, "input (B, C, H, W)", x));
    }
    let c = x.dim(1)?;
    if wb.dims() != [c, PACK] {
        return Err(OperatorError::shape(OP, format!("packed parameters ({c}, {PACK})"), wb));
    }
    if x.dtype() != wb.dtype() || !x.device().same_device(wb.device()) {
        return Err(OperatorError::Mismatch {
            op: OP,
            detail: format!("input {:?} on {:?}, parameters {:?} on {:?}", x.dtype(), x.device().location(), wb.dtype(), wb.device().location()),
        });
    }
    if !matches!(x.dtype(), candle_core::DType::F32 | candle_core::DType::F64) {
        return Err(OperatorError::DType { op: OP, dtype: x.dtype(), supported: "f32, f64" });
    }
    Ok(x.contiguous()?.apply_op2(&wb.contiguous()?, DepthwiseFwd { flip: false })?)
}

/// Configuration-free depthwise 3x3 layer with PyTorch's parameter names `weight`
/// `(C, 1, 3, 3)` and `bias` `(C,)` (a `Conv2d(C, C, 3, padding=1, groups=C)`).
#[derive(Clone, Debug)]
pub struct DepthwiseConv3x3 {
    weight: Tensor,
    bias: Tensor,
}

impl DepthwiseConv3x3 {
    /// Loads (or creates, with a `VarMap`-backed builder) the parameters of `channels` filters;
    /// new parameters get PyTorch's default `Conv2d` initialisation (uniform in
    /// `+-1/sqrt(fan_in)`, fan_in = 9).
    pub fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        let bound = 1.0 / 3.0;
        let init = candle_nn::Init::Uniform { lo: -bound, up: bound };
        let weight = vb.get_with_hints((channels, 1, 3, 3), "weight", init)?;
        let bias = vb.get_with_hints(channels, "bias", init)?;
        Ok(Self { weight, bias })
    }

    /// The `(C, 1, 3, 3)` taps.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The `(C,)` bias.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The packed `(C, 10)` parameters of the kernels.
    pub(crate) fn packed(&self) -> Result<Tensor> {
        let c = self.bias.dim(0)?;
        Ok(Tensor::cat(&[self.weight.reshape((c, 9))?, self.bias.reshape((c, 1))?], 1)?)
    }

    /// Applies the convolution to `x` `(B, C, H, W)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        depthwise_conv3x3(x, &self.weight, &self.bias)
    }
}

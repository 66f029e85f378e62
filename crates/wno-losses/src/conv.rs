//! [`conv2d`]: candle's 2-D convolution with a backward pass made of convolutions.
//!
//! candle 0.11 differentiates `Tensor::conv2d` with respect to its input through
//! `conv_transpose2d`, whose CPU kernel is a direct loop without GEMM: at VGG16 sizes it makes
//! the backward pass of the perceptual and LPIPS losses (and of the critic) several times slower
//! than the forward. Here the input gradient is computed as the convolution it is — the gradient,
//! dilated by the stride and padded, convolved with the kernel flipped and transposed — so it
//! runs on candle's im2col + GEMM path like the forward; the kernel gradient is candle's own
//! formula (also a convolution). Gradients are only computed for operands that take part in
//! autograd (frozen weights cost nothing).

use crate::error::{LossError, Result};
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

/// The autograd node: forward passes the precomputed convolution through (one copy), backward
/// computes the gradients with convolutions.
struct Conv2dGrad {
    stride: usize,
    padding: usize,
}

impl CustomOp3 for Conv2dGrad {
    fn name(&self) -> &'static str {
        "conv2d-gemm-backward"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout, y: &CpuStorage, yl: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        use candle_core::backend::BackendStorage;
        Ok((y.try_clone(yl)?, yl.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        _: &candle_core::CudaStorage,
        _: &Layout,
        y: &candle_core::CudaStorage,
        yl: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        use candle_core::backend::BackendStorage;
        Ok((y.try_clone(yl)?, yl.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let gx = if x.track_op() { Some(input_grad(g, w, self.stride, self.padding, x.dim(2)?, x.dim(3)?)?) } else { None };
        let gw = if w.track_op() {
            let (_, _, kh, kw) = w.dims4()?;
            let full = x.transpose(0, 1)?.conv2d(&g.transpose(0, 1)?, self.padding, 1, self.stride, 1)?.transpose(0, 1)?;
            Some(full.narrow(2, 0, kh)?.narrow(3, 0, kw)?.contiguous()?)
        } else {
            None
        };
        Ok((gx, gw, None))
    }
}

/// Inserts `s - 1` zeros between the elements of dims 2 and 3.
fn dilate(g: &Tensor, s: usize) -> candle_core::Result<Tensor> {
    if s == 1 {
        return Ok(g.clone());
    }
    let (b, c, h, w) = g.dims4()?;
    let zeros = g.zeros_like()?;
    let mut parts = vec![g.clone()];
    parts.extend(std::iter::repeat_n(zeros, s - 1));
    let wide = Tensor::stack(&parts, 4)?.reshape((b, c, h, w * s))?.narrow(3, 0, (w - 1) * s + 1)?;
    let zeros = wide.zeros_like()?;
    let mut parts = vec![wide];
    parts.extend(std::iter::repeat_n(zeros, s - 1));
    Tensor::stack(&parts, 3)?.reshape((b, c, h * s, (w - 1) * s + 1))?.narrow(2, 0, (h - 1) * s + 1)
}

/// The gradient of `conv2d(x, w, stride, padding)` with respect to `x` (of spatial size
/// `h x wd`) for the output gradient `g`: a stride-1 convolution of the dilated, padded `g` with
/// the flipped, transposed kernel.
fn input_grad(g: &Tensor, w: &Tensor, stride: usize, padding: usize, h: usize, wd: usize) -> candle_core::Result<Tensor> {
    let (_, _, kh, kw) = w.dims4()?;
    let wt = w.transpose(0, 1)?.contiguous()?.flip(&[2, 3])?.contiguous()?;
    let gd = dilate(g, stride)?;
    let (hd, wdd) = (gd.dim(2)?, gd.dim(3)?);
    let (top, left) = (kh - 1 - padding, kw - 1 - padding);
    let (bottom, right) = (h + kh - 1 - hd - top, wd + kw - 1 - wdd - left);
    if top == bottom && left == right && top == left {
        return gd.conv2d(&wt, top, 1, 1, 1);
    }
    gd.pad_with_zeros(2, top, bottom)?.pad_with_zeros(3, left, right)?.conv2d(&wt, 0, 1, 1, 1)
}

/// `conv2d(x, weight) + bias` (groups 1, dilation 1): the value of candle's `Tensor::conv2d`,
/// with a GEMM-based backward (see the module docs). `x` is `(B, C_in, H, W)`, `weight`
/// `(C_out, C_in, kh, kw)` with `padding < kh, kw`, `bias` `(C_out,)`.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// let x = Var::from_tensor(&Tensor::randn(0f64, 1., (2, 3, 9, 9), &Device::Cpu)?)?;
/// let w = Var::from_tensor(&Tensor::randn(0f64, 1., (4, 3, 4, 4), &Device::Cpu)?)?;
/// let ours = wno_losses::conv2d(&x, &w, None, 2, 1)?;
/// let reference = x.conv2d(&w, 1, 2, 1, 1)?;
/// assert!((&ours - &reference)?.abs()?.max_all()?.to_scalar::<f64>()? < 1e-12);
/// let (g1, g2) = (ours.sqr()?.sum_all()?.backward()?, reference.sqr()?.sum_all()?.backward()?);
/// for v in [&x, &w] {
///     let d = (g1.get(v).unwrap() - g2.get(v).unwrap())?.abs()?.max_all()?.to_scalar::<f64>()?;
///     assert!(d < 1e-9);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`LossError::BadShape`] for operands of the wrong rank or channel count, or a padding not
/// below the kernel size; candle's errors otherwise.
pub fn conv2d(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, stride: usize, padding: usize) -> Result<Tensor> {
    const OP: &str = "conv2d";
    if x.rank() != 4 {
        return Err(LossError::BadShape { op: OP, expected: "input (B, C_in, H, W)".into(), got: x.dims().to_vec() });
    }
    if weight.rank() != 4 || weight.dim(1)? != x.dim(1)? || padding >= weight.dim(2)? || padding >= weight.dim(3)? || stride == 0 {
        return Err(LossError::BadShape { op: OP, expected: format!("kernel (C_out, {}, kh, kw) with padding {padding} < kh, kw and stride {stride} >= 1", x.dim(1)?), got: weight.dims().to_vec() });
    }
    let y = x.detach().conv2d(&weight.detach(), padding, stride, 1, 1)?;
    let y = if x.track_op() || weight.track_op() { x.apply_op3(weight, &y, Conv2dGrad { stride, padding })? } else { y };
    let y = match bias {
        Some(b) => {
            if b.dims() != [weight.dim(0)?] {
                return Err(LossError::BadShape { op: OP, expected: format!("bias ({},)", weight.dim(0)?), got: b.dims().to_vec() });
            }
            y.broadcast_add(&b.reshape((1, b.dim(0)?, 1, 1))?)?
        }
        None => y,
    };
    Ok(y)
}

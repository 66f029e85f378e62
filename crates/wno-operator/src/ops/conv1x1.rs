//! 1x1 convolution as one matrix product per batch item.

use crate::error::{OperatorError, Result};
use candle_core::Tensor;
use candle_nn::VarBuilder;

/// A 1x1 convolution `Conv2d(in, out, 1)` with PyTorch's parameter names `weight`
/// `(out, in, 1, 1)` and `bias` `(out,)`.
///
/// Computed as `W @ x` on the `(B, in, H*W)` view of the input (one GEMM per batch item, no
/// im2col), which also accepts strided views such as one band of a wavelet decomposition.
#[derive(Clone, Debug)]
pub struct Conv1x1 {
    weight: Tensor,
    bias: Tensor,
    in_channels: usize,
    out_channels: usize,
}

impl Conv1x1 {
    /// Loads (or creates, with PyTorch's default `Conv2d` initialisation: uniform in
    /// `+-1/sqrt(in)` for weight and bias) a 1x1 convolution from `in_channels` to
    /// `out_channels`.
    pub fn new(in_channels: usize, out_channels: usize, vb: VarBuilder) -> Result<Self> {
        let bound = 1.0 / (in_channels.max(1) as f64).sqrt();
        let init = candle_nn::Init::Uniform { lo: -bound, up: bound };
        let weight = vb.get_with_hints((out_channels, in_channels, 1, 1), "weight", init)?;
        let bias = vb.get_with_hints(out_channels, "bias", init)?;
        Ok(Self { weight, bias, in_channels, out_channels })
    }

    /// The `(out, in, 1, 1)` weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The `(out,)` bias.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// Applies the convolution to `x` `(B, in, H, W)`, returning `(B, out, H, W)`.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] unless `x` is rank 4 with `in` channels.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        const OP: &str = "conv1x1";
        if x.rank() != 4 || x.dim(1)? != self.in_channels {
            return Err(OperatorError::shape(OP, format!("input (B, {}, H, W)", self.in_channels), x));
        }
        let (b, c, h, w) = x.dims4()?;
        let y = self.forward_flat(&x.reshape((b, c, h * w))?)?;
        Ok(y.reshape((b, self.out_channels, h, w))?)
    }

    /// Applies the convolution to `x` `(B, in, L)` (pixels flattened, any strides with unit
    /// stride along `L`), returning a contiguous `(B, out, L)`.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] unless `x` is rank 3 with `in` channels.
    pub fn forward_flat(&self, x: &Tensor) -> Result<Tensor> {
        const OP: &str = "conv1x1";
        if x.rank() != 3 || x.dim(1)? != self.in_channels {
            return Err(OperatorError::shape(OP, format!("input (B, {}, L)", self.in_channels), x));
        }
        pointwise(x, &self.weight.reshape((self.out_channels, self.in_channels))?, &self.bias)
    }
}

/// `W @ x + bias` per batch item: `x` `(B, in, L)` (unit stride along `L`), `weight`
/// `(out, in)`, `bias` `(out,)`; returns a contiguous `(B, out, L)`.
pub(crate) fn pointwise(x: &Tensor, weight: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let b = x.dim(0)?;
    let y = weight.broadcast_left(b)?.matmul(x)?;
    super::add_channel_bias(&y, bias)
}

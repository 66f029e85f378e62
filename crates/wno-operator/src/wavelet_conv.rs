//! The wavelet convolution: Haar DWT, 1x1 convolutions on the bands, inverse DWT.

use crate::error::{OperatorError, Result};
use crate::ops::{band_conv, Conv1x1};
use candle_core::Tensor;
use candle_nn::VarBuilder;

/// Wavelet convolution `spec` of the W-NO (DESIGN.md section 1): a one-level Haar DWT of
/// `x` `(B, C_in, H, W)`, a 1x1 convolution `conv_ll` (`C_in -> C_out`, with bias) on the LL
/// band, a 1x1 convolution `conv_hp` (`3 C_in -> 3 C_out`, with bias) on the three detail bands
/// stacked as channel `c * 3 + o` (o = LH, HL, HH), the inverse DWT, and a crop to `(H, W)`.
///
/// Parameter names: `conv_ll.{weight,bias}`, `conv_hp.{weight,bias}`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// let vm = VarMap::new();
/// let spec = wno_operator::WaveletConv2d::new(4, 6, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let y = spec.forward(&Tensor::randn(0f32, 1., (2, 4, 7, 8), &Device::Cpu)?)?;
/// assert_eq!(y.dims(), &[2, 6, 7, 8]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct WaveletConv2d {
    conv_ll: Conv1x1,
    conv_hp: Conv1x1,
}

impl WaveletConv2d {
    /// Loads (or creates, with PyTorch's default `Conv2d` initialisation) a wavelet convolution
    /// from `in_channels` to `out_channels`.
    pub fn new(in_channels: usize, out_channels: usize, vb: VarBuilder) -> Result<Self> {
        let conv_ll = Conv1x1::new(in_channels, out_channels, vb.pp("conv_ll"))?;
        let conv_hp = Conv1x1::new(3 * in_channels, 3 * out_channels, vb.pp("conv_hp"))?;
        Ok(Self { conv_ll, conv_hp })
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.conv_ll.in_channels()
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv_ll.out_channels()
    }

    /// The LL-band convolution.
    pub fn conv_ll(&self) -> &Conv1x1 {
        &self.conv_ll
    }

    /// The detail-band convolution.
    pub fn conv_hp(&self) -> &Conv1x1 {
        &self.conv_hp
    }

    /// Applies the wavelet convolution to `x` `(B, C_in, H, W)` (any size, odd included),
    /// returning `(B, C_out, H, W)`.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] unless `x` is rank 4 with `C_in` channels.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_plus_pointwise(x, None)
    }

    /// `spec(x) + dense(x)` in one pass when `dense` is given (a 1x1 convolution `C_in -> C_out`):
    /// a 1x1 convolution commutes with the Haar DWT, so it is folded into the band convolutions
    /// (`W_ll + W_d` on LL with bias `b_ll + 2 b_d`, `W_hp + W_d (x) I_3` on the detail bands).
    /// This saves the dense path's GEMM, bias and sum; gradients reach both modules' parameters.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] unless `x` is rank 4 with `C_in` channels and `dense` maps
    /// `C_in -> C_out`.
    pub fn forward_plus_pointwise(&self, x: &Tensor, dense: Option<&Conv1x1>) -> Result<Tensor> {
        let cin = self.in_channels();
        if x.rank() != 4 || x.dim(1)? != cin {
            return Err(OperatorError::shape("WaveletConv2d", format!("input (B, {cin}, H, W)"), x));
        }
        let cout = self.out_channels();
        let mut w_ll = self.conv_ll.weight().reshape((cout, cin))?;
        let mut b_ll = self.conv_ll.bias().clone();
        let mut w_hp = self.conv_hp.weight().reshape((3 * cout, 3 * cin))?;
        if let Some(d) = dense {
            if d.in_channels() != cin || d.out_channels() != cout {
                return Err(OperatorError::shape("WaveletConv2d", format!("pointwise weight ({cout}, {cin}, 1, 1)"), d.weight()));
            }
            let wd = d.weight().reshape((cout, cin))?;
            w_ll = (w_ll + &wd)?;
            b_ll = (b_ll + d.bias().affine(2.0, 0.0)?)?;
            // (W_d (x) I_3)[c*3 + o, c'*3 + o'] = W_d[c, c'] * [o == o'].
            let eye = Tensor::eye(3, wd.dtype(), wd.device())?.reshape((1, 3, 1, 3))?;
            let kron = wd.reshape((cout, 1, cin, 1))?.broadcast_mul(&eye)?.reshape((3 * cout, 3 * cin))?;
            w_hp = (w_hp + kron)?;
        }
        let (_, _, h, w) = x.dims4()?;
        let bands = wavelet_ops::dwt2d(x)?;
        let out = band_conv(&bands, &w_ll, &b_ll, &w_hp, self.conv_hp.bias())?;
        Ok(wavelet_ops::idwt2d(&out, h, w)?)
    }
}

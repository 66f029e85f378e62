//! The wavelet convolution: Haar DWT, 1x1 convolutions on the bands, inverse DWT.

use crate::error::{OperatorError, Result};
use crate::ops::Conv1x1;
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
        let cin = self.in_channels();
        if x.rank() != 4 || x.dim(1)? != cin {
            return Err(OperatorError::shape("WaveletConv2d", format!("input (B, {cin}, H, W)"), x));
        }
        let (b, _, h, w) = x.dims4()?;
        let bands = wavelet_ops::dwt2d(x)?;
        let (h2, w2) = (bands.dim(3)?, bands.dim(4)?);
        let l = h2 * w2;
        let bands = bands.reshape((b, cin, 4, l))?;
        // LL is a strided view (row stride 4l) that the GEMM reads in place; the detail bands
        // are gathered into the (B, 3C, l) layout with channel c * 3 + o.
        let ll = bands.narrow(2, 0, 1)?.squeeze(2)?;
        let detail = bands.narrow(2, 1, 3)?.reshape((b, 3 * cin, l))?;
        let cout = self.out_channels();
        let ll = self.conv_ll.forward_flat(&ll)?.reshape((b, cout, 1, l))?;
        let detail = self.conv_hp.forward_flat(&detail)?.reshape((b, cout, 3, l))?;
        let out = Tensor::cat(&[ll, detail], 2)?.reshape((b, cout, 4, h2, w2))?;
        Ok(wavelet_ops::idwt2d(&out, h, w)?)
    }
}

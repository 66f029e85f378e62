//! The one-level transforms as candle custom ops, and their public entry points.
//!
//! The Haar analysis matrix is orthogonal and the `zero` extension pads with zeros, so the
//! cropped inverse is exactly the adjoint of the forward transform. Each op's backward is
//! therefore the other op applied to the incoming gradient: nothing is saved from the forward.

use crate::cpu::{self, View4, View5};
use crate::error::{Result, WaveletError};
use crate::validate::{check_bands, check_float, check_output_size};
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

/// Forward one-level Haar DWT: `(B, C, H, W)` to `(B, C, 4, ceil(H/2), ceil(W/2))`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HaarDwt;

/// Inverse one-level Haar DWT, cropped: `(B, C, 4, h, w)` to `(B, C, out_h, out_w)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HaarIdwt {
    pub out_h: usize,
    pub out_w: usize,
}

fn dims4(layout: &Layout) -> [usize; 4] {
    let d = layout.dims();
    [d[0], d[1], d[2], d[3]]
}

macro_rules! dispatch_cpu {
    ($storage:expr, $op:literal, |$v:ident| $body:expr) => {
        match $storage {
            CpuStorage::F32($v) => CpuStorage::F32($body),
            CpuStorage::F64($v) => CpuStorage::F64($body),
            CpuStorage::F16($v) => CpuStorage::F16($body),
            CpuStorage::BF16($v) => CpuStorage::BF16($body),
            other => candle_core::bail!(
                "{}: unsupported dtype {:?}; supported dtypes are f32, f64, f16 and bf16",
                $op,
                candle_core::backend::BackendStorage::dtype(other)
            ),
        }
    };
}

impl CustomOp1 for HaarDwt {
    fn name(&self) -> &'static str {
        "haar-dwt2d"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = dims4(layout);
        let s = layout.stride();
        let view = View4 {
            start: layout.start_offset(),
            stride: [s[0], s[1], s[2], s[3]],
        };
        let out = dispatch_cpu!(storage, "dwt2d", |v| cpu::dwt(v, view, dims));
        let [b, c, h, w] = dims;
        Ok((out, Shape::from((b, c, 4, h.div_ceil(2), w.div_ceil(2)))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        crate::cuda::dwt(storage, layout)
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let (_, _, h, w) = arg.dims4()?;
        Ok(Some(idwt2d(grad_res, h, w)?))
    }
}

impl CustomOp1 for HaarIdwt {
    fn name(&self) -> &'static str {
        "haar-idwt2d"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = layout.dims();
        let s = layout.stride();
        let dims = [d[0], d[1], d[3], d[4]];
        let view = View5 {
            start: layout.start_offset(),
            stride: [s[0], s[1], s[2], s[3], s[4]],
        };
        let (oh, ow) = (self.out_h, self.out_w);
        let out = dispatch_cpu!(storage, "idwt2d", |v| cpu::idwt(v, view, dims, oh, ow));
        Ok((out, Shape::from((d[0], d[1], oh, ow))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        crate::cuda::idwt(storage, layout, self.out_h, self.out_w)
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(dwt2d(grad_res)?))
    }
}

/// One-level 2-D Haar DWT (pywt / pytorch_wavelets conventions, mode `zero`).
///
/// Takes `x` of shape `(B, C, H, W)`, in any layout, and returns one contiguous tensor
/// `(B, C, 4, ceil(H/2), ceil(W/2))` whose dim 2 holds the bands LL, LH, HL, HH (see
/// [`Band`](crate::Band)). Odd sizes are padded with one zero row/column at the end.
/// f16 and bf16 accumulate in f32. The op is differentiable: its backward is [`idwt2d`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::arange(0f32, 16., &Device::Cpu)?.reshape((1, 1, 4, 4))?;
/// let bands = wavelet_ops::dwt2d(&x)?;
/// assert_eq!(bands.dims(), &[1, 1, 4, 2, 2]);
/// // LL of the top-left block [0, 1; 4, 5] is (0 + 1 + 4 + 5) / 2.
/// assert_eq!(bands.get(0)?.get(0)?.get(0)?.get(0)?.get(0)?.to_scalar::<f32>()?, 5.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`WaveletError::Rank`] unless `x` is rank 4, [`WaveletError::DType`] for non-float dtypes,
/// [`WaveletError::Empty`] when a dimension is 0, [`WaveletError::Candle`] for device errors.
pub fn dwt2d(x: &Tensor) -> Result<Tensor> {
    const OP: &str = "dwt2d";
    check_float(OP, x, 4, "(B, C, H, W)")?;
    x.apply_op1(HaarDwt).map_err(WaveletError::candle(OP))
}

/// Inverse one-level 2-D Haar DWT, cropped to `(out_h, out_w)`.
///
/// Takes `bands` of shape `(B, C, 4, h, w)` (bands LL, LH, HL, HH on dim 2, any layout) and
/// returns a contiguous `(B, C, out_h, out_w)`; `out_h` must be `2h` or `2h - 1` (likewise
/// `out_w`), i.e. the size the bands came from. `idwt2d(&dwt2d(x)?, H, W)` equals `x` up to
/// rounding for every size, odd included. Differentiable: its backward is [`dwt2d`], and it is
/// the exact adjoint of [`dwt2d`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::randn(0f32, 1., (2, 3, 5, 7), &Device::Cpu)?;
/// let back = wavelet_ops::idwt2d(&wavelet_ops::dwt2d(&x)?, 5, 7)?;
/// let err = (back - &x)?.abs()?.max_all()?.to_scalar::<f32>()?;
/// assert!(err < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`dwt2d`] for rank 5, plus [`WaveletError::Bands`] when dim 2 is not 4 and
/// [`WaveletError::OutputSize`] when `(out_h, out_w)` does not fit the band size.
pub fn idwt2d(bands: &Tensor, out_h: usize, out_w: usize) -> Result<Tensor> {
    const OP: &str = "idwt2d";
    check_float(OP, bands, 5, "(B, C, 4, h, w)")?;
    check_bands(OP, bands, 4, "LL, LH, HL, HH")?;
    check_output_size(OP, bands, out_h, out_w)?;
    bands
        .apply_op1(HaarIdwt { out_h, out_w })
        .map_err(WaveletError::candle(OP))
}

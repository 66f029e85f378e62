//! Argument validation shared by the losses: shapes, ranks and dtypes.

use candle_core::{DType, Device, Tensor};

use crate::error::{LossError, Result};

/// Fails unless `t` has a floating-point dtype.
pub(crate) fn float_dtype(op: &'static str, t: &Tensor) -> Result<()> {
    match t.dtype() {
        DType::F32 | DType::F64 | DType::F16 | DType::BF16 => Ok(()),
        dtype => Err(LossError::UnsupportedDType { op, dtype }),
    }
}

/// Fails unless `a` and `b` have the same shape and the same floating-point dtype.
pub(crate) fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    float_dtype(op, a)?;
    if a.dims() != b.dims() {
        return Err(LossError::ShapeMismatch {
            op,
            lhs: a.dims().to_vec(),
            rhs: b.dims().to_vec(),
        });
    }
    if a.dtype() != b.dtype() {
        return Err(LossError::UnsupportedDType { op, dtype: b.dtype() });
    }
    Ok(())
}

/// Checks that `t` is a `(B, C, H, W)` image batch with a floating-point dtype and returns its
/// dimensions.
pub(crate) fn image4(op: &'static str, t: &Tensor) -> Result<(usize, usize, usize, usize)> {
    float_dtype(op, t)?;
    match *t.dims() {
        [b, c, h, w] if b > 0 && c > 0 && h > 0 && w > 0 => Ok((b, c, h, w)),
        _ => Err(LossError::BadShape {
            op,
            expected: "a non-empty image batch (B, C, H, W)".into(),
            got: t.dims().to_vec(),
        }),
    }
}

/// [`same_shape`] plus [`image4`] for a prediction / target pair.
pub(crate) fn image_pair(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
) -> Result<(usize, usize, usize, usize)> {
    same_shape(op, a, b)?;
    image4(op, a)
}

/// Checks that `t` is an RGB batch `(B, 3, H, W)`.
pub(crate) fn rgb4(op: &'static str, t: &Tensor) -> Result<(usize, usize, usize, usize)> {
    let dims = image4(op, t)?;
    if dims.1 != 3 {
        return Err(LossError::BadShape {
            op,
            expected: "an RGB image batch (B, 3, H, W)".into(),
            got: t.dims().to_vec(),
        });
    }
    Ok(dims)
}

/// Whether every value of `t` is finite: the sum of `t - t`, which is exactly 0 for finite
/// values and NaN for NaN and infinities (summing `t` itself would overflow for large finite
/// f64 values and report them as infinite).
pub(crate) fn all_finite(t: &Tensor) -> Result<bool> {
    let zeros = t.sub(t)?.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    Ok(zeros.is_finite())
}

/// [`LossError::NonFinite`] unless every value of `t` is finite.
pub(crate) fn finite(op: &'static str, what: &'static str, t: &Tensor) -> Result<()> {
    if all_finite(t)? {
        Ok(())
    } else {
        Err(LossError::NonFinite { op, what })
    }
}

/// Fails with [`LossError::UnsupportedNetworkDType`] unless the frozen networks (VGG16, LPIPS,
/// the FID Inception) can compute in `dtype` on `device`. Checked by their constructors, before
/// any weight is read, because candle only fails at the first forward pass.
///
/// What works, by device: the CPU runs f32, f64 and f16 (measured: candle 0.11's CPU matmul,
/// which its `conv2d` uses, has no bf16 kernel, "unsupported dtype BF16 for op matmul"); CUDA
/// has f32, f64, f16 and bf16 kernels for every operation the networks use (matmul, conv2d,
/// max / average pools); Metal has no f64. Integer dtypes work nowhere. f32 is the reference
/// precision of the published figures; f16 runs but is less accurate.
pub(crate) fn network_dtype(op: &'static str, dtype: DType, device: &Device) -> Result<()> {
    use DType::{BF16, F16, F32, F64};
    let (name, supported, ok) = if device.is_cpu() {
        ("CPU", "F32, F64, F16", matches!(dtype, F32 | F64 | F16))
    } else if device.is_cuda() {
        ("CUDA device", "F32, F64, F16, BF16", matches!(dtype, F32 | F64 | F16 | BF16))
    } else {
        ("Metal device", "F32, F16, BF16", matches!(dtype, F32 | F16 | BF16))
    };
    if ok {
        return Ok(());
    }
    let reason = match dtype {
        BF16 => "candle's CPU backend has no bf16 matmul, which its conv2d uses",
        F64 => "candle's Metal backend has no f64 kernels",
        _ => "candle has no matmul or conv2d kernel for it (integer and f8 dtypes)",
    };
    Err(LossError::UnsupportedNetworkDType { op, dtype, device: name, reason, supported })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_integer_dtype_and_wrong_rank() {
        let dev = Device::Cpu;
        let u = Tensor::zeros((1, 3, 4, 4), DType::U8, &dev).unwrap();
        assert!(matches!(image4("t", &u), Err(LossError::UnsupportedDType { .. })));
        let r3 = Tensor::zeros((3, 4, 4), DType::F32, &dev).unwrap();
        assert!(matches!(image4("t", &r3), Err(LossError::BadShape { .. })));
        let a = Tensor::zeros((1, 3, 4, 4), DType::F32, &dev).unwrap();
        let b = Tensor::zeros((1, 3, 4, 5), DType::F32, &dev).unwrap();
        let err = image_pair("t", &a, &b).unwrap_err().to_string();
        assert!(err.contains("[1, 3, 4, 4]") && err.contains("[1, 3, 4, 5]"), "{err}");
        let g = Tensor::zeros((1, 1, 4, 4), DType::F32, &dev).unwrap();
        assert!(rgb4("t", &g).is_err());
    }

    #[test]
    fn large_finite_f64_values_are_finite() {
        // Their sum overflows to infinity; the values themselves are finite.
        let big = Tensor::new(&[f64::MAX, f64::MAX, -f64::MAX, f64::MAX], &Device::Cpu).unwrap();
        assert!(finite("t", "values", &big).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let t = Tensor::new(&[1.0, bad, f64::MAX], &Device::Cpu).unwrap();
            assert!(matches!(finite("t", "values", &t), Err(LossError::NonFinite { .. })), "{bad}");
            let h = t.to_dtype(DType::F16).unwrap();
            assert!(finite("t", "values", &h).is_err(), "f16 {bad}");
        }
    }

    #[test]
    fn network_dtypes_on_the_cpu() {
        let cpu = Device::Cpu;
        for ok in [DType::F32, DType::F64, DType::F16] {
            assert!(network_dtype("t", ok, &cpu).is_ok(), "{ok:?}");
        }
        for bad in [DType::BF16, DType::U8, DType::U32, DType::I64] {
            let err = network_dtype("Net::new", bad, &cpu).unwrap_err();
            assert!(matches!(err, LossError::UnsupportedNetworkDType { dtype, .. } if dtype == bad), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains("Net::new") && msg.contains(&format!("{bad:?}")) && msg.contains("CPU"), "{msg}");
        }
    }
}

//! The floating-point element types of the CPU kernels (f32 and f64), with the access helpers
//! every custom op uses to read its operands.

use candle_core::{CpuStorage, DType, Layout, WithDType};
pub(crate) use candle_core::backend::BackendStorage;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// An element type the CPU kernels compute in directly.
pub(crate) trait Real:
    WithDType
    + Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + 'static
{
    /// Converts an `f64` constant.
    fn c(v: f64) -> Self;
    /// Converts to `f64` (used for accumulation of reductions).
    fn f64(self) -> f64;
}

impl Real for f32 {
    #[inline(always)]
    fn c(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    #[inline(always)]
    fn c(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
}

/// The contiguous slice of `storage` that `layout` describes, or an error naming `op` when the
/// layout is strided (every op wrapper makes its operands contiguous first).
pub(crate) fn slice<'a, T: Real>(op: &'static str, storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [T]> {
    let data = storage.as_slice::<T>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op}: operand with shape {:?} and strides {:?} is not contiguous", layout.dims(), layout.stride()),
    }
}

/// The error for a dtype without a CPU kernel.
pub(crate) fn unsupported(op: &'static str, dtype: DType) -> candle_core::Error {
    candle_core::Error::wrap(crate::OperatorError::DType { op, dtype, supported: "f32, f64" })
}

/// Sum of `a[i] * b[i]` with 16 independent accumulators, so that it vectorises.
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::default(); 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..16 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = T::default();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += *x * *y;
    }
    sum_lanes(acc) + tail
}

/// Sum of `a[i]` with 16 independent accumulators.
#[inline(always)]
pub(crate) fn sum<T: Real>(a: &[T]) -> T {
    let mut acc = [T::default(); 16];
    let mut ca = a.chunks_exact(16);
    for x in &mut ca {
        for k in 0..16 {
            acc[k] += x[k];
        }
    }
    let mut tail = T::default();
    for x in ca.remainder() {
        tail += *x;
    }
    sum_lanes(acc) + tail
}

#[inline(always)]
fn sum_lanes<T: Real>(acc: [T; 16]) -> T {
    let mut s = T::default();
    for v in acc {
        s += v;
    }
    s
}

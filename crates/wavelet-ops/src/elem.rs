//! Element types the kernels accept and the precision they accumulate in.

use half::{bf16, f16};
use std::mem::MaybeUninit;
use std::ops::{Add, Mul, Sub};

/// Accumulation type: `f32` for f16/bf16/f32, `f64` for f64.
pub(crate) trait Acc:
    Copy + Send + Sync + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    /// `1/2`, the product of the two `1/sqrt(2)` Haar taps.
    const HALF: Self;
    fn zero() -> Self;
}

impl Acc for f32 {
    const HALF: Self = 0.5;
    #[inline(always)]
    fn zero() -> Self {
        0.0
    }
}

impl Acc for f64 {
    const HALF: Self = 0.5;
    #[inline(always)]
    fn zero() -> Self {
        0.0
    }
}

/// A storage element: loaded into its accumulation type, computed there, stored back rounded.
pub(crate) trait Elem: Copy + Send + Sync + 'static {
    type A: Acc;
    fn up(self) -> Self::A;
    fn down(a: Self::A) -> Self;

    /// An explicit SIMD kernel for a block of contiguous forward rows (see `simd::dwt_rows`);
    /// returns whether it wrote them (`false`: none for this type, shape or architecture).
    #[inline(always)]
    fn simd_dwt_rows(
        _src: &[Self],
        _top0: usize,
        _sh: usize,
        _w: usize,
        _last_has_bottom: bool,
        _bands: [&mut [MaybeUninit<Self>]; 4],
        _stream: bool,
    ) -> bool {
        false
    }

    /// As [`Elem::simd_dwt_rows`] for a block of inverse row pairs (see `simd::idwt_rows`).
    #[inline(always)]
    fn simd_idwt_rows(
        _src: &[Self],
        _band_row0: [usize; 4],
        _sh: usize,
        _w2: usize,
        _rows: &mut [MaybeUninit<Self>],
        _stream: bool,
    ) -> bool {
        false
    }
}

impl Elem for f32 {
    type A = f32;
    #[inline(always)]
    fn up(self) -> f32 {
        self
    }
    #[inline(always)]
    fn down(a: f32) -> Self {
        a
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn simd_dwt_rows(
        src: &[f32],
        top0: usize,
        sh: usize,
        w: usize,
        last_has_bottom: bool,
        bands: [&mut [MaybeUninit<f32>]; 4],
        stream: bool,
    ) -> bool {
        crate::simd::dwt_rows(src, top0, sh, w, last_has_bottom, bands, stream)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn simd_idwt_rows(
        src: &[f32],
        band_row0: [usize; 4],
        sh: usize,
        w2: usize,
        rows: &mut [MaybeUninit<f32>],
        stream: bool,
    ) -> bool {
        crate::simd::idwt_rows(src, band_row0, sh, w2, rows, stream)
    }
}

impl Elem for f64 {
    type A = f64;
    #[inline(always)]
    fn up(self) -> f64 {
        self
    }
    #[inline(always)]
    fn down(a: f64) -> Self {
        a
    }
}

impl Elem for f16 {
    type A = f32;
    #[inline(always)]
    fn up(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn down(a: f32) -> Self {
        f16::from_f32(a)
    }
}

impl Elem for bf16 {
    type A = f32;
    #[inline(always)]
    fn up(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn down(a: f32) -> Self {
        bf16::from_f32(a)
    }
}

//! Element types the kernels accept and the precision they accumulate in.

use half::{bf16, f16};
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

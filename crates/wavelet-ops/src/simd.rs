//! Explicit SSE kernels for blocks of contiguous f32 rows (x86-64, whose baseline includes SSE2).
//!
//! They compute exactly what the generic row kernels of [`crate::cpu`] compute (the same
//! additions and the same multiplication by 1/2, in the same order, so the results are
//! bit-identical), four outputs at a time, over a whole block of rows in one call, and can write
//! through streaming (non-temporal) stores. They take the common case only: rows of a multiple of
//! 8 input columns (band rows of a multiple of 4). The generic kernels do the rest.

use std::arch::x86_64::{
    __m128, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_prefetch, _mm_set1_ps, _mm_setzero_ps,
    _mm_shuffle_ps, _mm_storeu_ps, _mm_stream_ps, _mm_sub_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    _MM_HINT_T0,
};
use std::mem::MaybeUninit;

type Out = MaybeUninit<f32>;

/// `_MM_SHUFFLE(2, 0, 2, 0)`: the even lanes of `(a, b)`.
const EVEN: i32 = 0b10_00_10_00;
/// `_MM_SHUFFLE(3, 1, 3, 1)`: the odd lanes of `(a, b)`.
const ODD: i32 = 0b11_01_11_01;

/// The Haar butterfly of [`crate::cpu`]'s `quad`, four lanes at a time.
#[inline(always)]
unsafe fn quad4(a: __m128, b: __m128, c: __m128, d: __m128) -> [__m128; 4] {
    let h = _mm_set1_ps(0.5);
    let (s0, d0, s1, d1) = (
        _mm_add_ps(a, b),
        _mm_sub_ps(a, b),
        _mm_add_ps(c, d),
        _mm_sub_ps(c, d),
    );
    [
        _mm_mul_ps(_mm_add_ps(s0, s1), h),
        _mm_mul_ps(_mm_sub_ps(s0, s1), h),
        _mm_mul_ps(_mm_add_ps(d0, d1), h),
        _mm_mul_ps(_mm_sub_ps(d0, d1), h),
    ]
}

/// Stores four lanes at `dst`: streaming (`dst` must then be 16-byte aligned) or regular.
#[inline(always)]
unsafe fn put<const STREAM: bool>(dst: *mut Out, v: __m128) {
    if STREAM {
        _mm_stream_ps(dst.cast::<f32>(), v);
    } else {
        _mm_storeu_ps(dst.cast::<f32>(), v);
    }
}

/// [`idwt_rows`] prefetches blocks up to this size (a half of a 32 KiB L1).
const PREFETCH_MAX_BYTES: usize = 16 << 10;

/// Whether every pointer is 16-byte aligned (what `_mm_stream_ps` requires).
fn aligned(ptrs: &[*mut Out]) -> bool {
    ptrs.iter().all(|p| (*p as usize) % 16 == 0)
}

/// Forward Haar of a block of output rows of one plane: output row `r` reads input rows
/// `top0 + 2 r sh` and the one `sh` below it (absent, i.e. zero, for the block's last row when
/// `!last_has_bottom`), `w` columns each, and writes `w / 2` outputs into row `r` of each band
/// slice (`bands[k].len()` = rows x `w / 2`). Returns `false`, having written nothing, unless `w`
/// is a positive multiple of 8 and the band slices have equal whole-row lengths. `stream` asks
/// for streaming stores, used when the band slices are 16-byte aligned.
///
/// # Panics
/// If a row lies outside `src` (the callers pass rows of the plane they describe).
pub(crate) fn dwt_rows(
    src: &[f32],
    top0: usize,
    sh: usize,
    w: usize,
    last_has_bottom: bool,
    bands: [&mut [Out]; 4],
    stream: bool,
) -> bool {
    if w == 0 || w % 8 != 0 {
        return false;
    }
    let w2 = w / 2;
    let len = bands[0].len();
    if len % w2 != 0 || bands.iter().any(|b| b.len() != len) {
        return false;
    }
    let nrows = len / w2;
    let outs = bands.map(|b| b.as_mut_ptr());
    let stream = stream && aligned(&outs);
    for r in 0..nrows {
        let top = top0 + 2 * r * sh;
        let r0 = &src[top..top + w];
        let r1 = (r + 1 < nrows || last_has_bottom).then(|| &src[top + sh..top + sh + w]);
        // SAFETY: `r0` / `r1` hold `w = 2 w2` elements; row `r` of each band slice holds `w2`
        // elements at `r * w2` (`(r + 1) w2 <= len`); the band slices are distinct `&mut`
        // borrows. Streaming stores only when all four start 16-byte aligned, and then every
        // store is (`w2` and `j` are multiples of 4).
        unsafe {
            let outs = outs.map(|p| p.add(r * w2));
            let p1 = r1.map(|r| r.as_ptr());
            if stream {
                dwt_row::<true>(r0.as_ptr(), p1, w2, outs);
            } else {
                dwt_row::<false>(r0.as_ptr(), p1, w2, outs);
            }
        }
    }
    true
}

/// One forward row: `n` (a multiple of 4) outputs per band from `2n` inputs of `p0` / `p1`.
#[inline(always)]
unsafe fn dwt_row<const STREAM: bool>(
    p0: *const f32,
    p1: Option<*const f32>,
    n: usize,
    [ll, lh, hl, hh]: [*mut Out; 4],
) {
    for j in (0..n).step_by(4) {
        let (t0, t1) = (_mm_loadu_ps(p0.add(2 * j)), _mm_loadu_ps(p0.add(2 * j + 4)));
        let (b0, b1) = match p1 {
            Some(p1) => (_mm_loadu_ps(p1.add(2 * j)), _mm_loadu_ps(p1.add(2 * j + 4))),
            None => (_mm_setzero_ps(), _mm_setzero_ps()),
        };
        let q = quad4(
            _mm_shuffle_ps::<EVEN>(t0, t1),
            _mm_shuffle_ps::<ODD>(t0, t1),
            _mm_shuffle_ps::<EVEN>(b0, b1),
            _mm_shuffle_ps::<ODD>(b0, b1),
        );
        put::<STREAM>(ll.add(j), q[0]);
        put::<STREAM>(lh.add(j), q[1]);
        put::<STREAM>(hl.add(j), q[2]);
        put::<STREAM>(hh.add(j), q[3]);
    }
}

/// Inverse Haar of a block of row pairs of one plane: pair `r` reads `w2` elements of each band
/// at `band_row0[k] + r sh` and writes output rows `2r` and `2r + 1` of `rows` (`2 w2` columns
/// each; the very last row may be missing, cropped away by an odd height). Returns `false`,
/// having written nothing, unless `w2` is a positive multiple of 4 and `rows` holds whole rows.
/// `stream` as in [`dwt_rows`] (used when `rows` is 16-byte aligned).
///
/// # Panics
/// If a band row lies outside `src`.
pub(crate) fn idwt_rows(
    src: &[f32],
    band_row0: [usize; 4],
    sh: usize,
    w2: usize,
    rows: &mut [Out],
    stream: bool,
) -> bool {
    let out_w = 2 * w2;
    if w2 == 0 || w2 % 4 != 0 || rows.len() % out_w != 0 {
        return false;
    }
    let nrows = rows.len() / out_w;
    let out = rows.as_mut_ptr();
    let stream = stream && aligned(&[out]);
    let pairs = nrows.div_ceil(2);
    // The four band rows are four read streams, which the hardware prefetchers follow poorly:
    // ask for every line of a block that fits in L1 comfortably up front, so the misses
    // overlap. A hint only.
    let upfront = if 4 * pairs * w2 * 4 <= PREFETCH_MAX_BYTES {
        band_row0.as_slice()
    } else {
        &[]
    };
    for &s in upfront {
        for r in 0..pairs {
            for col in (0..w2).step_by(16) {
                let at = src.as_ptr().wrapping_add(s + r * sh + col);
                // SAFETY: a prefetch never faults, whatever the address.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) };
            }
        }
    }
    for r in 0..pairs {
        let bands = band_row0.map(|s| &src[s + r * sh..s + r * sh + w2]);
        // SAFETY: each band row holds `w2` elements; output rows `2r` and (when present)
        // `2r + 1` hold `out_w` elements inside `rows`. Streaming stores only when `rows` starts
        // 16-byte aligned, and then every store is (`out_w` and `2j` are multiples of 8).
        unsafe {
            let top = out.add(2 * r * out_w);
            let bottom = (2 * r + 1 < nrows).then(|| top.add(out_w));
            let bands = bands.map(|b| b.as_ptr());
            if stream {
                idwt_row::<true>(bands, w2, top, bottom);
            } else {
                idwt_row::<false>(bands, w2, top, bottom);
            }
        }
    }
    true
}

/// One inverse row pair: `n` (a multiple of 4) elements of each band into `2n` outputs of `top`
/// and of `bottom`.
#[inline(always)]
unsafe fn idwt_row<const STREAM: bool>(
    [ll, lh, hl, hh]: [*const f32; 4],
    n: usize,
    top: *mut Out,
    bottom: Option<*mut Out>,
) {
    for j in (0..n).step_by(4) {
        let q = quad4(
            _mm_loadu_ps(ll.add(j)),
            _mm_loadu_ps(lh.add(j)),
            _mm_loadu_ps(hl.add(j)),
            _mm_loadu_ps(hh.add(j)),
        );
        put::<STREAM>(top.add(2 * j), _mm_unpacklo_ps(q[0], q[1]));
        put::<STREAM>(top.add(2 * j + 4), _mm_unpackhi_ps(q[0], q[1]));
        if let Some(bottom) = bottom {
            put::<STREAM>(bottom.add(2 * j), _mm_unpacklo_ps(q[2], q[3]));
            put::<STREAM>(bottom.add(2 * j + 4), _mm_unpackhi_ps(q[2], q[3]));
        }
    }
}

/// Orders this thread's streaming stores before its later stores (`sfence`); every task that
/// streamed calls it once when it finishes, so the joining thread sees the whole output.
pub(crate) fn fence() {
    // SAFETY: SSE is in the x86-64 baseline.
    unsafe { std::arch::x86_64::_mm_sfence() };
}

//! CPU kernels of the Haar transforms, multi-threaded with rayon.
//!
//! Work is split into tasks of whole output rows of one (batch, channel) plane, so both many
//! small planes and a few large ones keep every thread busy. Contiguous rows take a fast path
//! whose inner loops the compiler vectorises; any other stride takes a general path.

use crate::elem::{Acc, Elem};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Output slots the kernels write exactly once; skipping the zero fill saves a full pass over
/// the output (a third of the memory traffic of a transform).
type Out<T> = MaybeUninit<T>;

/// Runs `fill` over the uninitialised storage of a fresh `Vec` of `n` elements and returns it.
///
/// `fill` must write every slot; both transforms do (every output element is one row entry of
/// exactly one task).
fn filled<T: Elem>(n: usize, fill: impl FnOnce(&mut [Out<T>])) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    fill(&mut out.spare_capacity_mut()[..n]);
    // SAFETY: `fill` initialised all `n` slots (see the callers: each output element belongs to
    // exactly one task row and every row writes all its elements, including the odd tail).
    unsafe { out.set_len(n) };
    out
}

/// Strides (in elements) and start offset of a strided 4-D `(B, C, H, W)` view.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View4 {
    pub start: usize,
    pub stride: [usize; 4],
}

/// Strides (in elements) and start offset of a strided 5-D `(B, C, 4, h, w)` view.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View5 {
    pub start: usize,
    pub stride: [usize; 5],
}

/// Target number of input elements per task: large enough to amortise scheduling, small enough
/// to balance two or more threads on one plane.
const TASK_ELEMS: usize = 1 << 15;

fn rows_per_task(rows: usize, row_elems: usize) -> usize {
    (TASK_ELEMS / row_elems.max(1)).clamp(1, rows.max(1))
}

/// One-level Haar DWT of every `(b, c)` plane of `src` into a contiguous `(B, C, 4, h2, w2)`.
pub(crate) fn dwt<T: Elem>(src: &[T], view: View4, dims: [usize; 4]) -> Vec<T> {
    let [b, c, h, w] = dims;
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let band = h2 * w2;
    let rpt = rows_per_task(h2, 4 * w);
    filled(b * c * 4 * band, |out| {
        let mut tasks = Vec::new();
        for (plane, chunk) in out.chunks_mut(4 * band).enumerate() {
            let (bi, ci) = (plane / c, plane % c);
            let base = view.start + bi * view.stride[0] + ci * view.stride[1];
            let (ll, rest) = chunk.split_at_mut(band);
            let (lh, rest) = rest.split_at_mut(band);
            let (hl, hh) = rest.split_at_mut(band);
            let rows = ll
                .chunks_mut(rpt * w2)
                .zip(lh.chunks_mut(rpt * w2))
                .zip(hl.chunks_mut(rpt * w2).zip(hh.chunks_mut(rpt * w2)));
            for (t, ((ll, lh), (hl, hh))) in rows.enumerate() {
                tasks.push((base, t * rpt, [ll, lh, hl, hh]));
            }
        }
        let (sh, sw) = (view.stride[2], view.stride[3]);
        tasks.into_par_iter().for_each(|(base, row0, bands)| {
            let [ll, lh, hl, hh] = bands;
            let nrows = ll.len() / w2;
            for r in 0..nrows {
                let i = row0 + r;
                let o = r * w2..(r + 1) * w2;
                let top = base + 2 * i * sh;
                let bottom = (2 * i + 1 < h).then_some(top + sh);
                let (ll, lh, hl, hh) = (
                    &mut ll[o.clone()],
                    &mut lh[o.clone()],
                    &mut hl[o.clone()],
                    &mut hh[o],
                );
                if sw == 1 {
                    dwt_row_contig(src, top, bottom, w, ll, lh, hl, hh);
                } else {
                    dwt_row_strided(src, top, bottom, sw, w, ll, lh, hl, hh);
                }
            }
        });
    })
}

/// The four outputs of one 2x2 block.
#[inline(always)]
fn quad<A: Acc>(a: A, b: A, c: A, d: A) -> [A; 4] {
    let h = A::HALF;
    let (s0, d0, s1, d1) = (a + b, a - b, c + d, c - d);
    [(s0 + s1) * h, (s0 - s1) * h, (d0 + d1) * h, (d0 - d1) * h]
}

/// Not inlined on purpose: as a function of its own its slice arguments are known not to alias
/// (`noalias`), so the vectorised row loop needs no run-time overlap checks. Inlined into the
/// task loop it re-checked them on every row (about 10 % of the forward at 32x32 planes).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn dwt_row_contig<T: Elem>(
    src: &[T],
    top: usize,
    bottom: Option<usize>,
    w: usize,
    ll: &mut [Out<T>],
    lh: &mut [Out<T>],
    hl: &mut [Out<T>],
    hh: &mut [Out<T>],
) {
    let full = w / 2;
    let r0 = &src[top..top + w];
    let outs = ll
        .iter_mut()
        .zip(lh.iter_mut())
        .zip(hl.iter_mut().zip(hh.iter_mut()));
    match bottom {
        Some(bot) => {
            let r1 = &src[bot..bot + w];
            let pairs = r0.chunks_exact(2).zip(r1.chunks_exact(2));
            for ((p0, p1), ((ll, lh), (hl, hh))) in pairs.zip(outs) {
                let q = quad(p0[0].up(), p0[1].up(), p1[0].up(), p1[1].up());
                store1(q, ll, lh, hl, hh);
            }
            if w % 2 == 1 {
                let q = quad(
                    r0[w - 1].up(),
                    A0::<T>::zero(),
                    r1[w - 1].up(),
                    A0::<T>::zero(),
                );
                store(full, q, ll, lh, hl, hh);
            }
        }
        None => {
            for (p0, ((ll, lh), (hl, hh))) in r0.chunks_exact(2).zip(outs) {
                let z = A0::<T>::zero();
                let q = quad(p0[0].up(), p0[1].up(), z, z);
                store1(q, ll, lh, hl, hh);
            }
            if w % 2 == 1 {
                let z = A0::<T>::zero();
                store(full, quad(r0[w - 1].up(), z, z, z), ll, lh, hl, hh);
            }
        }
    }
}

type A0<T> = <T as Elem>::A;

#[inline(always)]
fn store<T: Elem>(
    j: usize,
    q: [T::A; 4],
    ll: &mut [Out<T>],
    lh: &mut [Out<T>],
    hl: &mut [Out<T>],
    hh: &mut [Out<T>],
) {
    store1(q, &mut ll[j], &mut lh[j], &mut hl[j], &mut hh[j]);
}

#[inline(always)]
fn store1<T: Elem>(
    q: [T::A; 4],
    ll: &mut Out<T>,
    lh: &mut Out<T>,
    hl: &mut Out<T>,
    hh: &mut Out<T>,
) {
    ll.write(T::down(q[0]));
    lh.write(T::down(q[1]));
    hl.write(T::down(q[2]));
    hh.write(T::down(q[3]));
}

#[allow(clippy::too_many_arguments)]
fn dwt_row_strided<T: Elem>(
    src: &[T],
    top: usize,
    bottom: Option<usize>,
    sw: usize,
    w: usize,
    ll: &mut [Out<T>],
    lh: &mut [Out<T>],
    hl: &mut [Out<T>],
    hh: &mut [Out<T>],
) {
    let z = A0::<T>::zero();
    let at = |row: Option<usize>, col: usize| match row {
        Some(r) if col < w => src[r + col * sw].up(),
        _ => z,
    };
    for j in 0..ll.len() {
        let q = quad(
            at(Some(top), 2 * j),
            at(Some(top), 2 * j + 1),
            at(bottom, 2 * j),
            at(bottom, 2 * j + 1),
        );
        store(j, q, ll, lh, hl, hh);
    }
}

/// Inverse one-level Haar DWT of strided bands `(B, C, 4, h2, w2)` into a contiguous
/// `(B, C, out_h, out_w)`, with `out_h` in `{2*h2 - 1, 2*h2}` (likewise `out_w`).
pub(crate) fn idwt<T: Elem>(
    src: &[T],
    view: View5,
    dims: [usize; 4],
    out_h: usize,
    out_w: usize,
) -> Vec<T> {
    let [b, c, h2, w2] = dims;
    let plane = out_h * out_w;
    let rpt = rows_per_task(h2, 4 * w2);
    filled(b * c * plane, |out| {
        let mut tasks = Vec::new();
        for (p, chunk) in out.chunks_mut(plane).enumerate() {
            let (bi, ci) = (p / c, p % c);
            let base = view.start + bi * view.stride[0] + ci * view.stride[1];
            for (t, rows) in chunk.chunks_mut(2 * rpt * out_w).enumerate() {
                tasks.push((base, t * rpt, rows));
            }
        }
        let [_, _, sk, sh, sw] = view.stride;
        tasks.into_par_iter().for_each(|(base, i0, rows)| {
            let npairs = rows.len().div_ceil(2 * out_w);
            for r in 0..npairs {
                let i = i0 + r;
                let band_row = [0, 1, 2, 3].map(|k| base + k * sk + i * sh);
                let pair = &mut rows[2 * r * out_w..];
                let (top, rest) = pair.split_at_mut(out_w);
                let bottom = (2 * i + 1 < out_h).then(|| &mut rest[..out_w]);
                if sw == 1 {
                    idwt_row_contig(src, band_row, w2, top, bottom);
                } else {
                    idwt_row_strided(src, band_row, sw, w2, top, bottom);
                }
            }
        });
    })
}

/// Not inlined, for the same reason as [`dwt_row_contig`].
#[inline(never)]
fn idwt_row_contig<T: Elem>(
    src: &[T],
    band_row: [usize; 4],
    w2: usize,
    top: &mut [Out<T>],
    bottom: Option<&mut [Out<T>]>,
) {
    let [ll, lh, hl, hh] = band_row.map(|s| &src[s..s + w2]);
    let out_w = top.len();
    let full = out_w / 2;
    let bands = ll.iter().zip(lh.iter()).zip(hl.iter().zip(hh.iter()));
    match bottom {
        Some(bottom) => {
            let outs = top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2));
            for (((ll, lh), (hl, hh)), (t, bt)) in bands.zip(outs) {
                let q = quad(ll.up(), lh.up(), hl.up(), hh.up());
                t[0].write(T::down(q[0]));
                t[1].write(T::down(q[1]));
                bt[0].write(T::down(q[2]));
                bt[1].write(T::down(q[3]));
            }
            if out_w % 2 == 1 {
                let q = quad(ll[full].up(), lh[full].up(), hl[full].up(), hh[full].up());
                top[out_w - 1].write(T::down(q[0]));
                bottom[out_w - 1].write(T::down(q[2]));
            }
        }
        None => {
            for (((ll, lh), (hl, hh)), t) in bands.zip(top.chunks_exact_mut(2)) {
                let q = quad(ll.up(), lh.up(), hl.up(), hh.up());
                t[0].write(T::down(q[0]));
                t[1].write(T::down(q[1]));
            }
            if out_w % 2 == 1 {
                let q = quad(ll[full].up(), lh[full].up(), hl[full].up(), hh[full].up());
                top[out_w - 1].write(T::down(q[0]));
            }
        }
    }
}

fn idwt_row_strided<T: Elem>(
    src: &[T],
    band_row: [usize; 4],
    sw: usize,
    w2: usize,
    top: &mut [Out<T>],
    mut bottom: Option<&mut [Out<T>]>,
) {
    let out_w = top.len();
    for j in 0..w2 {
        let [ll, lh, hl, hh] = band_row.map(|s| src[s + j * sw].up());
        // The synthesis matrix is the analysis matrix (symmetric and orthogonal), so
        // [a, b, c, d] = quad(LL, LH, HL, HH).
        let q = quad(ll, lh, hl, hh);
        top[2 * j].write(T::down(q[0]));
        if 2 * j + 1 < out_w {
            top[2 * j + 1].write(T::down(q[1]));
        }
        if let Some(bottom) = bottom.as_deref_mut() {
            bottom[2 * j].write(T::down(q[2]));
            if 2 * j + 1 < out_w {
                bottom[2 * j + 1].write(T::down(q[3]));
            }
        }
    }
}

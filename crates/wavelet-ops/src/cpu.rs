//! CPU kernels of the Haar transforms, multi-threaded with rayon.
//!
//! Work is split into blocks of whole output rows of one (batch, channel) plane, grouped into
//! tasks of about [`TASK_ELEMS`] inputs, so that both many small planes and a few large ones keep
//! every thread busy at little scheduling cost. Contiguous rows take a fast path
//! whose inner loops the compiler vectorises; any other stride takes a general path.

use crate::elem::{Acc, Elem};
use crate::output;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Output slots the kernels write exactly once; skipping the zero fill saves a full pass over
/// the output (a third of the memory traffic of a transform).
type Out<T> = MaybeUninit<T>;

/// Runs `fill` over the uninitialised storage of a fresh `Vec` of `n` elements and returns it.
///
/// `fill` must write every slot; both transforms do (every output element is one row entry of
/// exactly one task). It also learns whether to write with streaming stores: `stream`, or when
/// `None` what [`output::prepare`] decides for the fresh buffer.
fn filled<T: Elem>(
    n: usize,
    stream: Option<bool>,
    fill: impl FnOnce(&mut [Out<T>], bool),
) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    let slots = &mut out.spare_capacity_mut()[..n];
    let stream = stream.unwrap_or_else(|| output::prepare(slots));
    fill(slots, stream);
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
    dwt_with(src, view, dims, None)
}

/// [`dwt`] with streaming stores forced on or off (`Some`) or chosen by [`output::prepare`].
fn dwt_with<T: Elem>(src: &[T], view: View4, dims: [usize; 4], stream: Option<bool>) -> Vec<T> {
    let [b, c, h, w] = dims;
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let band = h2 * w2;
    let rpt = rows_per_task(h2, 4 * w);
    filled(b * c * 4 * band, stream, |out, stream| {
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
        let per_task = TASK_ELEMS / (2 * rpt * w).max(1);
        run_tasks(&mut tasks, per_task, stream, |(base, row0, bands)| {
            let [ll, lh, hl, hh] = bands;
            let nrows = ll.len() / w2;
            let top0 = *base + 2 * *row0 * sh;
            let last_has_bottom = 2 * (*row0 + nrows) <= h;
            if sw == 1 {
                let bands = [&mut **ll, &mut **lh, &mut **hl, &mut **hh];
                if T::simd_dwt_rows(src, top0, sh, w, last_has_bottom, bands, stream) {
                    return;
                }
            }
            for r in 0..nrows {
                let i = *row0 + r;
                let o = r * w2..(r + 1) * w2;
                let top = *base + 2 * i * sh;
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

/// Runs `work` on every item in parallel, `per_task` consecutive items to a task (at least one),
/// so that many small planes make few tasks. With streaming stores, each task ends with one
/// fence.
fn run_tasks<I: Send>(
    items: &mut [I],
    per_task: usize,
    stream: bool,
    work: impl Fn(&mut I) + Sync,
) {
    items.par_chunks_mut(per_task.max(1)).for_each(|group| {
        group.iter_mut().for_each(&work);
        if stream {
            output::end_streaming();
        }
    });
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
    idwt_with(src, view, dims, out_h, out_w, None)
}

/// [`idwt`] with streaming stores forced on or off (`Some`) or chosen by [`output::prepare`].
fn idwt_with<T: Elem>(
    src: &[T],
    view: View5,
    dims: [usize; 4],
    out_h: usize,
    out_w: usize,
    stream: Option<bool>,
) -> Vec<T> {
    let [b, c, h2, w2] = dims;
    let plane = out_h * out_w;
    let rpt = rows_per_task(h2, 4 * w2);
    filled(b * c * plane, stream, |out, stream| {
        let mut tasks = Vec::new();
        for (p, chunk) in out.chunks_mut(plane).enumerate() {
            let (bi, ci) = (p / c, p % c);
            let base = view.start + bi * view.stride[0] + ci * view.stride[1];
            for (t, rows) in chunk.chunks_mut(2 * rpt * out_w).enumerate() {
                tasks.push((base, t * rpt, rows));
            }
        }
        let [_, _, sk, sh, sw] = view.stride;
        let per_task = TASK_ELEMS / (4 * rpt * w2).max(1);
        run_tasks(&mut tasks, per_task, stream, |(base, i0, rows)| {
            let band_row0 = [0, 1, 2, 3].map(|k| *base + k * sk + *i0 * sh);
            if sw == 1 && out_w == 2 * w2 && T::simd_idwt_rows(src, band_row0, sh, w2, rows, stream)
            {
                return;
            }
            let npairs = rows.len().div_ceil(2 * out_w);
            for r in 0..npairs {
                let i = *i0 + r;
                let band_row = [0, 1, 2, 3].map(|k| *base + k * sk + i * sh);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2x2 block formula written out in scalar f32, the reference the kernels (SIMD or not,
    /// streaming or not) must equal bit for bit.
    fn block(a: f32, b: f32, c: f32, d: f32) -> [f32; 4] {
        let (s0, d0, s1, d1) = (a + b, a - b, c + d, c - d);
        [
            (s0 + s1) * 0.5,
            (s0 - s1) * 0.5,
            (d0 + d1) * 0.5,
            (d0 - d1) * 0.5,
        ]
    }

    fn reference_dwt(x: &[f32], [b, c, h, w]: [usize; 4]) -> Vec<f32> {
        let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
        let mut out = vec![0f32; b * c * 4 * h2 * w2];
        for p in 0..b * c {
            let at = |i: usize, j: usize| {
                if i < h && j < w {
                    x[p * h * w + i * w + j]
                } else {
                    0.0
                }
            };
            for i in 0..h2 {
                for j in 0..w2 {
                    let q = block(
                        at(2 * i, 2 * j),
                        at(2 * i, 2 * j + 1),
                        at(2 * i + 1, 2 * j),
                        at(2 * i + 1, 2 * j + 1),
                    );
                    for (k, v) in q.into_iter().enumerate() {
                        out[((p * 4 + k) * h2 + i) * w2 + j] = v;
                    }
                }
            }
        }
        out
    }

    fn reference_idwt(y: &[f32], [b, c, h2, w2]: [usize; 4], oh: usize, ow: usize) -> Vec<f32> {
        let mut out = vec![0f32; b * c * oh * ow];
        for p in 0..b * c {
            for i in 0..h2 {
                for j in 0..w2 {
                    let band = |k: usize| y[((p * 4 + k) * h2 + i) * w2 + j];
                    let q = block(band(0), band(1), band(2), band(3));
                    for (k, v) in q.into_iter().enumerate() {
                        let (r, s) = (2 * i + k / 2, 2 * j + k % 2);
                        if r < oh && s < ow {
                            out[p * oh * ow + r * ow + s] = v;
                        }
                    }
                }
            }
        }
        out
    }

    fn data(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 37 % 101) as f32) * 0.0317 - 1.3)
            .collect()
    }

    /// Every f32 path (the SIMD blocks with regular or streaming stores, the generic rows, the
    /// strided kernel) equals the scalar formula exactly, for widths that are and are not a
    /// multiple of 8, odd and even heights, and enough planes for several grouped tasks.
    #[test]
    fn f32_kernels_equal_the_scalar_formula_bit_for_bit() {
        let sizes = [
            (1, 1, 1, 1),
            (2, 3, 7, 9),
            (1, 2, 32, 32),
            (3, 1, 5, 2),
            (1, 1, 8, 8),
            (2, 2, 6, 26),
            (1, 1, 17, 33),
            (1, 2, 4, 20),
            (2, 1, 7, 16),
            (1, 3, 9, 24),
            (2, 40, 32, 32),
        ];
        for (b, c, h, w) in sizes {
            let dims = [b, c, h, w];
            let x = data(b * c * h * w);
            let expect = reference_dwt(&x, dims);
            let view = View4 {
                start: 0,
                stride: [c * h * w, h * w, w, 1],
            };
            for stream in [false, true] {
                assert_eq!(
                    dwt_with(&x, view, dims, Some(stream)),
                    expect,
                    "dwt {dims:?} stream {stream}"
                );
            }
            // A view starting one element in: rows no longer 16-byte aligned in the input.
            let mut shifted = vec![9.0f32];
            shifted.extend_from_slice(&x);
            let view1 = View4 { start: 1, ..view };
            assert_eq!(
                dwt_with(&shifted, view1, dims, Some(true)),
                expect,
                "dwt {dims:?} offset"
            );
            // The transposed view goes through the strided kernel.
            let tview = View4 {
                start: 0,
                stride: [c * h * w, h * w, 1, w],
            };
            let xt: Vec<f32> = (0..b * c)
                .flat_map(|p| (0..w).flat_map(move |j| (0..h).map(move |i| (p, i, j))))
                .map(|(p, i, j)| x[p * h * w + i * w + j])
                .collect();
            assert_eq!(
                dwt_with(&x, tview, [b, c, w, h], Some(true)),
                reference_dwt(&xt, [b, c, w, h]),
                "dwt {dims:?} transposed"
            );

            let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
            let bdims = [b, c, h2, w2];
            let bview = View5 {
                start: 0,
                stride: [c * 4 * h2 * w2, 4 * h2 * w2, h2 * w2, w2, 1],
            };
            for (oh, ow) in [(h, w), (2 * h2, 2 * w2)] {
                let expect = reference_idwt(&expect, bdims, oh, ow);
                for stream in [false, true] {
                    assert_eq!(
                        idwt_with(&reference_dwt(&x, dims), bview, bdims, oh, ow, Some(stream)),
                        expect,
                        "idwt {dims:?} -> {oh}x{ow} stream {stream}"
                    );
                }
            }
        }
    }
}

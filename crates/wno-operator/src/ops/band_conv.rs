//! The band convolutions of the wavelet conv as one custom op on the `(B, C, 4, h, w)` Haar
//! coefficients, with its own backward.
//!
//! Composed from candle ops, the two 1x1 convolutions on the bands need a `narrow` of LL, a
//! gathering copy of the detail bands, two batched matmuls, bias adds and a `cat` back into
//! the band layout, and candle's `backward()` pays for every one of those nodes again (a
//! zero-filled gradient buffer plus an add for each, and a zero-padded copy for each
//! `narrow`). Here the matrix products run with the `gemm` crate directly on the strided
//! bands, writing the output in the layout the inverse DWT reads, and the backward is two
//! custom ops (input gradient, weight gradient) of the same kind.
//!
//! Layout: input channel `c` band `k` (0 = LL, 1..3 = LH, HL, HH) is row `c * 4 + k` of a
//! `(C * 4, l)` matrix per batch item (`l = h * w`). The weights arrive augmented with their
//! bias as a last column: `ll` `(C', C + 1)` acts on LL, `hp` `(3 C', 3 C + 1)` on the detail
//! bands stacked as channel `c * 3 + o` (PyTorch's `conv_hp` layout), so that the three
//! detail outputs are `y[c', 1 + o'] = sum_{c, o} hp[c' * 3 + o', c * 3 + o] x[c, 1 + o]`.
//! The kernels copy the coefficients into a band-major matrix with the batch along the columns
//! and reorder `hp` to match, so the whole op is two large products (LL and detail).

use super::real::{slice, sum, unsupported, BackendStorage as _, Real};
use crate::error::{OperatorError, Result};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

/// Channel counts and band size of one band convolution.
#[derive(Clone, Copy, Debug)]
struct Dims {
    batch: usize,
    cin: usize,
    cout: usize,
    /// Pixels per band (`h * w`).
    l: usize,
}

impl Dims {
    fn from_layouts(x: &Layout, ll: &Layout) -> Self {
        let d = x.dims();
        Self { batch: d[0], cin: d[1], cout: ll.dims()[0], l: d[3] * d[4] }
    }
    fn ll_cols(&self) -> usize {
        self.cin + 1
    }
    fn hp_cols(&self) -> usize {
        3 * self.cin + 1
    }
}

/// A strided matrix operand: pointer offset (in elements), row stride, column stride.
#[derive(Clone, Copy, Debug)]
struct Mat {
    offset: usize,
    rs: usize,
    cs: usize,
}

/// `dst (m x n) = [dst +] lhs (m x k) @ rhs (k x n)` on strided operands.
///
/// # Safety
/// Every element addressed through the offsets and strides must lie inside its slice, and `dst`
/// must not alias `lhs` or `rhs`.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul<T: Real>(
    dst: &mut [T],
    d: Mat,
    accumulate: bool,
    lhs: &[T],
    a: Mat,
    rhs: &[T],
    b: Mat,
    (m, n, k): (usize, usize, usize),
    par: Parallelism,
) {
    if m == 0 || n == 0 || k == 0 {
        // Only reachable with zero channels; nothing to add (and `dst` starts zeroed or biased).
        return;
    }
    debug_assert!(d.offset + (m - 1) * d.rs + (n - 1) * d.cs < dst.len());
    debug_assert!(a.offset + (m - 1) * a.rs + (k - 1) * a.cs < lhs.len());
    debug_assert!(b.offset + (k - 1) * b.rs + (n - 1) * b.cs < rhs.len());
    gemm::gemm(
        m,
        n,
        k,
        dst.as_mut_ptr().add(d.offset),
        d.cs as isize,
        d.rs as isize,
        accumulate,
        lhs.as_ptr().add(a.offset),
        a.cs as isize,
        a.rs as isize,
        rhs.as_ptr().add(b.offset),
        b.cs as isize,
        b.rs as isize,
        T::c(1.0),
        T::c(1.0),
        false,
        false,
        false,
        par,
    )
}

/// The batch is folded into the columns of each product (see [`to_band_major`]), so every
/// product is large enough for gemm to split over all rayon threads by itself.
const PAR: Parallelism = Parallelism::Rayon(0);

/// Copies `(B, ch, 4, l)` coefficients into the band-major `(4 ch, B l)` matrix whose row
/// `k * ch + c` holds band `k` of channel `c` for every batch item side by side: the detail
/// bands become one `(3 ch, B l)` block with rows `o * ch + c`, so each band convolution is one
/// matrix product over the whole batch (about 1.5x the throughput of per-item products at
/// width 192).
fn to_band_major<T: Real>(x: &[T], batch: usize, ch: usize, l: usize) -> Vec<T> {
    let mut out = vec![T::default(); x.len()];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(batch * l).enumerate().for_each(|(row, dst)| {
        let (k, c) = (row / ch, row % ch);
        for (b, dst) in dst.chunks_mut(l).enumerate() {
            let src = ((b * ch + c) * 4 + k) * l;
            dst.copy_from_slice(&x[src..src + l]);
        }
    });
    out
}

/// The inverse of [`to_band_major`], adding `bias[row]` (one per band-major row) when given.
fn from_band_major<T: Real>(xt: &[T], batch: usize, ch: usize, l: usize, bias: Option<&[T]>) -> Vec<T> {
    let mut out = vec![T::default(); xt.len()];
    out.par_chunks_mut(4 * l).enumerate().for_each(|(plane, dst)| {
        let (b, c) = (plane / ch, plane % ch);
        for (k, dst) in dst.chunks_mut(l).enumerate() {
            let row = k * ch + c;
            let src = &xt[row * batch * l + b * l..row * batch * l + (b + 1) * l];
            match bias {
                Some(bias) => dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s + bias[row]),
                None => dst.copy_from_slice(src),
            }
        }
    });
    out
}

/// The detail weights `hp` `(3 C', 3 C + 1)` (rows `c' * 3 + o'`, columns `c * 3 + o`, bias
/// last) reordered to the band-major `(3 C', 3 C)` matrix with rows `o' * C' + c'` and columns
/// `o * C + c`, and the biases of all `4 C'` band-major output rows.
fn band_major_weights<T: Real>(ll: &[T], hp: &[T], dm: Dims) -> (Vec<T>, Vec<T>) {
    let Dims { cin, cout, .. } = dm;
    let (llc, hpc) = (dm.ll_cols(), dm.hp_cols());
    let mut w = vec![T::default(); 9 * cout * cin];
    let mut bias = vec![T::default(); 4 * cout];
    for co in 0..cout {
        bias[co] = ll[co * llc + cin];
        for o2 in 0..3 {
            let src = &hp[(co * 3 + o2) * hpc..(co * 3 + o2 + 1) * hpc];
            let row = o2 * cout + co;
            bias[cout + row] = src[3 * cin];
            for o in 0..3 {
                for c in 0..cin {
                    w[row * 3 * cin + o * cin + c] = src[c * 3 + o];
                }
            }
        }
    }
    (w, bias)
}

/// The band convolution (`transpose = false`: `x` `(B, C, 4, l)` to `(B, C', 4, l)`, plus the
/// biases) or its adjoint (`transpose = true`: `(B, C', 4, l)` to `(B, C, 4, l)`, no bias): the
/// same two products with the weights read transposed (row and column strides swapped).
fn apply<T: Real>(x: &[T], ll: &[T], hp: &[T], dm: Dims, transpose: bool) -> Vec<T> {
    let Dims { batch, cin, cout, l } = dm;
    let n = batch * l;
    let (w, bias) = band_major_weights(ll, hp, dm);
    let (ch_in, ch_out) = if transpose { (cout, cin) } else { (cin, cout) };
    // A row-major weight matrix with `cols` columns, or its transpose.
    let weight = |cols: usize| if transpose { Mat { offset: 0, rs: 1, cs: cols } } else { Mat { offset: 0, rs: cols, cs: 1 } };
    let xt = to_band_major(x, batch, ch_in, l);
    let mut yt = vec![T::default(); 4 * ch_out * n];
    // SAFETY: `yt` is (4 ch_out, n), `xt` is (4 ch_in, n), `ll` is (C', C + 1) and `w` is
    // (3 C', 3 C), read as (ch_out, ch_in) and (3 ch_out, 3 ch_in) through `weight`; every
    // operand below is addressed inside those bounds and `yt` is a distinct buffer.
    unsafe {
        let (y_ll, y_hp) = yt.split_at_mut(ch_out * n);
        let rows = |offset| Mat { offset, rs: n, cs: 1 };
        matmul(y_ll, rows(0), false, ll, weight(dm.ll_cols()), &xt, rows(0), (ch_out, n, ch_in), PAR);
        matmul(y_hp, rows(0), false, &w, weight(3 * cin), &xt, rows(ch_in * n), (3 * ch_out, n, 3 * ch_in), PAR);
    }
    from_band_major(&yt, batch, ch_out, l, (!transpose).then_some(bias.as_slice()))
}

/// Forward: `y = conv(x) + bias`, `x` `(B, C, 4, l)`, returns `(B, C', 4, l)`.
fn forward<T: Real>(x: &[T], ll: &[T], hp: &[T], dm: Dims) -> Vec<T> {
    apply(x, ll, hp, dm, false)
}

/// Input gradient: `gx = conv^T(g)`, `g` `(B, C', 4, l)`, returns `(B, C, 4, l)`.
fn input_grad<T: Real>(g: &[T], ll: &[T], hp: &[T], dm: Dims) -> Vec<T> {
    apply(g, ll, hp, dm, true)
}

/// `a (m, n) @ b (k, n)^T` over contiguous row-major `a` and `b`, with the long `n` split over
/// the rayon threads (gemm itself would split the small `(m, k)` output instead, which packs
/// both operands once per thread: 1.6x slower here).
fn matmul_nt<T: Real>(a: &[T], b: &[T], (m, k, n): (usize, usize, usize)) -> Vec<T> {
    let parts = rayon::current_num_threads().min(n / 64).max(1);
    let step = n.div_ceil(parts);
    (0..parts)
        .into_par_iter()
        .map(|p| {
            let (lo, hi) = (p * step, ((p + 1) * step).min(n));
            let mut acc = vec![T::default(); m * k];
            // SAFETY: `a` is (m, n) and `b` is (k, n), both read in columns lo..hi; `acc` is (m, k).
            unsafe {
                matmul(
                    &mut acc,
                    Mat { offset: 0, rs: k, cs: 1 },
                    false,
                    a,
                    Mat { offset: lo, rs: n, cs: 1 },
                    b,
                    Mat { offset: lo, rs: 1, cs: n },
                    (m, k, hi - lo),
                    Parallelism::None,
                )
            };
            acc
        })
        .reduce(
            || vec![T::default(); m * k],
            |mut x, y| {
                x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
                x
            },
        )
}

/// Weight gradients, summed over the batch: returns the flat `(C', C + 1)` LL gradient
/// followed by the `(3 C', 3 C + 1)` detail gradient (bias gradients in the last columns).
fn weight_grad<T: Real>(g: &[T], x: &[T], dm: Dims) -> Vec<T> {
    let Dims { batch, cin, cout, l } = dm;
    let n = batch * l;
    let (llc, hpc) = (dm.ll_cols(), dm.hp_cols());
    let gt = to_band_major(g, batch, cout, l);
    let xt = to_band_major(x, batch, cin, l);
    let g_ll = matmul_nt(&gt[..cout * n], &xt[..cin * n], (cout, cin, n));
    let g_hp = matmul_nt(&gt[cout * n..], &xt[cin * n..], (3 * cout, 3 * cin, n));
    let bias: Vec<T> = gt.par_chunks(n.max(1)).map(|row| sum(row)).collect();
    let mut out = vec![T::default(); cout * llc + 3 * cout * hpc];
    let (o_ll, o_hp) = out.split_at_mut(cout * llc);
    for co in 0..cout {
        o_ll[co * llc..co * llc + cin].copy_from_slice(&g_ll[co * cin..(co + 1) * cin]);
        o_ll[co * llc + cin] = bias[co];
        for o2 in 0..3 {
            let row = o2 * cout + co;
            let dst = &mut o_hp[(co * 3 + o2) * hpc..(co * 3 + o2 + 1) * hpc];
            for o in 0..3 {
                for c in 0..cin {
                    dst[c * 3 + o] = g_hp[row * 3 * cin + o * cin + c];
                }
            }
            dst[3 * cin] = bias[cout + row];
        }
    }
    out
}

/// Forward op `(x, ll, hp) -> y`.
#[derive(Clone, Copy, Debug)]
struct BandConv;

/// Input-gradient op `(g, ll, hp) -> gx`.
#[derive(Clone, Copy, Debug)]
struct BandConvInputGrad;

/// Weight-gradient op `(g, x) -> [gll, ghp]` (flat).
#[derive(Clone, Copy, Debug)]
struct BandConvWeightGrad;

impl CustomOp3 for BandConv {
    fn name(&self) -> &'static str {
        "band-conv"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dm = Dims::from_layouts(l1, l2);
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, dm)),
            CpuStorage::F64(_) => CpuStorage::F64(forward(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, dm)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        let d = l1.dims();
        Ok((out, Shape::from((dm.batch, dm.cout, 4, d[3], d[4]))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        ll: &Tensor,
        hp: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = g.contiguous()?;
        let gx = g.apply_op3_no_bwd(ll, hp, &BandConvInputGrad)?;
        let gw = g.apply_op2_no_bwd(x, &BandConvWeightGrad)?;
        let n_ll = ll.elem_count();
        let gll = gw.narrow(0, 0, n_ll)?.reshape(ll.shape())?;
        let ghp = gw.narrow(0, n_ll, hp.elem_count())?.reshape(hp.shape())?;
        Ok((Some(gx), Some(gll), Some(ghp)))
    }
}

impl CustomOp3 for BandConvInputGrad {
    fn name(&self) -> &'static str {
        "band-conv-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        // `g` has C' channels; the weights say C.
        let d = l1.dims();
        let cin = l2.dims()[1] - 1;
        let dm = Dims { batch: d[0], cin, cout: d[1], l: d[3] * d[4] };
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(input_grad(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, dm)),
            CpuStorage::F64(_) => CpuStorage::F64(input_grad(slice(n, s1, l1)?, slice(n, s2, l2)?, slice(n, s3, l3)?, dm)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, Shape::from((d[0], cin, 4, d[3], d[4]))))
    }
}

impl CustomOp2 for BandConvWeightGrad {
    fn name(&self) -> &'static str {
        "band-conv-weight-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (dg, dx) = (l1.dims(), l2.dims());
        let dm = Dims { batch: dg[0], cin: dx[1], cout: dg[1], l: dg[3] * dg[4] };
        let n = self.name();
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(weight_grad(slice(n, s1, l1)?, slice(n, s2, l2)?, dm)),
            CpuStorage::F64(_) => CpuStorage::F64(weight_grad(slice(n, s1, l1)?, slice(n, s2, l2)?, dm)),
            _ => return Err(unsupported(n, s1.dtype())),
        };
        Ok((out, Shape::from(dm.cout * dm.ll_cols() + 3 * dm.cout * dm.hp_cols())))
    }
}

/// Whether [`band_conv`] runs as the fused op (CPU, f32 or f64) rather than composed of candle
/// ops.
fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// The two band convolutions of the wavelet conv on Haar coefficients `x` `(B, C, 4, h, w)`
/// (bands LL, LH, HL, HH on dim 2): `w_ll` `(C', C)` with bias `b_ll` `(C',)` on LL, and `w_hp`
/// `(3 C', 3 C)` with bias `b_hp` `(3 C',)` on the detail bands stacked as channel `c * 3 + o`.
/// Returns the `(B, C', 4, h, w)` coefficients; differentiable in every argument.
///
/// On CPU with f32/f64 one fused op (see the module docs); elsewhere candle's matmul.
pub(crate) fn band_conv(x: &Tensor, w_ll: &Tensor, b_ll: &Tensor, w_hp: &Tensor, b_hp: &Tensor) -> Result<Tensor> {
    const OP: &str = "band_conv";
    let (b, cin, four, h, w) = x.dims5()?;
    let cout = w_ll.dim(0)?;
    if four != 4 {
        return Err(OperatorError::shape(OP, format!("coefficients (B, {cin}, 4, h, w)"), x));
    }
    for (t, want) in [(w_ll, vec![cout, cin]), (b_ll, vec![cout]), (w_hp, vec![3 * cout, 3 * cin]), (b_hp, vec![3 * cout])] {
        if t.dims() != want.as_slice() {
            return Err(OperatorError::shape(OP, format!("{want:?}"), t));
        }
    }
    if !fused(x) {
        return band_conv_composed(x, w_ll, b_ll, w_hp, b_hp);
    }
    let ll = Tensor::cat(&[w_ll, &b_ll.reshape((cout, 1))?], 1)?;
    let hp = Tensor::cat(&[w_hp, &b_hp.reshape((3 * cout, 1))?], 1)?;
    let y = x.contiguous()?.apply_op3(&ll.contiguous()?, &hp.contiguous()?, BandConv)?;
    debug_assert_eq!(y.dims(), &[b, cout, 4, h, w]);
    Ok(y)
}

/// [`band_conv`] composed of candle ops (any device and dtype).
pub(crate) fn band_conv_composed(x: &Tensor, w_ll: &Tensor, b_ll: &Tensor, w_hp: &Tensor, b_hp: &Tensor) -> Result<Tensor> {
    let (b, cin, _, h2, w2) = x.dims5()?;
    let cout = w_ll.dim(0)?;
    let l = h2 * w2;
    let bands = x.reshape((b, cin, 4, l))?;
    // LL is a strided view (row stride 4l) that the GEMM reads in place; the detail bands
    // are gathered into the (B, 3C, l) layout with channel c * 3 + o.
    let ll = bands.narrow(2, 0, 1)?.squeeze(2)?;
    let detail = bands.narrow(2, 1, 3)?.reshape((b, 3 * cin, l))?;
    let ll = super::pointwise(&ll, w_ll, b_ll)?.reshape((b, cout, 1, l))?;
    let detail = super::pointwise(&detail, w_hp, b_hp)?.reshape((b, cout, 3, l))?;
    Ok(Tensor::cat(&[ll, detail], 2)?.reshape((b, cout, 4, h2, w2))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn rand(shape: &[usize], seed: u64, dtype: DType) -> Tensor {
        // A deterministic pattern in [-1, 1] (no RNG state shared between tests).
        let n: usize = shape.iter().product();
        let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7548 + seed as f64 * 0.5698).fract() * 2.0 - 1.0).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
    }

    /// The fused op and its gradients equal the composed candle graph, for batch sizes below
    /// and above the thread count, C' != C, and an odd band size.
    #[test]
    fn fused_equals_composed_with_gradients() {
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 2e-5)] {
            for &(b, cin, cout, h, w) in &[(1usize, 3usize, 5usize, 3usize, 5usize), (5, 4, 4, 4, 4), (3, 6, 2, 1, 1)] {
                let x = Var::from_tensor(&rand(&[b, cin, 4, h, w], 1, dtype)).unwrap();
                let wll = Var::from_tensor(&rand(&[cout, cin], 2, dtype)).unwrap();
                let bll = Var::from_tensor(&rand(&[cout], 3, dtype)).unwrap();
                let whp = Var::from_tensor(&rand(&[3 * cout, 3 * cin], 4, dtype)).unwrap();
                let bhp = Var::from_tensor(&rand(&[3 * cout], 5, dtype)).unwrap();
                let probe = rand(&[b, cout, 4, h, w], 6, dtype);
                let fused = band_conv(&x, &wll, &bll, &whp, &bhp).unwrap();
                let composed = band_conv_composed(&x, &wll, &bll, &whp, &bhp).unwrap();
                assert!(max_diff(&fused, &composed) < tol, "forward {dtype:?} {b}x{cin}->{cout} {h}x{w}");
                let gf = (fused * &probe).unwrap().sum_all().unwrap().backward().unwrap();
                let gc = (composed * &probe).unwrap().sum_all().unwrap().backward().unwrap();
                for (name, v) in [("x", &x), ("w_ll", &wll), ("b_ll", &bll), ("w_hp", &whp), ("b_hp", &bhp)] {
                    let (a, c) = (gf.get(v).unwrap(), gc.get(v).unwrap());
                    assert!(max_diff(a, c) < tol * 10.0, "grad {name} {dtype:?} {b}x{cin}->{cout} {h}x{w}: {}", max_diff(a, c));
                }
            }
        }
    }

    /// The input gradient is the adjoint of the (bias-free) forward: <A x, y> = <x, A^T y>.
    #[test]
    fn input_grad_is_the_adjoint() {
        let dm = Dims { batch: 2, cin: 3, cout: 4, l: 6 };
        let x: Vec<f64> = (0..dm.batch * dm.cin * 4 * dm.l).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = (0..dm.batch * dm.cout * 4 * dm.l).map(|i| (i as f64 * 0.53).cos()).collect();
        let mut ll: Vec<f64> = (0..dm.cout * dm.ll_cols()).map(|i| (i as f64 * 0.11).sin()).collect();
        let mut hp: Vec<f64> = (0..3 * dm.cout * dm.hp_cols()).map(|i| (i as f64 * 0.19).cos()).collect();
        for co in 0..dm.cout {
            ll[co * dm.ll_cols() + dm.cin] = 0.0;
        }
        for r in 0..3 * dm.cout {
            hp[r * dm.hp_cols() + 3 * dm.cin] = 0.0;
        }
        let ax = forward(&x, &ll, &hp, dm);
        let aty = input_grad(&y, &ll, &hp, dm);
        let lhs: f64 = ax.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&aty).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-10 * lhs.abs().max(1.0), "{lhs} vs {rhs}");
    }

    #[test]
    fn rejects_bad_shapes() {
        let x = rand(&[1, 2, 4, 3, 3], 1, DType::F32);
        let (wll, bll) = (rand(&[3, 2], 2, DType::F32), rand(&[3], 3, DType::F32));
        let (whp, bhp) = (rand(&[9, 6], 4, DType::F32), rand(&[9], 5, DType::F32));
        assert!(band_conv(&x, &wll, &bll, &whp, &bhp).is_ok());
        assert!(band_conv(&rand(&[1, 2, 3, 3, 3], 1, DType::F32), &wll, &bll, &whp, &bhp).is_err());
        assert!(band_conv(&x, &wll, &bll, &rand(&[9, 5], 4, DType::F32), &bhp).is_err());
        assert!(band_conv(&x, &wll, &rand(&[2], 3, DType::F32), &whp, &bhp).is_err());
    }
}


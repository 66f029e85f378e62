//! Frechet distance between two sets of feature vectors, and FD-VGG16.

use candle_core::{DType, Device, Tensor};

use crate::check;
use crate::eigen::{symmetric_eigen, symmetric_eigenvalues};
use crate::error::{LossError, Result};
use crate::vgg::{Vgg16, VggTap};

/// Mean and covariance of a set of `n` feature vectors of dimension `d`, in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStats {
    /// Number of vectors.
    pub n: usize,
    /// Dimension.
    pub dim: usize,
    /// Mean, `dim` values.
    pub mean: Vec<f64>,
    /// Unbiased covariance (divides by `n - 1`, like `numpy.cov`), `dim x dim` row-major.
    pub cov: Vec<f64>,
}

impl FeatureStats {
    /// Statistics of the rows of an `(N, D)` tensor of a floating-point dtype (f32, f64, f16 or
    /// bf16; computed in f64). Needs `N >= 2`.
    ///
    /// # Errors
    /// [`LossError::UnsupportedDType`] for an integer dtype, [`LossError::BadShape`] /
    /// [`LossError::Statistics`] for anything but `N >= 2` vectors of dimension `D >= 1`, and
    /// [`LossError::NonFiniteStatistics`] for NaN or infinite features, or finite ones so
    /// large that their mean or covariance overflows f64.
    pub fn from_features(features: &Tensor) -> Result<Self> {
        Self::of_set("FeatureStats::from_features", "the features", features)
    }

    /// [`from_features`](Self::from_features) with errors that name the operation `op` and the
    /// input `set` ("the features of set A").
    fn of_set(op: &'static str, set: &str, features: &Tensor) -> Result<Self> {
        check::float_dtype(op, features)?;
        let (n, d) = match *features.dims() {
            [n, d] => (n, d),
            _ => {
                return Err(LossError::BadShape {
                    op,
                    expected: format!("an (N, D) matrix of feature vectors for {set}"),
                    got: features.dims().to_vec(),
                })
            }
        };
        if n < 2 || d == 0 {
            return Err(LossError::Statistics {
                op,
                reason: format!("{set}: need at least 2 feature vectors of dimension >= 1, got {n} of dimension {d}"),
            });
        }
        if !check::all_finite(features)? {
            return Err(LossError::NonFiniteStatistics {
                op,
                what: set.to_string(),
                shape: vec![n, d],
                problem: format!("contain NaN or infinite values (dtype {:?})", features.dtype()),
            });
        }
        // Centred rows through candle's GEMM (f64 on the CPU): `Xc^T Xc / (n - 1)`.
        let x = features.to_dtype(DType::F64)?.to_device(&Device::Cpu)?;
        let overflow = |what: &str, shape: Vec<usize>| -> Result<LossError> {
            let largest = x.abs()?.max_all()?.to_scalar::<f64>()?;
            Ok(LossError::NonFiniteStatistics {
                op,
                what: format!("the {what} of {set}"),
                shape,
                problem: format!(
                    "overflows f64: the features (shape [{n}, {d}]) are finite but as large as {largest:e} in magnitude; rescale them"
                ),
            })
        };
        let mean_row = x.mean_keepdim(0)?;
        let mean = mean_row.flatten_all()?.to_vec1::<f64>()?;
        if mean.iter().any(|v| !v.is_finite()) {
            return Err(overflow("mean", vec![d])?);
        }
        let xc = x.broadcast_sub(&mean_row)?;
        let mut cov = xc.t()?.matmul(&xc)?.affine(1.0 / (n - 1) as f64, 0.0)?.flatten_all()?.to_vec1::<f64>()?;
        if cov.iter().any(|v| !v.is_finite()) {
            return Err(overflow("covariance", vec![d, d])?);
        }
        // Exactly symmetric (the GEMM may sum the two triangles in different orders).
        for i in 0..d {
            for j in 0..i {
                let v = 0.5 * (cov[i * d + j] + cov[j * d + i]);
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        Ok(Self { n, dim: d, mean, cov })
    }

    /// Fails unless the mean holds `dim` and the covariance `dim * dim` values, all finite (the
    /// fields are public, so statistics may come from elsewhere).
    fn validate(&self, op: &'static str, set: &str) -> Result<()> {
        let d = self.dim;
        if self.mean.len() != d || Some(self.cov.len()) != d.checked_mul(d) {
            return Err(LossError::Statistics {
                op,
                reason: format!(
                    "{set}: dimension {d} needs a mean of {d} values and a {d}x{d} covariance, got {} and {} values",
                    self.mean.len(),
                    self.cov.len()
                ),
            });
        }
        for (what, values, shape) in [("mean", &self.mean, vec![d]), ("covariance", &self.cov, vec![d, d])] {
            if values.iter().any(|v| !v.is_finite()) {
                return Err(LossError::NonFiniteStatistics {
                    op,
                    what: format!("the {what} of {set}"),
                    shape,
                    problem: "has NaN or infinite entries".into(),
                });
            }
        }
        Ok(())
    }
}

/// `2^e`, exactly, for `|e| <= 1022`.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// Frechet distance `|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2))` between two Gaussians.
///
/// `tr(sqrt(S1 S2))` is computed as `tr(sqrt(sqrt(S1) S2 sqrt(S1)))`, a symmetric positive
/// semi-definite matrix, with symmetric eigen-decompositions (eigenvalues within round-off of
/// 0, `n * eps * max`, set to 0): stable for singular covariances (fewer samples than
/// dimensions), where the `scipy.linalg.sqrtm` route of the usual FID code needs an epsilon.
/// The covariances go into the decompositions scaled by a power of 4 (exactly), so the products
/// neither overflow nor underflow whatever the scale of the features.
/// For the 2048-d Inception features this takes about 20 s on 2 cores (`O(d^3)`, GEMM for the
/// products).
///
/// Accuracy and sign: the distance is non-negative for positive semi-definite covariances,
/// but it is computed to about `tol = sqrt(d eps) (|tr S1| + |tr S2|)` (`6.7e-7` of the traces
/// for `d = 2048`, `2.1e-8` for `d = 2`): an eigenvalue of `d eps` of the largest, near the
/// round-off floor, has a square root of `sqrt(d eps)`. Typical errors are far smaller (a few
/// `d eps`), but identical or nearly identical sets can come out slightly below 0 (e.g.
/// `-2e-13`). Results in `[-tol, 0)` are returned as 0. A more negative result is not
/// round-off but covariances that are not positive semi-definite (statistics built by hand):
/// it is an error, never hidden.
///
/// # Errors
/// [`LossError::Statistics`] for mismatched dimensions, inconsistent statistics, a distance
/// below `-tol` or one that overflows f64; [`LossError::NonFiniteStatistics`] for a NaN or
/// infinite mean or covariance (naming set A = `a` or set B = `b`); [`LossError::Linalg`] if
/// an eigendecomposition fails to converge.
pub fn frechet_distance_from_stats(a: &FeatureStats, b: &FeatureStats) -> Result<f64> {
    const OP: &str = "frechet_distance";
    if a.dim != b.dim {
        return Err(LossError::Statistics {
            op: OP,
            reason: format!("feature dimensions differ: {} (set A) vs {} (set B)", a.dim, b.dim),
        });
    }
    a.validate(OP, "set A")?;
    b.validate(OP, "set B")?;
    let d = a.dim;
    let mean_term: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y) * (x - y)).sum();
    let tr1: f64 = (0..d).map(|i| a.cov[i * d + i]).sum();
    let tr2: f64 = (0..d).map(|i| b.cov[i * d + i]).sum();
    // Both covariances times 4^-k, k chosen so that their largest entry is in [1, 4): then
    // tr sqrt(S1 S2) = 4^k tr sqrt(S1' S2') and sqrt(S1) = 2^k sqrt(S1'), both exactly (a power
    // of 4, not 2, keeps the square roots exact), and the products below stay in range.
    let top = a.cov.iter().chain(&b.cov).fold(0f64, |m, v| m.max(v.abs()));
    let k = if top > 0.0 { (top.log2().floor() as i32).clamp(-1000, 1000).div_euclid(2) } else { 0 };
    let scaled = |cov: &[f64]| -> Vec<f64> { cov.iter().map(|v| v * pow2(-2 * k)).collect() };
    let linalg = |what: &'static str| move |e: LossError| LossError::Linalg { op: OP, reason: format!("eigenvalues of {what} ({d}x{d}): {e}") };
    // sqrt(S1) = V diag(sqrt(l)) V^T, and sqrt(S1) S2 sqrt(S1), with candle's GEMM.
    let (l1, v1) = symmetric_eigen(&scaled(&a.cov), d).map_err(linalg("the covariance of set A"))?;
    let s: Vec<f64> = resolved(&l1).map(f64::sqrt).collect();
    let root: Vec<f64> = v1.iter().enumerate().map(|(i, v)| v * s[i % d]).collect();
    let square = |v: Vec<f64>| Tensor::from_vec(v, (d, d), &Device::Cpu);
    let v1 = square(v1)?;
    let r = square(root)?.matmul(&v1.t()?)?;
    let m = r.matmul(&square(scaled(&b.cov))?)?.matmul(&r)?.flatten_all()?.to_vec1::<f64>()?;
    let lm = symmetric_eigenvalues(&m, d).map_err(linalg("sqrt(S_A) S_B sqrt(S_A)"))?;
    let tr_sqrt = resolved(&lm).map(f64::sqrt).sum::<f64>() * pow2(2 * k);
    let magnitude = mean_term + tr1 + tr2;
    let fd = magnitude - 2.0 * tr_sqrt;
    if !fd.is_finite() || !magnitude.is_finite() {
        return Err(LossError::Statistics {
            op: OP,
            reason: format!(
                "the distance of these {d}-d statistics overflows f64 (|mu_A - mu_B|^2 = {mean_term:e}, tr S_A = {tr1:e}, \
                 tr S_B = {tr2:e}); rescale the features"
            ),
        });
    }
    let tol = (d as f64 * f64::EPSILON).sqrt() * (tr1.abs() + tr2.abs());
    if fd >= 0.0 {
        Ok(fd)
    } else if fd >= -tol {
        Ok(0.0)
    } else {
        Err(LossError::Statistics {
            op: OP,
            reason: format!(
                "the distance came out as {fd:e}, below the round-off bound -{tol:e} of {d}-d statistics with \
                 tr S_A = {tr1:e} and tr S_B = {tr2:e}: the covariances are not positive semi-definite"
            ),
        })
    }
}

/// The eigenvalues of a positive semi-definite matrix with round-off removed: values below
/// `n * eps * max(l)`, which a backward-stable eigensolver cannot tell from 0, are 0 (their
/// square roots, ~1e-8 of the largest, would otherwise add up over the hundreds of null
/// directions of a covariance estimated from fewer samples than dimensions).
fn resolved(l: &[f64]) -> impl Iterator<Item = f64> + '_ {
    let top = l.iter().fold(0f64, |m, v| m.max(*v));
    let tol = l.len() as f64 * f64::EPSILON * top;
    l.iter().map(move |v| if *v > tol { *v } else { 0.0 })
}

/// Frechet distance between the rows of two `(N, D)` feature tensors (see
/// [`frechet_distance_from_stats`]).
///
/// ```
/// # use candle_core::{Device, Tensor};
/// // Two 1-D sets: N(0, var 1) sample vs the same sample shifted by 2: FD = 2^2.
/// let a = Tensor::new(&[[-1f64], [0.], [1.]], &Device::Cpu)?;
/// let b = (&a + 2.0)?;
/// let fd = wno_losses::frechet_distance(&a, &b)?;
/// assert!((fd - 4.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`FeatureStats::from_features`] and [`frechet_distance_from_stats`], naming the input
/// ("the features of set A" for `a`, "... of set B" for `b`) and the shapes.
pub fn frechet_distance(a: &Tensor, b: &Tensor) -> Result<f64> {
    const OP: &str = "frechet_distance";
    let a = FeatureStats::of_set(OP, "the features of set A", a)?;
    let b = FeatureStats::of_set(OP, "the features of set B", b)?;
    frechet_distance_from_stats(&a, &b)
}

/// FD-VGG16 features: VGG16 relu5_3 of `[0, 1]` images, mean-pooled over H and W, `(B, 512)`.
/// Images must be at least 16x16. Stack these over a data set and pass two such matrices to
/// [`frechet_distance`] to get the "FD-VGG16" of DESIGN.md §3 (not Inception FID).
pub fn vgg16_fd_features(vgg: &Vgg16, images: &Tensor) -> Result<Tensor> {
    let f = vgg.tap(&images.detach(), VggTap::Relu5_3)?;
    Ok(f.mean((2, 3))?.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn stats(mean: Vec<f64>, cov_diag: &[f64]) -> FeatureStats {
        let d = mean.len();
        let mut cov = vec![0.0; d * d];
        for i in 0..d {
            cov[i * d + i] = cov_diag[i];
        }
        FeatureStats { n: 10, dim: d, mean, cov }
    }

    #[test]
    fn diagonal_covariances_match_the_closed_form() {
        // Diagonal: FD = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
        let a = stats(vec![0.0, 1.0, 2.0], &[1.0, 4.0, 0.25]);
        let b = stats(vec![1.0, 1.0, 0.0], &[9.0, 1.0, 0.0]);
        let want = (1.0 + 0.0 + 4.0) + (1.0f64 - 3.0).powi(2) + (2.0f64 - 1.0).powi(2) + 0.25;
        let got = frechet_distance_from_stats(&a, &b).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert!(frechet_distance_from_stats(&a, &a).unwrap().abs() < 1e-12);
    }

    #[test]
    fn rotated_covariances_match_the_closed_form() {
        // S1 = R diag(4, 1) R^T and S2 = R diag(1, 9) R^T commute: tr sqrt(S1 S2) = 2*1 + 1*3.
        let (c, s) = (0.6f64, 0.8f64);
        let rot = |d0: f64, d1: f64| vec![c * c * d0 + s * s * d1, c * s * (d0 - d1), c * s * (d0 - d1), s * s * d0 + c * c * d1];
        let a = FeatureStats { n: 5, dim: 2, mean: vec![0.0, 0.0], cov: rot(4.0, 1.0) };
        let b = FeatureStats { n: 5, dim: 2, mean: vec![0.0, 0.0], cov: rot(1.0, 9.0) };
        let want = 5.0 + 10.0 - 2.0 * (2.0 + 3.0);
        let got = frechet_distance_from_stats(&a, &b).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn stats_from_features_are_numpy_cov() {
        let x = Tensor::new(&[[1f32, 2.], [3., 6.], [5., 7.]], &Device::Cpu).unwrap();
        let st = FeatureStats::from_features(&x).unwrap();
        assert_eq!(st.mean, vec![3.0, 5.0]);
        // numpy.cov(x.T): var0 = 4, var1 = 7, cov = 5.
        assert_eq!(st.cov, vec![4.0, 5.0, 5.0, 7.0]);
        let one = Tensor::new(&[[1f32, 2.]], &Device::Cpu).unwrap();
        assert!(FeatureStats::from_features(&one).is_err());
        let bad = FeatureStats { dim: 3, ..st.clone() };
        assert!(frechet_distance_from_stats(&st, &bad).is_err());
    }

    fn f64s(rows: &[&[f64]]) -> Tensor {
        let d = rows[0].len();
        Tensor::from_vec(rows.concat(), (rows.len(), d), &Device::Cpu).unwrap()
    }

    #[test]
    fn non_finite_statistics_name_the_set_the_statistic_and_the_shapes() {
        let ok = f64s(&[&[0.0, 1.0], &[1.0, 0.0], &[2.0, 2.0]]);
        // Finite features whose covariance overflows: (2e200)^2 is not an f64.
        let huge = f64s(&[&[1e200, 0.0], &[-1e200, 1.0], &[0.0, 2.0]]);
        for (a, b, set) in [(&huge, &ok, "set A"), (&ok, &huge, "set B")] {
            let err = frechet_distance(a, b).unwrap_err();
            assert!(matches!(err, LossError::NonFiniteStatistics { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.starts_with("frechet_distance: the covariance of the features of ") && msg.contains(set), "{msg}");
            assert!(msg.contains("[2, 2]") && msg.contains("[3, 2]") && msg.contains("overflows"), "{msg}");
        }
        // A mean that overflows (f64::MAX + f64::MAX), and NaN / infinite features.
        let wide = f64s(&[&[f64::MAX, 0.0], &[f64::MAX, 1.0]]);
        let msg = frechet_distance(&ok, &wide).unwrap_err().to_string();
        assert!(msg.contains("the mean of the features of set B (shape [2])") && msg.contains("[2, 2]"), "{msg}");
        for bad in [f64::NAN, f64::INFINITY] {
            let t = f64s(&[&[0.0, bad], &[1.0, 0.0], &[2.0, 2.0]]);
            let msg = frechet_distance(&t, &ok).unwrap_err().to_string();
            assert!(msg.contains("the features of set A (shape [3, 2]) contain NaN or infinite"), "{msg}");
            let msg = FeatureStats::from_features(&t.to_dtype(DType::F32).unwrap()).unwrap_err().to_string();
            assert!(msg.starts_with("FeatureStats::from_features: the features (shape [3, 2])") && msg.contains("F32"), "{msg}");
        }
        // Statistics built by hand: non-finite or inconsistent, an error (not a panic).
        let st = FeatureStats::from_features(&ok).unwrap();
        let nan = FeatureStats { cov: vec![1.0, f64::NAN, f64::NAN, 1.0], ..st.clone() };
        let msg = frechet_distance_from_stats(&st, &nan).unwrap_err().to_string();
        assert!(msg.contains("the covariance of set B (shape [2, 2])"), "{msg}");
        let short = FeatureStats { cov: vec![1.0], ..st.clone() };
        assert!(matches!(frechet_distance_from_stats(&short, &st), Err(LossError::Statistics { .. })));
    }

    #[test]
    fn distance_does_not_depend_on_the_scale_of_the_features() {
        // FD(c x, c y) = c^2 FD(x, y): covariances of 1e200 or 1e-200 make the product
        // sqrt(S1) S2 sqrt(S1) overflow or underflow unless it is computed scaled.
        let a = f64s(&[&[0.0, 1.0, 0.5], &[1.0, 0.0, 0.2], &[2.0, 2.0, -1.0], &[0.3, -0.7, 0.0]]);
        let b = f64s(&[&[1.0, 0.0, 0.0], &[0.5, 1.5, 1.0], &[-1.0, 0.4, 0.3], &[0.0, 0.2, 2.0]]);
        let base = frechet_distance(&a, &b).unwrap();
        assert!(base > 0.1, "{base}");
        for c in [1e100, 1e-100, 3.0e150] {
            let got = frechet_distance(&(&a * c).unwrap(), &(&b * c).unwrap()).unwrap();
            let want = base * c * c;
            assert!((got - want).abs() <= 1e-12 * want, "scale {c}: {got} vs {want}");
        }
    }

    #[test]
    fn integer_features_are_rejected() {
        for dtype in [DType::U8, DType::U32, DType::I64] {
            let x = Tensor::zeros((3, 2), dtype, &Device::Cpu).unwrap();
            let err = FeatureStats::from_features(&x).unwrap_err();
            assert!(matches!(err, LossError::UnsupportedDType { op: "FeatureStats::from_features", dtype: d } if d == dtype), "{err:?}");
            assert!(matches!(frechet_distance(&x, &x), Err(LossError::UnsupportedDType { .. })));
        }
        // Every float dtype is accepted.
        let x = f64s(&[&[0.0, 1.0], &[1.0, 0.0], &[2.0, 2.0]]);
        for dtype in [DType::F16, DType::BF16, DType::F32] {
            assert!(FeatureStats::from_features(&x.to_dtype(dtype).unwrap()).is_ok(), "{dtype:?}");
        }
    }

    #[test]
    fn round_off_below_zero_is_zero_but_a_negative_distance_is_an_error() {
        // Identical sets whose distance came out as -6.1e-13 and -3.0e-13 (nearly rank-
        // deficient covariances) before negative round-off was clamped.
        let e = 0.01;
        let sets = [
            f64s(&[&[0.0, 0.0], &[1.0, e], &[2.0, -e], &[0.5, 0.3 * e]]),
            f64s(&[&[0.3, 1.0, 2.0], &[0.1, 0.2, 0.3 + 0.1], &[0.9, -0.5, 1.2], &[0.0, 0.01, 0.0]]),
        ];
        for x in &sets {
            let fd = frechet_distance(x, x).unwrap();
            assert!((0.0..1e-12).contains(&fd), "{fd}");
        }
        // Hand-built statistics with an indefinite covariance diag(1, -0.5): the distance is
        // 0.5 + 0.5 - 2 * 1 = -1, not round-off.
        let bad = stats(vec![0.0, 0.0], &[1.0, -0.5]);
        let err = frechet_distance_from_stats(&bad, &bad).unwrap_err();
        assert!(matches!(err, LossError::Statistics { .. }), "{err:?}");
        assert!(err.to_string().contains("not positive semi-definite"), "{err}");
    }
}

//! Frechet distance between two sets of feature vectors, and FD-VGG16.

use candle_core::{DType, Device, Tensor};

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
    /// Statistics of the rows of an `(N, D)` tensor (any float dtype; computed in f64).
    /// Needs `N >= 2`.
    pub fn from_features(features: &Tensor) -> Result<Self> {
        let (n, d) = match *features.dims() {
            [n, d] => (n, d),
            _ => {
                return Err(LossError::BadShape {
                    op: "FeatureStats::from_features",
                    expected: "an (N, D) matrix of feature vectors".into(),
                    got: features.dims().to_vec(),
                })
            }
        };
        if n < 2 || d == 0 {
            return Err(LossError::Statistics {
                op: "FeatureStats::from_features",
                reason: format!("need at least 2 feature vectors of dimension >= 1, got {n} of dimension {d}"),
            });
        }
        // Centred rows through candle's GEMM (f64 on the CPU): `Xc^T Xc / (n - 1)`.
        let x = features.to_dtype(DType::F64)?.to_device(&Device::Cpu)?;
        let mean_row = x.mean_keepdim(0)?;
        let xc = x.broadcast_sub(&mean_row)?;
        let mean = mean_row.flatten_all()?.to_vec1::<f64>()?;
        let mut cov = xc.t()?.matmul(&xc)?.affine(1.0 / (n - 1) as f64, 0.0)?.flatten_all()?.to_vec1::<f64>()?;
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
}

/// Frechet distance `|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2))` between two Gaussians.
///
/// `tr(sqrt(S1 S2))` is computed as `tr(sqrt(sqrt(S1) S2 sqrt(S1)))`, a symmetric positive
/// semi-definite matrix, with symmetric eigen-decompositions (eigenvalues within round-off of
/// 0, `n * eps * max`, set to 0): stable for singular covariances (fewer samples than
/// dimensions), where the `scipy.linalg.sqrtm` route of the usual FID code needs an epsilon.
/// For the 2048-d Inception features this takes about 20 s on 2 cores (`O(d^3)`, GEMM for the
/// products).
pub fn frechet_distance_from_stats(a: &FeatureStats, b: &FeatureStats) -> Result<f64> {
    if a.dim != b.dim {
        return Err(LossError::Statistics {
            op: "frechet_distance",
            reason: format!("feature dimensions differ: {} vs {}", a.dim, b.dim),
        });
    }
    let d = a.dim;
    let mean_term: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y) * (x - y)).sum();
    let tr1: f64 = (0..d).map(|i| a.cov[i * d + i]).sum();
    let tr2: f64 = (0..d).map(|i| b.cov[i * d + i]).sum();
    // sqrt(S1) = V diag(sqrt(l)) V^T, and sqrt(S1) S2 sqrt(S1), with candle's GEMM.
    let (l1, v1) = symmetric_eigen(&a.cov, d)?;
    let s: Vec<f64> = resolved(&l1).map(f64::sqrt).collect();
    let scaled: Vec<f64> = v1.iter().enumerate().map(|(i, v)| v * s[i % d]).collect();
    let square = |v: Vec<f64>| Tensor::from_vec(v, (d, d), &Device::Cpu);
    let v1 = square(v1)?;
    let r = square(scaled)?.matmul(&v1.t()?)?;
    let m = r.matmul(&square(b.cov.clone())?)?.matmul(&r)?.flatten_all()?.to_vec1::<f64>()?;
    let lm = symmetric_eigenvalues(&m, d)?;
    let tr_sqrt: f64 = resolved(&lm).map(f64::sqrt).sum();
    Ok(mean_term + tr1 + tr2 - 2.0 * tr_sqrt)
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
pub fn frechet_distance(a: &Tensor, b: &Tensor) -> Result<f64> {
    frechet_distance_from_stats(&FeatureStats::from_features(a)?, &FeatureStats::from_features(b)?)
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
}

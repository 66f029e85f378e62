//! Symmetric eigen-decomposition (cyclic Jacobi), f64, no dependencies.

use crate::error::{LossError, Result};

/// Eigenvalues and eigenvectors of the symmetric `n x n` row-major matrix `a`.
///
/// Returns `(values, vectors)` with `vectors` row-major and eigenvector `k` in column `k`
/// (`a = V diag(values) V^T`). Cyclic Jacobi with the textbook threshold strategy: accurate to
/// a few ulps of `max |a_ij|` for every eigenvalue, including tiny or zero ones, which matters
/// for the square roots of rank-deficient covariances.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if a.len() != n * n {
        return Err(LossError::Linalg {
            op: "symmetric_eigen",
            reason: format!("expected {n}x{n} = {} values, got {}", n * n, a.len()),
        });
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(LossError::Linalg { op: "symmetric_eigen", reason: "matrix has non-finite entries".into() });
    }
    let mut m = a.to_vec();
    // Symmetrise (inputs built from products may differ in the last bits).
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (m[i * n + j] + m[j * n + i]);
            m[i * n + j] = v;
            m[j * n + i] = v;
        }
    }
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale = m.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    if scale == 0.0 || n < 2 {
        let d = (0..n).map(|i| m[i * n + i]).collect();
        return Ok((d, v));
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if off.sqrt() <= 1e-15 * scale * n as f64 || off == 0.0 {
            let d = (0..n).map(|i| m[i * n + i]).collect();
            return Ok((d, v));
        }
        for p in 0..n - 1 {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let app = m[p * n + p];
                let aqq = m[q * n + q];
                // Skip rotations that cannot change the diagonal in floating point.
                if apq.abs() < 1e-300
                    || (app.abs() + 1e18 * apq.abs() == app.abs() && aqq.abs() + 1e18 * apq.abs() == aqq.abs())
                {
                    m[p * n + q] = 0.0;
                    m[q * n + p] = 0.0;
                    continue;
                }
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // Rotate rows/columns p and q of m (m <- J^T m J).
                for k in 0..n {
                    let mkp = m[k * n + p];
                    let mkq = m[k * n + q];
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let mpk = m[p * n + k];
                    let mqk = m[q * n + k];
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                m[p * n + q] = 0.0;
                m[q * n + p] = 0.0;
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    Err(LossError::Linalg { op: "symmetric_eigen", reason: format!("Jacobi did not converge for a {n}x{n} matrix") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_symmetric_matrix() {
        let n = 7;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = ((i * 13 + j * 7) as f64 * 0.37).sin();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        let (d, v) = symmetric_eigen(&a, n).unwrap();
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| v[i * n + k] * d[k] * v[j * n + k]).sum();
                assert!((r - a[i * n + j]).abs() < 1e-12, "({i},{j}) {r} vs {}", a[i * n + j]);
                let o: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                assert!((o - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        // 2x2 closed form: [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut d, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        d.sort_by(f64::total_cmp);
        assert!((d[0] - 1.0).abs() < 1e-15 && (d[1] - 3.0).abs() < 1e-15);
        assert!(symmetric_eigen(&[f64::NAN], 1).is_err());
    }
}

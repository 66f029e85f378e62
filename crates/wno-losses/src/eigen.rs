//! Symmetric eigen-decomposition, f64, no dependencies: Householder reduction to tridiagonal
//! form and the implicit QL algorithm (`tred2` / `tql2` of EISPACK, as in JAMA), `O(n^3)` with
//! a small constant, so the 2048-d covariances of the Inception FID take seconds where a
//! cyclic Jacobi takes many minutes. Eigenvalues are accurate to a few ulps of `max |a_ij|`
//! (tiny and zero ones included, which matters for the square roots of rank-deficient
//! covariances).

use crate::error::{LossError, Result};

/// Eigenvalues and eigenvectors of the symmetric `n x n` row-major matrix `a`.
///
/// Returns `(values, vectors)` with `vectors` row-major and eigenvector `k` in column `k`
/// (`a = V diag(values) V^T`), in no particular order.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let (d, v) = decompose(a, n, true)?;
    // `v` is column-major (eigenvector k contiguous); return it row-major.
    let mut rows = vec![0.0; n * n];
    for k in 0..n {
        for i in 0..n {
            rows[i * n + k] = v[k * n + i];
        }
    }
    Ok((d, rows))
}

/// Eigenvalues only of the symmetric `n x n` matrix `a` (cheaper: no vectors are accumulated).
pub(crate) fn symmetric_eigenvalues(a: &[f64], n: usize) -> Result<Vec<f64>> {
    Ok(decompose(a, n, false)?.0)
}

/// `(values, V)` with `V` column-major, `V[(r, c)] = v[c * n + r]`; `V` is only meaningful
/// with `vectors`.
fn decompose(a: &[f64], n: usize, vectors: bool) -> Result<(Vec<f64>, Vec<f64>)> {
    if a.len() != n * n {
        return Err(LossError::Linalg {
            op: "symmetric_eigen",
            reason: format!("expected {n}x{n} = {} values, got {}", n * n, a.len()),
        });
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(LossError::Linalg { op: "symmetric_eigen", reason: "matrix has non-finite entries".into() });
    }
    if n == 0 {
        return Ok((vec![], vec![]));
    }
    // Symmetrise (inputs built from products may differ in the last bits); a symmetric matrix
    // is its own column-major layout.
    let mut v = a.to_vec();
    for i in 0..n {
        for j in 0..i {
            let s = 0.5 * (v[i * n + j] + v[j * n + i]);
            v[i * n + j] = s;
            v[j * n + i] = s;
        }
    }
    let (mut d, mut e) = tridiagonalize(&mut v, n, vectors);
    tql2(&mut d, &mut e, &mut v, n, vectors)?;
    Ok((d, v))
}

/// Householder reduction of the symmetric matrix in `v` (column-major) to tridiagonal form:
/// returns the diagonal and the subdiagonal (`e[i]` couples `i - 1` and `i`, `e[0] = 0`), and
/// leaves in `v` the orthogonal transformation when `vectors` is set.
fn tridiagonalize(v: &mut [f64], n: usize, vectors: bool) -> (Vec<f64>, Vec<f64>) {
    let at = |r: usize, c: usize| c * n + r;
    let mut d: Vec<f64> = (0..n).map(|j| v[at(n - 1, j)]).collect();
    let mut e = vec![0.0; n];
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
                v[at(j, i)] = 0.0;
            }
        } else {
            // The Householder vector.
            for dk in &mut d[..i] {
                *dk /= scale;
                h += *dk * *dk;
            }
            let mut f = d[i - 1];
            let mut g = if f > 0.0 { -h.sqrt() } else { h.sqrt() };
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].iter_mut().for_each(|x| *x = 0.0);
            // The similarity transformation of the remaining columns.
            for j in 0..i {
                f = d[j];
                v[at(j, i)] = f;
                g = e[j] + v[at(j, j)] * f;
                let col = &v[at(j + 1, j)..at(i, j)];
                for (k, vkj) in (j + 1..i).zip(col) {
                    g += vkj * d[k];
                    e[k] += vkj * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                let (f, g) = (d[j], e[j]);
                let col = &mut v[at(j, j)..at(i, j)];
                for (vkj, (ek, dk)) in col.iter_mut().zip(e[j..i].iter().zip(&d[j..i])) {
                    *vkj -= f * ek + g * dk;
                }
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
            }
        }
        d[i] = h;
    }
    if vectors {
        // Accumulate the transformations.
        for i in 0..n - 1 {
            v[at(n - 1, i)] = v[at(i, i)];
            v[at(i, i)] = 1.0;
            let h = d[i + 1];
            if h != 0.0 {
                for k in 0..=i {
                    d[k] = v[at(k, i + 1)] / h;
                }
                for j in 0..=i {
                    let g: f64 = (0..=i).map(|k| v[at(k, i + 1)] * v[at(k, j)]).sum();
                    for k in 0..=i {
                        v[at(k, j)] -= g * d[k];
                    }
                }
            }
            for k in 0..=i {
                v[at(k, i + 1)] = 0.0;
            }
        }
        for j in 0..n {
            d[j] = v[at(n - 1, j)];
            v[at(n - 1, j)] = 0.0;
        }
        v[at(n - 1, n - 1)] = 1.0;
    } else {
        for (j, dj) in d.iter_mut().enumerate() {
            *dj = v[at(j, j)];
        }
    }
    e[0] = 0.0;
    (d, e)
}

/// Implicit QL iterations on the tridiagonal `(d, e)`: `d` becomes the eigenvalues and, with
/// `vectors`, `v` (column-major) the eigenvectors.
fn tql2(d: &mut [f64], e: &mut [f64], v: &mut [f64], n: usize, vectors: bool) -> Result<()> {
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0f64;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        // Find a small subdiagonal element.
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        // d[l] is an eigenvalue when m == l; otherwise iterate.
        if m > l {
            let mut iterations = 0;
            loop {
                iterations += 1;
                if iterations > 60 {
                    return Err(LossError::Linalg {
                        op: "symmetric_eigen",
                        reason: format!("QL did not converge for eigenvalue {l} of a {n}x{n} matrix"),
                    });
                }
                // The implicit shift.
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for di in &mut d[l + 2..] {
                    *di -= h;
                }
                f += h;
                // The implicit QL transformation.
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    if vectors {
                        let (left, right) = v.split_at_mut((i + 1) * n);
                        let (vi, vi1) = (&mut left[i * n..], &mut right[..n]);
                        for (a, b) in vi.iter_mut().zip(vi1.iter_mut()) {
                            let h = *b;
                            *b = s * *a + c * h;
                            *a = c * *a - s * h;
                        }
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_matrix(n: usize) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = ((i * 13 + j * 7) as f64 * 0.37).sin();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        a
    }

    fn check_decomposition(a: &[f64], n: usize, tol: f64) {
        let (d, v) = symmetric_eigen(a, n).unwrap();
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| v[i * n + k] * d[k] * v[j * n + k]).sum();
                assert!((r - a[i * n + j]).abs() < tol, "n {n} ({i},{j}) {r} vs {}", a[i * n + j]);
                let o: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                assert!((o - if i == j { 1.0 } else { 0.0 }).abs() < tol, "n {n} orthogonality ({i},{j}) {o}");
            }
        }
        let mut only = symmetric_eigenvalues(a, n).unwrap();
        let mut with = d.clone();
        only.sort_by(f64::total_cmp);
        with.sort_by(f64::total_cmp);
        for (x, y) in only.iter().zip(&with) {
            assert!((x - y).abs() < tol, "values-only {x} vs {y}");
        }
    }

    #[test]
    fn reconstructs_symmetric_matrices() {
        for n in [1, 2, 3, 7, 40] {
            check_decomposition(&test_matrix(n), n, 1e-12);
        }
        // Diagonal and zero matrices (the zero-scale Householder branch).
        check_decomposition(&[3.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0], 3, 1e-15);
        check_decomposition(&[0.0; 16], 4, 1e-15);
        // 2x2 closed form: [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut d, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        d.sort_by(f64::total_cmp);
        assert!((d[0] - 1.0).abs() < 1e-15 && (d[1] - 3.0).abs() < 1e-15);
        assert!(symmetric_eigen(&[f64::NAN], 1).is_err());
        assert!(symmetric_eigen(&[1.0, 2.0], 2).is_err());
    }

    #[test]
    fn rank_deficient_covariance_has_zero_eigenvalues() {
        // X^T X of 3 vectors in 30 dimensions: 3 positive eigenvalues, 27 zeros to round-off.
        let (n, r) = (30, 3);
        let x: Vec<f64> = (0..r * n).map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) * 3.0).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..r).map(|k| x[k * n + i] * x[k * n + j]).sum();
            }
        }
        let mut d = symmetric_eigenvalues(&a, n).unwrap();
        d.sort_by(|p, q| q.total_cmp(p));
        let scale = a.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(d[r - 1] > 1e-3 * scale, "{d:?}");
        assert!(d[r..].iter().all(|l| l.abs() < 1e-13 * scale * n as f64), "{:?}", &d[r..]);
        let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
        assert!((d.iter().sum::<f64>() - trace).abs() < 1e-12 * trace);
    }
}

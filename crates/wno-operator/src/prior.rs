//! A full-covariance Gaussian prior over 4x4 RGB canvases.

use crate::error::{OperatorError, Result};
use candle_core::{DType, Device, Tensor};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::path::Path;

/// Number of values of a 4x4 RGB canvas.
const DIM: usize = 48;
/// Tensor name of the mean in a safetensors file.
const MEAN_KEY: &str = "prior.mean";
/// Tensor name of the Cholesky factor in a safetensors file.
const CHOL_KEY: &str = "prior.chol";

/// A Gaussian over the 48 values of a `(3, 4, 4)` canvas (channel-major flattening), fitted
/// on thumbnails of the training set, sampled as `mean + L z` and clamped to `[0, 1]`.
/// Stored as two f64 tensors, `prior.mean` `(48,)` and `prior.chol` `(48, 48)` (lower
/// triangular), e.g. in the same safetensors file as the generator weights.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use rand::SeedableRng;
/// let thumbs = Tensor::rand(0f64, 1., (200, 3, 4, 4), &Device::Cpu)?;
/// let prior = wno_operator::Prior4x4::fit(&thumbs)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let x = prior.sample(5, &mut rng, candle_core::DType::F32, &Device::Cpu)?;
/// assert_eq!(x.dims(), &[5, 3, 4, 4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Prior4x4 {
    mean: Vec<f64>,
    chol: Vec<f64>,
}

impl Prior4x4 {
    /// Fits the mean and the (unbiased) covariance of `thumbs` `(N, 3, 4, 4)`, any float dtype,
    /// computed in f64. A small jitter (1e-6 of the mean variance, growing tenfold while the
    /// Cholesky factorisation fails, up to 6 times) keeps the covariance positive definite.
    ///
    /// # Errors
    /// [`OperatorError::Shape`] for another shape, [`OperatorError::Prior`] for fewer than 2
    /// thumbnails, non-finite values, or a covariance that stays singular.
    pub fn fit(thumbs: &Tensor) -> Result<Self> {
        if thumbs.dims().len() != 4 || thumbs.dims()[1..] != [3, 4, 4] {
            return Err(OperatorError::shape("Prior4x4::fit", "thumbnails (N, 3, 4, 4)", thumbs));
        }
        let n = thumbs.dim(0)?;
        if n < 2 {
            return Err(OperatorError::Prior(format!("fitting needs at least 2 thumbnails, got {n}")));
        }
        let data = thumbs.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        if data.iter().any(|v| !v.is_finite()) {
            return Err(OperatorError::Prior("the thumbnails contain non-finite values".into()));
        }
        let mut mean = vec![0f64; DIM];
        for row in data.chunks(DIM) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut cov = vec![0f64; DIM * DIM];
        for row in data.chunks(DIM) {
            for i in 0..DIM {
                let di = row[i] - mean[i];
                for j in 0..=i {
                    cov[i * DIM + j] += di * (row[j] - mean[j]);
                }
            }
        }
        for i in 0..DIM {
            for j in 0..=i {
                cov[i * DIM + j] /= (n - 1) as f64;
                cov[j * DIM + i] = cov[i * DIM + j];
            }
        }
        let trace: f64 = (0..DIM).map(|i| cov[i * DIM + i]).sum();
        let mut jitter = 1e-6 * (trace / DIM as f64).max(1e-12);
        for _ in 0..6 {
            let mut c = cov.clone();
            (0..DIM).for_each(|i| c[i * DIM + i] += jitter);
            if let Some(chol) = cholesky(&c) {
                return Ok(Self { mean, chol });
            }
            jitter *= 10.0;
        }
        Err(OperatorError::Prior(format!("the covariance of {n} thumbnails is not positive definite even with jitter {jitter:e}")))
    }

    /// Builds a prior from a mean (48 values) and a lower-triangular Cholesky factor (48 x 48,
    /// row-major).
    ///
    /// # Errors
    /// [`OperatorError::Prior`] for wrong lengths, non-finite values, a non-positive diagonal or
    /// non-zero entries above the diagonal.
    pub fn from_parts(mean: Vec<f64>, chol: Vec<f64>) -> Result<Self> {
        if mean.len() != DIM || chol.len() != DIM * DIM {
            return Err(OperatorError::Prior(format!(
                "expected a mean of {DIM} values and a {DIM}x{DIM} factor, got {} and {} values",
                mean.len(),
                chol.len()
            )));
        }
        if mean.iter().chain(&chol).any(|v| !v.is_finite()) {
            return Err(OperatorError::Prior("non-finite values in the mean or the factor".into()));
        }
        for i in 0..DIM {
            if chol[i * DIM + i] <= 0.0 || (i + 1..DIM).any(|j| chol[i * DIM + j] != 0.0) {
                return Err(OperatorError::Prior(format!("row {i} of the factor is not lower triangular with a positive diagonal")));
            }
        }
        Ok(Self { mean, chol })
    }

    /// The mean, 48 values in `(3, 4, 4)` order.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The lower-triangular Cholesky factor of the covariance, 48 x 48 row-major.
    pub fn chol(&self) -> &[f64] {
        &self.chol
    }

    /// Draws `n` canvases `(n, 3, 4, 4)`, clamped to `[0, 1]`, as `dtype` on `device`.
    ///
    /// # Errors
    /// Only candle errors (device transfer, dtype conversion).
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R, dtype: DType, device: &Device) -> Result<Tensor> {
        let mut out = Vec::with_capacity(n * DIM);
        let mut z = [0f64; DIM];
        for _ in 0..n {
            z.iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
            for i in 0..DIM {
                let row = &self.chol[i * DIM..i * DIM + i + 1];
                let v = self.mean[i] + row.iter().zip(&z).map(|(l, zz)| l * zz).sum::<f64>();
                out.push(v.clamp(0.0, 1.0));
            }
        }
        Ok(Tensor::from_vec(out, (n, 3, 4, 4), &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?)
    }

    /// The two named f64 tensors `prior.mean` `(48,)` and `prior.chol` `(48, 48)`, to store in
    /// a safetensors file (alone or beside the generator weights).
    pub fn to_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![
            (MEAN_KEY.to_string(), Tensor::new(self.mean.as_slice(), &Device::Cpu)?),
            (CHOL_KEY.to_string(), Tensor::from_vec(self.chol.clone(), (DIM, DIM), &Device::Cpu)?),
        ])
    }

    /// Reads the prior from the named tensors of [`Prior4x4::to_tensors`] (other names are
    /// ignored).
    ///
    /// # Errors
    /// [`OperatorError::Prior`] when a tensor is missing or has the wrong shape or values.
    pub fn from_tensors(tensors: &std::collections::HashMap<String, Tensor>) -> Result<Self> {
        let get = |key: &str, shape: &[usize]| -> Result<Vec<f64>> {
            let t = tensors.get(key).ok_or_else(|| OperatorError::Prior(format!("tensor `{key}` is missing")))?;
            if t.dims() != shape {
                return Err(OperatorError::Prior(format!("tensor `{key}` has shape {:?}, expected {shape:?}", t.dims())));
            }
            Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
        };
        Self::from_parts(get(MEAN_KEY, &[DIM])?, get(CHOL_KEY, &[DIM, DIM])?)
    }

    /// Writes the prior alone to a safetensors file.
    ///
    /// # Errors
    /// [`OperatorError::Io`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let map: std::collections::HashMap<_, _> = self.to_tensors()?.into_iter().collect();
        let io = |source: std::io::Error| OperatorError::Io { path: path.display().to_string(), source };
        candle_core::safetensors::save(&map, path).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        crate::checkpoint::make_world_readable(path).map_err(io)
    }

    /// Reads the prior from a safetensors file holding `prior.mean` and `prior.chol` (other
    /// tensors, e.g. generator weights, are ignored).
    ///
    /// # Errors
    /// [`OperatorError::Io`] when the file cannot be read, [`OperatorError::Prior`] when the
    /// tensors are missing or invalid.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let tensors = crate::checkpoint::read_safetensors(path)?;
        Self::from_tensors(&tensors).map_err(|e| OperatorError::Prior(format!("{}: {e}", path.display())))
    }
}

/// Lower Cholesky factor of a symmetric `DIM x DIM` matrix, or `None` if it is not positive
/// definite.
fn cholesky(a: &[f64]) -> Option<Vec<f64>> {
    let mut l = vec![0f64; DIM * DIM];
    for i in 0..DIM {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * DIM + k] * l[j * DIM + k]).sum();
            if i == j {
                let d = a[i * DIM + i] - s;
                if !(d > 0.0) {
                    return None;
                }
                l[i * DIM + i] = d.sqrt();
            } else {
                l[i * DIM + j] = (a[i * DIM + j] - s) / l[j * DIM + j];
            }
        }
    }
    Some(l)
}

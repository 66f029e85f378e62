//! Sampling: upscaling a given low-resolution image, and generation from the 4x4 prior.

use crate::config::{levels_between, SkipMode};
use crate::error::{OperatorError, Result};
use crate::generator::Generator;
use crate::prior::Prior4x4;
use candle_core::{DType, Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// Options of [`Generator::upscale`] and [`Generator::generate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleOptions {
    /// Noise sigma per transition (coarsest first); `None` = the configuration's schedule over
    /// the number of transitions of the call. Zeros give deterministic outputs.
    pub sigmas: Option<Vec<f64>>,
    /// Skip-channel mode; `None` = the configuration's.
    pub skip_mode: Option<SkipMode>,
    /// Seed of the random generator (noise, and the prior in [`Generator::generate`]).
    pub seed: u64,
}

impl Generator {
    /// The sigmas of `levels` transitions under `opts`.
    ///
    /// # Errors
    /// [`OperatorError::Config`] for a schedule of the wrong length or invalid values.
    pub fn level_sigmas(&self, levels: usize, opts: &SampleOptions) -> Result<Vec<f64>> {
        match &opts.sigmas {
            Some(s) => crate::SigmaSchedule::Explicit(s.clone()).sigmas(levels),
            None => self.config().sigmas.sigmas(levels),
        }
    }

    /// Noise `(b, noise_channels, h, w)` with standard deviation `sigma`, drawn on the CPU from
    /// `rng` (so the values do not depend on the device) and moved to the generator's device;
    /// `None` when `sigma` is 0 or there are no noise channels (the model then feeds zeros).
    ///
    /// # Errors
    /// Only candle errors (device transfer).
    pub fn noise<R: Rng + ?Sized>(&self, b: usize, h: usize, w: usize, sigma: f64, rng: &mut R) -> Result<Option<Tensor>> {
        let nc = self.config().noise_channels;
        if sigma == 0.0 || nc == 0 {
            return Ok(None);
        }
        let n = b * nc * h * w;
        let t = if self.dtype() == DType::F64 {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    sigma * z
                })
                .collect();
            Tensor::from_vec(v, (b, nc, h, w), &Device::Cpu)?
        } else {
            let s = sigma as f32;
            let v: Vec<f32> = (0..n)
                .map(|_| {
                    let z: f32 = StandardNormal.sample(rng);
                    s * z
                })
                .collect();
            Tensor::from_vec(v, (b, nc, h, w), &Device::Cpu)?.to_dtype(self.dtype())?
        };
        Ok(Some(t.to_device(self.device())?))
    }

    /// Upscales `low_res` `(B, 3, r, r)` (values in `[0, 1]`, `r` any side) to `target`
    /// (`r * 2^k`) by running the transitions on the model's own outputs, with skip = the
    /// low-resolution canvas (or zeros with [`SkipMode::Zeros`]) and the per-level noise of
    /// `opts`. Returns every scale, `[low_res, 2r, 4r, ..., target]`, detached from any graph.
    ///
    /// # Errors
    /// [`OperatorError::Size`] when `low_res` is not square or `target` is not a power-of-two
    /// multiple of its side; shape/dtype/device errors as [`Generator::features`].
    pub fn upscale(&self, low_res: &Tensor, target: usize, opts: &SampleOptions) -> Result<Vec<Tensor>> {
        let mut rng = StdRng::seed_from_u64(opts.seed);
        self.upscale_with_rng(low_res, target, opts, &mut rng)
    }

    fn upscale_with_rng(&self, low_res: &Tensor, target: usize, opts: &SampleOptions, rng: &mut StdRng) -> Result<Vec<Tensor>> {
        const OP: &str = "Generator::upscale";
        if low_res.rank() != 4 || low_res.dim(1)? != 3 {
            return Err(OperatorError::shape(OP, "low-resolution image (B, 3, r, r)", low_res));
        }
        let (b, _, h, w) = low_res.dims4()?;
        let size_err = |reason: String| OperatorError::Size { op: OP, h, w, reason };
        if h != w {
            return Err(size_err("the low-resolution image must be square".into()));
        }
        let levels = levels_between(h, target).map_err(|e| size_err(format!("target {target}: {e}")))?;
        let sigmas = self.level_sigmas(levels, opts)?;
        let root = match opts.skip_mode.unwrap_or(self.config().skip_mode) {
            SkipMode::Root => Some(low_res.detach()),
            SkipMode::Zeros => None,
        };
        let mut scales = vec![low_res.detach()];
        for (l, sigma) in sigmas.iter().enumerate() {
            let size = h << (l + 1);
            let noise = self.noise(b, size, size, *sigma, rng)?;
            let prev = scales.last().unwrap_or(low_res);
            let next = self.step(prev, noise.as_ref(), root.as_ref())?.detach();
            scales.push(next);
        }
        Ok(scales)
    }

    /// Generates `n` images: draws 4x4 canvases from `prior` (the configuration's `root_size`
    /// must be 4) and upscales them to the configured `target_size`. Returns every scale,
    /// `[4x4, 8x8, ..., target]`. The prior and the noise share one RNG seeded by `opts.seed`.
    ///
    /// # Errors
    /// [`OperatorError::Config`] when `root_size` is not 4; as [`Generator::upscale`].
    pub fn generate(&self, n: usize, prior: &Prior4x4, opts: &SampleOptions) -> Result<Vec<Tensor>> {
        let root_size = self.config().root_size;
        if root_size != 4 {
            return Err(OperatorError::Config(format!("generation from the 4x4 prior needs root_size 4, the configuration has {root_size}")));
        }
        let mut rng = StdRng::seed_from_u64(opts.seed);
        let root = prior.sample(n, &mut rng, self.dtype(), self.device())?;
        self.upscale_with_rng(&root, self.config().target_size, opts, &mut rng)
    }
}

//! Evaluation: every number of DESIGN.md section 3, with the protocols of
//! `reference/original_checkpoint_metrics.json` (how the original checkpoint's figures were
//! measured).
//!
//! [`evaluate`] reads the first `limit` images of a source, resizes them to the generator's
//! `target_size` ([`Pipeline::eval`]: bicubic as `F.interpolate(..., mode="bicubic",
//! align_corners=False)`, then clamp to `[0, 1]`) and builds the area pyramid down to
//! `root_size` (4, 8, 16, 32, 64 for the defaults). Then, in batches:
//!
//! | metric | protocol |
//! |---|---|
//! | teacher-forced PSNR per level | level `s` predicted from the ground truth at `s/2` ([`Generator::step`], zero noise, skip channels fed from the ground-truth root); PSNR per image `10 log10(1 / MSE_i)` in f64; mean over images, then over levels |
//! | free-running PSNR / SSIM / LPIPS | from the ground-truth root, every transition on the model's own output ([`Generator::upscale`], zero noise); metrics of the final image against the ground truth; SSIM = `pytorch_msssim.ssim` per image; LPIPS-VGG on the first `lpips_limit` images |
//! | bicubic floor | root -> target with [`bicubic_resize_tensor`], clamped to `[0, 1]` |
//! | nearest floor | root -> target by pixel repetition (`F.interpolate(mode="nearest")`) |
//! | FD-VGG16 | `generate` images from the 4x4 prior ([`Generator::generate`], the configuration's sigma schedule) against the evaluated real images: Frechet distance of mean-pooled VGG16 relu5_3 features ([`vgg16_fd_features`]). Not Inception FID |
//! | Inception FID (optional) | the same generated and real images: Frechet distance of pytorch-fid's Inception-v3 pool3 features ([`fid_inception_features`]; images resized to 299x299). Only with [`EvalNets::fid_inception`], which needs pytorch-fid's downloaded weights |
//!
//! Nothing builds an autograd graph that outlives a batch: every output is detached at once,
//! so evaluating a generator whose weights are training `Var`s is safe and memory-bounded.

mod bicubic;

pub use bicubic::bicubic_resize_tensor;

use crate::data::{area_pyramid, stack_images, ImageSource, Pipeline};
use crate::error::{Result, TrainerError};
use crate::rng::{derive_seed, TrainRng};
use candle_core::{DType, Tensor};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;
use wno_losses::{
    fid_inception_features, frechet_distance_from_stats, vgg16_fd_features, FeatureStats, InceptionV3Fid, Lpips, Ssim,
    SsimConfig, Vgg16,
};
use wno_operator::{Generator, Prior4x4, SampleOptions, SkipMode};

/// MSE floor of the PSNR: `10 log10(1 / max(MSE, 1e-10))`, so an exact reconstruction reads
/// 100 dB instead of infinity (which JSON cannot hold). No real image pair comes near it.
pub const PSNR_MSE_FLOOR: f64 = 1e-10;

/// Smallest image side the perceptual metrics accept (VGG16 relu5_3 is at 1/16 resolution).
const PERCEPTUAL_MIN_SIDE: usize = 16;

/// Images per Inception pass: every image runs at 299x299, so memory, not speed, sets this
/// (the largest im2col buffer alone is 25 MB per image in f32).
const INCEPTION_CHUNK: usize = 8;

/// What to measure.
///
/// ```
/// let opts = wno_trainer::eval::EvalOptions { limit: Some(500), generate: 0, ..Default::default() };
/// assert_eq!(opts.batch_size, 64);
/// assert_eq!(opts.lpips_limit, Some(500));
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EvalOptions {
    /// Evaluate the first `N` images of the source (`None` = all).
    pub limit: Option<usize>,
    /// Images per batch (memory only: no number depends on it, except which generated samples
    /// FD-VGG16 draws, see [`EvalOptions::generate`]).
    pub batch_size: usize,
    /// LPIPS only on the first `N` evaluated images (`None` = all); the original's figures used
    /// 500 (the default).
    pub lpips_limit: Option<usize>,
    /// Number of [`Generator::generate`] samples for FD-VGG16 and the Inception FID (0 = skip;
    /// otherwise at least 2).
    /// They are drawn in chunks of `batch_size`, chunk `k` with seed
    /// `derive_seed(&[seed, k])`.
    pub generate: usize,
    /// Seed of the generated samples (the other metrics are deterministic).
    pub seed: u64,
    /// What feeds the skip channels in the teacher-forced and free-running passes:
    /// `Some(SkipMode::Root)` (the default) = the ground-truth root canvas, the protocol of the
    /// original checkpoint's figures (`orig_lr = GT_4`), and what this project's models see in
    /// training and sampling; `Some(SkipMode::Zeros)` = zeros (the original code's `validate()`);
    /// `None` = the generator configuration's `skip_mode`.
    pub skip_mode: Option<SkipMode>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self { limit: None, batch_size: 64, lpips_limit: Some(500), generate: 1000, seed: 0, skip_mode: Some(SkipMode::Root) }
    }
}

/// Frozen networks for the perceptual metrics. All are optional: without them the LPIPS
/// values, FD-VGG16 and the Inception FID are `None`. They must be f32 and live on the
/// generator's device.
///
/// One VGG16 can serve both: LPIPS applies its own input scaling before the backbone, while
/// FD-VGG16 uses ImageNet normalisation ([`Vgg16::tap`]), so `fd_vgg = lpips.vgg().clone()`
/// is the same network under each metric's preprocessing.
#[derive(Clone, Debug, Default)]
pub struct EvalNets {
    /// LPIPS-VGG v0.1 for the free-running and floor LPIPS.
    pub lpips: Option<Lpips>,
    /// VGG16 (up to relu5_3) for FD-VGG16.
    pub fd_vgg: Option<Vgg16>,
    /// pytorch-fid's Inception-v3 for the Inception FID (built from its downloaded weights,
    /// [`InceptionV3Fid::from_file`] / [`InceptionV3Fid::from_hub`]).
    pub fid_inception: Option<InceptionV3Fid>,
}

impl EvalNets {
    /// The metrics of generated samples that these networks give, in words for messages:
    /// `"FD-VGG16"`, `"the Inception FID"`, both joined by "and", or `None` without either
    /// network.
    ///
    /// ```
    /// let nets = wno_trainer::eval::EvalNets::default();
    /// assert_eq!(nets.sample_metrics(), None);
    /// ```
    pub fn sample_metrics(&self) -> Option<&'static str> {
        match (self.fd_vgg.is_some(), self.fid_inception.is_some()) {
            (true, true) => Some("FD-VGG16 and the Inception FID"),
            (true, false) => Some("FD-VGG16"),
            (false, true) => Some("the Inception FID"),
            (false, false) => None,
        }
    }
}

/// Every number of DESIGN.md section 3. Serialises to the JSON that the `evaluate` example
/// writes and the trainer logs in `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalReport {
    /// Number of evaluated images.
    pub images: usize,
    /// Side of the root canvas (the free-running start, e.g. 4).
    #[serde(default)]
    pub root_size: usize,
    /// Side of the final image (e.g. 64).
    #[serde(default)]
    pub target_size: usize,
    /// Skip channels in the teacher-forced and free-running passes: `"root"` or `"zeros"`.
    #[serde(default)]
    pub skip: String,
    /// Teacher-forced PSNR (dB) per predicted level, keyed by the side (`"8"`, `"16"`, ...).
    pub teacher_psnr: BTreeMap<String, f64>,
    /// Mean of [`EvalReport::teacher_psnr`] over the levels.
    pub teacher_psnr_mean: f64,
    /// Free-running root -> target PSNR (dB), mean over images.
    pub free_psnr: f64,
    /// Free-running SSIM, mean over images.
    pub free_ssim: f64,
    /// Free-running LPIPS-VGG, mean over the first [`EvalReport::lpips_images`] images.
    pub free_lpips: Option<f64>,
    /// Bicubic root -> target PSNR (dB): the floor to beat.
    pub bicubic_psnr: f64,
    /// Bicubic SSIM.
    pub bicubic_ssim: f64,
    /// Bicubic LPIPS-VGG.
    pub bicubic_lpips: Option<f64>,
    /// Nearest root -> target PSNR (dB).
    pub nearest_psnr: f64,
    /// Nearest SSIM.
    pub nearest_ssim: f64,
    /// Nearest LPIPS-VGG.
    #[serde(default)]
    pub nearest_lpips: Option<f64>,
    /// Number of images the LPIPS values average over (0 without LPIPS).
    #[serde(default)]
    pub lpips_images: usize,
    /// FD-VGG16 of the generated samples against the evaluated real images (not Inception FID).
    pub fd_vgg16: Option<f64>,
    /// Number of generated samples behind [`EvalReport::fd_vgg16`] and
    /// [`EvalReport::fid_inception`] (0 when both are skipped).
    #[serde(default)]
    pub fd_samples: usize,
    /// Inception FID (pytorch-fid's network and weights, pool3 features) of the generated
    /// samples against the evaluated real images; absent from the JSON when not computed
    /// (no Inception network, no prior, or `generate == 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fid_inception: Option<f64>,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

impl EvalReport {
    /// The teacher-forced levels `(side, PSNR)`, coarsest first (the map's keys sort as
    /// strings; this sorts them as numbers).
    pub fn teacher_levels(&self) -> Vec<(usize, f64)> {
        let mut v: Vec<(usize, f64)> = self.teacher_psnr.iter().filter_map(|(k, p)| k.parse().ok().map(|s| (s, *p))).collect();
        v.sort_by_key(|(s, _)| *s);
        v
    }

    /// A human-readable table of the report, one line per entry, for printing.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use wno_trainer::eval::EvalReport;
    /// let r = EvalReport {
    ///     images: 2, root_size: 4, target_size: 8, skip: "root".into(),
    ///     teacher_psnr: BTreeMap::from([("8".to_string(), 20.0)]), teacher_psnr_mean: 20.0,
    ///     free_psnr: 20.0, free_ssim: 0.5, free_lpips: None,
    ///     bicubic_psnr: 19.0, bicubic_ssim: 0.4, bicubic_lpips: None,
    ///     nearest_psnr: 18.0, nearest_ssim: 0.3, nearest_lpips: None, lpips_images: 0,
    ///     fd_vgg16: None, fd_samples: 0, fid_inception: None, seconds: 1.5,
    /// };
    /// let lines = r.summary_lines();
    /// assert!(lines.iter().any(|l| l.contains("bicubic 4->8") && l.contains("19.000")));
    /// assert!(lines.iter().any(|l| l.contains("FD-VGG16") && l.contains("skipped")));
    /// ```
    pub fn summary_lines(&self) -> Vec<String> {
        let (r, t) = (self.root_size, self.target_size);
        let mut lines = vec![format!(
            "evaluation: {} images, {r}x{r} -> {t}x{t}, skip channels = {}, {:.1} s",
            self.images, self.skip, self.seconds
        )];
        let levels = self.teacher_levels();
        let header: String = levels.iter().map(|(s, _)| format!("{:>8}", s)).collect();
        let values: String = levels.iter().map(|(_, p)| format!("{p:>8.3}")).collect();
        lines.push(format!("teacher-forced PSNR (dB)  level {header}      mean"));
        lines.push(format!("                                {values}  {:>8.3}", self.teacher_psnr_mean));
        let lp = |v: Option<f64>| v.map_or_else(|| format!("{:>8}", "-"), |v| format!("{v:>8.4}"));
        lines.push(format!(
            "{:<24}{:>10}{:>8}{:>8}",
            format!("{r}->{t} upscaling"),
            "PSNR dB",
            "SSIM",
            if self.lpips_images > 0 { "LPIPS" } else { "LPIPS*" }
        ));
        for (name, p, s, l) in [
            ("free-running", self.free_psnr, self.free_ssim, self.free_lpips),
            ("bicubic", self.bicubic_psnr, self.bicubic_ssim, self.bicubic_lpips),
            ("nearest", self.nearest_psnr, self.nearest_ssim, self.nearest_lpips),
        ] {
            lines.push(format!("{:<24}{p:>10.3}{s:>8.4}{}", format!("  {name} {r}->{t}"), lp(l)));
        }
        lines.push(format!(
            "  free-running - bicubic: {:+.3} dB",
            self.free_psnr - self.bicubic_psnr
        ));
        if self.lpips_images > 0 {
            lines.push(format!("  (LPIPS-VGG over the first {} images)", self.lpips_images));
        } else {
            lines.push("  (* LPIPS skipped: no LPIPS network)".into());
        }
        lines.push(match self.fd_vgg16 {
            Some(fd) => format!(
                "FD-VGG16 (relu5_3 mean-pooled; {} generated vs {} real): {fd:.4}",
                self.fd_samples, self.images
            ),
            None => "FD-VGG16: skipped (needs a VGG16, a 4x4 prior and generate > 0)".into(),
        });
        if let Some(fid) = self.fid_inception {
            lines.push(format!(
                "FID (Inception-v3 pool3, pytorch-fid weights; {} generated vs {} real, resized to 299): {fid:.4}",
                self.fd_samples, self.images
            ));
        }
        lines
    }
}

/// Running sums over images.
#[derive(Default)]
struct Sums {
    teacher: Vec<f64>,
    free: [f64; 2],
    bicubic: [f64; 2],
    nearest: [f64; 2],
    lpips: [f64; 3],
}

fn add(acc: &mut f64, v: &[f64]) {
    *acc += v.iter().sum::<f64>();
}

/// PSNR of each image of two `(B, C, H, W)` batches, `10 log10(1 / max(MSE_i, 1e-10))` with
/// the MSE over `C*H*W` computed in f64 from the tensors' values (data range 1). This is the
/// `psnr_per_level` definition of the original's figures (no `+1e-8` inside the log; see
/// [`PSNR_MSE_FLOOR`]).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// let p = Tensor::full(0.1f32, (2, 3, 4, 4), &Device::Cpu)?;
/// let t = Tensor::zeros((2, 3, 4, 4), DType::F32, &Device::Cpu)?;
/// let v = wno_trainer::eval::psnr_per_image(&p, &t)?;
/// assert!((v[0] - 20.0).abs() < 1e-5 && (v[1] - 20.0).abs() < 1e-5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TrainerError::Shape`] when the batches differ in shape or are not 4-D.
pub fn psnr_per_image(pred: &Tensor, target: &Tensor) -> Result<Vec<f64>> {
    if pred.rank() != 4 || pred.dims() != target.dims() {
        return Err(TrainerError::Shape {
            op: "psnr_per_image",
            expected: format!("two (B, C, H, W) batches of the same shape, the target is {:?}", target.dims()),
            got: pred.dims().to_vec(),
            dtype: pred.dtype(),
        });
    }
    let b = pred.dim(0)?;
    let d = (pred.to_dtype(DType::F64)? - target.to_dtype(DType::F64)?)?;
    let mse = d.sqr()?.reshape((b, ()))?.mean(1)?.to_vec1::<f64>()?;
    Ok(mse.into_iter().map(|m| -10.0 * m.max(PSNR_MSE_FLOOR).log10()).collect())
}

/// Feature batches of one image set (real or generated) for the Frechet distances, in f64 on
/// the CPU: VGG16 relu5_3 means and Inception pool3, each when its network is given.
#[derive(Default)]
struct Features {
    vgg: Vec<Tensor>,
    inception: Vec<Tensor>,
}

impl Features {
    fn push(&mut self, nets: (Option<&Vgg16>, Option<&InceptionV3Fid>), images: &Tensor) -> Result<()> {
        let host = |t: Tensor| -> Result<Tensor> { Ok(t.to_dtype(DType::F64)?.to_device(&candle_core::Device::Cpu)?) };
        if let Some(vgg) = nets.0 {
            self.vgg.push(host(vgg16_fd_features(vgg, images)?)?);
        }
        if let Some(inception) = nets.1 {
            self.inception.push(host(fid_inception_features(inception, images, INCEPTION_CHUNK)?)?);
        }
        Ok(())
    }

    /// `(FD-VGG16, Inception FID)` of this set against `real` (`None` where no features).
    fn distances(&self, real: &Features) -> Result<(Option<f64>, Option<f64>)> {
        let fd = |fake: &[Tensor], real: &[Tensor]| -> Result<Option<f64>> {
            if fake.is_empty() || real.is_empty() {
                return Ok(None);
            }
            let a = FeatureStats::from_features(&Tensor::cat(real, 0)?)?;
            let b = FeatureStats::from_features(&Tensor::cat(fake, 0)?)?;
            Ok(Some(frechet_distance_from_stats(&b, &a)?))
        };
        Ok((fd(&self.vgg, &real.vgg)?, fd(&self.inception, &real.inception)?))
    }
}

fn to_f64_vec(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

/// The evaluation images `start..end` of `source`, preprocessed, as one batch in the
/// generator's dtype on its device.
fn load_batch(source: &dyn ImageSource, pipeline: &Pipeline, start: usize, end: usize, g: &Generator) -> Result<Tensor> {
    let images = (start..end)
        .into_par_iter()
        .map(|i| {
            let sample = source.get(i)?;
            // The evaluation pipeline draws no random number; the generator is only a placeholder.
            pipeline.apply(&sample.image, &mut TrainRng::seed_from_u64(0))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(stack_images(&images, g.device())?.to_dtype(g.dtype())?.to_device(g.device())?)
}

/// Runs the evaluation protocol (see the [module documentation](self)) over the first
/// `opts.limit` images of `source`, preprocessed with [`Pipeline::eval`] at the generator's
/// `target_size`. `prior` is needed only for FD-VGG16 and the Inception FID (each skipped when
/// `prior` is `None`, when its network in `nets` is `None`, or when `opts.generate` is 0; both
/// use the same generated samples). Sizes come from the generator's
/// configuration (`root_size`, `target_size`), nothing assumes 64.
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_nn::{VarBuilder, VarMap};
/// use wno_operator::{Config, Generator};
/// use wno_trainer::data::MemorySource;
/// use wno_trainer::eval::{evaluate, EvalNets, EvalOptions};
/// let cfg = Config { width: 16, layers: 1, target_size: 16, ..Default::default() };
/// let vm = VarMap::new();
/// let g = Generator::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
/// let mut src = MemorySource::new("gradients", vec![]);
/// for k in 0..3u8 {
///     let px: Vec<u8> = (0..3 * 32 * 32).map(|i| ((i * 7 + k as usize * 50) % 256) as u8).collect();
///     src.push_planar(32, 32, &px, None)?;
/// }
/// let opts = EvalOptions { generate: 0, ..Default::default() };
/// let report = evaluate(&g, None, &src, &opts, &EvalNets::default())?;
/// assert_eq!(report.images, 3);
/// assert_eq!(report.teacher_psnr.len(), 2); // levels 8 and 16
/// assert!(report.free_psnr.is_finite() && report.fd_vgg16.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TrainerError::InvalidArgument`] for a zero batch size, no image to evaluate, a target
/// smaller than the SSIM window (11), perceptual networks with a target below 16, or
/// `generate == 1`; data, operator, metric and candle errors as they come.
pub fn evaluate(generator: &Generator, prior: Option<&Prior4x4>, source: &dyn ImageSource, opts: &EvalOptions, nets: &EvalNets) -> Result<EvalReport> {
    const OP: &str = "evaluate";
    let started = Instant::now();
    let cfg = generator.config();
    let (root, target) = (cfg.root_size, cfg.target_size);
    let levels = cfg.levels()?;
    let n = opts.limit.map_or(source.len(), |l| l.min(source.len()));
    if opts.batch_size == 0 {
        return Err(TrainerError::invalid(OP, "batch_size must be at least 1"));
    }
    if n == 0 {
        return Err(TrainerError::invalid(OP, format!("no image to evaluate (the source holds {}, limit {:?})", source.len(), opts.limit)));
    }
    let ssim = Ssim::new(SsimConfig::default())?;
    let win = ssim.config().win_size;
    if target < win {
        return Err(TrainerError::invalid(OP, format!("target size {target} is smaller than the SSIM window ({win} pixels)")));
    }
    if (nets.lpips.is_some() || nets.fd_vgg.is_some()) && target < PERCEPTUAL_MIN_SIDE {
        return Err(TrainerError::invalid(
            OP,
            format!("LPIPS and FD-VGG16 need images of at least {PERCEPTUAL_MIN_SIDE} pixels, the target size is {target}; pass no networks"),
        ));
    }
    let gen_nets = (nets.fd_vgg.as_ref(), nets.fid_inception.as_ref());
    let metrics = nets.sample_metrics().filter(|_| opts.generate > 0 && prior.is_some());
    let do_fd = metrics.is_some();
    if let Some(what) = metrics.filter(|_| opts.generate < 2 || n < 2) {
        return Err(TrainerError::invalid(
            OP,
            format!(
                "{what}: at least 2 generated and 2 real images are needed, got {} and {n} (set generate to 0 to skip)",
                opts.generate
            ),
        ));
    }
    let skip_mode = opts.skip_mode.unwrap_or(cfg.skip_mode);
    let free_opts = SampleOptions { sigmas: Some(vec![0.0; levels]), skip_mode: Some(skip_mode), seed: opts.seed };
    let lpips_n = nets.lpips.as_ref().map_or(0, |_| opts.lpips_limit.map_or(n, |l| l.min(n)));
    let pipeline = Pipeline::eval(target);

    let mut sums = Sums { teacher: vec![0.0; levels], ..Default::default() };
    let mut real_feats = Features::default();
    let mut start = 0;
    while start < n {
        let end = (start + opts.batch_size).min(n);
        let x = load_batch(source, &pipeline, start, end, generator)?;
        let pyr = area_pyramid(&x, root)?;
        let gt_root = &pyr[0];
        let gt = &pyr[levels];
        let skip = match skip_mode {
            SkipMode::Root => Some(gt_root),
            SkipMode::Zeros => None,
        };
        // Teacher-forced: each level from the ground truth of the level below, zero noise.
        for l in 0..levels {
            let pred = generator.step(&pyr[l], None, skip)?.detach();
            add(&mut sums.teacher[l], &psnr_per_image(&pred, &pyr[l + 1])?);
        }
        // Free-running from the root, and the two floors.
        let free = generator.upscale(gt_root, target, &free_opts)?.pop().ok_or_else(|| TrainerError::invalid(OP, "upscale returned no image"))?;
        let bicubic = bicubic_resize_tensor(gt_root, target)?.clamp(0.0, 1.0)?;
        let nearest = wno_operator::ops::resize_nearest(gt_root, target, target)?;
        let gt32 = gt.to_dtype(DType::F32)?;
        let k = lpips_n.saturating_sub(start).min(end - start);
        for (i, (pred, acc)) in [(&free, &mut sums.free), (&bicubic, &mut sums.bicubic), (&nearest, &mut sums.nearest)].into_iter().enumerate() {
            add(&mut acc[0], &psnr_per_image(pred, gt)?);
            let p32 = pred.to_dtype(DType::F32)?;
            add(&mut acc[1], &to_f64_vec(&ssim.per_image(&p32, &gt32)?)?);
            if let (Some(lp), true) = (&nets.lpips, k > 0) {
                let d = lp.per_image(&p32.narrow(0, 0, k)?, &gt32.narrow(0, 0, k)?)?.detach();
                add(&mut sums.lpips[i], &to_f64_vec(&d)?);
            }
        }
        if do_fd {
            real_feats.push(gen_nets, &gt32)?;
        }
        start = end;
    }

    let (fd_vgg16, fid_inception, fd_samples) = match (do_fd, prior) {
        (true, Some(prior)) => {
            let mut fake = Features::default();
            let mut done = 0;
            let mut chunk = 0u64;
            while done < opts.generate {
                let m = opts.batch_size.min(opts.generate - done);
                let so = SampleOptions { sigmas: None, skip_mode: None, seed: derive_seed(&[opts.seed, chunk]) };
                let img = generator.generate(m, prior, &so)?.pop().ok_or_else(|| TrainerError::invalid(OP, "generate returned no image"))?;
                fake.push(gen_nets, &img.to_dtype(DType::F32)?)?;
                done += m;
                chunk += 1;
            }
            let (vgg, inception) = fake.distances(&real_feats)?;
            (vgg, inception, opts.generate)
        }
        _ => (None, None, 0),
    };

    let nf = n as f64;
    let mut teacher_psnr = BTreeMap::new();
    for (l, s) in sums.teacher.iter().enumerate() {
        teacher_psnr.insert((root << (l + 1)).to_string(), s / nf);
    }
    let teacher_psnr_mean = sums.teacher.iter().map(|s| s / nf).sum::<f64>() / levels.max(1) as f64;
    let lp = |s: f64| (lpips_n > 0).then(|| s / lpips_n as f64);
    Ok(EvalReport {
        images: n,
        root_size: root,
        target_size: target,
        skip: match skip_mode {
            SkipMode::Root => "root".into(),
            SkipMode::Zeros => "zeros".into(),
        },
        teacher_psnr,
        teacher_psnr_mean,
        free_psnr: sums.free[0] / nf,
        free_ssim: sums.free[1] / nf,
        free_lpips: lp(sums.lpips[0]),
        bicubic_psnr: sums.bicubic[0] / nf,
        bicubic_ssim: sums.bicubic[1] / nf,
        bicubic_lpips: lp(sums.lpips[1]),
        nearest_psnr: sums.nearest[0] / nf,
        nearest_ssim: sums.nearest[1] / nf,
        nearest_lpips: lp(sums.lpips[2]),
        lpips_images: lpips_n,
        fd_vgg16,
        fd_samples,
        fid_inception,
        seconds: started.elapsed().as_secs_f64(),
    })
}

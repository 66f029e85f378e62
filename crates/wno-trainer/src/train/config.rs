//! [`TrainConfig`]: everything a training run needs, serialisable to the run's `config.json`.

use crate::error::{Result, TrainerError};
use crate::optim::{AdamConfig, EmaConfig, LrSchedule};
use serde::{Deserialize, Serialize};

/// Weights of the terms of the generator objective (DESIGN.md section 2). A weight of 0 turns
/// its term off, and a term that is off costs nothing (its network is not even built).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LossWeights {
    /// L1 weight per level, coarsest first (`1, 2, 4, 8` for 8, 16, 32, 64). Its length is the
    /// number of transitions.
    pub l1_levels: Vec<f64>,
    /// L1 between VGG16 relu3_3 features of prediction and ground truth.
    pub perceptual: f64,
    /// `1 - SSIM` (pytorch_msssim's SSIM).
    pub ssim: f64,
    /// Gradient L1 (zero-padded forward differences).
    pub gradient: f64,
    /// LPIPS-VGG.
    pub lpips: f64,
    /// Laplacian-pyramid L1 (3 band-pass levels plus the remainder).
    pub laplacian: f64,
    /// Hinge generator term `-mean(D(pred))` of the PatchGAN critic.
    pub adversarial: f64,
    /// The finest-level terms (all but L1) apply to this many of the finest levels (1: only the
    /// last one, as in DESIGN.md).
    pub fine_levels: usize,
    /// Compute the VGG terms (perceptual, LPIPS) on the first this-many images of each batch
    /// only (`None`: all). The VGG passes dominate a CPU step; a sub-batch keeps their signal
    /// at a fraction of the cost.
    pub vgg_images: Option<usize>,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            l1_levels: vec![1.0, 2.0, 4.0, 8.0],
            perceptual: 0.3,
            ssim: 0.8,
            gradient: 0.2,
            lpips: 0.2,
            laplacian: 0.1,
            adversarial: 0.01,
            fine_levels: 1,
            vgg_images: None,
        }
    }
}

impl LossWeights {
    /// Only the pixel terms of the objective (L1 per level, SSIM, gradient, Laplacian): the
    /// objective of `../shared/bench`'s PyTorch training benchmark.
    pub fn pixel_only() -> Self {
        Self { perceptual: 0.0, lpips: 0.0, adversarial: 0.0, ..Self::default() }
    }

    /// Checks that every weight is finite and non-negative.
    ///
    /// # Errors
    /// [`TrainerError::InvalidArgument`] naming the bad weight.
    pub fn validate(&self) -> Result<()> {
        let named = [
            ("perceptual", self.perceptual),
            ("ssim", self.ssim),
            ("gradient", self.gradient),
            ("lpips", self.lpips),
            ("laplacian", self.laplacian),
            ("adversarial", self.adversarial),
        ];
        for (name, w) in named.iter().copied().chain(self.l1_levels.iter().map(|&w| ("l1_levels", w))) {
            if !w.is_finite() || w < 0.0 {
                return Err(TrainerError::invalid("LossWeights", format!("weight `{name}` must be finite and >= 0, got {w}")));
            }
        }
        if self.vgg_images == Some(0) {
            return Err(TrainerError::invalid("LossWeights", "vgg_images must be at least 1 (or None for the whole batch)"));
        }
        if self.fine_levels == 0 || self.fine_levels > self.l1_levels.len() {
            return Err(TrainerError::invalid(
                "LossWeights",
                format!("fine_levels must be in 1..={}, got {}", self.l1_levels.len(), self.fine_levels),
            ));
        }
        Ok(())
    }
}

/// What each transition takes as input during training (DESIGN.md section 2, exposure bias).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rollout {
    /// Every transition from the ground truth of the level below (the original).
    Teacher,
    /// Every transition from the previous prediction, starting at the 4x4 ground truth (as at
    /// sampling). With `detach` the gradient is cut between levels; without it gradients flow
    /// through the whole chain.
    Free {
        /// Cut the gradient between levels.
        detach: bool,
    },
    /// Each transition after the first takes the model's own (detached) previous prediction
    /// with probability `p`, the ground truth otherwise (drawn per level and step).
    Mixed {
        /// Probability of the model's own input.
        p: f64,
    },
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout::Free { detach: false }
    }
}

/// Conditioning augmentation: perturbations of the input canvas of each transition in training,
/// so that the model learns to correct imperfect inputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConditioningAugment {
    /// Standard deviation of Gaussian noise added to each input canvas (0: off). The noisy
    /// canvas is clamped to `[0, 1]`.
    pub noise_std: f64,
    /// Probability of replacing an input canvas by its 3x3 box blur (0: off).
    pub blur_prob: f64,
}

/// Everything a run needs besides the data and the frozen networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// The generator.
    pub model: wno_operator::Config,
    /// Objective weights.
    pub losses: LossWeights,
    /// Inputs of the transitions in training.
    pub rollout: Rollout,
    /// Perturbations of the input canvases.
    pub conditioning: ConditioningAugment,
    /// Generator optimiser (default: the original's Adam lr 3e-4, coupled L2 1e-4).
    pub generator_optim: AdamConfig,
    /// Critic optimiser (default: Adam lr 1e-4, betas (0.5, 0.999)).
    pub critic_optim: AdamConfig,
    /// Output channels of the critic's stride-2 convs.
    pub critic_widths: Vec<usize>,
    /// Learning-rate schedule (both optimisers). A warm-up + cosine schedule with
    /// `total_steps: 0` spans the whole run (`min(max_steps, epochs x batches per epoch)`,
    /// recomputed whenever the run starts or resumes).
    pub schedule: LrSchedule,
    /// Clip the generator's global gradient norm to this value.
    pub clip_grad_norm: Option<f64>,
    /// Exponential moving average of the generator weights (used for evaluation, samples and
    /// the exported model when on).
    pub ema: Option<EmaConfig>,
    /// Images per step.
    pub batch_size: usize,
    /// Epochs over the training set.
    pub epochs: u64,
    /// Stop after this many steps in all (across resumes).
    pub max_steps: Option<u64>,
    /// Stop after this many seconds of training in this process (a checkpoint is written).
    pub max_seconds: Option<f64>,
    /// Seed of every random choice (order, augmentation, noise, initialisation).
    pub seed: u64,
    /// Where the VGG16 weights of the perceptual terms came from (a path or `hub`), for the
    /// record and for resuming; not read by the trainer itself.
    pub vgg_weights: Option<String>,
    /// Log a `metrics.jsonl` line every this many steps.
    pub log_every: u64,
    /// Evaluate (and write samples, curves and the checkpoints) every this many steps, besides
    /// the end of every epoch; 0 = only at epoch ends.
    pub eval_every: u64,
    /// Test images per in-training evaluation.
    pub eval_images: usize,
    /// Loader worker threads.
    pub workers: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: wno_operator::Config::default(),
            losses: LossWeights::default(),
            rollout: Rollout::default(),
            conditioning: ConditioningAugment::default(),
            generator_optim: AdamConfig { lr: 3e-4, weight_decay: 1e-4, ..AdamConfig::default() },
            critic_optim: AdamConfig { lr: 1e-4, beta1: 0.5, ..AdamConfig::default() },
            critic_widths: vec![64, 128, 256, 512],
            schedule: LrSchedule::Constant,
            clip_grad_norm: None,
            ema: Some(EmaConfig::default()),
            batch_size: 128,
            epochs: 25,
            max_steps: None,
            max_seconds: None,
            seed: 0,
            vgg_weights: None,
            log_every: 10,
            eval_every: 0,
            eval_images: 500,
            workers: 2,
        }
    }
}

impl TrainConfig {
    /// Checks every field and their agreement (one L1 weight per transition).
    ///
    /// ```
    /// let mut cfg = wno_trainer::train::TrainConfig::default();
    /// assert!(cfg.validate().is_ok());
    /// cfg.losses.l1_levels = vec![1.0, 2.0]; // 4 transitions from 4 to 64
    /// assert!(cfg.validate().unwrap_err().to_string().contains("l1_levels"));
    /// ```
    ///
    /// # Errors
    /// [`TrainerError::InvalidArgument`] naming the first invalid field, or the operator
    /// layer's configuration error.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.losses.validate()?;
        self.generator_optim.validate()?;
        self.critic_optim.validate()?;
        let levels = self.model.levels()?;
        if self.losses.l1_levels.len() != levels {
            return Err(TrainerError::invalid(
                "TrainConfig",
                format!(
                    "losses.l1_levels has {} weights but {} -> {} has {levels} transitions",
                    self.losses.l1_levels.len(),
                    self.model.root_size,
                    self.model.target_size
                ),
            ));
        }
        if self.batch_size == 0 {
            return Err(TrainerError::invalid("TrainConfig", "batch_size must be positive"));
        }
        if let Rollout::Mixed { p } = self.rollout {
            if !(0.0..=1.0).contains(&p) {
                return Err(TrainerError::invalid("TrainConfig", format!("rollout mixed p must be in [0, 1], got {p}")));
            }
        }
        let c = &self.conditioning;
        if !(c.noise_std.is_finite() && c.noise_std >= 0.0 && (0.0..=1.0).contains(&c.blur_prob)) {
            return Err(TrainerError::invalid("TrainConfig", format!("conditioning {c:?}: noise_std >= 0 and blur_prob in [0, 1]")));
        }
        if self.losses.adversarial > 0.0 {
            let n = self.critic_widths.len();
            if n == 0 || self.model.target_size >> n == 0 || self.critic_widths.contains(&0) {
                return Err(TrainerError::invalid("TrainConfig", format!("critic_widths {:?} do not fit a {} image", self.critic_widths, self.model.target_size)));
            }
        }
        if let Some(c) = self.clip_grad_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(TrainerError::invalid("TrainConfig", format!("clip_grad_norm must be positive, got {c}")));
            }
        }
        if self.max_seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err(TrainerError::invalid("TrainConfig", "max_seconds must be positive"));
        }
        if self.epochs == 0 || self.max_steps == Some(0) {
            return Err(TrainerError::invalid("TrainConfig", "epochs and max_steps must be at least 1"));
        }
        if self.eval_images == 0 {
            return Err(TrainerError::invalid("TrainConfig", "eval_images must be at least 1 (pass no evaluation data to skip evaluation)"));
        }
        if let LrSchedule::WarmupCosine { min_ratio, .. } = self.schedule {
            if !(0.0..=1.0).contains(&min_ratio) {
                return Err(TrainerError::invalid("TrainConfig", format!("the schedule's min_ratio must be in [0, 1], got {min_ratio}")));
            }
        }
        if self.log_every == 0 {
            return Err(TrainerError::invalid("TrainConfig", "log_every must be positive"));
        }
        Ok(())
    }
}

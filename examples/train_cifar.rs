//! Trains the scale-recursive W-NO generator on CIFAR-10 (or any image folder) with the full
//! objective of DESIGN.md section 2, on CPU or CUDA.
//!
//! ```sh
//! # the Hub copy of CIFAR-10, the original's configuration (width 192, 6 layers, batch 128)
//! cargo run --release --features cuda --example train_cifar -- --device cuda
//! # a local copy (CIFAR-10 binary batches, parquet, or image folders with train/ and test/)
//! cargo run --release --example train_cifar -- --data ~/data/cifar10 --width 64 --layers 4 \
//!     --batch-size 16 --vgg ../shared/weights/vgg16_lpips.safetensors --out runs/w64
//! # continue it
//! cargo run --release --example train_cifar -- --resume runs/w64 --data ~/data/cifar10
//! ```
//!
//! The run folder holds `config.json`, `metrics.jsonl`, `samples/*.png`, `curves.png`,
//! `checkpoints/{last,best}.safetensors` and the exported `model_{last,best}.safetensors`
//! (with `.json`), which `sample` and `evaluate` read.
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wno_imagegen::wno_losses::{HubWeights, Lpips, Perceptual, Vgg16, Vgg16Config};
use wno_imagegen::wno_operator::Config;
use wno_imagegen::wno_trainer::data::{load_hub_cifar10, open_source, ImageSource, SourceOptions, Split};
use wno_imagegen::wno_trainer::eval::EvalNets;
use wno_imagegen::wno_trainer::optim::{EmaConfig, LrSchedule};
use wno_imagegen::wno_trainer::checkpoint::read_metadata;
use wno_imagegen::wno_trainer::train::{self, LossNets, LossWeights, Rollout, RunData, RunDir, RunOptions, TrainConfig};

#[derive(Parser, Debug)]
#[command(about = "Train the scale-recursive W-NO image generator")]
struct Args {
    /// Training data: a CIFAR-10 binary folder, parquet files, or an image folder (with
    /// `train/` and `test/` subfolders, or class subfolders). `hub` = the Hub copy of CIFAR-10.
    #[arg(long, default_value = "hub")]
    data: String,
    /// Evaluation data (the test split of `--data` when omitted; `none` to skip evaluation).
    #[arg(long)]
    eval_data: Option<String>,
    /// Epochs over the training set (default 25; on resume, the stored value).
    #[arg(long)]
    epochs: Option<u64>,
    /// Stop after this many optimisation steps.
    #[arg(long)]
    max_steps: Option<u64>,
    /// Stop after this many minutes of training (a checkpoint is written).
    #[arg(long)]
    max_minutes: Option<f64>,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Hidden channels.
    #[arg(long, default_value_t = 192)]
    width: usize,
    /// Blocks (all share one wavelet conv).
    #[arg(long, default_value_t = 6)]
    layers: usize,
    /// Final image side (a power-of-two multiple of 4).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Generator learning rate.
    #[arg(long, default_value_t = 3e-4)]
    lr: f64,
    /// Weight decay of the generator optimiser.
    #[arg(long, default_value_t = 1e-4)]
    weight_decay: f64,
    /// Decoupled weight decay (AdamW) instead of the original's coupled L2 (the decay value is
    /// `--weight-decay` in both cases).
    #[arg(long)]
    adamw: bool,
    /// Critic learning rate (Adam, betas 0.5 / 0.999).
    #[arg(long, default_value_t = 1e-4)]
    critic_lr: f64,
    /// Warm-up steps of a warm-up + cosine schedule over the run (constant rate when omitted).
    #[arg(long)]
    cosine_warmup: Option<u64>,
    /// Floor of the cosine schedule as a fraction of the base rate.
    #[arg(long, default_value_t = 0.0)]
    min_lr_ratio: f64,
    /// Clip the generator's gradient norm.
    #[arg(long)]
    clip_grad: Option<f64>,
    /// EMA decay of the generator weights (0 turns the EMA off).
    #[arg(long, default_value_t = 0.999)]
    ema: f64,
    /// Transition inputs in training: teacher, free, free-detach, or mixed:P.
    #[arg(long, default_value = "free")]
    rollout: String,
    /// Conditioning augmentation: Gaussian noise std on the input canvases.
    #[arg(long, default_value_t = 0.0)]
    cond_noise: f64,
    /// Conditioning augmentation: probability of a 3x3 box blur of each input canvas.
    #[arg(long, default_value_t = 0.0)]
    cond_blur: f64,
    /// Train with zero noise channels (the original's behaviour).
    #[arg(long)]
    no_train_noise: bool,
    /// L1 weights per level, coarsest first.
    #[arg(long, default_value = "1,2,4,8", value_delimiter = ',')]
    w_l1: Vec<f64>,
    /// VGG16 relu3_3 perceptual L1 weight.
    #[arg(long, default_value_t = 0.3)]
    w_perceptual: f64,
    /// 1 - SSIM weight.
    #[arg(long, default_value_t = 0.8)]
    w_ssim: f64,
    /// Gradient L1 weight.
    #[arg(long, default_value_t = 0.2)]
    w_gradient: f64,
    /// LPIPS weight.
    #[arg(long, default_value_t = 0.2)]
    w_lpips: f64,
    /// Laplacian-pyramid L1 weight.
    #[arg(long, default_value_t = 0.1)]
    w_laplacian: f64,
    /// Adversarial (hinge PatchGAN) weight.
    #[arg(long, default_value_t = 0.01)]
    w_adv: f64,
    /// The finest-level terms (SSIM, gradient, Laplacian, perceptual, LPIPS, adversarial) apply
    /// to this many of the finest levels.
    #[arg(long, default_value_t = 1)]
    fine_levels: usize,
    /// Compute the VGG terms (perceptual, LPIPS) on the first N images of each batch only.
    #[arg(long)]
    vgg_images: Option<usize>,
    /// VGG16 weights: a safetensors file (torchvision `features.N.*`, plus the LPIPS heads
    /// `lin{k}.model.1.weight` for LPIPS), or `hub` (timm/vgg16.tv_in1k, which has no LPIPS
    /// heads: LPIPS is then off). Default `hub`; on resume, the run's own.
    #[arg(long)]
    vgg: Option<String>,
    /// cpu, cuda or auto.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Run folder.
    #[arg(long, default_value = "runs/train_cifar")]
    out: PathBuf,
    /// Continue the run in this folder (its stored configuration is used).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Evaluate, sample and checkpoint every this many steps (besides every epoch end).
    #[arg(long, default_value_t = 0)]
    eval_every: u64,
    /// Test images per in-training evaluation.
    #[arg(long, default_value_t = 500)]
    eval_images: usize,
    /// Log a metrics line every this many steps.
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Loader worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// No progress bar (log lines instead).
    #[arg(long)]
    no_progress: bool,
}

fn rollout(s: &str) -> Result<Rollout> {
    Ok(match s {
        "teacher" => Rollout::Teacher,
        "free" => Rollout::Free { detach: false },
        "free-detach" => Rollout::Free { detach: true },
        m if m.starts_with("mixed:") => Rollout::Mixed { p: m["mixed:".len()..].parse().context("--rollout mixed:P needs a number P")? },
        other => bail!("--rollout must be teacher, free, free-detach or mixed:P, got `{other}`"),
    })
}

fn open(path: &str, split: Split) -> Result<Arc<dyn ImageSource>> {
    let src = open_source(&PathBuf::from(path), &SourceOptions::new(split)).with_context(|| format!("opening {split} images at {path}"))?;
    for w in src.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(Arc::new(src))
}

/// The frozen networks: the perceptual VGG and LPIPS for the loss (when their weights are
/// above 0) and LPIPS / the FD VGG for evaluation.
fn networks(vgg: &str, weights: &mut LossWeights, dev: &Device) -> Result<(LossNets, EvalNets)> {
    if vgg == "hub" {
        if weights.lpips > 0.0 {
            eprintln!("notice: the Hub VGG16 (timm/vgg16.tv_in1k) has no LPIPS heads: the LPIPS term and metric are off (pass --vgg FILE with `lin{{k}}.model.1.weight` to enable them)");
            weights.lpips = 0.0;
        }
        let perceptual = if weights.perceptual > 0.0 {
            Some(Perceptual::from_hub(&HubWeights::default(), DType::F32, dev).context("loading VGG16 from the Hub (or pass --vgg FILE, or --w-perceptual 0)")?)
        } else {
            None
        };
        let fd_vgg = Vgg16::from_hub(&HubWeights::default(), &Vgg16Config::default(), DType::F32, dev).ok();
        return Ok((LossNets { perceptual, lpips: None }, EvalNets { lpips: None, fd_vgg, fid_inception: None }));
    }
    let path = PathBuf::from(vgg);
    let lpips = Lpips::from_safetensors(&path, DType::F32, dev).with_context(|| format!("loading VGG16 + LPIPS heads from {}", path.display()))?;
    let perceptual = if weights.perceptual > 0.0 { Some(Perceptual::from_safetensors(&path, DType::F32, dev)?) } else { None };
    let fd_vgg = Some(lpips.vgg().clone());
    let loss_lpips = if weights.lpips > 0.0 { Some(lpips.clone()) } else { None };
    Ok((LossNets { perceptual, lpips: loss_lpips }, EvalNets { lpips: Some(lpips), fd_vgg, fid_inception: None }))
}

/// The run configuration from the flags (a fresh run).
fn config_from_args(args: &Args) -> Result<TrainConfig> {
    let losses = LossWeights {
        l1_levels: args.w_l1.clone(),
        perceptual: args.w_perceptual,
        ssim: args.w_ssim,
        gradient: args.w_gradient,
        lpips: args.w_lpips,
        laplacian: args.w_laplacian,
        adversarial: args.w_adv,
        fine_levels: args.fine_levels,
        vgg_images: args.vgg_images,
    };
    let model = Config { width: args.width, layers: args.layers, target_size: args.size, train_noise: !args.no_train_noise, ..Config::default() };
    let mut cfg = TrainConfig {
        model,
        losses,
        rollout: rollout(&args.rollout)?,
        clip_grad_norm: args.clip_grad,
        ema: (args.ema > 0.0).then_some(EmaConfig { decay: args.ema, ..EmaConfig::default() }),
        batch_size: args.batch_size,
        epochs: args.epochs.unwrap_or(25),
        max_steps: args.max_steps,
        max_seconds: args.max_minutes.map(|m| m * 60.0),
        seed: args.seed,
        vgg_weights: Some(args.vgg.clone().unwrap_or_else(|| "hub".into())),
        log_every: args.log_every,
        eval_every: args.eval_every,
        eval_images: args.eval_images,
        workers: args.workers,
        ..TrainConfig::default()
    };
    cfg.conditioning.noise_std = args.cond_noise;
    cfg.conditioning.blur_prob = args.cond_blur;
    cfg.generator_optim.lr = args.lr;
    cfg.generator_optim.weight_decay = args.weight_decay;
    cfg.generator_optim.decoupled = args.adamw;
    cfg.critic_optim.lr = args.critic_lr;
    if let Some(warmup) = args.cosine_warmup {
        // total_steps 0: the trainer spans the schedule over the run, at every (re)start.
        cfg.schedule = LrSchedule::WarmupCosine { warmup_steps: warmup, total_steps: 0, min_ratio: args.min_lr_ratio };
    }
    Ok(cfg)
}

/// The stored configuration of the run in `dir`, with the stopping limits of the flags.
fn resumed_config(dir: &Path, args: &Args) -> Result<TrainConfig> {
    let last = RunDir::new(dir).checkpoints().last_path();
    let state = read_metadata(&last).with_context(|| format!("reading the run to resume in {}", dir.display()))?;
    let mut cfg: TrainConfig = serde_json::from_value(state.config).with_context(|| format!("the configuration stored in {}", last.display()))?;
    eprintln!("resuming at step {}: the stored configuration is used; only --epochs, --max-steps and --max-minutes apply", state.step);
    cfg.epochs = args.epochs.unwrap_or(cfg.epochs);
    cfg.max_steps = args.max_steps.or(cfg.max_steps);
    cfg.max_seconds = args.max_minutes.map(|m| m * 60.0);
    Ok(cfg)
}

fn main() -> Result<()> {
    let args = Args::parse();
    wno_imagegen::wno_trainer::alloc::retain_freed_memory();
    let dev = wno_imagegen::device(&args.device)?;
    let mut cfg = match &args.resume {
        Some(dir) => resumed_config(dir, &args)?,
        None => config_from_args(&args)?,
    };
    let vgg = args.vgg.clone().or_else(|| cfg.vgg_weights.clone()).unwrap_or_else(|| "hub".into());
    let (loss_nets, eval_nets) = networks(&vgg, &mut cfg.losses, &dev)?;
    cfg.validate().context("invalid training configuration")?;

    let (train_src, test_src): (Arc<dyn ImageSource>, Option<Arc<dyn ImageSource>>) = if args.data == "hub" {
        let (train, test) = load_hub_cifar10().context("loading CIFAR-10 from the Hub (or pass --data PATH)")?;
        (Arc::new(train), Some(Arc::new(test)))
    } else {
        (open(&args.data, Split::Train)?, None)
    };
    let eval_src = match args.eval_data.as_deref() {
        Some("none") => None,
        Some(p) => Some(open(p, Split::Test)?),
        None if test_src.is_some() => test_src,
        None => {
            let test = open(&args.data, Split::Test)?;
            if test.description() == train_src.description() {
                eprintln!("notice: {} has no separate test split: evaluating on the training images (pass --eval-data PATH or --eval-data none)", args.data);
            }
            Some(test)
        }
    };
    let (out_dir, resume) = match &args.resume {
        Some(dir) => (dir.clone(), true),
        None => (args.out.clone(), false),
    };
    println!(
        "training on {}, evaluating on {}, device {:?}, run folder {}",
        train_src.description(),
        eval_src.as_ref().map_or("nothing".to_string(), |e| e.description()),
        dev,
        out_dir.display()
    );
    let summary = train::run(
        RunOptions { config: cfg, out_dir: out_dir.clone(), resume, device: dev, progress: !args.no_progress },
        RunData { train: train_src, eval: eval_src },
        loss_nets,
        &eval_nets,
    )
    .with_context(|| format!("training run in {}", out_dir.display()))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

//! Evaluates a trained W-NO generator with the protocol of DESIGN.md section 3: teacher-forced
//! PSNR per level, free-running root -> target PSNR / SSIM / LPIPS against the bicubic and
//! nearest floors, and FD-VGG16 of samples from the 4x4 prior (not Inception FID); with
//! `--fid-inception`, also the Inception FID of the same samples (pytorch-fid's network and
//! weights, which must be downloaded: there is no Inception FID offline without the file).
//!
//! ```sh
//! # the shipped weights on the CIFAR-10 test batch, with LPIPS and FD-VGG16
//! cargo run --release --example evaluate -- --data ~/data/cifar10/test_batch.bin \
//!     --vgg ../shared/weights/vgg16_lpips.safetensors --json eval.json
//! # the original checkpoint (convert it first with the convert_checkpoint example)
//! cargo run --release --example evaluate -- --weights /tmp/seed/seed_wno.safetensors \
//!     --data ~/data/cifar10/test_batch.bin --limit 2000 --vgg ../shared/weights/vgg16_lpips.safetensors
//! # plus the Inception FID: pytorch-fid's weight file, or `hub` to fetch it from the Hub once
//! cargo run --release --example evaluate -- --data ~/data/cifar10/test_batch.bin \
//!     --vgg ../shared/weights/vgg16_lpips.safetensors --fid-inception pt_inception-2015-12-05-6726825d.pth
//! ```
//!
//! `--weights` is a `.safetensors` file with its configuration `.json` beside it (what
//! `train_cifar` exports and `convert_checkpoint` writes); the 4x4 prior comes from the same
//! file, or from `--prior`.
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device};
use clap::Parser;
use std::path::PathBuf;
use wno_losses::{HubWeights, InceptionV3Fid, Lpips, Vgg16, Vgg16Config, FID_INCEPTION_URL};
use wno_operator::model_file::load_model;
use wno_operator::{Prior4x4, SkipMode};
use wno_trainer::data::{load_hub_cifar10, open_source, ImageSource, MemorySource, SourceOptions, Split};
use wno_trainer::eval::{evaluate, EvalNets, EvalOptions};

#[derive(Parser, Debug)]
#[command(about = "Evaluate a W-NO generator: teacher-forced / free-running PSNR, SSIM, LPIPS, FD-VGG16, optional Inception FID")]
struct Args {
    /// Model weights (`.safetensors`, with the configuration `.json` beside it).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/wno_w64_l4.safetensors"))]
    weights: PathBuf,
    /// Test images: a CIFAR-10 binary batch or folder, parquet files, an image folder (its
    /// `test/` subfolder when there is one), or `hub` for the Hub copy of CIFAR-10.
    #[arg(long, default_value = "hub")]
    data: String,
    /// Evaluate only the first N images.
    #[arg(long)]
    limit: Option<usize>,
    /// LPIPS on the first N evaluated images only (the original's figures used 500; 0 = all).
    #[arg(long, default_value_t = 500)]
    lpips_limit: usize,
    /// Samples from the prior for FD-VGG16 and the Inception FID (default 1000, or the number
    /// of evaluated images when --limit is smaller; 0 skips both).
    #[arg(long)]
    generate: Option<usize>,
    /// VGG16 weights for LPIPS and FD-VGG16: a safetensors file with torchvision
    /// `features.N.*` tensors and LPIPS heads `lin{k}.model.1.weight`, or `hub` for the Hub's
    /// torchvision VGG16 (FD-VGG16 only: it has no LPIPS heads). Omitted: both are skipped.
    #[arg(long)]
    vgg: Option<String>,
    /// Also report the Inception FID (pytorch-fid's FID Inception-v3, pool3 features) of the
    /// generated samples: the weight file `pt_inception-2015-12-05-6726825d.pth` (as pytorch-fid
    /// downloads it, or a safetensors copy), or `hub` for the Hub copy
    /// (`HubWeights::fid_inception`, downloaded once into the Hugging Face cache). Omitted: no
    /// FID in the report. Slow on a CPU: every image runs at 299x299.
    #[arg(long, value_name = "PATH|hub")]
    fid_inception: Option<String>,
    /// A safetensors file with the 4x4 prior (`prior.mean`, `prior.chol`), when the weights
    /// file holds none.
    #[arg(long)]
    prior: Option<PathBuf>,
    /// Skip channels in the teacher-forced and free-running passes: `root` (the ground-truth
    /// root canvas, the protocol of the published figures), `zeros`, or `config` (the model
    /// configuration's skip_mode).
    #[arg(long, default_value = "root")]
    skip: String,
    /// Images per batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Seed of the generated samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// `cpu`, `cuda` or `auto`.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn skip_mode(s: &str) -> Result<Option<SkipMode>> {
    Ok(match s {
        "root" => Some(SkipMode::Root),
        "zeros" => Some(SkipMode::Zeros),
        "config" => None,
        other => bail!("--skip must be root, zeros or config, got `{other}`"),
    })
}

fn open(data: &str) -> Result<MemorySource> {
    if data == "hub" {
        let (_, test) = load_hub_cifar10().context("loading the Hub copy of CIFAR-10 (or pass --data PATH)")?;
        return Ok(test);
    }
    let src = open_source(&PathBuf::from(data), &SourceOptions::new(Split::Test)).with_context(|| format!("opening test images at {data}"))?;
    for w in src.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(src)
}

fn networks(vgg: Option<&str>, dev: &Device) -> Result<EvalNets> {
    match vgg {
        None => {
            println!("notice: no --vgg given: LPIPS and FD-VGG16 are skipped");
            Ok(EvalNets::default())
        }
        Some("hub") => {
            let fd = Vgg16::from_hub(&HubWeights::default(), &Vgg16Config::default(), DType::F32, dev)
                .context("loading VGG16 from the Hub (or pass --vgg FILE)")?;
            println!("notice: the Hub VGG16 has no LPIPS heads: LPIPS is skipped");
            Ok(EvalNets { lpips: None, fd_vgg: Some(fd), fid_inception: None })
        }
        Some(path) => match Lpips::from_safetensors(path, DType::F32, dev) {
            // One backbone serves both metrics (each applies its own input normalisation).
            Ok(lpips) => Ok(EvalNets { fd_vgg: Some(lpips.vgg().clone()), lpips: Some(lpips), fid_inception: None }),
            Err(lpips_err) => {
                let fd = Vgg16::from_safetensors(path, &Vgg16Config::default(), DType::F32, dev)
                    .with_context(|| format!("loading VGG16 from {path}"))?;
                println!("notice: {path} has no usable LPIPS heads ({lpips_err}): LPIPS is skipped");
                Ok(EvalNets { lpips: None, fd_vgg: Some(fd), fid_inception: None })
            }
        },
    }
}

fn inception(spec: Option<&str>, dev: &Device) -> Result<Option<InceptionV3Fid>> {
    let net = match spec {
        None => return Ok(None),
        Some("hub") => InceptionV3Fid::from_hub(&HubWeights::fid_inception(), DType::F32, dev).with_context(|| {
            format!("loading the FID Inception weights from the Hub (or download {FID_INCEPTION_URL} and pass --fid-inception FILE)")
        })?,
        Some(path) => InceptionV3Fid::from_file(path, DType::F32, dev)
            .with_context(|| format!("loading the FID Inception weights from {path} (pytorch-fid's file is {FID_INCEPTION_URL})"))?,
    };
    Ok(Some(net))
}

fn main() -> Result<()> {
    let args = Args::parse();
    wno_trainer::alloc::retain_freed_memory();
    let dev = wno_imagegen::device(&args.device)?;
    let skip = skip_mode(&args.skip)?;
    let model = load_model(&args.weights, DType::F32, &dev).with_context(|| format!("loading the model {}", args.weights.display()))?;
    let prior = match &args.prior {
        Some(p) => Some(Prior4x4::load(p).with_context(|| format!("loading the prior {}", p.display()))?),
        None => model.prior.clone(),
    };
    let source = open(&args.data)?;
    let n = args.limit.map_or(source.len(), |l| l.min(source.len()));
    let mut nets = networks(args.vgg.as_deref(), &dev)?;
    nets.fid_inception = inception(args.fid_inception.as_deref(), &dev)?;
    let generate = args.generate.unwrap_or(1000.min(n));
    // Name only the metrics of generated samples that were asked for (--vgg, --fid-inception).
    if let Some(what) = nets.sample_metrics() {
        if generate == 0 {
            println!("notice: --generate 0: skipping {what}");
        } else if prior.is_none() {
            println!("notice: {} holds no 4x4 prior (and no --prior given): skipping {what}", args.weights.display());
        }
    }
    let cfg = model.generator.config();
    println!(
        "model {} (width {}, {} layers, {}x{} -> {}x{}); data {}; evaluating {n} images on {:?}",
        args.weights.display(),
        cfg.width,
        cfg.layers,
        cfg.root_size,
        cfg.root_size,
        cfg.target_size,
        cfg.target_size,
        source.description(),
        dev.location()
    );
    let opts = EvalOptions {
        limit: Some(n),
        batch_size: args.batch_size,
        lpips_limit: (args.lpips_limit > 0).then_some(args.lpips_limit),
        generate,
        seed: args.seed,
        skip_mode: skip,
    };
    let report = evaluate(&model.generator, prior.as_ref(), &source, &opts, &nets).context("evaluating")?;
    for line in report.summary_lines() {
        println!("{line}");
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).context("serialising the report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

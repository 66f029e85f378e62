//! Samples a grid of images with a trained W-NO generator: one row per image, one column per
//! scale (4x4, 8x8, ..., the target size; every cell nearest-upscaled to the same size).
//!
//! ```sh
//! # generate 8 images with the weights shipped in weights/ (needs the 4x4 prior in the file)
//! cargo run --release --example sample
//! # the same at 128x128 (any power-of-two multiple of the 4x4 start), without noise
//! cargo run --release --example sample -- --size 128 --zero-noise --out samples128.png
//! # upscale your own images (a file or a folder) from their 4x4 area average
//! cargo run --release --example sample -- --mode upscale --input photos/ --size 256
//! # a model from the Hugging Face Hub (cache first, then download)
//! cargo run --release --example sample -- --hub owner/wno-imagegen --hub-file wno_w64_l4.safetensors
//! ```
//!
//! Modes:
//! - `generate`: draws 4x4 canvases from the prior stored in the weights file and upscales them.
//!   At the configuration's `target_size` this is `Generator::generate`; at another `--size`
//!   the canvases are drawn with the trainer's seeded RNG and upscaled with `Generator::upscale`.
//! - `upscale`: each input image is centre-cropped to a square (crops larger than
//!   `max(1024, size)` are first downscaled to that with an antialiased Catmull-Rom filter, as
//!   the training loader does) and then reduced to the configuration's root size by exact area
//!   averaging (PyTorch's `interpolate(mode="area")`, i.e. adaptive average pooling: each output
//!   pixel is the mean of its block of input pixels), which is how the training pyramid makes
//!   its coarse levels. The grid then shows a last column with the input itself at the target
//!   size (area-averaged when larger, bicubic when smaller) for comparison.
use anyhow::{bail, ensure, Context, Result};
use candle_core::{DType, Device, Tensor};
use clap::{Parser, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wno_operator::{levels_between, model_file, SampleOptions};
use wno_trainer::data::{
    open_image_file, open_image_folder, resize_bicubic, stack_images, unstack_images, FolderOptions, ImageSource, PlanarImage,
};
use wno_trainer::hub_model::{fetch_model, DEFAULT_MODEL_FILE};
use wno_trainer::report::{save_grid, scale_rows};
use wno_trainer::rng::TrainRng;

const DEFAULT_WEIGHTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weights/wno_w64_l4.safetensors");

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Draw 4x4 canvases from the stored prior and upscale them.
    Generate,
    /// Upscale the images of --input from their root-size area average.
    Upscale,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    /// The CPU.
    Cpu,
    /// CUDA device 0 (needs a build with `--features cuda`).
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

#[derive(Parser, Debug)]
#[command(about = "Sample a grid of images (one row per image, one column per scale) with a W-NO generator")]
struct Args {
    /// Weights file (`.safetensors`, with its configuration `.json` beside it).
    #[arg(long, default_value = DEFAULT_WEIGHTS, conflicts_with = "hub")]
    weights: PathBuf,
    /// Hugging Face Hub model repository (`owner/name`) to load the model from instead.
    #[arg(long)]
    hub: Option<String>,
    /// Weights file inside the Hub repository (its `.json` is fetched beside it).
    #[arg(long, default_value = DEFAULT_MODEL_FILE, requires = "hub")]
    hub_file: String,
    /// Hub revision (branch, tag or commit); default `main`.
    #[arg(long, requires = "hub")]
    revision: Option<String>,
    /// Never use the network for --hub (only the local Hugging Face cache).
    #[arg(long, requires = "hub")]
    offline: bool,
    /// What to sample.
    #[arg(long, value_enum, default_value_t = Mode::Generate)]
    mode: Mode,
    /// For --mode upscale: an image file (PNG/JPEG) or a folder of images.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Number of images (in upscale mode: at most this many of the inputs, in sorted order).
    #[arg(long, default_value_t = 8)]
    n: usize,
    /// Side of the final images; default the configuration's target size. Any power-of-two
    /// multiple of the root size (e.g. 64, 128, 256).
    #[arg(long)]
    size: Option<usize>,
    /// Seed of the prior and the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Multiply the configuration's noise schedule by this factor.
    #[arg(long, conflicts_with = "zero_noise", allow_negative_numbers = true)]
    sigma_scale: Option<f64>,
    /// No noise at all (deterministic given the 4x4 canvases).
    #[arg(long)]
    zero_noise: bool,
    /// Device to run on.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    device: DeviceArg,
    /// Output grid (PNG).
    #[arg(long, default_value = "samples.png")]
    out: PathBuf,
    /// Side of one grid cell in pixels; default the final size.
    #[arg(long)]
    cell: Option<usize>,
    /// Also write each final image as its own PNG into this folder.
    #[arg(long)]
    save_final: Option<PathBuf>,
}

fn device(arg: DeviceArg) -> Result<Device> {
    Ok(match arg {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::new_cuda(0)
            .context("--device cuda: cannot create CUDA device 0 (is this a `--features cuda` build on a machine with a GPU?)")?,
        DeviceArg::Auto => Device::cuda_if_available(0).context("--device auto: probing CUDA")?,
    })
}

/// Exact area averaging of a square-or-not image to `out x out` (PyTorch `mode="area"`:
/// output pixel `i` averages input rows/columns `floor(i S / out) .. ceil((i + 1) S / out)`).
fn area_resize(img: &PlanarImage, out: usize) -> Result<PlanarImage> {
    let (h, w) = (img.height(), img.width());
    let bins = |n: usize| -> Vec<(usize, usize)> { (0..out).map(|i| (i * n / out, ((i + 1) * n).div_ceil(out))).collect() };
    let (rows, cols) = (bins(h), bins(w));
    let mut data = Vec::with_capacity(3 * out * out);
    for c in 0..3 {
        let plane = img.plane(c);
        for &(r0, r1) in &rows {
            for &(c0, c1) in &cols {
                let mut sum = 0f64;
                for y in r0..r1 {
                    sum += plane[y * w + c0..y * w + c1].iter().map(|&v| f64::from(v)).sum::<f64>();
                }
                data.push((sum / ((r1 - r0) * (c1 - c0)) as f64) as f32);
            }
        }
    }
    Ok(PlanarImage::new(out, out, data)?)
}

/// The input at the target side: area average when larger, bicubic (clamped) when smaller.
fn resize_to(img: &PlanarImage, side: usize) -> Result<PlanarImage> {
    if img.height() == side && img.width() == side {
        return Ok(img.clone());
    }
    if img.height() >= side && img.width() >= side {
        return area_resize(img, side);
    }
    let mut up = resize_bicubic(img, side, side)?;
    up.clamp01();
    Ok(up)
}

/// Reads the upscale inputs: `(root-size batch, target-size batch)`.
fn load_inputs(input: &Path, n: usize, root: usize, size: usize, device: &Device) -> Result<(Tensor, Tensor)> {
    let opts = FolderOptions { max_side: Some(size.max(1024) as u32) };
    let source = if input.is_dir() {
        open_image_folder(input, &opts).with_context(|| format!("reading the image folder {}", input.display()))?
    } else if input.is_file() {
        open_image_file(input, &opts).with_context(|| format!("reading the image {}", input.display()))?
    } else {
        bail!("--input {}: no such file or folder", input.display());
    };
    for w in source.warnings() {
        eprintln!("warning: {w}");
    }
    let count = n.min(source.len());
    let (mut low, mut full) = (Vec::with_capacity(count), Vec::with_capacity(count));
    for i in 0..count {
        let img = source.get(i).with_context(|| format!("image {i} of {}", input.display()))?.image;
        low.push(area_resize(&img, root)?);
        full.push(resize_to(&img, size)?);
    }
    Ok((stack_images(&low, device)?, stack_images(&full, device)?))
}

fn main() -> Result<()> {
    let args = Args::parse();
    wno_trainer::alloc::retain_freed_memory();
    let start = Instant::now();
    ensure!(args.n > 0, "--n must be at least 1");
    if args.mode == Mode::Upscale && args.input.is_none() {
        bail!("--mode upscale needs --input PATH (an image file or a folder of PNG/JPEG images)");
    }
    if let Some(s) = args.sigma_scale {
        ensure!(s.is_finite() && s >= 0.0, "--sigma-scale must be finite and >= 0, got {s}");
    }
    let device = device(args.device)?;

    let weights = match &args.hub {
        Some(repo) => fetch_model(repo, &args.hub_file, args.revision.as_deref(), args.offline)
            .with_context(|| format!("fetching `{}` from Hub repo `{repo}`", args.hub_file))?,
        None => {
            ensure!(
                args.weights.is_file(),
                "weights file {} does not exist; pass --weights PATH (a .safetensors file with its .json beside it) or --hub REPO",
                args.weights.display()
            );
            args.weights.clone()
        }
    };
    let config = model_file::config_path(&weights);
    ensure!(
        config.is_file(),
        "the configuration {} of the weights {} does not exist; a model is NAME.safetensors with NAME.json beside it",
        config.display(),
        weights.display()
    );
    let model =
        model_file::load_model(&weights, DType::F32, &device).with_context(|| format!("loading the model {}", weights.display()))?;
    let generator = &model.generator;
    let cfg = generator.config().clone();
    let size = args.size.unwrap_or(cfg.target_size);
    let levels = levels_between(cfg.root_size, size)
        .with_context(|| format!("--size {size} must be a power-of-two multiple of the model's root size {}", cfg.root_size))?;
    let sigmas = if args.zero_noise {
        Some(vec![0.0; levels])
    } else if let Some(scale) = args.sigma_scale {
        let base = generator
            .level_sigmas(levels, &SampleOptions::default())
            .with_context(|| format!("the model's noise schedule over {levels} transitions (use --zero-noise)"))?;
        Some(base.iter().map(|s| s * scale).collect())
    } else {
        None
    };
    let opts = SampleOptions { sigmas, skip_mode: None, seed: args.seed };
    let loaded = start.elapsed();

    let sampling = Instant::now();
    let (scales, truth) = match args.mode {
        Mode::Generate => {
            let Some(prior) = &model.prior else {
                bail!(
                    "{} holds no 4x4 prior (`prior.mean` / `prior.chol`), which --mode generate needs; \
                     use --mode upscale --input IMAGES, or a weights file saved with its prior",
                    weights.display()
                );
            };
            ensure!(
                cfg.root_size == 4,
                "--mode generate needs a model with root size 4 (the prior is 4x4); this one has {}",
                cfg.root_size
            );
            let scales = if size == cfg.target_size {
                generator.generate(args.n, prior, &opts).with_context(|| format!("generating {} images at {size}x{size}", args.n))?
            } else {
                let mut rng = TrainRng::seed_from_u64(args.seed);
                let root = prior.sample(args.n, &mut rng, generator.dtype(), &device)?;
                generator.upscale(&root, size, &opts).with_context(|| format!("generating {} images at {size}x{size}", args.n))?
            };
            (scales, None)
        }
        Mode::Upscale => {
            let input = args.input.as_deref().context("--mode upscale needs --input PATH")?;
            let (low, full) = load_inputs(input, args.n, cfg.root_size, size, &device)?;
            (generator.upscale(&low, size, &opts).with_context(|| format!("upscaling to {size}x{size}"))?, Some(full))
        }
    };
    let last = scales.last().context("the sampler returned no scale")?.to_device(&Device::Cpu)?;
    let sampling = sampling.elapsed();

    let rows = scale_rows(&scales, truth.as_ref()).context("arranging the grid")?;
    let cell = args.cell.unwrap_or(size);
    save_grid(&args.out, &rows, cell).with_context(|| format!("writing {}", args.out.display()))?;
    if let Some(dir) = &args.save_final {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (i, img) in unstack_images(&last)?.iter().enumerate() {
            let path = dir.join(format!("sample_{i:03}.png"));
            img.to_rgb8().save(&path).with_context(|| format!("writing {}", path.display()))?;
        }
        println!("wrote {} final {size}x{size} images to {}", rows.len(), dir.display());
    }
    let mode = match args.mode {
        Mode::Generate => "generated",
        Mode::Upscale => "upscaled",
    };
    println!(
        "{mode} {} images {}x{} -> {size}x{size} on {} in {:.2}s (model load {:.2}s, total {:.2}s); wrote {} ({} rows x {} columns, {cell}px cells)",
        rows.len(),
        cfg.root_size,
        cfg.root_size,
        if device.is_cuda() { "cuda:0" } else { "cpu" },
        sampling.as_secs_f64(),
        loaded.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        args.out.display(),
        rows.len(),
        rows.first().map_or(0, Vec::len),
    );
    Ok(())
}

//! Converts the original PyTorch W-NO checkpoint (`.pth`, a `state_dict`) into this project's
//! safetensors format (parameters under their PyTorch names, f32), checking every name and
//! shape, and writes the generator configuration as JSON beside it.
//!
//! ```sh
//! cargo run --release --example convert_checkpoint -- \
//!     --input ../shared/reference/seed_wno_ckpt.pth --output weights/seed_wno.safetensors
//! ```
use anyhow::{Context, Result};
use candle_core::{DType, Device};
use clap::Parser;
use std::path::PathBuf;
use wno_operator::{checkpoint, Config};

#[derive(Parser, Debug)]
#[command(about = "Convert the original W-NO .pth checkpoint to safetensors")]
struct Args {
    /// The PyTorch checkpoint (`torch.save(model.state_dict())`).
    #[arg(long)]
    input: PathBuf,
    /// The safetensors file to write (the configuration goes to the same name with `.json`).
    #[arg(long)]
    output: PathBuf,
    /// Hidden channels of the checkpoint.
    #[arg(long, default_value_t = 192)]
    width: usize,
    /// Number of blocks of the checkpoint.
    #[arg(long, default_value_t = 6)]
    layers: usize,
    /// Noise input channels of the checkpoint.
    #[arg(long, default_value_t = 4)]
    noise_channels: usize,
    /// Write the configuration with this project's defaults (training noise on, skip = root
    /// canvas) instead of the original code's behaviour.
    #[arg(long)]
    project_defaults: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let base = if args.project_defaults { Config::default() } else { Config::original() };
    let cfg = Config { width: args.width, layers: args.layers, noise_channels: args.noise_channels, ..base };
    let g = checkpoint::load_pth(&args.input, &cfg, DType::F32, &Device::Cpu)
        .with_context(|| format!("loading {}", args.input.display()))?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    checkpoint::save_safetensors(&g, &[], &args.output).with_context(|| format!("writing {}", args.output.display()))?;
    let json_path = args.output.with_extension("json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&cfg)?).with_context(|| format!("writing {}", json_path.display()))?;
    // Read it back: same names, shapes and values.
    let back = checkpoint::load_safetensors(&args.output, &cfg, DType::F32, &Device::Cpu)?;
    let mut count = 0usize;
    for ((name, a), (_, b)) in g.named_parameters().iter().zip(back.named_parameters().iter()) {
        let diff = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
        anyhow::ensure!(diff == 0.0, "{name} changed in the round trip (max diff {diff})");
        count += a.elem_count();
    }
    println!(
        "wrote {} ({} tensors, {count} parameters) and {}",
        args.output.display(),
        g.named_parameters().len(),
        json_path.display()
    );
    Ok(())
}

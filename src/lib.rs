//! Umbrella crate of the wno-imagegen workspace: re-exports the member crates so that the
//! examples, benches and end-to-end tests in this package can reach them under one name.

pub use wavelet_ops;
pub use wno_critic;
pub use wno_losses;
pub use wno_operator;
pub use wno_trainer;

/// The device named by the programs' `--device` flag: `cpu`, `cuda` (device 0) or `auto` (CUDA
/// when available, else the CPU).
///
/// ```
/// assert!(wno_imagegen::device("cpu").unwrap().is_cpu());
/// assert!(wno_imagegen::device("tpu").unwrap_err().to_string().contains("cpu, cuda or auto"));
/// ```
///
/// # Errors
/// Another name, or a CUDA device that cannot be created (e.g. a build without `--features cuda`).
pub fn device(name: &str) -> anyhow::Result<candle_core::Device> {
    use anyhow::Context;
    Ok(match name {
        "cpu" => candle_core::Device::Cpu,
        "cuda" => candle_core::Device::new_cuda(0).context("creating the CUDA device (was it built with --features cuda?)")?,
        "auto" => candle_core::Device::cuda_if_available(0)?,
        other => anyhow::bail!("--device must be cpu, cuda or auto, got `{other}`"),
    })
}

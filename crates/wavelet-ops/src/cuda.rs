//! CUDA launches of `kernels/haar.cu` (compiled to PTX by `build.rs` with feature `cuda`).

use candle_core::backend::BackendStorage as _;
use candle_core::cuda_backend::cudarc::driver::{LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{CudaStorage, DType, Layout, Result, Shape};
use half::{bf16, f16};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/haar.ptx"));
const MODULE: &str = "wavelet_ops_haar";

fn suffix(dtype: DType) -> Result<&'static str> {
    Ok(match dtype {
        DType::F32 => "f32",
        DType::F64 => "f64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        other => candle_core::bail!(
            "haar cuda: unsupported dtype {other:?}; supported dtypes are f32, f64, f16 and bf16"
        ),
    })
}

fn launch_config(n: usize) -> LaunchConfig {
    const THREADS: u32 = 256;
    // Grid-stride loops in the kernels: cap the grid, every thread may take several blocks.
    let blocks = n.div_ceil(THREADS as usize).clamp(1, 65_535 * 8) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Launches `kernel` reading `storage` at `layout`'s offset, writing a fresh buffer of `out_len`
/// elements, with the `u64` scalar arguments `args` after the two pointers.
fn launch<T: CudaDType + candle_core::cuda_backend::cudarc::driver::DeviceRepr>(
    storage: &CudaStorage,
    layout: &Layout,
    kernel: &str,
    out_len: usize,
    threads: usize,
    args: &[u64],
) -> Result<CudaStorage> {
    let dev = storage.device();
    let src = storage.as_cuda_slice::<T>()?;
    let src = src.slice(layout.start_offset()..);
    // SAFETY: every element is written by the kernel before it is read.
    let out = unsafe { dev.alloc::<T>(out_len)? };
    let func = dev.get_or_load_custom_func(kernel, MODULE, PTX)?;
    let mut builder = func.builder();
    builder.arg(&src);
    builder.arg(&out);
    for a in args {
        builder.arg(a);
    }
    // SAFETY: argument list matches the kernel signature in kernels/haar.cu.
    unsafe { builder.launch(launch_config(threads)) }.w()?;
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

fn dispatch(
    storage: &CudaStorage,
    layout: &Layout,
    root: &str,
    out_len: usize,
    threads: usize,
    args: &[u64],
) -> Result<CudaStorage> {
    let dtype = storage.dtype();
    let kernel = format!("{root}_{}", suffix(dtype)?);
    match dtype {
        DType::F32 => launch::<f32>(storage, layout, &kernel, out_len, threads, args),
        DType::F64 => launch::<f64>(storage, layout, &kernel, out_len, threads, args),
        DType::F16 => launch::<f16>(storage, layout, &kernel, out_len, threads, args),
        DType::BF16 => launch::<bf16>(storage, layout, &kernel, out_len, threads, args),
        _ => unreachable!("suffix() rejected the dtype"),
    }
}

/// Forward DWT of a strided `(B, C, H, W)` view.
pub(crate) fn dwt(storage: &CudaStorage, layout: &Layout) -> Result<(CudaStorage, Shape)> {
    let d = layout.dims();
    let s = layout.stride();
    let (b, c, h, w) = (d[0], d[1], d[2], d[3]);
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let n = b * c * h2 * w2;
    let args = [b, c, h, w, s[0], s[1], s[2], s[3]].map(|v| v as u64);
    let out = dispatch(storage, layout, "haar_dwt", 4 * n, n, &args)?;
    Ok((out, Shape::from((b, c, 4, h2, w2))))
}

/// Inverse DWT of a strided `(B, C, 4, h2, w2)` view into `(B, C, out_h, out_w)`.
pub(crate) fn idwt(
    storage: &CudaStorage,
    layout: &Layout,
    out_h: usize,
    out_w: usize,
) -> Result<(CudaStorage, Shape)> {
    let d = layout.dims();
    let s = layout.stride();
    let (b, c, h2, w2) = (d[0], d[1], d[3], d[4]);
    let n = b * c * h2 * w2;
    let args = [b, c, h2, w2, out_h, out_w, s[0], s[1], s[2], s[3], s[4]].map(|v| v as u64);
    let out = dispatch(
        storage,
        layout,
        "haar_idwt",
        b * c * out_h * out_w,
        n,
        &args,
    )?;
    Ok((out, Shape::from((b, c, out_h, out_w))))
}

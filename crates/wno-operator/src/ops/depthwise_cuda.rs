//! CUDA launches of `kernels/depthwise.cu` (compiled to PTX by `build.rs` with feature `cuda`).

use candle_core::cuda_backend::cudarc::driver::{DeviceRepr, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::backend::BackendStorage as _;
use candle_core::{CudaStorage, DType, Layout, Result};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/depthwise.ptx"));
const MODULE: &str = "wno_operator_depthwise";
/// Threads per block; the weight-gradient kernel is instantiated for exactly this many.
const THREADS: u32 = 256;

fn suffix(dtype: DType) -> Result<&'static str> {
    Ok(match dtype {
        DType::F32 => "f32",
        DType::F64 => "f64",
        other => candle_core::bail!("depthwise-conv3x3 cuda: unsupported dtype {other:?}; supported dtypes are f32 and f64"),
    })
}

fn dims4(l: &Layout) -> [u64; 4] {
    let d = l.dims();
    [d[0] as u64, d[1] as u64, d[2] as u64, d[3] as u64]
}

/// Launches `kernel(a, b, out, args...)` on contiguous operands.
fn launch<T: CudaDType + DeviceRepr>(
    a: &CudaStorage,
    la: &Layout,
    b: &CudaStorage,
    lb: &Layout,
    kernel: &str,
    out_len: usize,
    cfg: LaunchConfig,
    args: &[u64],
) -> Result<CudaStorage> {
    let dev = a.device();
    let (Some((sa, _)), Some((sb, _))) = (la.contiguous_offsets(), lb.contiguous_offsets()) else {
        candle_core::bail!("{kernel}: operands must be contiguous");
    };
    let a = a.as_cuda_slice::<T>()?.slice(sa..);
    let b = b.as_cuda_slice::<T>()?.slice(sb..);
    // SAFETY: every element of `out` is written by the kernel before it is read.
    let out = unsafe { dev.alloc::<T>(out_len)? };
    let func = dev.get_or_load_custom_func(kernel, MODULE, PTX)?;
    let mut builder = func.builder();
    builder.arg(&a);
    builder.arg(&b);
    builder.arg(&out);
    for v in args {
        builder.arg(v);
    }
    // SAFETY: the argument list matches the kernel signature in kernels/depthwise.cu.
    unsafe { builder.launch(cfg) }.w()?;
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

/// Forward (or, with `flip`, the input-adjoint) convolution of `x` `(B, C, H, W)` with packed
/// `(C, 10)` parameters.
pub(crate) fn forward(x: &CudaStorage, lx: &Layout, wb: &CudaStorage, lw: &Layout, flip: bool) -> Result<CudaStorage> {
    let [b, c, h, w] = dims4(lx);
    let n = (b * c * h * w) as usize;
    let kernel = format!("depthwise_fwd_{}", suffix(x.dtype())?);
    let blocks = n.div_ceil(THREADS as usize).clamp(1, 65_535 * 8) as u32;
    let cfg = LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 };
    let args = [b, c, h, w, flip as u64];
    match x.dtype() {
        DType::F32 => launch::<f32>(x, lx, wb, lw, &kernel, n, cfg, &args),
        DType::F64 => launch::<f64>(x, lx, wb, lw, &kernel, n, cfg, &args),
        _ => unreachable!("suffix() rejected the dtype"),
    }
}

/// Packed `(C, 10)` parameter gradient from the input `x` and output gradient `g`.
pub(crate) fn weight_grad(x: &CudaStorage, lx: &Layout, g: &CudaStorage, lg: &Layout) -> Result<CudaStorage> {
    let [b, c, h, w] = dims4(lx);
    let kernel = format!("depthwise_wgrad_{}", suffix(x.dtype())?);
    let cfg = LaunchConfig { grid_dim: (c as u32, 1, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 };
    let args = [b, c, h, w];
    let out_len = c as usize * 10;
    match x.dtype() {
        DType::F32 => launch::<f32>(x, lx, g, lg, &kernel, out_len, cfg, &args),
        DType::F64 => launch::<f64>(x, lx, g, lg, &kernel, out_len, cfg, &args),
        _ => unreachable!("suffix() rejected the dtype"),
    }
}

//! [`retain_freed_memory`]: keep glibc from handing large freed blocks back to the kernel.
//!
//! A training or sampling step allocates and frees the same large tensors over and over. By
//! default glibc serves blocks above its mmap threshold with fresh `mmap`s and unmaps them on
//! free, so every step first-touches its activations again: one minor page fault per 4 KiB page,
//! about 1 us each in a VM, which `../shared/bench` measured as more than half of a PyTorch CPU
//! training step. Keeping freed memory in the heap makes the next step reuse it.

/// Sets glibc's `M_MMAP_MAX` to 0 and `M_TRIM_THRESHOLD` to its maximum (the effect of
/// `MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...` in the environment) for this process, and
/// returns whether both settings took. A no-op returning `false` on other C libraries and
/// platforms. Call it once at the start of a program, before the large allocations; the price is
/// that the process keeps its peak heap until it exits.
///
/// ```
/// let kept = wno_trainer::alloc::retain_freed_memory();
/// assert_eq!(kept, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::raw::c_int;
        extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_MAX: c_int = -4;
        // SAFETY: mallopt only changes allocator tuning parameters; both values are valid.
        unsafe { mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, c_int::MAX) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
